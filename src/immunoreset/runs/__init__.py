"""Running scenarios: virtual patients through the engine, in memory or into a run directory.

:func:`run` returns a :class:`Result` in memory; :func:`run_to_directory` writes a resumable run
directory (:mod:`.directory`) chunk by chunk; :func:`read_run` loads one back. Names are imported
on first use, so the command line's signal handling (:mod:`.interrupt`) loads no table library.
"""

from __future__ import annotations

from immunoreset.lazy import lazy_attributes

_API = {
    "Result": "immunoreset.runs.result",
    "RunDirectoryError": "immunoreset.runs.directory",
    "RunSummary": "immunoreset.runs.execute",
    "read_run": "immunoreset.runs.execute",
    "run": "immunoreset.runs.execute",
    "run_to_directory": "immunoreset.runs.execute",
    "set_threads": "immunoreset.runs.execute",
    "write_result": "immunoreset.runs.execute",
}

__all__ = sorted(_API)


__getattr__ = lazy_attributes(__name__, _API)
