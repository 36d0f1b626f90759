"""``immunoreset models`` and ``immunoreset params MODEL``: what can be simulated, and with what."""

from __future__ import annotations

import argparse
import csv
import sys

from immunoreset.cli.errors import EXIT_BAD_INPUT, EXIT_OK, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the available models")
    p.set_defaults(run=run_models)
    q = sub.add_parser("params", help="print a model's parameter table with units and sources")
    q.add_argument("model", help="model name (see 'immunoreset models')")
    q.add_argument("--csv", action="store_true", help="machine-readable CSV instead of a table")
    q.set_defaults(run=run_params)


def run_models(args: argparse.Namespace) -> int:
    from immunoreset.model.registry import MODELS

    for name in sorted(MODELS):
        m = MODELS[name]
        print(f"{name:12s} {m.title}")
        print(f"{'':12s} {len(m.states)} states, {len(m.parameters)} parameters; {m.reference}")
    return EXIT_OK


def _omega2(value: float, scale: str) -> str:
    """The variance of a parameter's random effect, with its scale when not the log scale."""
    return f"{value:g}" if scale == "log" else f"{value:g} ({scale})"


def run_params(args: argparse.Namespace) -> int:
    from immunoreset.model.registry import get_model

    try:
        model = get_model(args.model)
    except KeyError as exc:
        return fail(str(exc.args[0]), EXIT_BAD_INPUT)
    header = ["name", "value", "unit", "omega2", "confidence", "meaning", "source", "note"]
    rows = [
        [p.name, f"{p.value:g}", p.unit, _omega2(p.omega2, p.omega2_scale), p.confidence,
         p.meaning, p.source, p.note]
        for p in model.parameters
    ]  # fmt: skip
    if args.csv:
        w = csv.writer(sys.stdout)
        w.writerow(header)
        w.writerows(rows)
        return EXIT_OK
    print(f"{model.title}\n{model.reference}\n")
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(5)]
    print("  ".join(h.ljust(w) for h, w in zip(header[:5], widths, strict=True)) + "  source")
    for r in rows:
        cells = "  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True))
        print(f"{cells}  {r[6]}" + (f" [{r[7]}]" if r[7] else ""))
    print(
        "\nconfidence: H primary source; M secondary/digitised; L derived; assumption = no source"
    )
    if model.notes:
        print("\nnotes:")
        for note in model.notes:
            print(f"- {note}")
    return EXIT_OK
