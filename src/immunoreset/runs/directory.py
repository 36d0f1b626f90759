"""The run directory: the on-disk form of a run, designed to survive interruptions and to grow.

Layout (``SCHEMA_VERSION`` 2)::

    run.json                  what ran and how: schema version, status, the scenario's settings
                              (each once), model, versions, output units, chunks, failures, timing
    scenario.yaml             the scenario exactly as given
    trajectories.parquet/     one Parquet file per chunk (part-000000.parquet, ...): patient_id,
                              time and one column per output; each field carries its unit
    parameters.parquet/       one Parquet file per chunk: status, solver statistics, parameters
    endpoints_*.parquet/      instead of trajectories.parquet, for a run that keeps endpoints
                              only (``store: endpoints``; :mod:`immunoreset.endpoints.store`)
    endpoints_columns.csv     the endpoints' data dictionary and notes, written when such a run
    endpoints_notes.txt       completes
    plots/*.png               written when the run completes
    .lock                     present while a process writes here

Both ``*.parquet`` folders read as one table with ``pandas.read_parquet(path)`` (or Dask). Each
chunk file is written under a temporary name and renamed into place, so a file that exists is
complete; a chunk is done when its ``parameters.parquet`` part exists. ``run.json`` says
``running``, ``interrupted`` or ``complete``; an interrupted run is finished with ``resume``, which
skips the chunks already written (the same scenario and chunk size give the same patients in the
same chunks). The lock refuses a second process writing the same place.

Nothing outside a run directory is ever deleted: an existing path is replaced only if it is a
directory holding ``run.json`` (an earlier run), and only after the new run has completed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from immunoreset.files import write_bytes_atomic

SCHEMA_VERSION = 2
RUN_FILE = "run.json"
SCENARIO_FILE = "scenario.yaml"
TRAJECTORIES = "trajectories.parquet"
PARAMETERS = "parameters.parquet"
PLOTS = "plots"
LOCK_FILE = ".lock"

Mode = Literal["new", "replace", "resume"]


class RunDirectoryError(ValueError):
    """The output location cannot take this run (exists, not ours, locked, not writable)."""


def part_name(index: int) -> str:
    return f"part-{index:06d}.parquet"


def is_run_directory(path: Path) -> bool:
    """True for a directory holding ``run.json``: recognisably an immunoreset run."""
    return path.is_dir() and (path / RUN_FILE).is_file()


def read_run_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunDirectoryError(f"{path / RUN_FILE}: cannot read it ({exc})") from None
    if not isinstance(data, dict):
        raise RunDirectoryError(f"{path / RUN_FILE}: not a run description")
    return data


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    write_bytes_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def write_table_atomic(path: Path, table: pa.Table) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_parent(out: Path) -> None:
    parent = out.parent if str(out.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise RunDirectoryError(f"{out}: its parent {parent} is a file, not a folder")
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise RunDirectoryError(f"{out}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise RunDirectoryError(f"{out}: the folder {probe} is not writable")


def check_target(out: Path, overwrite: bool, resume: bool) -> Mode:
    """Decide how a run may use ``out``, without touching anything; raise if it may not."""
    if overwrite and resume:
        raise RunDirectoryError("--overwrite and --resume: choose one")
    _check_parent(out)
    if not out.exists():
        if resume:
            raise RunDirectoryError(f"{out}: no run to resume there")
        return "new"
    if not out.is_dir():
        raise RunDirectoryError(
            f"{out}: exists and is a file, not a run directory; choose another --out"
        )
    if not is_run_directory(out):
        if not any(out.iterdir()) and not resume:
            return "new"  # an empty folder holds nothing to lose
        raise RunDirectoryError(
            f"{out}: exists and is not an immunoreset run (no {RUN_FILE}); it is left untouched:"
            " choose another --out"
        )
    if not os.access(out, os.W_OK | os.X_OK):
        raise RunDirectoryError(f"{out}: the run directory is not writable")
    meta = read_run_json(out)
    status = meta.get("status", "complete")
    if resume:
        if status == "complete":
            raise RunDirectoryError(f"{out}: the run is already complete; nothing to resume")
        return "resume"
    if overwrite:
        return "replace"
    hint = (
        "pass --resume to finish it" if status != "complete" else "pass --overwrite to replace it"
    )
    raise RunDirectoryError(f"{out}: an earlier run ({status}) is there; {hint}")


@dataclass
class Lock:
    """An exclusive lock file inside a run directory (``O_EXCL``); a stale lock left by a process
    that no longer exists on this host is taken over."""

    path: Path

    def acquire(self) -> None:
        text = f"{os.getpid()} {socket.gethostname()}\n"
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if self._stale():
                    self.path.unlink(missing_ok=True)
                    continue
                raise RunDirectoryError(
                    f"{self.path.parent}: another run is writing here ({self._owner()}); wait for"
                    f" it, or remove {self.path} if that process is gone"
                ) from None
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            return
        raise RunDirectoryError(f"{self.path}: cannot take the lock")

    def _owner(self) -> str:
        try:
            pid, host = self.path.read_text().split()[:2]
        except (OSError, ValueError):
            return "unknown process"
        return f"process {pid} on {host}"

    def _stale(self) -> bool:
        try:
            pid_text, host = self.path.read_text().split()[:2]
            pid = int(pid_text)
        except (OSError, ValueError):
            return False
        if host != socket.gethostname():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


def done_chunks(path: Path, folders: tuple[str, ...] = (TRAJECTORIES,)) -> set[int]:
    """Indices of the chunks whose tables are all in place (parameters and ``folders``)."""
    params = path / PARAMETERS
    done = set()
    if params.is_dir():
        for part in params.glob("part-*.parquet"):
            with contextlib.suppress(ValueError):
                index = int(part.stem.removeprefix("part-"))
                if all((path / folder / part.name).is_file() for folder in folders):
                    done.add(index)
    return done


def make_work_dir(out: Path, mode: Mode) -> Path:
    """Where the run starts writing: ``out`` itself to resume, else a private hidden sibling.

    A new run is set up there (lock, ``run.json``, ``scenario.yaml``) and then published under its
    name in one rename (:func:`publish`), so ``out`` is never a half-made run directory, even if the
    process is killed. A replacing run stays in the sibling until it has completed.
    """
    if mode == "resume":
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    work.chmod(0o777 & ~umask)  # mkdtemp makes the directory private; a run is an ordinary one
    return work


def publish(work: Path, out: Path) -> None:
    """Give a set-up run directory its name (``out`` absent or an empty folder)."""
    try:
        os.rename(work, out)
    except OSError as exc:
        raise RunDirectoryError(f"{out}: appeared while the run was being set up ({exc})") from None


def remove_temporary_files(work: Path) -> int:
    """Delete the half-written temporary files a killed process left in the run's table folders
    (names ``.part-NNNNNN.parquet.*.tmp``, ours by construction); returns how many."""
    removed = 0
    for folder in (*sorted(work.glob("*.parquet")), work):
        if not folder.is_dir():
            continue
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def prepare_tables(work: Path, folders: tuple[str, ...] = (TRAJECTORIES,)) -> None:
    for folder in (*folders, PARAMETERS):
        (work / folder).mkdir(exist_ok=True)


def write_chunk(work: Path, index: int, tables: dict[str, pa.Table], parameters: pa.Table) -> None:
    """Write one chunk: ``tables`` by folder, then its parameters part, which marks it done."""
    for folder, table in tables.items():
        write_table_atomic(work / folder / part_name(index), table)
    write_table_atomic(work / PARAMETERS / part_name(index), parameters)


def replace_run(work: Path, out: Path) -> None:
    """Swap a completed run ``work`` into ``out`` (an earlier run, checked by the caller)."""
    if not is_run_directory(out):  # re-checked right before the swap
        raise RunDirectoryError(f"{out}: no longer an immunoreset run; the new run is in {work}")
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    out.rename(old)
    try:
        work.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old)


def discard(work: Path) -> None:
    """Remove a directory this process created for a run (never anything else)."""
    shutil.rmtree(work, ignore_errors=True)
