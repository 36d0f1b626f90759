"""Population plots from result tables: median and 5-95 % band of an output over time.

Plots read the run directory's ``trajectories.parquet`` (one column at a time), never solver or
model internals. Cell counts and concentrations spanning decades are drawn on a log axis.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display is needed or assumed

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from immunoreset.observables import OBSERVABLES

BAND = (0.05, 0.95)
MAX_PLOT_PATIENTS = 20_000
"""Bands are drawn from the first patients of a run only (ids are random draws, so the first 20,000
are a random sample); the 5-95 % band of 20,000 patients is within about 0.3 percentile points of the
population's."""


def band_table(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per time point: 5th percentile, median, 95th percentile and the number of patients."""
    wide = table.pivot(index="time", columns="patient_id", values=column).to_numpy()
    with np.errstate(all="ignore"):
        lo, med, hi = np.nanquantile(wide, [BAND[0], 0.5, BAND[1]], axis=1)
    return pd.DataFrame(
        {
            "time": np.sort(table["time"].unique()),
            "p05": lo,
            "median": med,
            "p95": hi,
            "n": np.sum(np.isfinite(wide), axis=1),
        }
    )


def _log_axis(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values) & (values > 0)]
    return finite.size > 0 and finite.max() / max(finite.min(), 1e-300) > 100


def plot_band(bands: pd.DataFrame, column: str, path: Path, title: str = "") -> None:
    """Write one PNG: median line and 5-95 % band of ``column`` against time (days)."""
    obs = OBSERVABLES.get(column)
    fig, ax = plt.subplots(figsize=(6.0, 3.8), dpi=110)
    ax.fill_between(bands["time"], bands["p05"], bands["p95"], alpha=0.3, label="5-95 %")
    ax.plot(bands["time"], bands["median"], lw=1.6, label="median")
    if _log_axis(bands[["p05", "median", "p95"]].to_numpy()):
        ax.set_yscale("log")
        positive = bands["p95"][bands["p95"] > 0]
        if len(positive):
            ax.set_ylim(bottom=max(bands["median"][bands["median"] > 0].min() * 1e-2,
                                   positive.max() * 1e-8))  # fmt: skip
    ax.set_xlabel("time since infusion (day)")
    label = obs.description if obs else column
    unit = obs.unit if obs else ""
    ax.set_ylabel(f"{column} ({unit})" if unit else column)
    n = int(bands["n"].max()) if len(bands) else 0
    ax.set_title(title or f"{label} (n = {n})", fontsize=9)
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_run(run_dir: Path, columns: list[str]) -> list[Path]:
    """Band plots for ``columns`` of a run directory, written to ``run_dir/plots``."""
    run_dir = Path(run_dir)
    out = run_dir / "plots"
    out.mkdir(exist_ok=True)
    written = []
    for column in columns:
        table = pd.read_parquet(
            run_dir / "trajectories.parquet",
            columns=["patient_id", "time", column],
            filters=[("patient_id", "<", MAX_PLOT_PATIENTS)],
        )
        path = out / f"{column}.png"
        plot_band(band_table(table, column), column, path)
        written.append(path)
    return written
