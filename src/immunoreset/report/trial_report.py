"""The virtual-trial report: one self-contained HTML file that opens offline.

Sections follow the way a trial is presented: design, CONSORT-style flow, baseline
characteristics by arm, the primary endpoint and the decision, arm tables, arm differences (forest
plot), time-to-event analyses (Kaplan-Meier curves, log-rank tests), kinetics bands, grade and
activity distributions, replicate trials (power), notes and provenance. Figures are PNG images
(matplotlib) embedded as base64 data URLs and also written to ``figures/``; the page has no script
and no external URL, so it renders identically without a network. The report summarises: bands
come from at most the first patients of each arm, never every trajectory. The page helpers
(stylesheet, tables, figure embedding) are those of :mod:`immunoreset.report.html`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from immunoreset.report import trial_figures as tf
from immunoreset.report.html import Figures, document, escape, table
from immunoreset.scenario.load import product_dose
from immunoreset.scenario.schema import RegimenSpec

if TYPE_CHECKING:
    from immunoreset.trial.design import Arm
    from immunoreset.trial.run import TrialResult

KINETIC_OUTPUTS = ("car_t_blood", "b_cells_blood", "anti_dsdna", "igg_total", "c3", "neutrophils")
GRADED = {
    "crs_max_grade": "CRS (ASTCT) worst grade",
    "icans_max_grade": "ICANS worst grade",
    "icaht_max_grade": "ICAHT worst grade",
}
DIGITS = 3
"""Significant digits of the numbers in the report's tables."""


def _table(frame: pd.DataFrame) -> str:
    """An HTML table of ``frame`` with numbers to :data:`DIGITS` significant digits."""
    return table(frame, DIGITS)


def _flow(result: TrialResult) -> tuple[dict, list[dict]]:
    subjects = result.subjects
    design = result.trial.design
    failed = (
        result.patients.loc[~result.patients["evaluable"].astype(bool)]
        if len(result.patients)
        else result.patients
    )
    flow = {
        "screened": len(subjects),
        "excluded": int((~subjects["eligible"]).sum()),
        "reasons": dict(
            zip(result.screening["criterion"], result.screening["failed_first"], strict=True)
        ),
        "randomised": int(subjects["randomised"].sum()),
        "not_needed": int((subjects["eligible"] & ~subjects["randomised"]).sum()),
    }
    arms = []
    for arm in design.arms:
        rows = subjects[subjects["arm"] == arm.code]
        n_failed = int((failed["arm"] == arm.code).sum()) if len(failed) else 0
        arms.append(
            {
                "name": arm.name,
                "allocated": len(rows),
                "lost": int(rows["dropout_day"].notna().sum()),
                "failed": n_failed,
                "analysed": len(rows) - n_failed,
            }
        )
    return flow, arms


