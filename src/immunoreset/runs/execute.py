"""Running a scenario: in memory for a notebook, or into a run directory for large populations.

Both walk the population chunk by chunk through the engine (:func:`batches`); memory is bounded by
the chunk size when writing a directory. ``progress(n)`` is called after each chunk with the number
of patients just finished. ``threads`` sets how many threads the engine uses (default: all cores,
or ``NUMBA_NUM_THREADS``); results do not depend on it.
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from immunoreset import __version__
from immunoreset.model.registry import get_model
from immunoreset.runs import directory as rd
from immunoreset.runs.ahead import one_ahead
from immunoreset.runs.inputs import RunInputs, prepare
from immunoreset.runs.interrupt import raise_if_requested
from immunoreset.runs.tables import (
    ChunkTables,
    chunk_tables,
    kept_tables,
    output_units,
    patient_table,
    trajectory_schema,
    trajectory_table,
    units_of_schema,
    with_units,
)
from immunoreset.scenario.load import load_scenario, scenario_from_text
from immunoreset.scenario.schema import Scenario
from immunoreset.simulate.engine import BatchResult, simulate

if TYPE_CHECKING:
    from immunoreset.runs.result import Result

Progress = Callable[[int], None]
_VERSIONED = ("numpy", "scipy", "numba", "pandas", "pyarrow", "pydantic", "matplotlib")


def set_threads(threads: int | None) -> None:
    """Use ``threads`` engine threads (1 to the number the engine was started with)."""
    if threads is None:
        return
    import numba

    top = numba.config.NUMBA_NUM_THREADS
    if not 1 <= threads <= top:
        raise ValueError(f"threads: got {threads}; allowed: 1 to {top} on this machine")
    numba.set_num_threads(threads)


def chunk_batch(inputs: RunInputs, index: int, stop: threading.Event | None = None) -> BatchResult:
    """The engine's batch of chunk ``index`` (``stop`` ends it early, see :func:`simulate`)."""
    ids = inputs.chunk_ids(index)
    params = inputs.parameters(ids)
    return simulate(
        inputs.model, params, inputs.events(params), inputs.times, inputs.settings,
        inputs.t_start, ids, inputs.model.typical_parameters(inputs.overrides), stop,
    )  # fmt: skip


def batches(inputs: RunInputs, skip: set[int] | frozenset[int] = frozenset()) -> Iterator[
        tuple[int, BatchResult]]:  # fmt: skip
    """``(chunk index, batch)`` for every chunk not in ``skip``, in order."""
    for index in range(inputs.n_chunks):
        if index in skip:
            continue
        batch = chunk_batch(inputs, index)
        raise_if_requested()
        yield index, batch


def scored_chunks(inputs: RunInputs, skip: set[int] | frozenset[int] = frozenset()) -> Iterator[
        ChunkTables]:  # fmt: skip
    """Tables of every chunk not in ``skip``, in order, each chunk simulated while the one before
    it is turned into tables and scored (:func:`~immunoreset.runs.ahead.one_ahead`)."""
    todo = [index for index in range(inputs.n_chunks) if index not in skip]
    with closing(one_ahead(lambda i, stop: chunk_batch(inputs, i, stop), todo)) as chunks:
        for index, batch in chunks:
            raise_if_requested()
            yield chunk_tables(inputs, index, batch)


