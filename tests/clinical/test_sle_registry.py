"""SLE instruments: evidence status and the PROVISIONAL SRI-4 BILAG rule."""

from __future__ import annotations

from immunoreset.clinical import REGISTRY, Status, score

SLE_KEYS = ("sledai_2k", "doris_2021", "lldas", "sri_4", "bicla", "eular_acr_2019_sle")


def test_evidence_status() -> None:
    assert REGISTRY["sri_4"].status is Status.PROVISIONAL
    assert {REGISTRY[k].status for k in SLE_KEYS if k != "sri_4"} == {Status.VERIFIED}


def test_sri4_bilag_component_is_provisional_p5() -> None:
    """PROVISIONAL P5: the SRI-4 BILAG rule (no new A, at most one new B) awaits Furie 2009."""
    assert REGISTRY["sri_4"].provisional_items == ("P5",)
    case = {
        "sledai_baseline": 10,
        "sledai_followup": 6,
        "pga_baseline": 1,
        "pga_followup": 1,
        "bilag_baseline": {},
        "bilag_followup": {},
    }
    assert score("sri_4", case).provisional == ("P5",)
    assert all(not REGISTRY[k].provisional_items for k in SLE_KEYS if k != "sri_4")
