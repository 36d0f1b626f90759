"""Fresh memory on a virtual machine, kept out of the benchmarks' timings.

This project's machine is a virtual machine that backs guest memory with host memory only when it
is first touched: filling 111 MB of fresh memory took 1.5-1.8 s, of memory the process used
before 0.02 s, and memory released for a few seconds may go back to the host. An engine call
allocates its outputs afresh (1,000 patients of the integrated model with daily outputs: 0.3 GB),
so without care a timing measures the host's memory backing as much as the integrator. Each
engine timing is therefore preceded by :func:`touch`, and the process keeps the memory it frees
(:func:`immunoreset.runs.memory.keep_freed_memory`, as the command line does), so that one chunk's
outputs reuse the pages of the last instead of fresh ones.
"""

from __future__ import annotations

import numpy as np

from immunoreset.runs.memory import keep_freed_memory


def touch(doubles: int) -> None:
    """Keep freed memory in the process, then fill and release ``doubles`` float64 values of
    memory, so that an allocation that follows gets pages the virtual machine has already backed."""
    keep_freed_memory()
    block = np.ones(doubles)
    del block
