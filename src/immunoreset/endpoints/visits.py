"""Reading a result table at a visit schedule.

A visit takes the sample at the output time nearest its day, within the configured tolerance, and
is missing otherwise; nothing is interpolated (see
:attr:`~immunoreset.endpoints.config.EndpointConfig.visit_tolerance_d` for why).
"""

from __future__ import annotations

import math

from immunoreset.endpoints.config import EndpointConfig
from immunoreset.endpoints.table import Rows, nearest


def visit_positions(rows: Rows, config: EndpointConfig) -> dict[float, int | None]:
    """Visit day -> row position of the sample it reads (``None``: no output time close enough)."""
    return {day: nearest(rows.times, day, config.visit_tolerance_d) for day in config.visits}


def baseline_position(rows: Rows, config: EndpointConfig) -> int | None:
    """Row position of the baseline sample (the visit rule applied to ``config.baseline_day``)."""
    return nearest(rows.times, config.baseline_day, config.visit_tolerance_d)


def value_at(rows: Rows, position: int | None, name: str) -> float | None:
    """Value of column ``name`` at row ``position``; ``None`` without sample, column or value."""
    if position is None or name not in rows:
        return None
    value = float(rows[name][position])
    return None if math.isnan(value) else value


def follow_up(config: EndpointConfig) -> list[float]:
    """The visit days after the baseline day (those with a change from baseline)."""
    return [day for day in config.visits if day > config.baseline_day]
