"""The trial file: population, eligibility, arms, allocation, follow-up, endpoints and decision.

Validated with pydantic like scenario files (unknown keys rejected, one line per error naming the
field, the value and what is allowed); checks that need the model, the covariate set or the
endpoint library run in :mod:`immunoreset.trial.load`. Each arm is a scenario: the trial's shared
``scenario`` mapping with the arm's own ``scenario`` keys merged over it (product, regimen,
population parameter overrides); the trial sets the population size, seed and horizon itself.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.+-]+$")]
OPERATORS = (">=", ">", "<=", "<", "==", "!=")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PopulationDesign(_Strict):
    """Where virtual candidates come from and how covariates reach the model."""

    covariates: str = Field(
        "sle_refractory", description="bundled covariate set, or a CSV of baseline characteristics"
    )
    relations: str | None = Field(None, description="bundled covariate relations (default: model)")
    variability: bool = Field(True, description="between-patient variability of other parameters")
    screen_at_most: Annotated[int, Field(ge=1, le=10_000_000, strict=True)] | None = None


class Criterion(_Strict):
    """One eligibility criterion: ``covariate op value`` must hold to be eligible."""

    name: str | None = None
    covariate: str
    op: Literal[">=", ">", "<=", "<", "==", "!="]
    value: Annotated[float, Field(allow_inf_nan=False)]

    @property
    def label(self) -> str:
        return self.name or f"{self.covariate} {self.op} {self.value:g}"


class Arm(_Strict):
    name: str = Field(min_length=1, max_length=80)
    code: Name
    ratio: Annotated[int, Field(ge=1, le=100, strict=True)] = 1
    scenario: dict[str, Any] = Field(default_factory=dict, description="scenario keys of this arm")


class Allocation(_Strict):
    """Stratified permuted blocks; ``block_size`` is a multiple of the sum of the arm ratios."""

    block_size: Annotated[int, Field(ge=1, le=1000, strict=True)] | None = None
    strata: list[str] = Field(default_factory=list)


class Dropout(_Strict):
    """Exponential time to dropout (loss to follow-up), constant hazard ``rate_per_year``."""

    rate_per_year: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 0.0


class Visits(_Strict):
    days: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]]
    window_days: Annotated[float, Field(ge=0, le=90, allow_inf_nan=False)] = 1.0

    @field_validator("days")
    @classmethod
    def _increasing(cls, v: list[float]) -> list[float]:
        if not v or any(b <= a for a, b in pairwise(v)):
            raise ValueError("a non-empty, strictly increasing list of days")
        return v


class Endpoint(_Strict):
    """A trial endpoint read from the endpoint library's tables (see docs/trials.md)."""

    name: Name
    label: str | None = None
    kind: Literal["binary", "continuous", "time_to_event"]
    column: str | None = Field(None, description="endpoint-library column (binary, continuous)")
    day: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    at_least: Annotated[float, Field(allow_inf_nan=False)] | None = None
    at_most: Annotated[float, Field(allow_inf_nan=False)] | None = None
    event: Literal["b_cell_return", "remission", "flare", "seroconversion"] | None = None

    @model_validator(mode="after")
    def _shape(self) -> Endpoint:
        if self.kind == "time_to_event":
            if self.event is None or self.column is not None:
                raise ValueError("a time_to_event endpoint gives 'event' and no 'column'")
        elif self.column is None or self.event is not None:
            raise ValueError(f"a {self.kind} endpoint gives 'column' and no 'event'")
        if self.kind != "binary" and (self.at_least is not None or self.at_most is not None):
            raise ValueError("'at_least'/'at_most' apply to binary endpoints only")
        return self

    @property
    def title(self) -> str:
        return self.label or self.name


class Decision(_Strict):
    """Success rule: the treatment arm beats the control arm on ``endpoint``.

    Binary: the lower (``better: higher``) or upper (``lower``) bound of the two-sided
    ``1 - alpha`` Newcombe interval of the difference lies beyond ``margin``. Time to event: the
    log-rank p-value is below ``alpha`` and the treatment arm has fewer (``lower``) or more
    (``higher``) events than expected.
    """

    endpoint: Name
    treatment: Name
    control: Name
    alpha: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = 0.05
    margin: Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)] = 0.0
    better: Literal["higher", "lower"] = "higher"


class Replicates(_Strict):
    """Replicate trials for power (fixed parameters) and probability of success (prior draws)."""

    trials: Annotated[int, Field(ge=0, le=10_000, strict=True)] = 0
    parameter_uncertainty: bool = Field(
        False, description="each replicate draws typical values from the parameters' prior ranges"
    )


class Flare(_Strict):
    """Flare: SLEDAI-2K rises by at least ``rise`` above its post-treatment nadir at a visit."""

    rise: Annotated[float, Field(gt=0, le=105, allow_inf_nan=False)] = 4.0


class TrialDesign(_Strict):
    name: str = "trial"
    description: str = ""
    seed: Annotated[int, Field(ge=0, le=2**63 - 1, strict=True)] = 0
    scenario: dict[str, Any]
    population: PopulationDesign = Field(default_factory=PopulationDesign)
    eligibility: list[Criterion] = Field(default_factory=list)
    arms: list[Arm] = Field(min_length=1, max_length=20)
    allocation: Allocation = Field(default_factory=Allocation)
    sample_size: Annotated[int, Field(ge=1, le=10_000_000, strict=True)]
    dropout: Dropout = Field(default_factory=Dropout)
    follow_up_days: Annotated[float, Field(gt=0, le=3650, allow_inf_nan=False)]
    visits: Visits
    endpoints: list[Endpoint] = Field(min_length=1)
    primary: Name
    decision: Decision | None = None
    flare: Flare = Field(default_factory=Flare)
    endpoint_settings: dict[str, Any] = Field(
        default_factory=dict, description="EndpointConfig fields (instrument_inputs, car_lloq...)"
    )
    replicates: Replicates = Field(default_factory=Replicates)
    chunk_size: Annotated[int, Field(ge=1, le=1_000_000, strict=True)] = 500

    def endpoint(self, name: str) -> Endpoint:
        return next(e for e in self.endpoints if e.name == name)

    def arm(self, code: str) -> Arm:
        return next(a for a in self.arms if a.code == code)
