"""``immunoreset validate SCENARIO``: check a scenario file without running it."""

from __future__ import annotations

import argparse
from pathlib import Path

from immunoreset.cli.errors import EXIT_BAD_INPUT, EXIT_OK, fail
from immunoreset.scenario.load import ScenarioError, load_scenario


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a scenario file without running it")
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        s = load_scenario(args.scenario)
    except ScenarioError as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    print(
        f"{args.scenario}: ok (model {s.model}, {s.population.size} patient(s), "
        f"{s.n_output_times()} output times over {s.horizon_days:g} days)"
    )
    return EXIT_OK
