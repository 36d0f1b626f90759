"""Batch simulation: many virtual patients, each with its own parameters, for any model.

:func:`simulate` integrates one batch with the model's compiled integrator (:mod:`.kernels`);
:func:`simulate_chunks` walks a population chunk by chunk so memory stays bounded by the chunk size
and the outputs the caller keeps. Tolerances and limits are explicit in :class:`SolverSettings` and
recorded with every run.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Literal

import numpy as np

from immunoreset.model.core import Model
from immunoreset.observables import OBSERVABLES
from immunoreset.simulate.analytic import (
    Compiled,
    analytic_jacobian,
    traced_outputs,
    traced_rhs,
)
from immunoreset.simulate.kernels import (
    colouring_for,
    compile_settings,
    dormant_for,
    kernel_for,
    lanes_kernel_for,
    lu_plan_for,
    model_function_addresses,
)
from immunoreset.simulate.lanes_ir import LANES
from immunoreset.simulate.lu_ir import compiled_lu
from immunoreset.simulate.native import python_caller
from immunoreset.simulate.rodas_lanes_ir import compiled_stages
from immunoreset.simulate.sparsity import Colouring, Rhs
from immunoreset.simulate.status import CHATTERING, NEGATIVE_OUTPUT, OK, STATUS_MESSAGES
from immunoreset.therapy.regimen import DosingEvents


@dataclass(frozen=True)
class SolverSettings:
    """Integration settings.

    Attributes:
        method: ``"rodas5p"`` (L-stable Rosenbrock of order 5, Steinebach 2023), the only compiled
            method.
        rtol: relative tolerance of the local error test.
        atol: absolute tolerance in each state's own unit, times the state's ``atol_scale``.
        max_steps: accepted plus rejected steps allowed per patient before it is marked failed.
        h_init: first trial step (day); the controller adapts it at once.
        h_max: largest step (day); ``inf`` = limited only by accuracy.
        sparse_jacobian: build the Jacobian from the model's probed sparsity pattern with column
            colouring (see :mod:`.sparsity`); ``False`` perturbs every column separately.
        jacobian: ``"analytic"`` (differentiated from the model's equations and compiled, see
            :mod:`.analytic`; for patients and models it does not apply to, and without a sparse
            pattern, finite differences are used) or ``"finite-difference"``.
        rhs: ``"traced"`` (the model's right-hand side, observables and switch functions traced
            and compiled by LLVM, see :mod:`.analytic`; for patients and models they do not apply
            to, the model's own functions) or ``"model"`` (the model's own functions compiled by
            numba, an independent check of the traced ones).
        lanes: integrate patients that use the traced right-hand side and the analytic Jacobian
            of an autonomous model ``LANES`` at a time in vector lanes (:mod:`.lanes_template`);
            the results are the same bits either way.
    """

    method: str = "rodas5p"
    rtol: float = 1e-6
    atol: float = 1e-6
    max_steps: int = 200_000
    h_init: float = 1e-3
    h_max: float = math.inf
    sparse_jacobian: bool = True
    jacobian: Literal["analytic", "finite-difference"] = "analytic"
    rhs: Literal["traced", "model"] = "traced"
    lanes: bool = True

    def __post_init__(self) -> None:
        if self.method != "rodas5p":
            raise ValueError(f"solver.method: got {self.method!r}; allowed: 'rodas5p'")
        if self.jacobian not in ("analytic", "finite-difference"):
            raise ValueError(
                f"solver.jacobian: got {self.jacobian!r}; allowed: 'analytic', 'finite-difference'"
            )
        if self.rhs not in ("traced", "model"):
            raise ValueError(f"solver.rhs: got {self.rhs!r}; allowed: 'traced', 'model'")
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
    (0 = ok, see :mod:`immunoreset.simulate.status`); ``stats`` per patient: accepted steps,
    rejected steps, switch crossings, last time reached (day), index of the last switch that
    flipped (-1 if none); ``details`` adds what a status code alone cannot say (which output went
    negative, which switch chattered).
    """

    patient_ids: np.ndarray
    times: np.ndarray
    observables: tuple[str, ...]
    values: np.ndarray
    status: np.ndarray
    stats: np.ndarray
    params: np.ndarray
    switch_names: tuple[str, ...] = ()
    details: dict[int, str] = field(default_factory=dict)

    def status_message(self, i: int) -> str:
        code = int(self.status[i])
        msg = STATUS_MESSAGES.get(code, f"unknown status {code}")
        if code == OK:
            return msg
        if i in self.details:
            return f"{msg}: {self.details[i]}"
        which = int(self.stats[i, 4])
        if code == CHATTERING and 0 <= which < len(self.switch_names):
            msg = f"{msg}: switch {self.switch_names[which]!r}"
        return f"{msg} (stopped at day {self.stats[i, 3]:.6g})"


