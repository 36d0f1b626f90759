"""The user documentation of the instruments keeps up with the registry.

A registered instrument that docs/instruments.md does not list, or a PROVISIONAL item that results can
report but the register in the docs does not explain, would leave users unable to tell what a score
rests on.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from immunoreset.clinical import REGISTRY

DOCS = Path(__file__).parents[2] / "docs" / "instruments.md"
TEXT = DOCS.read_text(encoding="utf-8")
REGISTER_ROWS = set(re.findall(r"^\| (P\d+) \|", TEXT, flags=re.MULTILINE))


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_every_registered_instrument_is_documented(key: str):
    assert f"`{key}`" in TEXT, f"docs/instruments.md does not list instrument {key!r}"


@pytest.mark.parametrize(
    "item", sorted({item for inst in REGISTRY.values() for item in inst.provisional_items})
)
def test_every_provisional_item_has_a_register_row(item: str):
    assert item in REGISTER_ROWS, f"docs/instruments.md has no PROVISIONAL register row for {item}"
