"""The engine side by side with libRoadRunner on the same model, patients, tolerances and grid.

Run on demand (not a test)::

    python benchmarks/bench_roadrunner.py --model park2025 --patients 1000 10000
    python benchmarks/bench_roadrunner.py --model integrated --patients 1000 10000 \
        --roadrunner-patients 50 --scipy-patients 5

Models: Park 2025 (730 days, daily outputs, the published between-patient variability, seed 1, the
Erlangen dose and lymphodepletion) and the integrated model (the Erlangen 4-1BB CD19 scenario with
its population variability, seed 1: fludarabine and cyclophosphamide from day -5, daily outputs
from day -6 to 730). libRoadRunner (SBML compiled by LLVM, CVODE)
simulates our SBML export (``immunoreset export``): per patient, the parameter values and dose
amounts are set and the model is reset (``resetAll()`` before, so that switch modes set by the
previous patient's events do not carry over, and ``reset()`` after; changing initial values with
``init`` would recompile), with the absolute tolerance as a vector scaled per state like the
engine's. Both run at the same rtol = atol, thread for thread: the engine with 1 and 2 numba
threads, libRoadRunner in 1 process and in 2 processes (its API has no parallel simulate), and
libRoadRunner once more at ``--matched-tol`` (default 1e-8), in 1 and 2 processes: speed at
about the engine's accuracy (both errors are reported, so the match can be checked). The SciPy LSODA loop
(``immunoreset.simulate.reference.solve_reference``: one patient at a time with the model's own
right-hand side) runs in the same repeats. The engine is timed at each ``--patients`` N (100,000
adds several minutes per repeat) in calls of at most 1,000 patients, as a population run
simulates chunks (see ``ENGINE_CHUNK``); libRoadRunner and SciPy, linear in N, on subsamples;
every method's patient parameters and doses are drawn before its clock starts;
ratios are per patient, thread for thread. Repeats are interleaved. Peak memory: this process
after the engine's first run at each N, which holds the outputs of one call (1,000 x 731 x
outputs doubles), and the largest libRoadRunner worker process.
Accuracy: each method's worst relative error on a subsample (SciPy's on its own) against a tight
reference (the engine at rtol = atol = 1e-10; relative to max(|value|, 1e-6 x the output's
largest value); outputs that stay exactly zero are reported by their largest absolute value
instead).

Writes ``benchmarks/results/roadrunner_MODEL.json`` and ``benchmarks/results/roadrunner_MODEL.md``.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing as mp
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

from cohort import T_OUT, cohort
from immunoreset.export.sbml import export_sbml, output_ids, state_ids
from immunoreset.model.core import Model
from immunoreset.model.registry import get_model
from immunoreset.runs.inputs import prepare
from immunoreset.scenario.load import load_scenario
from immunoreset.simulate.engine import SolverSettings, simulate
from immunoreset.simulate.reference import solve_reference
from immunoreset.therapy.regimen import DosingEvents
from vm_memory import touch

OUT = Path(__file__).parent / "results"
INTEGRATED_SCENARIO = (
    Path(__file__).resolve().parents[1] / "examples/integrated_cd19_41bb_erlangen.yaml"
)


@dataclass(frozen=True)
class Setting:
    """One model's benchmark patients: parameters and doses by patient id, output days, start."""

    model: Model
    inputs: Callable[[np.ndarray], tuple[np.ndarray, DosingEvents]]
    times: np.ndarray
    t_start: float
    pattern: np.ndarray


@functools.cache
def setting(name: str) -> Setting:
    if name == "park2025":
        model = get_model(name)
        return Setting(
            model, lambda ids: cohort(model, ids), T_OUT, 0.0, model.typical_parameters()
        )
    scenario = load_scenario(INTEGRATED_SCENARIO)
    pop = scenario.population.model_copy(update={"seed": 1, "variability": True})
    inp = prepare(scenario.model_copy(update={"population": pop, "horizon_days": 730}))

    def inputs(ids: np.ndarray) -> tuple[np.ndarray, DosingEvents]:
        params = inp.parameters(ids)
        return params, inp.events(params)

    pattern = inp.model.typical_parameters(inp.overrides)
    return Setting(inp.model, inputs, np.asarray(inp.times), float(inp.t_start), pattern)


def _sbml(s: Setting) -> str:
    params, events = s.inputs(np.arange(1))
    return export_sbml(s.model, events, params[0], s.t_start)