N_STATS = 5


def report_negative(result: BatchResult, report: np.ndarray) -> None:
    """Fail the patients whose outputs went below zero beyond the tolerance, as the integrator
    found them (``report[i] = (output, time index, value, tolerance)``, -1 first where none).

    Outputs such as cell counts and concentrations cannot be negative. An integrator may still
    return values a little below zero where a state decays towards zero: within the accuracy
    asked of it, ``atol + rtol * max|value|`` of that output over the patient's trajectory, such
    a value is zero (set so by :func:`.clip.clip_patient` as each patient finishes). Anything
    further below zero is a failed integration: the patient gets status ``NEGATIVE_OUTPUT``, a
    detail naming the output, value and day, and NaN from that time on.
    """
    for i in np.flatnonzero(report[:, 0] >= 0):
        j, first, value, tol = report[i]
        name = result.observables[int(j)]
        result.status[i] = NEGATIVE_OUTPUT
        result.stats[i, 3] = result.times[int(first)]
        result.details[int(i)] = (
            f"{name} = {value:.6g} {OBSERVABLES[name].unit} at day "
            f"{result.times[int(first)]:.6g} (tolerance {tol:.3g})"
        )


def simulate(
    model: Model,
    params: np.ndarray,
    events: DosingEvents,
    t_out: np.ndarray,
    settings: SolverSettings | None = None,
    t_start: float | None = None,
    patient_ids: np.ndarray | None = None,
    pattern_parameters: np.ndarray | None = None,
    stop: threading.Event | None = None,
) -> BatchResult:
    """Integrate every row of ``params`` and record all model observables at ``t_out`` (days).

    Integration starts at ``t_start`` (default: the earlier of the first event and the first
    output time) from the model's pre-treatment state. ``pattern_parameters`` are the parameters
    at which the Jacobian sparsity is probed (default: the model's typical patient; a run passes
    its scenario's typical patient, whose product may couple other states). The model's compiled
    integrator comes from :func:`immunoreset.simulate.kernels.kernel_for` (compiled once, then
    cached on disk). Patients are integrated in groups that share their dormant states (zero states
    that nothing doses and the equations keep at zero), which the Jacobian leaves out.

    ``stop`` lets another thread end a batch early (a caller that simulates the next chunk in the
    background while it processes this one): once it is set, blocks of patients not yet started
    are dropped, and when the running ones are done :class:`BatchStoppedError` says that some were.
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
    out = np.empty((n, len(t_out), len(model.observables)))
    stats = np.zeros((n, N_STATS))
    status = np.zeros(n, dtype=np.int64)
    report = np.full((n, 4), -1.0)
    if n:
        with compile_settings():
            _integrate(model, params, events, t_out, settings, float(t_start), pattern_parameters,
                       (out, stats, status, report), stop)  # fmt: skip
    ids = np.arange(n) if patient_ids is None else np.asarray(patient_ids)
    result = BatchResult(
        ids, t_out, model.observables, out, status, stats, params, model.switch_names
    )
    report_negative(result, report)
    return result


def _integrate(
    model: Model, params: np.ndarray, events: DosingEvents, t_out: np.ndarray,
    settings: SolverSettings, t_start: float, pattern_parameters: np.ndarray | None,
    results: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], stop: threading.Event | None,
) -> None:  # fmt: skip
    """Integrate ``params`` into ``results`` (outputs, stats, status, negative-output report, see
    :func:`report_negative`), patients grouped by their dormant states."""
    out, stats, status, report = results
    nonnegative = np.array([OBSERVABLES[name].nonnegative for name in model.observables])
    n = params.shape[0]
    kernel = kernel_for(model)
    p_pattern = model.typical_parameters() if pattern_parameters is None else pattern_parameters
    p_pattern = np.ascontiguousarray(p_pattern, dtype=np.float64)
    traced: tuple[Compiled | None, ...] = (None, None, None)
    if settings.rhs == "traced":
        traced = (traced_rhs(model, p_pattern), *(traced_outputs(model, p_pattern, role)
                                                  for role in ("observe", "switches")))  # fmt: skip
    probe = python_caller(traced[0].address) if traced[0] is not None else None
    for rows, dormant in _dormant_groups(model, kernel, params, events, p_pattern, probe):
        colours = colouring_for(model, settings.sparse_jacobian, p_pattern, dormant, probe)
        group = params[rows]
        lanes = _lane_functions(model, settings, p_pattern, colours, traced, probe)
        in_lanes = np.zeros(len(rows), dtype=bool)
        if lanes is not None:
            in_lanes = lanes[0].applies(group)
            for compiled in traced:
                in_lanes &= compiled.applies(group)  # type: ignore[union-attr]
        shared = (
            model.n_states, len(model.switch_names), float(t_start), events.times, events.inputs,
            t_out, settings.rtol, model.absolute_tolerances(settings.atol), settings.h_init,
            settings.h_max, settings.max_steps,
        )  # fmt: skip
        for chosen, lane_path in ((in_lanes, True), (~in_lanes, False)):
            if not chosen.any():
                continue
            sub_rows = rows[chosen]
            whole = len(sub_rows) == n
            sub = results if whole else tuple(a[sub_rows] for a in results)
            amounts = events.amounts if whole else np.ascontiguousarray(events.amounts[sub_rows])
            patients = params if whole else params[sub_rows]
            if lane_path:
                assert lanes is not None
                fns = tuple(c.address for c in traced)  # type: ignore[union-attr]
                in_threads(lanes_kernel_for(model).solve_batch_lanes, (patients, amounts, *sub),
                           (*shared, fns, lanes[1],
                            compiled_stages(model.n_states, LANES).addresses, nonnegative,
                            settings.atol),
                           stop, LANE_BLOCK)  # fmt: skip
            else:
                # The scalar integrator's functions are compiled only for patients who need them.
                addresses = _addresses(model, settings, p_pattern, colours, traced, patients)
                plan = _lu_addresses(model, colours, p_pattern, settings, probe)
                in_threads(
                    kernel.solve_batch,
                    (patients, amounts, addresses, *sub),
                    (*shared, model.autonomous, colours.colour_ptr, colours.colour_cols,
                     colours.col_ptr, colours.row_idx, plan, nonnegative, settings.atol),
                    stop,
                )  # fmt: skip
            if not whole:
                out[sub_rows], stats[sub_rows], status[sub_rows], report[sub_rows] = sub


def _lane_functions(
    model: Model,
    settings: SolverSettings,
    p_pattern: np.ndarray,
    colours: Colouring,
    traced: tuple[Compiled | None, ...],
    rhs: Rhs | None,
) -> tuple[Compiled, tuple[int, int, int, int]] | None:
    """For lock-step integration (:mod:`.lanes_template`): the lane form of the analytic Jacobian
    (whose decisions, with those of the traced functions, say which patients run in lanes) and
    the addresses of the lane forms of the right-hand side, Jacobian, factorisation and solve;
    None where lanes do not apply (a model with time in its equations, or settings or functions
    other than the traced ones and the analytic Jacobian)."""
    if not (settings.lanes and model.autonomous and settings.sparse_jacobian):
        return None
    if settings.jacobian != "analytic" or any(c is None for c in traced):
        return None
    rhs_lanes = traced_rhs(model, p_pattern, LANES)
    jac_lanes = analytic_jacobian(model, p_pattern, colours, LANES)
    if rhs_lanes is None or jac_lanes is None:
        return None
    atol = model.absolute_tolerances(settings.atol)
    lu = compiled_lu(lu_plan_for(model, colours, p_pattern, atol, settings.rtol, rhs), LANES)
    return jac_lanes, (rhs_lanes.address, jac_lanes.address, lu.factor, lu.solve)


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


def _lu_addresses(
    model: Model, colours: Colouring, p_pattern: np.ndarray, settings: SolverSettings,
    rhs: Rhs | None,
) -> tuple[int, int]:  # fmt: skip
    """Addresses of the generated factorisation and solve of the pattern's LU plan, its pivots
    ordered on the model's iteration matrices at the run's tolerances."""
    atol = model.absolute_tolerances(settings.atol)
    lu = compiled_lu(lu_plan_for(model, colours, p_pattern, atol, settings.rtol, rhs))
    return lu.factor, lu.solve


def _addresses(
    model: Model, settings: SolverSettings, p_pattern: np.ndarray, colours: Colouring,
    traced: tuple[Compiled | None, ...], params: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Machine-code addresses, ``[patients, 4]``: each patient's right-hand side, observables and
    switch functions (the ``traced`` ones where they apply, else the model's own) and analytic
    Jacobian (0 for finite differences)."""
    out = np.zeros((len(params), 4), dtype=np.int64)
    for k, compiled in enumerate(traced):
        if compiled is not None:
            out[compiled.applies(params), k] = compiled.address
    if not out[:, :3].all():
        own = model_function_addresses(model)
        for k in range(3):
            out[out[:, k] == 0, k] = own[k]
    if settings.jacobian == "analytic" and settings.sparse_jacobian:
        compiled = analytic_jacobian(model, p_pattern, colours)
        if compiled is not None:
            out[compiled.applies(params), 3] = compiled.address
    return out


