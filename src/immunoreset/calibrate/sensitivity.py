"""Sensitivity of endpoints to parameters: global (Sobol' indices, Morris screening) and local.

Global methods wrap SALib (Herman and Usher 2017, J Open Source Softw 2:97; Iwanaga et al. 2022,
Socio-Environmental Systems Modelling 4:18155) and work on any vectorised function that maps an
``(N, d)`` array of parameter values to an ``(N,)`` or ``(N, k)`` array of outputs:

* :func:`sobol_indices`: first-order and total Sobol' indices estimated from Saltelli's sampling
  scheme over a scrambled Sobol' sequence (Saltelli et al. 2010, Comput Phys Commun 181:259), with
  bootstrap confidence intervals. ``N (d + 2)`` evaluations for base sample size ``N``.
* :func:`morris_elementary_effects`: Morris screening (Morris 1991, Technometrics 33:161) with the
  ``mu_star`` measure and, optionally, trajectories chosen for spread (Campolongo, Cariboni and
  Saltelli 2007, Environ Model Softw 22:1509). ``r (d + 1)`` evaluations for ``r`` trajectories.

:func:`model_function` turns a scenario into such a function: the scenario's typical patient, with
the chosen parameters set from each row, simulated in batches by the compiled engine and reduced to
named endpoints (``peak:OBS``, ``auc:OBS``, ``value:OBS@DAY``, ...). :func:`global_sensitivity`
combines it with default ranges from the parameters' stated priors, and :func:`local_sensitivity`
gives normalised derivatives ``d log(endpoint) / d log(parameter)`` at the typical patient by central
finite differences.

Parameter ranges (:class:`Problem`) are sampled uniformly, or log-uniformly for positive parameters
whose plausible values span orders of magnitude: the sampler works in ``log(value)`` and the value
passed to the function is its exponential, so each decade of the range gets the same share of the
sample. Indices are then indices of the parameter itself (the transform is monotone and one to one),
but Morris elementary effects are per fraction of the log range (see
:func:`morris_elementary_effects`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from immunoreset.calibrate.quantities import Quantity
from immunoreset.scenario.schema import Scenario

Function = Callable[[np.ndarray], np.ndarray]
"""``(N, d)`` parameter values -> ``(N,)`` or ``(N, k)`` outputs."""

EndpointFunction = Callable[[np.ndarray, Mapping[str, np.ndarray]], np.ndarray]
"""``(times, outputs)`` -> one value per row; ``outputs[name]`` is ``(rows, len(times))``."""

DEFAULT_FACTOR = 2.0
"""A parameter without a stated prior range is varied from its typical value divided by this factor
to its typical value times it."""

LOG_SPAN = 10.0
"""With ``log=None``, a positive range whose upper bound is at least this many times its lower
bound is sampled log-uniformly."""

DEFAULT_SOBOL_N = 512
DEFAULT_MORRIS_TRAJECTORIES = 20


# --------------------------------------------------------------------------------------------------
# Parameter ranges


@dataclass(frozen=True)
class Problem:
    """Names and ranges of the parameters to vary.

    Attributes:
        names: parameter names (unique).
        bounds: ``(low, high)`` per parameter, ``low < high``, in the parameter's own unit.
        log: per parameter, whether it is sampled log-uniformly (both bounds must then be > 0).
        sources: per parameter, where the range comes from (for tables; may be empty).
    """

    names: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    log: tuple[bool, ...]
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        d = len(self.names)
        if d == 0:
            raise ValueError("problem.names: got none; allowed: at least one parameter name")
        if len(set(self.names)) != d:
            dup = next(n for n in self.names if self.names.count(n) > 1)
            raise ValueError(f"problem.names: {dup!r} repeats; allowed: unique names")
        for field_name, seq in (("bounds", self.bounds), ("log", self.log)):
            if len(seq) != d:
                raise ValueError(
                    f"problem.{field_name}: got {len(seq)} entries; allowed: one per parameter ({d})"
                )
        if self.sources and len(self.sources) != d:
            raise ValueError(
                f"problem.sources: got {len(self.sources)} entries; allowed: none or one per"
                f" parameter ({d})"
            )
        for name, (low, high), log in zip(self.names, self.bounds, self.log, strict=True):
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValueError(
                    f"problem.bounds[{name!r}]: got ({low!r}, {high!r}); allowed: finite low < high"
                )
            if log and low <= 0:
                raise ValueError(
                    f"problem.bounds[{name!r}]: got ({low!r}, {high!r}) with log-uniform sampling;"
                    " allowed: bounds > 0 (or log=False)"
                )

    @classmethod
    def create(
        cls,
        names: Sequence[str],
        bounds: Sequence[tuple[float, float]],
        log: bool | Sequence[bool] = False,
        sources: Sequence[str] | None = None,
    ) -> Problem:
        """A problem from names, ``(low, high)`` bounds and log flags (one for all, or one each)."""
        names = tuple(str(n) for n in names)
        flags = (bool(log),) * len(names) if isinstance(log, bool) else tuple(bool(v) for v in log)
        return cls(
            names=names,
            bounds=tuple((float(lo), float(hi)) for lo, hi in bounds),
            log=flags,
            sources=tuple(sources or ()),
        )

    @property
    def n(self) -> int:
        return len(self.names)

    def salib(self) -> dict[str, Any]:
        """The SALib problem in sampling space: ``log(bounds)`` for log-uniform parameters."""
        bounds = [
            [math.log(lo), math.log(hi)] if log else [lo, hi]
            for (lo, hi), log in zip(self.bounds, self.log, strict=True)
        ]
        return {"num_vars": self.n, "names": list(self.names), "bounds": bounds}

    def to_values(self, x: np.ndarray) -> np.ndarray:
        """Parameter values from sampling-space values (exponential of the log-uniform columns)."""
        values = np.array(x, dtype=float, copy=True)
        cols = [j for j, log in enumerate(self.log) if log]
        values[:, cols] = np.exp(values[:, cols])
        return values

    def table(self) -> pd.DataFrame:
        """``parameter, low, high, scale, source``: one row per parameter."""
        return pd.DataFrame(
            {
                "parameter": list(self.names),
                "low": [b[0] for b in self.bounds],
                "high": [b[1] for b in self.bounds],
                "scale": ["log" if v else "linear" for v in self.log],
                "source": list(self.sources) if self.sources else [""] * self.n,
            }
        )


def as_problem(problem: Problem | Mapping[str, Any]) -> Problem:
    """A :class:`Problem`, or a mapping with ``names``, ``bounds`` and optionally ``log``."""
    if isinstance(problem, Problem):
        return problem
    if isinstance(problem, Mapping) and "names" in problem and "bounds" in problem:
        return Problem.create(problem["names"], problem["bounds"], problem.get("log", False))
    raise ValueError(
        f"problem: got {type(problem).__name__}; allowed: a Problem or a mapping with 'names',"
        " 'bounds' and optionally 'log'"
    )


# --------------------------------------------------------------------------------------------------
# Evaluating a function


class FailedRowsError(ValueError):
    """Some parameter rows gave no finite output (a failed integration, an undefined endpoint).

    Variance-based indices need an output for every row of the design, and dropping rows would bias
    them, so the analysis stops here and names the rows: narrow the ranges, loosen the solver
    (``solver`` in the scenario) or choose endpoints that exist for every parameter set.

    Attributes:
        rows: indices of the failing rows of the design matrix.
        values: their parameter values.
        reasons: one text per failing row.
    """

    def __init__(
        self, message: str, rows: np.ndarray, values: np.ndarray, reasons: list[str]
    ) -> None:
        super().__init__(message)
        self.rows = rows
        self.values = values
        self.reasons = reasons


def _describe_rows(
    rows: np.ndarray, values: np.ndarray, names: Sequence[str], reasons: Sequence[str]
) -> str:
    shown = []
    for r, v, why in list(zip(rows, values, reasons, strict=True))[:5]:
        params = ", ".join(f"{n}={x:.6g}" for n, x in zip(names, v, strict=True))
        shown.append(f"row {int(r)} ({params}): {why}")
    more = f"; and {len(rows) - 5} more" if len(rows) > 5 else ""
    return "; ".join(shown) + more


def _output_names(function: Function, k: int, outputs: Sequence[str] | None) -> tuple[str, ...]:
    names = outputs if outputs is not None else getattr(function, "outputs", None)
    if names is None:
        return ("y",) if k == 1 else tuple(f"y{i}" for i in range(k))
    names = tuple(str(n) for n in names)
    if len(names) != k:
        raise ValueError(
            f"outputs: got {len(names)} names ({', '.join(names)}); allowed: one per output"
            f" column of the function ({k})"
        )
    return names


def evaluate(
    function: Function, values: np.ndarray, names: Sequence[str], outputs: Sequence[str] | None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """``function(values)`` as an ``(N, k)`` array of finite numbers and the output names.

    Raises:
        FailedRowsError: rows with a non-finite output, named with their parameter values.
        ValueError: an output of the wrong shape.
    """
    y = np.asarray(function(values), dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != len(values):
        raise ValueError(
            f"function output: got shape {y.shape}; allowed: ({len(values)},) or"
            f" ({len(values)}, k), one row per parameter row"
        )
    labels = _output_names(function, y.shape[1], outputs)
    bad = np.flatnonzero(~np.isfinite(y).all(axis=1))
    if bad.size:
        reasons = [
            "non-finite "
            + ", ".join(f"{labels[j]}={y[r, j]!r}" for j in np.flatnonzero(~np.isfinite(y[r])))
            for r in bad
        ]
        raise FailedRowsError(
            f"function output: {bad.size} of {len(values)} parameter rows gave non-finite values;"
            f" allowed: finite outputs for every row: {_describe_rows(bad, values[bad], names, reasons)}",
            bad,
            values[bad],
            reasons,
        )
    return y, labels


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _check_seed(seed: int) -> int:
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed: got {seed!r}; allowed: an integer >= 0")
    return int(seed)


def _check_conf(conf_level: float, num_resamples: int) -> None:
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level: got {conf_level!r}; allowed: a number between 0 and 1")
    if num_resamples < 2:
        raise ValueError(f"num_resamples: got {num_resamples!r}; allowed: an integer >= 2")


# --------------------------------------------------------------------------------------------------
# Global methods


def sobol_indices(
    function: Function,
    problem: Problem | Mapping[str, Any],
    n: int,
    seed: int,
    calc_second_order: bool = False,
    *,
    outputs: Sequence[str] | None = None,
    conf_level: float = 0.95,
    num_resamples: int = 100,
) -> pd.DataFrame:
    """First-order and total Sobol' indices of every output with respect to every parameter.

    Saltelli et al. 2010 (Comput Phys Commun 181:259): from two independent base samples ``A`` and
    ``B`` of ``n`` points (a scrambled Sobol' sequence, SALib's ``sample.sobol``) and the ``d``
    matrices ``AB_i`` (``A`` with column ``i`` from ``B``), ``S1_i = mean(f(B) (f(AB_i) - f(A))) /
    V`` and, by Jansen's estimator, ``ST_i = mean((f(A) - f(AB_i))^2) / (2 V)``; ``n (d + 2)``
    evaluations (``n (2d + 2)`` with second-order indices). ``S1`` is the share of the output
    variance explained by the parameter alone, ``ST`` its share including all interactions;
    ``ST`` near 0 means the parameter can be fixed anywhere in its range (Sobol' 2001). The
    ``*_conf`` columns are half-widths of bootstrap confidence intervals at ``conf_level``
    (``num_resamples`` resamples of the ``n`` base points; seeded by ``seed``). Estimates can fall a
    little outside [0, 1]; their error shrinks as ``n^-1/2`` or faster.

    Args:
        function: ``(N, d)`` parameter values (natural scale) -> ``(N,)`` or ``(N, k)`` outputs.
        problem: a :class:`Problem` or a mapping with ``names``, ``bounds`` and optionally ``log``.
        n: base sample size, a power of 2 (the balance properties of the Sobol' sequence hold
            for powers of 2 only).
        seed: seeds the scrambling of the sequence and the bootstrap.
        calc_second_order: also estimate second-order indices (``attrs["S2"]``: ``parameter_1,
            parameter_2, output, S2, S2_conf``).
        outputs: output names (default: ``function.outputs`` if it has one, else ``y`` or
            ``y0, y1, ...``).

    Returns:
        ``parameter, output, S1, S1_conf, ST, ST_conf``; one row per parameter and output. An
        output that is constant over the sample has no variance to apportion: its indices are NaN.
        ``attrs["n_evaluations"]`` is the number of function evaluations.

    Raises:
        FailedRowsError: the function gave a non-finite output for some rows.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    prob = as_problem(problem)
    seed = _check_seed(seed)
    _check_conf(conf_level, num_resamples)
    if not _is_int(n) or n < 2 or n & (n - 1):
        raise ValueError(f"n: got {n!r}; allowed: a power of 2, at least 2 (e.g. 256, 1024)")
    spec = prob.salib()
    x = sobol_sample.sample(spec, int(n), calc_second_order=calc_second_order, seed=seed)
    values = prob.to_values(x)
    y, labels = evaluate(function, values, prob.names, outputs)
    rows, second = [], []
    for j, label in enumerate(labels):
        col = y[:, j]
        if np.ptp(col) == 0:
            rows += [
                {"parameter": p, "output": label, "S1": np.nan, "S1_conf": np.nan,
                 "ST": np.nan, "ST_conf": np.nan}
                for p in prob.names
            ]  # fmt: skip
            second += [
                {"parameter_1": prob.names[a], "parameter_2": prob.names[b], "output": label,
                 "S2": np.nan, "S2_conf": np.nan}
                for a in range(prob.n) for b in range(a + 1, prob.n)
            ]  # fmt: skip
            continue
        # SALib draws its bootstrap from the global numpy state when its seed is falsy (0):
        # a Generator keeps every seed, 0 included, reproducible.
        si = sobol_analyze.analyze(
            spec,
            col,
            calc_second_order=calc_second_order,
            num_resamples=num_resamples,
            conf_level=conf_level,
            seed=np.random.default_rng(seed),
        )
        for i, p in enumerate(prob.names):
            rows.append(
                {
                    "parameter": p,
                    "output": label,
                    "S1": float(si["S1"][i]),
                    "S1_conf": float(si["S1_conf"][i]),
                    "ST": float(si["ST"][i]),
                    "ST_conf": float(si["ST_conf"][i]),
                }
            )
        if calc_second_order:
            for a in range(prob.n):
                for b in range(a + 1, prob.n):
                    second.append(
                        {
                            "parameter_1": prob.names[a],
                            "parameter_2": prob.names[b],
                            "output": label,
                            "S2": float(si["S2"][a, b]),
                            "S2_conf": float(si["S2_conf"][a, b]),
                        }
                    )
    table = pd.DataFrame(rows, columns=["parameter", "output", "S1", "S1_conf", "ST", "ST_conf"])
    table.attrs["n_evaluations"] = len(values)
    if calc_second_order:
        table.attrs["S2"] = pd.DataFrame(
            second, columns=["parameter_1", "parameter_2", "output", "S2", "S2_conf"]
        )
    return table


def morris_elementary_effects(
    function: Function,
    problem: Problem | Mapping[str, Any],
    trajectories: int,
    levels: int = 4,
    seed: int = 0,
    *,
    candidates: int | None = None,
    outputs: Sequence[str] | None = None,
    conf_level: float = 0.95,
    num_resamples: int = 100,
) -> pd.DataFrame:
    """Morris screening: mean, mean absolute value and SD of the elementary effects.

    Morris 1991 (Technometrics 33:161): each of ``trajectories`` random one-at-a-time paths through a
    grid of ``levels`` levels per parameter changes every parameter once by ``Delta = levels /
    (2 (levels - 1))`` of its range, and the elementary effect of that step is ``(f(x + Delta e_i) -
    f(x)) / Delta``: the change of the output per unit of the parameter's range, so a parameter
    that enters linearly as ``c * x`` on ``[a, b]`` has every effect equal to ``c (b - a)``. For a
    log-uniform parameter the range is that of ``log(value)``: an output ``c * log(x)`` on
    ``[a, b]`` has effects ``c * log(b / a)``. ``mu_star`` (the mean absolute effect; Campolongo,
    Cariboni and Saltelli 2007) ranks overall influence and does not cancel effects of opposite sign
    as ``mu`` does; ``sigma`` (SD over trajectories) is 0 for a parameter that acts additively and
    linearly, and large for one with non-linear effects or interactions. ``mu_star_conf`` is the
    half-width of a bootstrap interval. ``trajectories (d + 1)`` evaluations.

    Args:
        function: ``(N, d)`` parameter values (natural scale) -> ``(N,)`` or ``(N, k)`` outputs.
        problem: a :class:`Problem` or a mapping with ``names``, ``bounds`` and optionally ``log``.
        trajectories: number of trajectories ``r`` (at least 2; 10 to 50 is usual).
        levels: grid levels ``p``, even (with even ``p`` and this ``Delta`` every level is visited
            equally often; Morris 1991), at least 2.
        seed: seeds the trajectories and the bootstrap.
        candidates: if given, draw this many trajectories and keep the ``trajectories`` most spread
            out (Campolongo 2007, with SALib's local optimisation), which covers the space better
            for few trajectories.
        outputs: output names, as in :func:`sobol_indices`.

    Returns:
        ``parameter, output, mu, mu_star, sigma, mu_star_conf``; ``attrs["n_evaluations"]``.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    prob = as_problem(problem)
    seed = _check_seed(seed)
    _check_conf(conf_level, num_resamples)
    if not _is_int(trajectories) or trajectories < 2:
        raise ValueError(f"trajectories: got {trajectories!r}; allowed: an integer >= 2")
    if not _is_int(levels) or levels < 2 or levels % 2:
        raise ValueError(f"levels: got {levels!r}; allowed: an even integer >= 2")
    if candidates is not None and (not _is_int(candidates) or candidates <= trajectories):
        raise ValueError(
            f"candidates: got {candidates!r}; allowed: None or an integer above trajectories"
            f" ({trajectories})"
        )
    spec = prob.salib()
    if candidates is None:
        x = morris_sample.sample(spec, trajectories, num_levels=levels, seed=seed)
    else:
        x = morris_sample.sample(
            spec, candidates, num_levels=levels, optimal_trajectories=trajectories, seed=seed
        )
    values = prob.to_values(x)
    y, labels = evaluate(function, values, prob.names, outputs)
    rows = []
    for j, label in enumerate(labels):
        si = morris_analyze.analyze(
            spec,
            x,
            np.ascontiguousarray(y[:, j]),
            num_resamples=num_resamples,
            conf_level=conf_level,
            num_levels=levels,
            seed=seed,
        )
        for i, p in enumerate(prob.names):
            rows.append(
                {
                    "parameter": p,
                    "output": label,
                    "mu": float(si["mu"][i]),
                    "mu_star": float(si["mu_star"][i]),
                    "sigma": float(si["sigma"][i]),
                    "mu_star_conf": float(si["mu_star_conf"][i]),
                }
            )
    table = pd.DataFrame(
        rows, columns=["parameter", "output", "mu", "mu_star", "sigma", "mu_star_conf"]
    )
    table.attrs["n_evaluations"] = len(values)
    return table


# --------------------------------------------------------------------------------------------------
# Endpoints of simulated trajectories


def parse_endpoint(text: str, observables: Sequence[str], times: np.ndarray) -> Quantity:
    """An endpoint from its text (the quantity grammar of :mod:`.quantities`: ``peak:OBS``,
    ``auc:OBS``, ``value:OBS@DAY``, ...), checked against the model's outputs and output grid."""
    return Quantity.parse(text).check(observables, times)


# --------------------------------------------------------------------------------------------------
# Model-based function


class ModelFunction:
    """Endpoints of a scenario's typical patient as a function of some of its parameters.

    Calling it with an ``(N, d)`` array of values of ``parameters`` simulates ``N`` copies of the
    scenario's typical patient (no between-patient variability; the scenario's parameter and
    product overrides applied), each with its row's values, and returns the ``(N, k)`` endpoint
    values. Dosing is recomputed per row, so a per-kg dose follows a varied ``weight_kg``. Rows are
    simulated in batches of ``chunk_size`` so memory stays bounded; a row's result does not depend
    on the batch (see ``docs/engine.md``).

    Attributes:
        parameters: the varied parameter names (columns of the input).
        outputs: the endpoint names (columns of the output).
        units: unit of each endpoint (empty for a custom endpoint function).
        typical: the full parameter vector of the typical patient.
    """

    def __init__(
        self,
        scenario: Scenario,
        parameters: Sequence[str],
        endpoints: Mapping[str, str | EndpointFunction] | Sequence[str],
        chunk_size: int = 256,
    ) -> None:
        from immunoreset.runs.inputs import prepare

        self.inputs = prepare(scenario)
        model = self.inputs.model
        names = model.parameter_names
        if isinstance(parameters, str) or not parameters:
            raise ValueError(
                f"parameters: got {parameters!r}; allowed: a non-empty list of parameter names of"
                f" model {model.name!r}"
            )
        for p in parameters:
            if p not in names:
                raise ValueError(
                    f"parameters: got {p!r}; allowed: parameters of model {model.name!r}:"
                    f" {', '.join(names)}"
                )
        if len(set(parameters)) != len(parameters):
            raise ValueError(f"parameters: got {list(parameters)!r}; allowed: no repeats")
        if chunk_size < 1:
            raise ValueError(f"chunk_size: got {chunk_size!r}; allowed: an integer >= 1")
        self.parameters = tuple(parameters)
        self.index = [names.index(p) for p in parameters]
        self.typical = model.typical_parameters(self.inputs.overrides)
        self.chunk_size = int(chunk_size)
        self.endpoints = self._endpoints(endpoints)
        self.outputs = tuple(self.endpoints)
        self.units = {
            k: e.unit if isinstance(e, Quantity) else "" for k, e in self.endpoints.items()
        }

    def _endpoints(
        self, endpoints: Mapping[str, str | EndpointFunction] | Sequence[str]
    ) -> dict[str, Quantity | EndpointFunction]:
        obs, times = self.inputs.model.observables, self.inputs.times
        items = (
            list(endpoints.items())
            if isinstance(endpoints, Mapping)
            else [(e, e) for e in ([endpoints] if isinstance(endpoints, str) else endpoints)]
        )
        if not items:
            raise ValueError(
                "endpoints: got none; allowed: endpoint texts (e.g. 'peak:car_t_blood') or a"
                " mapping of name to endpoint text or function"
            )
        out: dict[str, Quantity | EndpointFunction] = {}
        for name, spec in items:
            if name in out:
                raise ValueError(f"endpoints: {name!r} repeats; allowed: unique names")
            out[str(name)] = parse_endpoint(spec, obs, times) if isinstance(spec, str) else spec
            if not callable(out[str(name)]):
                raise ValueError(
                    f"endpoints[{name!r}]: got {type(spec).__name__}; allowed: an endpoint text or"
                    " a function (times, outputs) -> one value per row"
                )
        return out

    @property
    def baseline(self) -> np.ndarray:
        """The varied parameters' values in the typical patient."""
        return self.typical[self.index].copy()

    def parameter_matrix(self, x: np.ndarray) -> np.ndarray:
        """Full parameter matrix: the typical patient with the varied columns set from ``x``."""
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != len(self.index):
            raise ValueError(
                f"parameter values: got shape {x.shape}; allowed: (N, {len(self.index)}), one"
                f" column per parameter ({', '.join(self.parameters)})"
            )
        params = np.tile(self.typical, (len(x), 1))
        params[:, self.index] = x
        return params

    def __call__(self, x: np.ndarray) -> np.ndarray:
        from immunoreset.simulate.engine import simulate

        params = self.parameter_matrix(x)
        inputs, model = self.inputs, self.inputs.model
        out = np.empty((len(params), len(self.endpoints)))
        failed: list[int] = []
        reasons: list[str] = []
        for start in range(0, len(params), self.chunk_size):
            chunk = params[start : start + self.chunk_size]
            batch = simulate(
                model, chunk, inputs.events(chunk), inputs.times, inputs.settings,
                inputs.t_start, None, self.typical,
            )  # fmt: skip
            for i in np.flatnonzero(batch.status != 0):
                failed.append(start + int(i))
                reasons.append(batch.status_message(int(i)))
            series = {name: batch.values[:, :, j] for j, name in enumerate(model.observables)}
            for k, endpoint in enumerate(self.endpoints.values()):
                values = np.asarray(endpoint(inputs.times, series), dtype=float)
                if values.shape != (len(chunk),):
                    raise ValueError(
                        f"endpoint {self.outputs[k]!r}: got shape {values.shape}; allowed:"
                        f" ({len(chunk)},), one value per row"
                    )
                out[start : start + len(chunk), k] = values
        if failed:
            rows = np.array(failed)
            x = np.asarray(x, dtype=float)
            raise FailedRowsError(
                f"simulation: {len(rows)} of {len(params)} parameter rows failed to integrate;"
                " allowed: rows that integrate (narrow the ranges or adjust the scenario's solver"
                f" settings): {_describe_rows(rows, x[rows], self.parameters, reasons)}",
                rows,
                x[rows],
                reasons,
            )
        return out


def model_function(
    scenario: Scenario,
    parameters: Sequence[str],
    endpoints: Mapping[str, str | EndpointFunction] | Sequence[str],
    chunk_size: int = 256,
) -> ModelFunction:
    """The function ``(N, d) parameter values -> (N, k) endpoints`` of a scenario's typical patient.

    ``endpoints`` is a list of endpoint texts (:func:`parse_endpoint`; the text is also the output
    name) or a mapping of output name to an endpoint text or a function ``(times, outputs) ->
    values``, where ``outputs[observable]`` is a ``(rows, len(times))`` array in the observable's
    unit. A row whose integration fails stops the evaluation with a :class:`FailedRowsError` that
    names the row, its parameter values and the engine's reason. See :class:`ModelFunction`.
    """
    return ModelFunction(scenario, parameters, endpoints, chunk_size)


def scenario_problem(
    scenario: Scenario,
    parameters: Sequence[str],
    bounds: Mapping[str, tuple[float, float]] | None = None,
    log: bool | Mapping[str, bool] | None = None,
    factor: float = DEFAULT_FACTOR,
) -> Problem:
    """Ranges of ``parameters`` for a scenario: given ``bounds``, else the parameter's stated prior
    range (``prior_low, prior_high`` in the model's parameter table), else its typical value
    (scenario overrides applied) divided and multiplied by ``factor``.

    ``log=None`` samples log-uniformly where the range is positive and spans at least
    :data:`LOG_SPAN`-fold, and for the ``factor`` fallback (a range defined multiplicatively around
    the typical value, which log-uniform sampling keeps centred on it); ``True``/``False`` applies
    to all, a mapping sets single parameters (the rest as with ``None``). ``Problem.sources``
    records which rule gave each range.
    """
    from immunoreset.runs.inputs import prepare

    if not (math.isfinite(factor) and factor > 1):
        raise ValueError(f"factor: got {factor!r}; allowed: a number > 1")
    inputs = prepare(scenario)
    model = inputs.model
    typical = model.typical_parameters(inputs.overrides)
    bounds = dict(bounds or {})
    unknown = [p for p in [*parameters, *bounds] if p not in model.parameter_names]
    if unknown:
        raise ValueError(
            f"parameters: got {unknown[0]!r}; allowed: parameters of model {model.name!r}:"
            f" {', '.join(model.parameter_names)}"
        )
    ranges, sources, flags = [], [], []
    for p in parameters:
        param = model.parameter(p)
        value = float(typical[model.parameter_names.index(p)])
        auto_log = False
        if p in bounds:
            low, high = (float(v) for v in bounds[p])
            source = "given"
        elif param.has_prior:
            low, high = param.prior_low, param.prior_high
            source = "prior range"
        elif value != 0:
            low, high = sorted((value / factor, value * factor))
            source = f"typical value x/÷ {factor:g} (no prior range stated)"
            auto_log = value > 0
        else:
            raise ValueError(
                f"bounds[{p!r}]: the parameter has no prior range and its typical value is 0;"
                " allowed: give bounds for it"
            )
        auto_log = auto_log or (low > 0 and high >= LOG_SPAN * low)
        if isinstance(log, Mapping):
            flag = bool(log.get(p, auto_log))
        elif log is None:
            flag = auto_log
        else:
            flag = bool(log)
        ranges.append((low, high))
        sources.append(source)
        flags.append(flag)
    return Problem.create(parameters, ranges, flags, sources)


def global_sensitivity(
    scenario: Scenario,
    parameters: Sequence[str],
    endpoints: Mapping[str, str | EndpointFunction] | Sequence[str],
    method: Literal["sobol", "morris"] = "sobol",
    n: int | None = None,
    *,
    seed: int,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    log: bool | Mapping[str, bool] | None = None,
    factor: float = DEFAULT_FACTOR,
    levels: int = 4,
    calc_second_order: bool = False,
) -> pd.DataFrame:
    """Sobol' indices or Morris screening of scenario endpoints over parameter ranges.

    Ranges come from :func:`scenario_problem` (``bounds``, else prior ranges, else the typical value
    x/÷ ``factor``); ``n`` is the base sample size for Sobol' (a power of 2, default
    :data:`DEFAULT_SOBOL_N`: ``n (d + 2)`` simulations) and the number of trajectories for Morris
    (default :data:`DEFAULT_MORRIS_TRAJECTORIES`: ``n (d + 1)`` simulations). The table is that of
    :func:`sobol_indices` or :func:`morris_elementary_effects`, with ``attrs["problem"]`` the
    ranges used (:meth:`Problem.table`) and ``attrs["units"]`` the endpoints' units.
    """
    problem = scenario_problem(scenario, parameters, bounds, log, factor)
    function = model_function(scenario, parameters, endpoints)
    if method == "sobol":
        table = sobol_indices(
            function, problem, DEFAULT_SOBOL_N if n is None else n, seed, calc_second_order
        )
    elif method == "morris":
        table = morris_elementary_effects(
            function, problem, DEFAULT_MORRIS_TRAJECTORIES if n is None else n, levels, seed
        )
    else:
        raise ValueError(f"method: got {method!r}; allowed: 'sobol', 'morris'")
    table.attrs["problem"] = problem.table()
    table.attrs["units"] = dict(function.units)
    return table


# --------------------------------------------------------------------------------------------------
# Local sensitivity


def finite_difference_sensitivity(
    function: Function,
    x0: Sequence[float] | np.ndarray,
    rel_step: float = 1e-3,
    *,
    names: Sequence[str] | None = None,
    outputs: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Normalised sensitivities ``(x / y) dy/dx`` at ``x0`` by central differences.

    Each parameter ``x_i`` is moved to ``x_i (1 + h)`` and ``x_i (1 - h)`` with the others at
    ``x0``; all ``1 + 2d`` rows go to ``function`` in one call (one engine batch). The derivative
    ``(y+ - y-) / (2 h x_i)`` has error ``O(h^2)`` (exact for quadratics), and ``(x_i / y0)`` times it
    is the normalised (logarithmic) sensitivity ``d log y / d log x``: the percent change of the
    output per percent change of the parameter, comparable across parameters of any unit. ``h``
    must be large enough that the output change stands above the solver's error (relative
    tolerance ``rtol``: roughly ``h >> rtol``) and small enough for the truncation error.

    Returns:
        ``parameter, output, parameter_value, value, derivative, sensitivity``; ``sensitivity`` is
        NaN where the output at ``x0`` is 0.

    Raises:
        ValueError: a parameter at 0 (no relative step), ``rel_step`` outside (0, 0.5).
        FailedRowsError: a non-finite output.
    """
    x0 = np.asarray(x0, dtype=float).ravel()
    d = len(x0)
    names = tuple(names) if names is not None else tuple(f"x{i}" for i in range(d))
    if len(names) != d:
        raise ValueError(f"names: got {len(names)}; allowed: one per parameter ({d})")
    if not (math.isfinite(rel_step) and 0 < rel_step < 0.5):
        raise ValueError(f"rel_step: got {rel_step!r}; allowed: a number between 0 and 0.5")
    zero = np.flatnonzero(x0 == 0)
    if zero.size:
        raise ValueError(
            f"parameter {names[zero[0]]!r}: got value 0; allowed: a non-zero value (a relative"
            " step needs one)"
        )
    rows = np.tile(x0, (1 + 2 * d, 1))
    for i in range(d):
        rows[1 + i, i] *= 1 + rel_step
        rows[1 + d + i, i] *= 1 - rel_step
    y, labels = evaluate(function, rows, names, outputs)
    y0, up, down = y[0], y[1 : 1 + d], y[1 + d :]
    deriv = (up - down) / (2 * rel_step * x0[:, None])
    records = []
    for i, p in enumerate(names):
        for j, label in enumerate(labels):
            sens = x0[i] * deriv[i, j] / y0[j] if y0[j] != 0 else math.nan
            records.append(
                {
                    "parameter": p,
                    "output": label,
                    "parameter_value": float(x0[i]),
                    "value": float(y0[j]),
                    "derivative": float(deriv[i, j]),
                    "sensitivity": float(sens),
                }
            )
    return pd.DataFrame(records)


def local_sensitivity(
    scenario: Scenario,
    parameters: Sequence[str],
    endpoints: Mapping[str, str | EndpointFunction] | Sequence[str],
    rel_step: float = 1e-3,
) -> pd.DataFrame:
    """Normalised local sensitivities ``d log(endpoint) / d log(parameter)`` at the typical patient.

    Central finite differences (:func:`finite_difference_sensitivity`) on :func:`model_function`,
    all ``1 + 2d`` simulations in one batch. With the default solver tolerance (``rtol`` 1e-6) a
    step of 1e-3 leaves the solver's error about 1e-3 of the output change; set a tighter
    ``solver.rtol`` in the scenario for smaller steps or flat endpoints. ``peak_day`` is refined
    between output days by a parabola; its sensitivity is only as good as that local fit.

    Returns:
        ``parameter, output, unit, parameter_value, value, derivative, sensitivity`` (``value`` is
        the endpoint at the typical patient, in ``unit``).
    """
    function = model_function(scenario, parameters, endpoints)
    table = finite_difference_sensitivity(
        function, function.baseline, rel_step, names=function.parameters
    )
    table.insert(2, "unit", table["output"].map(function.units))
    return table
