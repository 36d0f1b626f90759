"""The myositis Total Improvement Score in juvenile DM with the PRINTO core set measures.

Rider LG et al., 2016 ACR/EULAR criteria for minimal, moderate and major clinical response in
juvenile dermatomyositis, Arthritis Rheumatol 2017;69:898-910, Table 3 (as published in PMC5577002,
Table 3): "MMT or CMAS", "Enzyme (most abnormal) or CHQ-PhS" and "Extramuscular activity or Disease
Activity Score" share the levels and points of the IMACS measure they replace; juvenile thresholds
are minimal >= 30, moderate >= 45, major >= 70. Expected values are sums of those table points, so
the comparisons are exact (the scores are multiples of 2.5).
"""

from __future__ import annotations

from typing import Any

import pytest

from immunoreset.clinical import InstrumentInputError, score

PRINTO_VISIT = {
    "mdga": [6, 3],  # 30 % of 10 -> level 3 -> 17.5
    "ptga": [6, 4],  # 20 % -> level 2 -> 5
    "cmas": [26, 39],  # 13/52 = 25 % of the CMAS range -> MMT level 3 -> 27.5
    "haq": [1.5, 1.2],  # 10 % of 3 -> level 1 -> 5
    "chq_phs": [30, 36],  # +20 % of baseline -> level 2 -> 5
    "das": [10, 6],  # 20 % of 20 -> level 2 -> 12.5
    "population": "juvenile",
}


def tis(record: dict[str, Any]) -> Any:
    return score("myositis_tis_2016", record)


def test_printo_measures_score_with_the_points_of_the_slot_they_fill() -> None:
    result = tis(PRINTO_VISIT)
    assert result["tis"] == 72.5
    assert result["category"] == "major"
    measures = result.components["measures"]
    assert measures["cmas"]["points"] == 27.5
    assert measures["chq_phs"]["points"] == 5
    assert measures["das"]["points"] == 12.5
    assert result.components["missing_measures"] == []


@pytest.mark.parametrize(
    ("cmas", "points"),
    [
        ([26, 27.04], 0),  # exactly 2 % of 52: level 0 (bands are closed above)
        ([26, 27.05], 10),
        ([0, 5.2], 10),  # exactly 10 %
        ([0, 5.3], 20),
        ([0, 15.6], 27.5),  # exactly 30 %
        ([0, 15.7], 32.5),
    ],
)
def test_cmas_uses_the_mmt_bands_on_its_52_point_range(cmas: list[float], points: float) -> None:
    """Edges of the MMT bands (2 / 10 / 20 / 30 %) on the CMAS range, compared exactly."""
    result = tis({**PRINTO_VISIT, "cmas": cmas})
    assert result.components["measures"]["cmas"]["points"] == points


def test_juvenile_thresholds_30_45_70() -> None:
    base = {**PRINTO_VISIT, "ptga": [6, 6], "haq": [1.5, 1.5], "chq_phs": [30, 30]}
    assert tis({**base, "das": [10, 10], "mdga": [6, 6]})["tis"] == 27.5
    assert tis({**base, "das": [10, 10], "mdga": [6, 6]})["category"] == "none"
    assert tis({**base, "das": [10, 8.9], "mdga": [6, 6]})["category"] == "minimal"  # 27.5 + 7.5


def test_alternatives_are_juvenile_only() -> None:
    with pytest.raises(InstrumentInputError, match=r"field 'cmas'.*population juvenile"):
        tis({**PRINTO_VISIT, "population": "adult"})


def test_one_measure_per_slot() -> None:
    with pytest.raises(InstrumentInputError, match=r"field 'cmas'.*either mmt or cmas"):
        tis({**PRINTO_VISIT, "mmt": [60, 70], "mmt_max": 80})


def test_mmt_needs_its_maximum() -> None:
    record = {**PRINTO_VISIT, "cmas": None, "mmt": [60, 70]}
    with pytest.raises(InstrumentInputError, match="field 'mmt_max'"):
        tis(record)


def test_mixed_imacs_and_printo_measures() -> None:
    record = {**PRINTO_VISIT, "cmas": None, "mmt": [60, 68], "mmt_max": 80}  # 10 % -> 10 points
    result = tis(record)
    assert result["tis"] == 72.5 - 27.5 + 10


def test_missing_slot_is_named_after_the_imacs_measure() -> None:
    record = {**PRINTO_VISIT, "cmas": None}
    result = tis(record)
    assert result["tis"] is None
    assert result.components["missing_measures"] == ["mmt"]


def test_enzyme_upper_limit_flags_a_normal_baseline_without_changing_the_score() -> None:
    adult = {
        "mdga": [5, 5], "ptga": [5, 5], "mmt": [60, 60], "mmt_max": 80, "haq": [1, 1],
        "enzyme": [150, 100], "extramuscular": [2, 2], "population": "adult",
    }  # fmt: skip
    plain = tis(adult)
    flagged = tis({**adult, "enzyme_uln": 200})
    assert flagged["tis"] == plain["tis"] == 7.5  # 33 % of baseline -> level 3 -> 7.5
    assert flagged.flags == ("enzyme_normal_at_baseline",)
    assert tis({**adult, "enzyme_uln": 100}).flags == ()
