"""The calibration file: which scenario, which parameters, which data, how to fit.

A small YAML file, validated like a scenario (one line per problem naming the field, the value and
what is allowed). Paths inside it are relative to the file. Example (``examples/calibration/``)::

    title: CAR expansion and B-cell return in SLE (Mackensen 2022)
    scenario: ../integrated_sle_erlangen.yaml
    parameters:                        # bounds default to the parameter's prior range
      - name: stim50
      - {name: d_mem, lower: 0.02, upper: 0.1}
    targets:                           # summary statistics
      file: shipped:sle_car_t          # or a path to a targets file
      use:                             # target id: the model quantity it summarises
        mack22_car_peak: peak:car_t_blood
        mack22_b_return: return_day:b_cells_blood
    cohort: {size: 200, seed: 7}       # the virtual cohort a summary is compared with
    observations:                      # individual data (optional)
      file: patients.csv
      error: {car_transgene: lognormal}
    fit: {starts: 4, seed: 0, method: Powell}
    profiles: true
    sensitivity: {method: morris, outputs: [peak:car_t_blood], trajectories: 10}
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from immunoreset.calibrate.objective import ERROR_MODELS
from immunoreset.scenario.load import (
    MAX_FILE_BYTES,
    ScenarioError,
    allowed_text,
    field_path,
    read_text_limited,
    read_yaml,
)

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Strict):
    """An estimated parameter; bounds default to its prior range in the model's data file."""

    name: str
    lower: float | None = None
    upper: float | None = None
    initial: float | None = None
    log: bool = True


class TargetsSpec(_Strict):
    file: str = "shipped:sle_car_t"
    use: dict[str, str] = Field(min_length=1)


class CohortSpec(_Strict):
    size: Annotated[int, Field(ge=10, le=100_000)] = 200
    seed: Annotated[int, Field(ge=0)] = 0


class ObservationsSpec(_Strict):
    file: str
    error: dict[str, Literal[ERROR_MODELS]] = Field(min_length=1)  # type: ignore[valid-type]
    sigma_bounds: tuple[Positive, Positive] = (0.01, 5.0)
    per_subject: bool = False
    """Also fit each subject (MAP with the population as prior, :mod:`.subjects`)."""
    omega2: dict[str, Positive] = Field(default_factory=dict)
    """Between-subject variances of log parameters for per-subject fits (default: the model's)."""


class FitSpec(_Strict):
    starts: Annotated[int, Field(ge=1, le=200)] = 4
    seed: Annotated[int, Field(ge=0)] = 0
    method: Literal["Powell", "Nelder-Mead", "L-BFGS-B", "TNC"] = "Powell"
    max_evaluations: Annotated[int, Field(ge=10, le=100_000)] = 2000


class SensitivitySpec(_Strict):
    method: Literal["morris", "sobol", "local"] = "morris"
    outputs: list[str] = Field(min_length=1)
    trajectories: Annotated[int, Field(ge=2, le=1000)] = 10
    n: Annotated[int, Field(ge=8, le=65536)] = 64
    seed: Annotated[int, Field(ge=0)] = 0


class ValidationSpec(_Strict):
    """External data the fit did not use: a targets file and the quantities its targets read."""

    file: str
    use: dict[str, str] = Field(min_length=1)


class CalibrationConfig(_Strict):
    title: str = "calibration"
    question: str | None = None
    """The question the calibrated model is to answer (ASME V&V 40 starts from it)."""
    context_of_use: str | None = None
    """How the model's answer will be used, and what else informs the decision."""
    scenario: str
    parameters: list[ParameterSpec] = Field(min_length=1)
    targets: TargetsSpec | None = None
    cohort: CohortSpec = CohortSpec()
    observations: ObservationsSpec | None = None
    fit: FitSpec = FitSpec()
    profiles: bool = False
    sensitivity: SensitivitySpec | None = None
    validation: ValidationSpec | None = None

    @model_validator(mode="after")
    def _some_data(self) -> CalibrationConfig:
        if self.targets is None and self.observations is None:
            raise ValueError("targets or observations (at least one kind of data to fit)")
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError(f"each parameter once (got {names})")
        return self


class CalibrationConfigError(ScenarioError):
    """A calibration file that cannot be used; the message names the field and what is allowed."""


def parse_config(data: object, source: str = "<calibration>") -> CalibrationConfig:
    try:
        return CalibrationConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = field_path(tuple(err.get("loc", ()))) or "<file>"
        value = err.get("input") if err.get("type") != "missing" else None
        raise CalibrationConfigError(source, where, value, allowed_text(err)) from None


def load_config(path: str | Path) -> tuple[CalibrationConfig, Path]:
    """The validated calibration file and the folder its relative paths start from."""
    p = Path(path)
    if p.is_dir():
        raise CalibrationConfigError(str(p), "<file>", str(p), "a calibration file, not a folder")
    text = read_text_limited(p, MAX_FILE_BYTES, str(p))
    data = read_yaml(text, str(p), CalibrationConfigError)
    if not isinstance(data, dict):
        raise CalibrationConfigError(str(p), "<file>", type(data).__name__, "a YAML mapping")
    return parse_config(data, str(p)), p.resolve().parent


def resolve(base: Path, path: str) -> Path:
    """``path`` relative to the calibration file's folder (absolute paths unchanged)."""
    p = Path(path)
    return p if p.is_absolute() else base / p


def bounds_of(spec: ParameterSpec, prior: tuple[float, float], value: float) -> tuple[float, float]:
    """The spec's bounds, else the parameter's prior range; refused when neither is known."""
    lower = spec.lower if spec.lower is not None else prior[0]
    upper = spec.upper if spec.upper is not None else prior[1]
    if lower is None or upper is None or not (math.isfinite(lower) and math.isfinite(upper)):
        raise ValueError(
            f"parameters: {spec.name!r} has no prior range in the model (typical value {value:g}); "
            "allowed: give lower and upper"
        )
    return float(lower), float(upper)
