"""Virtual-patient covariates drawn from published baseline tables, with their correlations.

A covariate set is two package data files (``trial/data``):

* ``covariates_<name>.csv``: one row per covariate with its marginal distribution (``normal``,
  ``lognormal`` or ``bernoulli``), truncation bounds, rounding, source and confidence;
* ``correlations_<name>.csv``: correlations of the covariates' latent normal scores.

Draws use a Gaussian copula (Nelsen RB, An Introduction to Copulas, 2nd ed. 2006, section 2.9):
each patient draws correlated standard normal scores ``z``, and each covariate is its marginal's
quantile at ``Phi(z)``, so every marginal is exactly the one in the table and the correlations act
on the scores. Body surface area is derived from height and weight (Mosteller RD, N Engl J Med
1987;317:1098). Patient ``i`` draws from its own stream (:mod:`.streams`), so a covariate set does
not depend on how many patients are drawn or in which chunks.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd
from scipy import stats as sps

from immunoreset.trial.streams import Purpose, stream

DISTRIBUTIONS = ("normal", "lognormal", "bernoulli")
DERIVED = {"bsa_m2": ("body surface area (Mosteller)", "m2")}
"""Covariates computed from others rather than drawn."""


@dataclass(frozen=True)
class Covariate:
    """One row of a covariate table (see the module docstring)."""

    name: str
    label: str
    unit: str
    distribution: str
    a: float
    b: float
    low: float
    high: float
    decimals: int
    source: str
    confidence: str

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Values at probabilities ``u`` of the truncated marginal, rounded to ``decimals``."""
        if self.distribution == "bernoulli":
            return (u > 1.0 - self.a).astype(float)
        log = self.distribution == "lognormal"
        loc, scale = (np.log(self.a), self.b) if log else (self.a, self.b)
        bounds = np.log([self.low, self.high]) if log else np.array([self.low, self.high])
        p_lo, p_hi = sps.norm.cdf((bounds - loc) / scale)
        values = loc + scale * sps.norm.ppf(p_lo + u * (p_hi - p_lo))
        values = np.exp(values) if log else values
        return np.clip(np.round(values, self.decimals), self.low, self.high)


@dataclass(frozen=True)
class CovariateSet:
    """Marginals and latent correlation matrix of a named covariate set."""

    name: str
    covariates: tuple[Covariate, ...]
    correlation: np.ndarray

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.covariates)

    def table(self) -> pd.DataFrame:
        """The covariate table with sources (for reports and data dictionaries)."""
        return pd.DataFrame([c.__dict__ for c in self.covariates])


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files("immunoreset.trial").joinpath("data", filename).read_text("utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


def available_sets() -> tuple[str, ...]:
    """Names of the bundled covariate sets."""
    folder = resources.files("immunoreset.trial").joinpath("data")
    names = [p.name for p in folder.iterdir() if p.name.startswith("covariates_")]
    return tuple(sorted(n.removeprefix("covariates_").removesuffix(".csv") for n in names))


@cache
def covariate_set(name: str) -> CovariateSet:
    """Load the bundled covariate set ``name``; ``KeyError`` names the available ones."""
    if name not in available_sets():
        raise KeyError(f"no covariate set {name!r}; available: {', '.join(available_sets())}")
    covariates = tuple(
        Covariate(
            name=r["covariate"],
            label=r["label"],
            unit=r["unit"],
            distribution=r["distribution"],
            a=float(r["a"]),
            b=float(r["b"] or "nan"),
            low=float(r["low"]),
            high=float(r["high"]),
            decimals=int(r["decimals"]),
            source=r["source"],
            confidence=r["confidence"],
        )
        for r in _rows(f"covariates_{name}.csv")
    )
    index = {c.name: i for i, c in enumerate(covariates)}
    corr = np.eye(len(covariates))
    for r in _rows(f"correlations_{name}.csv"):
        i, j = index[r["covariate_1"]], index[r["covariate_2"]]
        corr[i, j] = corr[j, i] = float(r["rho"])
    np.linalg.cholesky(corr)  # raises if the stated correlations are not a valid matrix
    return CovariateSet(name, covariates, corr)


def derive(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the derived covariates (``bsa_m2``) that ``frame`` has the inputs for."""
    if {"height_cm", "weight_kg"} <= set(frame.columns) and "bsa_m2" not in frame.columns:
        frame["bsa_m2"] = np.round(np.sqrt(frame["height_cm"] * frame["weight_kg"] / 3600.0), 3)
    return frame


def draw_covariates(
    cset: CovariateSet, ids: np.ndarray, seed: int, replicate: int = 0
) -> pd.DataFrame:
    """Covariates of patients ``ids``: ``patient_id`` then one column per covariate."""
    chol = np.linalg.cholesky(cset.correlation)
    scores = np.empty((len(ids), len(cset.covariates)))
    for row, pid in enumerate(ids):
        rng = stream(seed, replicate, Purpose.COVARIATES, int(pid))
        scores[row] = chol @ rng.standard_normal(len(cset.covariates))
    u = sps.norm.cdf(scores)
    frame = pd.DataFrame({"patient_id": np.asarray(ids, dtype=np.int64)})
    for j, cov in enumerate(cset.covariates):
        frame[cov.name] = cov.quantile(u[:, j])
    return derive(frame)
