"""Maximum-likelihood fits: bounds, several starts, a convergence report and Wald intervals.

A fit here is a plain function over arrays, like the optimisers it wraps: it takes a negative
log-likelihood ``nll(values) -> float`` over the named parameters and knows no model or solver, so
the same routine fits a summary-data objective, an individual-data objective or a test function.

Why each choice:

* Parameters are estimated on a log scale where they are positive rates or amounts spanning orders
  of magnitude (``log=True``), which makes the likelihood surface closer to quadratic and keeps the
  optimiser inside the positive range; bounds are applied on that scale.
* Several starts (the given initial values first, then a Latin hypercube over the bounds,
  ``scipy.stats.qmc``) because ODE-model likelihoods are often multimodal; the report lists every
  start, its end point, its objective and the optimiser's message, and how many starts reached the
  best objective (within ``agreement``), which is the usual evidence of a global optimum
  (Raue et al. 2013, PLoS ONE 8:e74335).
* Intervals: Wald intervals from the observed information (the finite-difference Hessian of the
  negative log-likelihood at the optimum, on the estimation scale), transformed back, so an interval
  of a log-scale parameter is asymmetric on the natural scale. Profile likelihoods
  (:func:`profile_likelihood`) are the check for parameters whose Wald interval is not trustworthy
  (Raue et al. 2009, Bioinformatics 25:1923).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.stats import qmc

Objective = Callable[[np.ndarray], float]
"""Negative log-likelihood of the parameter values (natural scale, in the order of the fit)."""

Z95 = stats.norm.ppf(0.975)


@dataclass(frozen=True)
class FitParameter:
    """One estimated parameter: its name, bounds (natural scale) and estimation scale."""

    name: str
    lower: float
    upper: float
    initial: float | None = None
    log: bool = True

    def __post_init__(self) -> None:
        if (
            not (math.isfinite(self.lower) and math.isfinite(self.upper))
            or self.lower >= self.upper
        ):
            raise ValueError(
                f"parameter {self.name!r}: bounds [{self.lower}, {self.upper}]; allowed: finite "
                "numbers with lower < upper"
            )
        if self.log and self.lower <= 0:
            raise ValueError(
                f"parameter {self.name!r}: lower bound {self.lower} on a log scale; allowed: a "
                "positive lower bound, or log: false"
            )
        if self.initial is not None and not self.lower <= self.initial <= self.upper:
            raise ValueError(
                f"parameter {self.name!r}: initial value {self.initial} outside its bounds "
                f"[{self.lower}, {self.upper}]"
            )

    def to_scale(self, value: float | np.ndarray) -> float | np.ndarray:
        return np.log(value) if self.log else value

    def from_scale(self, value: float | np.ndarray) -> float | np.ndarray:
        return np.exp(value) if self.log else value

    @property
    def scaled_bounds(self) -> tuple[float, float]:
        return float(self.to_scale(self.lower)), float(self.to_scale(self.upper))


@dataclass(frozen=True)
class Start:
    """One optimiser run: where it started, where it ended and what the optimiser said."""

    index: int
    initial: np.ndarray
    estimate: np.ndarray
    nll: float
    success: bool
    message: str
    evaluations: int


@dataclass
class FitResult:
    """The best of several starts, with its uncertainty and the convergence report."""

    parameters: tuple[FitParameter, ...]
    estimate: np.ndarray
    nll: float
    starts: list[Start]
    covariance: np.ndarray | None
    """Covariance of the estimates on the estimation scale (inverse observed information); None
    when the Hessian is not positive definite (a non-identifiable direction)."""
    agreement: float
    notes: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def values(self) -> dict[str, float]:
        return dict(zip(self.names, map(float, self.estimate), strict=True))

    @property
    def n_converged(self) -> int:
        """Starts that ended within ``agreement`` of the best objective."""
        return sum(
            1 for s in self.starts if math.isfinite(s.nll) and s.nll - self.nll <= self.agreement
        )

    def table(self) -> pd.DataFrame:
        """One row per parameter: estimate, 95 % Wald interval, standard error on the estimation
        scale, bounds, and whether the estimate sits on a bound (its interval is then not valid)."""
        rows = []
        se = (
            np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))
            if self.covariance is not None
            else np.full(len(self.parameters), np.nan)
        )
        for k, p in enumerate(self.parameters):
            centre = float(p.to_scale(self.estimate[k]))
            lo, hi = p.scaled_bounds
            rows.append(
                {
                    "parameter": p.name,
                    "estimate": float(self.estimate[k]),
                    "lower_95": float(p.from_scale(centre - Z95 * se[k])),
                    "upper_95": float(p.from_scale(centre + Z95 * se[k])),
                    "se_estimation_scale": float(se[k]),
                    "scale": "log" if p.log else "linear",
                    "bound_lower": p.lower,
                    "bound_upper": p.upper,
                    "at_bound": bool(min(centre - lo, hi - centre) < 1e-6 * max(1.0, hi - lo)),
                }
            )
        return pd.DataFrame(rows)

    def correlation(self) -> pd.DataFrame:
        """Correlation of the estimates (estimation scale): |r| near 1 flags a pair the data cannot
        separate."""
        if self.covariance is None:
            data = np.full((len(self.names),) * 2, np.nan)
        else:
            sd = np.sqrt(np.clip(np.diag(self.covariance), 1e-300, None))
            data = self.covariance / np.outer(sd, sd)
        return pd.DataFrame(data, index=self.names, columns=self.names)

    def convergence(self) -> pd.DataFrame:
        """One row per start: initial and final values, objective, success and message."""
        rows = []
        for s in self.starts:
            row: dict[str, object] = {"start": s.index, "nll": s.nll, "success": s.success}
            row |= {f"initial_{n}": float(v) for n, v in zip(self.names, s.initial, strict=True)}
            row |= {n: float(v) for n, v in zip(self.names, s.estimate, strict=True)}
            row |= {"evaluations": s.evaluations, "message": s.message}
            rows.append(row)
        return pd.DataFrame(rows).sort_values("nll", kind="stable").reset_index(drop=True)


def start_points(parameters: Sequence[FitParameter], n: int, seed: int) -> np.ndarray:
    """``n`` starting points on the natural scale: the initial values (a bound's geometric or
    arithmetic midpoint where none is given), then a Latin hypercube sample over the bounds on the
    estimation scale."""
    first = np.array(
        [
            p.initial if p.initial is not None else float(p.from_scale(np.mean(p.scaled_bounds)))
            for p in parameters
        ]
    )
    if n <= 1:
        return first[None, :]
    lo = np.array([p.scaled_bounds[0] for p in parameters])
    hi = np.array([p.scaled_bounds[1] for p in parameters])
    unit = qmc.LatinHypercube(d=len(parameters), seed=seed).random(n - 1)
    scaled = lo + unit * (hi - lo)
    rest = np.column_stack([p.from_scale(scaled[:, k]) for k, p in enumerate(parameters)])
    return np.vstack([first, rest])


BatchObjective = Callable[[np.ndarray], np.ndarray]
"""The objective at each row of an ``(m, d)`` array of values, computed together (one engine
batch); used for finite-difference gradients."""


def _batched_gradient(
    batch: BatchObjective, parameters: Sequence[FitParameter], step: float
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """``z -> (f, grad f)`` on the estimation scale by central differences, the ``2d + 1``
    evaluations in one call of ``batch``."""
    d = len(parameters)
    spans = np.array([p.scaled_bounds[1] - p.scaled_bounds[0] for p in parameters])
    h = np.maximum(step * spans, 1e-8)

    def fg(z: np.ndarray) -> tuple[float, np.ndarray]:
        rows = np.tile(z, (2 * d + 1, 1))
        rows[1 : d + 1] += np.diag(h)
        rows[d + 1 :] -= np.diag(h)
        lo = np.array([p.scaled_bounds[0] for p in parameters])
        hi = np.array([p.scaled_bounds[1] for p in parameters])
        rows = np.clip(rows, lo, hi)
        natural = np.column_stack([p.from_scale(rows[:, k]) for k, p in enumerate(parameters)])
        values = np.asarray(batch(natural), dtype=float)
        values = np.where(np.isfinite(values), values, 1e300)
        width = rows[1 : d + 1].diagonal() - rows[d + 1 :].diagonal()
        grad = (values[1 : d + 1] - values[d + 1 :]) / np.where(width > 0, width, 1.0)
        return float(values[0]), grad

    return fg


def _scaled_objective(nll: Objective, parameters: Sequence[FitParameter]) -> Callable:
    def f(z: np.ndarray) -> float:
        x = np.array([p.from_scale(v) for p, v in zip(parameters, z, strict=True)])
        value = float(nll(x))
        return value if math.isfinite(value) else 1e300

    return f


class _Lowest:
    """An objective that remembers the lowest value it returned and where. Powell's method can end
    on a worse point than one it evaluated when the objective is infinite somewhere (its line
    searches interpolate through the 1e300 that stands for an infinite value); the start then
    reports the lowest point seen instead."""

    def __init__(self, f: Callable[[np.ndarray], float]) -> None:
        self.f = f
        self.value = math.inf
        self.at: np.ndarray | None = None

    def __call__(self, z: np.ndarray) -> float:
        value = self.f(z)
        if value < self.value:
            self.value, self.at = value, np.array(z, dtype=float)
        return value

    @property
    def best(self) -> tuple[np.ndarray, float]:
        assert self.at is not None, "the objective was never evaluated"
        return self.at, self.value


def hessian(f: Callable[[np.ndarray], float], z: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Central finite-difference Hessian of ``f`` at ``z`` (steps per coordinate)."""
    d = len(z)
    h = np.zeros((d, d))
    f0 = f(z)
    for i in range(d):
        ei = np.zeros(d)
        ei[i] = steps[i]
        h[i, i] = (f(z + ei) - 2.0 * f0 + f(z - ei)) / steps[i] ** 2
        for j in range(i):
            ej = np.zeros(d)
            ej[j] = steps[j]
            h[i, j] = h[j, i] = (
                f(z + ei + ej) - f(z + ei - ej) - f(z - ei + ej) + f(z - ei - ej)
            ) / (4.0 * steps[i] * steps[j])
    return h


