"""Marks a model's numerical functions for compilation to machine code.

Model right-hand sides are plain Python over flat float64 arrays; decorating them with
:func:`kernel` lets any solver call them at native speed (numba), from compiled code or from Python.
This is a compiler choice, not a solver: models stay independent of how they are integrated.

The same functions are also read as equations (the SBML export evaluates them on symbols, see
:mod:`immunoreset.export.symbolic`), where an ``if`` on a state or on time has no single truth
value. Such branches are written with the two helpers below, which compile to the plain branch and
which the export maps to symbolic meanings: :func:`where` (a conditional value, ``piecewise``) and
:func:`shortcut` (a test that only skips work whose result is already known).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numba

F = TypeVar("F", bound=Callable[..., object])

SHORTCUTS: set[Callable[..., object]] = set()
"""The Python functions compiled with :func:`shortcut` (the export reads each as False)."""


def kernel(func: F) -> F:
    """Compile ``func`` lazily with numba (IEEE semantics: no fast-math reordering).

    Not cached on disk by itself: a model function reads index constants computed at import from
    its parameter and state tables, which numba's per-file cache would not notice changing. The
    engine caches each model's whole integrator instead, under a fingerprint of every file of the
    model's package (see :mod:`immunoreset.simulate.kernels`).
    """
    return numba.njit(cache=False)(func)  # type: ignore[return-value]


def shortcut(func: F) -> F:
    """Compile ``func``, a test that lets a model function skip work whose result it knows without
    doing it (an empty product slot: all its terms are exactly zero).

    The exported equations have no use for the speed-up and always take the full path: the export
    reads the test as False. So a test may be a shortcut only if the full path gives the same
    values whenever the test is true; any other branch on a state is a :func:`where`.
    """
    SHORTCUTS.add(func)
    return kernel(func)


@kernel
def where(condition: bool, if_true: float, if_false: float) -> float:
    """``if_true`` if ``condition`` else ``if_false``: a branch on a state or on time, exported as
    ``piecewise(if_true, condition, if_false)``.

    Both values are computed before the choice, so the value not chosen must be computable too:
    numba raises on a float division by zero, so such a division needs a guarded denominator.
    """
    return if_true if condition else if_false
