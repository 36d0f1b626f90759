"""The shipped CAR parameters are the estimate of the multi-setting search that chose them
(examples/calibration/integrated_settings_search.py, recorded in provenance.yaml): they reproduce its
recorded objective and meet the targets' own ranges."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import yaml

from immunoreset.model.models.integrated import MODEL

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "calibration" / "integrated_settings_search.py"
PROVENANCE = ROOT / "src" / "immunoreset" / "model" / "models" / "integrated" / "provenance.yaml"


@pytest.fixture(scope="module")
def search():
    spec = importlib.util.spec_from_file_location("integrated_settings_search", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_values_reproduce_the_recorded_objective(search) -> None:
    """The shipped (rounded) values give the objective the provenance records for the unrounded
    estimate, within 2 % (the rounding to 4 significant digits moves it by less)."""
    record = yaml.safe_load(PROVENANCE.read_text())["calibrations"][0]
    values = {name: MODEL.parameter(name).value for name in search.SEARCHED}
    run = search.Search()
    assert run.loss(values) == pytest.approx(record["fit"]["objective"], rel=0.02)
    summary = run.summary(values)
    # every range of the targets themselves (not the search's margins inside them) holds
    assert summary["lymphoma_median_peak_day"] >= 6.5
    assert all(30.0 <= p <= 1000.0 for p in summary["erlangen_peaks"])
    assert all(7 <= d <= 10 for d in summary["erlangen_peak_days"])


def test_the_searched_parameters_are_the_ones_the_provenance_records(search) -> None:
    text = (
        SCRIPT.parents[2] / "src/immunoreset/model/models/integrated/provenance.yaml"
    ).read_text()
    record = yaml.safe_load(text)["calibrations"][0]
    assert record["config"] == "examples/calibration/integrated_settings_search.py"
    assert sorted(record["estimates"]) == sorted(search.SEARCHED)
    for name in search.SEARCHED:
        p = MODEL.parameter(name)
        assert p.prior_low <= p.value <= p.prior_high, name
    assert np.isfinite(record["fit"]["objective"])
