"""What traced equations rest on: the decisions taken on parameter values while tracing.

Tracing a model's right-hand side on symbols (:mod:`.symbolic`) decides its structural branches on
parameters (a product's antigens, a policy grade) by their values; each decision is recorded here,
so that the traced equations (an exported model, a compiled analytic Jacobian) are known to hold
for exactly the parameter values that take the same decisions. Kept apart from :mod:`.symbolic`
so that checking decisions, on every run, does not import the computer algebra behind tracing.
"""

from __future__ import annotations

import contextlib
import operator
import threading
from collections.abc import Iterator

import numpy as np


class SymbolicError(ValueError):
    """A model function cannot be evaluated on symbols."""


Decision = tuple[str, str, float, float]
"""A structural decision taken while tracing: ``(parameter, test, operand, outcome)``, where
``test`` is ``"lt"``, ``"le"``, ``"gt"`` or ``"ge"`` (outcome 1.0 or 0.0) or ``"round"`` (operand:
the digits, outcome: the rounded value)."""

_RECORDERS = threading.local()


@contextlib.contextmanager
def recording() -> Iterator[list[Decision]]:
    """Collect the :data:`Decision` every parameter symbol (:class:`.symbolic.Valued`) takes
    inside the block (in this thread): the traced equations hold for exactly those parameter values
    that take the same decisions."""
    found: list[Decision] = []
    active = _RECORDERS.__dict__.setdefault("lists", [])
    active.append(found)
    try:
        yield found
    finally:
        active.remove(found)


def record(decision: Decision) -> None:
    """Add ``decision`` to every :func:`recording` block open in this thread."""
    for found in _RECORDERS.__dict__.get("lists", ()):
        found.append(decision)


TESTS = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
"""The ordering tests a decision can take, by name."""


def holds(decision: Decision, values: np.ndarray) -> np.ndarray:
    """Whether each of ``values`` (one parameter across patients) takes ``decision`` the same way."""
    _, test, operand, outcome = decision
    if test == "round":
        return np.round(values, int(operand)) == outcome
    return TESTS[test](values, operand) == bool(outcome)
