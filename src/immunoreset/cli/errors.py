"""Exit codes and the one-line error report shared by every subcommand.

0 success; 1 some patients failed or some records were bad (the rest written); 2 bad input (one
line naming the field, the value and what is allowed); 3 internal error (a bug: ``--debug`` shows
the traceback); 130 / 143 interrupted by SIGINT (Ctrl-C) / SIGTERM.
"""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


def fail(message: str, code: int) -> int:
    """Print ``message`` as a single line on stderr and return ``code``."""
    sys.stderr.write("immunoreset: error: " + " ".join(message.split()) + "\n")
    return code


def say(message: str) -> None:
    """One line of information on stderr (kept off stdout, which may be piped)."""
    sys.stderr.write("immunoreset: " + " ".join(message.split()) + "\n")
