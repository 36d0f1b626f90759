"""Trial files are validated like scenarios: each error is one line naming field, value, allowed."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from immunoreset.cli.main import main
from immunoreset.trial import TrialError, parse_trial

DOC = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "data" / "trial_small.yaml").read_text()
)


def _with(path: str, value: object) -> dict:
    doc = copy.deepcopy(DOC)
    node = doc
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    if value is KeyError:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("sample_size", 0, "sample_size"),
        ("sample_size", KeyError, "sample_size"),
        ("arms.1.code", "HIGH", "arms[1].code"),  # duplicate arm codes
        (
            "arms.1.scenario",
            {"product": {"dose": {"value": -1, "unit": "cells/kg"}}},
            "arms[1].scenario.product.dose.value",
        ),
        ("scenario.horizon_days", 30, "scenario.horizon_days"),
        ("scenario.store", "endpoints", "scenario.store"),  # a trial keeps its own endpoints
        ("eligibility.0.covariate", "shoe_size", "eligibility[0].covariate"),
        ("eligibility.0.op", "=>", "eligibility[0].op"),
        ("allocation.strata", ["hair_colour"], "allocation.strata[0]"),
        ("allocation.block_size", 3, "allocation.block_size"),
        ("endpoints.0.column", "doris_remission", "endpoints[0].column"),
        ("endpoints.0.day", 45, "endpoints[0].day"),
        ("endpoints.2.day", 28, "endpoints[2].day"),
        ("primary", "nothing", "primary"),
        ("decision.control", "HIGH", "decision.control"),
        ("decision.endpoint", "sledai_d90", "decision.endpoint"),
        ("follow_up_days", 100, "visits.days"),
        ("visits.days", [0, 90, 28], "visits.days"),
        ("population.covariates", "martians", "population.covariates"),
        ("endpoint_settings", {"car_lloq": -1}, "endpoint_settings"),
        ("unknown_key", 1, "unknown_key"),
    ],
)
def test_invalid_field_is_named(path: str, value: object, field: str) -> None:
    with pytest.raises(TrialError) as info:
        parse_trial(_with(path, value), "t.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("t.yaml: ")
    assert f": {field}: " in message, message
    assert "allowed:" in message


def test_bad_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text(yaml.safe_dump(_with("sample_size", -3)))
    assert main(["trial", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "sample_size" in err[0]
    assert not (tmp_path / "out").exists()


def test_duplicate_keys_and_junk(tmp_path: Path) -> None:
    for text in ("seed: 1\nseed: 2\n", "- a\n- b\n", "{{{", ""):
        path = tmp_path / "t.yaml"
        path.write_text(text)
        assert main(["trial", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2


def test_too_few_eligible_is_bad_input(tmp_path: Path) -> None:
    doc = _with("eligibility.0.value", 59)  # SLEDAI-2K >= 59: almost nobody
    doc["population"]["screen_at_most"] = 50
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["trial", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert not (tmp_path / "o").exists()
