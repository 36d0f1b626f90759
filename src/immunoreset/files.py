"""Writing files so that a reader never sees half of one: a temporary file beside the target,
then one rename (atomic on POSIX file systems)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace or create ``path`` with ``data`` in one step; nothing is left behind on failure."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class OutputFolderError(ValueError):
    """An output folder that cannot be used (one line saying why)."""


def check_folder(
    out: Path, marker: str, kind: str, overwrite: bool,
    error: type[OutputFolderError] = OutputFolderError,
) -> None:  # fmt: skip
    """Refuse an ``out`` that may not take the output, before any work is done: ``out`` may be
    absent, empty, or an earlier output of the same kind (holding ``marker``) when ``overwrite``;
    anything else is left untouched and refused."""
    if out.exists():
        if not out.is_dir():
            raise error(f"{out}: exists and is a file; choose another --out")
        if any(out.iterdir()):
            if not (out / marker).is_file():
                raise error(
                    f"{out}: exists and is not a {kind} folder (no {marker}); it is left "
                    "untouched: choose another --out"
                )
            if not overwrite:
                raise error(f"{out}: an earlier {kind} is there; pass --overwrite")
    if not out.parent.is_dir():
        raise error(f"{out.parent}: no such folder")


def begin_folder(
    out: Path, marker: str, kind: str, overwrite: bool,
    error: type[OutputFolderError] = OutputFolderError,
) -> Path:  # fmt: skip
    """Check ``out`` (:func:`check_folder`) and create a private work folder beside it; the output
    is built there and moved into place by :func:`finish_folder`, so a folder that exists is
    whole."""
    check_folder(out, marker, kind, overwrite, error)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))


def finish_folder(work: Path, out: Path, marker: str) -> None:
    """Move the completed ``work`` folder to ``out``, replacing an earlier output there (re-checked
    by its ``marker`` right before the swap, so nothing else is ever removed)."""
    if out.exists() and any(out.iterdir()):
        if not (out / marker).is_file():
            raise OutputFolderError(f"{out}: no longer an output folder; the new one is in {work}")
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        old.rmdir()
        out.rename(old)
        work.rename(out)
        shutil.rmtree(old)
        return
    if out.exists():
        out.rmdir()  # empty
    work.rename(out)


def abandon_folder(work: Path) -> None:
    """Remove a work folder this process created (never anything else)."""
    shutil.rmtree(work, ignore_errors=True)
