"""Laboratory quantities: the unit of each laboratory field, its plausible range, and other units.

Clinic exports mix units: ANC in cells/uL or in x10^9/L, IgG in g/L or mg/dL, haemoglobin in
g/dL or g/L. A value in the wrong unit is not an error pydantic would see (150 is a valid number of
platelets per uL) but it changes the score silently. Every laboratory field of an instrument is
therefore typed with :func:`lab`, which attaches a :class:`LabQuantity`:

* the field's own unit and the range of values that are plausible in it (a platelet count of 150
  per uL or an IgG of 700 g/L is not); a value outside the range is refused with an error that
  names the field, the value, the expected unit and the unit the value was likely given in;
* the other units the quantity is commonly reported in, with their conversion factors, so a CSV
  column may state its unit (``anc [10^9/L]``) and be converted (:func:`convert`);
* a range of typical values, used to refuse a whole column whose values all look like another unit
  (:func:`foreign_unit`): a single low value can be real, a column of them is a unit mistake.

Exactly 0 is the same in every unit and is accepted wherever the quantity allows it (an ANC of 0).
The ranges are deliberately wide: they catch a value in the wrong unit (a factor of 10 to 1000),
not an unusual patient. Conversion factors: 1 x10^9/L = 1,000 cells/uL; 1 g/dL = 10 g/L; 1 mmol/L
of haemoglobin (monomer) = 1.6114 g/dL; 1 mg/dL of CRP = 10 mg/L; 1 g/L of IgG = 100 mg/dL
(Systeme International conversion tables, e.g. AMA Manual of Style, SI conversion calculator).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, get_args, get_origin

from pydantic import AfterValidator, BaseModel, Field

from immunoreset.clinical.core import InstrumentInputError, nested_record, show

MIN_VALUES_FOR_COLUMN_RULE = 2
"""A column is refused as being in another unit only when at least this many non-zero values all
look like that unit (a single low value can be real)."""


@dataclass(frozen=True)
class Unit:
    """A unit: its label, how many of the quantity's own unit one of it makes, and spellings.

    ``factor`` converts a value in this unit to the quantity's own unit (``value * factor``);
    ``spellings`` are further ways of writing it, compared after :func:`normalise`.
    """

    label: str
    factor: Decimal = Decimal(1)
    spellings: tuple[str, ...] = ()

    def matches(self, text: str) -> bool:
        """Whether ``text`` names this unit."""
        wanted = normalise(text)
        return wanted in {normalise(self.label), *(normalise(s) for s in self.spellings)}


@dataclass(frozen=True)
class LabQuantity:
    """A laboratory quantity as one field holds it.

    Attributes:
        key: identifier of the quantity in :data:`QUANTITIES`.
        analyte: CSV column stem that may replace the field name when a unit is stated
            (``anc`` for ``anc_per_uL``); empty when only the field name is accepted.
        unit: the field's own unit (factor 1).
        low, high: plausible non-zero values in ``unit`` (inclusive).
        typical: values usual in ``unit`` (inclusive); used by :func:`foreign_unit`.
        others: other units the quantity is commonly reported in.
        zero: whether exactly 0 is a plausible value.
    """

    key: str
    analyte: str
    unit: Unit
    low: Decimal
    high: Decimal
    typical: tuple[Decimal, Decimal]
    others: tuple[Unit, ...] = ()
    zero: bool = True

    @property
    def units(self) -> tuple[Unit, ...]:
        """The field's own unit first, then the other units."""
        return (self.unit, *self.others)

    def allowed(self) -> str:
        """The plausible values as the error messages and templates state them."""
        unit = self.unit.label
        if self.low == 0:
            return f"0-{self.high} {unit}" if self.zero else f"above 0, up to {self.high} {unit}"
        span = f"{self.low}-{self.high} {unit}"
        return f"0 or {span}" if self.zero else span

    def likely_unit(self, value: Decimal) -> Unit | None:
        """The first other unit in which ``value`` would be plausible, if any."""
        return next((u for u in self.others if self.low <= value * u.factor <= self.high), None)


def normalise(text: str) -> str:
    """A unit spelling reduced for comparison: case, spaces, micro signs and powers of ten."""
    t = text.strip().lower().replace(" ", "").replace("µ", "u").replace("μ", "u")
    t = t.replace("×", "x").replace("**", "^").removeprefix("x")
    return re.sub(r"10[*e](\d)", r"10^\1", t)


