"""``immunoreset simulate SCENARIO --out DIR``: run a scenario into a run directory.

A thin layer over :func:`immunoreset.runs.run_to_directory`. ``--overwrite`` replaces an earlier
run (a directory holding ``run.json``) once the new one has completed; anything else at ``--out``
is never touched. ``--resume`` finishes an interrupted run. ``--workers N`` / ``--scheduler
ADDRESS`` run the chunks on Dask (same results as one process).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from immunoreset.cli.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_RUN_FAILED, fail, say
from immunoreset.cli.progress import Progress
from immunoreset.scenario.load import (
    MAX_FILE_BYTES,
    ScenarioError,
    read_text_limited,
    scenario_from_text,
)

MAX_WORKERS = 1024


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="simulate a scenario file and write results to a directory")
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument("--out", type=Path, required=True, help="run directory to create")
    p.add_argument(
        "--overwrite", action="store_true", help="replace an earlier run directory at --out"
    )
    p.add_argument("--resume", action="store_true", help="finish an interrupted run at --out")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress report")
    p.add_argument(
        "--threads", type=int, help="engine threads (default: all cores; results do not change)"
    )
    p.add_argument(
        "--workers", type=int, help="run chunks on a local Dask cluster of N worker processes"
    )
    p.add_argument("--scheduler", help="run chunks on an existing Dask cluster (scheduler address)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from immunoreset.runs import RunDirectoryError, run_to_directory, set_threads

    try:
        text = read_text_limited(args.scenario, MAX_FILE_BYTES, str(args.scenario))
        scenario = scenario_from_text(text, str(args.scenario))
    except ScenarioError as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    try:
        set_threads(args.threads)
    except ValueError as exc:
        return fail(f"--{exc}", EXIT_BAD_INPUT)
    if args.workers is not None and not 1 <= args.workers <= MAX_WORKERS:
        return fail(f"--workers: got {args.workers}; allowed: 1 to {MAX_WORKERS}", EXIT_BAD_INPUT)
    if args.workers is not None and args.scheduler is not None:
        return fail("--workers and --scheduler: choose one", EXIT_BAD_INPUT)
    bar = Progress(scenario.population.size, quiet=args.quiet)
    try:
        summary = run_to_directory(
            scenario, args.out, scenario_text=text, overwrite=args.overwrite, resume=args.resume,
            progress=bar.update, plots=not args.no_plots, workers=args.workers,
            scheduler=args.scheduler,
        )  # fmt: skip
    except RunDirectoryError as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    finally:
        bar.close()
    resumed = f" ({summary.resumed_chunks} chunk(s) resumed)" if summary.resumed_chunks else ""
    kept = " (endpoints kept)" if scenario.store == "endpoints" else ""
    msg = (
        f"{summary.n_patients} patient(s) simulated in {summary.seconds:.1f} s{resumed}{kept}"
        f" -> {summary.out_dir}"
    )
    if summary.n_failed:
        say(msg)
        return fail(
            f"{summary.n_failed} of {summary.n_patients} patient(s) failed to integrate; "
            "see status_message in parameters.parquet",
            EXIT_RUN_FAILED,
        )
    print(msg)
    sys.stdout.flush()
    return EXIT_OK
