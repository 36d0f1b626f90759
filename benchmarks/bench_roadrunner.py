"""The engine side by side with libRoadRunner on the same model, patients, tolerances and grid.

Run on demand (not a test)::

    python benchmarks/bench_roadrunner.py --patients 1000 --roadrunner-patients 200 --repeats 3

Model: Park 2025, 730 days, daily outputs (731 times), the published between-patient variability
(seed 1), the Erlangen dose and lymphodepletion. libRoadRunner (SBML compiled by LLVM, CVODE)
simulates our SBML export (``immunoreset export``): per patient, the parameter values and dose
amounts are set and the model is ``reset()`` (changing initial values with ``init`` would
recompile), with the absolute tolerance as a vector scaled per state like the engine's. Both run
at the same rtol = atol, thread for thread: the engine with 1 and 2 numba threads, libRoadRunner in
1 process and in 2 processes (its API has no parallel simulate). Repeats are interleaved. Accuracy:
each method's worst relative error on a subsample against a tight reference (the engine at
rtol = atol = 1e-10; relative to max(|value|, 1e-6 x the output's largest value)).

Writes ``benchmarks/results/roadrunner.json`` and ``benchmarks/results/roadrunner.md``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import time
from pathlib import Path

import numba
import numpy as np

from cohort import T_OUT, cohort
from immunoreset.export.sbml import export_sbml, output_ids, state_ids
from immunoreset.model.registry import get_model
from immunoreset.simulate.engine import SolverSettings, simulate

MODEL = get_model("park2025")
OUT = Path(__file__).parent / "results"


def _inputs(ids: np.ndarray):
    return cohort(MODEL, ids)


def _sbml() -> str:
    params, events = _inputs(np.arange(1))
    return export_sbml(MODEL, events, params[0])


def _roadrunner(sbml: str, rtol: float, atol: float):
    import roadrunner

    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.relative_tolerance = rtol
    for sid, state in zip(state_ids(MODEL), MODEL.states, strict=True):
        rr.integrator.setIndividualTolerance(sid, atol * state.atol_scale)
    rr.integrator.maximum_num_steps = 200_000
    rr.timeCourseSelections = ["time", *output_ids(MODEL)]
    return rr


def _rr_patients(args: tuple[str, np.ndarray, float, float]) -> tuple[np.ndarray, float]:
    """Simulate patients ``ids`` with one RoadRunner instance; outputs [n, T, O] and the seconds
    spent simulating (after the instance is built and has run one discarded patient)."""
    sbml, ids, rtol, atol = args
    rr = _roadrunner(sbml, rtol, atol)
    params, events = _inputs(ids)
    names = list(MODEL.parameter_names) + [f"dose_{k}_amount" for k in range(len(events.times))]
    out = np.empty((len(ids), len(T_OUT), len(MODEL.observables)))
    rr.simulate(0.0, float(T_OUT[-1]), len(T_OUT))  # warm-up, discarded
    start = time.perf_counter()
    for i in range(len(ids)):
        rr.setValues(names, [*params[i], *events.amounts[i]])
        rr.reset()
        out[i] = np.asarray(rr.simulate(0.0, float(T_OUT[-1]), len(T_OUT)))[:, 1:]
    return out, time.perf_counter() - start


def _time_rr(sbml: str, ids: np.ndarray, rtol: float, atol: float, processes: int) -> float:
    """Seconds per patient; with several processes, the slowest process's simulating time (the
    start-up of worker processes and the per-process compilation are not counted)."""
    parts = np.array_split(ids, processes)
    if processes == 1:
        return _rr_patients((sbml, ids, rtol, atol))[1] / len(ids)
    with mp.get_context("spawn").Pool(processes) as pool:
        seconds = [s for _, s in pool.map(_rr_patients, [(sbml, p, rtol, atol) for p in parts])]
    return max(seconds) / len(ids)


def _time_engine(ids: np.ndarray, settings: SolverSettings, threads: int) -> float:
    numba.set_num_threads(threads)
    params, events = _inputs(ids)
    start = time.perf_counter()
    simulate(MODEL, params, events, T_OUT, settings)
    return (time.perf_counter() - start) / len(ids)


def _worst(values: np.ndarray, reference: np.ndarray) -> float:
    scale = np.maximum(np.abs(reference), 1e-6 * np.abs(reference).max(axis=1, keepdims=True))
    rel = np.abs(values - reference) / scale
    rel[:, 0, :] = 0.0  # day 0: the engine reports the post-dose state by design
    return float(np.nanmax(rel))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--roadrunner-patients", type=int, default=200)
    ap.add_argument("--accuracy-patients", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tol", type=float, default=1e-6)
    args = ap.parse_args()
    tol = args.tol
    settings = SolverSettings(rtol=tol, atol=tol)
    sbml = _sbml()
    ids = np.arange(args.patients)
    rr_ids = np.arange(args.roadrunner_patients)

    t0 = time.perf_counter()
    _time_engine(np.arange(2), settings, numba.config.NUMBA_NUM_THREADS)
    engine_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    _roadrunner(sbml, tol, tol)
    rr_load = time.perf_counter() - t0
    _rr_patients((sbml, np.arange(2), tol, tol))  # a first instance can run slowly: discarded

    times: dict[str, list[float]] = {k: [] for k in ("engine_1", "engine_2", "rr_1", "rr_2")}
    for rep in range(args.repeats):
        order = list(times) if rep % 2 == 0 else list(reversed(times))
        for key in order:
            if key.startswith("engine"):
                times[key].append(_time_engine(ids, settings, int(key[-1])))
            else:
                times[key].append(_time_rr(sbml, rr_ids, tol, tol, int(key[-1])))
            print(key, f"{1e3 * times[key][-1]:.3f} ms/patient", flush=True)

    acc = np.arange(args.accuracy_patients)
    params, events = _inputs(acc)
    reference = simulate(MODEL, params, events, T_OUT, SolverSettings(rtol=1e-10, atol=1e-10))
    ours = simulate(MODEL, params, events, T_OUT, settings)
    theirs = _rr_patients((sbml, acc, tol, tol))[0]
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "benchmark": "park2025, 730 days, 731 daily outputs, published variability (seed 1)",
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
        "tolerance": tol,
        "patients": {"engine": args.patients, "roadrunner": args.roadrunner_patients},
        "ms_per_patient": {k: [round(1e3 * x, 4) for x in v] for k, v in times.items()},
        "median_ms_per_patient": {k: round(1e3 * v, 4) for k, v in med.items()},
        "ratio_roadrunner_over_engine": {
            "1_vs_1": round(med["rr_1"] / med["engine_1"], 2),
            "2_vs_2": round(med["rr_2"] / med["engine_2"], 2),
        },
        "worst_relative_error_vs_tight_reference": {
            "engine": _worst(ours.values, reference.values),
            "roadrunner": _worst(theirs, reference.values),
        },
        "load_seconds": {
            "engine_cached_kernel": round(engine_load, 2),
            "roadrunner_sbml_compile": round(rr_load, 2),
        },
        "note": "the worst errors sit in B cells after the ill-conditioned reconstitution switch "
        "of Park 2025 (docs/engine.md)",
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "roadrunner.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        "| method | threads / processes | ms per patient (median) | ratio libRoadRunner / engine |",
        "|---|---|---|---|",
    ]
    labels = {
        "engine_1": "engine, 1 thread",
        "rr_1": "libRoadRunner, 1 process",
        "engine_2": "engine, 2 threads",
        "rr_2": "libRoadRunner, 2 processes",
    }
    ratios = result["ratio_roadrunner_over_engine"]
    for key, label in labels.items():
        ratio = ratios["1_vs_1" if key[-1] == "1" else "2_vs_2"] if key.startswith("rr") else ""
        rows.append(f"| {label} | {key[-1]} | {1e3 * med[key]:.3f} | {ratio} |")
    (OUT / "roadrunner.md").write_text("\n".join(rows) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
