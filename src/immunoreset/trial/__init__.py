"""Running scenarios: virtual patients through the engine to result tables on disk."""

from immunoreset.trial.run import RunSummary, run_scenario

__all__ = ["RunSummary", "run_scenario"]
