"""The ``immunoreset`` command line.

Each subcommand lives in its own module exposing ``add_parser(subparsers)`` and ``run(args) -> int``
and is a thin layer over the Python API. Exit codes (see :mod:`immunoreset.cli.errors`): 0 success;
1 some patients failed or some records were bad (the rest written); 2 bad input; 3 internal error
(``--debug`` shows the traceback); 130 / 143 interrupted by Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
import warnings
from collections.abc import Sequence

from immunoreset import __version__
from immunoreset.cli.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    fail,
    say,
)
from immunoreset.cli.text import plain
from immunoreset.runs.interrupt import (
    Terminated,
    install_handlers,
    raise_if_requested,
    requested_signal,
    reset,
)
from immunoreset.runs.memory import keep_freed_memory


class _Parser(argparse.ArgumentParser):
    """argparse parser whose usage errors are one line and exit with code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"immunoreset: error: {' '.join(message.split())}\n")
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    from immunoreset.cli import commands  # the subcommands' imports come after signal handling

    parser = _Parser(prog="immunoreset", description=plain(__doc__.splitlines()[0]))
    parser.add_argument("--version", action="version", version=f"immunoreset {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an internal error"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in commands.MODULES:
        module.add_parser(sub)
    return parser


def _joined_negative_values(argv: list[str]) -> list[str]:
    """``--visits -5,28`` -> ``--visits=-5,28``: argparse would read ``-5,28`` as an option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else ""
        if arg.startswith("--") and "=" not in arg and nxt[:1] == "-" and nxt[1:2].isdigit():
            out.append(f"{arg}={nxt}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def _stopped(exc: BaseException, signum: int) -> int:
    """Say what a stop by SIGINT or SIGTERM kept (the notes the run added to ``exc``)."""
    code, what = (
        (EXIT_SIGINT, "interrupted") if signum == signal.SIGINT else (EXIT_SIGTERM, "terminated")
    )
    notes = getattr(exc, "__notes__", None) or ["nothing was written"]
    say(f"{what}; " + "; ".join(notes))
    return code


def _broken_pipe() -> int:
    """The reader of our output went away (``... | head``): stop quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args_list = _joined_negative_values(list(sys.argv[1:] if argv is None else argv))
    debug = "--debug" in args_list
    previous = None
    reset()
    if _main_thread():  # first of all: a Ctrl-C during the imports below is never lost
        previous = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
        install_handlers()
    try:
        with warnings.catch_warnings():
            if not debug:  # numerical warnings are handled where they arise; never on stderr
                warnings.simplefilter("ignore", RuntimeWarning)
            args = build_parser().parse_args(args_list)
            raise_if_requested()
            keep_freed_memory()  # the process ends with the command (see runs.memory)
            code = int(args.run(args))
            sys.stdout.flush()
            return code
    except KeyboardInterrupt as exc:
        return _stopped(exc, signal.SIGINT)
    except Terminated as exc:
        return _stopped(exc, signal.SIGTERM)
    except BrokenPipeError:
        return _broken_pipe()
    except Exception as exc:  # a bug, not bad input: say so and how to see more
        signum = requested_signal()
        if signum is not None:  # a signal that surfaced as another exception (see requested_signal)
            return _stopped(exc, signum)
        if debug:
            traceback.print_exc()
        return fail(
            f"internal error: {type(exc).__name__}: {exc} (this is a bug; run again with --debug"
            " for the traceback)",
            EXIT_INTERNAL,
        )
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous[0])
            signal.signal(signal.SIGTERM, previous[1])


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