def _roadrunner(s: Setting, sbml: str, rtol: float, atol: float):
    import roadrunner

    options = roadrunner.LoadSBMLOptions()
    options.setLLVMBackend(roadrunner.LoadSBMLOptions.LLJIT)  # compiles large models far faster
    rr = roadrunner.RoadRunner(sbml, options)
    rr.integrator.relative_tolerance = rtol
    for sid, state in zip(state_ids(s.model), s.model.states, strict=True):
        rr.integrator.setIndividualTolerance(sid, atol * state.atol_scale)
    rr.integrator.maximum_num_steps = 200_000
    rr.timeCourseSelections = ["time", *output_ids(s.model)]
    return rr


def _rr_patients(
    args: tuple[str, str, np.ndarray, float, float],
) -> tuple[np.ndarray, float, float]:
    """Simulate patients ``ids`` with one RoadRunner instance; outputs [n, T, O], the seconds
    spent simulating (after the instance is built and has run one discarded patient) and the
    process's peak memory (MB)."""
    name, sbml, ids, rtol, atol = args
    s = setting(name)
    rr = _roadrunner(s, sbml, rtol, atol)
    params, events = s.inputs(ids)
    names = list(s.model.parameter_names) + [f"dose_{k}_amount" for k in range(len(events.times))]
    out = np.empty((len(ids), len(s.times), len(s.model.observables)))
    grid = (s.t_start, float(s.times[-1]), len(s.times))
    if not np.allclose(np.linspace(*grid), s.times):  # pragma: no cover - a guard on the settings
        raise ValueError("the output days must be an even grid from the start")
    rr.simulate(*grid)  # warm-up, discarded
    start = time.perf_counter()
    for i in range(len(ids)):
        # resetAll first: reset() alone keeps the switch modes that events of the previous patient
        # set (global parameters without a rate rule), so one patient's tocilizumab would start
        # the next patient's too.
        rr.resetAll()
        rr.setValues(names, [*params[i], *events.amounts[i]])
        rr.reset()
        out[i] = np.asarray(rr.simulate(*grid))[:, 1:]
    return out, time.perf_counter() - start, _peak_rss_mb()


def _time_rr(
    name: str, sbml: str, ids: np.ndarray, rtol: float, atol: float, processes: int
) -> tuple[float, float]:
    """Seconds per patient: the slowest worker process's simulating time (the start-up of worker
    processes and the per-process compilation are not counted); and the largest worker's peak
    memory (MB). One process is a worker too, so that the benchmark's own peak memory is the
    engine's."""
    parts = np.array_split(ids, processes)
    jobs = [(name, sbml, p, rtol, atol) for p in parts]
    with mp.get_context("spawn").Pool(processes) as pool:
        done = pool.map(_rr_patients, jobs)
    return max(sec for _, sec, _ in done) / len(ids), max(peak for _, _, peak in done)


def _engine(
    s: Setting, ids: np.ndarray, settings: SolverSettings,
    inputs: tuple[np.ndarray, DosingEvents] | None = None,
):  # fmt: skip
    params, events = s.inputs(ids) if inputs is None else inputs
    return simulate(s.model, params, events, s.times, settings, s.t_start, ids, s.pattern)


ENGINE_CHUNK = 1_000
"""Patients per engine call when timing, as a population run simulates them (``chunk_size``, default
1,000), each chunk's outputs released before the next: memory stays bounded at N = 100,000 (whose
outputs would take 11 GB for Park 2025). On a virtual machine that backs guest memory only when it
is first touched (this project's: filling 111 MB of fresh memory took 1.5-1.8 s, of recycled
memory 0.02 s), larger calls pay for fresh memory in the timing, which has nothing to do with the
integrator; libRoadRunner's per-patient arrays are small and recycled. Each timing is preceded by
:func:`_touch_memory` for the same reason, and the process keeps the memory it frees, as the
command line does (:mod:`vm_memory`), so each chunk reuses the last one's pages."""


def _touch_memory(s: Setting, patients: int) -> None:
    """Fill and release twice the memory of one engine call's outputs (:func:`vm_memory.touch`,
    see :data:`ENGINE_CHUNK`): memory a process released seconds earlier, while other methods ran,
    may have gone back to the host."""
    touch(2 * patients * len(s.times) * len(s.model.observables))


ENGINE_WARM_UP = 64
"""Patients simulated, untimed, right before each engine timing, as each libRoadRunner worker runs
one discarded patient before its timing. Without it, the single call of N = 1,000 read slower
than the same 1,000-patient calls inside N = 10,000 and 100,000 (two threads: 0.31 and 0.34 ms
per patient against 0.29-0.30 in the same run), which a warm engine does not explain."""