def _covariance(f: Callable, z: np.ndarray, parameters: Sequence[FitParameter], rel_step: float):
    spans = np.array([p.scaled_bounds[1] - p.scaled_bounds[0] for p in parameters])
    steps = np.maximum(rel_step * spans, 1e-8)
    info = hessian(f, z, steps)
    eigenvalues, vectors = np.linalg.eigh(0.5 * (info + info.T))
    if not np.all(np.isfinite(eigenvalues)) or eigenvalues.min() <= 1e-9 * abs(eigenvalues).max():
        return None  # a flat (or concave) direction: the information matrix has no inverse
    return (vectors / eigenvalues) @ vectors.T


def maximum_likelihood(
    nll: Objective,
    parameters: Sequence[FitParameter],
    starts: int = 8,
    seed: int = 0,
    method: str = "Powell",
    agreement: float = 0.1,
    hessian_step: float = 1e-3,
    max_evaluations: int = 2000,
    progress: Callable[[int, Start], None] | None = None,
    batch: BatchObjective | None = None,
    gradient_step: float = 1e-4,
) -> FitResult:
    """Minimise ``nll`` over ``parameters`` from ``starts`` starting points; keep the best.

    ``method`` is any bounded method of :func:`scipy.optimize.minimize`. The default, Powell's
    derivative-free conjugate-direction method, is robust to the small numerical noise of an
    adaptive ODE solution, which misleads finite-difference gradients (``L-BFGS-B`` stops early on
    such objectives; it suits smooth test functions). ``Nelder-Mead`` and ``TNC`` are also
    allowed. ``agreement`` is the objective difference within which another start counts as having
    found the same optimum. ``batch`` (an objective over rows of values, e.g.
    :meth:`~immunoreset.calibrate.objective.SummaryObjective.batch`) gives a gradient-based method
    (``L-BFGS-B``, ``TNC``) its central-difference gradient from one engine batch per iterate,
    ``gradient_step`` of each bound range wide on the estimation scale.
    ``hessian_step`` is the finite-difference step as a share of each parameter's bound range on
    its estimation scale; it must exceed the objective's numerical noise (an ODE solution's
    tolerance) by far, which the default does for rtol <= 1e-6.
    """
    if not parameters:
        raise ValueError("parameters: none given; allowed: at least one parameter to estimate")
    if starts < 1:
        raise ValueError(f"starts: got {starts}; allowed: an integer >= 1")
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        raise ValueError(f"parameters: names repeat in {names}; allowed: each parameter once")
    f = _scaled_objective(nll, parameters)
    bounds = [p.scaled_bounds for p in parameters]
    key = "maxfun" if method in ("L-BFGS-B", "TNC") else "maxfev"
    limit = {key: max_evaluations}
    runs: list[Start] = []
    for k, x0 in enumerate(start_points(parameters, starts, seed)):
        z0 = np.array([p.to_scale(v) for p, v in zip(parameters, x0, strict=True)])
        if batch is not None and method in ("L-BFGS-B", "TNC"):
            fg = _batched_gradient(batch, parameters, gradient_step)
            res = optimize.minimize(fg, z0, jac=True, method=method, bounds=bounds, options=limit)
            z_end, f_end = res.x, float(res.fun)
        else:
            seen = _Lowest(f)
            res = optimize.minimize(seen, z0, method=method, bounds=bounds, options=limit)
            z_end, f_end = (res.x, float(res.fun)) if res.fun <= seen.value else seen.best
        est = np.array([p.from_scale(v) for p, v in zip(parameters, z_end, strict=True)])
        value = f_end if f_end < 1e299 else math.inf
        start = Start(k, x0, est, value, bool(res.success), str(res.message), int(res.nfev))
        runs.append(start)
        if progress is not None:
            progress(k, start)
    best = min(runs, key=lambda s: s.nll)
    if not math.isfinite(best.nll):
        raise RuntimeError(
            "no start reached a finite likelihood: check that the data and the model's outputs "
            "overlap (units, times) and that the bounds allow the model to run"
        )
    z_best = np.array([p.to_scale(v) for p, v in zip(parameters, best.estimate, strict=True)])
    cov = _covariance(f, z_best, parameters, hessian_step)
    result = FitResult(tuple(parameters), best.estimate, best.nll, runs, cov, agreement)
    if cov is None:
        result.notes.append(
            "the Hessian at the optimum is not positive definite: at least one parameter "
            "combination is not identifiable from these data (see profile_likelihood)"
        )
    if result.n_converged < 2 and starts > 1:
        result.notes.append(
            f"only one of {starts} starts reached the best objective: use more starts"
        )
    return result


