"""Calibration data in: observations CSV and summary targets are read, converted and checked; every
kind of mistake is reported with its row/column (target/field), the value and what is allowed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from immunoreset.calibrate import data as cdata
from immunoreset.calibrate.data import (
    OBSERVATION_COLUMNS,
    STATISTICS,
    TARGET_FRAME_COLUMNS,
    CalibrationDataError,
    GradeCounts,
    GradePercent,
    Proportion,
    convert_unit,
    load_shipped_targets,
    parse_targets,
    read_observations,
    read_targets,
    shipped_target_sets,
    targets_frame,
    unit_factor,
)
from immunoreset.observables import OBSERVABLES

HEADER = "ID,TIME,DV,NAME,UNIT,BLQ,EVID,AMT"


@pytest.fixture(scope="module")
def cal_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "calibration"


def _problems(path: Path) -> CalibrationDataError:
    with pytest.raises(CalibrationDataError) as info:
        read_observations(path)
    return info.value


# --- observations: the valid files ----------------------------------------------------------


def test_valid_observations_are_converted_to_the_observables_units(cal_dir: Path) -> None:
    frame = read_observations(cal_dir / "observations_valid.csv")
    assert tuple(frame.columns) == OBSERVATION_COLUMNS
    assert len(frame) == 9
    obs = frame[frame.evid == 0]
    assert set(obs.unit) == {OBSERVABLES[n].unit for n in obs.name}
    row = frame.iloc[2]  # 0.12 x10^9/L of CAR T cells, LLOQ 0.001 x10^9/L
    assert row["value"] == pytest.approx(120.0)
    assert row["lloq"] == pytest.approx(1.0)
    assert frame.iloc[4]["value"] == pytest.approx(8.2)  # 820 mg/dL of IgG is 8.2 g/L
    assert frame.iloc[5]["value"] == pytest.approx(180.0)  # "Cells/µL" is cells/uL
    assert frame.iloc[8]["value"] == pytest.approx(45.0)  # 45000 cells/mL


def test_negative_times_before_infusion_are_kept(cal_dir: Path) -> None:
    frame = read_observations(cal_dir / "observations_valid.csv")
    assert frame.time.iloc[0] == -5.0
    assert frame.time.iloc[5] == -3.0


def test_blq_rows_carry_the_limit_as_value_and_lloq(cal_dir: Path) -> None:
    frame = read_observations(cal_dir / "observations_valid.csv")
    blq = frame[frame.blq]
    assert list(blq.index) == [3, 7]
    # row 4 gives the limit in DV; row 8 leaves DV empty and gives it in LLOQ
    assert blq.value.tolist() == [1.0, 2.0]
    assert blq.lloq.tolist() == [1.0, 2.0]


def test_dose_records_have_an_amount_and_no_value(cal_dir: Path) -> None:
    frame = read_observations(cal_dir / "observations_valid.csv")
    dose = frame[frame.evid == 1]
    assert dose.amount.tolist() == [1e6, 1e6]  # 1 x 10^6 cells/kg converted
    assert set(dose.unit) == {"cells/kg"}
    assert dose.value.isna().all()
    assert frame[frame.evid == 0].amount.isna().all()
    assert frame.subject.tolist()[:2] == ["1", "1"]


def test_time_unit_column_converts_to_days(cal_dir: Path) -> None:
    frame = read_observations(cal_dir / "observations_time_units.csv")
    assert frame.time.tolist() == pytest.approx([0.0, 1.5, 14.0, 3 * 30.4375])


# --- observations: every kind of mistake -----------------------------------------------------


def test_missing_columns_are_one_problem_for_the_file(cal_dir: Path) -> None:
    err = _problems(cal_dir / "observations_missing_columns.csv")
    assert err.total == 1
    assert "missing columns BLQ, EVID" in str(err)
    assert "allowed: a header with ID, TIME, DV, NAME, UNIT, BLQ, EVID, AMT" in str(err)
    assert "\n" not in str(err)  # the bad DV below is not reported: the layout comes first


def test_bad_numbers_name_row_column_and_what_is_allowed(cal_dir: Path) -> None:
    err = _problems(cal_dir / "observations_bad_number.csv")
    assert err.total == 3
    assert err.problems == [
        "row 2, column 'DV': got 'abc'; allowed: a number (the measured value; empty only on a "
        "dose record)",
        "row 3, column 'TIME': got 'day 14'; allowed: a number (negative before infusion)",
        "row 4, column 'DV': got '-4'; allowed: a number >= 0 (this observable is never negative)",
    ]
    assert str(err).startswith(f"{cal_dir / 'observations_bad_number.csv'}: 3 problems:\n")


def test_unknown_observable_suggests_the_closest_name(cal_dir: Path) -> None:
    err = _problems(cal_dir / "observations_unknown_observable.csv")
    assert err.problems == [
        "row 3, column 'NAME': got 'b_cell_blood'; allowed: an observable of "
        "immunoreset.observables (did you mean 'b_cells_blood'?)"
    ]


def test_unknown_unit_lists_the_units_allowed(cal_dir: Path) -> None:
    err = _problems(cal_dir / "observations_unknown_unit.csv")
    assert err.problems == [
        "row 3, column 'UNIT': got 'mmol/L'; allowed for igg_total: g/L, mg/mL, mg/dL, g/dL, mg/L"
    ]


def test_blq_must_be_0_or_1(cal_dir: Path) -> None:
    err = _problems(cal_dir / "observations_bad_blq.csv")
    assert [p.split(":")[0] for p in err.problems] == [
        "row 3, column 'BLQ'",
        "row 4, column 'BLQ'",
    ]
    assert all("allowed: 0 (quantified) or 1 (below the LLOQ)" in p for p in err.problems)


def test_dose_record_without_amount(cal_dir: Path) -> None:
    err = _problems(cal_dir / "observations_dose_without_amt.csv")
    assert err.problems == [
        "row 2, column 'AMT': got ''; allowed: the amount dosed, a number > 0 (required on a dose "
        "record, EVID 1)"
    ]


def test_evid_other_than_0_or_1_and_amount_on_an_observation(cal_dir: Path) -> None:
    err = _problems(cal_dir / "observations_bad_evid.csv")
    assert err.problems == [
        "row 2, column 'EVID': got '4'; allowed: 0 (observation) or 1 (dose)",
        "row 3, column 'AMT': got '5'; allowed: empty, '.' or 0 on an observation (EVID 0)",
    ]


@pytest.mark.parametrize(
    ("row", "column", "allowed"),
    [
        ("1,7,0.5,car_t_blood,cells/uL,0,0,", None, None),  # a valid row, for reference
        (",7,5,car_t_blood,cells/uL,0,0,", "ID", "a subject identifier"),
        ("1,inf,5,car_t_blood,cells/uL,0,0,", "TIME", "a number"),
        ("1,7,,car_t_blood,cells/uL,1,0,", "DV", "the LLOQ (a number > 0) when BLQ is 1"),
        ("1,7,0,car_t_blood,cells/uL,1,0,", "DV", "the LLOQ (a number > 0) when BLQ is 1"),
        ("1,0,3,car_t,cells/kg,0,1,1e6", "DV", "empty, '.' or 0 on a dose record"),
        ("1,0,,car_t,cells/kg,1,1,1e6", "BLQ", "empty or 0 on a dose record"),
        ("1,0,,,cells/kg,0,1,1e6", "NAME", "the product or agent dosed"),
        ("1,0,,car_t,mL,0,1,1e6", "UNIT", "allowed on a dose record: cells/kg"),
        ("1,0,,car_t,cells/kg,0,1,-2", "AMT", "a number > 0"),
    ],
)
def test_each_cell_rule(tmp_path: Path, row: str, column: str | None, allowed: str | None) -> None:
    path = tmp_path / "obs.csv"
    path.write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
    if column is None:
        assert len(read_observations(path)) == 1
        return
    err = _problems(path)
    assert err.total == 1
    assert err.problems[0].startswith(f"row 2, column {column!r}: got ")
    assert allowed in err.problems[0]


def test_lloq_column_must_agree_with_dv_and_blq(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    path.write_text(
        f"{HEADER},LLOQ\n"
        "1,7,0.5,car_t_blood,cells/uL,0,0,,1\n"  # quantified below the LLOQ
        "1,8,2,car_t_blood,cells/uL,1,0,,1\n"  # BLQ: DV is not the LLOQ
        "1,9,3,car_t_blood,cells/uL,0,0,,-1\n",  # a negative LLOQ
        encoding="utf-8",
    )
    err = _problems(path)
    assert [p.split(": got")[0] for p in err.problems] == [
        "row 2, column 'DV'",
        "row 3, column 'DV'",
        "row 4, column 'LLOQ'",
    ]
    assert "BLQ 1 for a sample below the limit" in err.problems[0]


def test_problems_are_capped_with_a_count_of_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    rows = "".join(f"1,{i},x,car_t_blood,cells/uL,0,0,\n" for i in range(35))
    path.write_text(f"{HEADER}\n{rows}", encoding="utf-8")
    err = _problems(path)
    assert err.total == 35
    lines = str(err).splitlines()
    assert lines[0].endswith(": 35 problems:")
    assert len(lines) == 1 + cdata.MAX_LISTED_PROBLEMS + 1
    assert lines[-1] == "  and 15 more"
    assert lines[1].startswith("  row 2, column 'DV'")


def test_blank_lines_are_skipped_without_shifting_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    path.write_text(
        f"{HEADER}\n1,7,5,car_t_blood,cells/uL,0,0,\n\n1,8,x,car_t_blood,cells/uL,0,0,\n",
        encoding="utf-8",
    )
    err = _problems(path)
    assert err.problems[0].startswith("row 4, column 'DV'")


def test_errors_survive_pickling(cal_dir: Path) -> None:
    import pickle

    err = _problems(cal_dir / "observations_bad_number.csv")
    copy = pickle.loads(pickle.dumps(err))
    assert (str(copy), copy.problems, copy.total) == (str(err), err.problems, err.total)


def test_file_level_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "absent.csv"
    assert "cannot be read" in str(_problems(missing))
    assert "a folder" in str(_problems(tmp_path))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"ID,TIME\xff\n")
    assert "not UTF-8" in str(_problems(binary))
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert "no header" in str(_problems(empty))
    header_only = tmp_path / "header.csv"
    header_only.write_text(HEADER + "\n", encoding="utf-8")
    assert "no data rows" in str(_problems(header_only))
    twice = tmp_path / "twice.csv"
    twice.write_text(HEADER + ",DV\n1,7,5,car_t_blood,cells/uL,0,0,,5\n", encoding="utf-8")
    assert "'DV' given twice" in str(_problems(twice))
    lower = tmp_path / "lower.csv"
    lower.write_text(HEADER.replace("TIME", "Time") + "\n", encoding="utf-8")
    assert "column names are upper case: 'Time'" in str(_problems(lower))
    big = tmp_path / "big.csv"
    big.write_text(HEADER + "\n" + "1,7,5,car_t_blood,cells/uL,0,0,\n" * 10, encoding="utf-8")
    monkeypatch.setattr(cdata, "MAX_OBSERVATION_BYTES", 100)
    assert "larger than" in str(_problems(big))


# --- units ------------------------------------------------------------------------------------


def test_unit_table() -> None:
    assert unit_factor("x10^9/L", "cells/uL") == 1e3
    assert unit_factor("10E9/L", "cells/uL") == 1e3
    assert unit_factor("cells/L", "cells/uL") == 1e-6
    assert unit_factor("mg/dL", "g/L") == 0.01
    assert unit_factor("g/L", "mg/dL") == 100.0
    assert unit_factor("kIU/L", "IU/mL") == 1.0
    assert unit_factor("mg/L", "mg/dL") == 0.1
    assert unit_factor("MG/DL", "g/L") == 0.01  # case is ignored within one quantity
    assert unit_factor("G/L", "cells/uL") is None  # giga per litre is not a spelling here
    assert unit_factor("deg F", "deg C") is None  # not a pure factor
    assert convert_unit([1.0, 2.0], "10^9/L", "cells/uL").tolist() == [1000.0, 2000.0]
    assert convert_unit(820.0, "mg/dL", "g/L") == pytest.approx(8.2)
    with pytest.raises(ValueError, match="allowed: g/L, mg/mL"):
        convert_unit(1.0, "mmol/L", "g/L")


def test_every_observable_unit_converts_to_itself() -> None:
    for obs in OBSERVABLES.values():
        assert unit_factor(obs.unit, obs.unit) == 1.0


# --- summary targets -------------------------------------------------------------------------

SHIPPED_IDS = {
    "mack22_dose", "mack22_b_return", "mack22_doris_m3", "mack22_car_peak",
    "mack22_car_peak_day", "muller24_crs",
    "muller24_icans", "muller24_doris_sle", "muller24_major_response_iim", "muller24_eustar_ssc",
    "muller24_off_immunosuppression", "stein19_tmax", "stein19_alpha", "stein19_fb",
    "stein19_beta", "zuma1_kinetics", "koch17_tmax", "hill19_igg_total", "hill19_igg_measles",
    "bhoj16_pc", "hay17_crs", "singh21_peak_vs_dose", "singh21_peak_vs_burden",
}  # fmt: skip


def test_shipped_targets_hold_every_row_of_the_table() -> None:
    assert "sle_car_t" in shipped_target_sets()
    targets = {t.id: t for t in load_shipped_targets()}
    assert set(targets) == SHIPPED_IDS
    b = targets["mack22_b_return"]
    assert (b.statistic, b.mean, b.sd, b.n, b.unit) == ("mean_sd", 110, 32, 5, "day")
    assert b.source == "doi 10.1038/s41591-022-02017-5"
    assert targets["mack22_doris_m3"].events == 5
    peak = targets["mack22_car_peak"]
    assert (peak.low, peak.high, peak.observable) == (30, 1000, "car_t_blood")
    day = targets["mack22_car_peak_day"]
    assert (day.low, day.high, day.quantity) == (7, 10, "peak_day")
    assert targets["muller24_crs"].counts == {"0": 4, "1": 10, "2": 1, ">=3": 0}
    assert targets["muller24_icans"].counts == {"0": 14, "1": 1}
    assert [targets[f"stein19_{k}"].value for k in ("tmax", "alpha", "fb", "beta")] == [
        9.3, 0.16, 0.0079, 0.0032,
    ]  # fmt: skip
    assert [targets[f"stein19_{k}"].omega2 for k in ("alpha", "fb", "beta")] == [0.91, 0.8, 0.86]
    z = targets["zuma1_kinetics"]
    assert (z.times, z.medians, z.n) == ([7, 14, 28, 90], [27.5, 9.1, 2.1, 0.1], 19)
    assert (targets["koch17_tmax"].median, targets["koch17_tmax"].n) == (8.5, 22)
    assert targets["hill19_igg_total"].mean == -17.5
    assert targets["hill19_igg_measles"].mean == 1.2
    assert targets["bhoj16_pc"].bound == 25 and targets["bhoj16_pc"].unit == "month"
    hay = targets["hay17_crs"]
    assert hay.n == 133
    assert hay.percent == {"0": 30, "1": 26, "2": 32, "3": 4.5, "4": 3.8, "5": 3.8}
    assert targets["singh21_peak_vs_burden"].value == 5750
    for t in targets.values():
        assert t.study and t.source and t.setting and t.use
        assert t.n is not None or t.note


def test_every_statistic_kind_can_be_written(cal_dir: Path) -> None:
    targets = read_targets(cal_dir / "targets_all_kinds.yaml")
    assert {t.statistic for t in targets} == set(STATISTICS)


def test_targets_frame_has_one_row_per_number(cal_dir: Path) -> None:
    targets = read_targets(cal_dir / "targets_all_kinds.yaml")
    frame = targets_frame(targets)
    assert tuple(frame.columns) == TARGET_FRAME_COLUMNS
    medians = frame[frame.id == "t_medians"]
    assert medians.time.tolist() == [7, 14, 28] and medians.value.tolist() == [27.5, 9.1, 2.1]
    grades = frame[frame.id == "t_grades"]
    assert grades.grade.tolist() == ["0", "1", "2", ">=3"]
    iqr = frame[frame.id == "t_median_iqr"]
    assert iqr.field.tolist() == ["median", "q1", "q3"]
    assert (iqr.model_unit.iloc[0], iqr.model_factor.iloc[0]) == ("g/L", 0.01)
    assert frame[frame.id == "t_lower_bound"].n.isna().all()
    assert len(frame) == sum(len(t.rows()) for t in targets)


def test_proportion_stands_for_a_rounded_number_of_patients(cal_dir: Path) -> None:
    targets = {t.id: t for t in read_targets(cal_dir / "targets_all_kinds.yaml")}
    p = targets["t_proportion"]
    assert isinstance(p, Proportion)
    assert p.events == 93  # 70 % of 133 = 93.1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "negative_sd",
            "target 'mack22_b_return', field 'sd': got -3; allowed: a number > 0",
        ),
        (
            "duplicate_id",
            "target 'a' (#3), field 'id': got 'a'; allowed: an id used once in the file "
            "(already used by target #1)",
        ),
        (
            "unknown_statistic",
            "target 'a', field 'statistic': got 'geometric_mean'; allowed: one of",
        ),
        ("q1_above_median", "target 'a', field 'q1': got 130; allowed: a number <= median (100)"),
        ("low_above_high", "target 'a', field 'low': got 1000; allowed: a number <= high (30)"),
        (
            "events_above_n",
            "target 'a', field 'events': got 6; allowed: a whole number from 0 to n",
        ),
    ],
)
def test_target_file_mistakes(cal_dir: Path, name: str, message: str) -> None:
    path = cal_dir / f"targets_{name}.yaml"
    with pytest.raises(CalibrationDataError) as info:
        read_targets(path)
    assert str(info.value).startswith(f"{path}: {message}")
    assert info.value.total == 1


def _one(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "x", "statistic": "median", "quantity": "q", "unit": "day", "median": 8.0,
        "study": "s", "source": "s", "setting": "s", "n": 5, "use": "u",
    }  # fmt: skip
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None or k == "n"}


@pytest.mark.parametrize(
    ("fields", "field", "allowed"),
    [
        ({"n": None}, "note", "required when n is null"),
        ({"n": 0}, "n", "a number >= 1"),
        ({"n": 2.5}, "n", "a whole number >= 1, or null with a note"),
        ({"quantity": None}, "quantity", "one of them is required"),
        ({"quantity": "Bad Name"}, "quantity", "a lower-case name"),
        (
            {"observable": "car_t_blod", "quantity": None},
            "observable",
            "did you mean 'car_t_blood'",
        ),
        ({"observable": "car_t_blood", "quantity": None, "unit": "day"}, "unit", "10^9/L"),
        ({"colour": "red"}, "colour", "unknown keys are rejected"),
        ({"median": "high"}, "median", "a number"),
        ({"median": float("nan")}, "median", "a finite number"),
        ({"study": None}, "study", "this key is required"),
        ({"statistic": None}, "statistic", "one of fixed, mean_sd"),
        ({"id": "1st"}, "id", "starting with a letter"),
        (
            {"statistic": "grade_counts", "median": None, "counts": {0: 4, 1: 2}},
            "counts",
            "counts adding up to n (5); they add up to 6",
        ),
        (
            {"statistic": "grade_counts", "median": None, "counts": {0: 4, "x": 1}},
            "counts.x",
            "a grade 0-99",
        ),
        (
            {"statistic": "grade_counts", "median": None, "counts": {0: 4, ">=1": 0, 2: 1}},
            "counts",
            "at most one open category",
        ),
        (
            {"statistic": "grade_counts", "median": None, "counts": {0: 4.5, 1: 0.5}},
            "counts.0",
            "a whole number of patients",
        ),
        (
            {"statistic": "grade_percent", "median": None, "percent": {0: 50, 1: 40}},
            "percent",
            "adding up to 100",
        ),
        (
            {"statistic": "medians_at_times", "median": None, "times": [7, 14], "medians": [1]},
            "medians",
            "one median per day",
        ),
        (
            {"statistic": "medians_at_times", "median": None, "times": [14, 7], "medians": [1, 2]},
            "times",
            "increasing order",
        ),
        (
            {"statistic": "median_range", "low": 1.0, "high": 5.0, "median": 6.0},
            "median",
            "a number <= high (5)",
        ),
        ({"statistic": "proportion", "median": None, "percent": 120}, "percent", "<= 100"),
        ({"statistic": "model_result", "median": None, "value": 2.0}, "condition", "required"),
    ],
)
def test_each_target_rule(fields: dict[str, object], field: str, allowed: str) -> None:
    with pytest.raises(CalibrationDataError) as info:
        parse_targets({"targets": [_one(**fields)]}, "t.yaml")
    message = str(info.value)
    name = fields.get("id", "x")
    assert message.startswith(f"t.yaml: target {name!r}, field {field!r}: got "), message
    assert allowed in message, message


def test_all_target_problems_are_reported_together() -> None:
    items = [_one(id="a", n=0), _one(id="b", median="x"), _one(id="c")]
    with pytest.raises(CalibrationDataError) as info:
        parse_targets({"targets": items, "extra": 1}, "t.yaml")
    assert info.value.total == 3
    assert info.value.problems[0].startswith("key 'extra': unknown")
    assert info.value.problems[1].startswith("target 'a', field 'n'")
    assert info.value.problems[2].startswith("target 'b', field 'median'")


def test_target_file_layout_problems(tmp_path: Path) -> None:
    for text, expected in [
        ("- a\n- b\n", "allowed: a mapping with a 'targets' list"),
        ("targets: []\n", "key 'targets': got []; allowed: a list of targets"),
        ("targets:\n  - 3\n", "target #1, field '<target>': got 3"),
        ("targets: [{id: a}]\ntargets: []\n", "given twice"),
        ("targets: [\n", "well-formed YAML"),
    ]:
        path = tmp_path / "t.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(CalibrationDataError, match=r"t\.yaml") as info:
            read_targets(path)
        assert expected in str(info.value), str(info.value)
    with pytest.raises(CalibrationDataError, match="allowed: sle_car_t"):
        load_shipped_targets("nope")


def test_grade_tables_are_canonical() -> None:
    [t] = parse_targets(
        {"targets": [_one(statistic="grade_counts", median=None, n=6,
                          counts={"≥2": 1, 0: 3, "1": 2})]},
    )  # fmt: skip
    assert isinstance(t, GradeCounts)
    assert list(t.counts) == ["0", "1", ">=2"]
    [p] = parse_targets(
        {"targets": [_one(statistic="grade_percent", median=None, percent={1: 60, 0: 40})]}
    )
    assert isinstance(p, GradePercent)
    assert p.percent == {"0": 40.0, "1": 60.0}


def test_shipped_file_round_trips_through_yaml() -> None:
    """The shipped file is plain YAML (readable by any YAML reader, no custom tags)."""
    from importlib import resources

    text = (
        resources.files("immunoreset.calibrate")
        .joinpath("targets", "sle_car_t.yaml")
        .read_text(encoding="utf-8")
    )
    data = yaml.safe_load(text)
    assert len(parse_targets(data)) == len(data["targets"]) == len(SHIPPED_IDS)
    assert math.isclose(
        next(t for t in data["targets"] if t["id"] == "mack22_doris_m3")["time"], 3 * 30.4375
    )
    assert np.isfinite([t.get("n") or 1 for t in data["targets"]]).all()
