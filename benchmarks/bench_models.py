"""Model benchmark: the integrated model against Park 2025, per patient, in one run.

Run on demand (not a test)::

    python benchmarks/bench_models.py --patients 500 --repeats 3 --population 10000

Both models simulate their SLE population of the Erlangen product (1e6 CAR+ cells/kg after the
standard lymphodepletion; between-patient variability on; 730 days, daily outputs; default
tolerances rtol = atol = 1e-6) through the same engine. The two are timed in interleaved repeats
(Park, integrated, Park, ...) so a change in machine load affects both; the ratio is of the medians.
Each timing is preceded by touching twice the memory of its outputs (:mod:`vm_memory`: on this
project's virtual machine fresh memory otherwise costs the integrated model, with 52 daily
outputs, up to a millisecond per patient, which has nothing to do with the model).
The integrated model's population of ``--population`` patients is then run once to count failed
integrations (the model's acceptance asks for none in 10,000). Results go to
``benchmarks/results/models.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numba
import numpy as np

from immunoreset.runs.inputs import prepare
from immunoreset.scenario.load import load_scenario
from immunoreset.simulate.engine import simulate
from vm_memory import touch

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {
    "park2025": ROOT / "examples" / "park2025_sle_population.yaml",
    "integrated": ROOT / "examples" / "integrated_cd19_41bb_erlangen.yaml",
}


def _inputs(model: str, n: int, seed: int = 1):
    scenario = load_scenario(SCENARIOS[model])
    pop = scenario.population.model_copy(update={"size": n, "seed": seed, "variability": True})
    scenario = scenario.model_copy(update={"population": pop, "horizon_days": 730})
    return prepare(scenario)


def _run(inputs, ids: np.ndarray) -> tuple[float, int, float]:
    """Seconds, failed patients and mean accepted steps for patients ``ids``."""
    params = inputs.parameters(ids)
    touch(2 * len(ids) * len(inputs.times) * len(inputs.model.observables))
    t0 = time.perf_counter()
    res = simulate(
        inputs.model, params, inputs.events(params), inputs.times, inputs.settings,
        inputs.t_start, ids, inputs.model.typical_parameters(inputs.overrides),
    )  # fmt: skip
    return (
        time.perf_counter() - t0,
        int(np.count_nonzero(res.status)),
        float(res.stats[:, 0].mean()),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--population", type=int, default=10000)
    ap.add_argument("--chunk", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "models.json")
    args = ap.parse_args()

    inputs = {m: _inputs(m, max(args.patients, args.population)) for m in SCENARIOS}
    for inp in inputs.values():  # compile or load the cached integrators before timing
        _run(inp, np.arange(2))
    times: dict[str, list[float]] = {m: [] for m in SCENARIOS}
    steps: dict[str, float] = {}
    ids = np.arange(args.patients)
    for r in range(args.repeats):
        for m, inp in inputs.items():
            seconds, failed, steps[m] = _run(inp, ids)
            times[m].append(1e3 * seconds / args.patients)
            print(f"repeat {r + 1}: {m} {times[m][-1]:.2f} ms/patient, {failed} failed", flush=True)
    median = {m: statistics.median(v) for m, v in times.items()}
    failed = 0
    t0 = time.perf_counter()
    for start in range(0, args.population, args.chunk):
        chunk = np.arange(start, min(args.population, start + args.chunk))
        failed += _run(inputs["integrated"], chunk)[1]
    population_s = time.perf_counter() - t0
    result = {
        "benchmark": "integrated vs park2025: Erlangen product in SLE, 730 days, daily outputs",
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "numba_threads": numba.get_num_threads(),
        },
        "tolerances": {"rtol": 1e-6, "atol": 1e-6},
        "jacobian": inputs["integrated"].settings.jacobian,
        "patients_per_repeat": args.patients,
        "ms_per_patient": {m: [round(v, 3) for v in times[m]] for m in SCENARIOS},
        "median_ms_per_patient": {m: round(v, 3) for m, v in median.items()},
        "mean_accepted_steps": {m: round(v, 1) for m, v in steps.items()},
        "integrated_over_park2025": round(median["integrated"] / median["park2025"], 2),
        "target_ratio_at_most": 3.0,
        "integrated_population": {
            "patients": args.population,
            "failed": failed,
            "seconds": round(population_s, 1),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
