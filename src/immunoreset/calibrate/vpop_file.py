"""Virtual-population selection from files: a cloud CSV, a targets YAML, an output folder.

The targets file names, for each marker column of the cloud, the distribution it should have::

    method: acceptance_rejection        # or prevalence_weights
    seed: 2016                          # acceptance draws (per patient: order-independent)
    bins: 20                            # prevalence weighting only
    targets:
      b_cells_blood: {lognormal: {meanlog: 4.96, sdlog: 0.6}}
      c3: {normal: {mean: 78, sd: 22}}
      anti_dsdna: {empirical: [120, 340, 85, 410, 260]}
      complement: {multivariate_normal: {markers: [c3, c4], mean: [78, 12],
                   covariance: [[484, 40], [40, 16]]}}

The cloud CSV has a ``patient_id`` column and one column per marker (e.g. the baseline outputs of a
simulated population). The folder gets ``selection.csv`` (patient_id, weight, selected),
``summary.csv`` (goodness of fit per marker, effective sample size) and ``vpop.json``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from immunoreset.calibrate.vpop import (
    Selection,
    TargetDistribution,
    acceptance_rejection,
    prevalence_weights,
)
from immunoreset.files import abandon_folder, begin_folder, finish_folder
from immunoreset.scenario.load import MAX_FILE_BYTES, ScenarioError, read_text_limited, read_yaml

VPOP_FILE = "vpop.json"
METHODS = ("acceptance_rejection", "prevalence_weights")
MAX_CLOUD_BYTES = 500 * 1024 * 1024


class VpopFileError(ScenarioError):
    """A targets file that cannot be used (names the field, the value and what is allowed)."""


def _target(source: str, key: str, spec: Any) -> TargetDistribution:
    where = f"targets.{key}"
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise VpopFileError(
            source, where, spec, "one of normal, lognormal, empirical, multivariate_normal"
        )
    ((kind, args),) = spec.items()
    try:
        if kind == "empirical":
            return TargetDistribution.empirical(args)
        if kind in ("normal", "lognormal", "multivariate_normal") and isinstance(args, Mapping):
            return getattr(TargetDistribution, kind)(**args)
    except (TypeError, ValueError) as exc:
        raise VpopFileError(source, f"{where}.{kind}", args, str(exc)) from None
    raise VpopFileError(
        source, where, kind, "normal: {mean, sd}, lognormal: {meanlog, sdlog}, empirical: [values]"
        " or multivariate_normal: {markers, mean, covariance}",
    )  # fmt: skip


def read_vpop_targets(path: str | Path) -> tuple[dict[str, TargetDistribution], dict[str, Any]]:
    """The targets and the settings (method, seed, bins) of a targets file."""
    p = Path(path)
    data = read_yaml(read_text_limited(p, MAX_FILE_BYTES, str(p)), str(p), VpopFileError)
    if not isinstance(data, Mapping) or not isinstance(data.get("targets"), Mapping):
        raise VpopFileError(str(p), "targets", data, "a mapping of marker: distribution")
    unknown = sorted(set(data) - {"targets", "method", "seed", "bins"})
    if unknown:
        raise VpopFileError(str(p), unknown[0], data[unknown[0]], "targets, method, seed or bins")
    settings = {
        "method": data.get("method", "acceptance_rejection"),
        "seed": data.get("seed", 0),
        "bins": data.get("bins", 20),
    }
    if settings["method"] not in METHODS:
        raise VpopFileError(str(p), "method", settings["method"], "one of " + ", ".join(METHODS))
    for key in ("seed", "bins"):
        value = settings[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < (0 if key == "seed" else 2)
        ):
            raise VpopFileError(
                str(p), key, value, f"a whole number >= {0 if key == 'seed' else 2}"
            )
    targets = {str(k): _target(str(p), str(k), v) for k, v in data["targets"].items()}
    return targets, settings


def select_population(cloud: str | Path, targets_file: str | Path) -> Selection:
    """Select (or weight) the patients of the cloud CSV to match the targets file."""
    targets, settings = read_vpop_targets(targets_file)
    text = read_text_limited(Path(cloud), MAX_CLOUD_BYTES, str(cloud))
    try:
        frame = pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise VpopFileError(str(cloud), "<file>", "", f"a CSV table ({exc})") from None
    if settings["method"] == "acceptance_rejection":
        return acceptance_rejection(frame, targets, rng_seed=settings["seed"])
    return prevalence_weights(frame, targets, bins=settings["bins"])


def write_selection(selection: Selection, out: str | Path, overwrite: bool = False) -> Path:
    """Write ``selection`` as a folder (built aside, moved into place; ``overwrite`` replaces only
    an earlier selection folder)."""
    out = Path(out)
    work = begin_folder(out, VPOP_FILE, "virtual-population", overwrite)
    try:
        selection.table().to_csv(work / "selection.csv", index=False)
        selection.summary().to_csv(work / "summary.csv", index=False)
        meta = {
            "method": selection.method,
            "patients": len(selection.patient_id),
            "selected": selection.n_selected,
            "effective_sample_size": selection.ess,
        }
        (work / VPOP_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        finish_folder(work, out, VPOP_FILE)
    except BaseException:
        abandon_folder(work)
        raise
    return out
