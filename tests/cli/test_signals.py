"""Ctrl-C and SIGTERM on a real process: exit 130 / 143, one line saying what was kept, no
traceback, no temporary folders; a signal during compilation is never swallowed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

TIMEOUT_S = 300  # generous: a first compilation on a slow machine takes well under a minute


def _scenario(examples_dir: Path, tmp_path: Path, size: int) -> Path:
    doc = yaml.safe_load((examples_dir / "park2025_sle_population.yaml").read_text())
    doc["population"]["size"] = size
    path = tmp_path / "pop.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _start(scenario: Path, out: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "immunoreset.cli.main", "simulate", str(scenario), "--out",
         str(out), "--no-plots", "--threads", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=os.environ | (env or {}),
    )  # fmt: skip


def _wait_for_progress(proc: subprocess.Popen) -> list[str]:
    """Read stderr until the first progress line (a chunk has been written)."""
    lines = []
    deadline = time.monotonic() + TIMEOUT_S
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if "patients (" in line:
            return lines
    pytest.fail(f"no progress line; stderr so far: {''.join(lines)}")


@pytest.mark.parametrize(
    ("sig", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_signal_during_a_run_keeps_finished_chunks(examples_dir: Path, tmp_path: Path, sig: int,
                                                   code: int, word: str) -> None:  # fmt: skip
    out = tmp_path / "run"
    proc = _start(_scenario(examples_dir, tmp_path, 2000), out)
    _wait_for_progress(proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == code, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"immunoreset: {word}; kept ") and "finish with --resume" in last
    assert "Traceback" not in err
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "interrupted" and meta["chunks_done"] >= 1
    assert not (out / ".lock").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pop.yaml", "run"]


def test_sigint_during_compilation_stops_the_run(examples_dir: Path, tmp_path: Path) -> None:
    """With an empty compile cache the first seconds are spent compiling; Ctrl-C then must stop
    the run (exit 130) and leave nothing behind."""
    out = tmp_path / "run"
    proc = _start(
        _scenario(examples_dir, tmp_path, 20), out, {"IMMUNORESET_CACHE_DIR": str(tmp_path / "c")}
    )
    time.sleep(4.0)  # imports done, compilation under way
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "immunoreset: interrupted; nothing was written"
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("sig", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_a_signal_that_surfaces_as_another_exception_is_still_a_clean_stop(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sig: int, code: int,
    word: str,
) -> None:  # fmt: skip
    """A signal arriving while a compiled function runs can come back as a SystemError (the
    function returns with the handler's exception set); that is the signal, not a bug."""
    import argparse

    from immunoreset.cli import main as cli
    from immunoreset.runs.interrupt import reset

    def run(args: argparse.Namespace) -> int:
        try:
            signal.raise_signal(sig)
        except BaseException as exc:
            raise SystemError("returned a result with an exception set") from exc
        return 0

    class Parser:
        def parse_args(self, args: list[str]) -> argparse.Namespace:
            return argparse.Namespace(run=run)

    monkeypatch.setattr(cli, "build_parser", lambda: Parser())
    try:
        assert cli.main([]) == code
    finally:
        reset()  # the recorded signal must not stop the tests that run after this one
    err = capsys.readouterr().err
    assert f"immunoreset: {word}; nothing was written" in err and "internal error" not in err
