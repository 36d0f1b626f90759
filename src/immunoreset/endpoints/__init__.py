"""Trial endpoints computed from simulated result tables.

Endpoints read a result table (``patient_id``, ``time``, observables named as in
:mod:`immunoreset.observables`) and score it with the clinical instruments of
:mod:`immunoreset.clinical`, so simulated and charted patients are graded by the same code. They
never touch models or solvers. Entry points: :func:`compute_endpoints` with an
:class:`EndpointConfig`, then :func:`write_endpoints`.
"""

from immunoreset.endpoints.compute import Endpoints, compute_endpoints
from immunoreset.endpoints.config import EndpointConfig
from immunoreset.endpoints.io import read_status, read_trajectories, write_endpoints
from immunoreset.endpoints.table import ResultTableError

__all__ = [
    "EndpointConfig",
    "Endpoints",
    "ResultTableError",
    "compute_endpoints",
    "read_status",
    "read_trajectories",
    "write_endpoints",
]
