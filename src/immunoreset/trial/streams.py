"""Random streams keyed by the patient, so that no draw depends on chunking, workers or order.

Every random quantity of a virtual trial (covariates, allocation, dropout, model parameters, prior
draws) comes from a :class:`numpy.random.Generator` seeded by a :class:`numpy.random.SeedSequence`
of ``(trial seed, replicate, purpose, key...)``. Two different purposes never share a stream, so
adding a covariate does not change who drops out, and a patient's draws are the same whether the
population is simulated in one chunk or a thousand.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Purpose(IntEnum):
    """What a stream is used for (the integer enters the seed, so never renumber)."""

    COVARIATES = 1
    ALLOCATION = 2
    DROPOUT = 3
    PARAMETERS = 4
    PRIOR = 5


def stream(seed: int, replicate: int, purpose: Purpose, *key: int) -> np.random.Generator:
    """The generator of ``purpose`` for ``key`` (a patient id, a stratum and block, ...)."""
    entropy = [int(seed), int(replicate), int(purpose), *(int(k) for k in key)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def derived_seed(seed: int, replicate: int, purpose: Purpose) -> int:
    """A 63-bit seed for code that keys its own per-patient streams by ``(seed, patient)``
    (the engine's parameter sampler, :func:`immunoreset.population.sampling.sample_parameters`)."""
    state = np.random.SeedSequence([int(seed), int(replicate), int(purpose)]).generate_state(2)
    return int((int(state[0]) << 31) ^ int(state[1])) & (2**63 - 1)
