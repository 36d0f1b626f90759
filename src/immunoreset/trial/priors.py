"""Parameter uncertainty: typical values drawn from the parameters' stated prior ranges.

A model parameter may state a plausible range (``prior_low``, ``prior_high``; required for
assumptions). For a replicate trial with parameter uncertainty, every such parameter takes one
typical value for the whole replicate, drawn log-uniformly over the range when it is positive
(ranges of rates and counts are multiplicative) and uniformly otherwise, from the replicate's own
stream. Between-patient variability then acts around these typical values, so the spread of results
across replicates separates what we do not know about the model (prior draws) from the chance of
which patients are enrolled (sampling noise).
"""

from __future__ import annotations

import numpy as np

from immunoreset.model.core import Model
from immunoreset.trial.streams import Purpose, stream


def prior_overrides(model: Model, seed: int, replicate: int) -> dict[str, float]:
    """Typical values of every parameter with a prior range, drawn for ``replicate``."""
    rng = stream(seed, replicate, Purpose.PRIOR)
    out: dict[str, float] = {}
    for p in model.parameters:
        if not p.has_prior:
            continue
        u = rng.random()
        if p.prior_low > 0:
            out[p.name] = float(
                np.exp(np.log(p.prior_low) + u * np.log(p.prior_high / p.prior_low))
            )
        else:
            out[p.name] = float(p.prior_low + u * (p.prior_high - p.prior_low))
    return out
