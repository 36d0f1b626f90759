"""The models a scenario can name."""

from __future__ import annotations

from immunoreset.model.core import Model
from immunoreset.model.models import integrated, park2025, stein2019

MODELS: dict[str, Model] = {m.name: m for m in (stein2019.MODEL, park2025.MODEL, integrated.MODEL)}


def get_model(name: str) -> Model:
    """The model registered as ``name``; ``KeyError`` lists the known names."""
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; allowed: {', '.join(sorted(MODELS))}") from None
