"""Management policy: when tocilizumab and corticosteroids start (no states).

The engine cannot call the ASTCT instruments, so each treatment starts when a switch function turns
positive: the latent severity reaches the threshold of the chosen grade (:mod:`.toxicity` orders
the signs of each grade on the severity scale, so this is the time the instrument first grades the
signs at that grade), or the day of a prophylactic dose is reached. A treatment once started stays
started: the switch function adds ``LATCH_RATE`` times the treatment's clock, which runs from the
start, so it stays positive when the severity falls again.
"""

from __future__ import annotations

import numpy as np

from immunoreset.model.kernel import kernel
from immunoreset.model.models.integrated import management, toxicity
from immunoreset.model.models.integrated.frame import block

BLOCK = block((), "policy_parameters.csv", after=toxicity.BLOCK)
(TOCI_CRS_GRADE, STEROID_CRS_GRADE, STEROID_ICANS_GRADE, TOCI_PROPHYLAXIS, TOCI_PROPHYLAXIS_DAY,
 STEROID_PROPHYLAXIS, STEROID_PROPHYLAXIS_DAY) = (
    BLOCK.p0 + i for i in range(len(BLOCK.parameters))
)  # fmt: skip
assert BLOCK.parameters[-1].name == "policy_steroid_prophylaxis_day"

LATCH_RATE = 1e3
"""Severity units per day of treatment added to a switch function once the treatment has started:
within about an hour it outweighs any fall of the severity below its threshold (thresholds are at
most 25 severity units)."""
NOT_PLANNED = -toxicity.NEVER
"""Switch contribution of a prophylaxis that is not planned."""


@kernel
def _prophylaxis(t: float, planned: float, day: float) -> float:
    return t - day if planned > 0.5 else NOT_PLANNED


@kernel
def switches(t: float, y: np.ndarray, p: np.ndarray, g: np.ndarray) -> None:
    s, n = y[toxicity.CRS], y[toxicity.ICANS]
    toci = max(
        s - toxicity.crs_threshold(p, p[TOCI_CRS_GRADE]),
        _prophylaxis(t, p[TOCI_PROPHYLAXIS], p[TOCI_PROPHYLAXIS_DAY]),
    )
    g[management.TOCILIZUMAB] = toci + LATCH_RATE * y[management.TOCI_CLOCK]
    steroid = max(
        s - toxicity.crs_threshold(p, p[STEROID_CRS_GRADE]),
        n - toxicity.icans_threshold(p, p[STEROID_ICANS_GRADE]),
        _prophylaxis(t, p[STEROID_PROPHYLAXIS], p[STEROID_PROPHYLAXIS_DAY]),
    )
    g[management.CORTICOSTEROIDS] = steroid + LATCH_RATE * y[management.STEROID_CLOCK]
