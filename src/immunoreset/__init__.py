"""immunoreset: in-silico trials of CAR-based cell therapy in systemic autoimmune rheumatic diseases.

The Python API, in a few lines (see ``docs/api.md``)::

    import immunoreset as ir

    scenario = ir.load_scenario("examples/park2025_sle_typical.yaml")
    result = ir.run(scenario)            # in memory; nothing is written
    result.trajectories                  # patient_id, time, one column per output (units attached)
    result.endpoints().patient           # the endpoints `immunoreset endpoints` computes
    result.write("runs/typical")         # optional: a run directory, as `immunoreset simulate`

Names are imported on first use, so ``import immunoreset`` is fast and a run needs no plotting
library until a plot is asked for.
"""

from __future__ import annotations

from immunoreset.lazy import lazy_attributes

__version__ = "0.1.0"

_API = {
    "load_scenario": "immunoreset.scenario.load",
    "parse_scenario": "immunoreset.scenario.load",
    "scenario_from_text": "immunoreset.scenario.load",
    "ScenarioError": "immunoreset.scenario.load",
    "Scenario": "immunoreset.scenario.schema",
    "run": "immunoreset.runs.execute",
    "run_to_directory": "immunoreset.runs.execute",
    "read_run": "immunoreset.runs.execute",
    "read_endpoints": "immunoreset.endpoints.store",
    "Result": "immunoreset.runs.result",
    "RunDirectoryError": "immunoreset.runs.directory",
    "compute_endpoints": "immunoreset.endpoints",
    "EndpointConfig": "immunoreset.endpoints",
    "load_trial": "immunoreset.trial.load",
    "run_trial": "immunoreset.trial.run",
    "export_sbml": "immunoreset.export.sbml",
    "export_scenario_sbml": "immunoreset.export.sbml",
    "run_calibration": "immunoreset.calibrate.run",
    "write_calibration": "immunoreset.calibrate.run",
    "get_model": "immunoreset.model.registry",
    "MODELS": "immunoreset.model.registry",
    "OBSERVABLES": "immunoreset.observables",
}

__all__ = ["__version__", *sorted(_API)]


__getattr__ = lazy_attributes(__name__, _API)


def __dir__() -> list[str]:
    return __all__
