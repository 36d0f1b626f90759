"""``immunoreset calibrate CONFIG --out DIR``: fit model parameters to clinical data.

A thin layer over :func:`immunoreset.calibrate.run.run_calibration` and
:func:`~immunoreset.calibrate.run.write_calibration`: validates the calibration file, the scenario
and the data (exit 2 with one line naming the field or row, the value and what is allowed), fits
from several starts while reporting each, computes the diagnostics the file asks for and writes the
calibration folder with its credibility report (layout: :mod:`immunoreset.calibrate.run`).
``--overwrite`` replaces only an earlier calibration folder; the folder is checked before the fit.
Exit codes: 0 written; 2 bad input; 130/143 interrupted (nothing is left at ``--out``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from immunoreset.cli.errors import EXIT_BAD_INPUT, EXIT_OK, fail, say
from immunoreset.cli.text import plain


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``calibrate`` subcommand."""
    p = sub.add_parser(
        "calibrate",
        help="fit parameters to clinical data; estimates, diagnostics and a credibility report",
        description=plain(__doc__.split("\n\n")[0]),
    )
    p.add_argument("config", type=Path, help="calibration YAML file")
    p.add_argument("--out", type=Path, required=True, help="calibration folder to create")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier calibration")
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``immunoreset calibrate``; see the module docstring for the exit codes."""
    from immunoreset.calibrate.run import CALIBRATION_FILE, run_calibration, write_calibration
    from immunoreset.files import check_folder

    progress = None if args.quiet else say
    try:
        check_folder(args.out, CALIBRATION_FILE, "calibration", args.overwrite)
        if args.config.is_dir():
            raise ValueError(f"{args.config}: a folder; allowed: a calibration YAML file")
        result = run_calibration(args.config, progress=progress)
        write_calibration(result, args.out, args.overwrite, report=not args.no_report)
    except (ValueError, KeyError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        return fail(str(message), EXIT_BAD_INPUT)
    table = result.fit.table()
    shown = ", ".join(
        f"{r.parameter} {r.estimate:.4g} [{r.lower_95:.3g}, {r.upper_95:.3g}]"
        for r in table.itertuples()
    )
    print(
        f"-log L {result.fit.nll:.4g}; {result.fit.n_converged} of {len(result.fit.starts)} starts "
        f"agree; {shown} -> {args.out}"
    )
    for note in result.fit.notes:
        say(f"note: {note}")
    return EXIT_OK
