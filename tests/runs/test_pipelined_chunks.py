"""A run directory's chunks are simulated one ahead, in a background thread, while the chunk before
is turned into tables: the tables are those of chunks run one after the other, and a stop ends the
chunk in flight early (the engine drops the blocks of patients it has not started)."""

from __future__ import annotations

import threading
from pathlib import Path

import numba
import numpy as np
import pytest
import yaml

from immunoreset.runs import execute
from immunoreset.runs.ahead import one_ahead
from immunoreset.runs.inputs import prepare
from immunoreset.scenario.load import parse_scenario
from immunoreset.simulate.engine import BatchStoppedError, in_threads

two_threads = pytest.mark.skipif(
    numba.config.NUMBA_NUM_THREADS < 2, reason="needs two engine threads"
)


@pytest.fixture
def inputs(examples_dir: Path):
    doc = yaml.safe_load((examples_dir / "park2025_sle_population.yaml").read_text())
    doc["population"]["size"] = 6  # chunks of one patient (progress is reported per chunk)
    doc["horizon_days"] = 120
    prepared = prepare(parse_scenario(doc))
    assert prepared.n_chunks == 6
    return prepared


@pytest.fixture
def engine_threads():
    """Restore numba's thread count of this thread after the test."""
    before = numba.get_num_threads()
    yield
    numba.set_num_threads(before)


@two_threads
def test_chunks_simulated_ahead_give_the_tables_of_chunks_one_after_another(
    inputs, engine_threads
) -> None:
    numba.set_num_threads(1)  # one engine thread: no chunk is simulated ahead
    alone = list(execute.scored_chunks(inputs, skip={1}))
    numba.set_num_threads(2)
    ahead = list(execute.scored_chunks(inputs, skip={1}))
    assert [c.index for c in alone] == [c.index for c in ahead] == [0, 2, 3, 4, 5]
    for a, b in zip(alone, ahead, strict=True):
        assert a.patients.equals(b.patients)
        assert a.tables.keys() == b.tables.keys()
        assert all(a.tables[k].equals(b.tables[k]) for k in a.tables)


@two_threads
def test_the_engine_runs_ahead_with_the_callers_thread_count(
    inputs, engine_threads, monkeypatch
) -> None:
    """numba's thread count belongs to each thread; the background thread takes the caller's."""
    seen: list[int] = []
    real = execute.chunk_batch

    def recording(*args, **kwargs):
        seen.append(numba.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(execute, "chunk_batch", recording)
    numba.set_num_threads(2)
    list(execute.scored_chunks(inputs, skip={0, 1, 2, 3}))
    assert seen == [2, 2]


@two_threads
def test_closing_the_run_stops_the_chunk_in_flight(inputs, engine_threads, monkeypatch) -> None:
    """Leaving after the first chunk (an interrupt, an error while writing it) stops the chunk
    simulated ahead: it ends with BatchStoppedError, or completes if it was already done."""
    outcomes: list[str] = []
    started = threading.Event()
    real = execute.chunk_batch

    def recording(*args, **kwargs):
        started.set()
        try:
            batch = real(*args, **kwargs)
        except BatchStoppedError:
            outcomes.append("stopped")
            raise
        outcomes.append("completed")
        return batch

    monkeypatch.setattr(execute, "chunk_batch", recording)
    numba.set_num_threads(2)
    chunks = execute.scored_chunks(inputs)
    first = next(chunks)
    assert first.index == 0 and started.is_set()
    chunks.close()  # waits for the chunk in flight to end
    assert outcomes[0] == "completed" and outcomes[1:] in (["stopped"], ["completed"])
    assert len(outcomes) == 2  # nothing started after the close


def test_a_stopped_batch_drops_the_blocks_not_yet_started(engine_threads) -> None:
    """The first block to run sets the stop: at most one block per thread had started by then,
    every later one is dropped and the caller learns that the batch is incomplete."""
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    stop = threading.Event()
    ran: list[int] = []

    def solve(rows: np.ndarray) -> None:
        ran.append(int(rows[0]))
        stop.set()

    with pytest.raises(BatchStoppedError, match="stopped before all its patients"):
        in_threads(solve, (np.arange(80),), (), stop)
    assert 1 <= len(ran) <= numba.get_num_threads()


def test_without_a_stop_every_block_runs(engine_threads) -> None:
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    ran: list[np.ndarray] = []
    in_threads(lambda rows: ran.append(rows.copy()), (np.arange(80),), ())
    assert sorted(np.concatenate(ran).tolist()) == list(range(80))


@two_threads
def test_one_ahead_computes_the_next_item_in_another_thread(engine_threads) -> None:
    numba.set_num_threads(2)
    where: dict[int, str] = {}

    def compute(item: int, stop: threading.Event | None) -> int:
        where[item] = threading.current_thread().name
        return item * item

    assert list(one_ahead(compute, [3, 1, 2])) == [(3, 9), (1, 1), (2, 4)]
    main = threading.current_thread().name
    assert where[3] == main and where[1] != main and where[2] != main


def test_one_ahead_with_one_thread_stays_in_this_thread(engine_threads) -> None:
    numba.set_num_threads(1)
    seen = []
    pairs = one_ahead(lambda item, stop: seen.append(stop) or item, ["a", "b"])
    assert list(pairs) == [("a", "a"), ("b", "b")] and seen == [None, None]
