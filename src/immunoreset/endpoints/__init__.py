"""Trial endpoints computed from simulated result tables.

Endpoints read a result table (``patient_id``, ``time``, observables named as in
:mod:`immunoreset.observables`) and score it with the clinical instruments of
:mod:`immunoreset.clinical`, so simulated and charted patients are graded by the same code. They
never touch models or solvers. Entry points: :func:`compute_endpoints` with an
:class:`EndpointConfig`, then :func:`write_endpoints`.
"""

from __future__ import annotations

from immunoreset.lazy import lazy_attributes

_API = {
    "Endpoints": "immunoreset.endpoints.compute",
    "compute_endpoints": "immunoreset.endpoints.compute",
    "EndpointConfig": "immunoreset.endpoints.config",
    "read_status": "immunoreset.endpoints.io",
    "read_trajectories": "immunoreset.endpoints.io",
    "read_endpoints": "immunoreset.endpoints.store",
    "write_endpoints": "immunoreset.endpoints.io",
    "ResultTableError": "immunoreset.endpoints.table",
}


__getattr__ = lazy_attributes(__name__, _API)


__all__ = sorted(_API)
