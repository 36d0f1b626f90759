"""``immunoreset export MODEL --format sbml [--scenario FILE] [--out FILE]``: a model in SBML.

Writes SBML Level 3 Version 2 (opens in COPASI, Tellurium, libRoadRunner) to ``--out`` or stdout.
With ``--scenario``, the model is written with the scenario's typical patient and its dosing events
(the scenario's model must be MODEL). An existing ``--out`` file is replaced only with
``--overwrite``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from immunoreset.cli.errors import EXIT_BAD_INPUT, EXIT_OK, fail, say
from immunoreset.cli.text import plain

FORMATS = ("sbml",)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="write a model in a standard format (SBML)",
        description=plain(__doc__.split("\n\n")[0]),
    )  # fmt: skip
    p.add_argument("model", help="model name (see 'immunoreset models')")
    p.add_argument("--format", choices=FORMATS, default="sbml", help="file format (default sbml)")
    p.add_argument(
        "--scenario", type=Path, help="write with this scenario's typical patient and doses"
    )
    p.add_argument("--out", type=Path, help="output file (default: standard output)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from immunoreset.export import SbmlExportError, export_sbml, export_scenario_sbml
    from immunoreset.model.registry import get_model
    from immunoreset.scenario.load import ScenarioError, load_scenario

    try:
        model = get_model(args.model)
    except KeyError as exc:
        return fail(str(exc.args[0]), EXIT_BAD_INPUT)
    if args.out is not None and args.out.exists() and not args.overwrite:
        return fail(f"{args.out}: exists; pass --overwrite to replace it", EXIT_BAD_INPUT)
    if args.out is not None and args.scenario is not None and args.out.resolve() == (
            args.scenario.resolve()):  # fmt: skip
        return fail(f"{args.out}: is the scenario file; choose another --out", EXIT_BAD_INPUT)
    try:
        if args.scenario is not None:
            scenario = load_scenario(args.scenario)
            if scenario.model != model.name:
                return fail(
                    f"{args.scenario}: model: got {scenario.model!r}; allowed: {model.name!r}"
                    " (the model being exported)",
                    EXIT_BAD_INPUT,
                )
            text = export_scenario_sbml(scenario)
        else:
            text = export_sbml(model)
    except ScenarioError as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    except SbmlExportError as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    from immunoreset.files import write_bytes_atomic

    try:
        write_bytes_atomic(args.out, text.encode("utf-8"))
    except OSError as exc:
        return fail(f"cannot write {args.out}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    say(f"{model.name} written as SBML Level 3 Version 2 to {args.out}")
    return EXIT_OK
