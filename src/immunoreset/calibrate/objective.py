"""Negative log-likelihoods of a scenario's parameters against clinical data.

Two kinds of data, two objectives, both plain callables ``nll(values) -> float`` for
:func:`immunoreset.calibrate.fit.maximum_likelihood`:

* :class:`SummaryObjective`: published summary statistics (a mean and SD, an observed range, a
  count). Each evaluation simulates the scenario's virtual cohort (between-patient variability on,
  common random numbers: :mod:`.cohort`), reads each target's quantity for every virtual patient
  (:mod:`.quantities`) and adds the targets' log-likelihoods (:mod:`.likelihood`). The cohort is
  the model's population distribution; the likelihood accounts for the study's size ``n``.
* :class:`IndividualObjective`: individual observations (NONMEM-style rows, :mod:`.data`) with a
  residual error model and samples below the LLOQ handled by the M3 method. Subjects share the
  typical parameters (a naive pooled fit); subjects with different doses are simulated at their
  own dose. The residual error SDs are estimated with the model parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from immunoreset.calibrate.cohort import Cohort, Trajectories
from immunoreset.calibrate.data import MediansAtTimes, Target
from immunoreset.calibrate.likelihood import (
    has_likelihood,
    individual_loglik,
    medians_at_times_loglik,
    target_loglik,
)
from immunoreset.calibrate.quantities import Quantity, QuantitySeries, per_patient
from immunoreset.scenario.schema import Scenario
from immunoreset.simulate.engine import simulate

ERROR_MODELS = ("lognormal", "proportional", "additive", "combined")
"""Residual error models: ``lognormal`` (exponential: log(obs) ~ N(log(pred), sigma)),
``proportional`` (sd = sigma * pred), ``additive`` (sd = sigma), ``combined`` (sd =
sqrt(sigma_add^2 + (sigma_prop * pred)^2))."""


def target_quantity(target: Target, text: str) -> Quantity | QuantitySeries:
    """The quantity ``text`` names for ``target``: read on each of its days for a target reported
    at several times (:class:`~immunoreset.calibrate.quantities.QuantitySeries`). A bad ``text``
    raises ``ValueError`` naming the target, the text and what is allowed."""
    try:
        if isinstance(target, MediansAtTimes):
            return QuantitySeries.parse(text, target.times)
        return Quantity.parse(text)
    except ValueError as exc:
        raise ValueError(f"target {target.id!r}: {exc}") from None


def _day_rows(target: MediansAtTimes, q: QuantitySeries, sim: np.ndarray) -> list[dict]:
    """One row per day of a target reported at several times: that day's term of its
    log-likelihood (the terms add up to the target's) and the cohort's summary on the day."""
    log = all(m > 0 for m in target.medians)
    rows = []
    for j, (part, median) in enumerate(zip(q.parts, target.medians, strict=True)):
        day = sim[:, j]
        term = medians_at_times_loglik([median], target.n, day[:, None], log_scale=log)
        rows.append(_row(target, str(part), float(term), day))
    return rows


def _row(target: Target, quantity: str, loglik: float, sim: np.ndarray) -> dict:
    finite = sim[np.isfinite(sim)]
    return {
        "target": target.id,
        "statistic": target.statistic,
        "quantity": quantity,
        "unit": target.unit,
        "loglik": loglik,
        "evaluable": int(np.count_nonzero(~np.isnan(sim))),
        "cohort_median": float(np.median(finite)) if len(finite) else np.nan,
        "cohort_p05": float(np.percentile(finite, 5)) if len(finite) else np.nan,
        "cohort_p95": float(np.percentile(finite, 95)) if len(finite) else np.nan,
        "cohort_mean": float(np.mean(finite)) if len(finite) else np.nan,
    }


class SummaryObjective:
    """Negative log-likelihood of summary targets, each read as a quantity of the virtual cohort."""

    def __init__(
        self, scenario: Scenario, names: Sequence[str], targets: Sequence[Target],
        quantities: Mapping[str, str],
    ) -> None:  # fmt: skip
        by_id = {t.id: t for t in targets}
        unknown = sorted(set(quantities) - set(by_id))
        if unknown:
            raise ValueError(
                f"quantities given for targets {unknown} that are not in the targets file; "
                f"allowed: {sorted(by_id)}"
            )
        self.pairs: list[tuple[Target, Quantity | QuantitySeries]] = []
        for target_id, text in quantities.items():
            target = by_id[target_id]
            if not has_likelihood(target):
                raise ValueError(
                    f"target {target_id!r}: statistic {target.statistic!r} has no likelihood; "
                    "allowed: a target with a measured statistic"
                )
            self.pairs.append((target, target_quantity(target, text)))
        if not self.pairs:
            raise ValueError("targets: none chosen; allowed: at least one target: quantity pair")
        self.cohort = Cohort(scenario, names)
        first_dose = self.cohort.inputs.regimen.first_day
        self.baseline_day = float(first_dose)
        observables = self.cohort.inputs.model.observables
        for _, q in self.pairs:
            if q.observable not in observables:
                raise ValueError(
                    f"quantity {q}: {q.observable!r} is not an output of this model; allowed: "
                    f"{', '.join(observables)}"
                )

    def simulated(self, traj: Trajectories) -> dict[str, np.ndarray]:
        """Per-patient values of each target's quantity, in the target's unit."""
        return {
            t.id: per_patient(traj, q, self.baseline_day) / t.model_factor for t, q in self.pairs
        }

    def contributions(self, values: np.ndarray) -> pd.DataFrame:
        """One row per target (per day for a target reported at several times): its
        log-likelihood and the cohort's summary of its quantity."""
        traj = self.cohort(values)
        rows = []
        for target, q in self.pairs:
            sim = per_patient(traj, q, self.baseline_day) / target.model_factor
            if isinstance(q, QuantitySeries) and isinstance(target, MediansAtTimes):
                rows += _day_rows(target, q, sim)
            else:
                rows.append(_row(target, str(q), float(target_loglik(target, sim)), sim))
        return pd.DataFrame(rows)

    def _nll(self, traj: Trajectories) -> float:
        total = 0.0
        for target, sim in zip(
            (t for t, _ in self.pairs), self.simulated(traj).values(), strict=True
        ):
            total += float(target_loglik(target, sim))
        return -total

    def __call__(self, values: np.ndarray) -> float:
        return self._nll(self.cohort(values))

    def batch(self, rows: np.ndarray) -> np.ndarray:
        """The objective at each row of values, from one engine batch."""
        return np.array([self._nll(traj) for traj in self.cohort.many(rows)])


@dataclass(frozen=True)
class ErrorModel:
    """Residual error of one observable: its kind and the names of its SD parameters."""

    observable: str
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in ERROR_MODELS:
            raise ValueError(
                f"error model of {self.observable!r}: got {self.kind!r}; allowed: "
                f"{', '.join(ERROR_MODELS)}"
            )

    @property
    def parameter_names(self) -> tuple[str, ...]:
        if self.kind == "combined":
            return (f"sigma_add:{self.observable}", f"sigma_prop:{self.observable}")
        return (f"sigma:{self.observable}",)

    def sigmas(self, values: Sequence[float]) -> tuple[float, float, bool]:
        """``(sigma_add, sigma_prop, log_scale)`` for :func:`individual_loglik`."""
        if self.kind == "combined":
            return float(values[0]), float(values[1]), False
        s = float(values[0])
        return {
            "lognormal": (0.0, s, True),
            "proportional": (0.0, s, False),
            "additive": (s, 0.0, False),
        }[self.kind]


class IndividualObjective:
    """Negative log-likelihood of individual observations (naive pooled, M3 for BLQ samples).

    The estimated values are the model parameters ``names`` followed by the residual SDs of each
    observed observable (:attr:`ErrorModel.parameter_names`, in the order of ``errors``).
    """

    def __init__(
        self, scenario: Scenario, names: Sequence[str], observations: pd.DataFrame,
        errors: Mapping[str, str],
    ) -> None:  # fmt: skip
        obs = observations[observations["evid"] == 0]
        doses = observations[observations["evid"] == 1]
        observed = sorted(obs["name"].unique())
        missing = sorted(set(observed) - set(errors))
        if missing:
            raise ValueError(
                f"error model: none given for observed {missing}; allowed kinds: "
                f"{', '.join(ERROR_MODELS)}"
            )
        self.errors = [ErrorModel(name, errors[name]) for name in observed]
        self.names = tuple(names)
        self.groups: list[tuple[Cohort, pd.DataFrame]] = []
        amounts = _subject_doses(doses)
        for amount, subjects in _dose_groups(obs, amounts).items():
            cohort = Cohort(_at_dose(_typical(scenario), amount), names)
            rows = obs[obs["subject"].isin(subjects)]
            self.groups.append((cohort, rows))
        self._layout: list[tuple[np.ndarray, np.ndarray, list[int]]] = []
        self._patterns = {}
        for cohort, rows in self.groups:
            observables = cohort.inputs.model.observables
            unknown = sorted(set(rows["name"]) - set(observables))
            if unknown:
                raise ValueError(
                    f"observations of {unknown} are not outputs of model "
                    f"{cohort.inputs.model.name!r}"
                )
            times = np.unique(rows["time"].to_numpy(dtype=float))
            pos = np.searchsorted(times, rows["time"].to_numpy(dtype=float))
            self._layout.append((times, pos, [observables.index(n) for n in rows["name"]]))
            inp = cohort.inputs
            self._patterns[id(cohort)] = inp.model.typical_parameters(inp.overrides)
        # per error model: the rows (in group order) and their values, BLQ flags and limits
        ordered = pd.concat([rows for _, rows in self.groups], ignore_index=True)
        lloq = ordered["lloq"].fillna(ordered["value"])  # a BLQ sample's value is its limit
        self._samples = [
            (
                np.flatnonzero(ordered["name"] == e.observable),
                ordered["value"].to_numpy(float)[ordered["name"] == e.observable],
                ordered["blq"].to_numpy(bool)[ordered["name"] == e.observable],
                lloq.to_numpy(float)[ordered["name"] == e.observable],
            )
            for e in self.errors
        ]

    @property
    def error_parameter_names(self) -> tuple[str, ...]:
        return tuple(n for e in self.errors for n in e.parameter_names)

    def _predicted(self, values: np.ndarray) -> list[np.ndarray]:
        """The typical patient's prediction at every observation row, group by group."""
        model_values = np.asarray(values)[: len(self.names)]
        out = []
        for (cohort, _), (times, pos, col) in zip(self.groups, self._layout, strict=True):
            inp = cohort.inputs
            params = cohort.parameters(model_values)
            res = simulate(
                inp.model, params, inp.events(params), times, inp.settings,
                min(float(times[0]), inp.t_start), pattern_parameters=self._patterns[id(cohort)],
            )  # fmt: skip
            if res.status[0] != 0:
                raise FloatingPointError(res.status_message(0))
            out.append(res.values[0, pos, col])
        return out

    def predictions(self, values: np.ndarray) -> pd.DataFrame:
        """The observation rows with the typical patient's prediction at each (``pred``)."""
        frames = [
            rows.assign(pred=pred)
            for (_, rows), pred in zip(self.groups, self._predicted(values), strict=True)
        ]
        return pd.concat(frames).sort_index()

    def __call__(self, values: np.ndarray) -> float:
        try:
            pred = np.concatenate(self._predicted(values))
        except FloatingPointError:
            return np.inf
        sigmas = np.asarray(values)[len(self.names) :]
        total, k = 0.0, 0
        for error, (rows, value, blq, lloq) in zip(self.errors, self._samples, strict=True):
            width = len(error.parameter_names)
            add, prop, log_scale = error.sigmas(sigmas[k : k + width])
            k += width
            loglik = individual_loglik(value, pred[rows], add, prop, blq, lloq, log_scale=log_scale)
            total += float(loglik)
        return -total


def _typical(scenario: Scenario) -> Scenario:
    """``scenario`` with one patient at the typical parameters (a naive pooled fit)."""
    population = scenario.population.model_copy(update={"size": 1, "variability": False})
    return scenario.model_copy(update={"population": population})


def _subject_doses(doses: pd.DataFrame) -> dict[str, float]:
    out: dict[str, float] = {}
    for subject, rows in doses.groupby("subject"):
        if len(rows) > 1 or float(rows["time"].iloc[0]) != 0.0:
            raise ValueError(
                f"subject {subject}: dose records {rows['time'].tolist()}; allowed: one dose "
                "record at TIME 0 (the infusion; the scenario's regimen gives the schedule)"
            )
        out[str(subject)] = float(rows["amount"].iloc[0])
    return out


def _dose_groups(obs: pd.DataFrame, amounts: Mapping[str, float]) -> dict[float | None, list]:
    groups: dict[float | None, list] = {}
    for subject in obs["subject"].unique():
        groups.setdefault(amounts.get(str(subject)), []).append(subject)
    return groups


def _at_dose(scenario: Scenario, amount: float | None) -> Scenario:
    """``scenario`` with its product dose value set to ``amount`` (same unit); unchanged when the
    subject has no dose record."""
    if amount is None:
        return scenario
    product = scenario.product
    if product.dose is None:
        raise ValueError(
            "dose records need a scenario whose product gives its dose (value and unit)"
        )
    dose = product.dose.model_copy(update={"value": amount})
    return scenario.model_copy(update={"product": product.model_copy(update={"dose": dose})})
