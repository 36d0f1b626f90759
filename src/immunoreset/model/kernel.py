"""Marks a model's numerical functions for compilation to machine code.

Model right-hand sides are plain Python over flat float64 arrays; decorating them with
:func:`kernel` lets any solver call them at native speed (numba), from compiled code or from Python.
This is a compiler choice, not a solver: models stay independent of how they are integrated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numba

F = TypeVar("F", bound=Callable[..., object])


def kernel(func: F) -> F:
    """Compile ``func`` lazily with numba (IEEE semantics: no fast-math reordering).

    Not cached on disk by itself: a model function reads index constants computed at import from
    its parameter and state tables, which numba's per-file cache would not notice changing. The
    engine caches each model's whole integrator instead, under a fingerprint of every file of the
    model's package (see :mod:`immunoreset.simulate.kernels`).
    """
    return numba.njit(cache=False)(func)  # type: ignore[return-value]
