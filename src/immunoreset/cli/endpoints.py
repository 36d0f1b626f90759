"""``immunoreset endpoints``: trial endpoints of a simulated run.

Usage::

    immunoreset endpoints RUN_DIR [--visits 0,28,90,180,365] [--car-lloq 1.0]
                                  [--auc-method linear_up_log_down|linear] [--out DIR]

Reads ``RUN_DIR/trajectories.parquet`` and writes ``endpoints_patient.csv``,
``endpoints_visits.csv``, ``endpoints_columns.csv`` (units) and ``endpoints_notes.txt`` to ``DIR``
(default ``RUN_DIR``); notes on skipped endpoints are also printed on stderr. The other settings
keep the defaults documented in :class:`immunoreset.endpoints.EndpointConfig`. Patients whose
simulation failed (``parameters.parquet``) are not evaluable. Exit codes: 0 written; 2 no or
unreadable trajectories, a bad visit list or an unwritable folder (one line on stderr).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from immunoreset.cli.errors import EXIT_BAD_INPUT, EXIT_OK, fail
from immunoreset.cli.text import plain
from immunoreset.endpoints.config import AUC_METHODS, EndpointConfig


def visit_days(text: str) -> tuple[float, ...]:
    """Parse ``"0,28,90"`` into visit days (>= 0: day 0 is the infusion); argparse reports a
    malformed list in one line."""
    try:
        days = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"got {text!r}; allowed: comma-separated days such as 0,28,90"
        ) from None
    if not all(math.isfinite(d) and d >= 0 for d in days):
        raise argparse.ArgumentTypeError(
            f"got {text!r}; allowed: days >= 0 after the infusion, comma-separated"
        )
    return EndpointConfig(visits=days).visits


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``endpoints`` subcommand."""
    parser = subparsers.add_parser(
        "endpoints",
        help="compute trial endpoints from a run's trajectories",
        description=plain(__doc__.split("\n\n")[0]),
    )
    parser.add_argument("run_dir", type=Path, help="run folder holding trajectories.parquet")
    parser.add_argument(
        "--visits", type=visit_days, help="visit days, comma-separated (default 0,28,90,180,365)"
    )
    parser.add_argument(
        "--car-lloq", type=float, help="CAR lower limit of quantification (default 1.0 cells/uL)"
    )
    parser.add_argument(
        "--auc-method", choices=AUC_METHODS, help="AUC0-28 trapezoids (default linear_up_log_down)"
    )
    parser.add_argument("--out", type=Path, help="output folder (default: RUN_DIR)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``immunoreset endpoints``; see the module docstring for the exit codes."""
    from immunoreset.endpoints import (
        ResultTableError,
        compute_endpoints,
        read_status,
        read_trajectories,
        write_endpoints,
    )
    from immunoreset.endpoints.io import TRAJECTORIES
    from immunoreset.endpoints.store import PATIENT_TABLE, VISITS_TABLE

    settings = {
        name: value
        for name, value in (
            ("visits", args.visits),
            ("car_lloq", args.car_lloq),
            ("car_auc_method", args.auc_method),
        )
        if value is not None
    }
    try:
        config = EndpointConfig(**settings)
    except ValueError as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    source = args.run_dir / TRAJECTORIES
    if not args.run_dir.is_dir():
        return fail(f"{args.run_dir}: no such run folder", EXIT_BAD_INPUT)
    if not source.exists():
        if (args.run_dir / PATIENT_TABLE).exists():
            return fail(
                f"{args.run_dir}: this run kept endpoints only (store: endpoints): they are in"
                f" {PATIENT_TABLE} and {VISITS_TABLE} there (immunoreset.read_endpoints in Python)",
                EXIT_BAD_INPUT,
            )
        return fail(f"{args.run_dir}: not a run folder (no {TRAJECTORIES})", EXIT_BAD_INPUT)
    try:
        table = read_trajectories(args.run_dir)
        status = read_status(args.run_dir)
    except OSError as exc:
        return fail(f"cannot read {source}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    except (ValueError, KeyError) as exc:  # pyarrow: a corrupt or non-parquet file
        return fail(f"cannot read {source}: {exc}", EXIT_BAD_INPUT)
    try:
        endpoints = compute_endpoints(table, config, status=status)
    except ResultTableError as exc:
        return fail(f"{source}: {exc}", EXIT_BAD_INPUT)
    out = args.out or args.run_dir
    try:
        written = write_endpoints(endpoints, out)
    except OSError as exc:
        return fail(f"cannot write to {out}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    for note in endpoints.notes:
        sys.stderr.write(f"immunoreset endpoints: {note}\n")
    sys.stdout.write(
        f"{len(endpoints.patient)} patients, {len(endpoints.visits)} visit rows written to {out}: "
        + ", ".join(path.name for path in written)
        + "\n"
    )
    return EXIT_OK
