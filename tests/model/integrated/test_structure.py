"""Integrated model: structure, provenance, steady state of an untreated patient, binding."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from immunoreset.model.core import Parameter
from immunoreset.model.models.integrated import MODEL, binding
from immunoreset.model.registry import MODELS
from immunoreset.simulate.engine import SolverSettings, simulate
from immunoreset.therapy.regimen import DosingEvents

NO_EVENTS = DosingEvents(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros((1, 0)))


def test_registered_with_units_and_sources() -> None:
    assert MODELS["integrated"] is MODEL
    assert all(s.unit and s.description for s in MODEL.states)
    for p in MODEL.parameters:
        assert p.unit and p.meaning and p.source, p.name
        if p.confidence == "assumption":
            assert p.has_prior and p.prior_low <= p.value <= p.prior_high, p.name


def test_an_assumption_without_prior_range_is_rejected() -> None:
    with pytest.raises(ValueError, match="prior range"):
        Parameter("x", 1.0, "1/day", "m", "no source", "assumption")
    with pytest.raises(ValueError, match="contain the value"):
        Parameter("x", 1.0, "1/day", "m", "s", "H", prior_low=2.0, prior_high=3.0)


def test_pre_treatment_state_is_a_steady_state() -> None:
    p = MODEL.typical_parameters()
    y = MODEL.initial(p)
    dydt = np.zeros_like(y)
    MODEL.rhs(0.0, y, p, np.zeros(0), dydt)
    scale = np.maximum(np.abs(y), 1.0)
    assert np.max(np.abs(dydt) / scale) < 1e-12


@pytest.fixture(scope="module")
def untreated() -> np.ndarray:
    p = MODEL.typical_parameters()
    res = simulate(MODEL, p[None, :], NO_EVENTS, np.arange(0.0, 731.0, 10.0), SolverSettings())
    assert res.status[0] == 0, res.status_message(0)
    return res.values[0]


def test_untreated_patient_stays_at_baseline(untreated: np.ndarray) -> None:
    # Every observable within 1 % of its day-0 value over two years (issue tolerance).
    base = untreated[0]
    for k, name in enumerate(MODEL.observables):
        ref = max(abs(base[k]), 1e-9)
        assert np.max(np.abs(untreated[:, k] - base[k])) <= 0.01 * ref, name


@pytest.mark.parametrize(
    ("r", "a", "kd"),
    [(1.5e4, 2.0e6, 1.95e8), (1.5e9, 2.0e6, 1.95e8), (1e7, 4.8e8, 1.95e8), (3e10, 3e10, 2e7)],
)
def test_quasi_steady_binding_equals_the_end_of_explicit_kinetics(
    r: float, a: float, kd: float
) -> None:
    """The equilibrium used in the rhs is the limit of dC/dt = kon (R - C)(A - C) - koff C."""
    koff = 6.81e-5 * 86400.0  # FMC63, per day
    kon = koff / kd

    def rate(_t: float, c: np.ndarray) -> np.ndarray:
        return kon * (r - c) * (a - c) - koff * c

    sol = solve_ivp(rate, (0.0, 20.0), [0.0], method="LSODA", rtol=1e-10, atol=1e-12 * min(r, a))
    per_receptor, bound = binding.fractions(r, a, kd)
    assert per_receptor * r == pytest.approx(sol.y[0, -1], rel=1e-6)
    assert bound * a == pytest.approx(sol.y[0, -1], rel=1e-6)
    # Binding relaxes at least at koff (5.9/day), faster than any cell rate of the model except
    # effector death, which is why it can be taken as quasi-steady.
    assert koff > 5.0 and math.isfinite(per_receptor)


def test_car_trafficking_conserves_cells() -> None:
    """With growth, death, differentiation and exhaustion off, the flows between blood, lymphoid
    tissue and marrow only move cells: the body's CAR cells (per uL x volume) do not change."""
    from immunoreset.model.models.integrated import body, car

    p = MODEL.typical_parameters()
    names = MODEL.parameter_names
    for name in ("kexp_max_cd8", "rm1", "rm2", "rm3", "d_scm", "d_mem", "d_eff", "k_exh", "d_exh",
                 "rho_c"):  # fmt: skip
        p[names.index(name)] = 0.0
    rng = np.random.default_rng(1)
    y = MODEL.initial(p)
    for s in range(len(car.SLOTS)):
        for c in range(car.N_COMP):
            for k in range(car.N_PHEN):
                y[car.idx(s, c, k)] = rng.uniform(1.0, 100.0)
    dydt = np.zeros_like(y)
    MODEL.rhs(0.0, y, p, np.zeros(0), dydt)
    volumes = body.volumes(p)
    total = sum(
        dydt[car.idx(s, c, k)] * volumes[c]
        for s in range(len(car.SLOTS))
        for c in range(car.N_COMP)
        for k in range(car.N_PHEN)
    )
    scale = sum(y[car.idx(s, c, 0)] * volumes[c] for s in range(2) for c in range(car.N_COMP))
    assert abs(total) <= 1e-12 * scale


def test_shares_at_the_extremes_of_their_variability_keep_every_pool_positive() -> None:
    """A share drawn log-normally could exceed 1 (a memory share of 1.007 made naive B cells
    negative and the B lineage grow without bound, 1 patient in about 20,000). On the logit scale
    the shares at 6 SD of their variability, alone and together, still give positive
    pre-treatment pools and positive derived rates. (Not every combination: a plasmablast share
    far above the activated autoreactive share asks more growth of that pool than ``r_ar`` can
    give, see docs/model.md, open issues.)"""
    from immunoreset.model.models.integrated import blineage
    from immunoreset.population.sampling import individual_values

    typical = MODEL.typical_parameters()
    shares = ("f_mem", "f_ara0", "f_pb")
    index = [MODEL.parameter_names.index(n) for n in shares]
    for p in index:
        assert MODEL.parameters[p].omega2_scale == "logit"
    sd = np.sqrt([MODEL.parameters[j].omega2 for j in index])
    for signs in ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, -1), (1, 1, 1),
                  (-1, -1, -1), (1, 1, -1)):  # fmt: skip
        p = typical.copy()
        eta = 6.0 * sd * np.array(signs)
        p[index] = individual_values(typical[index], eta, np.ones(3, dtype=bool))
        pools = np.array(blineage.baseline(p))
        assert np.all(pools > 0), (signs, pools)


def test_a_logit_share_must_lie_between_0_and_1() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        Parameter("x", 1.2, "1", "m", "s", "H", omega2=0.1, omega2_scale="logit")
    with pytest.raises(ValueError, match="omega2_scale 'probit'"):
        Parameter("x", 0.2, "1", "m", "s", "H", omega2=0.1, omega2_scale="probit")
