"""Toxicity and laboratory instruments: output types and the PROVISIONAL register."""

from __future__ import annotations

from immunoreset.clinical import REGISTRY, Status, score


def test_counts_and_grades_are_integers() -> None:
    """Grades, points and day counts are reported as ``int`` (exact comparison in the vectors)."""
    grade = score("astct_crs", {"temp_c": 38.0})["grade"]
    days = score("icaht_early", {"anc_per_uL": [400] * 5 + [2000] * 3})["dur_le500"]
    onset = score("b_cell_aplasia_reconstitution", {"samples": [[0, 50], [7, 0]]})
    assert type(grade) is int
    assert type(days) is int
    assert type(onset["aplasia_onset_day"]) is int


def test_statuses_and_provisional_register() -> None:
    """Section 25 register: P1 CAR-HEMATOTOX, P2 early ICAHT, P3 late ICAHT, P4 CAPD (ICANS)."""
    expected = {
        "astct_crs": (Status.VERIFIED, ()),
        "ice_score": (Status.VERIFIED, ()),
        "astct_icans": (Status.VERIFIED, ("P4",)),
        "car_hematotox": (Status.PROVISIONAL, ("P1",)),
        "icaht_early": (Status.PROVISIONAL, ("P2",)),
        "icaht_late": (Status.PROVISIONAL, ("P3",)),
        "b_cell_aplasia_reconstitution": (Status.CONVENTION, ()),
        "hypogammaglobulinemia": (Status.CONVENTION, ()),
        "car_pk_nca": (Status.CONVENTION, ()),
    }
    for key, (status, provisional) in expected.items():
        assert (REGISTRY[key].status, REGISTRY[key].provisional_items) == (status, provisional)
