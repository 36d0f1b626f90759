"""``immunoreset score``: score a CSV of patient assessments with a clinical instrument.

Usage::

    immunoreset score --list
    immunoreset score INSTRUMENT --template [--out TEMPLATE.csv [--overwrite]]
    immunoreset score INSTRUMENT RECORDS.csv [--out SCORED.csv [--overwrite]]

The CSV layout (one row per assessment or visit, columns named after the instrument's fields) is
described in :mod:`immunoreset.clinical.csvio`. ``--out`` refuses an existing file unless
``--overwrite`` is given, never replaces the records file itself, and writes atomically. Files
larger than :data:`MAX_INPUT_BYTES` are not read. Exit codes: 0 every row scored; 1 some rows were
invalid (each is reported on stderr with its row and line number; the valid rows are still
written); 2 unknown instrument, unreadable file or a file that cannot be read as a whole (no
header, unknown or missing column, a column in another unit; one line on stderr, nothing written).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from immunoreset.cli.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_RUN_FAILED, fail
from immunoreset.cli.text import plain

PROG = "immunoreset score"
MAX_INPUT_BYTES = 100 * 1024 * 1024
"""Largest records file read (100 MB); a larger export should be split."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``score`` subcommand."""
    parser = subparsers.add_parser(
        "score",
        help="score a CSV of assessments with a clinical instrument",
        description=plain(__doc__.split("\n\n")[0]),
    )
    parser.add_argument("instrument", nargs="?", help="instrument key (see --list)")
    parser.add_argument("records", nargs="?", type=Path, help="CSV file, one assessment per row")
    parser.add_argument("--list", action="store_true", help="list the instruments and exit")
    parser.add_argument(
        "--template", action="store_true", help="write a fillable CSV template for INSTRUMENT"
    )
    parser.add_argument("--out", type=Path, help="output file (default: standard output)")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out file (never RECORDS)"
    )
    parser.set_defaults(run=run)


def _emit(text: str, out: Path | None) -> None:
    from immunoreset.clinical.csvio import write_text_atomic

    """Write ``text`` to ``out`` atomically, or to standard output."""
    if out is None:
        sys.stdout.write(text)
    else:
        write_text_atomic(out, text)


def list_instruments() -> str:
    from immunoreset.clinical import REGISTRY

    """One aligned line per registered instrument: key, status, title, PROVISIONAL items."""
    rows = [("key", "status", "title", "provisional")]
    rows += [
        (key, inst.status.value, inst.title, ", ".join(inst.provisional_items) or "-")
        for key, inst in sorted(REGISTRY.items())
    ]
    w_key, w_status, w_title = (max(len(row[i]) for row in rows) for i in range(3))
    return "".join(
        f"{key:<{w_key}}  {status:<{w_status}}  {title:<{w_title}}  {provisional}\n"
        for key, status, title, provisional in rows
    )


def _usage_error(args: argparse.Namespace) -> str | None:
    """Why this combination of arguments cannot run, or ``None``."""
    if args.list:
        if args.instrument or args.records or args.template or args.out:
            return "--list takes no other arguments"
        return None
    if not args.instrument:
        return "give an INSTRUMENT (see --list)"
    if args.template and args.records:
        return "--template takes no RECORDS file"
    if not args.template and not args.records:
        return "give a RECORDS.csv file to score, or --template"
    if args.overwrite and not args.out:
        return "--overwrite needs --out"
    return None


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file (links and relative paths resolved)."""
    try:
        return a.samefile(b)
    except OSError:
        return a.resolve() == b.resolve()


def _output_problem(args: argparse.Namespace) -> str | None:
    """Why ``--out`` may not be written, or ``None``."""
    out = args.out
    if out is None:
        return None
    if args.records is not None and _same_file(out, args.records):
        return f"--out {out} is the records file; write the scores to another file"
    if out.exists() and not args.overwrite:
        return f"--out {out} exists; give --overwrite to replace it"
    if out.is_dir():
        return f"--out {out} is a folder"
    return None


def read_records(path: Path) -> str:
    """The text of a records file (UTF-8, a byte-order mark allowed), at most MAX_INPUT_BYTES.

    Raises :class:`CsvLayoutError` for a file too large or not UTF-8 text, and :class:`OSError`
    when it cannot be read.
    """
    from immunoreset.clinical.csvio import CsvLayoutError

    with path.open("rb") as handle:
        raw = handle.read(MAX_INPUT_BYTES + 1)
    if len(raw) > MAX_INPUT_BYTES:
        raise CsvLayoutError(
            f"the file is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB; split it"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvLayoutError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start}); "
            "save it as CSV UTF-8"
        ) from None


def run(args: argparse.Namespace) -> int:
    """Run ``immunoreset score``; see the module docstring for the exit codes."""
    from immunoreset.clinical import REGISTRY
    from immunoreset.clinical.csvio import CsvLayoutError, score_csv, template, write_csv

    problem = _usage_error(args)
    if problem:
        return fail(problem, EXIT_BAD_INPUT)
    if args.list:
        sys.stdout.write(list_instruments())
        return EXIT_OK
    if args.instrument not in REGISTRY:
        return fail(
            f"unknown instrument {args.instrument!r}; see 'immunoreset score --list'",
            EXIT_BAD_INPUT,
        )
    problem = _output_problem(args)
    if problem:
        return fail(problem, EXIT_BAD_INPUT)
    buffer = io.StringIO()
    if args.template:
        template(args.instrument, buffer)
    else:
        try:
            text = read_records(args.records)
            table = score_csv(args.instrument, io.StringIO(text, newline=""))
        except OSError as exc:
            return fail(f"cannot read {args.records}: {exc.strerror or exc}", EXIT_BAD_INPUT)
        except (csv.Error, CsvLayoutError) as exc:
            return fail(f"{args.records}: {exc}", EXIT_BAD_INPUT)
        write_csv(table, buffer)
    try:
        _emit(buffer.getvalue(), args.out)
    except OSError as exc:
        return fail(f"cannot write {args.out}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    if args.template:
        return EXIT_OK
    for error in table.errors:
        sys.stderr.write(f"{PROG}: {args.records}: {error}\n")
    if table.errors:
        sys.stderr.write(
            f"{PROG}: {len(table.errors)} of {len(table.rows)} rows invalid; others scored\n"
        )
        return EXIT_RUN_FAILED
    return EXIT_OK
