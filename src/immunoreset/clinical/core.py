"""Shared machinery of the clinical instruments: typed records, exact numbers, results, registry.

Every instrument in :mod:`immunoreset.clinical` is a pure function ``score(record) -> InstrumentResult``
over a validated, immutable record. The conventions below follow the implementer specification that
the package documents in ``docs/instruments.md``:

* thresholds are compared exactly: numeric inputs are held as :class:`decimal.Decimal` built from the
  decimal text of the number (``Decimal(str(x))``), never as binary floats, because many published
  cut-offs sit exactly on a value that IEEE-754 arithmetic misses (e.g. ``(61.6 - 60) / 80 * 100`` is
  ``2.0000000000000018`` in doubles);
* ``None`` means *not evaluable* and is never coerced to 0 or ``False``;
* invalid input raises :class:`InstrumentInputError`, which names the field, the offending value and
  what is allowed;
* every result carries the components that produced it, the options used and the PROVISIONAL items it
  relied on, so users can see what rests on unverified ground.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError


class Status(StrEnum):
    """Evidence status of an instrument rule (specification section 0.1)."""

    VERIFIED = "VERIFIED"
    PROVISIONAL = "PROVISIONAL"
    CONVENTION = "CONVENTION"


class InstrumentInputError(ValueError):
    """An instrument record is invalid.

    Attributes:
        field: dotted path of the offending field (``"sites.r_hand"``) or ``"<record>"``.
        value: the rejected value.
        allowed: plain-language description of what is allowed.
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"field '{field}': got {value!r}; allowed: {allowed}")


class Record(BaseModel):
    """Base class of every instrument record: immutable, unknown keys rejected.

    Subclasses declare fields with type hints; numeric fields that meet a threshold should be typed
    :class:`decimal.Decimal` (pydantic converts ``38.0`` to ``Decimal('38.0')`` from its decimal text).
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="forbid", frozen=True, strict=False, arbitrary_types_allowed=True
    )


R = TypeVar("R", bound=Record)


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-"))]
    return ".".join(parts) if parts else "<record>"


def parse_record(model: type[R], data: Mapping[str, Any] | R) -> R:
    """Validate ``data`` into ``model``; turn pydantic's report into an :class:`InstrumentInputError`.

    Only the first problem is reported, as one line naming the field, the value and what is allowed.
    """
    if isinstance(data, model):
        return data
    if not isinstance(data, Mapping):
        raise InstrumentInputError("<record>", data, f"a mapping of {model.__name__} fields")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        path = _loc_to_path(tuple(err.get("loc", ())))
        kind = err.get("type", "")
        if kind == "extra_forbidden":
            allowed = "one of the known fields: " + ", ".join(sorted(model.model_fields))
        elif kind == "missing":
            allowed = "a value (this field is required)"
        else:
            allowed = str(err.get("msg", "a valid value")).removeprefix("Value error, ")
        raise InstrumentInputError(path, err.get("input"), allowed) from None


def exact(value: float | int | str | Decimal, field_name: str) -> Decimal:
    """Return ``value`` as an exact :class:`~decimal.Decimal` from its decimal text.

    Rejects NaN and infinities with an error naming ``field_name``.
    """
    if isinstance(value, bool):
        raise InstrumentInputError(field_name, value, "a number, not a boolean")
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except Exception:  # decimal.InvalidOperation and friends
        raise InstrumentInputError(field_name, value, "a finite number") from None
    if not d.is_finite():
        raise InstrumentInputError(field_name, value, "a finite number")
    return d


def check_range(
    value: Decimal | None,
    field_name: str,
    low: Decimal | int | None = None,
    high: Decimal | int | None = None,
    unit: str = "",
) -> Decimal | None:
    """Reject a physically impossible ``value`` (inclusive bounds); ``None`` passes through."""
    if value is None:
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else str(low)
        hi = "+inf" if high is None else str(high)
        raise InstrumentInputError(field_name, value, f"a value in [{lo}, {hi}] {unit}".rstrip())
    return value


@dataclass(frozen=True)
class InstrumentResult:
    """What an instrument returns.

    Attributes:
        instrument: registry key (e.g. ``"astct_crs"``).
        outputs: the named results, as in the specification (``{"grade": 2}``); ``None`` = not evaluable.
        components: which items scored and the intermediate values that led to ``outputs``.
        flags: review flags raised by the procedure (e.g. ``hypotension_or_hypoxia_without_fever``).
        options: the configurable choices in force (defaults included), reported with every result.
        provisional: identifiers of PROVISIONAL rules that this result relied on.
    """

    instrument: str
    outputs: dict[str, Any]
    components: dict[str, Any] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    provisional: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Any:
        return self.outputs[key]


@dataclass(frozen=True)
class FieldSpec:
    """One input column of an instrument, as the CSV template and docs present it.

    ``kind`` is one of ``number``, ``integer``, ``bool``, ``enum``, ``text``, ``list[text]``,
    ``list[number]``; lists are written in a CSV cell separated by ``;``.
    """

    name: str
    kind: str
    unit: str = ""
    allowed: str = ""
    required: bool = False
    default: Any = None
    description: str = ""


@dataclass(frozen=True)
class Instrument:
    """A registered instrument: its key, scoring function and input description."""

    key: str
    title: str
    score: Callable[..., InstrumentResult]
    record: type[Record]
    fields: tuple[FieldSpec, ...]
    status: Status
    source: str
    provisional_items: tuple[str, ...] = ()
    option_fields: tuple[FieldSpec, ...] = ()


REGISTRY: dict[str, Instrument] = {}


def register(instrument: Instrument) -> Instrument:
    """Add ``instrument`` to :data:`REGISTRY` (keys must be unique)."""
    if instrument.key in REGISTRY:
        raise ValueError(f"instrument key {instrument.key!r} registered twice")
    REGISTRY[instrument.key] = instrument
    return instrument
