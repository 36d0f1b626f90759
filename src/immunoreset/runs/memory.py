"""Keeping the memory a run frees for the run itself.

A run allocates each chunk's outputs afresh (1,000 patients with daily outputs over two years:
0.11 GB for Park 2025, 0.3 GB for the integrated model) and frees them once the chunk is written.
The C library hands blocks that large back to the system at once, so the next chunk's outputs are
mapped and zeroed by the kernel again; on a virtual machine that returns freed memory to its host
(free page reporting), the host must back them again as well. Measured on this project's 2-core
virtual machine, 12 chunks of 1,000 Park 2025 patients on one thread: 0.16-0.21 s of system time
per chunk beside 0.55-0.59 s of integration, none with the memory kept (0.55 s per chunk in all).
"""

from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_INT_MAX = 2**31 - 1


def keep_freed_memory() -> bool:
    """Ask the C library to keep freed memory for the process's own reuse: no block is mapped on
    its own (glibc ``mallopt(M_MMAP_MAX, 0)``) and the top of the heap is never returned
    (``M_TRIM_THRESHOLD``). Returns False where the C library has no such setting (not Linux, or
    a C library that rejects it).

    The process's resident memory then stays at its peak until it exits, so the command line
    calls this (its process ends with its run), as do the workers of a Dask cluster a run starts
    itself and the benchmarks; the library never does on its own, so a notebook keeps the C
    library's defaults unless its user calls it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _INT_MAX))
