"""Chunks of a run as Dask tasks: a local cluster of worker processes, or an existing cluster.

Each task rebuilds the run's inputs from the scenario (plain JSON) and simulates one chunk; every
patient's inputs depend on the seed and its id only, so a chunk's tables are bit-identical to a
single-process run wherever it is computed. The process that owns the run directory writes each
chunk as it arrives (in any order; resuming skips chunks already written). A task whose worker
dies is retried (``RETRIES``). Worker processes load the compiled integrator from the compile cache
(on a multi-machine cluster, each machine compiles once). Engine threads are set to 1 per task:
parallelism comes from the workers.

Deploying Dask on a cluster (SSH, Kubernetes, HPC job queues) is Dask's own business:
https://docs.dask.org/en/stable/deploying.html. Start a scheduler and workers there, with
immunoreset installed in the workers' environment, and pass the scheduler's address.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache

from immunoreset.runs.inputs import RunInputs, prepare
from immunoreset.runs.interrupt import raise_if_requested
from immunoreset.runs.memory import keep_freed_memory
from immunoreset.runs.tables import ChunkTables, chunk_tables

RETRIES = 2


@lru_cache(maxsize=4)
def _inputs(scenario_json: str) -> RunInputs:
    from immunoreset.scenario.load import parse_scenario

    return prepare(parse_scenario(json.loads(scenario_json), "<run scenario>"))


def simulate_chunk(scenario_json: str, index: int, chunk_size: int) -> ChunkTables:
    """One chunk of the run described by ``scenario_json`` (the task a worker runs)."""
    from immunoreset.runs.execute import batches, set_threads

    inputs = _inputs(scenario_json)
    if inputs.chunk_size != chunk_size:  # pragma: no cover - same code, same derivation
        raise RuntimeError(f"chunk size {inputs.chunk_size} on the worker, {chunk_size} here")
    set_threads(1)
    skip = set(range(inputs.n_chunks)) - {index}
    for i, batch in batches(inputs, skip=skip):
        return chunk_tables(inputs, i, batch)
    raise RuntimeError(f"chunk {index} does not exist")  # pragma: no cover


def dask_chunks(inputs: RunInputs, done: set[int], workers: int | None,
                scheduler: str | None) -> Iterator[ChunkTables]:  # fmt: skip
    """Tables of every chunk not in ``done``, computed on Dask, as they complete."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is not None:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
            host="127.0.0.1",
        )  # fmt: skip
        client = Client(cluster)
        client.run(keep_freed_memory)  # workers of our own cluster end with the run
    try:
        payload = json.dumps(inputs.scenario.model_dump(mode="json"), sort_keys=True)
        todo = [index for index in range(inputs.n_chunks) if index not in done]
        futures = [
            client.submit(
                simulate_chunk, payload, index, inputs.chunk_size, pure=False, retries=RETRIES
            )
            for index in todo
        ]
        for future in as_completed(futures):
            chunk = future.result()
            raise_if_requested()
            yield chunk
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
