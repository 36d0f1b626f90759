"""What a user sees in a terminal: only the project's own lines, even when a pipe closes early or
the numbers are awkward (a real process, since warnings and broken pipes are process-level)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

CLI = [sys.executable, "-m", "immunoreset.cli.main"]


def test_params_into_a_closed_pipe_prints_no_traceback() -> None:
    """``immunoreset params park2025 | head -1``: the reader stops after one line."""
    proc = subprocess.run(
        " ".join([*CLI, "params", "park2025"]) + " | head -1",
        shell=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.stdout.count("\n") == 1
    assert proc.stderr == ""


def test_failed_patients_give_no_numpy_warnings(examples_dir: Path, tmp_path: Path) -> None:
    """Every patient fails (step limit), so plots and endpoints meet all-NaN time points: stderr
    holds only the project's lines (no "All-NaN slice" RuntimeWarning)."""
    doc = yaml.safe_load((examples_dir / "park2025_sle_population.yaml").read_text())
    doc["population"]["size"] = 3
    doc["solver"] = {"max_steps": 40}
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(doc))
    out = tmp_path / "run"
    sim = subprocess.run([*CLI, "simulate", str(scenario), "--out", str(out), "--quiet"],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert sim.returncode == 1
    end = subprocess.run([*CLI, "endpoints", str(out)], capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert end.returncode == 0
    for err in (sim.stderr, end.stderr):
        assert err, "the failures are reported"
        assert all(line.startswith("immunoreset") for line in err.splitlines()), err
