"""Trial scale benchmark: one large virtual trial, its wall time and peak memory.

Run on demand (not a test)::

    python benchmarks/bench_trial_scale.py --patients 100000

Runs a bundled trial (default ``examples/trials/park2025_two_doses.yaml``) with its sample size set
to ``--patients`` into a temporary trial folder, datasets and HTML report included, and records the
wall time, the peak resident memory of the process (``getrusage``; the simulation runs in threads of
this process, so this is the whole run) and the size of what was written. The trial design asks
that a 100,000-patient trial runs in under 2 GB. Results go to
``benchmarks/results/trial_scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numba
import yaml

from immunoreset.trial.load import trial_from_text
from immunoreset.trial.run import run_trial

ROOT = Path(__file__).resolve().parents[1]
TARGET_PEAK_MB = 2048


def _folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / (2**20 if sys.platform == "darwin" else 2**10)  # bytes on macOS, KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trial", type=Path, default=ROOT / "examples/trials/park2025_two_doses.yaml")
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/trial_scale.json")
    args = ap.parse_args()

    data = yaml.safe_load(args.trial.read_text(encoding="utf-8"))
    data["sample_size"] = args.patients
    data.setdefault("replicates", {})["trials"] = 0
    trial = trial_from_text(yaml.safe_dump(data), str(args.trial), args.trial.parent)
    rss_before = _peak_rss_mb()
    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        print(f"\r{done[0]:,} patients", end="", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(tmp) / "trial"
        t0 = time.perf_counter()
        result = run_trial(trial, out_dir, chunk_size=args.chunk, progress=progress)
        seconds = time.perf_counter() - t0
        written = _folder_mb(out_dir)
    print(file=sys.stderr)
    peak = _peak_rss_mb()
    record = {
        "benchmark": "one virtual trial: simulation, endpoints, datasets and HTML report",
        "trial": str(args.trial.relative_to(ROOT)),
        "model": trial.model.name,
        "randomised_patients": int(result.subjects["randomised"].sum()),
        "evaluable_patients": int(result.outcomes["patient_id"].nunique()),
        "screened": len(result.subjects),
        "failed_integrations": result.n_failed,
        "chunk_size": args.chunk,
        "seconds": round(seconds, 1),
        "ms_per_patient": round(1e3 * seconds / args.patients, 2),
        "peak_rss_mb": round(peak, 1),
        "rss_before_trial_mb": round(rss_before, 1),
        "target_peak_mb_at_most": TARGET_PEAK_MB,
        "written_mb": round(written, 1),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "numba_threads": numba.get_num_threads(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2))
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
