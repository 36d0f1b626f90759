"""Reading and checking trial files into a :class:`Trial` ready to run.

Every problem is a :class:`TrialError`: one line naming the file, the field path, the value and
what is allowed (the format of scenario errors). Each arm's scenario is validated as a scenario
file is, so product, regimen and parameter errors read the same as in ``immunoreset validate``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from immunoreset.endpoints import EndpointConfig, compute_endpoints
from immunoreset.model.core import Model
from immunoreset.scenario.load import (
    MAX_FILE_BYTES,
    ScenarioError,
    allowed_text,
    field_path,
    model_of,
    parse_scenario,
    read_text_limited,
    read_yaml,
)
from immunoreset.scenario.schema import Scenario
from immunoreset.trial.covariates import CovariateSet, available_sets, covariate_set
from immunoreset.trial.design import TrialDesign
from immunoreset.trial.relations import Relation, load_relations
from immunoreset.trial.twins import TwinError, read_twins

SET_BY_TRIAL = (
    "horizon_days", "population.size", "population.seed", "store", "endpoints"
)  # fmt: skip
"""Scenario keys a trial sets itself (its follow-up, sample, seed and endpoint library)."""
EVENT_COLUMNS = {
    "b_cell_return": ("patient", "b_cell_reconstitution_d"),
    "remission": ("visit", "doris_remission_off_treatment"),
    "flare": ("visit", "sledai_2k"),
    "seroconversion": ("patient", "anti_dsdna_seroconversion_d"),
}
"""The endpoint-library column each time-to-event endpoint is built from."""


class TrialError(ScenarioError):
    """A trial file is unreadable or invalid (same one-line format as a scenario error)."""


@dataclass(frozen=True)
class Trial:
    """A validated trial: its design, one scenario per arm, covariates and relations."""

    design: TrialDesign
    source: str
    text: str
    arms: dict[str, Scenario]
    model: Model
    covariates: CovariateSet
    twins: pd.DataFrame | None
    relations: tuple[Relation, ...]
    endpoint_config: EndpointConfig
    endpoint_columns: dict[str, frozenset[str]]


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _arm_scenario(design: TrialDesign, index: int, source: str) -> Scenario:
    arm = design.arms[index]
    data = _merge(design.scenario, arm.scenario)
    where = f"arms[{index}].scenario" if arm.scenario else "scenario"
    for key in SET_BY_TRIAL:
        head, _, tail = key.partition(".")
        given = data.get(head, {}).get(tail) if tail else data.get(head)
        if given is not None and (not tail or isinstance(data.get(head), Mapping)):
            raise TrialError(source, f"{where}.{key}", given, "nothing: the trial sets it")
    population = dict(data.get("population") or {})
    population.update(size=1, seed=0, variability=design.population.variability)
    data.update(
        population=population, horizon_days=design.follow_up_days, name=f"{design.name}/{arm.code}"
    )
    try:
        return parse_scenario(data, source)
    except ScenarioError as exc:
        raise TrialError(source, f"{where}.{exc.field}", exc.value, exc.allowed) from None


def _library_columns(
    model_name: str, outputs: tuple[str, ...], config: EndpointConfig
) -> dict[str, frozenset[str]]:
    """Endpoint-library columns produced from ``outputs`` (probed on a two-row table)."""
    probe = pd.DataFrame({"patient_id": [0, 0], "time": [0.0, 1.0]})
    for name in outputs:
        probe[name] = 1.0
    with np.errstate(all="ignore"):
        dictionary = compute_endpoints(probe, config).columns
    return {
        level: frozenset(dictionary.loc[dictionary["table"] == level, "column"])
        for level in ("patient", "visit")
    }


def _check_names(design: TrialDesign, source: str) -> None:
    """Cross-field checks of the design: unique names, references to arms and endpoints."""
    codes = [a.code for a in design.arms]
    names = [e.name for e in design.endpoints]
    for i, code in enumerate(codes):
        if code in codes[:i]:
            raise TrialError(source, f"arms[{i}].code", code, "a code no other arm has")
    for i, name in enumerate(names):
        if name in names[:i]:
            raise TrialError(source, f"endpoints[{i}].name", name, "a name no other endpoint has")
    if design.primary not in names:
        raise TrialError(
            source, "primary", design.primary, f"an endpoint name ({', '.join(names)})"
        )
    rule = design.decision
    if rule is not None:
        if rule.endpoint not in names:
            raise TrialError(
                source, "decision.endpoint", rule.endpoint, f"an endpoint name ({', '.join(names)})"
            )
        if design.endpoint(rule.endpoint).kind == "continuous":
            raise TrialError(
                source, "decision.endpoint", rule.endpoint, "a binary or time_to_event endpoint"
            )
        for key in ("treatment", "control"):
            if getattr(rule, key) not in codes:
                raise TrialError(
                    source,
                    f"decision.{key}",
                    getattr(rule, key),
                    f"an arm code ({', '.join(codes)})",
                )
        if rule.treatment == rule.control:
            raise TrialError(
                source, "decision.control", rule.control, "an arm other than the treatment"
            )
    if design.visits.days[-1] > design.follow_up_days:
        raise TrialError(
            source,
            "visits.days",
            design.visits.days[-1],
            f"days up to follow_up_days ({design.follow_up_days:g})",
        )


def _check_endpoints(
    design: TrialDesign, columns: dict[str, frozenset[str]], source: str, model: str
) -> None:
    for i, ep in enumerate(design.endpoints):
        if ep.kind == "time_to_event":
            level, column = EVENT_COLUMNS[ep.event]  # type: ignore[index]
            if column not in columns[level]:
                raise TrialError(
                    source,
                    f"endpoints[{i}].event",
                    ep.event,
                    f"an event whose column {column} model {model} produces",
                )
            continue
        level = next((lv for lv in ("visit", "patient") if ep.column in columns[lv]), None)
        if level is None:
            produced = sorted(columns["visit"] | columns["patient"])
            raise TrialError(
                source,
                f"endpoints[{i}].column",
                ep.column,
                f"a column the endpoints of model {model} produce ({', '.join(produced)})",
            )
        if level == "visit" and ep.day not in design.visits.days:
            raise TrialError(
                source,
                f"endpoints[{i}].day",
                ep.day,
                f"a day of visits.days for the visit column {ep.column}",
            )
        if level == "patient" and ep.day is not None:
            raise TrialError(
                source,
                f"endpoints[{i}].day",
                ep.day,
                f"nothing: {ep.column} is a patient-level column",
            )


def _population(
    design: TrialDesign, base_dir: Path, source: str
) -> tuple[CovariateSet, pd.DataFrame | None]:
    name = design.population.covariates
    if name in available_sets():
        return covariate_set(name), None
    path = base_dir / name
    if not name.endswith(".csv") or not path.is_file():
        raise TrialError(
            source,
            "population.covariates",
            name,
            f"a covariate set ({', '.join(available_sets())}) or a CSV file of baseline characteristics",
        )
    cset = covariate_set(available_sets()[0])
    try:
        return cset, read_twins(path, cset)
    except (TwinError, ScenarioError) as exc:
        raise TrialError(source, "population.covariates", name, f"a valid CSV ({exc})") from None


def _check_covariates(
    design: TrialDesign, names: set[str], relations: tuple[Relation, ...], source: str
) -> None:
    allowed = ", ".join(sorted(names))
    for i, crit in enumerate(design.eligibility):
        if crit.covariate not in names:
            raise TrialError(source, f"eligibility[{i}].covariate", crit.covariate, allowed)
    for i, stratum in enumerate(design.allocation.strata):
        if stratum not in names:
            raise TrialError(source, f"allocation.strata[{i}]", stratum, allowed)
    for rel in relations:
        if rel.covariate not in names:
            raise TrialError(
                source,
                "population.relations",
                rel.covariate,
                f"relations whose covariates the population has ({allowed})",
            )
    total = sum(a.ratio for a in design.arms)
    block = design.allocation.block_size
    if block is not None and block % total:
        raise TrialError(
            source,
            "allocation.block_size",
            block,
            f"a multiple of the sum of the arm ratios ({total})",
        )


def parse_trial(
    data: Any, source: str = "<trial>", base_dir: Path = Path("."), text: str = ""
) -> Trial:
    """Validate a parsed trial document (see :mod:`immunoreset.trial.design`)."""
    if not isinstance(data, dict):
        raise TrialError(source, "<file>", type(data).__name__, "a YAML mapping of trial keys")
    try:
        design = TrialDesign.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        value = err.get("input") if err.get("type") != "missing" else None
        raise TrialError(
            source, field_path(tuple(err.get("loc", ()))), value, allowed_text(err)
        ) from None
    _check_names(design, source)
    arms = {arm.code: _arm_scenario(design, i, source) for i, arm in enumerate(design.arms)}
    models = {s.model for s in arms.values()}
    if len(models) != 1:
        raise TrialError(source, "arms[].scenario.model", sorted(models), "one model for all arms")
    first = next(iter(arms.values()))
    model = model_of(first)
    cset, twins = _population(design, base_dir, source)
    names = set(twins.columns if twins is not None else (*cset.names, "bsa_m2")) - {"patient_id"}
    try:
        relations = load_relations(design.population.relations or model.name, model)
    except KeyError as exc:
        raise TrialError(
            source, "population.relations", design.population.relations, str(exc.args[0])
        ) from None
    _check_covariates(design, names, relations, source)
    settings = dict(design.endpoint_settings)
    try:
        config = EndpointConfig(
            **settings,
            visits=tuple(design.visits.days),
            visit_tolerance_d=design.visits.window_days,
        )
    except (TypeError, ValueError) as exc:
        raise TrialError(
            source, "endpoint_settings", settings, f"EndpointConfig fields ({exc})"
        ) from None
    outputs = tuple(sorted(set().union(*(s.outputs or model.observables for s in arms.values()))))
    columns = _library_columns(model.name, outputs, config)
    _check_endpoints(design, columns, source, model.name)
    return Trial(design, source, text, arms, model, cset, twins, relations, config, columns)


def trial_from_text(text: str, source: str = "<trial>", base_dir: Path = Path(".")) -> Trial:
    """Validate trial YAML text (duplicate keys rejected)."""
    return parse_trial(read_yaml(text, source, TrialError), source, base_dir, text)


def load_trial(path: str | Path) -> Trial:
    """Read and validate a trial YAML file (at most 1 MB); CSV paths in it are relative to it."""
    p = Path(path)
    if p.is_dir():
        raise TrialError(str(p), "<file>", str(p), "a trial file, not a folder")
    try:
        text = read_text_limited(p, MAX_FILE_BYTES, str(p))
    except ScenarioError as exc:
        raise TrialError(exc.source, exc.field, exc.value, exc.allowed) from None
    return trial_from_text(text, str(p), p.parent)