def run(
    scenario: Scenario | str | Path, progress: Progress | None = None, threads: int | None = None
) -> Result:
    """Simulate ``scenario`` (a scenario, or the path of a scenario file) in memory and return its
    :class:`Result` (nothing is written).

    Example::

        import immunoreset as ir
        result = ir.run("examples/park2025_sle_typical.yaml")
        result.trajectories.head()
    """
    from immunoreset.runs.result import Result

    if isinstance(scenario, str | Path):
        scenario = load_scenario(scenario)
    set_threads(threads)
    inputs = prepare(scenario)
    keep = inputs.output_index()
    started = time.perf_counter()
    tables, patients = [], []
    for _, batch in batches(inputs):
        tables.append(trajectory_table(batch, inputs.outputs, keep))
        patients.append(patient_table(batch, inputs.model.parameter_names))
        if progress is not None:
            progress(len(batch.patient_ids))
    trajectories = pa.concat_tables(tables).to_pandas()
    return Result(
        scenario=scenario,
        trajectories=with_units(trajectories, output_units(inputs.outputs)),
        patients=pa.concat_tables(patients).to_pandas(),
        parameter_names=inputs.model.parameter_names,
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class RunSummary:
    """What :func:`run_to_directory` did."""

    out_dir: Path
    n_patients: int
    n_failed: int
    seconds: float
    resumed_chunks: int = 0


def package_versions() -> dict[str, str]:
    out = {"immunoreset": __version__, "python": sys.version.split()[0]}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[name] = "not installed"
    return out


def _canonical(scenario: Scenario) -> dict:
    return scenario.model_dump(mode="json")


def run_description(inputs: RunInputs, status: str, n_done: int, n_failed: int,
                    seconds: float) -> dict:  # fmt: skip
    """The content of ``run.json``: every setting once (the scenario's own, then what the run
    derived from it), provenance, progress and outcome."""
    model = inputs.model
    settings = inputs.settings
    return {
        "schema_version": rd.SCHEMA_VERSION,
        "status": status,
        "updated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scenario": _canonical(inputs.scenario),
        "derived": {
            "integration_start_day": inputs.t_start,
            "chunk_size": inputs.chunk_size,
            "n_chunks": inputs.n_chunks,
            "solver_h_init_day": settings.h_init,
            "solver_h_max_day": str(settings.h_max),
            "solver_sparse_jacobian": settings.sparse_jacobian,
        },
        "model": {"name": model.name, "title": model.title, "reference": model.reference},
        "output_units": output_units(inputs.outputs),
        "versions": package_versions(),
        "platform": platform.platform(),
        "chunks_done": n_done,
        "n_failed": n_failed,
        "seconds": round(seconds, 3),
    }


def _check_resumable(out: Path, inputs: RunInputs) -> None:
    meta = rd.read_run_json(out)
    if meta.get("schema_version") != rd.SCHEMA_VERSION:
        raise rd.RunDirectoryError(
            f"{out}: written by another version of the run format "
            f"({meta.get('schema_version')}); it cannot be resumed"
        )
    if meta.get("scenario") != _canonical(inputs.scenario):
        raise rd.RunDirectoryError(
            f"{out}: the scenario differs from the one this run was started with"
            f" ({out / rd.SCENARIO_FILE}); resume with that scenario or start a new run"
        )
    if meta.get("derived", {}).get("chunk_size") != inputs.chunk_size:
        raise rd.RunDirectoryError(f"{out}: chunk size differs from the interrupted run")


def run_to_directory(
    scenario: Scenario,
    out_dir: str | Path,
    scenario_text: str | None = None,
    overwrite: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
    plots: bool = True,
    threads: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> RunSummary:
    """Simulate ``scenario`` into the run directory ``out_dir`` (layout: :mod:`.directory`).

    ``overwrite`` replaces an earlier run there, only once the new one has completed; ``resume``
    finishes an interrupted run, skipping the chunks already written. ``workers`` runs the chunks
    on a local Dask cluster of that many processes, ``scheduler`` on an existing Dask cluster
    (:mod:`.distributed`); results are identical to a single-process run. Raises
    :class:`~immunoreset.runs.directory.RunDirectoryError` if ``out_dir`` cannot take the run
    (it exists and is not an earlier run, is locked, or is not writable). On an exception or an
    interrupt, a new run keeps the chunks it finished (``run.json`` says ``interrupted``; a note
    on the exception says what was kept), a run that finished no chunk leaves nothing behind, and
    an earlier run being replaced is left as it was.
    """
    out = Path(out_dir)
    set_threads(threads)
    inputs = prepare(scenario)
    mode = rd.check_target(out, overwrite, resume)
    if mode == "resume":
        _check_resumable(out, inputs)
    text = scenario_text if scenario_text is not None else yaml.safe_dump(_canonical(scenario))
    lock = rd.Lock(out / rd.LOCK_FILE) if mode in ("resume", "replace") else None
    if lock is not None:
        lock.acquire()
    work: Path | None = None
    started = time.perf_counter()
    done: set[int] = set()
    created = not out.exists()
    try:
        work = rd.make_work_dir(out, mode)
        if lock is None:
            lock = rd.Lock(work / rd.LOCK_FILE)
            lock.acquire()
        rd.prepare_tables(work, inputs.table_folders)
        if mode == "resume":
            rd.remove_temporary_files(work)
            done = rd.done_chunks(work, inputs.table_folders)
        else:
            rd.write_bytes_atomic(work / rd.SCENARIO_FILE, text.encode("utf-8"))
        resumed = len(done)
        n_failed = _count_failed(work, done)
        rd.write_json_atomic(
            work / rd.RUN_FILE, run_description(inputs, "running", len(done), n_failed, 0.0)
        )
        if mode == "new":
            rd.publish(work, out)
            work, lock = out, rd.Lock(out / rd.LOCK_FILE)
        if progress is not None and done:
            progress(sum(len(inputs.chunk_ids(i)) for i in done))
        for chunk in _chunks(inputs, done, workers, scheduler):
            rd.write_chunk(work, chunk.index, chunk.tables, chunk.patients)
            done.add(chunk.index)
            n_failed += chunk.n_failed
            if progress is not None:
                progress(chunk.n_patients)
        seconds = time.perf_counter() - started
        if inputs.keeps_endpoints:
            _write_endpoint_dictionary(work)
        elif plots:
            from immunoreset.report.plots import plot_run

            plot_run(work, [n for n in inputs.model.default_plots if n in inputs.outputs])
            raise_if_requested()
        rd.write_json_atomic(
            work / rd.RUN_FILE, run_description(inputs, "complete", len(done), n_failed, seconds)
        )
        if mode == "replace":
            lock.release()
            lock = None
            rd.replace_run(work, out)
            work = out
    except BaseException as exc:
        _after_failure(exc, out, work, mode, created, inputs, done, time.perf_counter() - started)
        raise
    finally:
        if lock is not None:
            lock.release()
    return RunSummary(out, inputs.n_patients, n_failed, seconds, resumed)


def _chunks(inputs: RunInputs, done: set[int], workers: int | None,
            scheduler: str | None) -> Iterator[ChunkTables]:  # fmt: skip
    """Result tables of every chunk not yet done: computed here, or on Dask in any order."""
    if workers is None and scheduler is None:
        yield from scored_chunks(inputs, skip=done)
        return
    from immunoreset.runs.distributed import dask_chunks

    yield from dask_chunks(inputs, done, workers, scheduler)


def _write_endpoint_dictionary(work: Path) -> None:
    """The data dictionary and notes of a run that keeps endpoints, as CSV and text files beside
    its tables (the files ``immunoreset endpoints`` writes)."""
    from immunoreset.clinical.csvio import write_text_atomic
    from immunoreset.endpoints.io import COLUMNS_FILE, NOTES_FILE
    from immunoreset.endpoints.store import read_dictionary

    columns, notes = read_dictionary(work)
    write_text_atomic(work / COLUMNS_FILE, columns.to_csv(index=False, lineterminator="\n"))
    write_text_atomic(work / NOTES_FILE, "".join(f"{note}\n" for note in notes))


def _count_failed(work: Path, done: set[int]) -> int:
    if not done:
        return 0
    table = pq.read_table(work / rd.PARAMETERS, columns=["status"])
    return int(np.count_nonzero(table.column("status").to_numpy()))


def _after_failure(exc: BaseException, out: Path, work: Path | None, mode: rd.Mode, created: bool,
                   inputs: RunInputs, done: set[int], seconds: float) -> None:  # fmt: skip
    """Leave the disk in a state a user can understand, and say what was kept on ``exc``."""
    if work is None:
        exc.add_note("nothing was written")
        return
    if mode == "replace":
        if work != out:
            rd.discard(work)
        exc.add_note(f"nothing was written; the earlier run in {out} is unchanged")
        return
    if mode == "new" and not done:
        if work != out or created:  # still the private set-up folder
            rd.discard(work)
        else:  # a folder that was empty before: empty it again, keep the folder
            for child in list(work.iterdir()):
                rd.discard(child) if child.is_dir() else child.unlink(missing_ok=True)
        exc.add_note("nothing was written")
        return
    kept = sum(len(inputs.chunk_ids(i)) for i in done)
    try:
        n_failed = _count_failed(work, done)
        rd.write_json_atomic(
            work / rd.RUN_FILE,
            run_description(inputs, "interrupted", len(done), n_failed, seconds),
        )
    except (OSError, ValueError):  # pragma: no cover - the disk itself failed
        pass
    exc.add_note(f"kept {kept} of {inputs.n_patients} patients in {out}; finish with --resume")


def read_run(run_dir: str | Path) -> Result:
    """Load a run directory (complete or interrupted) as a :class:`Result`."""
    from immunoreset.runs.result import Result

    path = Path(run_dir)
    if not rd.is_run_directory(path):
        raise rd.RunDirectoryError(f"{path}: not an immunoreset run directory (no {rd.RUN_FILE})")
    if not (path / rd.TRAJECTORIES).is_dir():
        raise rd.RunDirectoryError(
            f"{path}: this run kept endpoints only (store: endpoints), no trajectories; read them"
            " with immunoreset.read_endpoints(run_dir)"
        )
    import pyarrow.dataset as ds  # loads pandas: only when a run is read back

    meta = rd.read_run_json(path)
    scenario = scenario_from_text(
        (path / rd.SCENARIO_FILE).read_text(encoding="utf-8"), str(path / rd.SCENARIO_FILE)
    )
    dataset = ds.dataset(path / rd.TRAJECTORIES, format="parquet")
    trajectories = dataset.to_table().to_pandas()
    return Result(
        scenario=scenario,
        trajectories=with_units(trajectories, units_of_schema(dataset.schema)),
        patients=pq.read_table(path / rd.PARAMETERS).to_pandas(),
        parameter_names=get_model(scenario.model).parameter_names,
        seconds=float(meta.get("seconds", 0.0)),
        run_dir=path,
    )


def write_result(result: Result, out_dir: str | Path, overwrite: bool = False,
                 plots: bool = True) -> Path:  # fmt: skip
    """Write an in-memory :class:`Result` as a run directory (same layout as a run on disk)."""
    out = Path(out_dir)
    inputs = prepare(result.scenario)
    mode = rd.check_target(out, overwrite, resume=False)
    if mode == "resume":  # pragma: no cover - check_target never answers resume here
        raise rd.RunDirectoryError(f"{out}: cannot resume from memory")
    work = rd.make_work_dir(out, mode)
    try:
        rd.prepare_tables(work, inputs.table_folders)
        rd.write_bytes_atomic(
            work / rd.SCENARIO_FILE, yaml.safe_dump(_canonical(result.scenario)).encode("utf-8")
        )
        names = ["patient_id", "time", *inputs.outputs]
        trajectories = pa.Table.from_pandas(
            result.trajectories[names],
            preserve_index=False,
            schema=trajectory_schema(inputs.outputs),
        )
        patients = pa.Table.from_pandas(result.patients, preserve_index=False)
        rd.write_chunk(work, 0, kept_tables(inputs, trajectories, patients), patients)
        if inputs.keeps_endpoints:
            _write_endpoint_dictionary(work)
        elif plots:
            from immunoreset.report.plots import plot_run

            plot_run(work, [n for n in inputs.model.default_plots if n in inputs.outputs])
        meta = run_description(inputs, "complete", 1, result.n_failed, result.seconds)
        meta["derived"]["chunk_size"] = inputs.n_patients
        meta["derived"]["n_chunks"] = 1
        rd.write_json_atomic(work / rd.RUN_FILE, meta)
        if mode == "replace":
            rd.replace_run(work, out)
        else:
            rd.publish(work, out)
    except BaseException:
        rd.discard(work)  # the private set-up folder; an earlier run at out is untouched
        raise
    return out
