"""Score instrument records kept in a CSV file, one assessment (or one visit) per row.

The layout is driven entirely by the registry: an instrument's
:class:`~immunoreset.clinical.core.FieldSpec` list names the columns, says how a cell is read
(``number``, ``integer``, ``bool``, ``enum``, ``text``, ``titre``, ``day``, ``list[...]``) and
what it means, so every instrument gets a CSV reader, a fillable template and a scored output
without code of its own.

Cell conventions (the template repeats them under its header):

* an empty cell omits the field, so the instrument's default applies (and a required field is
  reported missing); an empty cell of a required list is the empty list where the field cannot be
  ``None`` (SLEDAI ``items``) and *not recorded* (``None``) where it can (``previous_sledai_items``);
  the word ``null`` is an explicit *not evaluable*; the word ``none`` in a list cell is an empty
  list (a previous visit without any descriptor);
* numbers are read from their decimal text into :class:`~decimal.Decimal`, never through a binary
  float, so a value typed on a threshold stays on it; a decimal comma (``38,5``) is refused with a
  hint;
* lists are written in one cell separated by ``;``; booleans as ``true``/``false`` (also
  ``yes``/``no``, ``1``/``0``); an ANA titre as ``1:80`` or ``80``;
* a day (``day`` fields: sample days, the last follow-up) may be a number of days from infusion or
  an ISO 8601 date, counted from the row's ``infusion_date`` (infusion day = day 0);
* a dotted column name ``a.b`` fills the nested field ``b`` of ``a`` (``options.steroid_rule``,
  ``raw.temp_c``); the columns ``id`` and ``patient_id`` are labels passed through unscored;
* lines whose first cell starts with ``#`` are comments and are skipped, so the description line of
  the template may stay in the file.

Laboratory columns (:mod:`immunoreset.clinical.units`) may state their unit, in the header
(``anc [10^9/L]``, ``igg [mg/dL]``, ``anc_per_uL [x10^9/L]``) or in a column ``<name>_unit`` with
one unit per row; their values are converted to the field's unit. A stated unit lets the column be
named after the analyte (``anc``, ``crp``, ``raw.platelets``). Every value must be plausible in
the field's unit, and a column whose values all look like another unit is refused as a whole.

With a ``patient_id`` column the rows are visits, grouped by patient and ordered by ``visit_day``
(a day number or a date) when that column is present; instruments that compare a visit with
earlier ones read those from the same patient's earlier rows (:mod:`immunoreset.clinical.visits`).

A column that names no field of the instrument is a layout error for the whole file rather than a
silently ignored cell, and so is a missing required column: a misspelt column would otherwise drop
data and change scores unnoticed. An invalid row does not stop the others: it is reported with its
data-row number, its line in the file and the instrument's own error message, and every valid row
is still scored.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from types import NoneType
from typing import Any, TextIO, get_args

from pydantic import BaseModel

from immunoreset.clinical import REGISTRY, score
from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentInputError,
    InstrumentResult,
    exact,
    nested_record,
)
from immunoreset.clinical.units import (
    LabQuantity,
    Unit,
    convert,
    field_quantity,
    find_unit,
    foreign_unit,
    implausible_text,
    is_plausible,
)
from immunoreset.clinical.visits import LONGITUDINAL, visit_records

ID_COLUMN = "id"
PATIENT_COLUMN = "patient_id"
INFUSION_COLUMN = "infusion_date"
VISIT_COLUMN = "visit_day"
LABEL_COLUMNS = (ID_COLUMN, PATIENT_COLUMN)
UNIT_SUFFIX = "_unit"
NULL_TOKEN = "null"
EMPTY_LIST_TOKEN = "none"
LIST_SEPARATOR = ";"
COMMENT_PREFIX = "#"
ERROR_COLUMN = "error"
FLAGS_COLUMN = "flags"
PROVISIONAL_COLUMN = "provisional"
COMPONENT_PREFIX = "component."
OPTION_PREFIX = "option."
OUTPUT_PREFIX = "output."
DAY_KINDS = frozenset({"day", "list[day]"})

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_DECIMAL_COMMA = re.compile(r"[-+]?\d*,\d+")
_HEADER_UNIT = re.compile(r"^(?P<name>.*?)\s*\[(?P<unit>[^\]]+)\]$")

CELL_HELP = (
    "empty cell = default (missing if required; a required list: empty or not recorded where "
    f"null is allowed); {NULL_TOKEN} = not evaluable; {EMPTY_LIST_TOKEN} = empty list; "
    f"lists separated by '{LIST_SEPARATOR}'; yes/no fields as true/false; decimal point (not "
    f"comma); days as numbers or ISO dates with an {INFUSION_COLUMN} column; laboratory units "
    f"in the header as in 'anc [10^9/L]'; lines starting with {COMMENT_PREFIX} are ignored"
)
"""The cell conventions, on the template's third line (no commas: it must stay one CSV cell)."""


