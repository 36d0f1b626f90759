"""The C library keeps freed memory for the process once asked (runs.memory), so a run's next
chunk reuses the pages of the last one instead of having the kernel map and zero them again."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import resource, sys
import numpy as np
from immunoreset.runs.memory import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else None
block = np.ones(8_000_000)  # 64 MB, far above the C library's threshold for mapping a block alone
del block
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
block = np.ones(8_000_000)
print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _second_fill(mode: str) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_memory_is_reused_without_page_faults() -> None:
    """64 MB filled, freed and filled again: by default the second fill faults its pages in
    afresh (at least 32: 2 MB huge pages; 16,384 with 4 KB pages); kept, it faults none (a few
    allowed for the interpreter's own bookkeeping)."""
    kept, faults = _second_fill("keep")
    assert kept == "True"
    assert faults <= 4, faults
    _, default_faults = _second_fill("default")
    assert default_faults >= 32, default_faults
