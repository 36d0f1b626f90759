"""Search of the integrated model's CAR-programme and construct parameters across three settings.

The CAR module's unsourced parameters (the proliferation programme, antigen-driven expansion,
exhaustion, trafficking and the CD28 multipliers) are chosen within their prior ranges so that one
set of values meets, together:

- SLE, Erlangen regimen (Mackensen 2022, n = 5): the shipped calibration's own likelihood
  (``integrated_sle_mackensen.yaml``: CAR peak 30-1000 cells/uL on days 7-10, B cells back after a
  mean 110 days) over its 20-patient cohort, plus the 5-patient cohort of the calibration tests;
- lymphoma, the large B-cell lymphoma setting of ``examples/integrated_lbcl_axicel_zuma1.yaml``
  (the CD28 product after fludarabine 30 / cyclophosphamide 500 mg/m2 on days -5 to -3): the median
  day of the CAR peak 8.5 (Kochenderfer 2017, n = 22) and the ZUMA-1 blood medians on days 7, 14,
  28 and 90 inside their quartiles (Kimmel 2021, n = 19). The setting's own expansion multiplier
  (``kexp_setting``) is fitted afterwards, to the ZUMA-1 medians with these parameters held
  (``integrated_lbcl_zuma1.yaml``), and the file holds its estimate;
- leukaemia, 4-1BB product at 3.1e6 cells/kg (Stein 2019): contraction, persisting share and
  terminal decline of Stein's closed form inside the population spread;
- Singh 2021 (peak set by target burden, hardly by dose); Park 2025 at the same dose (peak within
  3-fold); and the directions the model specification asks of constructs (CD28 earlier, higher and
  shorter than 4-1BB; generation 1 expands poorly, generation 5 persists longer; lymphodepletion
  raises the peak; a BCMA co-infusion lowers anti-Ro and total IgG far more than CD19 alone); and the
  20-patient cohort's 5th-95th percentile of the peak day inside the observed days 7-10.

Each target enters as the squared log distance (days: the distance in days) outside its acceptance
range, the SLE likelihood as 0.2 x its negative log-likelihood. Differential evolution (SciPy) over
the log of each parameter within its prior range, seeded, starting from the shipped values; or, with
``--local``, Nelder-Mead from them. Run from the repository root (about 20 minutes on two cores)::

    python examples/calibration/integrated_settings_search.py --workers 2 --out search.json
    python examples/calibration/integrated_settings_search.py --local --maxiter 25 --out local.json

The result, its date and its targets are recorded in the package's ``provenance.yaml``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from scipy.optimize import differential_evolution, least_squares, minimize

from immunoreset.calibrate.config import load_config, resolve
from immunoreset.calibrate.data import load_shipped_targets
from immunoreset.calibrate.objective import SummaryObjective
from immunoreset.model.models.integrated import MODEL
from immunoreset.runs.inputs import prepare
from immunoreset.scenario.load import load_scenario, parse_scenario
from immunoreset.simulate.engine import simulate

HERE = Path(__file__).resolve().parent
SEARCHED = (
    "ag50_car", "ec50_exp", "k_exh", "stim50", "stim_hill", "k_rest", "d_exh", "h_amp",
    "f_lymphoid", "f_tissue_kill", "cd28_kexp", "cd28_diff", "cd28_exh", "cd28_death",
)  # fmt: skip
OBS = {name: k for k, name in enumerate(MODEL.observables)}
NAMES = list(MODEL.parameter_names)
CASES: dict[str, dict] = {
    "erlangen5": {"product": "cd19-41bb-erlangen", "n": 5, "variability": True, "horizon": 400},
    "cd19": {"product": "cd19-41bb-erlangen", "horizon": 400},
    "cd28": {"product": "cd19-cd28-axicel", "dose": 1e6, "horizon": 400},
    "gen1": {"product": "cd19-gen1", "horizon": 90},
    "gen5": {"product": "cd19-gen5", "horizon": 120},
    "no_conditioning": {"product": "cd19-41bb-erlangen", "conditioning": "none", "horizon": 90},
    "dose_low": {"product": "cd19-41bb-erlangen", "dose": 1e6 / math.sqrt(10), "horizon": 60},
    "dose_high": {"product": "cd19-41bb-erlangen", "dose": 1e6 * math.sqrt(10), "horizon": 60},
    "burden_low": {"product": "cd19-41bb-erlangen", "b0_blood": 143 / math.sqrt(10), "horizon": 60},
    "burden_high": {"product": "cd19-41bb-erlangen", "b0_blood": 143 * math.sqrt(10), "horizon": 60},
    "cd19_antibodies": {"product": "cd19-41bb-erlangen", "horizon": 180, "start": -6},
    "coinfusion": {"product": "cd19-bcma-coinfusion", "horizon": 180, "start": -6},
    "lymphoma19": {"file": "integrated_lbcl_axicel_zuma1.yaml"},
    "leukaemia": {"product": "cd19-41bb-erlangen", "dose": 3.1e6, "horizon": 365,
                  "tumour": (1e11, 0.9), "weight_kg": 50.0},
}  # fmt: skip
"""The settings of tests/model/integrated (test_calibration.py, test_behaviour.py), seed 2022."""
ZUMA1_IQR = {7: (16.5, 57.5), 14: (3.8, 31.1), 28: (0.6, 6.1), 90: (0.01, 0.4)}
"""Interquartile ranges of the ZUMA-1 blood counts (Kimmel 2021; cells/uL); the search keeps the
medians a tenth inside them."""


def _prepared(case: dict) -> tuple:
    if "file" in case:
        scenario = load_scenario(HERE.parent / case["file"])
        inputs = prepare(scenario)
        params = inputs.parameters(np.arange(inputs.n_patients))
        return inputs, params, inputs.events(params)
    product: dict = {"catalogue": case["product"]}
    if "dose" in case:
        product["dose"] = {"value": case["dose"], "unit": "cells/kg"}
    overrides: dict[str, float] = {}
    if "b0_blood" in case:
        overrides["b0_blood"] = case["b0_blood"]
    if "tumour" in case:
        overrides["tumour_cells"], overrides["tumour_marrow_share"] = case["tumour"]
    if "weight_kg" in case:
        overrides["weight_kg"] = case["weight_kg"]
    n = case.get("n", 1)
    scenario = parse_scenario(
        {
            "model": "integrated",
            "product": product,
            "regimen": case.get("regimen", {"conditioning": case.get("conditioning", "standard")}),
            "population": {"size": n, "seed": 2022, "variability": case.get("variability", False),
                           "parameters": overrides},
            "horizon_days": case["horizon"],
            "output_times": {"start_day": case.get("start", 0), "every_days": 1},
        }
    )  # fmt: skip
    inputs = prepare(scenario)
    params = inputs.parameters(np.arange(n))
    return inputs, params, inputs.events(params)


class Search:
    """The settings prepared once; ``loss(values)`` at typical values of :data:`SEARCHED`."""

    def __init__(self) -> None:
        self.prepared = {name: _prepared(case) for name, case in CASES.items()}
        self.typical = MODEL.typical_parameters({})
        config, base = load_config(HERE / "integrated_sle_mackensen.yaml")
        scenario = load_scenario(resolve(base, config.scenario))
        population = scenario.population.model_copy(
            update={"size": config.cohort.size, "seed": config.cohort.seed, "variability": True}
        )
        self.sle = SummaryObjective(
            scenario.model_copy(update={"population": population}), list(SEARCHED),
            load_shipped_targets(config.targets.file.removeprefix("shipped:")), config.targets.use,
        )  # fmt: skip

    def outputs(self, name: str, values: dict[str, float]) -> np.ndarray:
        """Observables (patients x days x observables) of setting ``name`` at ``values``."""
        inputs, params, events = self.prepared[name]
        params = params.copy()
        for key, value in values.items():
            j = NAMES.index(key)
            params[:, j] *= value / self.typical[j]
        res = simulate(inputs.model, params, events, inputs.times, inputs.settings, inputs.t_start)
        if np.any(res.status != 0):
            raise FloatingPointError(f"{name}: a patient failed")
        return res.values

    def summary(self, values: dict[str, float]) -> dict:
        """Every searched quantity at ``values``."""
        out = {k: self.outputs(k, values) for k in CASES}
        car = {k: v[:, :, OBS["car_t_blood"]] for k, v in out.items()}
        s: dict = {}
        peaks = car["erlangen5"]
        s["erlangen_peaks"] = peaks[:, 1:].max(axis=1).tolist()
        s["erlangen_peak_days"] = (1 + peaks[:, 1:].argmax(axis=1)).tolist()
        s["erlangen_return_days"] = [
            return_day(b) for b in out["erlangen5"][:, :, OBS["b_cells_blood"]]
        ]
        for k in ("cd19", "cd28", "gen1", "gen5", "no_conditioning"):
            c = car[k][0]
            s[k] = {"peak_day": 1 + int(np.argmax(c[1:])), "peak": float(c[1:].max()),
                    "day90": float(c[90]), "last": float(c[-1])}  # fmt: skip
        s["cd19_return_day"] = return_day(out["cd19"][0, :, OBS["b_cells_blood"]])
        by_dose = car["dose_high"][0, 1:].max() / car["dose_low"][0, 1:].max()
        by_burden = car["burden_high"][0, 1:].max() / car["burden_low"][0, 1:].max()
        s["burden_over_dose"] = float(by_burden / by_dose)
        days = self.prepared["lymphoma19"][0].times
        s["lymphoma_median_peak_day"] = float(np.median(days[car["lymphoma19"].argmax(axis=1)]))
        s["lymphoma_medians_d7_14_28_90"] = [
            float(np.median(car["lymphoma19"][:, np.flatnonzero(days == d)[0]])) for d in ZUMA1_IQR
        ]
        s["stein_alpha_fb_beta"] = stein_closed_form(car["leukaemia"][0])
        x = np.array([values[n] for n in SEARCHED])
        s["sle_nll"] = float(self.sle(x))
        days = self.sle.simulated(self.sle.cohort(x))["mack22_car_peak_day"]
        s["sle_cohort_peak_day_p05_p95"] = [
            float(np.percentile(days, 5)),
            float(np.percentile(days, 95)),
        ]
        falls = {}
        for k in ("cd19_antibodies", "coinfusion"):
            v = out[k][0]
            falls[k] = {
                n: float(1.0 - v[-1, OBS[n]] / v[0, OBS[n]]) for n in ("anti_ro", "igg_total")
            }
        s["antibody_falls_day180"] = falls
        return s

    def loss(self, values: dict[str, float]) -> float:
        try:
            s = self.summary(values)
        except FloatingPointError:
            return 1e6
        return float(sum(r * r for r in residuals(s)) + 0.2 * s["sle_nll"])


def return_day(b: np.ndarray) -> float:
    """First day with blood B cells >= 1/uL on two consecutive days after aplasia (as the tests)."""
    below = np.flatnonzero(b < 1.0)
    if not len(below):
        return math.inf
    days = np.arange(len(b) - 1)
    back = np.flatnonzero((b[:-1] >= 1.0) & (b[1:] >= 1.0) & (days > below[0]))
    return float(back[0]) if len(back) else math.inf


def stein_closed_form(car: np.ndarray) -> list[float]:
    """(alpha, FB, beta) of Stein 2019's closed form fitted from the peak (as the test)."""
    peak = int(np.argmax(car))
    t = np.arange(len(car) - peak, dtype=float)
    observed = np.log(np.maximum(car[peak:], 1e-30) / car[peak])

    def res(x: np.ndarray) -> np.ndarray:
        fb = math.exp(x[1])
        return np.log(fb * np.exp(-x[2] * t) + (1 - fb) * np.exp(-x[0] * t)) - observed

    start = np.array([0.16, math.log(0.0079), 0.0032])
    fit = least_squares(res, start, bounds=([1e-4, -30.0, 0.0], [5.0, 0.0, 1.0]))
    return [float(fit.x[0]), math.exp(fit.x[1]), float(fit.x[2])]


