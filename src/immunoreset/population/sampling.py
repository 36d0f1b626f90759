"""Virtual patients: per-patient parameter vectors drawn from a model's between-patient variability.

Each parameter with ``omega2 > 0`` is log-normally distributed around its typical value:
``value_i = typical * exp(eta_i)`` with ``eta_i ~ N(0, omega2)``, the parameterisation of the
nonlinear mixed-effects fits the models come from (Monolix/NONMEM ``exp(eta)``). A share that must
stay below 1 (``omega2_scale`` ``logit``) is logit-normal instead:
``logit(value_i) = logit(typical) + eta_i``, the usual bounded form for fractions in the same
software; a log-normal share can exceed 1, which for a memory share of B cells made the derived
pre-treatment pools negative and the patient's B cells grow without bound.

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


def logit_parameters(model: Model) -> np.ndarray:
    """Mask of the parameters whose variability is on the logit scale."""
    return np.array([p.omega2_scale == "logit" for p in model.parameters], dtype=bool)


def logit(share: np.ndarray) -> np.ndarray:
    """``log(share / (1 - share))``, the scale of a logit-normal share's random effect."""
    return np.log(share) - np.log1p(-share)


def individual_values(typical: np.ndarray, eta: np.ndarray, logit_scale: np.ndarray) -> np.ndarray:
    """Patients' values from typical values and random effects ``eta`` (same shape, broadcast):
    ``typical * exp(eta)``, or ``expit(logit(typical) + eta)`` where ``logit_scale`` is set."""
    log_normal = typical * np.exp(eta)
    with np.errstate(divide="ignore", invalid="ignore"):
        logit_normal = 1.0 / (1.0 + np.exp(-(logit(typical) + eta)))
    return np.where(logit_scale, logit_normal, log_normal)


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
    idx = list(variable_parameters(model))
    sd = np.sqrt(np.array([model.parameters[i].omega2 for i in idx]))
    logit_scale = logit_parameters(model)[idx]
    # Each patient's draws come from its own stream (seed, id); the values are then computed for
    # all patients at once (element by element, so the same numbers as row by row, in a third of
    # the time).
    eta = np.empty((len(ids), len(idx)))
    for row, pid in enumerate(ids):
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(pid)]))
        eta[row] = sd * rng.standard_normal(len(idx))
    params[:, idx] = individual_values(typical[idx], eta, logit_scale)
    return params
