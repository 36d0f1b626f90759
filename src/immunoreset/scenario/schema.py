"""The scenario file: a small YAML document describing model, product, regimen, population and outputs.

Validated with pydantic: unknown keys are rejected, and every error names the field path, the bad
value and what is allowed. Checks that need the model (parameter names, outputs, dosing inputs) run
in :func:`immunoreset.scenario.load.check_against_model`.

Example::

    model: park2025
    product: {name: CD19 CAR-T, dose: {value: 1.0e6, unit: cells/kg}}
    regimen:
      infusions: [{day: 0}]
      lymphodepletion: [{day: 0, amount_mg: 1935}]
    population: {size: 1000, seed: 1, variability: true}
    horizon_days: 730
    output_times: {every_days: 1}

A catalogue product (:mod:`immunoreset.therapy.products`) and two-agent lymphodepletion for models
with an input per agent (the integrated model)::

    model: integrated
    product: {catalogue: cd19-41bb-erlangen}          # dose: the product's default unless given
    regimen: {infusions: [{day: 0}], conditioning: standard}   # or reduced, none, or explicit:
    # regimen: {fludarabine: [{day: -5, mg_m2: 25}, ...], cyclophosphamide: [{day: -3, mg_m2: 1000}]}
"""

from __future__ import annotations

import itertools
import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from immunoreset.endpoints.config import AUC_METHODS, DEFAULT_VISITS, EndpointConfig

MAX_PATIENTS = 10_000_000
MAX_HORIZON_DAYS = 36_500.0  # 100 years
MAX_OUTPUT_TIMES = 100_000

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Day = Annotated[float, Field(allow_inf_nan=False, ge=-365.0, le=MAX_HORIZON_DAYS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dose(_Strict):
    """CAR+ cells per infusion: ``cells/kg`` (scaled by body weight) or ``cells`` (flat)."""

    value: Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)]
    unit: Literal["cells/kg", "cells"]


class Product(_Strict):
    name: str = "CAR-T product"
    catalogue: str | None = Field(
        default=None,
        description="a product of the catalogue by name, or a product file by path",
    )
    dose: Dose | None = None
    composition: dict[str, FiniteFloat] = Field(
        default_factory=dict,
        description="model parameters that describe the product (e.g. pct_cd4), by name",
    )

    @model_validator(mode="after")
    def _dose_given(self) -> Product:
        if self.dose is None and self.catalogue is None:
            raise ValueError("a dose (required unless a catalogue product gives its default)")
        return self


class InfusionSpec(_Strict):
    """One infusion: its day and the fraction of the product dose it gives (fractions add to <= 1)."""

    day: Day = 0.0
    fraction: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1.0


class LymphodepletionSpec(_Strict):
    day: Day
    amount_mg: Annotated[float, Field(ge=0, le=1e5, allow_inf_nan=False)]


class AgentDoseSpec(_Strict):
    """One dose of a lymphodepleting agent in mg per m2 of body surface."""

    day: Day
    mg_m2: Annotated[float, Field(ge=0, le=1e4, allow_inf_nan=False)]


