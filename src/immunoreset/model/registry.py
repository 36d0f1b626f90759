"""The models a scenario can name.

Each model is imported when it is first asked for, so a run of one model does not pay for
building the others (the integrated model's tables and index constants take a noticeable part of
start-up).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from immunoreset.model.core import Model

_MODULES = {
    "stein2019": "immunoreset.model.models.stein2019",
    "park2025": "immunoreset.model.models.park2025",
    "integrated": "immunoreset.model.models.integrated",
}


class _Registry(Mapping[str, Model]):
    """Model name -> :class:`Model`, importing each model's module on first access."""

    def __getitem__(self, name: str) -> Model:
        if name not in _MODULES:
            raise KeyError(name)
        model = importlib.import_module(_MODULES[name]).MODEL
        if model.name != name:  # pragma: no cover - guards the table above
            raise RuntimeError(f"module {_MODULES[name]} holds model {model.name!r}, not {name!r}")
        return model

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)

    def __contains__(self, name: object) -> bool:
        return name in _MODULES


MODELS: Mapping[str, Model] = _Registry()


def get_model(name: str) -> Model:
    """The model registered as ``name``; ``KeyError`` lists the known names."""
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; allowed: {', '.join(sorted(MODELS))}") from None
