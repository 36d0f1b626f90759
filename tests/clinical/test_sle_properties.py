"""Properties of the SLE instruments: monotonicity and rejection of impossible input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from immunoreset.clinical import InstrumentInputError, score
from immunoreset.clinical.sle.sledai import SLEDAI_WEIGHTS

ITEMS = st.sampled_from(sorted(SLEDAI_WEIGHTS))
ITEM_SETS = st.lists(ITEMS, max_size=24)
PGA = st.decimals(min_value=0, max_value=3, places=2)
DOSE = st.decimals(min_value=0, max_value=100, places=1)
DRUG = st.sampled_from(["none", "stable", "changed"])
TRUTH_ORDER = {False: 0, None: 1, True: 2}

FAST = settings(max_examples=150, deadline=None)


@FAST
@given(items=ITEM_SETS, extra=ITEMS)
def test_adding_a_sledai_item_never_lowers_the_score(items: list[str], extra: str) -> None:
    before = score("sledai_2k", {"items": items})
    after = score("sledai_2k", {"items": [*items, extra]})
    for name in ("sledai_2k", "clinical_sledai"):
        assert after[name] >= before[name]


@FAST
@given(
    clinical_sledai=st.integers(0, 3),
    pga=PGA,
    doses=st.lists(DOSE, min_size=2, max_size=2).map(sorted),
    drugs=st.tuples(DRUG, DRUG, DRUG),
    rule=st.sampled_from(["<=5", "<5"]),
)
def test_higher_steroid_dose_never_creates_doris_remission(
    clinical_sledai: int,
    pga: Decimal,
    doses: list[Decimal],
    drugs: tuple[str, str, str],
    rule: str,
) -> None:
    def at(dose: Decimal) -> dict[str, Any]:
        record = {
            "clinical_sledai": clinical_sledai,
            "pga": pga,
            "prednisolone_mg_day": dose,
            "antimalarial": drugs[0],
            "immunosuppressive": drugs[1],
            "biologic": drugs[2],
            "options": {"steroid_rule": rule},
        }
        return score("doris_2021", record).outputs

    low, high = (at(dose) for dose in doses)
    for name in ("doris_remission_on_treatment", "doris_remission_off_treatment"):
        assert low[name] or not high[name]


@FAST
@given(
    items=ITEM_SETS,
    previous=st.none() | ITEM_SETS,
    pga=PGA,
    doses=st.lists(DOSE, min_size=2, max_size=2).map(sorted),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
)
def test_higher_steroid_dose_never_raises_lldas(
    items: list[str],
    previous: list[str] | None,
    pga: Decimal,
    doses: list[Decimal],
    flags: tuple[bool, bool, bool, bool],
) -> None:
    def at(dose: Decimal) -> bool | None:
        record = {
            "sledai_items": items,
            "previous_sledai_items": previous,
            "pga": pga,
            "prednisolone_mg_day": dose,
            "hemolytic_anemia": flags[0],
            "gi_activity": flags[1],
            "immunosuppressants_standard_maintenance": flags[2],
            "investigational_drug": flags[3],
        }
        return score("lldas", record)["lldas"]

    low, high = (at(dose) for dose in doses)
    assert TRUTH_ORDER[high] <= TRUTH_ORDER[low]


# --- impossible input ------------------------------------------------------------------------

PAIRED = {
    "sledai_baseline": 10,
    "sledai_followup": 4,
    "pga_baseline": 1,
    "pga_followup": 1,
    "bilag_baseline": {"renal": "A"},
    "bilag_followup": {"renal": "C"},
}
VALID: dict[str, dict[str, Any]] = {
    "sledai_2k": {"items": ["rash"], "raw": {}},
    "doris_2021": {"clinical_sledai": 0, "pga": 0, "prednisolone_mg_day": 0},
    "lldas": {"sledai_items": [], "previous_sledai_items": [], "pga": 0, "prednisolone_mg_day": 0},
    "sri_4": PAIRED,
    "bicla": PAIRED,
    "eular_acr_2019_sle": {"ana_titer_denominator": 80, "criteria": ["fever"]},
}

NEGATIVE = st.decimals(max_value=Decimal("-0.01"), allow_nan=False, allow_infinity=False)
OUTSIDE_PGA = NEGATIVE | st.decimals(
    min_value=Decimal("3.01"), allow_nan=False, allow_infinity=False
)
UNKNOWN_TEXT = st.text(min_size=1, max_size=12)
NOT_A_NUMBER = st.sampled_from([float("nan"), float("inf"), True, "many", None])

# (instrument, path of the corrupted field, strategy of impossible values)
CORRUPTIONS: list[tuple[str, str, st.SearchStrategy[Any]]] = [
    (
        "sledai_2k",
        "items",
        UNKNOWN_TEXT.filter(lambda s: s not in SLEDAI_WEIGHTS).map(lambda s: [s]),
    ),
    ("sledai_2k", "raw.platelets_1e9_L", NEGATIVE),
    ("sledai_2k", "raw.inflamed_joint_count", st.integers(max_value=-1)),
    ("sledai_2k", "options.arthritis_rule", UNKNOWN_TEXT.filter(lambda s: s not in {">=2", ">2"})),
    ("doris_2021", "prednisolone_mg_day", NEGATIVE | NOT_A_NUMBER),
    ("doris_2021", "pga", OUTSIDE_PGA),
    ("doris_2021", "clinical_sledai", st.integers(min_value=102) | st.integers(max_value=-1)),
    (
        "doris_2021",
        "biologic",
        UNKNOWN_TEXT.filter(lambda s: s not in {"none", "stable", "changed"}),
    ),
    ("doris_2021", "options.steroid_rule", UNKNOWN_TEXT.filter(lambda s: s not in {"<=5", "<5"})),
    ("lldas", "prednisolone_mg_day", NEGATIVE),
    ("lldas", "pga", OUTSIDE_PGA),
    ("lldas", "previous_sledai_items", st.just(["nephritis"])),
    ("lldas", "hemolytic_anemia", st.sampled_from(["sometimes", 2, None])),
    ("sri_4", "pga_followup", OUTSIDE_PGA),
    ("sri_4", "sledai_baseline", st.integers(min_value=106) | st.integers(max_value=-1)),
    ("sri_4", "bilag_followup", st.just({"renal": "F"})),
    ("sri_4", "options.min_reduction", st.integers(max_value=0)),
    ("bicla", "pga_baseline", OUTSIDE_PGA),
    ("bicla", "bilag_baseline", st.just({"kidney": "A"})),
    ("bicla", "options.pga_rule", UNKNOWN_TEXT.filter(lambda s: s != "absolute_0_3")),
    ("eular_acr_2019_sle", "ana_titer_denominator", st.integers(max_value=-1)),
    ("eular_acr_2019_sle", "criteria", st.just(["butterfly_rash"])),
]


def _with(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    if not rest:
        return {**record, head: value}
    return {**record, head: _with(record.get(head, {}), rest, value)}


@settings(max_examples=300, deadline=None)
@given(data=st.data(), corruption=st.sampled_from(CORRUPTIONS))
def test_impossible_input_raises_naming_the_field(
    data: st.DataObject, corruption: tuple[str, str, st.SearchStrategy[Any]]
) -> None:
    key, path, values = corruption
    record = _with(VALID[key], path, data.draw(values, label=path))
    try:
        score(key, record)
    except InstrumentInputError as error:
        assert error.field.startswith(path)
    else:
        raise AssertionError(f"{key}: {path} accepted an impossible value")


def test_valid_records_score() -> None:
    for key, record in VALID.items():
        score(key, record)
