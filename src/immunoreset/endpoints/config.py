"""Settings of the endpoint calculation: visit schedule, assay cut-offs and instrument inputs.

A simulated trajectory is continuous, a trial's data are not: patients are seen at visits and their
samples are read against assay cut-offs. Every such choice that changes an endpoint is a field here,
with its default and where that default comes from, so that two analyses differ only in what they
say they differ in. Status labels are those of ``docs/instruments.md`` (CONVENTION = platform
choice with no published definition; replace it with the setting of the trial being emulated).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from immunoreset.observables import OBSERVABLES

DEFAULT_VISITS: tuple[float, ...] = (0.0, 28.0, 90.0, 180.0, 365.0)
"""Days after infusion: baseline, the PK day-28 landmark, then 3, 6 and 12 months."""


AUC_METHODS = ("linear_up_log_down", "linear")


@dataclass(frozen=True)
class EndpointConfig:
    """What the endpoint calculation needs besides the result table.

    Attributes:
        visits: visit days (day 0 = CAR infusion). CONVENTION.
        visit_tolerance_d: a visit takes the value at the output time nearest its day, if that time
            lies within this many days (ties go to the earlier time); otherwise the visit is
            missing. The nearest sample, not an interpolated value, is used because a clinic visit
            reads one sample, and because interpolating ordinal or 0/1 observables (oxygen level,
            hypotension) would create states that the model never emitted. CONVENTION.
        baseline_day: day whose visit value is the reference of every change from baseline
            (anti-dsDNA, mRSS, myositis core set). CONVENTION: day 0, the infusion.
        car_observable: observable read for CAR kinetics (``car_t_blood`` by flow cytometry, or
            ``car_transgene`` by qPCR).
        car_lloq: lower limit of quantification of ``car_observable``, in its unit. Levels below it
            are not quantifiable (``car_pk_nca``) and persistence ends at the last
            level at or above it. CONVENTION: 1 cell/uL, the order of the limit of flow-cytometric
            CAR T cell counts in blood; set it to the assay being emulated (and change it when
            ``car_observable`` is the transgene copy number).
        car_auc_method: trapezoid rule of the AUC0-28: ``"linear_up_log_down"`` (linear while the
            level rises, logarithmic while it falls, as Phoenix WinNonlin and PKNCA do; default,
            because CAR-T levels fall roughly exponentially after the peak and linear trapezoids
            overestimate such segments) or ``"linear"`` (the instrument's own default).
        anti_dsdna_positive_above: anti-dsDNA is positive when strictly above this value (IU/mL).
            CONVENTION (assay-specific): 15 IU/mL, the upper edge of the equivocal band of the
            EliA dsDNA fluoroenzyme immunoassay (< 10 negative, 10-15 equivocal, > 15 positive;
            e.g. https://boonehealth.testcatalog.org/show/DSDNA). The equivocal band is not kept
            apart: every value up to the cut-off counts as negative.
        c3_lln_mg_dl, c4_lln_mg_dl: laboratory lower limits of normal of C3 and C4 (mg/dL); a
            value strictly below either scores the SLEDAI-2K descriptor ``low_complement``.
            CONVENTION: 90 and 16 mg/dL, the adult reference intervals 0.9-1.8 g/L (C3) and
            0.16-0.50 g/L (C4) of the RCPA Manual (Royal College of Pathologists of Australasia);
            laboratories differ (C3 lower limits of about 80-90 mg/dL are common).
        proteinuria_above_mg_g: urine protein/creatinine ratio (mg/g) strictly above which the
            SLEDAI-2K descriptor ``proteinuria`` (> 0.5 g/24 h) scores. Assumption: the spot
            ratio in g/g approximates the 24-hour excretion in g/day (Ginsberg JM et al., N Engl J
            Med 1983;309:1543-6), so 0.5 g/24 h corresponds to 500 mg/g.
        sledai_window_days: SLEDAI-2K window (10, or 30 for the Touma 2010 variant): a descriptor
            counts when present at any output time from this many days before the visit up to it.
        icans_age_years: age given to the ICANS grade when the table has no ``age_years`` column.
            The observable vocabulary carries no age; 18 years selects the adult ICE path
            (ICE from 12 years, ASTCT 2019). CONVENTION.
        tis_population: ``adult`` or ``juvenile`` cut-offs of the myositis TIS.
        instrument_inputs: fixed record fields merged into every record given to an instrument,
            by registry key, for the inputs a result table does not carry or for instrument
            options, e.g. ``{"doris_2021": {"pga": 0, "prednisolone_mg_day": 0}}``,
            ``{"car_pk_nca": {"options": {"auc_method": "linear_up_log_down"}}}`` or
            ``{"b_cell_aplasia_reconstitution": {"aplasia_threshold": 5}}``. A value derived from
            the table for the same field takes precedence.
    """

    visits: tuple[float, ...] = DEFAULT_VISITS
    visit_tolerance_d: float = 1.0
    baseline_day: float = 0.0
    car_observable: str = "car_t_blood"
    car_lloq: float = 1.0
    car_auc_method: str = "linear_up_log_down"
    anti_dsdna_positive_above: float = 15.0
    c3_lln_mg_dl: float = 90.0
    c4_lln_mg_dl: float = 16.0
    proteinuria_above_mg_g: float = 500.0
    sledai_window_days: int = 10
    icans_age_years: float = 18.0
    tis_population: str = "adult"
    instrument_inputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.visits or not all(math.isfinite(day) for day in self.visits):
            raise ValueError(f"visits must be a non-empty list of finite days, got {self.visits}")
        object.__setattr__(self, "visits", tuple(sorted({float(day) for day in self.visits})))
        if not self.visit_tolerance_d >= 0:
            raise ValueError(f"visit_tolerance_d must be >= 0, got {self.visit_tolerance_d}")
        if self.car_observable not in OBSERVABLES:
            raise ValueError(f"car_observable {self.car_observable!r} is not an observable")
        if not self.car_lloq > 0:
            raise ValueError(f"car_lloq must be > 0, got {self.car_lloq}")
        if self.car_auc_method not in AUC_METHODS:
            raise ValueError(
                f"car_auc_method must be one of {', '.join(AUC_METHODS)}, got {self.car_auc_method!r}"
            )