_DORMANT: dict[tuple[object, ...], np.ndarray] = {}


def _dormant_groups(
    model: Model, kernel: ModuleType, params: np.ndarray, events: DosingEvents,
    p_pattern: np.ndarray, probe: Callable[..., None] | None,
) -> list[tuple[np.ndarray, np.ndarray]]:  # fmt: skip
    """Patients grouped by their dormant states (see :func:`.sparsity.dormant_states`).

    A patient's candidates are the states that start at zero for its parameters and that none of
    its own dosing events (non-zero amounts) changes, so the grouping, and with it each patient's
    Jacobian and result, depends on that patient alone, never on the batch it is run in.
    """
    n_states = model.n_states
    initial, touched = kernel.pretreatment(params, p_pattern, n_states, len(model.inputs))
    zero = initial == 0.0
    dosed = np.zeros((len(params), n_states), dtype=bool)
    for e, k in enumerate(events.inputs):
        dosed[events.amounts[:, e] != 0.0] |= touched[int(k)]
    candidates = zero & ~dosed
    # Rows grouped by their bytes, not by np.unique(axis=0): that compares structured arrays, and
    # numpy turns a Ctrl-C or SIGTERM arriving inside such a comparison into a TypeError.
    rows_of: dict[bytes, list[int]] = {}
    for i, row in enumerate(candidates):
        rows_of.setdefault(row.tobytes(), []).append(i)
    groups = []
    for rows in rows_of.values():
        cand = candidates[rows[0]]
        key = (model.name, id(model.rhs), p_pattern.tobytes(), cand.tobytes())
        if key not in _DORMANT:
            _DORMANT[key] = dormant_for(model, p_pattern, cand, probe)
        groups.append((np.asarray(rows, dtype=np.int64), _DORMANT[key]))
    return groups


