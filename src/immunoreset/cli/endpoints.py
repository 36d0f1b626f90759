"""``immunoreset endpoints``: trial endpoints of a simulated run.

Usage::

    immunoreset endpoints RUN_DIR [--visits 0,28,90,180,365] [--car-lloq 1.0]
                                  [--auc-method linear_up_log_down|linear] [--out DIR]

Reads ``RUN_DIR/trajectories.parquet`` and writes ``endpoints_patient.csv``,
``endpoints_visits.csv``, ``endpoints_columns.csv`` (units) and ``endpoints_notes.txt`` to ``DIR``
(default ``RUN_DIR``); notes on skipped endpoints are also printed on stderr. The other settings
keep the defaults documented in :class:`immunoreset.endpoints.EndpointConfig`. Exit codes: 0
written; 2 no or unreadable trajectories, a bad visit list or an unwritable folder (one line on
stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from immunoreset.cli.errors import EXIT_BAD_INPUT, EXIT_OK, fail
from immunoreset.endpoints import (
    EndpointConfig,
    ResultTableError,
    compute_endpoints,
    read_trajectories,
    write_endpoints,
)
from immunoreset.endpoints.config import AUC_METHODS
from immunoreset.endpoints.io import TRAJECTORIES


def visit_days(text: str) -> tuple[float, ...]:
    """Parse ``"0,28,90"`` into visit days; argparse reports a malformed list in one line."""
    try:
        days = tuple(float(part) for part in text.split(","))
        return EndpointConfig(visits=days).visits
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated days such as 0,28,90, got {text!r}"
        ) from None


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``endpoints`` subcommand."""
    parser = subparsers.add_parser(
        "endpoints",
        help="compute trial endpoints from a run's trajectories",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("run_dir", type=Path, help=f"run folder holding {TRAJECTORIES}")
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
    try:
        table = read_trajectories(args.run_dir)
    except OSError as exc:
        return fail(f"cannot read {source}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    except ValueError as exc:  # pyarrow reports a corrupt or non-parquet file as a ValueError
        return fail(f"cannot read {source}: {exc}", EXIT_BAD_INPUT)
    try:
        endpoints = compute_endpoints(table, config)
    except ResultTableError as exc:
        return fail(f"{source}: {exc}", EXIT_BAD_INPUT)
    out = args.out or args.run_dir
    try:
        write_endpoints(endpoints, out)
    except OSError as exc:
        return fail(f"cannot write to {out}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    for note in endpoints.notes:
        sys.stderr.write(f"immunoreset endpoints: {note}\n")
    sys.stdout.write(
        f"{len(endpoints.patient)} patients, {len(endpoints.visits)} visit rows written to {out}\n"
    )
    return EXIT_OK
