"""The Jacobian sparsity pattern holds every dependency of the traced equations, not only those
random probes happen to see (:func:`immunoreset.simulate.sparsity.jacobian_pattern`)."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from immunoreset.model.registry import get_model
from immunoreset.simulate import sparsity
from immunoreset.simulate.sparsity import jacobian_pattern

FAR = 1e12
"""A threshold far above every probed value: states that start at zero are probed around 1e6
absolute-tolerance scales, spread over three decades either way (at most 1e9 here)."""


@numba.njit
def _threshold_rhs(t, y, p, mode, dydt):
    dydt[0] = -p[0] * y[0] + max(y[1] - FAR, 0.0)
    dydt[1] = -p[0] * y[1]


@numba.njit
def _branching_rhs(t, y, p, mode, dydt):
    if y[0] > 1.0:
        dydt[0] = -y[0] * y[1]
    else:
        dydt[0] = 0.0
    dydt[1] = -y[1]


def test_a_dependency_behind_a_threshold_no_probe_crosses_is_in_the_pattern(
    monkeypatch, two_state_model
) -> None:
    model = two_state_model("threshold", _threshold_rhs)
    p = model.typical_parameters()
    assert jacobian_pattern(model, p).tolist() == [[True, True], [False, True]]
    # Probes alone miss it, which is why the traced equations are part of the pattern.
    monkeypatch.setattr(sparsity, "_traced_or_empty", lambda m, q: np.zeros((2, 2), dtype=bool))
    assert jacobian_pattern(model, p).tolist() == [[True, False], [False, True]]


def test_a_model_that_cannot_be_traced_is_probed(two_state_model) -> None:
    """Branching on a state cannot be traced; the probes still find ``da/dt``'s dependence on b
    (the branch ``a > 1`` is visited at most probes)."""
    model = two_state_model("branching_pattern", _branching_rhs)
    assert jacobian_pattern(model, model.typical_parameters()).tolist() == [
        [True, True],
        [False, True],
    ]


@pytest.mark.parametrize(
    ("rate", "state"),
    [
        ("car_a_exh_blood", "car_a_stim"),  # exhaustion follows the stimulation history
        ("car_a_scm_marrow", "b_pre3_bm"),  # CD19+ precursors drive marrow CAR expansion
        ("car_a_scm_blood", "b_mem_bl"),  # memory B cells are antigen in blood
        ("car_a_cm_blood", "steroid_clock"),  # steroids given for toxicity act on CAR cells
    ],
)
def test_the_integrated_models_pattern_holds_dependencies_probes_missed(rate, state) -> None:
    model = get_model("integrated")
    names = [s.name for s in model.states]
    pattern = jacobian_pattern(model, model.typical_parameters())
    assert pattern[names.index(rate), names.index(state)]
