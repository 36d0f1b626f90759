"""Jacobian sparsity of a model, found by probing, and a column colouring for cheap Jacobians.

Mechanistic models couple each state to a handful of others (Park 2025: about 90 non-zeros in a
37 x 37 Jacobian). Columns that share no row can be perturbed together in one right-hand-side
evaluation (Curtis, Powell and Reid, J Inst Math Appl 1974;13:117-119), so a forward-difference
Jacobian costs one evaluation per colour instead of one per state.

The pattern is the union of the dependencies in the model's traced equations (see
:func:`.traced_ir.traced_pattern`; models that cannot be traced skip this part) and the non-zeros
seen at many random states (every state positive, spread over six decades around its pre-treatment
value, or around the size of one cell per microlitre for states that start at zero, so that each
branch of a ``max(x, 0)`` guard is visited) in every combination of switch modes, plus the
diagonal. Each probe doubles one state at a time. Probing alone misses dependencies that sit behind
a threshold no probe crosses, or that are lost in rounding beside larger terms at every probe: in
the integrated model 64 of 904 entries, among them CAR exhaustion on the stimulation history and
marrow CAR expansion on the CD19+ precursors. A Jacobian without them is only approximate, which
the error-controlled integrator tolerates at a price: 513 instead of 418 accepted steps per
patient on average, and up to 1,262 instead of 494 (100 patients of the integrated example, rtol =
atol = 1e-6). The engine's agreement with an independent solver is tested with the colouring on.

Some states of a patient are dormant: zero before treatment, given nothing by the patient's dosing
events, and kept at zero by the equations (the second product slot of a single-product run, a tumour
in an autoimmune patient). Their stage values in a Rosenbrock step are exactly zero, so their
Jacobian columns and rows never enter the solution; :func:`dormant_states` finds them by probing and
:func:`colour_columns` leaves them out. That saves right-hand-side evaluations (the integrated
model's single-product runs need 28 colours instead of 35) and avoids perturbing a zero state by a
step far below the scale of the states it is coupled to, whose rounding error spoils the Jacobian.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from immunoreset.model.core import Model
from immunoreset.simulate.linalg import LuPlan, plan_lu
from immunoreset.simulate.rodas5p import GAMMA

Rhs = Callable[[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]
"""A right-hand side ``rhs(t, y, p, mode, dydt)``: a model's own, or a compiled one called from
Python (:func:`.native.python_caller`)."""

N_PROBES = 24
_PROBE_DAYS = (-10.0, 0.0, 1.0, 30.0, 1000.0)
_PROBE_SEED = 20250213  # fixed: the pattern must not vary between runs


@dataclass(frozen=True)
class Colouring:
    """Columns grouped by colour, and each column's structurally non-zero rows (CSC layout)."""

    colour_ptr: np.ndarray
    colour_cols: np.ndarray
    col_ptr: np.ndarray
    row_idx: np.ndarray

    @property
    def n_colours(self) -> int:
        return len(self.colour_ptr) - 1

    @property
    def pattern(self) -> np.ndarray:
        """Boolean ``[n, n]``: the entries this Jacobian fills."""
        n = len(self.col_ptr) - 1
        pattern = np.zeros((n, n), dtype=bool)
        pattern[self.row_idx, np.repeat(np.arange(n), np.diff(self.col_ptr))] = True
        return pattern

    @cached_property
    def lu_plan(self) -> LuPlan:
        """Sparse LU plan (:func:`.linalg.plan_lu`) of the entries this Jacobian fills, ordered by
        the pattern alone (the engine orders by the model's values too: :func:`.kernels.lu_plan_for`)."""
        return plan_lu(self.pattern)


def _probe_reference(model: Model, p: np.ndarray) -> np.ndarray:
    """Typical size of every state: its pre-treatment value, or one cell per microlitre's worth
    (1e6 absolute-tolerance scales) for states that start at zero."""
    y0 = np.abs(model.initial(p))
    return np.where(y0 > 0, y0, 1e6 * np.array([s.atol_scale for s in model.states]))


