"""Fixtures of the trial tests: one small trial, run once per module and shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from immunoreset.cli.main import main
from immunoreset.trial import Trial, load_trial

DATA = Path(__file__).resolve().parents[1] / "data"
SMALL = DATA / "trial_small.yaml"


@pytest.fixture(scope="session")
def small_trial() -> Trial:
    return load_trial(SMALL)


@pytest.fixture(scope="session")
def small_path() -> Path:
    return SMALL


@pytest.fixture(scope="session")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small trial run once through the CLI into a trial folder (report included)."""
    out = tmp_path_factory.mktemp("trial") / "small"
    code = main(["trial", str(SMALL), "--out", str(out), "--quiet", "--chunk-size", "5"])
    assert code in (0, 1)  # 1: a patient may fail to integrate; the rest is written
    return out
