"""Per-patient quantities read from simulated trajectories: one grammar for calibration targets,
validation and sensitivity outputs.

A summary target says, for example, "peak CAR T cells in blood: observed range 30-1000 cells/uL in
5 patients" or "time to B-cell reappearance: mean 110 (SD 32) days". Its likelihood needs the same
quantity for every virtual patient; a sensitivity analysis needs it for every parameter row. A
quantity is written ``KIND:OBSERVABLE`` with ``@DAY`` for the kinds that read one day:

``peak:OBS`` / ``min:OBS``
    highest / lowest value from day 0 on (unit of OBS);
``peak_day:OBS``
    time of that peak (day): the output time of the largest value refined by the parabola through
    it and its two neighbours, so it changes continuously with the parameters;
``auc:OBS``
    area under the curve from day 0 to the last output time, trapezoid rule (unit x day);
``value:OBS@DAY``
    value at DAY, linearly interpolated between output times (exact on the grid);
``change_percent:OBS@DAY``
    percent change at DAY from the baseline, the last output time at or before the first dose
    (before lymphodepletion: the baseline of the clinical tables);
``fraction_of_peak:OBS@DAY``
    value at DAY over the peak;
``return_day:OBS``
    the endpoints library's aplasia/reconstitution definition: aplasia starts at the first time
    from day 0 strictly below 1 (unit of OBS); the return is the first later output time at or
    above 1 that the next output time confirms; ``inf`` when there is none (censored), NaN when
    there is no aplasia;
``aplasia_day:OBS``
    first time from day 0 strictly below 1.

All are read off the output grid, so they are only as fine as it is. A target reported at several
days (medians on days 7, 14, 28 and 90) is read with a kind that takes a day, written without one
(``value:car_t_blood``): :class:`QuantitySeries` reads it on each of the target's days.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from immunoreset.calibrate.cohort import Trajectories
from immunoreset.observables import OBSERVABLES

APLASIA_THRESHOLD = 1.0
"""cells/uL; the default threshold of the ``b_cell_aplasia_reconstitution`` instrument."""

KINDS = (
    "peak",
    "peak_day",
    "min",
    "auc",
    "value",
    "change_percent",
    "fraction_of_peak",
    "return_day",
    "aplasia_day",
)
NEEDS_DAY = {"value", "change_percent", "fraction_of_peak"}
FORMS = "KIND:OBSERVABLE, or KIND:OBSERVABLE@DAY for value, change_percent, fraction_of_peak"
_TEXT = re.compile(r"^(?P<kind>[a-z_]+):(?P<obs>[A-Za-z0-9_]+)(?:@(?P<day>[^@]+))?$")


@dataclass(frozen=True)
class Quantity:
    """A parsed quantity: its kind, observable and (for some kinds) the day."""

    kind: str
    observable: str
    day: float | None = None

    @classmethod
    def parse(cls, text: str) -> Quantity:
        m = _TEXT.match(text.strip()) if isinstance(text, str) else None
        if m is None or m["kind"] not in KINDS:
            raise ValueError(
                f"quantity: got {text!r}; allowed: {FORMS}, with KIND one of {', '.join(KINDS)}"
            )
        kind, day = m["kind"], m["day"]
        if (kind in NEEDS_DAY) != (day is not None):
            need = "needs" if kind in NEEDS_DAY else "takes no"
            raise ValueError(f"quantity: got {text!r}; allowed: {FORMS} ({kind} {need} a day)")
        try:
            value = float(day) if day is not None else None
        except ValueError:
            raise ValueError(f"quantity: got {text!r}; the day {day!r} is not a number") from None
        return cls(kind, m["obs"], value)

    def __str__(self) -> str:
        return f"{self.kind}:{self.observable}" + (f"@{self.day:g}" if self.day is not None else "")

    @property
    def unit(self) -> str:
        unit = OBSERVABLES[self.observable].unit if self.observable in OBSERVABLES else ""
        if self.kind in ("peak_day", "return_day", "aplasia_day"):
            return "day"
        if self.kind == "auc":
            return f"{unit} x day"
        if self.kind == "change_percent":
            return "percent"
        if self.kind == "fraction_of_peak":
            return "dimensionless"
        return unit

    def check(self, observables: Sequence[str], times: np.ndarray) -> Quantity:
        """This quantity, checked against a model's outputs and an output grid."""
        if self.observable not in observables:
            raise ValueError(
                f"quantity {self}: {self.observable!r} is not an output of the model; allowed: "
                f"{', '.join(observables)}"
            )
        if not np.any(times >= 0.0):
            raise ValueError(f"quantity {self}: the output grid has no time at or after day 0")
        if self.day is not None and not times[0] <= self.day <= times[-1]:
            raise ValueError(
                f"quantity {self}: day {self.day:g}; allowed: a day from {times[0]:g} to "
                f"{times[-1]:g} (the scenario's output times)"
            )
        return self

    def __call__(
        self, times: np.ndarray, outputs: Mapping[str, np.ndarray], baseline_day: float = 0.0
    ) -> np.ndarray:
        """The quantity for every row of ``outputs[observable]`` (rows x len(times))."""
        series = np.asarray(outputs[self.observable], dtype=np.float64)
        from0 = times >= 0.0
        t0, s0 = times[from0], series[:, from0]
        if self.kind == "peak":
            return s0.max(axis=1)
        if self.kind == "min":
            return s0.min(axis=1)
        if self.kind == "peak_day":
            return _vertex_times(t0, s0)
        if self.kind == "auc":
            return np.trapezoid(s0, t0, axis=1)
        if self.kind in ("return_day", "aplasia_day"):
            pairs = [_return_day(t0, row) for row in s0]
            return np.array([p[1] if self.kind == "return_day" else p[0] for p in pairs])
        assert self.day is not None
        at = _interpolate(times, series, self.day)
        if self.kind == "value":
            return at
        if self.kind == "fraction_of_peak":
            return at / s0.max(axis=1)
        before = np.flatnonzero(times <= baseline_day)
        if not len(before):
            raise ValueError(
                f"quantity {self}: no output time at or before the first dose (day "
                f"{baseline_day:g}) to serve as baseline"
            )
        return 100.0 * (at / series[:, before[-1]] - 1.0)


