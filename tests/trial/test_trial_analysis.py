"""Arm comparisons and the decision rule on hand-made outcome tables (values computed by hand;
tolerances: 1e-4 where a normal approximation is printed to 4 digits, exact otherwise)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from immunoreset.trial import Trial
from immunoreset.trial.analysis import decide, differences
from immunoreset.trial.design import Decision


def _binary(k_high: int, k_low: int, n: int = 20) -> pd.DataFrame:
    values = [1.0] * k_high + [0.0] * (n - k_high) + [1.0] * k_low + [0.0] * (n - k_low)
    return pd.DataFrame(
        {
            "patient_id": range(2 * n),
            "arm": ["HIGH"] * n + ["LOW"] * n,
            "endpoint": "doris_d90",
            "value": values,
            "time": np.nan,
            "event": np.nan,
        }
    )


def test_mann_whitney_by_hand(small_trial: Trial) -> None:
    # 4 vs 4 fully separated: U = 0; mean 8, SD sqrt(4*4*9/12); z = (0 - 8 + 0.5) / SD
    # (continuity correction); two-sided p = 2 Phi(z) = 0.0304
    outcomes = pd.DataFrame(
        {
            "patient_id": range(8),
            "arm": ["HIGH"] * 4 + ["LOW"] * 4,
            "endpoint": "car_cmax",
            "value": [1, 2, 3, 4, 5, 6, 7, 8.0],
            "time": np.nan,
            "event": np.nan,
        }
    )
    row = differences(outcomes, small_trial.design).set_index("endpoint").loc["car_cmax"]
    assert row["estimate"] == -4.0
    z = (0 - 8 + 0.5) / math.sqrt(4 * 4 * 9 / 12)
    assert row["p_value"] == pytest.approx(math.erfc(-z / math.sqrt(2)), abs=1e-4)


def test_binary_decision_uses_the_newcombe_bound(small_trial: Trial) -> None:
    design = small_trial.design
    win = decide(_binary(16, 6), design)  # 0.8 - 0.3: interval well above 0
    assert win["success"] and win["low"] > 0
    tie = decide(_binary(10, 9), design)
    assert not tie["success"] and tie["low"] < 0 < tie["high"]
    # non-inferiority: margin -0.5 accepts a small loss when the interval stays above it
    lenient = design.model_copy(
        update={
            "decision": Decision(endpoint="doris_d90", treatment="HIGH", control="LOW", margin=-0.5)
        }
    )
    assert decide(_binary(10, 11), lenient)["success"]


def test_lower_is_better(small_trial: Trial) -> None:
    design = small_trial.design.model_copy(
        update={
            "decision": Decision(
                endpoint="doris_d90", treatment="HIGH", control="LOW", better="lower"
            )
        }
    )
    assert decide(_binary(3, 15), design)["success"]
    assert not decide(_binary(15, 3), design)["success"]
