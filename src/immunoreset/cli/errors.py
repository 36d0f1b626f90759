"""Exit codes and the one-line error report shared by every subcommand."""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2


def fail(message: str, code: int) -> int:
    """Print ``message`` as a single line on stderr and return ``code``."""
    sys.stderr.write("immunoreset: error: " + " ".join(message.split()) + "\n")
    return code
