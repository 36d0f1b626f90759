"""``immunoreset score``: score a CSV of patient assessments with a clinical instrument.

Usage::

    immunoreset score --list
    immunoreset score INSTRUMENT --template [--out TEMPLATE.csv]
    immunoreset score INSTRUMENT RECORDS.csv [--out SCORED.csv]

The CSV layout (one row per assessment, columns named after the instrument's fields) is described in
:mod:`immunoreset.clinical.csvio`. Exit codes: 0 every row scored; 1 some rows were invalid (each is
reported on stderr with its row and line number; the valid rows are still written); 2 unknown
instrument, unreadable file or unusable header (one line on stderr, nothing written).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from immunoreset.cli.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_RUN_FAILED, fail
from immunoreset.clinical import REGISTRY
from immunoreset.clinical.csvio import (
    CsvLayoutError,
    score_csv,
    template,
    write_csv,
    write_text_atomic,
)

PROG = "immunoreset score"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``score`` subcommand."""
    parser = subparsers.add_parser(
        "score",
        help="score a CSV of assessments with a clinical instrument",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("instrument", nargs="?", help="instrument key (see --list)")
    parser.add_argument("records", nargs="?", type=Path, help="CSV file, one assessment per row")
    parser.add_argument("--list", action="store_true", help="list the instruments and exit")
    parser.add_argument(
        "--template", action="store_true", help="write a fillable CSV template for INSTRUMENT"
    )
    parser.add_argument("--out", type=Path, help="output file (default: standard output)")
    parser.set_defaults(run=run)


def _emit(text: str, out: Path | None) -> None:
    """Write ``text`` to ``out`` atomically, or to standard output."""
    if out is None:
        sys.stdout.write(text)
    else:
        write_text_atomic(out, text)


def list_instruments() -> str:
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
    return None


def run(args: argparse.Namespace) -> int:
    """Run ``immunoreset score``; see the module docstring for the exit codes."""
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
    buffer = io.StringIO()
    if args.template:
        template(args.instrument, buffer)
    else:
        try:
            text = args.records.read_text(encoding="utf-8-sig")
            table = score_csv(args.instrument, io.StringIO(text))
        except OSError as exc:
            return fail(f"cannot read {args.records}: {exc.strerror or exc}", EXIT_BAD_INPUT)
        except (UnicodeDecodeError, csv.Error, CsvLayoutError) as exc:
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
