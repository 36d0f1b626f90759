"""Per-patient quantities that published statistics summarise, read from simulated trajectories.

A summary target says, for example, "peak CAR T cells in blood: observed range 30-1000 cells/uL in
5 patients" or "time to B-cell reappearance: mean 110 (SD 32) days". Its likelihood needs the same
quantity for every virtual patient. A quantity is written ``KIND:OBSERVABLE`` with an optional
``@DAY``:

``peak:OBS``
    highest value from day 0 on (unit of OBS);
``peak_day:OBS``
    earliest output time of that peak (day);
``value:OBS@DAY``
    value at the output time nearest DAY (must lie within half an output interval);
``change_percent:OBS@DAY``
    percent change at DAY from the baseline, the last output time at or before the first dose
    (before lymphodepletion: the baseline of the clinical tables);
``fraction_of_peak:OBS@DAY``
    value at DAY over the peak;
``return_day:OBS``
    the endpoints library's aplasia/reconstitution definition: aplasia starts at the first time
    from day 0 strictly below 1 (unit of OBS); the return is the first later output time at or
    above 1 that the next output time confirms; ``inf`` when there is none (censored);
``aplasia_day:OBS``
    first time from day 0 strictly below 1.

Failed patients give NaN. Times are the output grid's, so day resolution is the grid spacing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from immunoreset.calibrate.cohort import Trajectories

APLASIA_THRESHOLD = 1.0
"""cells/uL; the default threshold of the ``b_cell_aplasia_reconstitution`` instrument."""

KINDS = (
    "peak",
    "peak_day",
    "value",
    "change_percent",
    "fraction_of_peak",
    "return_day",
    "aplasia_day",
)
NEEDS_DAY = {"value", "change_percent", "fraction_of_peak"}


@dataclass(frozen=True)
class Quantity:
    """A parsed quantity: its kind, observable and (for some kinds) the day."""

    kind: str
    observable: str
    day: float | None = None

    @classmethod
    def parse(cls, text: str) -> Quantity:
        kind, sep, rest = text.partition(":")
        if not sep or kind not in KINDS:
            raise ValueError(
                f"quantity {text!r}: allowed forms are KIND:OBSERVABLE[@DAY] with KIND one of "
                f"{', '.join(KINDS)}"
            )
        observable, at, day = rest.partition("@")
        if (kind in NEEDS_DAY) != bool(at):
            need = "needs" if kind in NEEDS_DAY else "takes no"
            raise ValueError(f"quantity {text!r}: {kind} {need} a day (KIND:OBSERVABLE@DAY)")
        try:
            value = float(day) if at else None
        except ValueError:
            raise ValueError(f"quantity {text!r}: day {day!r} is not a number") from None
        return cls(kind, observable, value)

    def __str__(self) -> str:
        return f"{self.kind}:{self.observable}" + (f"@{self.day:g}" if self.day is not None else "")


def _index_at(times: np.ndarray, day: float, text: str) -> int:
    k = int(np.argmin(np.abs(times - day)))
    spacing = float(np.min(np.diff(times))) if len(times) > 1 else math.inf
    if abs(times[k] - day) > 0.5 * spacing + 1e-9:
        raise ValueError(
            f"quantity {text}: no output time near day {day:g} (output grid "
            f"{times[0]:g}..{times[-1]:g}); widen the scenario's output times"
        )
    return k


def _return_day(times: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    below = np.flatnonzero(values < APLASIA_THRESHOLD)
    if not len(below):
        return math.nan, math.nan
    onset = below[0]
    ok = values >= APLASIA_THRESHOLD
    back = np.flatnonzero(ok[onset + 1 : -1] & ok[onset + 2 :])
    return float(times[onset]), float(times[onset + 1 + back[0]]) if len(back) else math.inf


def per_patient(
    traj: Trajectories, quantity: Quantity | str, baseline_day: float = 0.0
) -> np.ndarray:
    """The quantity for every patient of ``traj`` (NaN for failed patients).

    ``baseline_day``: the first dose day; the baseline of ``change_percent`` is the last output at
    or before it.
    """
    q = Quantity.parse(quantity) if isinstance(quantity, str) else quantity
    series = traj.series(q.observable)
    times = traj.times
    from0 = times >= 0.0
    if not np.any(from0):
        raise ValueError(f"quantity {q}: the output grid has no time at or after day 0")
    t0, s0 = times[from0], series[:, from0]
    if q.kind in ("peak", "peak_day"):
        k = np.argmax(s0, axis=1)
        out = s0[np.arange(len(s0)), k] if q.kind == "peak" else t0[k].astype(float)
    elif q.kind in ("return_day", "aplasia_day"):
        pairs = [_return_day(t0, row) for row in s0]
        out = np.array([p[1] if q.kind == "return_day" else p[0] for p in pairs])
    else:
        assert q.day is not None
        at = series[:, _index_at(times, q.day, str(q))]
        if q.kind == "value":
            out = at
        elif q.kind == "fraction_of_peak":
            out = at / s0.max(axis=1)
        else:
            before = np.flatnonzero(times <= baseline_day)
            if not len(before):
                raise ValueError(
                    f"quantity {q}: no output time at or before the first dose (day "
                    f"{baseline_day:g}) to serve as baseline"
                )
            base = series[:, before[-1]]
            out = 100.0 * (at / base - 1.0)
    out = np.asarray(out, dtype=np.float64).copy()
    out[traj.status != 0] = np.nan
    return out