def _outside(x: float, low: float, high: float) -> float:
    return max(0.0, low - x) + max(0.0, x - high)


def _log_outside(x: float, low: float, high: float) -> float:
    return _outside(math.log(max(x, 1e-12)), math.log(low), math.log(high))


def _stein(value: float, typical: float, omega2: float) -> float:
    """Log distance outside 80 % of Stein 2019's 95 % population range."""
    half = 0.8 * 1.96 * math.sqrt(omega2)
    return _outside(math.log(value / typical), -half, half)


def residuals(s: dict) -> list[float]:
    """Distances outside each acceptance range (see the module docstring). The ranges sit a little
    inside the tests' own (e.g. peaks 35-850 for the observed 30-1000 cells/uL, Stein within 80 % of
    the 95 % range, burden-over-dose 12 for 10) so that rounding the estimate does not cross them;
    the days to B-cell return are scaled by 20 days, about the standard error of a mean of 5."""
    r = [_log_outside(p, 35.0, 850.0) for p in s["erlangen_peaks"]]
    r += [_outside(d, 7.0, 10.0) for d in s["erlangen_peak_days"]]
    returns = [min(d, 400.0) for d in s["erlangen_return_days"]]
    r.append(_outside(float(np.mean(returns)), 90.0, 130.0) / 20.0)
    r += [_outside(d, 60.0, 200.0) / 20.0 for d in returns]
    r.append(_outside(min(s["cd19_return_day"], 400.0), 70.0, 180.0) / 20.0)
    r.append(_outside(s["lymphoma_median_peak_day"], 7.0, 10.0))
    for median, (low, high) in zip(
        s["lymphoma_medians_d7_14_28_90"], ZUMA1_IQR.values(), strict=True
    ):
        r.append(_log_outside(median, low * 1.1, high / 1.1))
    alpha, fb, beta = s["stein_alpha_fb_beta"]
    r += [_stein(alpha, 0.16, 0.91), _stein(fb, 0.0079, 0.8), _stein(beta, 0.0032, 0.86)]
    r.append(_log_outside(s["burden_over_dose"], 12.0, math.inf))
    cd19, cd28 = s["cd19"], s["cd28"]
    r.append(_log_outside(cd19["peak"], 50.0, 350.0))  # Park 2025: 130 cells/uL, within 3-fold
    r.append(_outside(cd28["peak_day"] - cd19["peak_day"], -math.inf, -1.0))
    r.append(_log_outside(cd28["peak"] / cd19["peak"], 1.1, math.inf))
    r.append(_log_outside(cd19["last"] / max(cd28["last"], 1e-12), 1.35, math.inf))
    r.append(_log_outside(cd19["peak"] / s["gen1"]["peak"], 15.0, math.inf))
    r.append(_log_outside(s["gen5"]["day90"] / cd19["day90"], 1.1, math.inf))
    r.append(_log_outside(cd19["peak"] / s["no_conditioning"]["peak"], 4.0, math.inf))
    low, high = s["sle_cohort_peak_day_p05_p95"]
    r.append(_outside(low, 7.2, 9.8) + _outside(high, 7.2, 9.8))
    falls = s["antibody_falls_day180"]
    for n in ("anti_ro", "igg_total"):
        r.append(
            5.0 * _log_outside(falls["coinfusion"][n] / falls["cd19_antibodies"][n], 2.2, math.inf)
        )
    return r


