"""``immunoreset score`` and the CSV layer under it (``immunoreset.clinical.csvio``)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from immunoreset.cli.main import main
from immunoreset.clinical import REGISTRY, InstrumentInputError
from immunoreset.clinical.csvio import (
    CsvLayoutError,
    columns,
    instrument,
    parse_cell,
    score_csv,
    template,
)

VECTORS = Path(__file__).parents[1] / "data" / "instrument_vectors.json"


def fill(template_path: Path, rows: list[dict[str, str]]) -> None:
    """Append assessments under the template's header, as a user filling it in would."""
    with template_path.open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    with template_path.open("a", newline="", encoding="utf-8") as handle:
        csv.DictWriter(handle, fieldnames=header, lineterminator="\n").writerows(rows)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def crs_template(tmp_path: Path) -> Path:
    path = tmp_path / "crs.csv"
    assert main(["score", "astct_crs", "--template", "--out", str(path)]) == 0
    return path


def test_template_has_header_first_and_commented_help(crs_template: Path):
    lines = crs_template.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,temp_c,fever_other_cause,hypotension,")
    assert "options." not in lines[0]
    assert all(line.startswith("#") for line in lines[1:])
    help_row = next(csv.reader([lines[1]]))
    header = lines[0].split(",")
    described = dict(zip(header, help_row, strict=True))
    assert "unit deg C" in described["temp_c"]
    assert "required" in described["temp_c"]
    assert "nasal_cannula" in described["oxygen_device"]


def test_filled_template_is_scored(crs_template: Path, tmp_path: Path, capsys):
    fill(
        crs_template,
        [
            {"id": "fever only", "temp_c": "38.0"},
            {
                "id": "pressor and cannula",
                "temp_c": "38.5",
                "vasopressors": "norepinephrine; vasopressin",
                "oxygen_device": "nasal_cannula",
                "oxygen_flow_l_min": "4",
            },
            {"id": "afebrile", "temp_c": "37.2", "hypotension": "yes"},
            {"id": "bipap", "temp_c": "39.1", "oxygen_device": "bipap"},
            {"id": "low SBP", "temp_c": "38.2", "sbp_mmHg": "85"},
        ],
    )
    out = tmp_path / "scored.csv"
    assert main(["score", "astct_crs", str(crs_template), "--out", str(out)]) == 0
    assert capsys.readouterr().err == ""
    rows = read_rows(out)
    assert [row["id"] for row in rows][:2] == ["fever only", "pressor and cannula"]
    assert [row["grade"] for row in rows] == ["1", "3", "0", "4", "2"]
    assert rows[1]["component.hypotension"] == "3"
    assert rows[1]["component.oxygen"] == "2"
    assert rows[2]["flags"] == "hypotension_or_hypoxia_without_fever"
    assert rows[3]["option.hypotension_sbp_mmHg"] == "90"
    assert {row["error"] for row in rows} == {""}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crs.csv", "scored.csv"]


def test_bad_rows_are_reported_and_good_rows_scored(crs_template: Path, capsys):
    fill(
        crs_template,
        [
            {"id": "ok", "temp_c": "38.0"},
            {"id": "typo", "temp_c": "hot"},
            {"id": "ok too", "temp_c": "36.8"},
            {"id": "no flow", "temp_c": "38.5", "oxygen_device": "nasal_cannula"},
        ],
    )
    assert main(["score", "astct_crs", str(crs_template)]) == 1
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [row["grade"] for row in rows] == ["1", "", "0", ""]
    assert "temp_c" in rows[1]["error"]
    errors = captured.err.splitlines()
    # the template's three lines come first, so data row 2 is on line 5
    assert "row 2 (line 5): field 'temp_c': got 'hot'" in errors[0]
    assert "row 4 (line 7): field 'oxygen_flow_l_min'" in errors[1]
    assert errors[2].endswith("2 of 4 rows invalid; others scored")


