"""The product catalogue: CAR products as data files, each mapped onto a model's product slots.

A product file (YAML, in ``therapy/products/`` or anywhere on disk) names what the product is
modelled on and its sources, the model it is written for, a default dose, and one component per
product slot: the slot (``a``, or ``b`` for the second product of a co-infusion), the component's
share of the dose and its slot parameters without the slot prefix (``rec_cd19``, ``costim_cd28``,
...). Loading a product gives the parameter overrides (``a_rec_cd19``, ...) and the dosing inputs
with their shares, so a scenario only says ``product: {catalogue: NAME}`` (see docs/scenarios.md).

Example::

    name: example
    title: CD19 CAR T, 4-1BB
    model: integrated
    modelled_on: a short description of the clinical product
    sources: [Mackensen 2022 Nat Med 28:2124]
    dose: {value: 1.0e6, unit: cells/kg}
    components:
      - {slot: a, share: 1.0, parameters: {rec_cd19: 15000, costim_41bb: 1, generation: 2}}
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CATALOGUE_PACKAGE = "immunoreset.therapy"
CATALOGUE_FOLDER = "products"
MAX_PRODUCT_BYTES = 100_000
SLOT_INPUTS = {"a": "car_t_cells", "b": "car_t_cells_b"}
"""Model input that receives each slot's cells."""


class ProductError(ValueError):
    """A product file is unreadable or invalid; the message is one line naming field and value."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProductDoseSpec(_Strict):
    value: float = Field(gt=0, le=1e12, allow_inf_nan=False)
    unit: Literal["cells/kg", "cells"]


class Component(_Strict):
    """One product slot: its share of the dose and its slot parameters (no slot prefix)."""

    slot: Literal["a", "b"]
    share: float = Field(gt=0, le=1, allow_inf_nan=False)
    parameters: dict[str, float]


class Product(_Strict):
    name: str
    title: str
    model: str
    modelled_on: str
    sources: list[str] = Field(min_length=1)
    dose: ProductDoseSpec
    components: list[Component] = Field(min_length=1, max_length=2)
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _slots(self) -> Product:
        slots = [c.slot for c in self.components]
        if len(set(slots)) != len(slots) or slots[0] != "a":
            raise ValueError("components: slot a first, each slot at most once")
        if abs(sum(c.share for c in self.components) - 1.0) > 1e-9:
            raise ValueError("components: shares of the dose adding to 1")
        return self

    def overrides(self) -> dict[str, float]:
        """Model parameter overrides, slot prefix added (``a_rec_cd19``)."""
        return {f"{c.slot}_{k}": v for c in self.components for k, v in c.parameters.items()}

    def dose_split(self) -> tuple[tuple[str, float], ...]:
        """Model input and share of the dose of each component."""
        return tuple((SLOT_INPUTS[c.slot], c.share) for c in self.components)


def _catalogue_dir() -> Any:
    return resources.files(CATALOGUE_PACKAGE).joinpath(CATALOGUE_FOLDER)


def list_products() -> list[str]:
    """Names of the products in the catalogue, sorted."""
    return sorted(
        f.name.removesuffix(".yaml") for f in _catalogue_dir().iterdir() if f.name.endswith(".yaml")
    )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err.get("loc", ())) or "<file>"
    shown = repr(err.get("input"))
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    return f"{where}: got {shown}; allowed: {msg}"


def parse_product(data: Any, source: str) -> Product:
    """Validate a parsed product document (slot parameters are checked against the model)."""
    if not isinstance(data, dict):
        raise ProductError(f"{source}: <file>: got {type(data).__name__}; allowed: a mapping")
    try:
        product = Product.model_validate(data)
    except ValidationError as exc:
        raise ProductError(f"{source}: {_first_error(exc)}") from None
    from immunoreset.model.registry import MODELS, get_model

    if product.model not in MODELS:
        raise ProductError(
            f"{source}: model: got {product.model!r}; allowed: {', '.join(sorted(MODELS))}"
        )
    names = set(get_model(product.model).parameter_names)
    for name, value in product.overrides().items():
        if name not in names:
            raise ProductError(
                f"{source}: components.parameters.{name.split('_', 1)[1]}: got {value!r}; "
                f"allowed: a product-slot parameter of model {product.model}"
            )
    return product


def load_product(name_or_path: str | Path) -> Product:
    """A catalogue product by name (see :func:`list_products`) or a product file by path."""
    text = str(name_or_path)
    if text in list_products():
        data = _catalogue_dir().joinpath(f"{text}.yaml").read_text(encoding="utf-8")
        source = f"catalogue product {text}"
    else:
        path = Path(text)
        if not path.is_file():
            raise ProductError(
                f"product {text!r}: not in the catalogue ({', '.join(list_products())}) "
                "and not a readable file"
            )
        raw = path.read_bytes()[: MAX_PRODUCT_BYTES + 1]
        if len(raw) > MAX_PRODUCT_BYTES:
            raise ProductError(f"{text}: <file>: larger than {MAX_PRODUCT_BYTES} bytes")
        data, source = raw.decode("utf-8", errors="replace"), text
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError:
        raise ProductError(f"{source}: <file>: not well-formed YAML") from None
    return parse_product(doc, source)
