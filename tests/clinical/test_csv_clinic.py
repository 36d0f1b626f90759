"""The CSV layer on files as clinics export them: units, dates, blanks, commas and long form.

Every expected value is either an exact conversion (1 x10^9/L = 1,000 cells/uL; 1 g/L of IgG =
100 mg/dL) or a grade that the instrument's own tests pin; comparisons are exact (text cells).
"""

from __future__ import annotations

import io

import pytest

from immunoreset.clinical import InstrumentInputError
from immunoreset.clinical.csvio import CsvLayoutError, ScoredTable, score_csv


def scored(key: str, text: str) -> ScoredTable:
    return score_csv(key, io.StringIO(text))


HEMATOTOX = "hb_g_dl,crp_mg_dl,ferritin_ng_ml"
BASE = "12,1,100"


# --- units ---------------------------------------------------------------------------------


def test_header_unit_converts_a_list_and_a_scalar() -> None:
    table = scored(
        "car_hematotox",
        f"id,platelets [10^9/L],anc [x10^9/L],{HEMATOTOX}\na,200,2.5,{BASE}\n",
    )
    row = table.rows[0]
    assert row["error"] == ""
    assert (row["score"], row["risk"]) == ("0", "low")  # 200,000 and 2,500 per uL
    icaht = scored("icaht_early", "anc [10^9/L]\n2;0.4;0.4;0.4;0.4;0.4;0.4;0.4;2\n").rows[0]
    assert (icaht["dur_le500"], icaht["grade"]) == ("7", "2")


def test_analyte_column_picks_the_field_of_its_unit() -> None:
    table = scored(
        "car_hematotox",
        "platelets_per_uL,anc_per_uL,crp [mg/L],hb_g_dl,ferritin_ng_ml\n200000,2000,31,12,100\n",
    )
    assert table.rows[0]["component.crp_mg_dl"] == "3.1"
    assert table.rows[0]["component.crp"] == "1"


def test_unit_column_states_the_unit_row_by_row() -> None:
    table = scored("hypogammaglobulinemia", "id,igg,igg_unit\na,350,mg/dL\nb,3.5,g/L\nc,6.5,\n")
    assert [row["component.igg_g_L"] for row in table.rows[:2]] == ["3.5", "3.5"]
    assert table.rows[2]["component.igg_g_L"] == "6.5"  # empty unit cell: the field's own unit


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("anc\n", "needs its unit: write 'anc [cells/uL]'"),
        ("anc [mmol/L]\n", "a unit of this field: cells/uL, x10^9/L"),
        ("anc_per_uL,options.join_gap_days [h]\n", "is not a laboratory value with units"),
    ],
)
def test_unit_layout_errors(header: str, message: str) -> None:
    with pytest.raises(CsvLayoutError, match=message.replace("[", r"\[").replace("^", r"\^")):
        scored("icaht_early", header + "100\n")


def test_implausible_value_is_a_row_error_naming_the_likely_unit() -> None:
    text = (
        f"id,platelets_per_uL,anc_per_uL,{HEMATOTOX}\nok,200000,2000,{BASE}\nslip,150,2000,{BASE}\n"
    )
    table = scored("car_hematotox", text)
    assert table.rows[0]["error"] == ""
    assert [error.row for error in table.errors] == [2]
    message = table.errors[0].message
    assert "platelets_per_uL" in message and "150" in message
    assert "cells/uL" in message and "x10^9/L" in message


def test_a_column_in_another_unit_is_refused_but_one_low_value_is_not() -> None:
    with pytest.raises(CsvLayoutError, match=r"column 'igg_mg_dL'.*looks like g/L"):
        scored("hypogammaglobulinemia", "igg_mg_dL\n7\n8.5\n")
    table = scored("hypogammaglobulinemia", "igg_mg_dL\n7\n850\n")
    assert table.errors == ()


# --- days and dates ------------------------------------------------------------------------


def test_dates_count_from_the_infusion_date() -> None:
    text = (
        "infusion_date,times_d,levels\n"
        "2024-03-01,2024-03-01;2024-03-08;2024-03-29,0;100;50\n"
        ",0;7;28,0;100;50\n"
    )
    rows = scored("car_pk_nca", text).rows
    assert rows[0]["auc_0_28d"] == rows[1]["auc_0_28d"] != ""
    assert rows[0]["tmax_d"] == "7"


def test_a_date_without_infusion_date_is_a_row_error() -> None:
    table = scored("car_pk_nca", "times_d,levels\n2024-03-01;2024-03-08,0;100\n")
    assert "infusion_date" in table.errors[0].message


# --- blanks, titres, commas, delimiters, required columns ----------------------------------


LLDAS = "sledai_items,previous_sledai_items,pga,prednisolone_mg_day\n"


def test_blank_previous_visit_is_not_recorded_and_none_is_an_empty_visit() -> None:
    rows = scored("lldas", LLDAS + ",,0,0\n,none,0,0\n").rows
    assert rows[0]["lldas"] == ""  # not evaluable at a first visit
    assert rows[0]["flags"] == "no_previous_assessment"
    assert rows[1]["lldas"] == "true"


def test_ana_titre_as_written_by_the_laboratory() -> None:
    rows = scored("eular_acr_2019_sle", "ana_titer_denominator,criteria\n1:80,\n1:40,\n").rows
    assert [row["entry_criterion"] for row in rows] == ["true", "false"]


