"""The calibrated defaults of the integrated model are the values the provenance file records."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

from immunoreset.model.models.integrated import MODEL

PROVENANCE = yaml.safe_load(
    resources.files("immunoreset.model.models.integrated")
    .joinpath("provenance.yaml")
    .read_text(encoding="utf-8")
)


@pytest.mark.parametrize(
    ("name", "record"),
    [(n, r) for c in PROVENANCE["calibrations"] for n, r in c["estimates"].items()],
)
def test_shipped_value_is_the_calibrated_one(name: str, record: dict) -> None:
    p = MODEL.parameter(name)
    assert p.value == record["value"]
    assert p.unit == record["unit"]
    assert p.prior_low <= record["value"] <= p.prior_high
    assert "provenance.yaml" in p.note


ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("setting", "name", "record"),
    [(s, n, r) for s in PROVENANCE["settings"] for n, r in s["estimates"].items()],
)
def test_a_fitted_setting_value_is_the_one_its_scenario_holds(
    setting: dict, name: str, record: dict
) -> None:
    """A value fitted for a disease setting is not a default (the default is the reference
    setting's); the setting's scenario file carries it, and its calibration file estimates it."""
    scenario = yaml.safe_load((ROOT / setting["scenario"]).read_text(encoding="utf-8"))
    assert scenario["population"]["parameters"][name] == record["value"]
    config = yaml.safe_load((ROOT / setting["config"]).read_text(encoding="utf-8"))
    assert [p["name"] for p in config["parameters"]] == [name]
    p = MODEL.parameter(name)
    assert p.unit == record["unit"]
    assert p.prior_low <= record["value"] <= p.prior_high
    assert "provenance.yaml" in p.note
    assert record["ci95"][0] <= record["value"] <= record["ci95"][1]


def test_every_calibration_names_its_data_method_and_fit() -> None:
    for c in PROVENANCE["calibrations"] + PROVENANCE["settings"]:
        assert {"date", "config", "data", "method", "estimates", "fit"} <= set(c)
        assert all("source" in d and "n" in d for d in c["data"])