class CsvLayoutError(ValueError):
    """The file as a whole cannot be read for this instrument (no header, unknown or missing
    column, a column in another unit, ...)."""


@dataclass(frozen=True)
class RowError:
    """An invalid data row.

    Attributes:
        row: 1-based number of the data row (header and comment lines not counted).
        line: line of the file on which the row starts (1-based, header included).
        message: why the row was rejected (the instrument's validation message).
    """

    row: int
    line: int
    message: str

    def __str__(self) -> str:
        return f"row {self.row} (line {self.line}): {self.message}"


@dataclass(frozen=True)
class ScoredTable:
    """Scored rows: the input cells followed by the result columns, all as CSV text.

    Every row has every column; the results of a rejected row are empty and its ``error`` says why.
    """

    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    errors: tuple[RowError, ...]


@dataclass(frozen=True)
class _DataRow:
    row: int
    line: int
    cells: dict[str, str]
    extra_cells: bool = False


@dataclass(frozen=True)
class Column:
    """How one header column is read.

    Attributes:
        name: the header text as written.
        path: the record field (or per-visit value) it fills, dotted for nested fields.
        spec: its description (kind, unit, ...), ``None`` for an undescribed nested field.
        quantity: its laboratory quantity, if it is one.
        unit: the unit stated in the header.
        unit_column: the column that states the unit row by row.
    """

    name: str
    path: str
    spec: FieldSpec | None
    quantity: LabQuantity | None = None
    unit: Unit | None = None
    unit_column: str | None = None

    @property
    def kind(self) -> str:
        return self.spec.kind if self.spec else "text"


@dataclass(frozen=True)
class Layout:
    """The columns of a file as the instrument reads them."""

    columns: tuple[Column, ...]
    longitudinal: bool


def instrument(key: str) -> Instrument:
    """The registered instrument ``key``; an unknown key raises :class:`InstrumentInputError`."""
    if key not in REGISTRY:
        raise InstrumentInputError("instrument", key, "one of " + ", ".join(sorted(REGISTRY)))
    return REGISTRY[key]


def _has_path(model: type[BaseModel], parts: Sequence[str]) -> bool:
    """Whether the dotted path ``parts`` names a field of ``model`` (any key of a mapping field)."""
    info = model.model_fields.get(parts[0])
    if info is None:
        return False
    if len(parts) == 1:
        return True
    sub = nested_record(info.annotation)
    return sub is dict or (sub is not None and _has_path(sub, parts[1:]))


def _nullable(model: type[BaseModel], parts: Sequence[str]) -> bool:
    """Whether the field at ``parts`` accepts ``None`` (not recorded)."""
    info = model.model_fields.get(parts[0])
    if info is None:
        return False
    if len(parts) > 1:
        sub = nested_record(info.annotation)
        return isinstance(sub, type) and issubclass(sub, BaseModel) and _nullable(sub, parts[1:])
    return NoneType in get_args(info.annotation)


