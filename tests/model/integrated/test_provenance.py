"""The calibrated defaults of the integrated model are the values the provenance file records."""

from __future__ import annotations

from importlib import resources

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


def test_every_calibration_names_its_data_method_and_fit() -> None:
    for c in PROVENANCE["calibrations"]:
        assert {"date", "config", "data", "method", "estimates", "fit"} <= set(c)
        assert all("source" in d and "n" in d for d in c["data"])
