"""Virtual patients: per-patient parameter vectors drawn from a model's between-patient variability.

Each parameter with ``omega2 > 0`` is log-normally distributed around its typical value:
``value_i = typical * exp(eta_i)`` with ``eta_i ~ N(0, omega2)``, the parameterisation of the
nonlinear mixed-effects fits the models come from (Monolix/NONMEM ``exp(eta)``).

Reproducibility: patient ``i`` of a population with seed ``s`` draws from its own random stream,
seeded by the pair ``(s, i)`` through :class:`numpy.random.SeedSequence`. A patient's parameters
therefore depend only on the seed and its index, never on chunk size, worker count or order.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from immunoreset.model.core import Model


def variable_parameters(model: Model) -> tuple[int, ...]:
    """Indices of the parameters that carry between-patient variability."""
    return tuple(i for i, p in enumerate(model.parameters) if p.omega2 > 0)


def sample_parameters(
    model: Model,
    patient_ids: np.ndarray,
    seed: int,
    variability: bool = True,
    overrides: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Parameter matrix ``[len(patient_ids), n_parameters]`` for the given patients.

    ``overrides`` replace typical values (by name) before variability is applied.
    """
    typical = model.typical_parameters(overrides)
    ids = np.asarray(patient_ids, dtype=np.int64)
    params = np.tile(typical, (len(ids), 1))
    if not variability:
        return params
    idx = variable_parameters(model)
    sd = np.sqrt(np.array([model.parameters[i].omega2 for i in idx]))
    for row, pid in enumerate(ids):
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(pid)]))
        params[row, list(idx)] = typical[list(idx)] * np.exp(sd * rng.standard_normal(len(idx)))
    return params
