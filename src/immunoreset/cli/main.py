"""The ``immunoreset`` command line.

Each subcommand lives in its own module exposing ``add_parser(subparsers)`` and ``run(args) -> int``.
Exit codes: 0 success; 2 bad input (one line on stderr naming the problem); 1 a run that failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from immunoreset import __version__
from immunoreset.cli import commands
from immunoreset.cli.errors import EXIT_BAD_INPUT


class _Parser(argparse.ArgumentParser):
    """argparse parser whose usage errors are one line and exit with code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"immunoreset: error: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="immunoreset", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"immunoreset {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in commands.MODULES:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
