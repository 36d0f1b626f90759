"""Running scenarios: virtual patients through the engine, in memory or into a run directory.

:func:`run` returns a :class:`Result` in memory; :func:`run_to_directory` writes a resumable run
directory (:mod:`.directory`) chunk by chunk; :func:`read_run` loads one back.
"""

from immunoreset.runs.directory import RunDirectoryError
from immunoreset.runs.execute import (
    RunSummary,
    read_run,
    run,
    run_to_directory,
    set_threads,
    write_result,
)
from immunoreset.runs.result import Result

__all__ = [
    "Result",
    "RunDirectoryError",
    "RunSummary",
    "read_run",
    "run",
    "run_to_directory",
    "set_threads",
    "write_result",
]
