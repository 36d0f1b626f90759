"""``immunoreset vpop CLOUD.csv TARGETS.yaml --out DIR``: select a virtual population.

A thin layer over :func:`immunoreset.calibrate.vpop_file.select_population`: keeps (acceptance-
rejection) or weights (prevalence weighting) the plausible patients of the cloud so that their
markers follow the target distributions (Allen 2016), and writes the selection, the goodness of fit
per marker and the effective sample size (layout: :mod:`immunoreset.calibrate.vpop_file`).
``--overwrite`` replaces only an earlier selection folder. Exit codes: 0 written; 2 bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from immunoreset.cli.errors import EXIT_BAD_INPUT, EXIT_OK, fail
from immunoreset.cli.text import plain


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``vpop`` subcommand."""
    p = sub.add_parser(
        "vpop",
        help="select or weight plausible patients to match target distributions (Allen 2016)",
        description=plain(__doc__.split("\n\n")[0]),
    )
    p.add_argument("cloud", type=Path, help="CSV of plausible patients: patient_id, markers")
    p.add_argument("targets", type=Path, help="YAML of target distributions per marker")
    p.add_argument("--out", type=Path, required=True, help="selection folder to create")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier selection")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``immunoreset vpop``; see the module docstring for the exit codes."""
    from immunoreset.calibrate.vpop_file import VPOP_FILE, select_population, write_selection
    from immunoreset.files import check_folder

    try:
        check_folder(args.out, VPOP_FILE, "virtual-population", args.overwrite)
        selection = select_population(args.cloud, args.targets)
        write_selection(selection, args.out, args.overwrite)
    except (ValueError, OSError) as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    print(
        f"{selection.n_selected} of {len(selection.patient_id)} patients selected "
        f"({selection.method}), effective sample size {selection.ess:.1f} -> {args.out}"
    )
    return EXIT_OK