def profile_likelihood(
    nll: Objective,
    fit: FitResult,
    name: str,
    points: int = 11,
    span: float = 3.0,
    method: str = "Powell",
) -> pd.DataFrame:
    """Profile of parameter ``name``: fixed on a grid around its estimate (``span`` standard errors
    each side on its estimation scale, or a quarter of its bound range without a standard error),
    the others re-optimised from the optimum. Columns: value, nll, delta (over the optimum) and
    ``inside_95`` (delta <= chi2(1, 0.95) / 2 = 1.92: the likelihood-ratio 95 % interval)."""
    if name not in fit.names:
        raise ValueError(f"profile: parameter {name!r} was not estimated; allowed: {fit.names}")
    k = fit.names.index(name)
    p = fit.parameters[k]
    centre = float(p.to_scale(fit.estimate[k]))
    lo, hi = p.scaled_bounds
    se = math.sqrt(fit.covariance[k, k]) if fit.covariance is not None else 0.25 * (hi - lo)
    grid = np.clip(np.linspace(centre - span * se, centre + span * se, points), lo, hi)
    others = [q for i, q in enumerate(fit.parameters) if i != k]
    rows = []
    for z in np.unique(grid):
        value = float(p.from_scale(z))

        def partial(x: np.ndarray, value: float = value) -> float:
            return nll(np.insert(x, k, value))

        if others:
            z0 = [q.to_scale(v) for q, v in zip(others, np.delete(fit.estimate, k), strict=True)]
            res = optimize.minimize(
                _scaled_objective(partial, others), np.array(z0), method=method,
                bounds=[q.scaled_bounds for q in others],
            )  # fmt: skip
            best = float(res.fun)
        else:
            best = float(partial(np.array([])))
        rows.append({"parameter": name, "value": value, "nll": best, "delta": best - fit.nll})
    out = pd.DataFrame(rows)
    out["inside_95"] = out["delta"] <= stats.chi2.ppf(0.95, 1) / 2.0
    return out
