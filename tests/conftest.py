"""Shared fixtures: example scenarios and the test data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# Property tests explore a fixed, reproducible set of examples: a failure seen in CI is the same
# failure on a developer's machine.
settings.register_profile("reproducible", derandomize=True, deadline=None)
settings.load_profile("reproducible")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return ROOT / "examples"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return Path(__file__).parent / "data"
