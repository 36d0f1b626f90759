"""The product catalogue: every product loads with sources, maps onto model parameters, is listed by
``immunoreset products`` and simulates through ``immunoreset simulate``; scenario wiring of
catalogue products and two-agent lymphodepletion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from immunoreset.cli.main import main
from immunoreset.model.models.integrated import MODEL, model
from immunoreset.runs.inputs import prepare
from immunoreset.scenario.load import ScenarioError, load_scenario, parse_scenario
from immunoreset.therapy.products import ProductError, list_products, load_product

REQUIRED = (
    "cd19-41bb-erlangen", "cd19-cd28-axicel", "cd19-gen1", "cd19-41bb-il18", "cd19-gen5",
    "cd20-41bb", "bcma-41bb-idecel", "bcma-cd19-dual", "cd19-bcma-coinfusion",
)  # fmt: skip
SHORT_HORIZON_DAYS = 14


def test_catalogue_holds_the_required_products() -> None:
    assert set(REQUIRED) <= set(list_products())


@pytest.mark.parametrize("name", list_products())
def test_product_has_sources_and_sets_only_slot_parameters(name: str) -> None:
    product = load_product(name)
    assert product.name == name and product.sources and product.modelled_on
    assert set(product.overrides()) <= set(MODEL.parameter_names)
    assert sum(share for _, share in product.dose_split()) == pytest.approx(1.0)


def test_default_product_equals_the_model_defaults() -> None:
    """The Erlangen-like product is the model's slot-a default, so both describe one product."""
    for key, value in load_product("cd19-41bb-erlangen").overrides().items():
        assert MODEL.parameter(key).value == pytest.approx(value), key


def test_bad_product_files_get_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ProductError, match="not in the catalogue"):
        load_product("no-such-product")
    doc = yaml.safe_load(
        (Path(__file__).parents[2] / "src/immunoreset/therapy/products/cd19-gen1.yaml").read_text()
    )
    doc["components"][0]["parameters"]["rec_cd99"] = 1.0
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ProductError, match="rec_cd99") as err:
        load_product(path)
    assert "\n" not in str(err.value)
    doc["components"][0]["share"] = 0.5
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ProductError, match="adding to 1"):
        load_product(path)


def test_products_command_lists_every_product(capsys) -> None:
    assert main(["products"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in list_products())
    assert main(["products", "cd19-bcma-coinfusion"]) == 0
    assert "slot b" in capsys.readouterr().out
    assert main(["products", "nope"]) == 2


def _scenario(**product) -> dict:
    return {
        "model": "integrated",
        "product": product,
        "regimen": {"conditioning": "standard"},
        "horizon_days": 28,
    }


def test_coinfusion_splits_the_dose_and_sets_both_slots() -> None:
    inputs = prepare(parse_scenario(_scenario(catalogue="cd19-bcma-coinfusion")))
    assert inputs.overrides["a_rec_cd19"] == 15000 and inputs.overrides["b_rec_bcma"] == 15000
    events = inputs.events(inputs.parameters(np.arange(1)))
    cells = {k: a for k, a in zip(events.inputs, events.amounts[0], strict=True)}
    assert cells[model.CAR_A] == pytest.approx(1e6 * 70) == cells[model.CAR_B]


def test_conditioning_presets_give_two_agents_on_their_own_days() -> None:
    def chemo(spec: dict) -> list[tuple[float, int, float]]:
        sc = _scenario(catalogue="cd19-41bb-erlangen")
        sc["regimen"] = spec
        inputs = prepare(parse_scenario(sc))
        events = inputs.events(inputs.parameters(np.arange(1)))
        return [
            e for e in events.for_patient(0) if e[1] in (model.FLUDARABINE, model.CYCLOPHOSPHAMIDE)
        ]

    standard = chemo({"conditioning": "standard"})
    assert [(t, a) for t, _, a in standard] == [(-5, 25), (-4, 25), (-3, 25), (-3, 1000)]
    reduced = chemo({"conditioning": "reduced"})
    assert sum(a for _, _, a in reduced) < sum(a for _, _, a in standard)
    assert chemo({"conditioning": "none"}) == []
    explicit = chemo({"fludarabine": [{"day": -4, "mg_m2": 30}], "cyclophosphamide": []})
    assert explicit == [(-4.0, model.FLUDARABINE, 30.0)]


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d.update(model="park2025"), "product.catalogue"),
        (lambda d: d["product"].update(catalogue="nope"), "product.catalogue"),
        (lambda d: d["regimen"].update(fludarabine=[{"day": -3, "mg_m2": 25}]), "regimen"),
        (lambda d: d.update(regimen={"lymphodepletion": [{"day": 0, "amount_mg": 1}]}), "regimen"),
        (lambda d: d.update(product={"name": "x"}), "product"),
    ],
)
def test_scenario_mistakes_with_products_get_one_line_errors(edit, field: str) -> None:
    sc = _scenario(catalogue="cd19-41bb-erlangen")
    edit(sc)
    with pytest.raises(ScenarioError) as err:
        parse_scenario(sc)
    assert f": {field}" in str(err.value) and "\n" not in str(err.value)


def test_park2025_rejects_two_agent_conditioning() -> None:
    sc = {
        "model": "park2025",
        "product": {"dose": {"value": 1e6, "unit": "cells/kg"}},
        "regimen": {"conditioning": "standard"},
        "horizon_days": 10,
    }
    with pytest.raises(ScenarioError, match=r"regimen\.conditioning.*lymphodepletion"):
        parse_scenario(sc)


@pytest.mark.slow
@pytest.mark.parametrize("name", list_products())
def test_every_product_simulates_through_the_cli(name: str, tmp_path: Path) -> None:
    sc = _scenario(catalogue=name)
    sc["horizon_days"] = SHORT_HORIZON_DAYS
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(sc))
    assert main(["simulate", str(path), "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "trajectories.parquet").exists()


def test_an_example_scenario_per_product(examples_dir: Path) -> None:
    for name in list_products():
        path = examples_dir / f"integrated_{name.replace('-', '_')}.yaml"
        scenario = load_scenario(path)
        assert scenario.product.catalogue == name
