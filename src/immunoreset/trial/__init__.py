"""Virtual trials: covariate populations, eligibility, arms, statistics, datasets and a report.

A trial file (:mod:`.design`) names a model scenario shared by the arms, the arms' own scenario
keys, the population (a bundled covariate set drawn from published baseline tables, or a CSV of
digital twins), eligibility criteria, allocation, sample size, dropout, follow-up, visits,
endpoints from the endpoint library and a decision rule. :func:`load_trial` validates it;
:func:`run_trial` enrols, simulates each arm chunk by chunk and analyses, in memory or into a
trial folder (run directories per arm, ADaM-like datasets, analysis tables, HTML report).

Every random draw (covariates, allocation, dropout, parameters, prior draws) comes from a stream
keyed by the patient (:mod:`.streams`), so results do not depend on chunking or threads.

Example::

    import immunoreset.trial as it
    trial = it.load_trial("examples/trials/park2025_two_doses.yaml")
    result = it.run_trial(trial)          # in memory
    result.arms                           # per-arm estimates with intervals
"""

from immunoreset.trial.analysis import arm_estimates, decide, differences, km_curves
from immunoreset.trial.covariates import covariate_set, draw_covariates
from immunoreset.trial.enrolment import enrol
from immunoreset.trial.load import Trial, TrialError, load_trial, parse_trial, trial_from_text
from immunoreset.trial.output import TrialFolderError
from immunoreset.trial.run import TrialResult, run_trial
from immunoreset.trial.stats import (
    kaplan_meier,
    logrank,
    median_interval,
    median_time,
    newcombe,
    wilson,
)

__all__ = [
    "Trial",
    "TrialError",
    "TrialFolderError",
    "TrialResult",
    "arm_estimates",
    "covariate_set",
    "decide",
    "differences",
    "draw_covariates",
    "enrol",
    "kaplan_meier",
    "km_curves",
    "load_trial",
    "logrank",
    "median_interval",
    "median_time",
    "newcombe",
    "parse_trial",
    "run_trial",
    "trial_from_text",
    "wilson",
]
