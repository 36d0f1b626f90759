"""Population plots from result tables: median and 5-95 % band of an output over time.

Each figure has two panels: the first 60 days on their own (expansion, depletion and toxicity
happen there and would be a sliver of a two-year axis) and the whole horizon. Axes carry display
names with units; clinical reference lines and ranges (:mod:`.reference`) are drawn where they
exist; failed patients are left out of the band and said in the title; a single patient is drawn
as a line without a band. Cell counts and concentrations spanning decades use a log axis, and
the band is clipped to the plotted range. Plots read result tables only (``trajectories`` and the
patients' status), never model or solver internals.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from immunoreset.observables import OBSERVABLES
from immunoreset.report.reference import LINES, RANGES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

BAND = (0.05, 0.95)
EARLY_DAYS = 60.0
MAX_PLOT_PATIENTS = 20_000
"""Bands are drawn from the first patients of a run only (ids are random draws, so the first 20,000
are a random sample); the 5-95 % band of 20,000 patients is within about 0.3 percentile points of the
population's."""
LOG_DECADES = 8.0
"""A log axis shows at most this many decades below the band's top: deeper values are clipped."""


def band_table(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per time point: 5th percentile, median, 95th percentile and the number of patients."""
    wide = table.pivot(index="time", columns="patient_id", values=column).to_numpy()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN time points give NaN, by design
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


def label_of(column: str) -> str:
    """Display name with unit (the code name if the output is not in the vocabulary)."""
    obs = OBSERVABLES.get(column)
    return obs.label if obs else column


def _draw(ax: Axes, bands: pd.DataFrame, column: str, single: bool, log: bool) -> None:
    t = bands["time"].to_numpy()
    lo, med, hi = (bands[k].to_numpy(dtype=float) for k in ("p05", "median", "p95"))
    if log:
        top = np.nanmax(hi[hi > 0]) if np.any(hi > 0) else 1.0
        bottom = top * 10.0**-LOG_DECADES
        lo, med, hi = (np.clip(v, bottom, None) for v in (lo, med, hi))
        ax.set_yscale("log")
        ax.set_ylim(bottom=bottom, top=top * 2.0)
    if single:
        ax.plot(t, med, lw=1.6, label="patient")
    else:
        ax.fill_between(t, lo, hi, alpha=0.3, label="5-95 %")
        ax.plot(t, med, lw=1.6, label="median")
    for line in LINES.get(column, ()):
        ax.axhline(line.value, color="0.3", lw=0.9, ls="--", label=line.label)
    if column in RANGES:
        r = RANGES[column]
        ax.axhspan(r.low, r.high, color="tab:green", alpha=0.08, label=r.label)
    ax.grid(alpha=0.3)


def figure_for(table: pd.DataFrame, column: str, status: pd.DataFrame | None = None) -> Figure:
    """A two-panel figure (first 60 days, whole horizon) of ``column`` in ``table``.

    ``status`` (``patient_id``, ``status``) marks failed patients, which are left out and counted
    in the title.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; no display is needed or assumed
    import matplotlib.pyplot as plt

    n_failed = 0
    if status is not None:
        failed = status.loc[status["status"] != 0, "patient_id"]
        n_failed = len(failed)
        table = table[~table["patient_id"].isin(failed)]
    if table.empty:
        fig, ax = plt.subplots(figsize=(9.0, 3.8), dpi=110)
        ax.text(0.5, 0.5, f"no patient to show: {n_failed} failed patient(s)", ha="center",
                va="center", transform=ax.transAxes)  # fmt: skip
        ax.set_axis_off()
        fig.suptitle(label_of(column), fontsize=10)
        return fig
    bands = band_table(table[["patient_id", "time", column]], column)
    n = int(bands["n"].max()) if len(bands) else 0
    single = n <= 1
    log = _log_axis(bands[["p05", "median", "p95"]].to_numpy())
    fig, (early, whole) = plt.subplots(
        1, 2, figsize=(9.0, 3.8), dpi=110, gridspec_kw={"width_ratios": [1, 1.6]}
    )
    early_rows = bands[bands["time"] <= EARLY_DAYS]
    _draw(early, early_rows if len(early_rows) > 1 else bands, column, single, log)
    _draw(whole, bands, column, single, log)
    early.set_title(f"first {EARLY_DAYS:g} days", fontsize=9)
    whole.set_title("whole horizon", fontsize=9)
    for ax in (early, whole):
        ax.set_xlabel("time since infusion (day)")
    early.set_ylabel(label_of(column))
    early.legend(fontsize=7, loc="best")
    who = "1 patient" if single else f"n = {n}"
    if n_failed:
        who += f"; {n_failed} failed patient(s) not shown"
    obs = OBSERVABLES.get(column)
    fig.suptitle(f"{obs.description if obs else column} ({who})", fontsize=10)
    fig.tight_layout()
    return fig


def plot_run(run_dir: Path, columns: list[str]) -> list[Path]:
    """Figures for ``columns`` of a run directory, written to ``run_dir/plots/COLUMN.png``."""
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    out = run_dir / "plots"
    out.mkdir(exist_ok=True)
    status = pd.read_parquet(
        run_dir / "parameters.parquet",
        columns=["patient_id", "status"],
        filters=[("patient_id", "<", MAX_PLOT_PATIENTS)],
    )
    written = []
    for column in columns:
        table = pd.read_parquet(
            run_dir / "trajectories.parquet",
            columns=["patient_id", "time", column],
            filters=[("patient_id", "<", MAX_PLOT_PATIENTS)],
        )
        fig = figure_for(table, column, status)
        path = out / f"{column}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written
