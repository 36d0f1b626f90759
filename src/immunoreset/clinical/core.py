"""Shared machinery of the clinical instruments: typed records, exact numbers, results, registry.

Every instrument in :mod:`immunoreset.clinical` is a pure function ``score(record) -> InstrumentResult``
over a validated, immutable record. The conventions below are documented for users in
``docs/instruments.md`` (section 1):

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

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Annotated, Any, ClassVar, TypeVar, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError


class Status(StrEnum):
    """Evidence status of an instrument rule (meanings in ``docs/instruments.md``, section 1)."""

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
        super().__init__(f"field '{field}': got {show(value)}; allowed: {allowed}")


def show(value: Any) -> str:
    """``value`` as the user wrote it: exact numbers plainly (``9.50``, never ``Decimal('9.50')``),
    text quoted, lists and mappings element by element."""
    if isinstance(value, Decimal | Fraction):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {show(item)}" for key, item in value.items()) + "}"
    return repr(value)


class Record(BaseModel):
    """Base class of every instrument record: immutable, unknown keys rejected.

    Subclasses declare fields with type hints; numeric fields that meet a threshold should be typed
    :class:`decimal.Decimal` (pydantic converts ``38.0`` to ``Decimal('38.0')`` from its decimal text).
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="forbid", frozen=True, strict=False, arbitrary_types_allowed=True
    )


R = TypeVar("R", bound=Record)


def reject_bool(value: object) -> object:
    """Refuse ``True``/``False`` where an integer is expected.

    ``bool`` is a subclass of ``int``, so pydantic would otherwise read ``True`` as the integer 1: a
    spreadsheet column of yes/no ticks pasted into a score column would then be scored silently.
    """
    if isinstance(value, bool):
        raise ValueError("an integer, not a boolean")
    return value


NOT_BOOL = BeforeValidator(reject_bool)
"""Validator that applies :func:`reject_bool` before pydantic's own conversion."""

Integer = Annotated[int, NOT_BOOL]
"""An integer item score, count or day; booleans and non-integral numbers are refused."""

NonNegativeInteger = Annotated[Integer, Field(ge=0)]
"""An integer >= 0 (days, counts); booleans are refused."""

NonNegative = Annotated[Decimal, Field(ge=0)]
"""A concentration, count, dose or score that cannot be negative, held exactly."""


def integer_in(low: int, high: int) -> Any:
    """Type of an integer in ``[low, high]`` (an item score, a total), booleans refused.

    The bounds are part of the type so that :func:`parse_record` names the offending field and
    states the range, instead of each instrument checking its items by hand.
    """
    return Annotated[Integer, Field(ge=low, le=high)]


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-"))]
    return ".".join(parts) if parts else "<record>"


def nested_record(annotation: Any) -> type[BaseModel] | type[dict] | None:
    """The nested record (or mapping) type inside a field annotation, else ``None``.

    Unwraps ``Optional``, ``Annotated`` and tuples, so ``FvcDecline | None`` gives ``FvcDecline``
    and ``dict[str, str]`` gives ``dict``: the CSV layer uses this to accept dotted columns and
    :func:`parse_record` to name the fields of the record that rejected an unknown key.
    """
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (dict, Mapping):
        return dict
    for arg in get_args(annotation):
        found = nested_record(arg)
        if found is not None:
            return found
    return None


def _record_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel]:
    """The innermost record on the path ``loc[:-1]``, i.e. the one that holds the field ``loc[-1]``.

    Tuple indices and validator tags in ``loc`` are stepped over; the walk stops at a field that is
    not itself a record.
    """
    current = model
    for part in loc[:-1]:
        field_info = current.model_fields.get(part) if isinstance(part, str) else None
        if field_info is None:
            continue
        inner = nested_record(field_info.annotation)
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            break
        current = inner
    return current


def _expected_text(expected: str) -> str:
    """pydantic's ``'a' or 'b'`` list of literals as ``one of: a, b``."""
    choices = [part.strip().strip("'") for part in re.split(r",| or ", expected) if part.strip()]
    return "one of: " + ", ".join(choices)


_PLAIN_WORDS: dict[str, str] = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "decimal_parsing": "a number",
    "decimal_type": "a number",
    "float_parsing": "a number",
    "float_type": "a number",
    "finite_number": "a finite number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
    "tuple_type": "a list of values",
    "list_type": "a list of values",
    "dict_type": "a mapping of named fields",
    "model_type": "a mapping of named fields",
    "model_attributes_type": "a mapping of named fields",
    "missing": "a value (this field is required)",
}
"""The project's words for pydantic's error types whose wording carries no bound."""

_BOUNDS = {
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
    "less_than_equal": ("le", "<="),
    "less_than": ("lt", "<"),
}


def allowed_text(error: Mapping[str, Any]) -> str:
    """What a field allows, in the project's words, from one pydantic error.

    pydantic's own sentences (``Input should be ...``) never reach the user: bounds are stated as
    ``a number >= 0``, literals as ``one of: ...``, and the messages of the project's validators
    are passed through without pydantic's prefix.
    """
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in _PLAIN_WORDS:
        return _PLAIN_WORDS[kind]
    if kind in _BOUNDS:
        key, symbol = _BOUNDS[kind]
        return f"a number {symbol} {ctx.get(key)}"
    if kind in ("literal_error", "enum"):
        return _expected_text(str(ctx.get("expected", "")))
    if kind in ("too_short", "too_long"):
        low, high = ctx.get("min_length"), ctx.get("max_length")
        if low is not None and low == high:
            return f"exactly {low} values"
        return f"at least {low} values" if kind == "too_short" else f"at most {high} values"
    if kind in ("value_error", "assertion_error"):
        return (
            str(error.get("msg", ""))
            .removeprefix("Value error, ")
            .removeprefix("Assertion failed, ")
        )
    return "a valid value for this field"


def parse_record(model: type[R], data: Mapping[str, Any] | R) -> R:
    """Validate ``data`` into ``model``; turn pydantic's report into an :class:`InstrumentInputError`.

    Only the first problem is reported, as one line naming the field, the value as given and what
    is allowed, in the project's words (:func:`allowed_text`).
    """
    if isinstance(data, model):
        return data
    if not isinstance(data, Mapping):
        raise InstrumentInputError("<record>", data, f"a mapping of {model.__name__} fields")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err.get("loc", ()))
        path = _loc_to_path(loc)
        if err.get("type") == "extra_forbidden":
            holder = _record_at(model, loc)
            allowed = "one of the known fields: " + ", ".join(sorted(holder.model_fields))
        else:
            allowed = allowed_text(err)
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
