"""Engine speed of this checkout against an earlier revision, interleaved in one run.

Run on demand (not a test)::

    python benchmarks/bench_revisions.py --base 6990511 --patients 300 --repeats 5

The earlier revision is checked out in a temporary git worktree (removed afterwards). Each repeat
runs one fresh Python process per revision, alternating which goes first, so that machine load
drifts affect both alike. Every process simulates the same Park 2025 patients (log-normal
variability, seed 1, 730 days, daily outputs, rtol = atol = 1e-6) on one thread, after a warm-up
batch that compiles the engine, and reports wall and CPU milliseconds per patient. The result is
the ratio of the fastest CPU times (this checkout / base; the minimum over repeats is the estimate
least disturbed by other load on the machine): below 1.05 means "no more than 5 % slower".

Results are written as JSON to ``benchmarks/results/revisions.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import numpy as np
from immunoreset.model.registry import get_model
from immunoreset.population.sampling import sample_parameters
from immunoreset.simulate.engine import SolverSettings, simulate
from immunoreset.therapy.regimen import Infusion, LymphodepletionDose, ProductDose, Regimen, dosing_events

n = int(sys.argv[1])
model = get_model("park2025")
regimen = Regimen((Infusion(0.0),), (LymphodepletionDose(0.0, 1935.0),))
params = sample_parameters(model, np.arange(n), 1, variability=True)
events = dosing_events(model, ProductDose(1e6, "cells/kg"), regimen,
                       params[:, model.parameter_names.index("weight_kg")])
t_out = np.arange(0.0, 731.0)
settings = SolverSettings(rtol=1e-6, atol=1e-6)
simulate(model, params[:2], dosing_events(model, ProductDose(1e6, "cells/kg"), regimen,
         params[:2, model.parameter_names.index("weight_kg")]), t_out, settings)  # compile
start, cpu = time.perf_counter(), time.process_time()
res = simulate(model, params, events, t_out, settings)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"ms_per_patient": 1000 * seconds / n, "cpu_ms_per_patient": 1000 * cpu / n,
                  "failed": int((res.status != 0).sum()), "steps": float(res.stats[:, 0].mean())}))
"""


def _measure(src: Path, n: int, cache: Path) -> dict[str, float]:
    env = os.environ | {
        "PYTHONPATH": str(src),
        "NUMBA_NUM_THREADS": "1",
        "IMMUNORESET_CACHE_DIR": str(cache),
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="git revision to compare against")
    ap.add_argument("--patients", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "revisions.json")
    args = ap.parse_args()
    base_rev = subprocess.run(
        ["git", "rev-parse", "--short", args.base], cwd=ROOT, check=True, capture_output=True,
        text=True,
    ).stdout.strip()  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="immunoreset-bench-") as tmp:
        tree = Path(tmp) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), base_rev],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        try:
            runs: dict[str, list[dict[str, float]]] = {"current": [], "base": []}
            sources = {"current": ROOT / "src", "base": tree / "src"}
            for rep in range(args.repeats):
                order = ["current", "base"] if rep % 2 == 0 else ["base", "current"]
                for name in order:
                    runs[name].append(
                        _measure(sources[name], args.patients, Path(tmp) / f"cache-{name}")
                    )
                    print(name, runs[name][-1], flush=True)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False
            )
    med = {k: statistics.median(r["ms_per_patient"] for r in v) for k, v in runs.items()}
    best = {k: min(r["cpu_ms_per_patient"] for r in v) for k, v in runs.items()}
    result = {
        "benchmark": "Park 2025, 730 days, daily outputs, rtol = atol = 1e-6, one thread",
        "base_revision": base_rev,
        "patients": args.patients,
        "repeats": args.repeats,
        "platform": platform.platform(),
        "ms_per_patient": {k: [round(r["ms_per_patient"], 4) for r in v] for k, v in runs.items()},
        "median_ms_per_patient": {k: round(v, 4) for k, v in med.items()},
        "cpu_ms_per_patient": {
            k: [round(r["cpu_ms_per_patient"], 4) for r in v] for k, v in runs.items()
        },
        "min_cpu_ms_per_patient": {k: round(v, 4) for k, v in best.items()},
        "ratio_current_over_base": round(best["current"] / best["base"], 4),
        "ratio_of_median_wall_times": round(med["current"] / med["base"], 4),
        "mean_accepted_steps": {k: v[0]["steps"] for k, v in runs.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