def test_decimal_comma_is_refused_with_a_hint() -> None:
    table = scored("astct_crs", 'temp_c\n"38,5"\n38,5\n')
    assert "a number with a decimal point (38.5)" in table.errors[0].message
    assert "decimal comma" in table.errors[1].message


@pytest.mark.parametrize(("separator", "name"), [(";", "semicolon"), ("\t", "tab")])
def test_other_delimiters_get_a_hint(separator: str, name: str) -> None:
    with pytest.raises(CsvLayoutError, match=f"looks {name}-separated"):
        scored("astct_crs", f"id{separator}temp_c\na{separator}38\n")


def test_missing_required_column_is_a_file_error() -> None:
    with pytest.raises(CsvLayoutError, match="required column 'temp_c' is missing"):
        scored("astct_crs", "id,hypotension\na,yes\n")


def test_contradicting_inputs_are_flagged_by_name() -> None:
    text = "items,raw.proteinuria_g_24h,raw.inflamed_joint_count,options.arthritis_rule\n"
    row = scored("sledai_2k", text + "proteinuria;arthritis,0.1,1,>2\n").rows[0]
    assert row["flags"] == (
        "proteinuria_listed_but_raw_value_absent;arthritis_listed_but_raw_value_absent"
    )
    assert row["sledai_2k"] == "8"  # flagged, still scored as listed


def test_errors_use_the_project_words() -> None:
    text = "mdga,ptga,mmt,mmt_max,haq,enzyme,extramuscular,population\n"
    rows = scored("myositis_tis_2016", text + "5;5,5;5,60;60,90,1;1,100;100,1;1,kid\n")
    message = rows.errors[0].message
    assert message == "field 'mmt_max': got 90; allowed: one of: 80, 150"
    assert "Input should" not in message and "Decimal(" not in message


# --- one patient's visits in long form -----------------------------------------------------


def test_long_form_lldas_reads_the_previous_visit_in_date_order() -> None:
    text = (
        "patient_id,visit_day,infusion_date,sledai_items,pga,prednisolone_mg_day\n"
        "A,2024-04-01,2024-03-01,arthritis,0.5,5\n"
        "A,2024-02-20,2024-03-01,arthritis;rash,1.5,10\n"
        "B,0,2024-01-01,rash,0.5,5\n"
        "B,30,2024-01-01,rash,0.5,5\n"
    )
    rows = scored("lldas", text).rows
    assert [row["lldas"] for row in rows] == ["true", "false", "", "true"]
    assert rows[2]["flags"] == "no_previous_assessment"


def test_long_form_sri4_compares_with_the_baseline_visit() -> None:
    text = (
        "patient_id,visit_day,sledai,pga,bilag.renal\nA,0,10,1.0,B\nA,90,6,1.2,C\nA,180,8,1.0,C\n"
    )
    rows = scored("sri_4", text).rows
    assert [row["sri4"] for row in rows] == ["", "true", "false"]
    assert rows[0]["flags"] == "baseline_visit"


def test_long_form_tis_juvenile() -> None:
    text = (
        "patient_id,visit_day,mdga,ptga,cmas,haq,chq_phs,das,population\n"
        "J,0,6,6,26,1.5,30,10,juvenile\n"
        "J,180,3,4,39,1.2,36,6,juvenile\n"
    )
    rows = scored("myositis_tis_2016", text).rows
    assert (rows[1]["tis"], rows[1]["category"]) == ("72.5", "major")


def test_long_form_doris_derives_drug_status_from_doses() -> None:
    text = (
        "patient_id,visit_day,clinical_sledai,pga,prednisolone_mg_day,antimalarial_dose,"
        "immunosuppressive_dose\n"
        "A,0,0,0.2,5,200,0\n"
        "A,30,0,0.2,5,200,0\n"
        "A,60,0,0.2,0,400,0\n"
        "A,90,0,0.2,0,400,1000\n"
    )
    rows = scored("doris_2021", text).rows
    assert rows[0]["flags"] == "no_previous_visit_to_compare_doses"
    assert [row["doris_remission_on_treatment"] for row in rows[1:]] == ["true", "false", "false"]


def test_long_form_invalid_visit_stops_its_patient_only() -> None:
    """A malformed cell stops the patient's other visits; a value the baseline record refuses
    (PGA 9 on the 0-3 scale) is reported on each visit compared with it."""
    text = "patient_id,visit_day,sledai,pga\nA,0,x,1\nA,90,6,1.2\nB,0,10,9\nB,30,5,1\nC,0,10,1\nC,9,5,1\n"
    table = scored("sri_4", text)
    assert [error.row for error in table.errors] == [1, 2, 4]
    assert "row 1" in table.errors[1].message
    assert "pga_baseline" in table.errors[2].message
    assert table.rows[5]["sri4"] == "true"


def test_score_visits_is_the_python_api_of_the_long_form() -> None:
    from immunoreset.clinical.visits import score_visits

    visits = [
        {"sledai": 10, "pga": 1.0, "bilag": {"renal": "B"}},
        {"sledai": 6, "pga": 1.2, "bilag": {"renal": "C"}},
    ]
    baseline, follow_up = score_visits("sri_4", visits)
    assert baseline is None
    assert follow_up is not None and follow_up["sri4"] is True
    with pytest.raises(InstrumentInputError, match="visit 2: pga_followup"):
        score_visits("sri_4", [visits[0], {**visits[1], "pga": 4}])