def _modes(model: Model) -> Iterator[np.ndarray]:
    for modes in itertools.product((0.0, 1.0), repeat=len(model.switch_names)):
        yield np.array(modes, dtype=float)


def jacobian_pattern(model: Model, p: np.ndarray, rhs: Rhs | None = None) -> np.ndarray:
    """Boolean ``[n, n]`` matrix: entry ``(i, j)`` is True if ``dy_i/dt`` may depend on ``y_j``.
    ``rhs`` evaluates the right-hand side (default: the model's own function)."""
    rhs = model.rhs if rhs is None else rhs
    n = model.n_states
    rng = np.random.default_rng(_PROBE_SEED)
    pattern = np.eye(n, dtype=bool) | _traced_or_empty(model, p)
    f0, f1 = np.zeros(n), np.zeros(n)
    y_ref = _probe_reference(model, p)
    for mode in _modes(model):
        for _ in range(N_PROBES):
            y = y_ref * 10.0 ** rng.uniform(-3.0, 3.0, n)
            rhs(0.0, y, p, mode, f0)
            if not np.all(np.isfinite(f0)):
                continue
            for j in range(n):
                yj = y.copy()
                yj[j] *= 2.0
                rhs(0.0, yj, p, mode, f1)
                pattern[:, j] |= f1 != f0
    return pattern


def _traced_or_empty(model: Model, p: np.ndarray) -> np.ndarray:
    """The traced dependencies of :func:`.traced_ir.traced_pattern`, or none if the model's
    equations cannot be traced (they are then probed only)."""
    from immunoreset.export.decisions import SymbolicError
    from immunoreset.simulate.traced_ir import traced_pattern  # computer algebra: only here

    try:
        return traced_pattern(model, p)
    except (SymbolicError, TypeError):
        return np.zeros((model.n_states, model.n_states), dtype=bool)


def dormant_states(
    model: Model, p: np.ndarray, candidates: np.ndarray, rhs: Rhs | None = None
) -> np.ndarray:
    """The largest subset of ``candidates`` (boolean ``[n]``: states that start at zero and that no
    dosing event changes) whose derivatives stay exactly zero while they are all zero.

    Probed like :func:`jacobian_pattern` (random states over six decades, every switch mode, a few
    times from before conditioning to years after treatment): a candidate whose derivative is non-zero
    at any probe leaves the set, and the probes repeat until the set no longer shrinks. ``rhs``
    evaluates the right-hand side (default: the model's own function).
    """
    rhs = model.rhs if rhs is None else rhs
    n = model.n_states
    dormant = np.asarray(candidates, dtype=bool).copy()
    y_ref = _probe_reference(model, p)
    f = np.zeros(n)
    shrinking = True
    while shrinking and dormant.any():
        shrinking = False
        rng = np.random.default_rng(_PROBE_SEED)
        for mode in _modes(model):
            for _ in range(N_PROBES):
                y = y_ref * 10.0 ** rng.uniform(-3.0, 3.0, n)
                y[dormant] = 0.0
                for t in _PROBE_DAYS:
                    rhs(t, y, p, mode, f)
                    if not np.all(np.isfinite(f)):
                        continue
                    leaking = dormant & (f != 0.0)
                    if leaking.any():
                        dormant &= ~leaking
                        y[leaking] = y_ref[leaking]  # no longer held at zero
                        shrinking = True
    return dormant