def columns(inst: Instrument) -> dict[str, FieldSpec]:
    """CSV column name -> field description, for the fields and then the options of ``inst``.

    The column is the field's path in the record; an option described without its ``options.``
    prefix is placed under ``options`` when that is where the record keeps it.
    """
    out: dict[str, FieldSpec] = {}
    for spec in (*inst.fields, *inst.option_fields):
        nested = f"options.{spec.name}"
        as_option = not _has_path(inst.record, spec.name.split(".")) and _has_path(
            inst.record, nested.split(".")
        )
        out[nested if as_option else spec.name] = spec
    return out


def _is_date(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", text))


def parse_date(column: str, text: str) -> date:
    """An ISO 8601 date (``2024-03-01``, optionally with a time) from a cell."""
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise InstrumentInputError(column, text, "an ISO 8601 date such as 2024-03-01") from None


def parse_day(column: str, text: str, infusion: date | None) -> Decimal:
    """A day from infusion: a number, or an ISO date counted from ``infusion`` (day 0)."""
    if not _is_date(text):
        return parse_cell("number", column, text)
    if infusion is None:
        raise InstrumentInputError(
            column, text, f"a day number, or a date together with an {INFUSION_COLUMN} column"
        )
    return Decimal((parse_date(column, text) - infusion).days)


def parse_cell(kind: str, column: str, text: str, infusion: date | None = None) -> Any:
    """Read one non-empty cell of ``kind``; a malformed cell raises InstrumentInputError.

    ``infusion`` is the row's infusion date, against which dates in ``day`` cells are counted.
    """
    if text.lower() == NULL_TOKEN:
        return None
    if kind in ("number", "integer"):
        if _DECIMAL_COMMA.fullmatch(text):
            point = text.replace(",", ".")
            raise InstrumentInputError(column, text, f"a number with a decimal point ({point})")
        value = exact(text, column)
        if kind == "integer" and value != value.to_integral_value():
            raise InstrumentInputError(column, text, "a whole number")
        return int(value) if kind == "integer" else value
    if kind == "day":
        return parse_day(column, text, infusion)
    if kind == "bool":
        word = text.lower()
        if word not in _TRUE | _FALSE:
            raise InstrumentInputError(column, text, "true or false (yes/no, 1/0)")
        return word in _TRUE
    if kind.startswith("list["):
        if text.lower() == EMPTY_LIST_TOKEN:
            return []
        item_kind = kind[len("list[") : -1]
        items = [piece.strip() for piece in text.split(LIST_SEPARATOR)]
        if any(not piece for piece in items):
            raise InstrumentInputError(
                column, text, f"values separated by '{LIST_SEPARATOR}', none of them empty"
            )
        return [parse_cell(item_kind, column, piece, infusion) for piece in items]
    return text


def _set_path(record: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = record
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def unflatten(row: Mapping[str, Any]) -> dict[str, Any]:
    """Nest dotted column names (``options.duration_mode``) into the record's nested mappings."""
    record: dict[str, Any] = {}
    for column, value in row.items():
        _set_path(record, column, value)
    return record


def _converted(column: Column, value: Any, unit: Unit | None, name: str) -> Any:
    """``value`` (a number, ``None`` or a list of them) in the field's own unit.

    A converted value that is implausible is refused here, where the value as written and its
    unit are still known (``got '2000 x10^9/L'``).
    """
    if unit is None or value is None or column.quantity is None:
        return value
    if isinstance(value, list):
        return [_converted(column, item, unit, f"{name}.{i}") for i, item in enumerate(value)]
    converted = convert(value, unit)
    if not is_plausible(column.quantity, converted):
        written = f"{value} {unit.label}"
        raise InstrumentInputError(name, written, implausible_text(column.quantity, converted))
    return converted


def _row_unit(column: Column, cells: Mapping[str, str]) -> Unit | None:
    if column.unit_column is None or column.quantity is None:
        return column.unit
    text = cells.get(column.unit_column, "").strip()
    return find_unit(column.quantity, text, column.unit_column) if text else None


def _infusion(cells: Mapping[str, str]) -> date | None:
    text = cells.get(INFUSION_COLUMN, "").strip()
    return parse_date(INFUSION_COLUMN, text) if text else None


def row_to_record(layout: Layout, model: type[BaseModel], cells: Mapping[str, str]) -> dict:
    """Build the record mapping (or per-visit mapping) from one row of ``column -> cell text``.

    Empty cells are left out so defaults apply, except a required list, which reads as the empty
    list, or as ``None`` (not recorded) where the field allows it. Laboratory values in a stated
    unit are converted to the field's unit; day cells may hold dates (counted from
    ``infusion_date``).
    """
    infusion = _infusion(cells)
    record: dict[str, Any] = {}
    for column in layout.columns:
        text = cells.get(column.name, "").strip()
        spec = column.spec
        if text:
            value = parse_cell(column.kind, column.name, text, infusion)
            unit = _row_unit(column, cells)
            _set_path(record, column.path, _converted(column, value, unit, column.path))
        elif spec is not None and spec.required and column.kind.startswith("list["):
            parts = column.path.split(".")
            _set_path(record, column.path, None if _nullable(model, parts) else [])
    return record


def _split_unit(name: str) -> tuple[str, str | None]:
    match = _HEADER_UNIT.match(name)
    return (match["name"].strip(), match["unit"].strip()) if match else (name, None)


def _analytes(inst: Instrument) -> dict[str, list[tuple[str, LabQuantity]]]:
    """Analyte stem (``anc``, ``raw.platelets``) -> the laboratory fields that hold it."""
    stems: dict[str, list[tuple[str, LabQuantity]]] = {}
    for path in columns(inst):
        quantity = field_quantity(inst.record, path.split("."))
        if quantity is not None and quantity.analyte:
            prefix = path.rpartition(".")[0]
            stem = f"{prefix}.{quantity.analyte}" if prefix else quantity.analyte
            stems.setdefault(stem, []).append((path, quantity))
    return stems


def _lab_column(
    inst: Instrument, name: str, base: str, unit_text: str | None, unit_column: str | None
) -> Column | None:
    """The laboratory column ``base`` (a field or an analyte stem) with its stated unit."""
    known = columns(inst)
    candidates = _analytes(inst).get(base, [])
    if base in known:
        quantity = field_quantity(inst.record, base.split("."))
        candidates = [(base, quantity)] if quantity else []
    if not candidates:
        return None
    if unit_text is None and unit_column is None:
        if base in known:
            return Column(name, base, known[base], candidates[0][1])
        raise CsvLayoutError(
            f"column {name!r} needs its unit: write '{base} [{candidates[0][1].unit.label}]' "
            f"or add a column '{base}{UNIT_SUFFIX}'"
        )
    path, quantity = candidates[0]
    unit = None
    if unit_text is not None:
        match = [(p, q) for p, q in candidates if q.unit.matches(unit_text)]
        path, quantity = match[0] if match else candidates[0]
        try:
            unit = find_unit(quantity, unit_text, name)
        except InstrumentInputError as exc:
            raise CsvLayoutError(str(exc)) from None
    return Column(name, path, known[path], quantity, unit, unit_column)


def resolve_header(inst: Instrument, header: Sequence[str]) -> Layout:
    """Match the header to the instrument's fields (and per-visit values in long form).

    An unknown, duplicate or clashing name, a unit stated for a value that has none, and (in one
    row per assessment) a missing required column are layout errors.
    """
    longitudinal = PATIENT_COLUMN in header
    visit = LONGITUDINAL.get(inst.key) if longitudinal else None
    known = columns(inst) | ({s.name: s for s in visit.visit_fields} if visit else {})
    seen: set[str] = set()
    bases = {_split_unit(name)[0] for name in header}
    resolved: list[Column] = []
    passthrough = {INFUSION_COLUMN, VISIT_COLUMN, *LABEL_COLUMNS}
    for position, name in enumerate(header, start=1):
        if not name:
            raise CsvLayoutError(f"column {position} of the header has no name")
        if name in seen:
            raise CsvLayoutError(f"column {name!r} appears twice in the header")
        seen.add(name)
        if name in passthrough:
            continue
        if name.endswith(UNIT_SUFFIX) and name.removesuffix(UNIT_SUFFIX) in bases:
            passthrough.add(name)
            continue
        base, unit_text = _split_unit(name)
        unit_column = base + UNIT_SUFFIX if base + UNIT_SUFFIX in header else None
        lab = _lab_column(inst, name, base, unit_text, unit_column)
        if lab is not None:
            resolved.append(lab)
        elif unit_text is not None or unit_column is not None:
            raise CsvLayoutError(f"column {name!r}: {base!r} is not a laboratory value with units")
        elif base in known or _has_path(inst.record, base.split(".")):
            resolved.append(Column(name, base, known.get(base)))
        else:
            raise CsvLayoutError(
                f"column {name!r} is not a field of {inst.key}; known: "
                + ", ".join([*LABEL_COLUMNS, *known])
            )
    _check_clashes(resolved)
    if not longitudinal:
        _check_required(inst, resolved)
    return Layout(tuple(resolved), longitudinal)


def _check_clashes(resolved: Sequence[Column]) -> None:
    paths: dict[str, str] = {}
    for column in resolved:
        if column.path in paths:
            raise CsvLayoutError(
                f"columns {paths[column.path]!r} and {column.name!r} both fill {column.path!r}"
            )
        paths[column.path] = column.name
    for path, name in paths.items():
        for other, other_name in paths.items():
            if other.startswith(path + "."):
                raise CsvLayoutError(f"columns {name!r} and {other_name!r} both fill {path!r}")


def _check_required(inst: Instrument, resolved: Sequence[Column]) -> None:
    paths = {column.path for column in resolved}
    for spec in inst.fields:
        covered = spec.name in paths or any(p.startswith(spec.name + ".") for p in paths)
        if spec.required and not covered:
            raise CsvLayoutError(f"the required column {spec.name!r} is missing")


def _is_skipped(cells: Sequence[str]) -> bool:
    return not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith(COMMENT_PREFIX)


def _delimiter_hint(header: Sequence[str]) -> str | None:
    if len(header) != 1:
        return None
    for delimiter, name in ((";", "semicolon"), ("\t", "tab")):
        if delimiter in header[0]:
            return (
                f"the header is a single column containing {name}s: the file looks "
                f"{name}-separated; save it as comma-separated CSV"
            )
    return None


def _read(source: TextIO) -> tuple[list[str], Iterator[_DataRow]]:
    """Split ``source`` into the header and its data rows, skipping blank and comment lines."""
    reader = csv.reader(source)
    header: list[str] | None = None
    for cells in reader:
        if not _is_skipped(cells):
            header = [cell.strip() for cell in cells]
            break
    if header is None:
        raise CsvLayoutError("the file has no header line")
    while not header[-1]:  # spreadsheets may export empty trailing columns
        header.pop()
    hint = _delimiter_hint(header)
    if hint:
        raise CsvLayoutError(hint)

    def rows() -> Iterator[_DataRow]:
        number, line = 0, reader.line_num + 1
        for cells in reader:
            if not _is_skipped(cells):
                number += 1
                extra = any(cell.strip() for cell in cells[len(header) :])
                yield _DataRow(number, line, dict(zip(header, cells, strict=False)), extra)
            line = reader.line_num + 1

    return header, rows()


def _text(value: Any) -> str:
    """A result value as CSV text: ``None`` empty, booleans true/false, lists ``;``-joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple | set | frozenset):
        return LIST_SEPARATOR.join(_text(item) for item in value)
    return str(value)


def _flatten(prefix: str, values: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, Mapping):
            out |= _flatten(f"{prefix}{name}.", value)
        else:
            out[f"{prefix}{name}"] = _text(value)
    return out


def _score_row(key: str, result: InstrumentResult, input_columns: set[str]) -> dict[str, str]:
    outputs = {
        (OUTPUT_PREFIX + name if name in input_columns else name): value
        for name, value in result.outputs.items()
    }
    return {
        **_flatten("", outputs),
        **_flatten(COMPONENT_PREFIX, result.components),
        **_flatten(OPTION_PREFIX, result.options),
        FLAGS_COLUMN: _text(result.flags),
        PROVISIONAL_COLUMN: _text(result.provisional),
        ERROR_COLUMN: "",
    }


@dataclass
class _Parsed:
    """One data row on its way to a result: its cells, parsed values, result or error."""

    data: _DataRow
    values: dict[str, Any] | None = None
    results: dict[str, str] = field(default_factory=dict)
    error: str = ""


EXTRA_CELLS = (
    "field '<row>': values beyond the columns of the header (an unquoted decimal comma such as "
    "38,5 splits a number in two)"
)


def _parse_rows(layout: Layout, inst: Instrument, data: Iterator[_DataRow]) -> list[_Parsed]:
    parsed: list[_Parsed] = []
    for data_row in data:
        row = _Parsed(data_row)
        try:
            if data_row.extra_cells:
                row.error = EXTRA_CELLS
            else:
                row.values = row_to_record(layout, inst.record, data_row.cells)
        except InstrumentInputError as exc:
            row.error = str(exc)
        parsed.append(row)
    return parsed


def _lab_values(column: Column, values: Mapping[str, Any]) -> list[Decimal]:
    node: Any = values
    for part in column.path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    items = node if isinstance(node, list) else [node]
    return [item for item in items if isinstance(item, Decimal)]


def _check_units(layout: Layout, parsed: Sequence[_Parsed]) -> None:
    """Refuse a laboratory column whose values all look like another unit (a unit slip)."""
    for column in layout.columns:
        if column.quantity is None:
            continue
        values = [v for row in parsed if row.values for v in _lab_values(column, row.values)]
        other = foreign_unit(column.quantity, values)
        if other is not None:
            nonzero = [str(v) for v in values if v != 0]
            shown = ", ".join(nonzero[:5]) + (", ..." if len(nonzero) > 5 else "")
            stem = column.quantity.analyte or column.path
            raise CsvLayoutError(
                f"column {column.name!r}: every value ({shown}) looks like {other.label}, not "
                f"{column.quantity.unit.label}; state the unit as in '{stem} [{other.label}]' "
                "or convert the values"
            )


def _score(key: str, record: Mapping[str, Any], header: set[str]) -> dict[str, str]:
    return _score_row(key, score(key, record), header)


def _score_wide(key: str, parsed: Sequence[_Parsed], header: set[str]) -> None:
    for row in parsed:
        if row.values is None:
            continue
        try:
            row.results = _score(key, row.values, header)
        except InstrumentInputError as exc:
            row.error = str(exc)


def _visit_order(row: _Parsed) -> Decimal:
    text = row.data.cells.get(VISIT_COLUMN, "").strip()
    if not text:
        raise InstrumentInputError(VISIT_COLUMN, None, "a day or date for every visit")
    return parse_day(VISIT_COLUMN, text, _infusion(row.data.cells))


def _score_long(key: str, parsed: Sequence[_Parsed], header: set[str]) -> None:
    patients: dict[str, list[_Parsed]] = {}
    for row in parsed:
        patients.setdefault(row.data.cells.get(PATIENT_COLUMN, "").strip(), []).append(row)
    for patient, rows in patients.items():
        if VISIT_COLUMN in header:
            for row in rows:
                try:
                    _visit_order(row)
                except InstrumentInputError as exc:
                    row.error = row.error or str(exc)
            ordered = [row for row in rows if not row.error]
            ordered.sort(key=_visit_order)
        else:
            ordered = list(rows)
        bad = next((row for row in ordered if row.error), None)
        if bad is None:
            bad = next((row for row in rows if row.error), None)
        if not patient:
            for row in rows:
                row.error = row.error or f"field '{PATIENT_COLUMN}': got ''; allowed: a label"
            continue
        if bad is not None:
            for row in rows:
                row.error = row.error or (
                    f"an earlier or later visit of patient {patient!r} (row {bad.data.row}) is "
                    "invalid, so this visit cannot be compared"
                )
            continue
        built = visit_records(key, [row.values or {} for row in ordered])
        for row, (record, flag) in zip(ordered, built, strict=True):
            try:
                row.results = (
                    {FLAGS_COLUMN: flag} if record is None else _score(key, record, header)
                )
            except InstrumentInputError as exc:
                row.error = str(exc)


def score_csv(key: str, source: TextIO) -> ScoredTable:
    """Score every row of the CSV text in ``source`` with instrument ``key``.

    Raises :class:`InstrumentInputError` for an unknown instrument and :class:`CsvLayoutError` when
    the file cannot be read as a whole (header, required column, a column in another unit);
    invalid rows are collected in :attr:`ScoredTable.errors` and the others are scored.
    """
    inst = instrument(key)
    header, data = _read(source)
    layout = resolve_header(inst, header)
    parsed = _parse_rows(layout, inst, data)
    _check_units(layout, parsed)
    header_set = set(header)
    if layout.longitudinal:
        _score_long(key, parsed, header_set)
    else:
        _score_wide(key, parsed, header_set)
    rows: list[dict[str, str]] = []
    errors: list[RowError] = []
    result_columns: dict[str, None] = {}
    for row in parsed:
        results = row.results
        if row.error:
            error = RowError(row.data.row, row.data.line, row.error)
            errors.append(error)
            results = {ERROR_COLUMN: error.message}
        result_columns |= dict.fromkeys(results)
        rows.append({name: row.data.cells.get(name, "") for name in header} | results)
    tail = (FLAGS_COLUMN, PROVISIONAL_COLUMN, ERROR_COLUMN)
    names = (*header, *(name for name in result_columns if name not in tail), *tail)
    full_rows = tuple({name: row.get(name, "") for name in names} for row in rows)
    return ScoredTable(names, full_rows, tuple(errors))


def write_csv(table: ScoredTable, sink: TextIO) -> None:
    """Write ``table`` as CSV (header line, then one line per scored row)."""
    writer = csv.DictWriter(sink, fieldnames=list(table.columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(table.rows)


def describe(spec: FieldSpec, quantity: LabQuantity | None = None) -> str:
    """One-line description of a column for the template: kind, unit, allowed values, default.

    A laboratory column states its plausible values and the other units it may be given in.
    """
    parts = [spec.kind]
    if spec.unit:
        parts.append(f"unit {spec.unit}")
    if quantity is not None:
        parts.append(f"plausible {quantity.allowed()}")
        if quantity.others:
            others = ", ".join(unit.label for unit in quantity.others)
            parts.append(f"or state another unit ({others}) in the header")
    elif spec.allowed:
        parts.append(f"allowed {spec.allowed}")
    if spec.required:
        parts.append("required")
    elif spec.default is not None and spec.default != ():
        parts.append(f"default {_text(spec.default)}")
    if spec.description:
        parts.append(spec.description)
    return "; ".join(parts)


def template(key: str, sink: TextIO) -> None:
    """Write a fillable CSV for instrument ``key``.

    Line 1 is the header (``id`` and one column per field and option). Line 2 is a comment row that
    sits under each column and describes it (kind, unit, allowed values, default); line 3 states the
    cell conventions. Both start with ``#`` and are skipped when the filled file is scored, so the
    user may keep them and add one row per assessment below.
    """
    inst = instrument(key)
    specs = columns(inst)
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow([ID_COLUMN, *specs])
    writer.writerow(
        [
            f"{COMMENT_PREFIX} text; optional row label",
            *(
                describe(spec, field_quantity(inst.record, path.split(".")))
                for path, spec in specs.items()
            ),
        ]
    )
    writer.writerow([f"{COMMENT_PREFIX} {inst.title} ({inst.key}): {CELL_HELP}"])


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` so that readers never see a half-written file.

    The text goes to a temporary file in the same folder, is flushed to disk and then renamed over
    ``path`` (an atomic replace on POSIX and Windows); on any failure the temporary file is removed
    and ``path`` is left as it was. A new file gets mode 0644, a replaced one keeps its mode.
    """
    target = Path(path)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