def _time_engine(s: Setting, ids: np.ndarray, settings: SolverSettings, threads: int) -> float:
    numba.set_num_threads(threads)
    _touch_memory(s, min(len(ids), ENGINE_CHUNK))
    _engine(s, ids[:ENGINE_WARM_UP], settings)
    # The patients' parameters and doses are drawn before the clock starts, as they are for
    # libRoadRunner and SciPy: the timings compare the simulators, not the population sampling
    # (about 0.01 ms per Park 2025 patient, in one thread).
    chunks = [ids[first : first + ENGINE_CHUNK] for first in range(0, len(ids), ENGINE_CHUNK)]
    inputs = [s.inputs(chunk) for chunk in chunks]
    start = time.perf_counter()
    for chunk, chunk_inputs in zip(chunks, inputs, strict=True):
        _engine(s, chunk, settings, chunk_inputs)
    return (time.perf_counter() - start) / len(ids)


ZERO_OUTPUT = 1e-12
"""An output whose tight reference never exceeds this (in its own unit) is zero: far below every
absolute tolerance used here (1e-6 and tighter, times each state's scale)."""


def _worst(values: np.ndarray, reference: np.ndarray, at_doses: np.ndarray) -> dict[str, float]:
    """Worst relative error, and the largest value where the reference output is zero throughout.

    Outputs at dosing days are left out (the engine reports the post-dose state there by design, a
    simulator may report either side). The relative error is taken against ``max(|reference|,
    1e-6 x the output's largest value)``; outputs that stay at zero for a patient (a product
    slot not used, a treatment never given) have no scale and are reported by absolute value. Zero
    means at most ``ZERO_OUTPUT`` throughout: a treatment never given can leave rounding residue
    of 1e-45 in the reference, which is no scale to measure an error against."""
    peak = np.abs(reference).max(axis=1, keepdims=True)
    scale = np.maximum(np.abs(reference), 1e-6 * peak)
    zero = np.broadcast_to(peak <= ZERO_OUTPUT, reference.shape)
    diff = np.abs(values - reference)
    diff[:, at_doses, :] = 0.0
    rel = np.where(zero, 0.0, diff / np.where(zero, 1.0, scale))
    return {
        "relative": float(np.nanmax(rel)),
        "absolute_in_zero_outputs": float(np.nanmax(np.where(zero, diff, 0.0))),
    }


def _time_scipy(s: Setting, ids: np.ndarray, tol: float) -> tuple[float, np.ndarray]:
    """Seconds per patient of the SciPy LSODA loop (``solve_reference``: one patient at a time,
    the model's own right-hand side, dosing events as integration segments), and its outputs."""
    params, events = s.inputs(ids)
    start = time.perf_counter()
    out = [
        solve_reference(s.model, params[i], s.t_start, events.for_patient(i), s.times, tol, tol)
        for i in range(len(ids))
    ]
    return (time.perf_counter() - start) / len(ids), np.stack(out)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (``VmHWM``; unlike ``getrusage``, not inherited from
    the parent that forked a spawned worker)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")  # pragma: no cover - not Linux


LABELS = {
    "engine_1": ("engine, 1 thread", 1),
    "engine_2": ("engine, 2 threads", 2),
    "rr_1": ("libRoadRunner, 1 process", 1),
    "rr_2": ("libRoadRunner, 2 processes", 2),
    "rr_1_matched": ("libRoadRunner, 1 process, tolerance {matched:g} (matched accuracy)", 1),
    "rr_2_matched": ("libRoadRunner, 2 processes, tolerance {matched:g} (matched accuracy)", 2),
    "scipy_1": ("SciPy LSODA loop, 1 process", 1),
}


