"""Figures of a virtual-trial report, as PNG bytes (matplotlib, Agg backend).

CONSORT-style flow (Schulz KF et al., CONSORT 2010 statement, BMJ 2010;340:c332), kinetics bands
per arm, grade and activity distributions, Kaplan-Meier curves with censoring marks and numbers at
risk, and a forest plot of arm differences. Each function takes the trial's DataFrames and returns
the PNG image; nothing here reads a model or a solver.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from immunoreset.observables import OBSERVABLES
from immunoreset.report.plots import band_table, label_of

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 110
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
ACTIVITY_BANDS = (
    (0, 0, "0 (remission range)"),
    (1, 4, "1-4 low"),
    (5, 10, "5-10 moderate"),
    (11, 105, "> 10 high"),
)
"""SLEDAI-2K activity bands (docs/instruments.md, informational conventions)."""


def figure(width: float, height: float) -> Figure:
    """An empty figure of ``width`` by ``height`` inches at :data:`DPI`, constrained layout (no
    pyplot: nothing is registered or shown)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def consort(flow: dict, arms: list[dict]) -> bytes:
    """Flow of virtual patients: screened, excluded (reasons), randomised, per arm."""
    n_arms = max(1, len(arms))
    fig = figure(max(7.0, 3.2 * n_arms), 5.6)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)

    def box(x: float, y: float, text: str) -> None:
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=8.5,
            wrap=True,
            bbox={"boxstyle": "round,pad=0.4", "fc": "#f4f6fa", "ec": "#44546a"},
        )

    box(0.5, 0.92, f"Screened (n = {flow['screened']})")
    reasons = "\n".join(f"{r}: {n}" for r, n in flow["reasons"].items() if n) or "none"
    box(0.82, 0.74, f"Excluded (n = {flow['excluded']})\n{reasons}")
    box(
        0.5,
        0.56,
        f"Randomised (n = {flow['randomised']})"
        + (f"\neligible, not needed: {flow['not_needed']}" if flow["not_needed"] else ""),
    )
    ax.annotate("", (0.5, 0.6), (0.5, 0.88), arrowprops={"arrowstyle": "->"})
    ax.annotate("", (0.69, 0.74), (0.5, 0.74), arrowprops={"arrowstyle": "->"})
    for i, arm in enumerate(arms):
        x = (i + 0.5) / n_arms
        ax.annotate("", (x, 0.36), (0.5, 0.52), arrowprops={"arrowstyle": "->"})
        box(x, 0.3, f"{arm['name']}\nallocated: {arm['allocated']}")
        ax.annotate("", (x, 0.17), (x, 0.26), arrowprops={"arrowstyle": "->"})
        box(
            x,
            0.1,
            f"lost to follow-up: {arm['lost']}\nsimulation failed: {arm['failed']}\n"
            f"analysed: {arm['analysed']}",
        )
    return png(fig)


def kinetics(bands: pd.DataFrame, output: str, names: dict[str, str]) -> bytes:
    """Median and 5-95 % band of ``output`` over time, one colour per arm."""
    fig = figure(7.5, 3.4)
    early, whole = fig.subplots(1, 2, width_ratios=(1, 2))
    log = False
    for i, (code, rows) in enumerate(bands.groupby("arm", sort=False)):
        table = band_table(rows[["patient_id", "time", output]], output)
        positive = table["p95"].to_numpy()
        log = log or bool(
            np.nanmax(positive) / max(np.nanmin(positive[positive > 0]), 1e-300) > 100
            if np.any(positive > 0)
            else False
        )
        colour = COLOURS[i % len(COLOURS)]
        for ax, last in ((early, 60.0), (whole, np.inf)):
            t = table[table["time"] <= last]
            ax.fill_between(t["time"], t["p05"], t["p95"], color=colour, alpha=0.18, lw=0)
            ax.plot(
                t["time"],
                t["median"],
                color=colour,
                lw=1.6,
                label=f"{names.get(code, code)} (n = {rows['patient_id'].nunique()})",
            )
    for ax, title in ((early, "first 60 days"), (whole, "whole follow-up")):
        if log:
            ax.set_yscale("symlog", linthresh=1e-2)
        ax.set_xlabel("day after infusion")
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle(label_of(output), fontsize=9.5)
    early.set_ylabel(OBSERVABLES[output].unit if output in OBSERVABLES else "")
    whole.legend(fontsize=7.5, loc="best")
    return png(fig)


