"""Builders of small result tables with hand-known endpoints."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import pytest

TableMaker = Callable[..., pd.DataFrame]


@pytest.fixture
def make_table() -> TableMaker:
    """``make_table(times, patient_id=1, **observables)``: one patient's result table."""

    def make(times: Sequence[float], patient_id: int = 1, **observables: Sequence[float]):
        return pd.DataFrame({"patient_id": patient_id, "time": list(times), **observables})

    return make