BLOCK = 8
"""Patients per task of the engine's threads: small enough that threads finishing early take more
(patients differ several-fold in steps), large enough that a task's start (measured: 12 us to hand a
task to a thread, 2 us to enter the compiled batch function) is below 0.1 % of its work (8
patients of Park 2025 take about 35 ms on one thread)."""


LANE_BLOCK = 32 * LANES
"""Patients per task of the lock-step integrator: a lane whose patient is done takes the next one of
its task, so a task of many lanes' worth keeps the lanes busy while patients of different lengths
finish; only at a task's end do lanes run empty. Measured on 1,000 Park 2025 patients with two
threads: 0.34, 0.33, 0.32 and 0.31 ms per patient with 16, 32, 128 and 256 patients per task (512:
0.31). A task of 256 Park 2025 patients takes about 0.15 s on one thread, so an interrupt still
stops a batch within a fraction of a second."""


class BatchStoppedError(RuntimeError):
    """A batch was ended early through its ``stop`` event; its results are incomplete."""


def in_threads(
    solve: Callable[..., None],
    per_patient: tuple[np.ndarray, ...],
    shared: tuple[object, ...],
    stop: threading.Event | None = None,
    block_size: int = BLOCK,
) -> None:
    """``solve(*per_patient, *shared)`` over blocks of ``block_size`` patients (rows of
    ``per_patient``) on ``numba.get_num_threads()`` threads (no more than there are patients),
    each thread taking the next block when it is done. ``solve`` releases the GIL. On an
    interrupt, or once ``stop`` is set, blocks not yet started are dropped and the running ones
    finish (a block takes well under a second); dropped blocks then raise
    :class:`BatchStoppedError`."""
    import numba

    n = len(per_patient[0])
    threads = max(1, min(numba.get_num_threads(), n))
    if threads == 1 and stop is None:
        solve(*per_patient, *shared)
        return
    block = max(1, min(block_size, n // threads))

    dropped: list[int] = []

    def run_block(lo: int) -> None:
        if stop is not None and stop.is_set():
            dropped.append(lo)
        else:
            solve(*(a[lo : lo + block] for a in per_patient), *shared)

    pool = ThreadPoolExecutor(threads, thread_name_prefix="immunoreset-engine")
    try:
        tasks = [pool.submit(run_block, lo) for lo in range(0, n, block)]
        for task in tasks:
            task.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if dropped:
        raise BatchStoppedError("the batch was stopped before all its patients were integrated")
