"""Integrated model side by side with Park 2025 (the published SLE QSP model) at the same dose and
regimen. Differences are explained in docs/model.md ("Compared with Park 2025")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import immunoreset as ir
from immunoreset.scenario.load import load_scenario

EXAMPLES = "examples/{}.yaml"


def _peak(path: str) -> tuple[float, float]:
    root = Path(__file__).parents[3]
    table = ir.run(load_scenario(root / path)).trajectories
    table = table[table["time"] >= 0.0]
    car = table["car_t_blood"].to_numpy()
    return float(table["time"].to_numpy()[np.argmax(car)]), float(car.max())


@pytest.fixture(scope="module")
def peaks() -> dict[str, tuple[float, float]]:
    return {
        "park2025": _peak(EXAMPLES.format("park2025_sle_typical")),
        "integrated": _peak(EXAMPLES.format("integrated_cd19_41bb_erlangen")),
    }


def test_peaks_within_3_fold(peaks) -> None:
    ratio = peaks["integrated"][1] / peaks["park2025"][1]
    assert 1.0 / 3.0 <= ratio <= 3.0


def test_peak_days_within_2_days(peaks) -> None:
    assert abs(peaks["integrated"][0] - peaks["park2025"][0]) <= 2.0