def test_list(capsys):
    assert main(["score", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["key", "status", "title", "provisional"]
    by_key = {line.split()[0]: line for line in lines[1:]}
    assert set(by_key) == set(REGISTRY)
    assert by_key["astct_crs"].split()[1] == "VERIFIED"
    assert by_key["astct_icans"].rstrip().endswith("P4")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["score", "no_such_scale", "x.csv"], "unknown instrument 'no_such_scale'"),
        (["score", "astct_crs", "missing.csv"], "cannot read missing.csv"),
        (["score", "astct_crs"], "give a RECORDS.csv file"),
        (["score", "--list", "astct_crs"], "--list takes no other arguments"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert message in captured.err


def test_unknown_column_is_exit_2_and_output_untouched(tmp_path: Path, capsys):
    records = tmp_path / "r.csv"
    records.write_text("id,temp_c,tempc\n1,38,\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text("earlier result\n", encoding="utf-8")
    assert main(["score", "astct_crs", str(records), "--out", str(out), "--overwrite"]) == 2
    assert "column 'tempc' is not a field of astct_crs" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "earlier result\n"


def test_nested_options_and_empty_required_list(tmp_path: Path, capsys):
    path = tmp_path / "sledai.csv"
    assert main(["score", "sledai_2k", "--template", "--out", str(path)]) == 0
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {"items", "raw.inflamed_joint_count", "options.arthritis_rule"} <= set(header)
    fill(
        path,
        [
            {"id": "default rule", "raw.inflamed_joint_count": "2"},
            {"id": "1992 rule", "raw.inflamed_joint_count": "2", "options.arthritis_rule": ">2"},
            {"id": "listed", "items": "rash;low_complement"},
        ],
    )
    assert main(["score", "sledai_2k", str(path)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["sledai_2k"] for row in rows] == ["4", "0", "4"]
    assert [row["clinical_sledai"] for row in rows] == ["4", "0", "2"]
    assert rows[1]["option.arthritis_rule"] == ">2"


def test_option_described_without_prefix_is_placed_under_options():
    assert "options.capd_age_rule" in columns(instrument("astct_icans"))


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_every_template_reads_back(key: str):
    buffer = io.StringIO()
    template(key, buffer)
    table = score_csv(key, io.StringIO(buffer.getvalue()))
    assert table.rows == ()
    assert table.columns[: len(columns(instrument(key))) + 1] == ("id", *columns(instrument(key)))


def _cell(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_cell(item) for item in value) or "none"  # an empty cell is "not recorded"
    return str(value)


def _flatten(values: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            out |= _flatten(value, f"{prefix}{name}.")
        elif name == "samples":  # [[day, value], ...] pairs: the CSV layout is two lists
            out |= {"days": [day for day, _ in value], "values": [v for _, v in value]}
        else:
            out[prefix + name] = value
    return out


def _vector_instruments() -> list[str]:
    return sorted(json.loads(VECTORS.read_text(encoding="utf-8"))["instruments"])


@pytest.mark.parametrize("key", _vector_instruments())
def test_worked_examples_through_csv(key: str):
    """Every worked example, written as a CSV row, scores as the specification expects."""
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))["instruments"][key]["cases"]
    flat = [_flatten(case["input"]) for case in cases]
    names = list(dict.fromkeys(name for row in flat for name in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", *names])
    for case, row in zip(cases, flat, strict=True):
        writer.writerow([case["id"], *(_cell(row[n]) if n in row else "" for n in names)])
    table = score_csv(key, io.StringIO(buffer.getvalue()))
    for case, row in zip(cases, table.rows, strict=True):
        expected = case["expected"]
        if "error" in expected:
            assert row["error"], case["id"]
            continue
        assert row["error"] == "", (case["id"], row["error"])
        for name, value in expected.items():
            if isinstance(value, bool) or value is None or isinstance(value, str):
                assert row[name] == ("" if value is None else _cell(value)), (case["id"], name)
            else:
                assert float(row[name]) == pytest.approx(value, abs=1e-4), (case["id"], name)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("number", "38.0", "38.0"),
        ("integer", "4.0", 4),
        ("bool", "Yes", True),
        ("bool", "0", False),
        ("list[text]", "rash; alopecia", ["rash", "alopecia"]),
        ("list[number]", "1;null;2.5", ["1", None, "2.5"]),
        ("enum", "null", None),
    ],
)
def test_parse_cell(kind: str, text: str, expected: object):
    value = parse_cell(kind, "col", text)
    if isinstance(expected, list):
        value = [None if v is None else v if isinstance(v, str) else str(v) for v in value]
    elif kind == "number":
        value = str(value)
    assert value == expected


@pytest.mark.parametrize(
    ("kind", "text"),
    [("number", "NaN"), ("integer", "2.5"), ("bool", "maybe"), ("list[number]", "1;;2")],
)
def test_parse_cell_errors_name_the_column(kind: str, text: str):
    with pytest.raises(InstrumentInputError, match="field 'col'"):
        parse_cell(kind, "col", text)


def test_layout_errors():
    with pytest.raises(CsvLayoutError, match="no header"):
        score_csv("astct_crs", io.StringIO("# only a comment\n\n"))
    with pytest.raises(CsvLayoutError, match="twice"):
        score_csv("astct_crs", io.StringIO("temp_c,temp_c\n38,38\n"))


def test_spreadsheet_quirks_are_tolerated(tmp_path: Path, capsys):
    """Byte-order mark, CRLF, blank lines and trailing empty cells as spreadsheets write them."""
    records = tmp_path / "excel.csv"
    text = "id,temp_c,,\r\n# help line\r\na,38.1,,\r\n\r\nb,37,,x\r\n"
    records.write_text(text, encoding="utf-8-sig", newline="")
    assert main(["score", "astct_crs", str(records)]) == 1
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [row["grade"] for row in rows] == ["1", ""]
    assert "row 2 (line 5): field '<row>'" in captured.err


# --- files as clinics export them, and the safety of --out ---------------------------------

CLINIC_ICAHT = (
    "id,infusion_date,last_followup_day,anc [10^9/L]\n"
    "# exported from the ward system; ANC in G/L\n"
    "p1,2024-03-01,2024-03-17,1.5;0.3;0.3;0.3;0.3;0.3;0.3;0.3;0.3;0.3;0.3;0.3;0.3\n"
    "p2,2024-03-05,,2.0;2.0;0.4;0.4;0.4;0.4;0.4;0.4;0.4;2.0;2.0;2.0\n"
    "p3,2024-03-05,,2.0;2.0;2000;2.0\n"
    "p4,2024-03-05,2024-04-30,2.0;null;null;0.4;0.4;0.4;0.4;2.0\n"
)


def test_clinic_csv_scores_good_rows_and_names_the_bad_one(tmp_path: Path, capsys) -> None:
    """Dates from infusion_date, a blank follow-up day, a unit in the header, a null, and one
    ANC typed in cells/uL into the G/L column (2000 G/L = 2,000,000 cells/uL)."""
    records = tmp_path / "icaht.csv"
    records.write_text(CLINIC_ICAHT, encoding="utf-8")
    out = tmp_path / "scored.csv"
    assert main(["score", "icaht_early", str(records), "--out", str(out)]) == 1
    rows = read_rows(out)
    assert [row["grade"] for row in rows] == ["4", "2", "", "1"]  # p4: days 3-6 (1-2 interpolated)
    assert rows[0]["component.follow_up_end_day"] == "16"
    assert rows[3]["flags"] == "labs_end_before_follow_up"
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"immunoreset score: {records}: row 3 (line 5): field 'anc_per_uL.2'")
    assert "looks like a value in cells/uL" not in err[0]  # 2,000,000 cells/uL is no unit slip
    assert "got '2000 x10^9/L'; allowed: 0 or 10-100000 cells/uL" in err[0]
    assert err[1].endswith("1 of 4 rows invalid; others scored")


def test_out_refuses_an_existing_file_unless_overwrite(tmp_path: Path, capsys) -> None:
    records = tmp_path / "r.csv"
    records.write_text("temp_c\n38.5\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text("keep\n", encoding="utf-8")
    assert main(["score", "astct_crs", str(records), "--out", str(out)]) == 2
    assert "exists; give --overwrite" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "keep\n"
    assert main(["score", "astct_crs", str(records), "--out", str(out), "--overwrite"]) == 0
    assert read_rows(out)[0]["grade"] == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "r.csv"]  # no temp file left


@pytest.mark.parametrize("spelling", ["same", "relative", "link"])
def test_out_never_replaces_the_records_file(
    spelling: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    records = tmp_path / "r.csv"
    records.write_text("temp_c\n38.5\n", encoding="utf-8")
    target = {"same": str(records), "relative": "./r.csv", "link": str(tmp_path / "l.csv")}
    if spelling == "link":
        (tmp_path / "l.csv").symlink_to(records)
    argv = ["score", "astct_crs", str(records), "--out", target[spelling], "--overwrite"]
    assert main(argv) == 2
    assert "is the records file" in capsys.readouterr().err
    assert records.read_text(encoding="utf-8") == "temp_c\n38.5\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "has no header line"),
        (b"\xff\xfe\x00junk\x00\x81", "not UTF-8 text"),
        (b"id;temp_c\na;38\n", "looks semicolon-separated"),
        (b"id,hypotension\na,yes\n", "required column 'temp_c' is missing"),
        (b"igg_mg_dL\n7\n8\n", None),
    ],
)
def test_unreadable_files_are_one_line_exit_2(
    content: bytes, message: str | None, tmp_path: Path, capsys
) -> None:
    records = tmp_path / "r.csv"
    records.write_bytes(content)
    key = "hypogammaglobulinemia" if message is None else "astct_crs"
    assert main(["score", key, str(records)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    assert (message or "looks like g/L") in captured.err


def test_a_file_above_the_size_limit_is_not_read(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr("immunoreset.cli.score.MAX_INPUT_BYTES", 10)
    records = tmp_path / "r.csv"
    records.write_text("temp_c\n38.5\n38.6\n", encoding="utf-8")
    assert main(["score", "astct_crs", str(records)]) == 2
    assert "larger than" in capsys.readouterr().err


def test_template_states_the_plausible_range_and_other_units_of_laboratory_columns() -> None:
    buffer = io.StringIO()
    template("car_hematotox", buffer)
    header, help_row = list(csv.reader(io.StringIO(buffer.getvalue())))[:2]
    described = dict(zip(header, help_row, strict=True))
    assert "plausible 0 or 10-100000 cells/uL" in described["anc_per_uL"]
    assert "another unit (x10^9/L)" in described["anc_per_uL"]
    assert "plausible 2-25 g/dL" in described["hb_g_dl"]