def activity(visits: pd.DataFrame) -> bytes:
    """Share of patients in each SLEDAI-2K activity band at each visit, per arm."""
    arms = list(dict.fromkeys(visits["arm"]))
    days = sorted(visits["visit_day"].unique())
    fig = figure(max(6.0, 1.2 * len(days) * len(arms)), 3.6)
    ax = fig.add_subplot()
    score = pd.to_numeric(visits["sledai_2k"].astype("Float64"), errors="coerce")
    greys = ("#2ca02c", "#bcbd22", "#ff7f0e", "#d62728")
    labels, x = [], 0
    for day in days:
        for arm in arms:
            sel = (visits["visit_day"] == day) & (visits["arm"] == arm) & score.notna()
            n = int(sel.sum())
            bottom = 0.0
            for j, (lo, hi, label) in enumerate(ACTIVITY_BANDS):
                share = float(((score[sel] >= lo) & (score[sel] <= hi)).sum()) / n if n else 0.0
                ax.bar(
                    x,
                    share,
                    bottom=bottom,
                    color=greys[j],
                    width=0.8,
                    label=label if x == 0 else None,
                )
                bottom += share
            labels.append(f"d{day:g}\n{arm}")
            x += 1
        x += 0.5
    ticks = [i + 0.5 * (i // len(arms)) for i in range(len(labels))]
    ax.set_xticks(ticks, labels, fontsize=7)
    ax.set_ylabel("share of attended visits")
    ax.set_title("SLEDAI-2K activity bands by visit and arm", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return png(fig)


def grades(patients: pd.DataFrame, column: str, title: str, names: dict[str, str]) -> bytes:
    """Distribution of the worst grade (0-5) per arm."""
    fig = figure(6.0, 3.2)
    ax = fig.add_subplot()
    grade = pd.to_numeric(patients[column].astype("Float64"), errors="coerce")
    arms = list(dict.fromkeys(patients["arm"]))
    width = 0.8 / max(1, len(arms))
    for i, arm in enumerate(arms):
        g = grade[(patients["arm"] == arm).to_numpy()].dropna()
        shares = [float((g == k).mean()) if len(g) else 0.0 for k in range(6)]
        ax.bar(
            np.arange(6) + i * width,
            shares,
            width=width,
            color=COLOURS[i % len(COLOURS)],
            label=f"{names.get(arm, arm)} (n = {len(g)})",
        )
    ax.set_xticks(np.arange(6) + 0.4 - width / 2, [f"grade {k}" for k in range(6)])
    ax.set_ylabel("share of patients")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7.5)
    return png(fig)


def km(
    curves: pd.DataFrame,
    outcomes: pd.DataFrame,
    title: str,
    names: dict[str, str],
    cumulative: bool = False,
) -> bytes:
    """Kaplan-Meier curves (or 1 - KM for events that are good news) with censoring marks."""
    fig = figure(6.5, 3.8)
    ax, table = fig.subplots(2, 1, height_ratios=(4, 1), sharex=True)
    horizon = float(outcomes["time"].max()) if len(outcomes) else 1.0
    ticks = np.linspace(0, horizon, 5)
    for i, (arm, curve) in enumerate(curves.groupby("arm", sort=False)):
        colour = COLOURS[i % len(COLOURS)]
        t = np.append(curve["time"].to_numpy(), horizon)
        s = np.append(curve["survival"].to_numpy(), curve["survival"].iat[-1])
        y = 1 - s if cumulative else s
        ax.step(t, y, where="post", color=colour, lw=1.6, label=names.get(arm, arm))
        rows = outcomes[outcomes["arm"] == arm]
        cens = rows.loc[rows["event"] == 0, "time"].to_numpy()
        at = np.searchsorted(curve["time"].to_numpy(), cens, side="right") - 1
        yc = curve["survival"].to_numpy()[np.clip(at, 0, None)]
        ax.plot(cens, 1 - yc if cumulative else yc, "|", color=colour, ms=7)
        risk = [int((rows["time"] >= x).sum()) for x in ticks]
        for x, n in zip(ticks, risk, strict=True):
            table.text(x, i, str(n), ha="center", va="center", fontsize=7.5, color=colour)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("cumulative incidence" if cumulative else "probability event-free")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7.5)
    ax.grid(alpha=0.3)
    table.set_ylim(-0.5, max(0.5, curves["arm"].nunique() - 0.5))
    table.set_yticks(range(curves["arm"].nunique()), list(dict.fromkeys(curves["arm"])), fontsize=7)
    table.set_xlabel("day after infusion (numbers at risk below)")
    return png(fig)


def forest(diffs: pd.DataFrame, labels: dict[str, str], names: dict[str, str]) -> bytes:
    """Rate differences with their Newcombe intervals, one row per endpoint and arm; the arms are
    named by code (the legend below the axis names them in full)."""
    rows = diffs[diffs["kind"] == "binary"].reset_index(drop=True)
    fig = figure(7.0, 1.2 + 0.45 * max(1, len(rows)))
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    ax.errorbar(
        rows["estimate"],
        y,
        xerr=[rows["estimate"] - rows["low"], rows["high"] - rows["estimate"]],
        fmt="s",
        color="#1f3b73",
        capsize=3,
    )
    ax.axvline(0, color="grey", lw=1, ls="--")
    ticks = [
        f"{labels.get(r.endpoint, r.endpoint)}\n{r.arm} vs {r.control}" for r in rows.itertuples()
    ]
    ax.set_yticks(y, ticks, fontsize=7.5)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    legend = "; ".join(f"{code} = {name}" for code, name in names.items())
    ax.set_xlabel(f"difference in rates, 95 % Newcombe interval\n{legend}", fontsize=8)
    ax.set_xlim(-1, 1)
    ax.grid(alpha=0.3, axis="x")
    return png(fig)
