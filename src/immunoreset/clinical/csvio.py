"""Score instrument records kept in a CSV file, one assessment per row.

The layout is driven entirely by the registry: an instrument's
:class:`~immunoreset.clinical.core.FieldSpec` list names the columns, says how a cell is read
(``number``, ``integer``, ``bool``, ``enum``, ``text``, ``list[text]``, ``list[number]``) and what
it means, so every instrument gets a CSV reader, a fillable template and a scored output without
code of its own.

Cell conventions (the template repeats them under its header):

* an empty cell omits the field, so the instrument's default applies (and a required field is
  reported missing, except a required list, which an empty cell leaves empty); the word ``null``
  is an explicit *not evaluable* (``None``), because the instruments keep *not given* (the
  default applies) and *not evaluable* apart;
* numbers are read from their decimal text into :class:`~decimal.Decimal`, never through a binary
  float, so a value typed on a threshold stays on it;
* lists are written in one cell separated by ``;``; booleans as ``true``/``false`` (also
  ``yes``/``no``, ``1``/``0``);
* a dotted column name ``a.b`` fills the nested field ``b`` of ``a`` (``options.steroid_rule``,
  ``raw.temp_c``); the column ``id`` is a free label that is passed through unscored;
* lines whose first cell starts with ``#`` are comments and are skipped, so the description line of
  the template may stay in the file.

A column that names no field of the instrument is a layout error for the whole file rather than a
silently ignored cell: a misspelt column would otherwise drop data and change scores unnoticed.
An invalid row does not stop the others: it is reported with its data-row number, its line in the
file and the instrument's own error message, and every valid row is still scored.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel

from immunoreset.clinical import REGISTRY, score
from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentInputError,
    exact,
    nested_record,
)

ID_COLUMN = "id"
NULL_TOKEN = "null"
LIST_SEPARATOR = ";"
COMMENT_PREFIX = "#"
ERROR_COLUMN = "error"
FLAGS_COLUMN = "flags"
PROVISIONAL_COLUMN = "provisional"
COMPONENT_PREFIX = "component."
OPTION_PREFIX = "option."
OUTPUT_PREFIX = "output."

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})

CELL_HELP = (
    "empty cell = default (missing if required; an empty list for a required list); "
    "null = not evaluable; "
    f"lists separated by '{LIST_SEPARATOR}'; yes/no fields as true/false; "
    f"lines starting with {COMMENT_PREFIX} are ignored"
)


class CsvLayoutError(ValueError):
    """The file as a whole cannot be read for this instrument (no header, unknown column, ...)."""


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
    cells: list[str]


def instrument(key: str) -> Instrument:
    """The registered instrument ``key``; an unknown key raises :class:`InstrumentInputError`."""
    if key not in REGISTRY:
        raise InstrumentInputError("instrument", key, "one of " + ", ".join(sorted(REGISTRY)))
    return REGISTRY[key]


def _has_path(model: type[BaseModel], parts: Sequence[str]) -> bool:
    """Whether the dotted path ``parts`` names a field of ``model`` (any key of a mapping field)."""
    field = model.model_fields.get(parts[0])
    if field is None:
        return False
    if len(parts) == 1:
        return True
    sub = nested_record(field.annotation)
    return sub is dict or (sub is not None and _has_path(sub, parts[1:]))


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


def parse_cell(kind: str, column: str, text: str) -> Any:
    """Read one non-empty cell of ``kind``; a malformed cell raises InstrumentInputError."""
    if text.lower() == NULL_TOKEN:
        return None
    if kind == "number":
        return exact(text, column)
    if kind == "integer":
        value = exact(text, column)
        if value != value.to_integral_value():
            raise InstrumentInputError(column, text, "a whole number")
        return int(value)
    if kind == "bool":
        word = text.lower()
        if word not in _TRUE | _FALSE:
            raise InstrumentInputError(column, text, "true or false (yes/no, 1/0)")
        return word in _TRUE
    if kind.startswith("list["):
        item_kind = kind[len("list[") : -1]
        items = [piece.strip() for piece in text.split(LIST_SEPARATOR)]
        if any(not piece for piece in items):
            raise InstrumentInputError(
                column, text, f"values separated by '{LIST_SEPARATOR}', none of them empty"
            )
        return [parse_cell(item_kind, column, piece) for piece in items]
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


def row_to_record(specs: Mapping[str, FieldSpec | None], cells: Mapping[str, str]) -> dict:
    """Build the instrument's record mapping from one row of ``column -> cell text``.

    Empty cells are left out so defaults apply, except that a required list reads as the empty
    list (a SLEDAI visit with no descriptor present). A column without a description (a nested field
    the instrument did not describe) is passed to the instrument as text, which validates it.
    """
    record: dict[str, Any] = {}
    for column, spec in specs.items():
        text = cells.get(column, "").strip()
        kind = spec.kind if spec else "text"
        if text:
            _set_path(record, column, parse_cell(kind, column, text))
        elif spec is not None and spec.required and kind.startswith("list["):
            _set_path(record, column, [])
    return record


def _resolve_header(inst: Instrument, header: Sequence[str]) -> dict[str, FieldSpec | None]:
    """Match the header to the instrument's fields; an unknown, duplicate or clashing name fails."""
    known = columns(inst)
    seen: set[str] = set()
    resolved: dict[str, FieldSpec | None] = {}
    for position, name in enumerate(header, start=1):
        if not name:
            raise CsvLayoutError(f"column {position} of the header has no name")
        if name in seen:
            raise CsvLayoutError(f"column {name!r} appears twice in the header")
        seen.add(name)
        if name == ID_COLUMN:
            continue
        if name not in known and not _has_path(inst.record, name.split(".")):
            raise CsvLayoutError(
                f"column {name!r} is not a field of {inst.key}; known: "
                + ", ".join([ID_COLUMN, *known])
            )
        resolved[name] = known.get(name)
    for name in resolved:
        for other in resolved:
            if other.startswith(name + "."):
                raise CsvLayoutError(f"columns {name!r} and {other!r} both fill {name!r}")
    return resolved


