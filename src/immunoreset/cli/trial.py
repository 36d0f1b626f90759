"""``immunoreset trial TRIAL.yaml --out DIR``: run a virtual trial into a trial folder.

A thin layer over :func:`immunoreset.trial.run_trial`: validates the trial file (exit 2 with one
line naming the field, the value and what is allowed), enrols and simulates every arm with a
progress bar, and writes run directories per arm, ADaM-like datasets, analysis tables and the
HTML report (layout: :mod:`immunoreset.trial.output`). ``--overwrite`` replaces only an earlier
trial folder. Exit codes: 0 written; 1 written, but some patients failed to integrate (they are
not evaluable); 2 bad input; 130/143 interrupted (nothing is left at ``--out``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from immunoreset.cli.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_RUN_FAILED, fail, say
from immunoreset.cli.progress import Progress
from immunoreset.cli.text import plain


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``trial`` subcommand."""
    p = sub.add_parser(
        "trial",
        help="run a virtual trial file: datasets, statistics and an HTML report",
        description=plain(__doc__.split("\n\n")[0]),
    )
    p.add_argument("trial", type=Path, help="trial YAML file")
    p.add_argument("--out", type=Path, required=True, help="trial folder to create")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier trial folder")
    p.add_argument(
        "--chunk-size", type=int, help="patients per engine chunk (results do not change)"
    )
    p.add_argument("--threads", type=int, help="engine threads (results do not change)")
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")
    p.add_argument("--quiet", action="store_true", help="no progress report")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``immunoreset trial``; see the module docstring for the exit codes."""
    from immunoreset.runs import set_threads
    from immunoreset.trial import TrialError, TrialFolderError, load_trial, run_trial

    if args.chunk_size is not None and args.chunk_size < 1:
        return fail(
            f"--chunk-size: got {args.chunk_size}; allowed: a whole number >= 1", EXIT_BAD_INPUT
        )
    try:
        set_threads(args.threads)
    except ValueError as exc:
        return fail(f"--{exc}", EXIT_BAD_INPUT)
    try:
        trial = load_trial(args.trial)
    except TrialError as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    design = trial.design
    bar = Progress(design.sample_size * (1 + design.replicates.trials), quiet=args.quiet)
    try:
        result = run_trial(
            trial,
            args.out,
            overwrite=args.overwrite,
            progress=bar.update,
            chunk_size=args.chunk_size,
            report=not args.no_report,
        )
    except (TrialError, TrialFolderError) as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    finally:
        bar.close()
    verdict = ""
    if result.decision:
        verdict = "; decision rule " + ("met" if result.decision["success"] else "not met")
    message = (
        f"{int(result.subjects['randomised'].sum())} patients randomised of "
        f"{len(result.subjects)} screened, {result.seconds:.1f} s{verdict} -> {args.out}"
    )
    if result.n_failed:
        say(message)
        return fail(
            f"{result.n_failed} patient(s) failed to integrate and are not evaluable; "
            "see ADSL EVALFL and arms/*/parameters.parquet",
            EXIT_RUN_FAILED,
        )
    print(message)
    return EXIT_OK
