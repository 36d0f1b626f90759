"""Plots a reader can use: an early panel, display names with units, reference lines, failed
patients said, no band legend without a band, bands clipped to the plotted range."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunoreset.report.plots import EARLY_DAYS, figure_for


def _table(n_patients: int) -> pd.DataFrame:
    t = np.arange(0.0, 366.0)
    rows = []
    for pid in range(n_patients):
        recovery = 100.0 * (1 - np.exp(-np.maximum(t - 60.0, 0.0) / 120.0))
        b = 150.0 * np.exp(-t / (2.0 + pid)) + 1e-12 + recovery
        rows.append(pd.DataFrame({"patient_id": pid, "time": t, "b_cells_blood": b}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_population_figure() -> None:
    status = pd.DataFrame({"patient_id": range(10), "status": [0] * 8 + [1, 1]})
    fig = figure_for(_table(10), "b_cells_blood", status)
    early, whole = fig.axes
    assert early.get_xlim()[1] <= EARLY_DAYS + 5 and whole.get_xlim()[1] > 300
    assert early.get_ylabel() == "CD19+ B cells in peripheral blood [cells/uL]"
    labels = [t.get_text() for t in early.get_legend().get_texts()]
    assert "5-95 %" in labels and "B-cell aplasia (< 1 cell/uL)" in labels
    assert "n = 8; 2 failed patient(s) not shown" in fig._suptitle.get_text()
    assert early.get_yscale() == "log"
    bottom = early.get_ylim()[0]
    assert bottom > 1e-12  # the 1e-12 tails are clipped, not stretched over 14 decades
    band = early.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() >= bottom * (1 - 1e-9)


def test_single_patient_has_no_band() -> None:
    fig = figure_for(_table(1), "b_cells_blood")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "5-95 %" not in labels and "patient" in labels
    assert "1 patient" in fig._suptitle.get_text()


def test_all_failed_says_so() -> None:
    status = pd.DataFrame({"patient_id": [0, 1], "status": [3, 3]})
    fig = figure_for(_table(2), "b_cells_blood", status)
    assert "2 failed patient(s)" in fig.axes[0].texts[0].get_text()
