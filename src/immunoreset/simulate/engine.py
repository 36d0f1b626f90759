"""Batch simulation: many virtual patients, each with its own parameters, for any model.

:func:`simulate` integrates one batch with the compiled engine (:mod:`.solver`);
:func:`simulate_chunks` walks a population chunk by chunk so memory stays bounded by the chunk size
and the outputs the caller keeps. Tolerances and limits are explicit in :class:`SolverSettings` and
recorded with every run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import numpy as np

from immunoreset.model.core import Model
from immunoreset.simulate import solver
from immunoreset.simulate.sparsity import (
    Colouring,
    colour_columns,
    dense_colouring,
    jacobian_pattern,
)
from immunoreset.therapy.regimen import DosingEvents


@dataclass(frozen=True)
class SolverSettings:
    """Integration settings.

    Attributes:
        method: ``"rodas4"`` (L-stable Rosenbrock, Hairer & Wanner 1996), the only compiled method.
        rtol: relative tolerance of the local error test.
        atol: absolute tolerance in each state's own unit, times the state's ``atol_scale``.
        max_steps: accepted plus rejected steps allowed per patient before it is marked failed.
        h_init: first trial step (day); the controller adapts it at once.
        h_max: largest step (day); ``inf`` = limited only by accuracy.
        sparse_jacobian: build the Jacobian from the model's probed sparsity pattern with column
            colouring (see :mod:`.sparsity`); ``False`` perturbs every column separately.
    """

    method: str = "rodas4"
    rtol: float = 1e-6
    atol: float = 1e-6
    max_steps: int = 200_000
    h_init: float = 1e-3
    h_max: float = math.inf
    sparse_jacobian: bool = True

    def __post_init__(self) -> None:
        if self.method != "rodas4":
            raise ValueError(f"solver.method: got {self.method!r}; allowed: 'rodas4'")
        for name in ("rtol", "atol", "h_init", "h_max"):
            v = getattr(self, name)
            if not v > 0:
                raise ValueError(f"solver.{name}: got {v!r}; allowed: a number > 0")
        if self.max_steps < 1:
            raise ValueError(f"solver.max_steps: got {self.max_steps!r}; allowed: an integer >= 1")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class BatchResult:
    """Outputs of one batch.

    ``values[patient, time, observable]`` in the observables' units; ``status`` per patient
    (0 = ok, see :data:`immunoreset.simulate.solver.STATUS_MESSAGES`); ``stats`` per patient:
    accepted steps, rejected steps, switch crossings, last time reached (day).
    """

    patient_ids: np.ndarray
    times: np.ndarray
    observables: tuple[str, ...]
    values: np.ndarray
    status: np.ndarray
    stats: np.ndarray
    params: np.ndarray

    def status_message(self, i: int) -> str:
        code = int(self.status[i])
        msg = solver.STATUS_MESSAGES.get(code, f"unknown status {code}")
        return msg if code == 0 else f"{msg} (stopped at day {self.stats[i, 3]:.6g})"


_COLOURINGS: dict[tuple[str, bool], Colouring] = {}


def colouring_for(model: Model, sparse: bool) -> Colouring:
    """The Jacobian colouring of ``model`` (probed once per model and process)."""
    key = (model.name, sparse)
    if key not in _COLOURINGS:
        _COLOURINGS[key] = (
            colour_columns(jacobian_pattern(model, model.typical_parameters()))
            if sparse
            else dense_colouring(model.n_states)
        )
    return _COLOURINGS[key]


def simulate(
    model: Model,
    params: np.ndarray,
    events: DosingEvents,
    t_out: np.ndarray,
    settings: SolverSettings | None = None,
    t_start: float | None = None,
    patient_ids: np.ndarray | None = None,
) -> BatchResult:
    """Integrate every row of ``params`` and record all model observables at ``t_out`` (days).

    Integration starts at ``t_start`` (default: the earlier of the first event and the first
    output time) from the model's pre-treatment state.
    """
    settings = settings or SolverSettings()
    params = np.ascontiguousarray(params, dtype=np.float64)
    t_out = np.ascontiguousarray(t_out, dtype=np.float64)
    if t_out.ndim != 1 or len(t_out) == 0 or np.any(np.diff(t_out) <= 0):
        raise ValueError("output times must be a non-empty, strictly increasing 1-D array")
    n = params.shape[0]
    if t_start is None:
        first_event = float(events.times.min()) if len(events.times) else math.inf
        t_start = min(float(t_out[0]), first_event)
    y0s = np.empty((n, model.n_states))
    for i in range(n):
        y0s[i] = model.initial(params[i])
    out = np.empty((n, len(t_out), len(model.observables)))
    stats = np.zeros((n, 4))
    status = np.zeros(n, dtype=np.int64)
    colours = colouring_for(model, settings.sparse_jacobian)
    if n:
        solver.solve_batch(
            model.rhs, model.switches, model.dose, model.observe,
            params, y0s, len(model.switch_names), float(t_start),
            events.times, events.inputs, events.amounts, t_out,
            settings.rtol, model.absolute_tolerances(settings.atol), settings.h_init,
            settings.h_max, settings.max_steps, model.autonomous,
            colours.colour_ptr, colours.colour_cols, colours.col_ptr, colours.row_idx,
            out, stats, status,
        )  # fmt: skip
    ids = np.arange(n) if patient_ids is None else np.asarray(patient_ids)
    return BatchResult(ids, t_out, model.observables, out, status, stats, params)


def simulate_chunks(
    model: Model,
    n_patients: int,
    make_params: Callable[[np.ndarray], np.ndarray],
    make_events: Callable[[np.ndarray], DosingEvents],
    t_out: np.ndarray,
    settings: SolverSettings | None = None,
    chunk_size: int = 1000,
    t_start: float | None = None,
) -> Iterator[BatchResult]:
    """Simulate patients ``0..n_patients-1`` in chunks of ``chunk_size``, yielding each chunk.

    ``make_params(ids)`` and ``make_events(params)`` build the chunk's inputs from patient ids, so
    every patient's inputs depend on its id only and results do not depend on the chunk size.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size: got {chunk_size!r}; allowed: an integer >= 1")
    for start in range(0, n_patients, chunk_size):
        ids = np.arange(start, min(start + chunk_size, n_patients))
        params = make_params(ids)
        yield simulate(model, params, make_events(params), t_out, settings, t_start, ids)
