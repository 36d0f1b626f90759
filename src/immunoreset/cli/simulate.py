"""``immunoreset simulate SCENARIO --out DIR``: run a scenario and write its result tables and plots."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from immunoreset.cli.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_RUN_FAILED, fail
from immunoreset.cli.progress import Progress
from immunoreset.scenario.load import ScenarioError, load_scenario


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="simulate a scenario file and write results to a directory")
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument("--out", type=Path, required=True, help="run directory to create")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run directory")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress report")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    if args.out.exists() and not args.overwrite:
        return fail(f"{args.out}: exists; pass --overwrite to replace it", EXIT_BAD_INPUT)
    from immunoreset.trial.run import run_scenario  # heavy imports only when running

    text = args.scenario.read_text(encoding="utf-8")
    bar = Progress(scenario.population.size, quiet=args.quiet)
    try:
        summary = run_scenario(
            scenario, text, args.out, overwrite=args.overwrite, progress=bar.update,
            plots=not args.no_plots,
        )  # fmt: skip
    except Exception as exc:  # a run that fails after validation: report, leave nothing behind
        bar.close()
        return fail(f"simulation failed: {type(exc).__name__}: {exc}", EXIT_RUN_FAILED)
    bar.close()
    msg = (
        f"{summary.n_patients} patient(s) simulated in {summary.seconds:.1f} s -> {summary.out_dir}"
    )
    if summary.n_failed:
        print(msg, file=sys.stderr)
        return fail(
            f"{summary.n_failed} of {summary.n_patients} patient(s) failed to integrate; "
            "see status_message in parameters.parquet",
            EXIT_RUN_FAILED,
        )
    print(msg)
    return EXIT_OK
