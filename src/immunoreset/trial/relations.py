"""Covariate relations: how a patient's covariates set the model's parameters.

A relation file ``trial/data/relations_<model>.csv`` lists ``covariate, parameter, factor, source``:
the patient's ``parameter`` is ``factor x covariate`` (a unit change or identity), replacing the
typical value and any between-patient draw of that parameter. Only documented, proportional
relations are used: a covariate either is the model's baseline quantity in another unit (baseline
B cells, anti-dsDNA, C3, proteinuria) or scales doses and volumes (weight, body surface area).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from immunoreset.model.core import Model


@dataclass(frozen=True)
class Relation:
    covariate: str
    parameter: str
    factor: float
    source: str


def load_relations(name: str, model: Model) -> tuple[Relation, ...]:
    """The relations ``relations_<name>.csv``; ``KeyError`` if absent or naming a parameter the
    model lacks."""
    folder = resources.files("immunoreset.trial").joinpath("data")
    target = folder.joinpath(f"relations_{name}.csv")
    if not target.is_file():
        have = sorted(
            p.name.removeprefix("relations_").removesuffix(".csv")
            for p in folder.iterdir()
            if p.name.startswith("relations_")
        )
        raise KeyError(f"bundled relations: {', '.join(have)}")
    lines = [ln for ln in target.read_text("utf-8").splitlines() if not ln.startswith("#")]
    out = tuple(
        Relation(r["covariate"], r["parameter"], float(r["factor"]), r["source"])
        for r in csv.DictReader(lines)
    )
    for rel in out:
        if rel.parameter not in model.parameter_names:
            raise KeyError(f"relations whose parameters model {model.name} has ({rel.parameter})")
    return out


def apply_relations(
    params: np.ndarray, covariates: pd.DataFrame, relations: tuple[Relation, ...], model: Model
) -> np.ndarray:
    """``params`` (rows in the order of ``covariates``) with the related parameters set."""
    out = params.copy()
    for rel in relations:
        out[:, model.parameter_names.index(rel.parameter)] = rel.factor * covariates[
            rel.covariate
        ].to_numpy(dtype=float)
    return out