SEARCH: Search | None = None
"""The search of this process, built on first use (once in each worker process)."""


def _loss(x: np.ndarray) -> float:
    """The loss at the log of the searched values (module level, so worker processes can call it)."""
    global SEARCH
    if SEARCH is None:
        SEARCH = Search()
    return SEARCH.loss(dict(zip(SEARCHED, np.exp(x).tolist(), strict=True)))


def _positive(text: str) -> int:
    """An integer >= 1 (argparse names the option and the value when this raises)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"got {value}; allowed: an integer >= 1")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--popsize", type=_positive, default=10)
    parser.add_argument("--maxiter", type=_positive, default=50)
    parser.add_argument("--workers", type=_positive, default=1)
    parser.add_argument("--out", type=Path, default=Path("integrated_settings_search.json"))
    parser.add_argument(
        "--local",
        action="store_true",
        help="Nelder-Mead from the shipped values instead of differential evolution",
    )
    args = parser.parse_args()
    global SEARCH
    SEARCH = Search()
    priors = [(MODEL.parameter(n).prior_low, MODEL.parameter(n).prior_high) for n in SEARCHED]
    bounds = [(math.log(lo), math.log(hi)) for lo, hi in priors]
    start = np.clip(np.log([MODEL.parameter(n).value for n in SEARCHED]), *np.transpose(bounds))

    if args.local:
        fit = minimize(
            _loss, start, method="Nelder-Mead", bounds=bounds,
            options={"maxfev": args.maxiter * len(SEARCHED), "xatol": 1e-3, "fatol": 1e-3},
        )  # fmt: skip
    else:
        fit = differential_evolution(
            _loss, bounds, popsize=args.popsize, maxiter=args.maxiter, seed=args.seed, x0=start,
            polish=False, workers=args.workers, updating="deferred",
        )  # fmt: skip
    values = dict(zip(SEARCHED, np.exp(fit.x).tolist(), strict=True))
    result = {"loss": float(fit.fun), "evaluations": int(fit.nfev), "values": values,
              "summary": SEARCH.summary(values)}  # fmt: skip
    args.out.write_text(json.dumps(result, indent=1, default=float), encoding="utf-8")
    print(json.dumps(result, indent=1, default=float))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # nothing is written before the search ends, so nothing is lost
        raise SystemExit("interrupted; nothing written") from None
