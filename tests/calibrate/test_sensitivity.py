"""Sensitivity analysis: Sobol' indices and Morris screening (SALib), endpoints of the engine,
local sensitivities."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import immunoreset as ir
from immunoreset.calibrate.sensitivity import (
    FailedRowsError,
    Problem,
    finite_difference_sensitivity,
    global_sensitivity,
    local_sensitivity,
    model_function,
    morris_elementary_effects,
    scenario_problem,
    sobol_indices,
)

# -- analytic test functions -------------------------------------------------------------------


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """Ishigami and Homma 1990; inputs uniform on [-pi, pi]."""
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


# Analytic indices of the Ishigami function for a = 7, b = 0.1 (Saltelli et al. 2008, Global
# Sensitivity Analysis: The Primer, section 4.9; Sobol' and Levitan 1999).
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)

# Sobol' g-function: g(u) = prod (|4 u_i - 2| + a_i) / (1 + a_i), u uniform on [0, 1]^d. Partial
# variances V_i = 1 / (3 (1 + a_i)^2), total V = prod(1 + V_i) - 1 (Saltelli and Sobol' 1995).
G_A = np.array([0.0, 1.0, 4.5, 9.0])


def g_function(u: np.ndarray) -> np.ndarray:
    return np.prod((np.abs(4 * u - 2) + G_A) / (1 + G_A), axis=1)


def g_indices() -> tuple[np.ndarray, np.ndarray]:
    v = 1 / (3 * (1 + G_A) ** 2)
    total = np.prod(1 + v) - 1
    s1 = v / total
    st = np.array([v[i] * np.prod(np.delete(1 + v, i)) / total for i in range(len(v))])
    return s1, st


PI_BOUNDS = [(-math.pi, math.pi)] * 3


def test_sobol_recovers_the_ishigami_indices() -> None:
    table = sobol_indices(ishigami, Problem.create(["x1", "x2", "x3"], PI_BOUNDS), 2**12, seed=1)
    assert list(table.columns) == ["parameter", "output", "S1", "S1_conf", "ST", "ST_conf"]
    assert table.attrs["n_evaluations"] == 2**12 * (3 + 2)
    # At N = 2^12 base samples the bootstrap 95 % half-widths SALib reports are 0.013-0.047;
    # 0.05 is at least the largest of them, so the analytic value lies inside every interval we
    # accept. (The errors actually seen are below 0.003.)
    assert (table[["S1_conf", "ST_conf"]] < 0.05).all(axis=None)
    assert np.allclose(table["S1"], ISHIGAMI_S1, atol=0.05)
    assert np.allclose(table["ST"], ISHIGAMI_ST, atol=0.05)


def test_sobol_on_a_log_uniform_parameter_is_sobol_on_its_log() -> None:
    # p_i log-uniform on [1, e] means log(p_i) uniform on [0, 1]: the g-function of log(p) has the
    # g-function's analytic indices. N = 2^12: reported half-widths are below 0.04.
    problem = Problem.create([f"p{i}" for i in range(4)], [(1.0, math.e)] * 4, log=True)
    table = sobol_indices(lambda p: g_function(np.log(p)), problem, 2**12, seed=3)
    s1, st = g_indices()
    assert (table[["S1_conf", "ST_conf"]] < 0.04).all(axis=None)
    assert np.allclose(table["S1"], s1, atol=0.04)
    assert np.allclose(table["ST"], st, atol=0.04)


def test_sobol_several_outputs_give_one_tidy_table() -> None:
    problem = Problem.create(["x1", "x2", "x3"], PI_BOUNDS)
    both = lambda x: np.column_stack([ishigami(x), 2.0 * x[:, 2]])  # noqa: E731
    table = sobol_indices(both, problem, 2**8, seed=2, outputs=["ishigami", "linear_x3"])
    assert table["output"].tolist() == ["ishigami"] * 3 + ["linear_x3"] * 3
    linear = table[table["output"] == "linear_x3"].set_index("parameter")
    # Only x3 enters 2 x3: the other parameters' outputs are bit-identical along their AB columns,
    # so their estimators are exactly 0; x3 explains everything.
    assert (linear.loc[["x1", "x2"], ["S1", "ST"]] == 0).all(axis=None)
    assert linear.loc["x3", "ST"] == pytest.approx(1.0, abs=0.1)


def test_sobol_is_reproducible_for_a_seed_including_zero() -> None:
    problem = {"names": ["x1", "x2", "x3"], "bounds": PI_BOUNDS}
    first = sobol_indices(ishigami, problem, 2**7, seed=0)
    again = sobol_indices(ishigami, problem, 2**7, seed=0)
    pd.testing.assert_frame_equal(first, again)
    other = sobol_indices(ishigami, problem, 2**7, seed=5)
    assert not np.allclose(first["S1"], other["S1"])


def test_sobol_second_order_table() -> None:
    table = sobol_indices(
        ishigami, Problem.create(["x1", "x2", "x3"], PI_BOUNDS), 2**11, 4, calc_second_order=True
    )
    s2 = table.attrs["S2"].set_index(["parameter_1", "parameter_2"])["S2"]
    # The only interaction of the Ishigami function is x1-x3: S13 = ST1 - S1 = 0.2437.
    assert s2.loc[("x1", "x3")] == pytest.approx(0.2437, abs=0.08)
    assert abs(s2.loc[("x1", "x2")]) < 0.08


def test_sobol_of_a_constant_output_is_undefined() -> None:
    table = sobol_indices(
        lambda x: np.ones(len(x)), Problem.create(["a", "b"], [(0, 1), (0, 1)]), 2**4, 1
    )
    assert table[["S1", "ST"]].isna().all(axis=None)


def test_morris_linear_function_has_known_effects() -> None:
    # f = 3 a - 2 b + 0.5 log(c): every elementary effect of a parameter equals its coefficient
    # times its range in sampling space (SALib divides the output change by the step as a
    # fraction of the range): a: 3 x 2 = 6; b: -2 x 5 = -10; c (log-uniform on [0.01, 100]):
    # 0.5 x log(1e4) = 4.605. Effects do not vary, so sigma = 0.
    problem = Problem.create(
        ["a", "b", "c"], [(0.0, 2.0), (-1.0, 4.0), (1e-2, 1e2)], log=[False, False, True]
    )
    f = lambda x: 3 * x[:, 0] - 2 * x[:, 1] + 0.5 * np.log(x[:, 2])  # noqa: E731
    for candidates in (None, 30):
        table = morris_elementary_effects(f, problem, 8, 4, 11, candidates=candidates)
        table = table.set_index("parameter")
        assert table.attrs["n_evaluations"] == 8 * 4
        assert np.allclose(table["mu"], [6.0, -10.0, 0.5 * math.log(1e4)], rtol=1e-12)
        assert np.allclose(table["mu_star"], [6.0, 10.0, 0.5 * math.log(1e4)], rtol=1e-12)
        assert np.allclose(table["sigma"], 0.0, atol=1e-12)


def test_morris_sees_interactions_in_sigma() -> None:
    # In the Ishigami function x3 acts only through x3^4 sin(x1): mu can be near 0 while mu_star
    # and sigma are not; x2 acts non-linearly (sin^2), so its sigma is above 0 too.
    table = morris_elementary_effects(
        ishigami, Problem.create(["x1", "x2", "x3"], PI_BOUNDS), 40, 4, 2
    ).set_index("parameter")
    assert (table["mu_star"] >= table["mu"].abs() - 1e-12).all()
    assert table.loc["x3", "sigma"] > 1.0
    assert table.loc["x2", "mu_star"] > table.loc["x1", "mu_star"]


# -- finite differences ------------------------------------------------------------------------


def test_finite_difference_sensitivity_of_power_laws() -> None:
    # y0 = p^2 q^-0.5 has d log y / d log p = 2 and d log y / d log q = -0.5 everywhere; central
    # differences are exact for the quadratic and have error (h^2 / 6) |a (a-1) (a-2)| = 3e-7 for
    # the power -0.5 at h = 1e-3. y1 = p + q: sensitivities p / (p + q) and q / (p + q), exact.
    def f(x: np.ndarray) -> np.ndarray:
        return np.column_stack([x[:, 0] ** 2 * x[:, 1] ** -0.5, x[:, 0] + x[:, 1]])

    table = finite_difference_sensitivity(f, [3.0, 2.0], 1e-3, names=["p", "q"])
    s = table.set_index(["parameter", "output"])["sensitivity"]
    assert s[("p", "y0")] == pytest.approx(2.0, abs=1e-12)
    assert s[("q", "y0")] == pytest.approx(-0.5, abs=1e-6)
    assert s[("p", "y1")] == pytest.approx(0.6, abs=1e-12)
    assert s[("q", "y1")] == pytest.approx(0.4, abs=1e-12)
    with pytest.raises(ValueError, match=r"parameter 'q': got value 0; allowed: a non-zero"):
        finite_difference_sensitivity(f, [3.0, 0.0], names=["p", "q"])
    with pytest.raises(ValueError, match=r"rel_step: got 0.7; allowed"):
        finite_difference_sensitivity(f, [3.0, 2.0], 0.7)


# -- bad input ---------------------------------------------------------------------------------


def test_non_finite_outputs_name_the_rows() -> None:
    def f(x: np.ndarray) -> np.ndarray:
        return np.where(x[:, 0] > 0.9, np.nan, x[:, 0])

    with pytest.raises(FailedRowsError, match=r"parameter rows gave non-finite values") as err:
        sobol_indices(f, Problem.create(["a", "b"], [(0, 1), (0, 1)]), 2**4, 1)
    assert len(err.value.rows) > 0 and (err.value.values[:, 0] > 0.9).all()
    assert "row " in str(err.value) and "a=0.9" in str(err.value)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: Problem.create(["a"], [(1.0, 1.0)]), r"bounds\['a'\]: got \(1.0, 1.0\); allowed"),
        (lambda: Problem.create(["a"], [(0.0, 1.0)], log=True), r"allowed: bounds > 0"),
        (lambda: Problem.create(["a", "a"], [(0, 1), (0, 1)]), r"'a' repeats"),
        (
            lambda: sobol_indices(ishigami, Problem.create(["a"], [(0, 1)]), 100, 1),
            r"n: got 100; allowed: a power of 2",
        ),
        (
            lambda: morris_elementary_effects(ishigami, Problem.create(["a"], [(0, 1)]), 4, 3),
            r"levels: got 3; allowed: an even integer >= 2",
        ),
        (
            lambda: sobol_indices(ishigami, Problem.create(["a"], [(0, 1)]), 16, -1),
            r"seed: got -1; allowed: an integer >= 0",
        ),
    ],
)
def test_bad_problem_input_names_field_value_and_allowed(call, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        call()


# -- the engine --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def park(examples_dir):
    """The Park 2025 typical patient over 60 days (the CAR-T peak is at about day 10)."""
    scenario = ir.load_scenario(examples_dir / "park2025_sle_typical.yaml")
    return scenario.model_copy(update={"horizon_days": 60})


ENDPOINTS = [
    "peak:car_t_blood",
    "auc:car_t_blood",
    "min:b_cells_blood",
    "value:car_t_blood@28",
]


def test_local_sensitivity_analytic_values(park) -> None:
    # At day 0 (output after the dose) C3 and anti-dsDNA are still at their baselines c30 and
    # aab0 (mg/L -> mg/dL, IU/L -> IU/mL): sensitivity exactly 1. The C3 SLEDAI regression is
    # int + slope * C3 [mg/L], so its sensitivity to int is int / (int + slope * c30) and to c30
    # is slope * c30 / (int + slope * c30); every other parameter does not enter it.
    table = local_sensitivity(
        park,
        ["c30", "aab0", "sledai_c3_int", "kexp_max_cd8"],
        ["value:c3@0", "value:anti_dsdna@0", "value:sledai_c3_regression@0"],
    )
    s = table.set_index(["parameter", "output"])["sensitivity"]
    assert s[("c30", "value:c3@0")] == pytest.approx(1.0, abs=1e-9)
    assert s[("aab0", "value:anti_dsdna@0")] == pytest.approx(1.0, abs=1e-9)
    model = ir.get_model("park2025")
    c30 = model.parameter("c30").value
    intercept = model.parameter("sledai_c3_int").value
    slope = model.parameter("sledai_c3_slope").value
    level = intercept + slope * c30
    assert s[("sledai_c3_int", "value:sledai_c3_regression@0")] == pytest.approx(
        intercept / level, rel=1e-9
    )
    assert s[("c30", "value:sledai_c3_regression@0")] == pytest.approx(
        slope * c30 / level, rel=1e-9
    )
    assert s[("kexp_max_cd8", "value:sledai_c3_regression@0")] == 0.0
    units = table.set_index("output")["unit"].to_dict()
    assert units["value:c3@0"] == "mg/dL"


def test_local_sensitivity_is_consistent_across_steps(park) -> None:
    # Central differences have truncation error proportional to h^2: going from h = 3e-3 to
    # 1e-3 removes 8/9 of it, so the difference between the two (at most 0.02 % here) is about
    # the error of the coarser one. Forward differences, with error proportional to h, differ
    # by up to 0.7 % between these steps. The solver's own error (rtol 1e-6) adds at most about
    # rtol / h = 1e-3 in absolute terms. Tolerance: 0.2 % relative plus 1e-3.
    params = ["kexp_max_cd8", "kel_m", "kkill_max", "sledai_c3_int"]
    fine = local_sensitivity(park, params, ENDPOINTS, rel_step=1e-3)
    coarse = local_sensitivity(park, params, ENDPOINTS, rel_step=3e-3)
    a, b = fine["sensitivity"].to_numpy(), coarse["sensitivity"].to_numpy()
    assert np.all(np.abs(a - b) <= 0.002 * np.abs(a) + 1e-3)
    s = fine.set_index(["parameter", "output"])["sensitivity"]
    # The CAR-T peak rises steeply with the maximal expansion rate (about 7.6) and falls with
    # memory-cell elimination; the SLEDAI intercept enters no trajectory.
    assert s[("kexp_max_cd8", "peak:car_t_blood")] > 1.0
    assert s[("kel_m", "peak:car_t_blood")] < 0.0
    assert (fine.loc[fine["parameter"] == "sledai_c3_int", "sensitivity"] == 0.0).all()


def test_model_sobol_structure_and_known_zeros(park) -> None:
    params = ["kexp_max_cd8", "kel_m", "sledai_c3_int"]
    endpoints = ["peak:car_t_blood", "value:sledai_c3_regression@0"]
    table = global_sensitivity(park, params, endpoints, n=64, seed=7)
    assert table.attrs["n_evaluations"] == 64 * (3 + 2)
    assert table["output"].unique().tolist() == endpoints
    assert table.attrs["units"]["peak:car_t_blood"] == "cells/uL"
    problem = table.attrs["problem"].set_index("parameter")
    assert problem.loc["kexp_max_cd8", "low"] == pytest.approx(0.9)
    assert problem.loc["kexp_max_cd8", "scale"] == "log"
    idx = table.set_index(["parameter", "output"])
    # The SLEDAI intercept enters no state, and the CAR-T parameters do not enter the day-0
    # regression: their columns of the design give bit-identical outputs, so S1 = ST = 0 exactly.
    for p, out in [
        ("sledai_c3_int", "peak:car_t_blood"),
        ("kexp_max_cd8", "value:sledai_c3_regression@0"),
        ("kel_m", "value:sledai_c3_regression@0"),
    ]:
        assert idx.loc[(p, out), "S1"] == 0.0 and idx.loc[(p, out), "ST"] == 0.0
    # The regression depends on the intercept alone here: S1 = ST = 1, within the reported
    # bootstrap half-width (about 0.3 at n = 64).
    row = idx.loc[("sledai_c3_int", "value:sledai_c3_regression@0")]
    assert abs(row["ST"] - 1.0) <= row["ST_conf"]
    assert abs(row["S1"] - 1.0) <= row["S1_conf"]
    # The expansion rate dominates the CAR-T peak: over the same two-fold range its local
    # log-sensitivity is 7.6 against 0.8 for kel_m (test above), about 90 times the variance of
    # log(peak). The estimates at n = 64 scatter by about 0.2-0.7 (their half-widths), so the test
    # only asks which side of 0.5 each lies.
    assert idx.loc[("kexp_max_cd8", "peak:car_t_blood"), "ST"] > 0.5
    assert idx.loc[("kel_m", "peak:car_t_blood"), "ST"] < 0.5


def test_model_morris_structure(park) -> None:
    table = global_sensitivity(
        park, ["kexp_max_cd8", "sledai_c3_int"], ["peak:car_t_blood"], "morris", n=4, seed=3
    )
    assert list(table.columns) == ["parameter", "output", "mu", "mu_star", "sigma", "mu_star_conf"]
    idx = table.set_index("parameter")
    assert idx.loc["sledai_c3_int", "mu_star"] == 0.0
    assert idx.loc["kexp_max_cd8", "mu_star"] > 0.0


def test_model_function_rows_and_custom_endpoints(park) -> None:
    f = model_function(
        park,
        ["kexp_max_cd8", "weight_kg"],
        {"peak": "peak:car_t_blood", "day10": lambda t, out: out["car_t_blood"][:, 10]},
        chunk_size=2,
    )
    assert f.outputs == ("peak", "day10")
    x = np.array([[1.8, 70.0], [1.2, 70.0], [1.8, 90.0]])
    y = f(x)
    assert y.shape == (3, 2)
    # Batching does not change a row: the first row alone gives the same numbers.
    assert np.array_equal(f(x[:1]), y[:1])
    # The baseline row is the scenario's typical patient (weight 70 kg from the scenario).
    assert np.array_equal(f.baseline, [1.8, 70.0])
    assert y[0, 0] > y[1, 0]


def test_failed_simulations_name_the_rows(park) -> None:
    starved = park.model_copy(update={"solver": park.solver.model_copy(update={"max_steps": 5})})
    f = model_function(starved, ["kexp_max_cd8"], ["peak:car_t_blood"])
    with pytest.raises(
        FailedRowsError, match=r"2 of 2 parameter rows failed.*row 0 \(kexp_max_cd8=1"
    ):
        f(np.array([[1.8], [1.0]]))


@pytest.mark.parametrize(
    ("parameters", "endpoints", "pattern"),
    [
        (["nope"], ["peak:car_t_blood"], r"parameters: got 'nope'; allowed: parameters of model"),
        (["kel_m"], ["top:car_t_blood"], r"got 'top:car_t_blood'; allowed: KIND:OBSERVABLE"),
        (["kel_m"], ["peak:il6"], r"'il6' is not an output of the model; allowed"),
        (["kel_m"], ["value:c3@90"], r"day 90; allowed: a day from 0 to 60"),
        (["kel_m"], ["value:c3"], r"got 'value:c3'; allowed"),
    ],
)
def test_bad_model_input_names_field_value_and_allowed(park, parameters, endpoints, pattern):
    with pytest.raises(ValueError, match=pattern):
        model_function(park, parameters, endpoints)


def test_scenario_problem_uses_priors_then_a_factor(park) -> None:
    problem = scenario_problem(park, ["weight_kg", "kel_m", "sledai_c3_slope"])
    table = problem.table().set_index("parameter")
    # weight_kg states a prior range (40-150 kg; under 10-fold: linear); kel_m has none, so its
    # typical value x/÷ 2 (log-uniform); a negative typical value keeps low < high.
    assert table.loc["weight_kg", ["low", "high"]].tolist() == [40.0, 150.0]
    assert table.loc["weight_kg", "scale"] == "linear"
    assert table.loc["weight_kg", "source"] == "prior range"
    assert table.loc["kel_m", ["low", "high"]].tolist() == pytest.approx([0.345, 1.38])
    assert table.loc["kel_m", "scale"] == "log"
    assert table.loc["sledai_c3_slope", ["low", "high"]].tolist() == pytest.approx([-0.02, -0.005])
    assert table.loc["sledai_c3_slope", "scale"] == "linear"
    given = scenario_problem(park, ["kel_m"], bounds={"kel_m": (0.1, 10.0)})
    assert given.log == (True,) and given.sources == ("given",)


def test_sensitivity_doc_examples_run(markdown_examples) -> None:
    """Every ```python block of docs/sensitivity.md runs as written, in order."""
    root = Path(__file__).resolve().parents[2]
    namespace = markdown_examples(root / "docs" / "sensitivity.md", 6)
    assert namespace["kept"].n_selected > 0  # type: ignore[attr-defined]
    assert namespace["weighted"].info["converged"]  # type: ignore[attr-defined]
    local = namespace["local"].set_index(["parameter", "output"])  # type: ignore[attr-defined]
    # The doc's claim: C3 at day 0 is its baseline.
    assert local.loc[("c30", "value:c3@0"), "sensitivity"] == pytest.approx(1.0, abs=1e-9)
    assert local.loc[("kexp_max_cd8", "value:c3@0"), "sensitivity"] == 0.0
