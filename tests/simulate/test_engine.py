"""The compiled engine: agreement with an independent solver, reproducibility, failure handling."""

from __future__ import annotations

import numpy as np
import pytest

from immunoreset.model.models import park2025 as pk
from immunoreset.population.sampling import sample_parameters
from immunoreset.simulate.engine import SolverSettings, simulate
from immunoreset.simulate.reference import solve_reference
from immunoreset.simulate.status import NOT_FINITE
from immunoreset.therapy.regimen import (
    Infusion,
    LymphodepletionDose,
    ProductDose,
    Regimen,
    dosing_events,
)

MODEL = pk.MODEL
REGIMEN = Regimen((Infusion(0.0),), (LymphodepletionDose(0.0, 1935.0),))
T_OUT = np.arange(0.0, 731.0)


def _events(params: np.ndarray):
    return dosing_events(MODEL, ProductDose(1e6, "cells/kg"), REGIMEN, params[:, pk.WEIGHT])


def _population(n: int, seed: int = 1) -> np.ndarray:
    return sample_parameters(MODEL, np.arange(n), seed, variability=True)


def _relative_difference(fast: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|fast - ref| relative to |ref|, with a floor of 1e-6 of the output's largest value over
    the run: below that, an output (e.g. B cells after eradication, 1e-20 cells/uL) carries no
    information and both solvers only resolve it to their absolute tolerance."""
    floor = 1e-6 * np.abs(ref).max(axis=0, keepdims=True)
    return np.abs(fast - ref) / np.maximum(np.abs(ref), floor)


@pytest.mark.slow
def test_engine_agrees_with_independent_radau_reference() -> None:
    """Every observable of Park 2025 over 730 days, typical patient and 5 sampled patients,
    agrees within 1e-4 relative with SciPy's Radau (an implicit Runge-Kutta method sharing
    nothing with the engine's Rosenbrock scheme but the equations).

    Both run at rtol = atol = 1e-10. Tight tolerances are needed because the naive B-cell
    reconstitution switch is ill-conditioned: blood CAR-T cells decay by only ~0.2 %/day when they
    cross the threshold, so a relative error e in CAR-T moves the switch by e/0.002 days, and
    just after the switch the reconstituted B-cell count is proportional to the time since it.
    At the default tolerance (1e-6) the two solvers differ there by up to a few hundredths of a
    cell/uL (a few percent of a tiny count); everywhere else they agree within 1e-4.
    """
    params = np.vstack([MODEL.typical_parameters(), _population(5, seed=11)])
    events = _events(params)
    tight = SolverSettings(rtol=1e-10, atol=1e-10)
    fast = simulate(MODEL, params, events, T_OUT, tight)
    assert np.all(fast.status == 0)
    for i in range(len(params)):
        ref = solve_reference(MODEL, params[i], 0.0, events.for_patient(i), T_OUT, 1e-10, 1e-10,
                              method="Radau")  # fmt: skip
        diff = _relative_difference(fast.values[i], ref)
        worst = np.unravel_index(np.argmax(diff), diff.shape)
        assert diff.max() <= 1e-4, (i, MODEL.observables[worst[1]], T_OUT[worst[0]], diff.max())


def test_engine_agrees_with_lsoda_reference() -> None:
    """The benchmark's baseline path (SciPy LSODA, one patient at a time) agrees with the engine
    within 1e-4 on every observable over 730 days for the typical patient, both at 1e-8."""
    p = MODEL.typical_parameters()[None, :]
    events = _events(p)
    fast = simulate(MODEL, p, events, T_OUT, SolverSettings(rtol=1e-8, atol=1e-8))
    ref = solve_reference(MODEL, p[0], 0.0, events.for_patient(0), T_OUT, 1e-8, 1e-8)
    assert _relative_difference(fast.values[0], ref).max() <= 1e-4


def test_results_do_not_depend_on_batch_composition() -> None:
    params = _population(12)
    events = _events(params)
    t_out = T_OUT[:200]
    whole = simulate(MODEL, params, events, t_out)
    for chunk in (np.arange(0, 5), np.arange(5, 12), np.array([7])):
        part_events = _events(params[chunk])
        part = simulate(MODEL, params[chunk], part_events, t_out, patient_ids=chunk)
        np.testing.assert_array_equal(part.values, whole.values[chunk])
        np.testing.assert_array_equal(part.stats, whole.stats[chunk])


def test_failed_patient_gets_status_and_the_batch_completes() -> None:
    params = _population(4)
    params[2, MODEL.parameter_names.index("kexp_max_cd8")] = np.nan
    res = simulate(MODEL, params, _events(params), T_OUT[:60])
    assert list(res.status) == [0, 0, NOT_FINITE, 0]
    assert "NaN or infinite" in res.status_message(2)
    assert np.all(np.isfinite(res.values[[0, 1, 3]]))


def test_max_steps_is_reported_not_raised() -> None:
    params = _population(2)
    res = simulate(MODEL, params, _events(params), T_OUT, SolverSettings(max_steps=50))
    assert np.all(res.status == 1)
    assert "maximum number of steps" in res.status_message(0)
    assert np.isnan(res.values[0, -1]).all()  # nothing invented past the failure


def test_outputs_before_the_start_are_nan_and_the_rest_unchanged() -> None:
    """Outputs asked for before the integration starts are not simulated; the others are the
    outputs of the same run asked for from the start only (each output is written once)."""
    params = _population(2)
    t_out = np.arange(-3.0, 30.0)
    early = simulate(MODEL, params, _events(params), t_out, t_start=0.0)
    late = simulate(MODEL, params, _events(params), t_out[3:], t_start=0.0)
    assert np.isnan(early.values[:, :3]).all()
    np.testing.assert_array_equal(early.values[:, 3:], late.values)


def test_output_times_must_increase() -> None:
    p = MODEL.typical_parameters()[None, :]
    with pytest.raises(ValueError, match="strictly increasing"):
        simulate(MODEL, p, _events(p), np.array([0.0, 2.0, 1.0]))


def test_solver_settings_validate() -> None:
    with pytest.raises(ValueError, match=r"solver\.rtol"):
        SolverSettings(rtol=0.0)
    with pytest.raises(ValueError, match=r"solver\.method"):
        SolverSettings(method="euler")
    with pytest.raises(ValueError, match=r"solver\.rhs: got 'numba'; allowed: 'traced', 'model'"):
        SolverSettings(rhs="numba")  # type: ignore[arg-type]


def test_regimen_events_are_applied_by_the_engine() -> None:
    """A second infusion on day 28 adds exactly its cells to blood at that time; lymphodepletion
    split over days -5 to -3 starts the integration on day -5 and depletes host T cells by day 0."""
    p = MODEL.typical_parameters()[None, :]
    t_out = np.array([-5.0, 0.0, 27.999, 28.0, 60.0])
    split_ld = Regimen(
        (Infusion(0.0), Infusion(28.0, fraction=0.5)),
        tuple(LymphodepletionDose(day, 645.0) for day in (-5.0, -4.0, -3.0)),
    )
    single = Regimen((Infusion(0.0),), split_ld.lymphodepletion)
    two = simulate(MODEL, p, dosing_events(MODEL, ProductDose(1e6, "cells/kg"), split_ld,
                                           p[:, pk.WEIGHT]), t_out)  # fmt: skip
    one = simulate(MODEL, p, dosing_events(MODEL, ProductDose(1e6, "cells/kg"), single,
                                           p[:, pk.WEIGHT]), t_out)  # fmt: skip
    car = MODEL.observables.index("car_t_blood")
    cd4 = MODEL.observables.index("cd4_t_blood")
    # half a dose of 1e6 cells/kg x 70 kg, 98.9 % CD4+CD8+ x 100.06 % phenotypes, in 5 L of blood
    added_per_ul = 0.5 * 1e6 * 70 * (75.9 + 23.0) / 100 * 1.0006 / 5e6
    jump_two = two.values[0, 3, car] - two.values[0, 2, car]
    jump_one = one.values[0, 3, car] - one.values[0, 2, car]
    # rel=1e-3: both jumps also contain 0.001 day of the runs' own dynamics before the dose, which
    # differ slightly between the two regimens; the dose itself is exact.
    assert jump_two - jump_one == pytest.approx(added_per_ul, rel=1e-3)
    assert two.values[0, 0, cd4] == pytest.approx(210.18 / 1.02)  # before any chemotherapy acts
    assert two.values[0, 1, cd4] < 0.6 * 210.18 / 1.02  # host CD4+ T cells falling by day 0


def test_multi_event_regimen_agrees_with_reference() -> None:
    """Split lymphodepletion and two infusions: engine and LSODA agree within 1e-4 on every
    observable, including outputs at the dosing times (both report the post-dose state)."""
    p = MODEL.typical_parameters()[None, :]
    regimen = Regimen(
        (Infusion(0.0), Infusion(14.0, fraction=0.5)),
        tuple(LymphodepletionDose(day, 645.0) for day in (-5.0, -4.0, -3.0)),
    )
    events = dosing_events(MODEL, ProductDose(1e6, "cells/kg"), regimen, p[:, pk.WEIGHT])
    t_out = np.arange(-5.0, 61.0, 0.5)
    fast = simulate(MODEL, p, events, t_out, SolverSettings(rtol=1e-8, atol=1e-8))
    ref = solve_reference(MODEL, p[0], -5.0, events.for_patient(0), t_out, 1e-8, 1e-8)
    assert _relative_difference(fast.values[0], ref).max() <= 1e-4