def _is_skipped(cells: Sequence[str]) -> bool:
    return not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith(COMMENT_PREFIX)


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

    def rows() -> Iterator[_DataRow]:
        number, line = 0, reader.line_num + 1
        for cells in reader:
            if not _is_skipped(cells):
                number += 1
                yield _DataRow(number, line, cells)
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


def _score_row(key: str, record: dict, input_columns: set[str]) -> dict[str, str]:
    result = score(key, record)
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


def score_csv(key: str, source: TextIO) -> ScoredTable:
    """Score every row of the CSV text in ``source`` with instrument ``key``.

    Raises :class:`InstrumentInputError` for an unknown instrument and :class:`CsvLayoutError` when
    the header cannot be used; invalid rows are collected in :attr:`ScoredTable.errors`.
    """
    inst = instrument(key)
    header, data = _read(source)
    specs = _resolve_header(inst, header)
    rows: list[dict[str, str]] = []
    errors: list[RowError] = []
    result_columns: dict[str, None] = {}
    for data_row in data:
        cells = dict(zip(header, data_row.cells, strict=False))
        try:
            if any(cell.strip() for cell in data_row.cells[len(header) :]):
                raise InstrumentInputError(
                    "<row>", len(data_row.cells), f"no values beyond the {len(header)} columns"
                )
            results = _score_row(key, row_to_record(specs, cells), set(header))
        except InstrumentInputError as exc:
            error = RowError(data_row.row, data_row.line, str(exc))
            errors.append(error)
            results = {ERROR_COLUMN: error.message}
        result_columns |= dict.fromkeys(results)
        rows.append({name: cells.get(name, "") for name in header} | results)
    tail = (FLAGS_COLUMN, PROVISIONAL_COLUMN, ERROR_COLUMN)
    names = (*header, *(name for name in result_columns if name not in tail), *tail)
    full_rows = tuple({name: row.get(name, "") for name in names} for row in rows)
    return ScoredTable(names, full_rows, tuple(errors))


def write_csv(table: ScoredTable, sink: TextIO) -> None:
    """Write ``table`` as CSV (header line, then one line per scored row)."""
    writer = csv.DictWriter(sink, fieldnames=list(table.columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(table.rows)


def describe(spec: FieldSpec) -> str:
    """One-line description of a column for the template: kind, unit, allowed values, default."""
    parts = [spec.kind]
    if spec.unit:
        parts.append(f"unit {spec.unit}")
    if spec.allowed:
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
        [f"{COMMENT_PREFIX} text; optional row label", *(describe(s) for s in specs.values())]
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
