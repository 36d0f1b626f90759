"""The million-patient run: `immunoreset simulate` of the integrated model, endpoints only.

Run on demand (not a test)::

    python benchmarks/bench_million.py --patients 1000000          # the full run
    python benchmarks/bench_million.py --patients 20000 --modes threads dask

The scenario is the Erlangen 4-1BB CD19 example of the integrated model (its population
variability, seed 1) over 730 days with daily outputs, kept as endpoints only (``store:
endpoints``) with monthly visits (day 0, 30, ..., 720): CAR PK, B-cell aplasia and return,
anti-dsDNA, IgG, CRS/ICANS, ICAHT and the SLE scores at every visit. Each mode runs the real
command line in a fresh process, after one small warm-up run that fills the compile cache:

* ``threads``: one process, the engine on 2 numba threads; the next chunk is simulated while
  the current one is scored in the main thread;
* ``dask``: ``--workers 2``, a local Dask cluster of two single-threaded worker processes, each
  simulating and scoring its own chunks.

Wall time is measured around the command; memory is the peak of the summed resident set of the
command and all its child processes (Dask workers), sampled every 0.2 s with psutil. With fewer
than a million patients the time for a million is extrapolated linearly (the work per patient does
not depend on the population size: memory is bounded by the chunk size). Results go to
``benchmarks/results/million.json`` and ``benchmarks/results/million.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "examples/integrated_cd19_41bb_erlangen.yaml"
OUT = ROOT / "benchmarks/results"
MILLION = 1_000_000
TARGET_SECONDS = 300.0
TARGET_PEAK_MB = 2048.0
CLI = [sys.executable, "-m", "immunoreset.cli.main", "simulate"]


def scenario_text(patients: int, chunk: int) -> str:
    doc = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    doc["name"] = f"integrated-million-benchmark-{patients}"
    doc["population"].update(size=patients, seed=1, variability=True)
    doc["chunk_size"] = chunk
    doc["store"] = "endpoints"
    doc["endpoints"] = {"visits": [float(d) for d in range(0, 721, 30)]}
    return yaml.safe_dump(doc, sort_keys=False)


class PeakMemory:
    """Peak of the summed resident memory of a process and its descendants (sampled)."""

    def __init__(self, pid: int, every_s: float = 0.2) -> None:
        self.root = psutil.Process(pid)
        self.every_s = every_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            total = 0
            try:
                for proc in [self.root, *self.root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += proc.memory_info().rss
            except psutil.Error:
                return
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop.wait(self.every_s)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def run_mode(mode: str, patients: int, chunk: int, folder: Path) -> dict:
    path = folder / f"{mode}-{patients}.yaml"
    path.write_text(scenario_text(patients, chunk), encoding="utf-8")
    out = folder / f"{mode}-{patients}"
    extra = ["--workers", "2"] if mode == "dask" else ["--threads", "2"]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*CLI, str(path), "--out", str(out), "--quiet", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    memory = PeakMemory(proc.pid)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - started
    peak = memory.stop()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{mode}: exit {proc.returncode}: {stderr}")
    meta = json.loads((out / "run.json").read_text())
    written = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
    per_patient_ms = seconds / patients * 1e3
    return {
        "mode": mode,
        "patients": patients,
        "chunk_size": meta["derived"]["chunk_size"],
        "seconds": round(seconds, 1),
        "ms_per_patient": round(per_patient_ms, 3),
        "failed_patients": meta.get("failed_patients", meta.get("n_failed")),
        "peak_rss_mb": round(peak, 1),
        "written_mb": round(written, 1),
        "million_seconds_extrapolated": round(per_patient_ms * MILLION / 1e3, 0),
        "stdout": stdout.strip(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=MILLION)
    ap.add_argument("--chunk", type=int, default=250)
    ap.add_argument("--modes", nargs="+", choices=("threads", "dask"), default=["threads", "dask"])
    ap.add_argument("--folder", type=Path, help="where the runs go (default: a temporary folder)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
        folder = Path(tmp)
        run_mode("threads", 4, args.chunk, folder)  # fills the compile cache (not timed)
        rows = [run_mode(mode, args.patients, args.chunk, folder) for mode in args.modes]

    result = {
        "benchmark": "immunoreset simulate, integrated model, endpoints only (store: endpoints)",
        "scenario": str(SCENARIO.relative_to(ROOT)),
        "horizon_days": 730,
        "visits": "day 0, 30, ..., 720",
        "target": {
            "patients": MILLION,
            "seconds_at_most": TARGET_SECONDS,
            "peak_mb_at_most": TARGET_PEAK_MB,
        },
        "runs": rows,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "million.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = [
        "| mode | patients | wall time | ms per patient | a million (extrapolated) | peak memory |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['mode']} | {row['patients']:,} | {row['seconds']:.0f} s | "
            f"{row['ms_per_patient']:.2f} | {row['million_seconds_extrapolated'] / 3600:.1f} h | "
            f"{row['peak_rss_mb']:.0f} MB |"
        )
    (OUT / "million.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
