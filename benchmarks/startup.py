"""Start-up time: how long a fresh process takes to reach its first simulated patient.

Each measurement is a new Python process that imports immunoreset, loads a one-patient scenario and
simulates it into a run directory as ``immunoreset simulate`` does; the time is taken from just
before the process is started to the moment its first patient is done (interpreter start-up,
imports, compile or cache load, and the patient; writing the tables and plots comes after). The
first process of a model meets an empty compile cache (a fresh temporary ``IMMUNORESET_CACHE_DIR``);
the following ones load the cached integrator. Used by ``bench_engine.py``; runnable alone, then
writing ``benchmarks/results/startup.json``::

    python benchmarks/startup.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {
    "stein2019": "stein2019_typical.yaml",
    "park2025": "park2025_sle_typical.yaml",
    "integrated": "integrated_cd19_41bb_erlangen.yaml",
}

CHILD = r"""
import sys
import immunoreset as ir
scenario = ir.load_scenario(sys.argv[1])
ir.run_to_directory(scenario, sys.argv[2], plots=False,
                    progress=lambda n: print("first patient done", flush=True))
"""


def _one(scenario: Path, cache: Path) -> float:
    env = os.environ | {"IMMUNORESET_CACHE_DIR": str(cache)}
    with tempfile.TemporaryDirectory(prefix="immunoreset-startup-") as tmp:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(scenario), str(Path(tmp) / "run")], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - start
        proc.wait()
    if "first patient done" not in line or proc.returncode != 0:
        raise RuntimeError(f"start-up run failed: {line!r}")
    return elapsed


def measure(repeats: int = 3) -> dict[str, dict[str, object]]:
    """Cold and cached start-up seconds per example model."""
    out: dict[str, dict[str, object]] = {}
    for model, name in EXAMPLES.items():
        with tempfile.TemporaryDirectory(prefix="immunoreset-cache-") as cache:
            cold = _one(ROOT / "examples" / name, Path(cache))
            warm = [_one(ROOT / "examples" / name, Path(cache)) for _ in range(repeats)]
        out[model] = {
            "cold_seconds": round(cold, 2),
            "cached_seconds": [round(w, 2) for w in warm],
            "cached_median_seconds": round(statistics.median(warm), 2),
            "target_cached_seconds": 2.0,
            "target_cold_seconds": 15.0,
        }
        print(model, out[model], flush=True)
    return out


if __name__ == "__main__":
    result = {
        "benchmark": "fresh process to first simulated patient (benchmarks/startup.py), "
        f"{os.cpu_count()}-core machine",
        **measure(),
    }
    text = json.dumps(result, indent=2) + "\n"
    (ROOT / "benchmarks" / "results" / "startup.json").write_text(text, encoding="utf-8")
    print(text)
