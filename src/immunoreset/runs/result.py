"""The result of a run, as a notebook user sees it: tidy pandas tables and the steps that follow.

A :class:`Result` holds the scenario and two tables: ``trajectories`` (one row per patient and
output time, one column per output; units in ``trajectories.attrs["units"]`` and in
:attr:`Result.units`) and ``patients`` (status, solver statistics and parameters per patient).
Endpoints, writing a run directory and plotting are optional steps on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from immunoreset.runs.tables import PATIENT, STATUS_COLUMNS, TIME
from immunoreset.scenario.schema import Scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from immunoreset.endpoints import EndpointConfig, Endpoints


@dataclass
class Result:
    """Outputs of a run of ``scenario`` (see the module docstring)."""

    scenario: Scenario
    trajectories: pd.DataFrame
    patients: pd.DataFrame
    parameter_names: tuple[str, ...]
    seconds: float = 0.0
    run_dir: Path | None = None

    @property
    def units(self) -> dict[str, str]:
        """Unit of every trajectory column."""
        return dict(self.trajectories.attrs.get("units", {}))

    @property
    def outputs(self) -> list[str]:
        return [c for c in self.trajectories.columns if c not in (PATIENT, TIME)]

    @property
    def status(self) -> pd.DataFrame:
        """``patient_id``, ``status`` (0 = ok), ``status_message`` and solver statistics."""
        return self.patients[[PATIENT, *STATUS_COLUMNS]]

    @property
    def parameters(self) -> pd.DataFrame:
        """``patient_id`` and every model parameter of each patient."""
        return self.patients[[PATIENT, *self.parameter_names]]

    @property
    def n_failed(self) -> int:
        return int((self.patients["status"] != 0).sum())

    def tidy(self) -> pd.DataFrame:
        """Trajectories in long form: ``patient_id, time, output, value, unit``."""
        long = self.trajectories.melt(
            id_vars=[PATIENT, TIME], var_name="output", value_name="value"
        )
        long["unit"] = long["output"].map(self.units)
        return long

    def endpoints(self, config: EndpointConfig | None = None) -> Endpoints:
        """The endpoints ``immunoreset endpoints`` computes; failed patients are not evaluable.

        Without ``config``, the scenario's ``endpoints`` settings (or the defaults) apply, as in a
        run directory that keeps endpoints."""
        from immunoreset.endpoints import compute_endpoints

        config = config or self.scenario.endpoint_config()
        return compute_endpoints(self.trajectories, config, status=self.status)

    def write(self, out_dir: str | Path, overwrite: bool = False, plots: bool = True) -> Path:
        """Write this result as a run directory (see :mod:`immunoreset.runs.directory`)."""
        from immunoreset.runs.execute import write_result

        return write_result(self, out_dir, overwrite=overwrite, plots=plots)

    def plot(self, output: str) -> Figure:
        """Median and 5-95 % band of ``output`` over time, with an early-days panel."""
        from immunoreset.report.plots import figure_for

        return figure_for(self.trajectories, output, self.status)