@dataclass(frozen=True)
class QuantitySeries:
    """One quantity read on several days (patients x days), for a target reported at several
    times: written ``KIND:OBSERVABLE`` with a kind that reads one day, the days being the
    target's."""

    parts: tuple[Quantity, ...]

    @classmethod
    def parse(cls, text: str, days: Sequence[float]) -> QuantitySeries:
        m = _TEXT.match(text.strip()) if isinstance(text, str) else None
        if m is None or m["kind"] not in NEEDS_DAY or m["day"] is not None:
            on = ", ".join(f"{d:g}" for d in days)
            raise ValueError(
                f"quantity: got {text!r}; allowed for a target reported on several days: "
                f"KIND:OBSERVABLE with KIND one of {', '.join(sorted(NEEDS_DAY))}, without a day "
                f"(it is read on the target's days: {on})"
            )
        return cls(tuple(Quantity(m["kind"], m["obs"], float(d)) for d in days))

    @property
    def observable(self) -> str:
        return self.parts[0].observable

    def __str__(self) -> str:
        days = ",".join(f"{q.day:g}" for q in self.parts)
        return f"{self.parts[0].kind}:{self.observable}@{days}"


def _vertex_times(times: np.ndarray, series: np.ndarray) -> np.ndarray:
    """Time of each row's maximum, refined by the parabola through the largest output and its two
    neighbours (the grid maximum itself at either end of the grid).

    A peak read on the grid alone moves in whole output steps, so an objective built on it is a
    step function of the parameters, which optimisers and finite-difference Hessians cannot use;
    the parabola makes it continuous and accurate to well under one step for a smooth peak.
    """
    k = np.argmax(series, axis=1)
    out = times[k].astype(np.float64)
    inner = np.flatnonzero((k > 0) & (k < len(times) - 1))
    if len(inner):
        kk = k[inner]
        x0, x1, x2 = times[kk - 1], times[kk], times[kk + 1]
        y0, y1, y2 = (series[inner, kk + j] for j in (-1, 0, 1))
        denom = (x0 - x1) * (x0 - x2) * (x1 - x2)
        a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom
        b = (x2**2 * (y0 - y1) + x1**2 * (y2 - y0) + x0**2 * (y1 - y2)) / denom
        curved = a < 0
        vertex = np.where(curved, -b / (2.0 * np.where(curved, a, -1.0)), x1)
        out[inner] = np.clip(vertex, x0, x2)
    return out


def _interpolate(times: np.ndarray, series: np.ndarray, day: float) -> np.ndarray:
    if len(times) == 1:
        return series[:, 0].copy()
    j = int(np.clip(np.searchsorted(times, day, side="right") - 1, 0, len(times) - 2))
    frac = (day - times[j]) / (times[j + 1] - times[j])
    return series[:, j] + frac * (series[:, j + 1] - series[:, j])


def _return_day(times: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    below = np.flatnonzero(values < APLASIA_THRESHOLD)
    if not len(below):
        return math.nan, math.nan
    onset = below[0]
    ok = values >= APLASIA_THRESHOLD
    back = np.flatnonzero(ok[onset + 1 : -1] & ok[onset + 2 :])
    return float(times[onset]), float(times[onset + 1 + back[0]]) if len(back) else math.inf


def per_patient(
    traj: Trajectories, quantity: Quantity | QuantitySeries | str, baseline_day: float = 0.0
) -> np.ndarray:
    """The quantity for every patient of ``traj`` (NaN for failed patients): one value per patient,
    or patients x days for a :class:`QuantitySeries`.

    ``baseline_day``: the first dose day; the baseline of ``change_percent`` is the last output at
    or before it.
    """
    if isinstance(quantity, QuantitySeries):
        return np.column_stack([per_patient(traj, q, baseline_day) for q in quantity.parts])
    q = Quantity.parse(quantity) if isinstance(quantity, str) else quantity
    q.check(traj.observables, traj.times)
    out = q(traj.times, {q.observable: traj.series(q.observable)}, baseline_day).copy()
    out[traj.status != 0] = np.nan
    return out