CELLS_PER_UL = Unit("cells/uL", spellings=("/uL", "/mm3", "cells/mm3", "n/uL"))
GIGA_PER_L = Unit(
    "x10^9/L",
    Decimal(1000),
    ("10^9/L", "G/L", "/nL", "10^3/uL", "x10^3/uL", "K/uL", "10^3/mm3", "thou/uL"),
)
PER_UL_AS_GIGA = Unit("cells/uL", Decimal("0.001"), CELLS_PER_UL.spellings)
GIGA = Unit("x10^9/L", spellings=GIGA_PER_L.spellings)

QUANTITIES: dict[str, LabQuantity] = {
    q.key: q
    for q in (
        LabQuantity(
            "anc_per_uL", "anc", CELLS_PER_UL, Decimal(10), Decimal(100000),
            (Decimal(100), Decimal(20000)), (GIGA_PER_L,),
        ),
        LabQuantity(
            "platelets_per_uL", "platelets", CELLS_PER_UL, Decimal(1000), Decimal(2000000),
            (Decimal(10000), Decimal(1000000)), (GIGA_PER_L,),
        ),
        LabQuantity(
            "platelets_1e9_L", "platelets", GIGA, Decimal(1), Decimal(2000),
            (Decimal(10), Decimal(1000)), (PER_UL_AS_GIGA,),
        ),
        LabQuantity(
            "wbc_1e9_L", "wbc", GIGA, Decimal("0.01"), Decimal(500),
            (Decimal("0.5"), Decimal(50)), (PER_UL_AS_GIGA,),
        ),
        LabQuantity(
            "hb_g_dl", "hb", Unit("g/dL"), Decimal(2), Decimal(25),
            (Decimal(5), Decimal(20)),
            (Unit("g/L", Decimal("0.1")), Unit("mmol/L", Decimal("1.6114"))),
            zero=False,
        ),
        LabQuantity(
            "crp_mg_dl", "crp", Unit("mg/dL"), Decimal(0), Decimal(100),
            (Decimal("0.1"), Decimal(30)), (Unit("mg/L", Decimal("0.1")),),
        ),
        LabQuantity(
            "crp_mg_l", "crp", Unit("mg/L"), Decimal(0), Decimal(1000),
            (Decimal(1), Decimal(300)), (Unit("mg/dL", Decimal(10)),),
        ),
        LabQuantity(
            "ferritin_ng_ml", "ferritin", Unit("ng/mL", spellings=("ug/L", "mcg/L")),
            Decimal(1), Decimal(200000), (Decimal(10), Decimal(5000)),
            (Unit("mg/L", Decimal(1000)),),
        ),
        LabQuantity(
            "proteinuria_g_24h", "proteinuria", Unit("g/24 h", spellings=("g/d", "g/day")),
            Decimal(0), Decimal(50), (Decimal("0.05"), Decimal(20)),
            (Unit("mg/24 h", Decimal("0.001"), ("mg/d", "mg/day")),),
        ),
        LabQuantity(
            "cells_per_hpf", "", Unit("cells/hpf", spellings=("/hpf",)), Decimal(0),
            Decimal(1000), (Decimal(0), Decimal(1000)),
        ),
        LabQuantity(
            "igg_g_L", "igg", Unit("g/L"), Decimal(0), Decimal(100),
            (Decimal(2), Decimal(30)), (Unit("mg/dL", Decimal("0.01")),),
        ),
        LabQuantity(
            "igg_mg_dL", "igg", Unit("mg/dL"), Decimal(0), Decimal(10000),
            (Decimal(200), Decimal(3000)), (Unit("g/L", Decimal(100)),),
        ),
        LabQuantity(
            "igg_threshold_g_L", "", Unit("g/L"), Decimal("0.5"), Decimal(30),
            (Decimal(2), Decimal(15)), (Unit("mg/dL", Decimal("0.01")),), zero=False,
        ),
        LabQuantity(
            "muscle_enzyme", "",
            Unit("U/L (or ukat/L, the same unit at every visit)"), Decimal(0),
            Decimal(500000), (Decimal(0), Decimal(500000)), zero=False,
        ),
        LabQuantity(
            "car_level", "", Unit("copies/ug gDNA or cells/uL, as measured"), Decimal(0),
            Decimal(1000000000), (Decimal(0), Decimal(1000000000)),
        ),
        LabQuantity(
            "b_cells_per_uL", "", CELLS_PER_UL, Decimal(0), Decimal(100000),
            (Decimal(0), Decimal(100000)),
        ),
        LabQuantity(
            "ana_titre", "", Unit("(the N of a titre 1:N)"), Decimal(10), Decimal(100000),
            (Decimal(40), Decimal(10240)),
        ),
    )
}  # fmt: skip
"""Every laboratory quantity an instrument field holds, by key."""