class RegimenSpec(_Strict):
    infusions: list[InfusionSpec] = Field(default_factory=lambda: [InfusionSpec()])
    lymphodepletion: list[LymphodepletionSpec] = Field(default_factory=list)
    conditioning: Literal["standard", "reduced", "none"] | None = None
    fludarabine: list[AgentDoseSpec] = Field(default_factory=list)
    cyclophosphamide: list[AgentDoseSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_way(self) -> RegimenSpec:
        if self.conditioning is not None and (self.fludarabine or self.cyclophosphamide):
            raise ValueError(
                "either 'conditioning' (a named regimen) or explicit 'fludarabine' and "
                "'cyclophosphamide' doses, not both"
            )
        return self


Grade = Annotated[int, Field(ge=1, le=4, strict=True)]


class TocilizumabSpec(_Strict):
    """When tocilizumab is given: at an ASTCT CRS grade (None: never for CRS) and/or on a day."""

    at_crs_grade: Grade | None = 2
    prophylactic_day: Day | None = None


class CorticosteroidSpec(_Strict):
    """When corticosteroids start: at an ASTCT CRS or ICANS grade (None: never) and/or on a day."""

    at_crs_grade: Grade | None = 3
    at_icans_grade: Grade | None = 2
    prophylactic_day: Day | None = None


class ManagementSpec(_Strict):
    """Management policy of CRS and ICANS, applied during the simulation when the grade is reached
    (models with a management policy only, e.g. the integrated model)."""

    tocilizumab: TocilizumabSpec = Field(default_factory=TocilizumabSpec)
    corticosteroids: CorticosteroidSpec = Field(default_factory=CorticosteroidSpec)

    def parameters(self) -> dict[str, float]:
        """The policy as model parameters (grade 0 = never; prophylaxis flag and day)."""
        toci, steroid = self.tocilizumab, self.corticosteroids
        return {
            "policy_toci_crs_grade": float(toci.at_crs_grade or 0),
            "policy_toci_prophylaxis": float(toci.prophylactic_day is not None),
            "policy_toci_prophylaxis_day": float(toci.prophylactic_day or 0.0),
            "policy_steroid_crs_grade": float(steroid.at_crs_grade or 0),
            "policy_steroid_icans_grade": float(steroid.at_icans_grade or 0),
            "policy_steroid_prophylaxis": float(steroid.prophylactic_day is not None),
            "policy_steroid_prophylaxis_day": float(steroid.prophylactic_day or 0.0),
        }


class PopulationSpec(_Strict):
    size: Annotated[int, Field(ge=1, le=MAX_PATIENTS, strict=True)] = 1
    seed: Annotated[int, Field(ge=0, le=2**63 - 1, strict=True)] = 0
    variability: bool = False
    parameters: dict[str, FiniteFloat] = Field(
        default_factory=dict, description="typical-value overrides by parameter name"
    )


class OutputTimes(_Strict):
    """Either a regular grid ``every_days`` from ``start_day`` to the horizon, or explicit ``days``."""

    every_days: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    start_day: Day = 0.0
    days: list[Day] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> OutputTimes:
        if (self.every_days is None) == (self.days is None):
            raise ValueError("give exactly one of 'every_days' or 'days'")
        if self.days is not None and (
            len(self.days) == 0
            or any(b <= a for a, b in zip(self.days, self.days[1:], strict=False))
        ):
            raise ValueError("'days' must be a non-empty, strictly increasing list")
        return self


class SolverSpec(_Strict):
    method: Literal["rodas5p"] = "rodas5p"
    rtol: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = 1e-6
    atol: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1e-6
    max_steps: Annotated[int, Field(ge=1, le=10_000_000, strict=True)] = 200_000
    jacobian: Literal["analytic", "finite-difference"] = "analytic"
    rhs: Literal["traced", "model"] = "traced"


class EndpointSpec(_Strict):
    """Endpoint settings of a run that stores endpoints only (``store: endpoints``).

    The same settings as ``immunoreset endpoints`` (visit days, CAR lower limit of quantification,
    AUC trapezoids); every other setting keeps the endpoint library's default."""

    visits: list[Annotated[float, Field(ge=0, le=MAX_HORIZON_DAYS, allow_inf_nan=False)]] = Field(
        default_factory=lambda: list(DEFAULT_VISITS),
        description="visit days after the infusion (day 0)",
    )
    car_lloq: Annotated[float, Field(gt=0, allow_inf_nan=False)] = EndpointConfig.car_lloq
    auc_method: Literal[AUC_METHODS] = "linear_up_log_down"  # type: ignore[valid-type]

    @field_validator("visits")
    @classmethod
    def _visits(cls, v: list[float]) -> list[float]:
        if not v or any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError("'visits' must be a non-empty, strictly increasing list of days")
        return v

    def config(self) -> EndpointConfig:
        """These settings as the endpoint library's configuration."""
        return EndpointConfig(
            visits=tuple(self.visits), car_lloq=self.car_lloq, car_auc_method=self.auc_method
        )


class Scenario(_Strict):
    name: str = "scenario"
    description: str = ""
    model: str
    product: Product
    regimen: RegimenSpec = Field(default_factory=RegimenSpec)
    management: ManagementSpec | None = None
    population: PopulationSpec = Field(default_factory=PopulationSpec)
    horizon_days: Annotated[float, Field(gt=0, le=MAX_HORIZON_DAYS, allow_inf_nan=False)]
    output_times: OutputTimes = Field(default_factory=lambda: OutputTimes(every_days=1.0))
    outputs: list[str] | None = None
    solver: SolverSpec = Field(default_factory=SolverSpec)
    chunk_size: Annotated[int, Field(ge=1, le=1_000_000, strict=True)] = 1000
    store: Literal["trajectories", "endpoints"] = Field(
        default="trajectories",
        description="what a run directory keeps: every output at every output time, or the "
        "endpoints only (large populations)",
    )
    endpoints: EndpointSpec | None = Field(
        default=None, description="endpoint settings of a run with 'store: endpoints'"
    )

    def endpoint_config(self) -> EndpointConfig:
        """The endpoint settings of this scenario (its ``endpoints`` block, else the defaults)."""
        return (self.endpoints or EndpointSpec()).config()

    @field_validator("outputs")
    @classmethod
    def _unique(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and (len(v) == 0 or len(set(v)) != len(v)):
            raise ValueError("'outputs' must be a non-empty list without repeats")
        return v

    def n_output_times(self) -> int:
        ot = self.output_times
        if ot.days is not None:
            return len(ot.days)
        assert ot.every_days is not None
        intervals = (self.horizon_days - ot.start_day) / ot.every_days
        if not math.isfinite(intervals) or intervals > MAX_OUTPUT_TIMES:
            return MAX_OUTPUT_TIMES + 1  # far too many; reported by the validator
        return math.floor(intervals + 1e-9) + 1
