"""The calibration credibility report: one self-contained HTML page that opens offline.

The page gathers the evidence a reader needs to judge whether a calibrated model is credible
enough for a question, in the order of the credibility framing of ASME V&V 40-2018, the FDA 2023
guidance on computational modelling in medical device submissions and Musuamba et al. 2021 (CPT
Pharmacometrics Syst Pharmacol 10:804): 1. context of use and question, 2. verification,
3. calibration (data, estimates, convergence, correlation, profiles, fit to summary and individual
data, visual predictive check), 4. sensitivity, 5. validation against external data,
6. provenance. Section 1 also summarises the evidence of the others at a glance.

The report reads only the files of a calibration folder (the tables the calibration run writes,
``docs/credibility.md``); it imports no engine, model or calibration code. Every section is
present whatever the folder holds: an optional file that is absent gives a one-line "not run"
message saying why, a file that cannot be used gives a "not shown" message naming the problem.
Figures are PNG images (matplotlib) embedded as base64 data URLs and also written to
``figures/``; the page has no script and no external URL. The page helpers (stylesheet, tables,
figure embedding) are those of :mod:`immunoreset.report.html`, shared with the trial report.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from immunoreset.report.html import Figures, Markup, document, escape, fmt, table
from immunoreset.report.plots import label_of
from immunoreset.report.trial_figures import COLOURS, figure, png

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["write_credibility_report"]

REPORT = "report.html"
FIGURES = "figures"
FIGURE_PREFIX = "credibility_"
"""Figures of this report are named ``credibility_NN_<name>.png``; earlier ones are replaced."""
R_FLAG = 0.9
"""Estimates whose correlation exceeds this in absolute value are flagged: the data do not
separate them."""
PROFILE_THRESHOLD = 1.920729410347062
"""chi2(1, 0.95) / 2: a profile below it is inside the likelihood-ratio 95 % interval."""
WIDE_FOLD = 100.0
"""A log-scale estimate whose 95 % interval spans more than this factor is flagged as poorly
identified."""
MAX_PANELS = 12
"""At most this many panels (parameters, observables, outputs) per figure."""

ESTIMATES = ("parameter", "estimate", "lower_95", "upper_95")
CONVERGENCE = ("start", "nll", "success")
TARGETS = ("target", "loglik")
PREDICTIONS = ("subject", "time", "name", "value", "pred")
VPC = ("name", "time", "p05", "p50", "p95")
PROFILES = ("parameter", "value", "delta")
LOCAL = ("parameter", "output", "sensitivity")
VERIFICATION = ("check", "passed")
VALIDATION = ("dataset", "quantity", "observed", "predicted")

MISSING = "every calibration writes it; the run may not have finished"

SECTIONS = (
    ("context", "1. Context of use and question"),
    ("verification", "2. Verification"),
    ("calibration", "3. Calibration"),
    ("sensitivity", "4. Sensitivity"),
    ("validation", "5. Validation"),
    ("provenance", "6. Provenance"),
)


def _p(text: str, css: str = "") -> str:
    """A paragraph of plain text (escaped here); spans in backticks are set as code."""
    attr = f' class="{css}"' if css else ""
    body = re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))
    return f"<p{attr}>{body}</p>"


def _not_run(reason: str) -> str:
    """The line of a section whose optional data file is absent."""
    return _p(f"not run: {reason}", "notrun")


def _not_shown(reason: str) -> str:
    """The line of a section whose data file cannot be used."""
    return _p(f"not shown: {reason}", "notrun")


def _bools(values: pd.Series) -> pd.Series:
    """True/False, 1/0, yes/no (any case) as booleans; anything else is False."""
    if values.dtype == bool:
        return values
    text = values.astype(str).str.strip().str.lower()
    return text.isin(("true", "1", "1.0", "yes", "y", "t"))


def _numbers(values: pd.Series) -> np.ndarray:
    """The column as floats; text that is not a number becomes NaN."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _verdict(ok: bool, yes: str = "pass", no: str = "fail") -> Markup:
    """``yes`` in green when ``ok``, else ``no`` in red."""
    return Markup(f'<span class="{"ok" if ok else "no"}">{escape(yes if ok else no)}</span>')


def _sha256(path: Path) -> str:
    """The SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Read:
    """A table of the folder, or why there is none (``absent`` when the file is not there)."""

    frame: pd.DataFrame | None
    reason: str = ""
    absent: bool = False

    def message(self, why_absent: str, required: bool = False) -> str:
        """The one-line message of a section without this table: "not run" for an optional file
        that is absent, "not shown" for a required one or a file that cannot be used."""
        if self.absent:
            text = f"{self.reason} ({why_absent})" if why_absent else self.reason
            return _not_shown(text) if required else _not_run(text)
        return _not_shown(self.reason)


def _read(folder: Path, name: str, columns: Iterable[str], index_col: int | None = None) -> _Read:
    """A CSV file of the folder with the columns it must have, or the reason it cannot be used."""
    path = folder / name
    if not path.is_file():
        return _Read(None, f"{name} absent", absent=True)
    try:
        frame = pd.read_csv(path, index_col=index_col)
    except pd.errors.EmptyDataError:
        return _Read(None, f"{name} is empty")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        return _Read(None, f"{name} could not be read ({exc})")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        return _Read(None, f"{name} lacks the column(s) {', '.join(missing)}")
    if frame.empty:
        return _Read(None, f"{name} has no rows")
    return _Read(frame)


# ----------------------------------------------------------------------------------------------
# Figures (PNG bytes)


def _grid(n: int, ncol: int, width: float, height: float) -> tuple[Figure, list[Axes]]:
    """A figure with ``n`` panels in rows of ``ncol``; unused panels are hidden."""
    ncol = max(1, min(ncol, n))
    nrow = math.ceil(n / ncol)
    fig = figure(width * ncol + 0.6, height * nrow + 0.4)
    axes = list(np.ravel(fig.subplots(nrow, ncol, squeeze=False)))
    for ax in axes[n:]:
        ax.set_axis_off()
    return fig, axes[:n]


def _log_ok(*arrays: np.ndarray) -> bool:
    """Whether every finite value is > 0 (a log axis then shows all of them)."""
    values = np.concatenate([np.ravel(a) for a in arrays])
    values = values[np.isfinite(values)]
    return values.size > 0 and bool(np.all(values > 0))


def _display(name: str, unit: str = "") -> str:
    """Display name with unit: the observable's own label, else the name and the given unit."""
    label = label_of(name)
    return f"{label} [{unit}]" if label == name and unit else label


