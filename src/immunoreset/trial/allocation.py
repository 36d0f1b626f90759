"""Allocation: stratified permuted-block randomisation and dropout times.

Randomised patients are taken in screening order. Within each stratum (a combination of values of
the ``strata`` covariates) consecutive patients fill blocks of ``block_size`` seats holding each
arm ``ratio`` times per ratio unit; each block's seats are permuted by a stream keyed by the
stratum and the block (Rosenberger WF, Lachin JM, Randomization in Clinical Trials, 2nd ed. 2016,
chapter 3). The allocation therefore depends on the seed and the enrolled set only, never on how
the simulation is chunked. Dropout is exponential with a constant hazard: each patient's time to
dropout comes from its own stream.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from immunoreset.trial.design import Arm
from immunoreset.trial.streams import Purpose, stream

DAYS_PER_YEAR = 365.25


def _stratum_key(values: tuple) -> int:
    return zlib.crc32(repr(values).encode("utf-8"))


def allocate(
    enrolled: pd.DataFrame,
    arms: list[Arm],
    strata: list[str],
    block_size: int | None,
    seed: int,
    replicate: int = 0,
) -> pd.Series:
    """Arm code of each enrolled patient (index as ``enrolled``)."""
    unit = [a.code for a in arms for _ in range(a.ratio)]
    size = block_size or 2 * len(unit)
    seats = unit * (size // len(unit))
    out = pd.Series(index=enrolled.index, dtype=object)
    groups = enrolled.groupby(strata, sort=True) if strata else [((), enrolled)]
    for key, rows in groups:
        values = key if isinstance(key, tuple) else (key,)
        skey = _stratum_key(tuple(float(v) for v in values))
        for block, start in enumerate(range(0, len(rows), size)):
            rng = stream(seed, replicate, Purpose.ALLOCATION, skey, block)
            order = rng.permutation(len(seats))
            members = rows.index[start : start + size]
            out.loc[members] = [seats[i] for i in order[: len(members)]]
    return out


def dropout_days(
    ids: np.ndarray, rate_per_year: float, seed: int, replicate: int = 0
) -> np.ndarray:
    """Day of dropout of each patient (``inf`` when the rate is 0)."""
    if rate_per_year <= 0:
        return np.full(len(ids), np.inf)
    scale = DAYS_PER_YEAR / rate_per_year
    return np.array(
        [stream(seed, replicate, Purpose.DROPOUT, int(p)).exponential(scale) for p in ids]
    )
