"""Running a virtual trial: enrol, simulate every arm, analyse, replicate, write.

:func:`run_trial` returns a :class:`TrialResult` of plain DataFrames; with ``out_dir`` it also
writes the trial folder (see :mod:`immunoreset.trial.output`): one run directory per arm, the
ADaM-like datasets, the analysis tables and the HTML report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from immunoreset.runs.execute import set_threads
from immunoreset.trial.analysis import arm_estimates, decide, differences, km_curves
from immunoreset.trial.eligibility import screening_log
from immunoreset.trial.enrolment import enrol
from immunoreset.trial.load import Trial
from immunoreset.trial.priors import prior_overrides
from immunoreset.trial.simulate import ArmOutput, simulate_arm
from immunoreset.trial.stats import wilson

Progress = Callable[[int], None]


@dataclass
class TrialResult:
    """Everything a trial produced (tables are pandas DataFrames).

    Attributes:
        subjects: one row per screened candidate (covariates, eligibility, arm, follow-up).
        screening: the screening log (failures per criterion).
        outcomes: ``patient_id, arm, endpoint, value, time, event`` of every randomised patient.
        patients, visits: the endpoint library's tables of every randomised patient (``arm``
            added; visits also carry the outputs read at each visit).
        arms: per endpoint and arm estimates; differences: each arm against the control;
        km: Kaplan-Meier curves; decision: the decision rule's outcome (empty without one).
        replicates: one row per replicate trial (decision outcome); power: summary of them.
        bands: trajectories of the first patients of each arm, for kinetics bands.
    """

    trial: Trial
    subjects: pd.DataFrame
    screening: pd.DataFrame
    outcomes: pd.DataFrame
    patients: pd.DataFrame
    visits: pd.DataFrame
    arms: pd.DataFrame
    differences: pd.DataFrame
    km: pd.DataFrame
    decision: dict
    bands: pd.DataFrame
    notes: tuple[str, ...]
    n_failed: int
    seconds: float
    replicates: pd.DataFrame = field(default_factory=pd.DataFrame)
    power: pd.DataFrame = field(default_factory=pd.DataFrame)


def _with_arm(frames: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    parts = [f.assign(arm=code) for code, f in frames if len(f)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def simulate_trial(
    trial: Trial,
    replicate: int = 0,
    chunk_size: int | None = None,
    out_dir: Path | None = None,
    progress: Progress | None = None,
    keep_bands: bool = True,
) -> tuple[pd.DataFrame, list[ArmOutput]]:
    """Enrol replicate ``replicate`` and simulate its arms; ``(subjects, arm outputs)``."""
    design = trial.design
    subjects = enrol(trial, replicate)
    overrides = (
        prior_overrides(trial.model, design.seed, replicate)
        if design.replicates.parameter_uncertainty and replicate > 0
        else {}
    )
    outputs = [
        simulate_arm(
            trial,
            arm.code,
            subjects,
            replicate,
            overrides,
            chunk_size,
            None if out_dir is None else out_dir / "arms" / arm.code,
            progress,
            keep_bands,
        )
        for arm in design.arms
    ]
    return subjects, outputs


def _outcomes(outputs: list[ArmOutput]) -> pd.DataFrame:
    return _with_arm([(o.code, o.table("outcomes")) for o in outputs])


def replicate_trials(
    trial: Trial, chunk_size: int | None = None, progress: Progress | None = None
) -> pd.DataFrame:
    """Replicates 1..M of the trial (new patients each; prior draws if asked): decision of each."""
    rows = []
    for r in range(1, trial.design.replicates.trials + 1):
        _, outputs = simulate_trial(trial, r, chunk_size, None, progress, keep_bands=False)
        decision = decide(_outcomes(outputs), trial.design)
        rows.append({"replicate": r, **decision})
    return pd.DataFrame(rows)


def power_table(replicates: pd.DataFrame, parameter_uncertainty: bool) -> pd.DataFrame:
    """Share of replicate trials that succeed, with its Wilson interval (Monte Carlo error)."""
    if replicates.empty or "success" not in replicates:
        return pd.DataFrame()
    k, n = int(replicates["success"].sum()), len(replicates)
    est = wilson(k, n)
    what = "probability of success (prior draws)" if parameter_uncertainty else "power"
    return pd.DataFrame(
        [
            {
                "quantity": what,
                "replicates": n,
                "successes": k,
                "estimate": est.value,
                "low": est.low,
                "high": est.high,
            }
        ]
    )


def run_trial(
    trial: Trial,
    out_dir: str | Path | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    threads: int | None = None,
    chunk_size: int | None = None,
    report: bool = True,
) -> TrialResult:
    """Run ``trial`` in memory, or into the trial folder ``out_dir`` (see the module docstring).

    Results depend on the trial file and its seed only: not on ``chunk_size`` or ``threads``.
    """
    from immunoreset.trial import output

    set_threads(threads)
    started = time.perf_counter()
    work = output.begin(Path(out_dir), overwrite) if out_dir is not None else None
    try:
        subjects, outputs = simulate_trial(trial, 0, chunk_size, work, progress)
        outcomes = _outcomes(outputs)
        design = trial.design
        result = TrialResult(
            trial=trial,
            subjects=subjects,
            screening=screening_log(subjects, design.eligibility),
            outcomes=outcomes,
            patients=_with_arm([(o.code, o.table("patients")) for o in outputs]),
            visits=_with_arm([(o.code, o.table("visits")) for o in outputs]),
            arms=arm_estimates(outcomes, design),
            differences=differences(outcomes, design),
            km=km_curves(outcomes, design),
            decision=decide(outcomes, design),
            bands=_with_arm([(o.code, o.table("bands")) for o in outputs]),
            notes=tuple(sorted(set().union(*(o.notes for o in outputs)))),
            n_failed=sum(o.n_failed for o in outputs),
            seconds=0.0,
        )
        if design.replicates.trials:
            result.replicates = replicate_trials(trial, chunk_size, progress)
            result.power = power_table(result.replicates, design.replicates.parameter_uncertainty)
        result.seconds = time.perf_counter() - started
        if work is not None:
            output.finish(result, work, Path(out_dir), report)  # type: ignore[arg-type]
    except BaseException:
        if work is not None:
            output.abandon(work)
        raise
    return result