def waterfall_png(nll: np.ndarray, n_converged: int) -> bytes:
    """Final objective of each start, sorted, over the best (a 'waterfall' plot; Raue et al. 2013):
    a plateau of starts at 0 is the usual evidence of a global optimum."""
    from matplotlib.ticker import MaxNLocator

    finite = np.sort(nll[np.isfinite(nll)])
    fig = figure(6.0, 3.0)
    ax = fig.add_subplot()
    rank = np.arange(1, finite.size + 1)
    delta = finite - finite[0]
    ax.step(rank, delta, where="mid", color="#c8cfdc", lw=1)
    good = rank <= n_converged
    ax.scatter(rank[good], delta[good], color="#1b7d2b", s=22, zorder=3, label="reached the best")
    ax.scatter(rank[~good], delta[~good], color="#44546a", s=22, zorder=3, label="other starts")
    ax.set_yscale("symlog", linthresh=0.1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("start, sorted by final objective")
    ax.set_ylabel("NLL - best NLL")
    failed = int(np.sum(~np.isfinite(nll)))
    ax.set_title(
        f"{n_converged} of {nll.size} starts reached the best objective"
        + (f"; {failed} without a finite objective" if failed else ""),
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5)
    return png(fig)


def profiles_png(profiles: pd.DataFrame, estimates: dict[str, float], log: set[str]) -> bytes:
    """Profile likelihood of each parameter (NLL over the optimum) with the 95 % threshold."""
    from matplotlib.ticker import NullFormatter

    names = list(dict.fromkeys(profiles["parameter"]))[:MAX_PANELS]
    fig, axes = _grid(len(names), 3, 3.0, 2.5)
    for ax, name in zip(axes, names, strict=True):
        rows = profiles[profiles["parameter"] == name].sort_values("value")
        x, y = _numbers(rows["value"]), _numbers(rows["delta"])
        ax.plot(x, y, "o-", ms=3, color=COLOURS[0], lw=1.4)
        ax.axhline(PROFILE_THRESHOLD, color="#b3261e", lw=1, ls="--", label="95 % (1.92)")
        if name in estimates and math.isfinite(estimates[name]):
            ax.axvline(estimates[name], color="grey", lw=1, ls=":", label="estimate")
        if name in log and _log_ok(x) and np.nanmax(x) > 10.0 * np.nanmin(x):
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.tick_params(labelsize=7)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("fixed value", fontsize=8)
        ax.set_ylabel("NLL - best", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    return png(fig)


def fit_png(pred: pd.DataFrame) -> bytes:
    """Per observable: observed against predicted (identity line; BLQ samples at their LLOQ) and
    the residuals of quantified samples over time."""
    names = list(dict.fromkeys(pred["name"]))[:MAX_PANELS]
    fig = figure(8.5, 2.7 * len(names) + 0.4)
    axes = fig.subplots(len(names), 2, squeeze=False)
    for (left, right), name in zip(axes, names, strict=True):
        rows = pred[pred["name"] == name]
        blq = _bools(rows["blq"]) if "blq" in rows else pd.Series(False, index=rows.index)
        q, b = rows[~blq], rows[blq]
        unit = str(rows["unit"].iat[0]) if "unit" in rows else ""
        qx, qy = _numbers(q["pred"]), _numbers(q["value"])
        bx, by = _numbers(b["pred"]), _lloq(b)
        left.scatter(qx, qy, s=14, color=COLOURS[0], label="quantified")
        if len(b):
            left.scatter(
                bx,
                by,
                s=22,
                marker="v",
                facecolors="none",
                edgecolors=COLOURS[1],
                label="BLQ (at LLOQ)",
            )
        both = np.concatenate([qx, qy, bx, by])
        both = both[np.isfinite(both)]
        if _log_ok(both):
            left.set_xscale("log")
            left.set_yscale("log")
        if both.size:
            lims = (both.min(), both.max())
            left.plot(lims, lims, color="grey", lw=1, ls="--")
        left.set_xlabel("predicted", fontsize=8)
        left.set_ylabel("observed", fontsize=8)
        left.set_title(_display(name, unit), fontsize=8.5)
        left.legend(fontsize=7)
        left.grid(alpha=0.3)
        if _residual(q) is not None:
            right.scatter(_numbers(q["time"]), _numbers(q[_residual(q)]), s=14, color=COLOURS[2])
        right.axhline(0, color="grey", lw=1)
        right.set_xlabel("day after infusion", fontsize=8)
        right.set_ylabel("residual", fontsize=8)
        right.set_title("residuals of quantified samples", fontsize=8.5)
        right.grid(alpha=0.3)
    return png(fig)


def _residual(rows: pd.DataFrame) -> str | None:
    """The residual column of a predictions table: ``ipred_residual``, else ``residual``."""
    return next((c for c in ("ipred_residual", "residual") if c in rows), None)


def _lloq(rows: pd.DataFrame) -> np.ndarray:
    """Where a BLQ sample is drawn: its LLOQ, else its recorded value (the LLOQ on such rows)."""
    value = _numbers(rows["value"])
    if "lloq" not in rows:
        return value
    lloq = _numbers(rows["lloq"])
    return np.where(np.isfinite(lloq), lloq, value)


def vpc_png(vpc: pd.DataFrame, pred: pd.DataFrame | None) -> bytes:
    """Visual predictive check: the simulated 5-95 % band and median of each observable, the
    observed samples on top, BLQ samples at their LLOQ with their own marker."""
    names = list(dict.fromkeys(vpc["name"]))[:MAX_PANELS]
    fig, axes = _grid(len(names), 2, 4.2, 3.0)
    for ax, name in zip(axes, names, strict=True):
        band = vpc[vpc["name"] == name].sort_values("time")
        t = _numbers(band["time"])
        lo, med, hi = (_numbers(band[k]) for k in ("p05", "p50", "p95"))
        obs = pred[pred["name"] == name] if pred is not None else pd.DataFrame()
        blq = _bools(obs["blq"]) if "blq" in obs else pd.Series(False, index=obs.index)
        q, b = obs[~blq], obs[blq]
        qy = _numbers(q["value"]) if len(q) else np.array([])
        by = _lloq(b) if len(b) else np.array([])
        unit = str(obs["unit"].iat[0]) if "unit" in obs and len(obs) else ""
        if _log_ok(med, hi, qy, by):
            floor = np.nanmin(np.concatenate([med[med > 0], hi[hi > 0]])) / 10.0
            lo = np.where(np.isfinite(lo) & (lo > 0), lo, floor)
            ax.set_yscale("log")
        ax.fill_between(t, lo, hi, color=COLOURS[0], alpha=0.2, lw=0, label="simulated 5-95 %")
        ax.plot(t, med, color=COLOURS[0], lw=1.5, label="simulated median")
        if len(q):
            ax.scatter(_numbers(q["time"]), qy, s=14, color="#1d2433", zorder=3, label="observed")
        if len(b):
            ax.scatter(
                _numbers(b["time"]),
                by,
                s=24,
                marker="v",
                facecolors="none",
                edgecolors=COLOURS[1],
                zorder=3,
                label="BLQ (at LLOQ)",
            )
        ax.set_title(_display(name, unit), fontsize=8.5)
        ax.set_xlabel("day after infusion", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5)
    return png(fig)


def sensitivity_png(rows: pd.DataFrame, method: str) -> bytes:
    """Per output, parameters ranked by their index: ST and S1 (Sobol) or mu* and sigma (Morris),
    with the bootstrap half-widths as error bars."""
    main, second = ("ST", "S1") if method == "sobol" else ("mu_star", "sigma")
    conf = {"ST": "ST_conf", "S1": "S1_conf", "mu_star": "mu_star_conf"}
    labels = {"ST": "ST (total)", "S1": "S1 (first order)", "mu_star": "mu*", "sigma": "sigma"}
    outputs = list(dict.fromkeys(rows["output"]))[:MAX_PANELS]
    fig, axes = _grid(len(outputs), 2, 4.0, 0.9 + 0.28 * rows["parameter"].nunique())
    for ax, output in zip(axes, outputs, strict=True):
        sel = rows[rows["output"] == output].copy()
        sel["_key"] = _numbers(sel[main])
        sel = sel.sort_values("_key", ascending=True, na_position="first")
        y = np.arange(len(sel))
        for offset, column, colour in ((0.2, main, COLOURS[0]), (-0.2, second, "#9fb7d8")):
            if column not in sel:
                continue
            err = np.nan_to_num(_numbers(sel[conf[column]])) if conf.get(column) in sel else None
            ax.barh(
                y + offset,
                np.nan_to_num(_numbers(sel[column])),
                height=0.4,
                xerr=err,
                color=colour,
                label=labels[column],
                error_kw={"lw": 0.8, "capsize": 2},
            )
        ax.set_yticks(y, [str(p) for p in sel["parameter"]], fontsize=7.5)
        ax.set_title(str(output), fontsize=8.5)
        ax.grid(alpha=0.3, axis="x")
        ax.legend(fontsize=7)
    return png(fig)


def validation_png(val: pd.DataFrame) -> bytes:
    """Each external observation against the prediction and its 5-95 % interval, as the ratio
    predicted / observed on a log axis (the difference when a value is not positive)."""
    obs, mid = _numbers(val["observed"]), _numbers(val["predicted"])
    lo = _numbers(val["predicted_p05"]) if "predicted_p05" in val else np.full_like(mid, np.nan)
    hi = _numbers(val["predicted_p95"]) if "predicted_p95" in val else np.full_like(mid, np.nan)
    ratio = _log_ok(obs, mid, lo, hi)
    if ratio:
        x, xl, xh, ref, label = mid / obs, lo / obs, hi / obs, 1.0, "predicted / observed"
    else:
        x, xl, xh, ref, label = mid - obs, lo - obs, hi - obs, 0.0, "predicted - observed"
    fig = figure(6.5, 1.0 + 0.42 * len(val))
    ax = fig.add_subplot()
    y = np.arange(len(val))[::-1]
    inside = (
        _bools(val["within_interval"]).to_numpy()
        if "within_interval" in val
        else (obs >= lo) & (obs <= hi)
    )
    for yi, xi, low, high, ok in zip(y, x, xl, xh, inside, strict=True):
        colour = "#1b7d2b" if ok else "#b3261e"
        if math.isfinite(low) and math.isfinite(high):
            ax.plot([low, high], [yi, yi], color=colour, lw=2, alpha=0.6)
        ax.plot(xi, yi, "s", color=colour)
    ax.axvline(ref, color="grey", lw=1, ls="--")
    if ratio:
        ax.set_xscale("log")
    ticks = [f"{d}: {q}" for d, q in zip(val["dataset"], val["quantity"], strict=True)]
    ax.set_yticks(y, ticks, fontsize=7.5)
    ax.set_ylim(-0.7, len(val) - 0.3)
    ax.set_xlabel(f"{label} (bar: predicted 5-95 %; green: observed inside it)", fontsize=8)
    ax.grid(alpha=0.3, axis="x")
    return png(fig)


# ----------------------------------------------------------------------------------------------
# Sections


@dataclass
class _Report:
    """The folder being reported, its figures and the at-a-glance evidence the sections add."""

    folder: Path
    meta: dict
    figs: Figures
    glance: list[dict] = field(default_factory=list)

    def img(self, name: str, draw: Callable[[], bytes], alt: str) -> str:
        """The ``<img>`` of the figure ``draw`` makes; a message instead if it cannot be drawn."""
        try:
            data = draw()
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            return _not_shown(f"figure '{alt}' could not be drawn ({type(exc).__name__}: {exc})")
        return self.figs.img(name, data, alt)

    def note(self, activity: str, result: str | Markup, source: str) -> None:
        """One row of the evidence at a glance (section 1)."""
        self.glance.append({"activity": activity, "result": result, "from": source})

    @property
    def parameters(self) -> dict[str, dict]:
        """The estimated parameters of ``calibration.json`` by name."""
        return {
            str(p.get("name")): p for p in self.meta.get("parameters") or [] if isinstance(p, dict)
        }


def _meta_text(meta: dict, key: str) -> str:
    """A field of ``calibration.json`` as text ("not recorded" when absent)."""
    value = meta.get(key)
    return "not recorded" if value in (None, "") else str(value)


def _context(r: _Report) -> str:
    """Section 1: what is simulated and for which question, and the evidence at a glance."""
    meta = r.meta
    rows = [
        ("Calibration", _meta_text(meta, "title")),
        ("Scenario (setting simulated)", _meta_text(meta, "scenario")),
        ("Model", _meta_text(meta, "model")),
        (
            "Question of interest",
            meta.get("question")
            or "not stated (calibration.json has no 'question'); the title above names what the "
            "model is fitted to reproduce",
        ),
        (
            "Context of use",
            meta.get("context_of_use")
            or f"the model {_meta_text(meta, 'model')}, with the estimates of section 3, "
            f"simulating the scenario {_meta_text(meta, 'scenario')}",
        ),
        ("Created", _meta_text(meta, "created")),
    ]
    items = table(pd.DataFrame(rows, columns=["item", "value"]))
    framing = (
        "Credibility is judged for a context of use (ASME V&V 40-2018; FDA 2023 guidance on "
        "computational modelling and simulation; Musuamba et al. 2021). How much evidence is "
        "enough follows from the model risk: the model's influence on the decision combined with "
        "the consequence of a wrong decision. This report gathers the evidence (verification, "
        "calibration, sensitivity, validation); judging it against the model risk is the "
        "reader's part."
    )
    glance = table(pd.DataFrame(r.glance)) if r.glance else ""
    return items + _p(framing) + "<h3>Evidence at a glance</h3>" + glance


def _verification(r: _Report) -> str:
    """Section 2: the verification checks with their verdicts."""
    read = _read(r.folder, "verification.csv", VERIFICATION)
    if read.frame is None:
        r.note("Verification", "not run" if read.absent else "not shown", "verification.csv")
        return read.message("no verification checks were recorded for this calibration")
    frame = read.frame.copy()
    passed = _bools(frame["passed"])
    frame["passed"] = [_verdict(bool(ok)) for ok in passed]
    n, k = len(frame), int(passed.sum())
    verdict = _verdict(k == n, f"{k} of {n} checks passed", f"{n - k} of {n} checks failed")
    r.note("Verification", verdict, "verification.csv")
    intro = _p(
        "Code verification: does the software solve the model's equations correctly (agreement "
        "with an independent solver, units, conservation)? Each check compares a quantity with "
        "its tolerance."
    )
    return intro + f"<p>{verdict}</p>" + table(frame)


def _data_used(r: _Report) -> str:
    """Section 3.1: the data fitted and the parameters estimated."""
    data = r.meta.get("data") or {}
    rows = [
        ("individual observations", data.get("observations") or "none"),
        ("summary targets", data.get("targets") or "none"),
    ]
    out = table(pd.DataFrame(rows, columns=["data", "file"]))
    pred = _read(r.folder, "predictions.csv", PREDICTIONS)
    if pred.frame is not None:
        p = pred.frame
        blq = _bools(p["blq"]) if "blq" in p else pd.Series(False, index=p.index)
        counts = (
            p.assign(blq=blq)
            .groupby("name", sort=False)
            .agg(subjects=("subject", "nunique"), samples=("value", "size"), blq=("blq", "sum"))
            .reset_index()
        )
        out += _p(
            f"Individual data: {len(p)} samples of {p['subject'].nunique()} subjects, "
            f"{int(blq.sum())} below the limit of quantification (fitted as censored, M3)."
        ) + table(counts)
    targets = _read(r.folder, "targets.csv", TARGETS)
    if targets.frame is not None:
        t = targets.frame
        studies = t["study"].dropna().nunique() if "study" in t else 0
        out += _p(
            f"Summary data: {len(t)} published statistics"
            + (f" from {studies} studies." if studies else ".")
        )
    params = r.meta.get("parameters") or []
    if params:
        cols = ["name", "lower", "upper", "log", "initial", "unit", "meaning", "source"]
        frame = pd.DataFrame(params)
        out += "<h4>Parameters estimated (bounds, scale and sources)</h4>" + table(
            frame[[c for c in cols if c in frame.columns]]
        )
    return out


def _estimates(r: _Report) -> tuple[str, dict[str, float]]:
    """Section 3.2: the estimates table with flags; also the estimates by name."""
    read = _read(r.folder, "estimates.csv", ESTIMATES)
    if read.frame is None:
        r.note("Estimates", "not available", "estimates.csv")
        return read.message(MISSING, required=True), {}
    e = read.frame
    units = {n: p.get("unit", "") for n, p in r.parameters.items()}
    lo, hi, est = _numbers(e["lower_95"]), _numbers(e["upper_95"]), _numbers(e["estimate"])
    has_se = "se_estimation_scale" in e
    se = _numbers(e["se_estimation_scale"]) if has_se else np.full_like(est, np.nan)
    at_bound = _bools(e["at_bound"]).to_numpy() if "at_bound" in e else np.zeros(len(e), bool)
    log = (e["scale"].astype(str) == "log").to_numpy() if "scale" in e else np.zeros(len(e), bool)
    flags, n_wide = [], 0
    for k in range(len(e)):
        words = []
        if at_bound[k]:
            words.append("at a bound: the Wald interval is not valid (see the profile)")
        if has_se and not math.isfinite(se[k]):
            words.append("no standard error (information matrix not invertible)")
        elif log[k] and lo[k] > 0 and hi[k] / lo[k] > WIDE_FOLD:
            words.append(f"poorly identified: 95 % interval wider than {WIDE_FOLD:g}-fold")
            n_wide += 1
        flags.append(Markup(escape("; ".join(words)), "flag") if words else "")
    shown = pd.DataFrame(
        {
            "parameter": e["parameter"],
            "unit": [units.get(str(n), "") for n in e["parameter"]],
            "estimate": est,
            "lower 95 %": lo,
            "upper 95 %": hi,
            "SE (estimation scale)": se,
            "scale": e.get("scale", ""),
            "lower bound": _numbers(e["bound_lower"]) if "bound_lower" in e else np.nan,
            "upper bound": _numbers(e["bound_upper"]) if "bound_upper" in e else np.nan,
            "flag": flags,
        }
    )
    n_se = int(np.sum(~np.isfinite(se))) if has_se else 0
    r.note(
        "Estimates",
        f"{len(e)} parameters; {int(at_bound.sum())} at a bound; {n_wide} with a 95 % interval "
        f"wider than {WIDE_FOLD:g}-fold; {n_se} without a standard error",
        "estimates.csv",
    )
    intro = _p(
        "Maximum-likelihood estimates with 95 % Wald intervals from the observed information, "
        "computed on each parameter's estimation scale and transformed back (asymmetric on the "
        "natural scale for log-scale parameters)."
    )
    values = dict(zip(e["parameter"].astype(str), est, strict=True))
    return intro + table(shown), values


def _convergence(r: _Report) -> str:
    """Section 3.3: how many starts reached the best objective, the notes, every start."""
    meta = r.meta
    read = _read(r.folder, "convergence.csv", CONVERGENCE)
    starts = meta.get("starts")
    n_conv = meta.get("n_converged")
    nll = meta.get("nll")
    summary = (
        f"{n_conv} of {starts} starts reached the best objective"
        + (f" (negative log-likelihood {nll:.6g})" if isinstance(nll, int | float) else "")
        + f"; optimiser {_meta_text(meta, 'method')}, seed {_meta_text(meta, 'seed')}."
    )
    ok = isinstance(n_conv, int) and n_conv >= 2
    r.note(
        "Optimisation",
        _verdict(
            ok,
            summary,
            summary + " A single start at the optimum is weak evidence of a global optimum.",
        ),
        "calibration.json",
    )
    out = f"<p>{_verdict(ok, summary, summary)}</p>"
    notes = [str(n) for n in meta.get("notes") or []]
    if notes:
        out += "<p>Notes of the fit:</p><ul>" + "".join(f"<li>{escape(n)}</li>" for n in notes)
        out += "</ul>"
    if read.frame is None:
        return out + read.message(MISSING, required=True)
    c = read.frame.copy()
    values = _numbers(c["nll"])
    best = np.nanmin(values) if np.any(np.isfinite(values)) else math.nan
    c.insert(2, "NLL - best", values - best)
    c["success"] = [_verdict(bool(s), "yes", "no") for s in _bools(c["success"])]
    shown = c[[col for col in c.columns if not str(col).startswith("initial_")]]
    out += r.img(
        "waterfall",
        lambda: waterfall_png(values, int(n_conv) if isinstance(n_conv, int) else 1),
        "final objective of each start",
    )
    return out + table(shown, {"nll": 7, "NLL - best": 3})


def _correlation(r: _Report) -> str:
    """Section 3.4: correlation matrix of the estimates, pairs with |r| > 0.9 flagged."""
    read = _read(r.folder, "correlation.csv", (), index_col=0)
    if read.frame is None:
        r.note("Identifiability", "correlation not available", "correlation.csv")
        return read.message(MISSING, required=True)
    m = read.frame.apply(pd.to_numeric, errors="coerce")
    names = [str(n) for n in m.index]
    flagged: list[tuple[str, str, float]] = []
    seen: set[frozenset[str]] = set()
    rows = []
    for i, name in enumerate(names):
        row: dict[str, object] = {"parameter": name}
        for j, other in enumerate(m.columns):
            value = float(m.iat[i, j])
            if str(other) != name and math.isfinite(value) and abs(value) > R_FLAG:
                row[str(other)] = Markup(f"{value:.3f}", "flag")
                pair = frozenset((name, str(other)))
                if pair not in seen:
                    seen.add(pair)
                    flagged.append((name, str(other), value))
            else:
                row[str(other)] = value
        rows.append(row)
    if not np.isfinite(m.to_numpy(dtype=float)).any():
        r.note("Identifiability", "correlation not estimable (no covariance)", "correlation.csv")
        return _p(
            "The correlation of the estimates is not estimable: the information matrix could not "
            "be inverted (some direction of the parameters is not informed by the data); see the "
            "profiles."
        )
    text = (
        f"{len(flagged)} pair(s) with |r| > {R_FLAG:g}: "
        + "; ".join(f"{a} and {b} (r = {v:.3f})" for a, b, v in flagged)
        + ". The data do not separate these parameters: fix one, reparameterise, or add data "
        "that informs them separately."
        if flagged
        else f"No pair of estimates has |r| > {R_FLAG:g}."
    )
    r.note(
        "Identifiability",
        _verdict(
            not flagged,
            f"no correlation |r| > {R_FLAG:g}",
            f"{len(flagged)} pair(s) with |r| > {R_FLAG:g}",
        ),
        "correlation.csv",
    )
    intro = _p("Correlation of the estimates on the estimation scale; flagged cells: |r| > 0.9.")
    return intro + table(pd.DataFrame(rows), 3) + _p(text, "" if not flagged else "no")


def _profiles(r: _Report, estimates: dict[str, float]) -> str:
    """Section 3.5: profile likelihoods and the intervals they give."""
    read = _read(r.folder, "profiles.csv", PROFILES)
    if read.frame is None:
        return read.message("profile likelihoods are computed with `profiles: true` in the config")
    prof = read.frame
    inside_all = (
        _bools(prof["inside_95"])
        if "inside_95" in prof
        else pd.Series(_numbers(prof["delta"]) <= PROFILE_THRESHOLD, index=prof.index)
    )
    rows, n_closed = [], 0
    for name, sel in prof.assign(_in=inside_all).groupby("parameter", sort=False):
        sel = sel.sort_values("value")
        inside = sel["_in"].to_numpy(dtype=bool)
        values = _numbers(sel["value"])
        below, above = bool(inside[0]), bool(inside[-1])
        closed = not below and not above
        n_closed += closed
        side = "on both sides" if below and above else ("below" if below else "above")
        rows.append(
            {
                "parameter": name,
                "estimate": estimates.get(str(name), math.nan),
                "profile 95 % lower": values[inside].min() if inside.any() else math.nan,
                "profile 95 % upper": values[inside].max() if inside.any() else math.nan,
                "points": len(sel),
                "interval": _verdict(
                    closed, "closed", f"open {side}: the data do not bound it there"
                ),
            }
        )
    r.note(
        "Profile likelihood",
        _verdict(
            n_closed == len(rows),
            f"{n_closed} of {len(rows)} profiles closed on both sides",
            f"{len(rows) - n_closed} of {len(rows)} profiles open",
        ),
        "profiles.csv",
    )
    log = {n for n, p in r.parameters.items() if bool(p.get("log"))}
    intro = _p(
        "Each parameter fixed on a grid, the others re-optimised: the likelihood-ratio 95 % "
        "interval is where the profile stays below 1.92 (chi-square(1) 95 % / 2). A profile that "
        "stays below it at an end of the grid is open there: the data do not bound the "
        "parameter on that side."
    )
    fig = r.img("profiles", lambda: profiles_png(prof, estimates, log), "profile likelihoods")
    return intro + fig + table(pd.DataFrame(rows))


def _targets(r: _Report) -> str:
    """Section 3.6: each published statistic against the fitted cohort."""
    read = _read(r.folder, "targets.csv", TARGETS)
    if read.frame is None:
        r.note("Fit to summary data", "not run" if read.absent else "not shown", "targets.csv")
        return read.message("the calibration fitted no published summary statistics")
    t = read.frame
    ll = _numbers(t["loglik"])

    def col(name: str) -> pd.Series:
        return t[name] if name in t else pd.Series([""] * len(t), index=t.index)

    med, p05, p95 = (_numbers(col(k)) for k in ("cohort_median", "cohort_p05", "cohort_p95"))
    simulated = [
        "NE" if not math.isfinite(m) else f"{m:.3g} ({a:.3g} to {b:.3g})"
        for m, a, b in zip(med, p05, p95, strict=True)
    ]
    frame = pd.DataFrame(
        {
            "target": t["target"],
            "statistic": col("statistic"),
            "quantity": col("quantity"),
            "unit": col("unit"),
            "observed": col("observed"),
            "simulated median (5-95 %)": simulated,
            "log-likelihood": [v if math.isfinite(v) else Markup(fmt(v), "flag") for v in ll],
            "evaluable": col("evaluable"),
            "study": col("study"),
        }
    )
    bad = int(np.sum(~np.isfinite(ll)))
    r.note(
        "Fit to summary data",
        _verdict(
            bad == 0,
            f"{len(t)} targets; total log-likelihood {np.sum(ll):.4g}",
            f"{len(t)} targets; {bad} with a log-likelihood that is not finite",
        ),
        "targets.csv",
    )
    intro = _p(
        "Each published statistic against the same statistic of the fitted model's virtual "
        "cohort (median and 5-95 % range of the per-patient quantity) and its log-likelihood, "
        "the probability of the published value under the model (higher is better; -inf: the "
        "model cannot produce it)."
    )
    return intro + table(frame)


def _individual(r: _Report) -> str:
    """Section 3.7: observed against predicted, and residuals, of individual data."""
    read = _read(r.folder, "predictions.csv", PREDICTIONS)
    if read.frame is None:
        r.note(
            "Fit to individual data",
            "not run" if read.absent else "not shown",
            "predictions.csv",
        )
        return read.message("the calibration fitted no individual observations")
    p = read.frame
    blq = _bools(p["blq"]) if "blq" in p else pd.Series(False, index=p.index)
    q = p[~blq]
    column = _residual(q)
    res = _numbers(q[column]) if column else np.full(len(q), np.nan)
    summary = (
        q.assign(_res=res)
        .groupby("name", sort=False)
        .agg(samples=("value", "size"), mean_residual=("_res", "mean"), sd_residual=("_res", "std"))
        .reset_index()
        .rename(columns={"mean_residual": "mean residual", "sd_residual": "SD of residuals"})
    )
    intro = _p(
        "Observed against the fitted typical prediction for each observable, and the residuals "
        "(log(observed / predicted) for log-scale error models, observed - predicted otherwise) "
        "of quantified samples over time. Samples below the limit of quantification are drawn "
        "at their LLOQ with an open triangle; they have no residual."
    )
    fig = r.img("observed_predicted", lambda: fit_png(p), "observed against predicted")
    n_mean = float(np.nanmean(res)) if np.any(np.isfinite(res)) else math.nan
    r.note(
        "Fit to individual data",
        f"{len(p)} samples ({int(blq.sum())} BLQ); mean residual {fmt(n_mean, 3)}",
        "predictions.csv",
    )
    return intro + fig + table(summary, 3)


def _vpc(r: _Report) -> str:
    """Section 3.8: visual predictive check and the share of samples inside the band."""
    read = _read(r.folder, "vpc.csv", VPC)
    if read.frame is None:
        return read.message("no visual predictive check was simulated")
    vpc = read.frame
    pred = _read(r.folder, "predictions.csv", PREDICTIONS).frame
    intro = _p(
        "The fitted model's virtual cohort: 5th, 50th and 95th percentiles of each observable over "
        "time, with the observed samples. About 90 % of quantified samples are expected inside "
        "the band when the model describes the population's variability."
    )
    text = ""
    if pred is not None:
        blq = _bools(pred["blq"]) if "blq" in pred else pd.Series(False, index=pred.index)
        inside, total = 0, 0
        for name, rows in pred[~blq].groupby("name", sort=False):
            band = vpc[vpc["name"] == name].sort_values("time")
            if band.empty:
                continue
            t, v = _numbers(rows["time"]), _numbers(rows["value"])
            bt = _numbers(band["time"])
            lo = np.interp(t, bt, _numbers(band["p05"]))
            hi = np.interp(t, bt, _numbers(band["p95"]))
            within = (t >= bt.min()) & (t <= bt.max())
            inside += int(np.sum(within & (v >= lo) & (v <= hi)))
            total += int(np.sum(within))
        if total:
            share = 100.0 * inside / total
            text = _p(
                f"{inside} of {total} quantified samples ({share:.0f} %) lie inside the simulated "
                "5-95 % band (expected about 90 %)."
            )
            r.note(
                "Visual predictive check",
                f"{share:.0f} % of samples inside the 5-95 % band (expected about 90 %)",
                "vpc.csv",
            )
    fig = r.img("vpc", lambda: vpc_png(vpc, pred), "visual predictive check")
    return intro + fig + text


def _calibration(r: _Report) -> str:
    """Section 3, its eight parts in order."""
    estimates_html, estimates = _estimates(r)
    return "".join(
        [
            "<h3>3.1 Data and parameters</h3>",
            _data_used(r),
            "<h3>3.2 Estimates</h3>",
            estimates_html,
            "<h3>3.3 Convergence</h3>",
            _convergence(r),
            "<h3>3.4 Correlation of the estimates</h3>",
            _correlation(r),
            "<h3>3.5 Profile likelihood</h3>",
            _profiles(r, estimates),
            "<h3>3.6 Fit to summary data (per target)</h3>",
            _targets(r),
            "<h3>3.7 Fit to individual data</h3>",
            _individual(r),
            "<h3>3.8 Visual predictive check</h3>",
            _vpc(r),
        ]
    )


def _sensitivity_method(rows: pd.DataFrame) -> str:
    """The global method of a sensitivity table: its ``method`` column, else by its columns."""
    if "method" in rows and rows["method"].notna().any():
        return str(rows["method"].dropna().iat[0]).lower()
    return "sobol" if "ST" in rows else "morris"


def _sensitivity(r: _Report) -> str:
    """Section 4: global indices (figure and table per method) and local sensitivities."""
    out = "<h3>4.1 Global sensitivity</h3>"
    read = _read(r.folder, "sensitivity.csv", ("parameter", "output"))
    if read.frame is None:
        r.note("Sensitivity", "not run" if read.absent else "not shown", "sensitivity.csv")
        out += read.message("global sensitivity runs with a `sensitivity:` section in the config")
    else:
        s = read.frame
        groups = (
            list(s.groupby(s["method"].astype(str).str.lower(), sort=False))
            if "method" in s
            else [(_sensitivity_method(s), s)]
        )
        described = []
        for method, rows in groups:
            need = {"sobol": ("ST", "S1"), "morris": ("mu_star",)}.get(method)
            missing = [c for c in need or () if c not in rows]
            if need is None or missing:
                out += _not_shown(
                    f"sensitivity.csv: method {method!r} "
                    + (f"lacks the column(s) {', '.join(missing)}" if need else "is unknown")
                    + " (allowed: sobol with ST, S1; morris with mu_star)"
                )
                continue
            described.append(method)
            out += _p(
                "Sobol indices: S1 is the share of the output's variance due to the parameter "
                "alone, ST the share including its interactions (Saltelli et al. 2010)."
                if method == "sobol"
                else "Morris elementary effects: mu* ranks the parameter's overall influence, "
                "sigma its non-linear or interacting part (Campolongo, Cariboni and Saltelli 2007)."
            )
            out += r.img(
                f"sensitivity_{method}",
                lambda rows=rows, method=method: sensitivity_png(rows, method),
                f"{method} sensitivity indices",
            )
            out += table(rows.drop(columns=["method"], errors="ignore"), 3)
        if described:
            r.note(
                "Sensitivity",
                f"{', '.join(described)}: {s['parameter'].nunique()} parameters, "
                f"{s['output'].nunique()} outputs",
                "sensitivity.csv",
            )
    out += "<h3>4.2 Local sensitivity</h3>"
    local = _read(r.folder, "local_sensitivity.csv", LOCAL)
    if local.frame is None:
        return out + local.message(
            "local sensitivities run with `sensitivity: {method: local}` in the config"
        )
    wide = (
        local.frame.assign(sensitivity=_numbers(local.frame["sensitivity"]))
        .pivot_table(index="parameter", columns="output", values="sensitivity", sort=False)
        .reset_index()
    )
    wide.columns = [str(c) for c in wide.columns]
    intro = _p(
        "Normalised local sensitivities d log(output) / d log(parameter) at the estimates: "
        "a 1 % change of the parameter changes the output by this many percent."
    )
    return out + intro + table(wide, 3)


def _validation(r: _Report) -> str:
    """Section 5: external observations against the predictions, or how to add them."""
    read = _read(r.folder, "validation.csv", VALIDATION)
    intro = _p(
        "Validation compares the calibrated model with data the fit did not use; users list "
        "such external data in the calibration config."
    )
    if read.frame is None:
        r.note("Validation", "not run" if read.absent else "not shown", "validation.csv")
        return (
            intro
            + read.message("no external data were listed")
            + _p(
                "To add it: a `validation:` section in the calibration config, with `file` (a "
                "targets file of studies the fit did not use) and `use` (each target id and the "
                "model quantity it reads); the calibration then writes validation.csv."
            )
        )
    v = read.frame.copy()
    obs, lo, hi = (
        _numbers(v[c]) if c in v else np.full(len(v), np.nan)
        for c in ("observed", "predicted_p05", "predicted_p95")
    )
    inside = (
        _bools(v["within_interval"]).to_numpy()
        if "within_interval" in v
        else (obs >= lo) & (obs <= hi)
    )
    v["within_interval"] = [_verdict(bool(ok), "yes", "no") for ok in inside]
    k, n = int(np.sum(inside)), len(v)
    verdict = _verdict(
        k == n,
        f"{k} of {n} observations inside the predicted 5-95 % interval",
        f"{n - k} of {n} observations outside the predicted 5-95 % interval",
    )
    r.note("Validation", verdict, "validation.csv")
    fig = r.img("validation", lambda: validation_png(read.frame), "predicted vs observed")
    return intro + f"<p>{verdict}</p>" + fig + table(v)


def _provenance(r: _Report) -> str:
    """Section 6: run settings, software versions and a checksum of each file of the folder."""
    meta = r.meta
    rows = [
        ("created", _meta_text(meta, "created")),
        ("method", _meta_text(meta, "method")),
        ("starts", _meta_text(meta, "starts")),
        ("seed", _meta_text(meta, "seed")),
        ("scenario", _meta_text(meta, "scenario")),
        ("model", _meta_text(meta, "model")),
        ("schema", _meta_text(meta, "schema")),
    ]
    out = table(pd.DataFrame(rows, columns=["item", "value"]))
    versions = meta.get("versions")
    if isinstance(versions, dict) and versions:
        out += "<h3>Software</h3>" + table(
            pd.DataFrame(
                [(str(k), str(v)) for k, v in versions.items()], columns=["software", "version"]
            )
        )
    else:
        out += _p("Software versions: not recorded.")
    files = sorted(
        p for p in r.folder.iterdir() if p.is_file() and p.suffix in (".csv", ".json", ".yaml")
    )
    out += "<h3>Files of the folder</h3>" + table(
        pd.DataFrame(
            [(p.name, p.stat().st_size, _sha256(p)[:16]) for p in files],
            columns=["file", "bytes", "SHA-256 (first 16 hex digits)"],
        )
    )
    return out


REFERENCES = (
    "ASME V&V 40-2018. Assessing Credibility of Computational Modeling through Verification and "
    "Validation: Application to Medical Devices. American Society of Mechanical Engineers, 2018.",
    "US FDA. Assessing the Credibility of Computational Modeling and Simulation in Medical Device "
    "Submissions. Guidance for industry and FDA staff, November 2023.",
    "Musuamba FT et al. Scientific and regulatory evaluation of mechanistic in silico drug and "
    "disease models in drug development: building model credibility. CPT Pharmacometrics Syst "
    "Pharmacol 2021;10:804-825.",
    "Raue A et al. Structural and practical identifiability analysis of partially observed "
    "dynamical models by exploiting the profile likelihood. Bioinformatics 2009;25:1923-1929.",
    "Raue A et al. Lessons learned from quantitative dynamical modeling in systems biology. PLoS "
    "ONE 2013;8:e74335.",
    "Saltelli A et al. Variance based sensitivity analysis of model output: design and estimator "
    "for the total sensitivity index. Comput Phys Commun 2010;181:259-270.",
    "Campolongo F, Cariboni J, Saltelli A. An effective screening design for sensitivity analysis "
    "of large models. Environ Model Softw 2007;22:1509-1518.",
    "Beal SL. Ways to fit a PK model with some data below the quantification limit. J "
    "Pharmacokinet Pharmacodyn 2001;28:481-504.",
)


def _render(folder: Path, meta: dict) -> str:
    """The page as an HTML string (figures written under ``folder/figures`` on the way)."""
    r = _Report(folder, meta, Figures(folder / FIGURES, FIGURE_PREFIX, replace=True))
    builders = {
        "verification": _verification,
        "calibration": _calibration,
        "sensitivity": _sensitivity,
        "validation": _validation,
        "provenance": _provenance,
    }
    bodies = {key: build(r) for key, build in builders.items()}
    bodies["context"] = _context(r)  # last: it summarises the others
    title = f"Calibration credibility report: {_meta_text(meta, 'title')}"
    nav = "<nav>" + "".join(f'<a href="#{k}">{escape(t)}</a>' for k, t in SECTIONS) + "</nav>"
    parts = [f"<h1>{escape(title)}</h1>", nav]
    for key, heading in SECTIONS:
        parts += [f'<h2 id="{key}">{escape(heading)}</h2>', bodies[key]]
    parts += [
        "<h2>References</h2><ol>",
        *(f"<li>{escape(ref)}</li>" for ref in REFERENCES),
        "</ol>",
    ]
    return document(title, "\n".join(parts))


def write_credibility_report(folder: str | Path) -> Path:
    """Write ``folder/report.html``, the credibility report of a calibration folder, and its
    figures as PNG under ``folder/figures/``; the path of the page.

    Raises ``FileNotFoundError`` when ``folder`` has no ``calibration.json`` (not a calibration
    folder) and ``ValueError`` when that file is not a JSON object; any other file may be absent.
    """
    folder = Path(folder)
    source = folder / "calibration.json"
    if not source.is_file():
        raise FileNotFoundError(f"{source}: not found; a calibration folder holds calibration.json")
    try:
        meta = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{source}: got {type(meta).__name__}; allowed: a JSON object")
    page = folder / REPORT
    page.write_text(_render(folder, meta), encoding="utf-8")
    return page
