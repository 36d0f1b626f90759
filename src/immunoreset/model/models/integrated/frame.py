"""Index bookkeeping for a model assembled from modules.

Each module of the integrated model declares its states and loads its parameter table; the modules
are stacked in a fixed order (see :mod:`.model`), each starting where the previous one ended. The
offsets are plain integers computed at import time, so compiled kernels can use them as constants.
"""

from __future__ import annotations

from dataclasses import dataclass

from immunoreset.model.core import Parameter, State, load_parameters

PACKAGE = __package__
CELL_ATOL_SCALE = 100.0
"""Absolute-tolerance scale of cell pools (cells/uL): with the default atol 1e-6 a change below 1e-4
cells/uL (about 500 cells in the blood of an adult) is not resolved; every reported cell count of
interest (aplasia at 1 B cell/uL, CAR persistence at 0.01 cells/uL) lies far above it."""


@dataclass(frozen=True)
class Block:
    """A module's slice of the state vector and of the parameter vector."""

    states: tuple[State, ...]
    parameters: tuple[Parameter, ...]
    s0: int
    p0: int

    @property
    def s_end(self) -> int:
        return self.s0 + len(self.states)

    @property
    def p_end(self) -> int:
        return self.p0 + len(self.parameters)

    def x(self, name: str) -> int:
        """Global index of state ``name``."""
        for i, s in enumerate(self.states):
            if s.name == name:
                return self.s0 + i
        raise KeyError(f"no state {name!r} in this module")

    def p(self, name: str) -> int:
        """Global index of parameter ``name``."""
        for i, q in enumerate(self.parameters):
            if q.name == name:
                return self.p0 + i
        raise KeyError(f"no parameter {name!r} in this module")


def block(states: tuple[State, ...], parameter_file: str, after: Block | None = None) -> Block:
    """The block of a module whose parameters are in ``parameter_file``, stacked after ``after``."""
    return Block(
        states=states,
        parameters=load_parameters(PACKAGE, parameter_file),
        s0=after.s_end if after else 0,
        p0=after.p_end if after else 0,
    )
