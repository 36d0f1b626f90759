"""The trial folder: what ``immunoreset trial TRIAL.yaml --out DIR`` writes.

| path | content |
|---|---|
| ``trial.json`` | design (as validated), seed, counts, decision, power, provenance (versions) |
| ``trial.yaml`` | the trial file exactly as given |
| ``arms/<code>/`` | one run directory per arm (``immunoreset.read_run`` reads it) |
| ``datasets/{adsl,adtte,adlb,adae}.{parquet,csv}`` | ADaM-like datasets |
| ``datasets/dictionary.csv`` | dataset, variable, type, label |
| ``analysis/*.csv`` | screening log, arm estimates, differences, Kaplan-Meier curves, replicates |
| ``report.html`` | the self-contained report; ``figures/*.png`` its figures |

The folder is built under a temporary sibling name and renamed into place when complete, so a
folder that exists is whole. ``overwrite`` replaces only an earlier trial folder (one holding
``trial.json``); anything else at the path is left untouched and refused.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from immunoreset.files import OutputFolderError, abandon_folder, begin_folder, finish_folder
from immunoreset.runs.execute import package_versions

if TYPE_CHECKING:
    from immunoreset.trial.run import TrialResult

TRIAL_FILE = "trial.json"


class TrialFolderError(OutputFolderError):
    """The output folder cannot take the trial (one line saying why)."""


def begin(out: Path, overwrite: bool) -> Path:
    """Check ``out`` and create the temporary work folder next to it."""
    return begin_folder(out, TRIAL_FILE, "trial", overwrite, TrialFolderError)


def abandon(work: Path) -> None:
    abandon_folder(work)


def _csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False)


def datasets(result: TrialResult) -> dict[str, pd.DataFrame]:
    """The ADaM-like datasets of ``result``."""
    from immunoreset.trial import datasets as ad

    design = result.trial.design
    covariates = [
        c for c in result.subjects.columns if c in {*result.trial.covariates.names, "bsa_m2"}
    ]
    return {
        "adsl": ad.adsl(result.subjects, result.patients, design, covariates),
        "adtte": ad.adtte(result.outcomes, design),
        "adlb": ad.adlb(result.visits, design),
        "adae": ad.adae(result.patients, design),
    }


def provenance(result: TrialResult) -> dict:
    trial = result.trial
    model = trial.model
    return {
        "trial": trial.design.name,
        "seed": trial.design.seed,
        "model": {"name": model.name, "title": model.title, "reference": model.reference},
        "covariates": trial.design.population.covariates,
        "relations": [r.__dict__ for r in trial.relations],
        "versions": package_versions(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(result.seconds, 3),
    }


def finish(result: TrialResult, work: Path, out: Path, report: bool = True) -> None:
    """Write datasets, analysis tables, ``trial.json`` and the report; move into place."""
    data = work / "datasets"
    data.mkdir()
    tables = datasets(result)
    from immunoreset.trial.datasets import dictionary

    labels = {c.name: f"{c.label} ({c.unit})" for c in result.trial.covariates.covariates}
    _csv(dictionary(tables, labels), data / "dictionary.csv")
    for name, table in tables.items():
        table.to_parquet(data / f"{name}.parquet", index=False)
        _csv(table, data / f"{name}.csv")
    analysis = work / "analysis"
    analysis.mkdir()
    for name in ("screening", "arms", "differences", "km", "replicates", "power"):
        _csv(getattr(result, name), analysis / f"{name}.csv")
    (work / "trial.yaml").write_text(result.trial.text, encoding="utf-8")
    prov = provenance(result)
    meta = {
        "design": result.trial.design.model_dump(mode="json"),
        "screened": len(result.subjects),
        "eligible": int(result.subjects["eligible"].sum()),
        "randomised": int(result.subjects["randomised"].sum()),
        "n_failed": result.n_failed,
        "decision": result.decision,
        "power": result.power.to_dict("records"),
        "notes": list(result.notes),
        "provenance": prov,
    }
    if report:
        from immunoreset.report.trial_report import write_report

        write_report(result, prov, work / "report.html", work / "figures", tables)
    (work / TRIAL_FILE).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    finish_folder(work, out, TRIAL_FILE)
