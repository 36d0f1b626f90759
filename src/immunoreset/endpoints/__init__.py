"""Trial endpoints computed from simulated result tables.

Endpoints read a result table (``patient_id``, ``time``, observables named as in
:mod:`immunoreset.observables`) and score it with the clinical instruments of
:mod:`immunoreset.clinical`, so simulated and charted patients are graded by the same code. They
never touch models or solvers. Entry points: :func:`compute_endpoints` with an
:class:`EndpointConfig`, then :func:`write_endpoints`.
"""

from __future__ import annotations

import importlib
from typing import Any

_API = {
    "Endpoints": "immunoreset.endpoints.compute",
    "compute_endpoints": "immunoreset.endpoints.compute",
    "EndpointConfig": "immunoreset.endpoints.config",
    "read_status": "immunoreset.endpoints.io",
    "read_trajectories": "immunoreset.endpoints.io",
    "write_endpoints": "immunoreset.endpoints.io",
    "ResultTableError": "immunoreset.endpoints.table",
}


def __getattr__(name: str) -> Any:
    """Names are imported on first use: reading the settings (``config``) needs no table library."""
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'immunoreset.endpoints' has no attribute {name!r}")


__all__ = sorted(_API)
