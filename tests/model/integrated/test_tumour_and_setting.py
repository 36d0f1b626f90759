"""Integrated model: how malignant cells die (nodal: CAR-limited, Kimmel 2021; marrow: per target,
Park 2025) and the disease setting's multiplier on antigen-driven CAR expansion. Checked on the
right-hand side at a fixed state, where each law is exact."""

from __future__ import annotations

import numpy as np
import pytest

from immunoreset.model.models.integrated import MODEL, binding, body, car, tumour

NAMES = MODEL.parameter_names


def _state(p: np.ndarray, slot_a_cells: float) -> np.ndarray:
    """The pre-treatment state of ``p`` with ``slot_a_cells`` central-memory CAR cells per uL of
    slot a in every compartment."""
    y = MODEL.initial(p)
    for c in range(car.N_COMP):
        y[car.idx(0, c, car.CM)] = slot_a_cells
    return y


def _dydt(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    dydt = np.zeros_like(y)
    MODEL.rhs(0.0, y, p, np.zeros(0), dydt)
    return dydt


def _lymphoma(**product: float) -> np.ndarray:
    p = MODEL.typical_parameters({"tumour_cells": 4.74e10, "tumour_marrow_share": 0.05})
    for name, value in product.items():
        p[NAMES.index(name)] = value
    return p


def _active_body_cells(p: np.ndarray, y: np.ndarray) -> float:
    volumes = body.volumes(p)
    return sum(car.active(y, 0, c) * volumes[c] * 1e6 for c in range(car.N_COMP))


@pytest.mark.parametrize("per_ul", [0.5, 20.0, 400.0])
def test_nodal_tumour_dies_at_kimmels_car_limited_rate(per_ul: float) -> None:
    """Kimmel 2021 Table 1: gamma_B 1.15/day, k_B 2.024e9 CAR cells; the nodal tumour's relative
    rate of change is its growth less gamma_B C / (k_B + C), to rounding."""
    p = _lymphoma()
    y = _state(p, per_ul)
    c = _active_body_cells(p, y)
    expected = p[NAMES.index("tumour_growth")] - 1.15 * c / (2.024e9 + c)
    rate = _dydt(p, y)[tumour.TUM_LY] / y[tumour.TUM_LY]
    assert rate == pytest.approx(expected, rel=1e-12)


def test_nodal_killing_needs_a_product_that_recognises_the_tumour() -> None:
    """A BCMA-only product does not kill CD19+ lymphoma cells, however many there are; a CD19
    product does."""
    p = _lymphoma(a_rec_cd19=0.0, a_rec_bcma=15000.0)
    y = _state(p, 400.0)
    growth = p[NAMES.index("tumour_growth")]
    assert _dydt(p, y)[tumour.TUM_LY] / y[tumour.TUM_LY] == pytest.approx(growth, rel=1e-12)
    q = _lymphoma()
    assert _dydt(q, _state(q, 400.0))[tumour.TUM_LY] < 0.0


def test_marrow_tumour_dies_like_any_target() -> None:
    """Marrow disease (leukaemia, myeloma) dies at the per-target rate set by the antigens engaged
    on it (Park 2025), whatever the number of CAR cells elsewhere in the body."""
    p = _lymphoma()
    y = _state(p, 50.0)
    engaged = np.empty((len(car.SLOTS), car.N_COMP))
    theta = np.empty((len(car.SLOTS), car.N_COMP, 3))
    available = np.empty((len(car.SLOTS), car.N_COMP))
    binding.engage(y, p, engaged, theta, available)
    kill = car.kill_rate(p, theta, body.MARROW, p[tumour.CD19], p[tumour.CD20], p[tumour.BCMA])
    assert kill > 0.1
    rate = _dydt(p, y)[tumour.TUM_BM] / y[tumour.TUM_BM]
    assert rate == pytest.approx(p[NAMES.index("tumour_growth")] - kill, rel=1e-12)


def test_the_setting_multiplier_scales_antigen_driven_expansion_alone() -> None:
    """Every CAR derivative is linear in kexp_setting through the expansion terms only: the change
    from 0 to 1 is twice the change from 0.5 to 1, and at 0 the derivatives are those without
    antigen-driven expansion (kexp_max_cd8 0)."""
    base = MODEL.typical_parameters()
    y = _state(base, 30.0)
    slot = slice(car.CAR0, car.CAR0 + car.SLOT_STATES)

    def derivatives(**values: float) -> np.ndarray:
        p = base.copy()
        for name, value in values.items():
            p[NAMES.index(name)] = value
        return _dydt(p, y)[slot]

    full, half, none = (derivatives(kexp_setting=f) for f in (1.0, 0.5, 0.0))
    assert np.any(np.abs(full - none) > 1.0)
    # exact in real arithmetic; 1e-9 leaves room for the rounding of derivatives of order 1e2-1e3
    np.testing.assert_allclose(full - none, 2.0 * (full - half), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(none, derivatives(kexp_max_cd8=0.0), rtol=1e-12, atol=1e-12)


def test_the_reference_setting_is_the_default() -> None:
    p = MODEL.parameter("kexp_setting")
    assert p.value == 1.0 and p.prior_high == 1.0
