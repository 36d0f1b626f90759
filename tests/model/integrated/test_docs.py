"""docs/model.md matches the model: parameter tables and the module diagram are generated."""

from __future__ import annotations

from pathlib import Path

from immunoreset.model.models.integrated import docs, model

DOC = Path(__file__).parents[3] / "docs" / "model.md"


def test_document_matches_the_data_files_and_the_model() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert docs.render(text) == text, (
        "docs/model.md is out of date: python -m immunoreset.model.models.integrated.docs "
        "docs/model.md"
    )


def test_every_module_with_parameters_has_its_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    for module in model.MODULES:
        if module.BLOCK.parameters:
            name = module.__name__.rsplit(".", 1)[1]
            assert f"<!-- generated: parameters:{name} -->" in text, name
