"""Ctrl-C and SIGTERM during a trial on a real process: exit 130 / 143, one line, no traceback,
and nothing left at --out or next to it (the trial folder appears only when complete)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

TIMEOUT_S = 300  # generous: a loaded machine may need a first compilation


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_leaves_nothing(small_path: Path, tmp_path: Path, sig: int, code: int) -> None:
    doc = yaml.safe_load(small_path.read_text())
    doc.update(sample_size=400, chunk_size=10)
    trial = tmp_path / "t.yaml"
    trial.write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "immunoreset.cli.main",
            "trial",
            str(trial),
            "--out",
            str(out),
            "--threads",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:  # wait for the first progress line: arms are running
        if "patients (" in proc.stderr.readline():
            break
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert (
        len(
            [
                ln
                for ln in err.splitlines()
                if "error" in ln or "interrupted" in ln or "terminated" in ln
            ]
        )
        == 1
    ), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.yaml"]