def _engine_key(threads: int, n: int) -> str:
    return f"engine_{threads}@{n}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=("park2025", "integrated"), default="park2025")
    ap.add_argument("--patients", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--roadrunner-patients", type=int, default=200)
    ap.add_argument("--scipy-patients", type=int, default=20)
    ap.add_argument("--accuracy-patients", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument(
        "--matched-tol",
        type=float,
        default=1e-8,
        help="libRoadRunner tolerance for the matched-accuracy rows",
    )
    args = ap.parse_args()
    tol = args.tol
    settings = SolverSettings(rtol=tol, atol=tol)
    name = args.model
    s = setting(name)
    sbml = _sbml(s)
    rr_ids = np.arange(args.roadrunner_patients)
    scipy_ids = np.arange(args.scipy_patients)

    t0 = time.perf_counter()
    _time_engine(s, np.arange(2), settings, numba.config.NUMBA_NUM_THREADS)
    engine_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    _roadrunner(s, sbml, tol, tol)
    rr_load = time.perf_counter() - t0
    _time_scipy(s, np.arange(1), tol)  # compiles the model's own right-hand side: not timed

    matched = args.matched_tol
    keys = [_engine_key(t, n) for n in args.patients for t in (1, 2)]
    keys += ["rr_1", "rr_2", "rr_1_matched", "rr_2_matched", "scipy_1"]
    times: dict[str, list[float]] = {k: [] for k in keys}
    engine_rss: dict[int, float] = {}  # after the first run at each N (outputs held in memory)
    rr_rss = 0.0
    for rep in range(args.repeats):
        order = keys if rep % 2 == 0 else list(reversed(keys))
        for key in order:
            if key.startswith("engine"):
                threads, n = (int(x) for x in key.removeprefix("engine_").split("@"))
                times[key].append(_time_engine(s, np.arange(n), settings, threads))
                engine_rss.setdefault(n, _peak_rss_mb())
            elif key == "scipy_1":
                times[key].append(_time_scipy(s, scipy_ids, tol)[0])
            else:  # in worker processes, so that this process's peak memory is the engine's
                rtol = matched if key.endswith("_matched") else tol
                seconds, peak = _time_rr(name, sbml, rr_ids, rtol, rtol, int(key[3]))
                times[key].append(seconds)
                rr_rss = max(rr_rss, peak)
            print(key, f"{1e3 * times[key][-1]:.3f} ms/patient", flush=True)

    acc = np.arange(args.accuracy_patients)
    reference = _engine(s, acc, SolverSettings(rtol=1e-10, atol=1e-10))
    ours = _engine(s, acc, settings)
    theirs = _rr_patients((name, sbml, acc, tol, tol))[0]
    theirs_matched = _rr_patients((name, sbml, acc, matched, matched))[0]
    scipy_acc = acc[: args.scipy_patients]
    scipy_values = _time_scipy(s, scipy_acc, tol)[1]
    at_doses = np.isin(s.times, s.inputs(acc[:1])[1].times)
    med = {k: statistics.median(v) for k, v in times.items()}
    n0 = args.patients[0]
    ratios = {
        f"{method}_vs_{_engine_key(threads, n)}": round(
            med[method] / med[_engine_key(threads, n)], 2
        )
        for n in args.patients
        for method, threads in (
            ("rr_1", 1),
            ("rr_2", 2),
            ("rr_1_matched", 1),
            ("rr_2_matched", 2),
            ("scipy_1", 1),
        )
    }
    result = {
        "benchmark": f"{name}, 730 days, {len(s.times)} daily outputs, population variability "
        "(seed 1)",
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
        "tolerance": tol,
        "engine_jacobian": settings.jacobian,
        "roadrunner_matched_tolerance": matched,
        "patients": {
            "engine": args.patients,
            "roadrunner": args.roadrunner_patients,
            "scipy": args.scipy_patients,
        },
        "ms_per_patient": {k: [round(1e3 * x, 4) for x in v] for k, v in times.items()},
        "median_ms_per_patient": {k: round(1e3 * v, 4) for k, v in med.items()},
        "ratio_over_engine": ratios,
        "worst_relative_error_vs_tight_reference": {
            "engine": _worst(ours.values, reference.values, at_doses),
            "roadrunner": _worst(theirs, reference.values, at_doses),
            "roadrunner_matched": _worst(theirs_matched, reference.values, at_doses),
            "scipy_lsoda": _worst(scipy_values, reference.values[: len(scipy_acc)], at_doses),
        },
        "load_seconds": {
            "engine_cached_kernel": round(engine_load, 2),
            "roadrunner_sbml_compile": round(rr_load, 2),
        },
        "peak_rss_mb": {
            **{f"engine_process_after_{n}": v for n, v in engine_rss.items()},
            "largest_roadrunner_worker": rr_rss,
        },
    }
    if name == "park2025":
        result["note"] = (
            "the worst errors sit in B cells after the ill-conditioned reconstitution switch of "
            "Park 2025 (docs/engine.md)"
        )
    OUT.mkdir(exist_ok=True)
    (OUT / f"roadrunner_{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        "| method | threads / processes | patients | ms per patient (median) | "
        f"ratio to the engine (same threads, N = {n0}) |",
        "|---|---|---|---|---|",
    ]
    for key in keys:
        base, _, n = key.partition("@")
        label, threads = LABELS[base]
        label = label.format(matched=matched)
        count = n or {"scipy_1": args.scipy_patients}.get(key, args.roadrunner_patients)
        engine = _engine_key(threads, n0)
        ratio = "" if key.startswith("engine") else f"{med[key] / med[engine]:.2f}"
        rows.append(f"| {label} | {threads} | {count} | {1e3 * med[key]:.3f} | {ratio} |")
    (OUT / f"roadrunner_{name}.md").write_text("\n".join(rows) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