@dataclass(frozen=True)
class LabCheck:
    """Pydantic after-validator refusing a value that is implausible in the quantity's unit."""

    quantity: LabQuantity

    def __call__(self, value: Any) -> Any:
        if value is None:
            return value
        # Most fields are validated as Decimal already; rebuilding one costs more than the check,
        # which runs on every sample of a series.
        number = value if isinstance(value, Decimal) else Decimal(value)
        if is_plausible(self.quantity, number):
            return value
        raise ValueError(implausible_text(self.quantity, number))


def is_plausible(quantity: LabQuantity, value: Decimal) -> bool:
    """Whether ``value`` (in the quantity's unit) is 0 where allowed or inside the plausible range."""
    if value == 0:
        return quantity.zero
    return quantity.low <= value <= quantity.high


def implausible_text(quantity: LabQuantity, value: Decimal) -> str:
    """What is allowed instead of ``value``, with the unit it was likely given in."""
    text = quantity.allowed()
    likely = quantity.likely_unit(value)
    if likely is not None:
        converted = (value * likely.factor).normalize()
        text += (
            f"; {show(value)} looks like a value in {likely.label} "
            f"(= {converted:f} {quantity.unit.label}): convert it or state its unit"
        )
    return text


def lab(key: str, base: type = Decimal) -> Any:
    """Type of a laboratory field holding quantity ``key``: >= 0 and plausible in its unit."""
    quantity = QUANTITIES[key]
    return Annotated[base, Field(ge=0), AfterValidator(LabCheck(quantity))]


def _quantity_of(metadata: Iterable[Any]) -> LabQuantity | None:
    """The quantity of the :class:`LabCheck` validator among pydantic ``metadata``, if any."""
    checks = (getattr(m, "func", None) for m in metadata if isinstance(m, AfterValidator))
    return next((check.quantity for check in checks if isinstance(check, LabCheck)), None)


def quantity_in(annotation: Any) -> LabQuantity | None:
    """The :class:`LabQuantity` attached to a field annotation (inside lists and optionals)."""
    if get_origin(annotation) is Annotated:
        return _quantity_of(annotation.__metadata__) or quantity_in(get_args(annotation)[0])
    return next(filter(None, (quantity_in(arg) for arg in get_args(annotation))), None)


def field_quantity(model: type[BaseModel], path: Sequence[str]) -> LabQuantity | None:
    """The laboratory quantity of the field at dotted ``path`` of ``model``, if it is one."""
    info = model.model_fields.get(path[0])
    if info is None:
        return None
    if len(path) > 1:
        inner = nested_record(info.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return field_quantity(inner, path[1:])
        return None
    return _quantity_of(info.metadata) or quantity_in(info.annotation)


def find_unit(quantity: LabQuantity, text: str, field: str) -> Unit:
    """The unit of ``quantity`` spelt ``text``; an unknown spelling names ``field``."""
    unit = next((u for u in quantity.units if u.matches(text)), None)
    if unit is None:
        known = ", ".join(u.label for u in quantity.units)
        raise InstrumentInputError(field, text, f"a unit of this field: {known}")
    return unit


def convert(value: Decimal, unit: Unit) -> Decimal:
    """``value`` given in ``unit``, expressed in its quantity's own unit (exact decimals)."""
    return value * unit.factor


def foreign_unit(quantity: LabQuantity, values: Iterable[Decimal]) -> Unit | None:
    """The other unit a whole column of ``values`` seems to be in, or ``None``.

    A column is foreign when at least :data:`MIN_VALUES_FOR_COLUMN_RULE` non-zero values are given,
    none of them is typical in the quantity's own unit, and all of them are typical once read in
    one of the other units.
    """
    nonzero = [v for v in values if v != 0]
    low, high = quantity.typical
    if len(nonzero) < MIN_VALUES_FOR_COLUMN_RULE or any(low <= v <= high for v in nonzero):
        return None
    return next(
        (u for u in quantity.others if all(low <= v * u.factor <= high for v in nonzero)), None
    )