def baseline_table(result: TrialResult) -> pd.DataFrame:
    """Baseline characteristics by arm: mean (SD) of continuous covariates, n (%) of 0/1 ones."""
    subjects = result.subjects[result.subjects["randomised"]]
    design = result.trial.design
    known = {c.name: c for c in result.trial.covariates.covariates}
    rows = []
    for name in [c for c in subjects.columns if c in known or c == "bsa_m2"]:
        values = subjects[name]
        binary = set(values.dropna().unique()) <= {0.0, 1.0}
        label = known[name].label if name in known else "body surface area"
        unit = known[name].unit if name in known else "m2"
        row = {"characteristic": f"{label}, n (%)" if binary else f"{label} ({unit}), mean (SD)"}
        for arm in design.arms:
            v = values[subjects["arm"] == arm.code].dropna()
            row[arm.name] = (
                (
                    f"{int(v.sum())} ({100 * v.mean():.0f} %)"
                    if binary
                    else f"{v.mean():.1f} ({v.std():.1f})"
                )
                if len(v)
                else "NE"
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _conditioning(regimen: RegimenSpec) -> str:
    """The lymphodepletion of an arm in words."""
    if regimen.conditioning is not None:
        return regimen.conditioning
    if regimen.fludarabine or regimen.cyclophosphamide:
        return "fludarabine/cyclophosphamide (explicit doses)"
    return "yes" if regimen.lymphodepletion else "none"


def _arm_row(result: TrialResult, arm: Arm) -> dict:
    scenario = result.trial.arms[arm.code]
    dose = product_dose(scenario)
    product = scenario.product
    return {
        "code": arm.code,
        "arm": arm.name,
        "ratio": arm.ratio,
        "product": product.name
        + (f" (catalogue {product.catalogue})" if product.catalogue else ""),
        "dose": f"{dose.value:g} {dose.unit}",
        "lymphodepletion": _conditioning(scenario.regimen),
    }


def _design_html(result: TrialResult) -> str:
    d = result.trial.design
    arms = pd.DataFrame([_arm_row(result, a) for a in d.arms])
    crit = pd.DataFrame([{"criterion": c.label} for c in d.eligibility] or [{"criterion": "none"}])
    eps = pd.DataFrame(
        [
            {
                "endpoint": e.name,
                "label": e.title,
                "kind": e.kind,
                "primary": "yes" if e.name == d.primary else "",
                "source": e.column or e.event,
                "day": e.day,
            }
            for e in d.endpoints
        ]
    )
    rule = d.decision
    decision = (
        f"<p>Decision rule: {escape(rule.treatment)} vs {escape(rule.control)} on "
        f"{escape(rule.endpoint)}, two-sided alpha {rule.alpha:g}, margin "
        f"{rule.margin:g}, {rule.better} is better.</p>"
        if rule
        else ""
    )
    model = result.trial.model
    return (
        f"<p>{escape(d.description)}</p>"
        f"<p>Model <b>{escape(model.name)}</b> ({escape(model.reference)});"
        f" sample size {d.sample_size}; follow-up {d.follow_up_days:g} days; visits at days "
        f"{', '.join(f'{v:g}' for v in d.visits.days)} (window {d.visits.window_days:g} d);"
        f" dropout {d.dropout.rate_per_year:g} per year; allocation by permuted blocks"
        f"{' stratified by ' + ', '.join(d.allocation.strata) if d.allocation.strata else ''};"
        f" seed {d.seed}.</p>"
        + _table(arms)
        + "<h3>Eligibility</h3>"
        + _table(crit)
        + "<h3>Endpoints</h3>"
        + _table(eps)
        + decision
    )


def render(
    result: TrialResult,
    prov: dict,
    figures: Path | None = None,
    datasets: dict[str, pd.DataFrame] | None = None,
) -> str:
    """The report as an HTML string (figures also written to ``figures`` when given).

    ``prov`` is the provenance the trial folder records (model, relations, seed, versions).
    """
    design = result.trial.design
    names = {a.code: a.name for a in design.arms}
    labels = {e.name: e.title for e in design.endpoints}
    figs = Figures(figures)
    parts = [
        f"<h1>Virtual trial: {escape(design.name)}</h1>",
        "<h2>1. Design</h2>",
        _design_html(result),
    ]
    flow, arm_flow = _flow(result)
    parts += [
        "<h2>2. Flow of virtual patients</h2>",
        figs.img("consort", tf.consort(flow, arm_flow), "CONSORT flow"),
        _table(result.screening),
    ]
    parts += ["<h2>3. Baseline characteristics</h2>", _table(baseline_table(result))]
    parts.append("<h2>4. Primary endpoint and decision</h2>")
    primary = result.arms[result.arms["endpoint"] == design.primary]
    parts.append(_table(primary.assign(arm=primary["arm"].map(names))))
    if result.decision:
        ok = result.decision.get("success")
        verdict = '<span class="ok">met</span>' if ok else '<span class="no">not met</span>'
        detail = {k: v for k, v in result.decision.items() if k not in ("success",)}
        parts.append(f"<p>Decision rule {verdict}.</p>" + _table(pd.DataFrame([detail])))
    parts += [
        "<h2>5. All endpoints by arm</h2>",
        _table(result.arms.assign(arm=result.arms["arm"].map(names))),
    ]
    parts.append("<h2>6. Arm differences</h2>")
    if (result.differences["kind"] == "binary").any():
        parts.append(figs.img("forest", tf.forest(result.differences, labels, names), "forest"))
    parts.append(_table(result.differences))
    parts.append("<h2>7. Time to event</h2>")
    for ep in design.endpoints:
        curve = result.km[result.km["endpoint"] == ep.name]
        if ep.kind != "time_to_event" or curve.empty:
            continue
        rows = result.outcomes[result.outcomes["endpoint"] == ep.name]
        good = ep.event in ("remission", "b_cell_return", "seroconversion")
        parts.append(
            figs.img(
                f"km_{ep.name}",
                tf.km(curve, rows, ep.title, names, cumulative=good),
                f"Kaplan-Meier {ep.title}",
            )
        )
    parts.append("<h2>8. Kinetics</h2>")
    bands = result.bands
    for output in KINETIC_OUTPUTS:
        if output in bands.columns and len(bands):
            parts.append(figs.img(f"kinetics_{output}", tf.kinetics(bands, output, names), output))
    parts.append(
        '<p class="small">Median and 5-95 % band of the first patients of each arm '
        "(at most 500 per arm), up to each patient's last day of follow-up.</p>"
    )
    parts.append("<h2>9. Grades and disease activity</h2>")
    for column, title in GRADED.items():
        if column in result.patients.columns:
            parts.append(figs.img(column, tf.grades(result.patients, column, title, names), title))
    if "sledai_2k" in result.visits.columns and len(result.visits):
        parts.append(figs.img("sledai_bands", tf.activity(result.visits), "SLEDAI-2K bands"))
    if datasets and len(datasets.get("adae", [])):
        ae = (
            datasets["adae"]
            .groupby(["ARM", "AEDECOD"], observed=True)
            .size()
            .reset_index(name="patients")
        )
        parts += ["<h3>Adverse events (ADAE)</h3>", _table(ae)]
    if not result.power.empty:
        parts += [
            "<h2>10. Replicate trials</h2>",
            "<p>Each replicate enrols new virtual patients (sampling noise); with parameter "
            "uncertainty each also draws the model's uncertain typical values from their "
            "prior ranges.</p>",
            _table(result.power),
        ]
    versions = pd.DataFrame(list(prov["versions"].items()), columns=["software", "version"])
    parts += [
        "<h2>Notes</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in result.notes) + "</ul>",
        "<h2>Provenance</h2>",
        f"<p>Model {escape(prov['model']['title'])}; covariates "
        f"{escape(str(prov['covariates']))}; seed {prov['seed']}; created "
        f"{prov['created']}; {prov['seconds']:.1f} s.</p>",
        _table(pd.DataFrame(prov["relations"])),
        _table(versions),
        "<h3>Covariate sources</h3>",
        _table(
            result.trial.covariates.table()[
                ["name", "distribution", "a", "b", "unit", "source", "confidence"]
            ]
        ),
    ]
    return document(design.name, "\n".join(parts))


def write_report(
    result: TrialResult,
    prov: dict,
    path: Path,
    figures: Path | None = None,
    datasets: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Write the report to ``path`` (figures as PNG under ``figures`` too)."""
    path.write_text(render(result, prov, figures, datasets), encoding="utf-8")
    return path
