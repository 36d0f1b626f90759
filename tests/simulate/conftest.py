"""A two-state model around a given right-hand side, for tests of the engine's Jacobian parts."""

from __future__ import annotations

from collections.abc import Callable

import numba
import pytest

from immunoreset.model.core import DoseInput, Model, Parameter, State


@numba.njit
def _nothing(*args):
    pass


def two_state(name: str, rhs) -> Model:
    """States ``a`` and ``b``, one parameter ``k`` = 0.7, no switches, doses or outputs."""
    return Model(
        name=name, title=name, reference="test", description="test",
        states=(State("a", "1", "a"), State("b", "1", "b")),
        parameters=(Parameter("k", 0.7, "1/day", "rate", "test", "H"),),
        inputs=(DoseInput("car_t_cells", "cells", "unused"),), observables=("car_t_blood",),
        switch_names=(), initial_state=_nothing, rhs=rhs, switches=_nothing, dose=_nothing,
        observe=_nothing,
    )  # fmt: skip


@pytest.fixture
def two_state_model() -> Callable[[str, object], Model]:
    """``two_state_model(name, rhs)``: see :func:`two_state`."""
    return two_state