def iteration_samples(
    model: Model, p: np.ndarray, atol: np.ndarray, rtol: float, rhs: Rhs | None = None
) -> np.ndarray:
    """Iteration matrices ``I/(h gamma) - J`` the integrator may meet, each in its states' error
    scales (``D^-1 G D`` with ``D = diag(atol + rtol |y|)``), for :func:`.linalg.plan_lu` to order
    its pivots by: forward-difference Jacobians at the probes' reference state and at the
    pre-treatment state, at each of the probe days, in the switch modes the state itself sets,
    with steps of 1e-6 to 100 days in half decades. Deterministic, so the plan depends on the model
    and ``p`` alone. Samples with non-finite entries are left out.

    The steps span those the integrator takes (from about 1e-8 day in the transient after a dose
    to weeks). Whole decades from 1e-4 sampled too coarsely: with RODAS5P's gamma the order they
    gave the integrated model declined pivots in so many steps that the pivoting fallback took a
    third of its time (1.72 against 1.05 ms per patient on one thread; Park 2025 unchanged), and the
    integrated model's plan now takes about 1 s to order on its first run (then cached)."""
    rhs = model.rhs if rhs is None else rhs
    n = model.n_states
    f0, f1 = np.zeros(n), np.zeros(n)
    g = np.zeros(len(model.switch_names))
    out = []
    for y in (_probe_reference(model, p), np.asarray(model.initial(p), dtype=float)):
        y = np.ascontiguousarray(y)
        scale = atol + rtol * np.abs(y)
        for t in _PROBE_DAYS:
            model.switches(t, y, p, g)
            mode = (g > 0.0).astype(float)
            rhs(t, y, p, mode, f0)
            jac = np.empty((n, n))
            for j in range(n):
                yj = y.copy()
                yj[j] += math.sqrt(np.finfo(float).eps) * max(abs(y[j]), atol[j])
                rhs(t, yj, p, mode, f1)
                jac[:, j] = (f1 - f0) / (yj[j] - y[j])
            for h in 10.0 ** np.arange(-6.0, 2.1, 0.5):
                shifted = np.eye(n) / (h * GAMMA) - jac
                out.append(shifted * scale[None, :] / scale[:, None])
    samples = np.array(out)
    return samples[np.isfinite(samples).all(axis=(1, 2))]


def colour_columns(pattern: np.ndarray, skip: np.ndarray | None = None) -> Colouring:
    """Greedy colouring: a column takes the lowest colour used by no column sharing a row with it.

    Columns are visited by decreasing number of non-zeros, which keeps the colour count low.
    ``skip`` (boolean ``[n]``, e.g. :func:`dormant_states`) marks states whose columns and rows are
    left out: they get no colour, so they are never perturbed, and their entries stay zero.
    """
    n = pattern.shape[0]
    if skip is not None:
        pattern = pattern & ~skip[:, None] & ~skip[None, :]
    order = np.argsort(-pattern.sum(axis=0), kind="stable")
    if skip is not None:
        order = order[~skip[order]]
    colour = np.full(n, -1, dtype=np.int64)
    rows_of_colour: list[np.ndarray] = []
    for j in order:
        rows = pattern[:, j]
        for c, used in enumerate(rows_of_colour):
            if not np.any(used & rows):
                colour[j] = c
                rows_of_colour[c] = used | rows
                break
        else:
            colour[j] = len(rows_of_colour)
            rows_of_colour.append(rows.copy())
    n_colours = len(rows_of_colour)
    colour_cols = np.concatenate([np.flatnonzero(colour == c) for c in range(n_colours)])
    colour_ptr = np.concatenate([[0], np.cumsum([np.sum(colour == c) for c in range(n_colours)])])
    col_ptr = np.concatenate([[0], np.cumsum(pattern.sum(axis=0))])
    row_idx = np.concatenate([np.flatnonzero(pattern[:, j]) for j in range(n)])
    return Colouring(
        colour_ptr.astype(np.int64),
        colour_cols.astype(np.int64),
        col_ptr.astype(np.int64),
        row_idx.astype(np.int64),
    )


def dense_colouring(n: int) -> Colouring:
    """One colour per column and every row non-zero: the plain forward-difference Jacobian."""
    return colour_columns(np.ones((n, n), dtype=bool))
