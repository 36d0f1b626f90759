"""Virtual-population selection: from a cloud of plausible patients to a population that matches data.

A mechanistic model sampled over its plausible parameter ranges gives a *cloud* of plausible
patients: parameter sets whose simulated markers (baseline biomarkers, responses) are all
physiologically possible but not distributed as in any real population. Allen, Rieger and Musante
(2016, CPT Pharmacometrics Syst Pharmacol 5:140, doi:10.1002/psp4.12063) give two ways to turn such
a cloud into a virtual population whose marker distribution matches observed data; both are here as
plain functions over a DataFrame with one row per plausible patient:

* :func:`acceptance_rejection` keeps each plausible patient with a probability proportional to the
  ratio of the target density to the cloud's own density at its markers (the cloud density is a
  Gaussian kernel density estimate). The kept patients are an unweighted sample from (approximately)
  the target distribution.
* :func:`prevalence_weights` keeps every patient but gives each a weight, chosen so that the weighted
  binned distribution of the markers matches the target's bin probabilities.

Targets are :class:`TargetDistribution` objects: normal, log-normal, empirical (observed values) or
multivariate normal over several markers (for a joint distribution with correlations). Both methods
return a :class:`Selection` with the weights, the effective sample size (Kish 1965) and
goodness-of-fit statistics per marker.

Reproducibility: the uniform number that decides whether patient ``i`` is kept comes from its own
random stream, keyed by the seed and the patient's id (``patient_id`` column), so a selection does not
depend on the row order of the cloud or on how the cloud was assembled from chunks. The stream key
also carries a constant purpose tag: without it the stream would be the very one that
:func:`immunoreset.population.sampling.sample_parameters` uses to draw that patient's parameters with
the same seed, and acceptance would be correlated with the patient's first random effect.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

ID_COLUMN = "patient_id"
SELECTION_STREAM = 7
"""Purpose tag in the per-patient seed of the acceptance draw (never renumber: it enters the seed)."""

KINDS = ("normal", "lognormal", "empirical", "multivariate_normal")
Kind = Literal["normal", "lognormal", "empirical", "multivariate_normal"]


# --------------------------------------------------------------------------------------------------
# Target distributions


@dataclass(frozen=True)
class TargetDistribution:
    """The distribution a marker (or several markers jointly) should have in the virtual population.

    Build one with :meth:`normal`, :meth:`lognormal`, :meth:`empirical` or
    :meth:`multivariate_normal`. In the ``targets`` mapping of :func:`acceptance_rejection` and
    :func:`prevalence_weights`, a univariate target is keyed by the name of its marker column; a
    multivariate target names its marker columns itself (``markers``) and its key is only a label.

    Attributes:
        kind: ``normal``, ``lognormal``, ``empirical`` or ``multivariate_normal``.
        mean: ``(mean,)`` for a normal target, ``(mean of log,)`` for a log-normal one, the mean
            vector for a multivariate normal one; empty for an empirical target.
        sd: standard deviation (normal) or standard deviation of the log (log-normal); ``nan``
            otherwise.
        covariance: covariance matrix (multivariate normal), row by row.
        data: observed values (empirical).
        markers: marker columns of a multivariate normal target, in the order of ``mean``.
    """

    kind: Kind
    mean: tuple[float, ...] = ()
    sd: float = math.nan
    covariance: tuple[tuple[float, ...], ...] = ()
    data: tuple[float, ...] = ()
    markers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"TargetDistribution.kind: got {self.kind!r}; allowed: {', '.join(KINDS)}"
            )
        if self.kind in ("normal", "lognormal"):
            _check_univariate(self)
        elif self.kind == "empirical":
            values = np.asarray(self.data, dtype=float)
            if values.size < 2 or not np.all(np.isfinite(values)) or np.ptp(values) == 0:
                raise ValueError(
                    f"TargetDistribution.data: got {values.size} values"
                    f"{' (not all finite or all equal)' if values.size >= 2 else ''}; allowed: at"
                    " least 2 finite values that are not all equal"
                )
        else:
            _check_multivariate(self)

    @classmethod
    def normal(cls, mean: float, sd: float) -> TargetDistribution:
        """Normal with ``mean`` and standard deviation ``sd`` (> 0)."""
        return cls("normal", mean=(float(mean),), sd=float(sd))

    @classmethod
    def lognormal(cls, meanlog: float, sdlog: float) -> TargetDistribution:
        """Log-normal: ``log(value)`` is normal with mean ``meanlog`` and sd ``sdlog`` (> 0).

        Published summaries often give a geometric mean ``g`` and geometric SD ``s``: then
        ``meanlog = log(g)`` and ``sdlog = log(s)``.
        """
        return cls("lognormal", mean=(float(meanlog),), sd=float(sdlog))

    @classmethod
    def empirical(cls, values: Sequence[float] | np.ndarray) -> TargetDistribution:
        """The distribution of observed ``values`` (at least two, not all equal)."""
        return cls("empirical", data=tuple(float(v) for v in np.ravel(values)))

    @classmethod
    def multivariate_normal(
        cls, markers: Sequence[str], mean: Sequence[float], covariance: Sequence[Sequence[float]]
    ) -> TargetDistribution:
        """Joint normal over ``markers`` with ``mean`` vector and ``covariance`` matrix."""
        return cls(
            "multivariate_normal",
            mean=tuple(float(v) for v in mean),
            covariance=tuple(tuple(float(v) for v in row) for row in covariance),
            markers=tuple(str(m) for m in markers),
        )

    # -- properties used by the selection methods ------------------------------------------------

    def marker_names(self, key: str) -> tuple[str, ...]:
        """The marker columns this target describes when it is stored under ``key``."""
        return self.markers if self.kind == "multivariate_normal" else (key,)

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """Log density at the rows of ``x`` (shape ``(n, k)``, k = number of markers)."""
        if self.kind == "normal":
            return stats.norm.logpdf(x[:, 0], self.mean[0], self.sd)
        if self.kind == "lognormal":
            v = x[:, 0]
            out = np.full(len(v), -np.inf)
            pos = v > 0
            logv = np.log(v[pos])
            out[pos] = stats.norm.logpdf(logv, self.mean[0], self.sd) - logv
            return out
        if self.kind == "empirical":
            return stats.gaussian_kde(np.asarray(self.data)).logpdf(x[:, 0])
        return stats.multivariate_normal(np.asarray(self.mean), self._cov()).logpdf(x)

    def marginal_cdf(self, j: int, x: np.ndarray) -> np.ndarray:
        """CDF of marker ``j`` (0 for univariate targets) at ``x``; not for empirical targets."""
        if self.kind == "normal":
            return stats.norm.cdf(x, self.mean[0], self.sd)
        if self.kind == "lognormal":
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(
                    x > 0, (np.log(np.where(x > 0, x, 1.0)) - self.mean[0]) / self.sd, -np.inf
                )
            return stats.norm.cdf(z)
        if self.kind == "multivariate_normal":
            return stats.norm.cdf(x, self.mean[j], math.sqrt(self.covariance[j][j]))
        raise ValueError("an empirical target has no closed-form CDF")

    def marginal_moments(self, j: int) -> tuple[float, float]:
        """Mean and standard deviation of marker ``j`` under the target."""
        if self.kind == "normal":
            return self.mean[0], self.sd
        if self.kind == "lognormal":
            mu, s2 = self.mean[0], self.sd**2
            return math.exp(mu + s2 / 2), math.sqrt(math.expm1(s2) * math.exp(2 * mu + s2))
        if self.kind == "empirical":
            values = np.asarray(self.data)
            return float(values.mean()), float(values.std(ddof=1))
        return self.mean[j], math.sqrt(self.covariance[j][j])

    def describe(self) -> str:
        """A short text for tables, e.g. ``normal(1, 0.5)``."""
        if self.kind in ("normal", "lognormal"):
            return f"{self.kind}({self.mean[0]:.4g}, {self.sd:.4g})"
        if self.kind == "empirical":
            return f"empirical(n={len(self.data)})"
        return f"multivariate_normal({', '.join(self.markers)})"

    def _cov(self) -> np.ndarray:
        return np.asarray(self.covariance, dtype=float)


def _check_univariate(target: TargetDistribution) -> None:
    if len(target.mean) != 1 or not math.isfinite(target.mean[0]):
        raise ValueError(
            f"TargetDistribution.mean: got {target.mean!r}; allowed: one finite number"
        )
    if not (math.isfinite(target.sd) and target.sd > 0):
        name = "sdlog" if target.kind == "lognormal" else "sd"
        raise ValueError(
            f"TargetDistribution.{name}: got {target.sd!r}; allowed: a finite number > 0"
        )


def _check_multivariate(target: TargetDistribution) -> None:
    k = len(target.markers)
    if k < 1 or len(set(target.markers)) != k:
        raise ValueError(
            f"TargetDistribution.markers: got {target.markers!r}; allowed: at least one marker"
            " name, no repeats"
        )
    mean = np.asarray(target.mean, dtype=float)
    if mean.shape != (k,) or not np.all(np.isfinite(mean)):
        raise ValueError(
            f"TargetDistribution.mean: got {target.mean!r}; allowed: {k} finite numbers, one per"
            " marker"
        )
    cov = np.asarray(target.covariance, dtype=float)
    if cov.shape != (k, k) or not np.all(np.isfinite(cov)) or not np.allclose(cov, cov.T):
        raise ValueError(
            f"TargetDistribution.covariance: got shape {cov.shape}; allowed: a finite symmetric"
            f" {k} x {k} matrix"
        )
    if np.linalg.eigvalsh(cov).min() <= 0:
        raise ValueError(
            "TargetDistribution.covariance: got a matrix that is not positive definite; allowed:"
            " a positive-definite covariance (every sd > 0, |correlation| < 1)"
        )


# --------------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True, eq=False)
class Selection:
    """A virtual population selected from a cloud of plausible patients.

    Attributes:
        method: ``acceptance_rejection`` or ``prevalence_weights``.
        patient_id: every patient of the cloud, in increasing id order.
        weights: each patient's weight, in the order of ``patient_id``; non-negative, summing to 1.
            Acceptance-rejection gives every kept patient the same weight and the others 0.
        ess: Kish's effective sample size ``(sum w)^2 / sum w^2`` (Kish 1965, *Survey Sampling*):
            the number of equally weighted patients that would give an estimate of a mean the same
            variance. It equals the number kept for equal weights.
        fit: goodness of fit per marker (see :meth:`summary`).
        info: method details: acceptance probabilities and kernel bandwidth (acceptance-rejection);
            bins, cells, raking iterations, convergence and target probability no patient
            reaches (prevalence weighting).
    """

    method: str
    patient_id: np.ndarray
    weights: np.ndarray
    ess: float
    fit: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def selected(self) -> np.ndarray:
        """Ids of the patients with a weight above 0."""
        return self.patient_id[self.weights > 0]

    @property
    def n_selected(self) -> int:
        return int(np.count_nonzero(self.weights > 0))

    def table(self) -> pd.DataFrame:
        """``patient_id, weight, selected``: one row per patient of the cloud."""
        return pd.DataFrame(
            {ID_COLUMN: self.patient_id, "weight": self.weights, "selected": self.weights > 0}
        )

    def summary(self) -> pd.DataFrame:
        """One row per marker: ``marker, target, n_selected, ess, mean_selected, mean_target,
        sd_selected, sd_target, ks_statistic, ks_pvalue``.

        Selected means and SDs are weighted; the SD uses the unbiased weighted variance
        ``sum w (x - m)^2 / (1 - sum w^2)`` (weights summing to 1), which is the usual ``n - 1``
        sample SD for equal weights. The Kolmogorov-Smirnov statistic compares the weighted
        empirical CDF with the target's CDF (with the observed sample's empirical CDF for an
        empirical target); its p-value is approximated by using the effective sample size as the
        sample size: the exact one-sample distribution (``scipy.stats.kstwo``) with ``n =
        floor(ESS)`` against a parametric target, the asymptotic Kolmogorov distribution with
        ``n_eff = ESS m / (ESS + m)`` against ``m`` observed values. For equal weights against a
        parametric target this is the exact KS test.
        """
        out = self.fit.copy()
        out.insert(2, "n_selected", self.n_selected)
        out.insert(3, "ess", self.ess)
        return out


# --------------------------------------------------------------------------------------------------
# Validation of inputs


def _marker_columns(
    targets: Mapping[str, TargetDistribution],
) -> list[tuple[str, TargetDistribution, int]]:
    """``(marker, target, index within target)`` for every marker, in the order of ``targets``."""
    if not isinstance(targets, Mapping) or not targets:
        raise ValueError(
            f"targets: got {type(targets).__name__} {targets!r}; allowed: a non-empty mapping of"
            " marker name to TargetDistribution"
        )
    seen: dict[str, str] = {}
    out = []
    for key, target in targets.items():
        if not isinstance(target, TargetDistribution):
            raise ValueError(
                f"targets[{key!r}]: got {type(target).__name__}; allowed: a TargetDistribution"
            )
        for j, marker in enumerate(target.marker_names(key)):
            if marker in seen:
                raise ValueError(
                    f"targets[{key!r}]: marker {marker!r} already has a target (targets"
                    f"[{seen[marker]!r}]); allowed: one target per marker"
                )
            seen[marker] = key
            out.append((marker, target, j))
    return out


def _prepare_cloud(
    cloud: pd.DataFrame, markers: list[str], id_column: str
) -> tuple[np.ndarray, np.ndarray]:
    """Ids (sorted) and the marker matrix in id order, after checking the cloud."""
    if not isinstance(cloud, pd.DataFrame):
        raise ValueError(f"cloud: got {type(cloud).__name__}; allowed: a pandas DataFrame")
    if len(cloud) == 0:
        raise ValueError("cloud: got 0 rows; allowed: at least one plausible patient per row")
    missing = [m for m in [id_column, *markers] if m not in cloud.columns]
    if missing:
        raise ValueError(
            f"cloud: column {missing[0]!r} is missing; allowed: a DataFrame with columns"
            f" {id_column!r} and every target marker ({', '.join(markers)}); it has"
            f" {', '.join(map(str, cloud.columns))}"
        )
    ids = cloud[id_column].to_numpy()
    if not np.issubdtype(ids.dtype, np.integer) or (ids < 0).any():
        raise ValueError(
            f"cloud.{id_column}: got dtype {ids.dtype} (min {ids.min()}); allowed: integers >= 0"
            " (they key each patient's random stream)"
        )
    order = np.argsort(ids, kind="stable")
    ids = ids[order].astype(np.int64)
    dup = ids[1:][np.diff(ids) == 0]
    if dup.size:
        raise ValueError(f"cloud.{id_column}: id {int(dup[0])} repeats; allowed: unique ids")
    x = cloud[markers].to_numpy(dtype=float)[order]
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"cloud.{markers[col]}: got {float(x[row, col])!r} for {id_column} {int(ids[row])}; allowed:"
            " finite numbers (drop or fix patients whose simulation failed)"
        )
    return ids, x


# --------------------------------------------------------------------------------------------------
# Goodness of fit


def _weighted_moments(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and unbiased weighted SD (``w`` sums to 1)."""
    mean = float(np.sum(w * x))
    denom = 1.0 - float(np.sum(w**2))
    if denom <= 0:
        return mean, math.nan
    return mean, math.sqrt(float(np.sum(w * (x - mean) ** 2)) / denom)


def _weighted_ecdf(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct support points of the weighted sample and the ECDF just after each."""
    keep = w > 0
    xs, ws = x[keep], w[keep]
    order = np.argsort(xs, kind="stable")
    xs, ws = xs[order], ws[order]
    points, start = np.unique(xs, return_index=True)
    cum = np.cumsum(ws)
    ends = np.r_[start[1:], len(xs)] - 1
    return points, np.minimum(cum[ends], 1.0)


def ks_weighted(
    x: np.ndarray, w: np.ndarray, target: TargetDistribution, j: int, ess: float
) -> tuple[float, float]:
    """Kolmogorov-Smirnov statistic and approximate p-value of the weighted sample ``(x, w)``
    against marker ``j`` of ``target`` (see :meth:`Selection.summary` for the approximation)."""
    points, after = _weighted_ecdf(x, w)
    before = np.r_[0.0, after[:-1]]
    if target.kind == "empirical":
        data = np.sort(np.asarray(target.data))
        grid = np.union1d(points, data)
        f_w = np.r_[0.0, after][np.searchsorted(points, grid, side="right")]
        f_d = np.searchsorted(data, grid, side="right") / len(data)
        d = float(np.max(np.abs(f_w - f_d)))
        m = len(data)
        n_eff = ess * m / (ess + m)
        return d, float(stats.kstwobign.sf(d * math.sqrt(n_eff)))
    f = target.marginal_cdf(j, points)
    d = float(max(np.max(after - f), np.max(f - before), 0.0))
    n = max(1, math.floor(ess + 1e-9))
    return d, float(stats.kstwo.sf(d, n))


def _fit_table(
    columns: list[tuple[str, TargetDistribution, int]], x: np.ndarray, w: np.ndarray, ess: float
) -> pd.DataFrame:
    rows = []
    for col, (marker, target, j) in enumerate(columns):
        if not (w > 0).any():
            sel_mean = sel_sd = d = p = math.nan
        else:
            sel_mean, sel_sd = _weighted_moments(x[:, col], w)
            d, p = ks_weighted(x[:, col], w, target, j, ess)
        t_mean, t_sd = target.marginal_moments(j)
        rows.append(
            {
                "marker": marker,
                "target": target.describe(),
                "mean_selected": sel_mean,
                "mean_target": t_mean,
                "sd_selected": sel_sd,
                "sd_target": t_sd,
                "ks_statistic": d,
                "ks_pvalue": p,
            }
        )
    return pd.DataFrame(rows)


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (Kish 1965); 0 for no weight."""
    w = np.asarray(weights, dtype=float)
    s2 = float(np.sum(w**2))
    return float(np.sum(w)) ** 2 / s2 if s2 > 0 else 0.0


# --------------------------------------------------------------------------------------------------
# Acceptance-rejection


def _log_target(targets: Mapping[str, TargetDistribution], x: np.ndarray) -> np.ndarray:
    """Log of the joint target density at the rows of ``x`` (columns in the order of
    :func:`_marker_columns`): targets are independent of one another."""
    total = np.zeros(len(x))
    col = 0
    for key, target in targets.items():
        k = len(target.marker_names(key))
        total += target.log_density(x[:, col : col + k])
        col += k
    return total


def patient_uniforms(seed: int, patient_ids: np.ndarray) -> np.ndarray:
    """One uniform number on [0, 1) per patient, from the stream keyed by ``(seed, purpose, id)``."""
    return np.array(
        [
            np.random.default_rng(
                np.random.SeedSequence([int(seed), SELECTION_STREAM, int(i)])
            ).random()
            for i in patient_ids
        ]
    )


def acceptance_rejection(
    cloud: pd.DataFrame,
    targets: Mapping[str, TargetDistribution],
    rng_seed: int,
    *,
    id_column: str = ID_COLUMN,
    bandwidth: str | float | None = None,
) -> Selection:
    """Keep each plausible patient with probability proportional to target density / cloud density.

    Allen et al. 2016 (CPT Pharmacometrics Syst Pharmacol 5:140): with ``p_t`` the target density
    and ``p_c`` the density of the cloud, both at patient ``i``'s markers ``x_i``, patient ``i`` is
    kept with probability ``r_i / max_j r_j`` where ``r_i = p_t(x_i) / p_c(x_i)``. The kept patients
    are then a sample from ``p_c * r / max r``, proportional to ``p_t`` wherever the cloud covers the
    target. Scaling by the largest ratio keeps as many patients as possible while no probability
    exceeds 1 (Allen 2016 tune this factor further; a larger factor keeps more patients at the
    cost of capping the probability of the best-matching ones, which distorts the fit).

    ``p_c`` is a Gaussian kernel density estimate of the cloud over all target markers jointly
    (``scipy.stats.gaussian_kde``; ``bandwidth`` is its ``bw_method``, default Scott's rule). A
    kernel estimate smooths the cloud: near a hard edge of the cloud (a uniform sampling range) it
    underestimates the density, so patients there are kept a little too often; keep the cloud
    broader than the target. Its cost grows with the square of the cloud size (about 10^4 patients
    take seconds). Markers of different targets are independent in the target; use one
    multivariate-normal target for correlated markers.

    The decision uses one uniform number per patient from the stream keyed by ``rng_seed`` and its
    ``id_column`` value (:func:`patient_uniforms`), so the same seed keeps the same patients
    whatever the row order of ``cloud``.

    Raises:
        ValueError: a missing marker or id column, non-finite markers, repeated or negative ids, an
            empty cloud, fewer patients than needed for a density estimate, or no patient inside
            the target's support.
    """
    if isinstance(rng_seed, bool) or not isinstance(rng_seed, int | np.integer) or rng_seed < 0:
        raise ValueError(f"rng_seed: got {rng_seed!r}; allowed: an integer >= 0")
    columns = _marker_columns(targets)
    markers = [c[0] for c in columns]
    ids, x = _prepare_cloud(cloud, markers, id_column)
    if len(ids) <= len(markers):
        raise ValueError(
            f"cloud: got {len(ids)} rows; allowed: more rows than markers ({len(markers)}) for the"
            " kernel density estimate of the cloud"
        )
    try:
        kde = stats.gaussian_kde(x.T, bw_method=bandwidth)
    except np.linalg.LinAlgError as exc:
        raise ValueError(
            f"cloud: the markers {', '.join(markers)} are collinear or constant across patients;"
            " allowed: markers that vary independently (a kernel density estimate needs a"
            " non-singular covariance)"
        ) from exc
    with np.errstate(divide="ignore"):
        # kde(x) is several times faster than kde.logpdf(x); each patient's own kernel keeps the
        # cloud density at its markers well above the smallest float.
        log_ratio = _log_target(targets, x) - np.log(kde(x.T))
    finite = np.isfinite(log_ratio)
    if not finite.any():
        raise ValueError(
            "targets: no patient of the cloud lies where the target density is above 0; allowed:"
            " targets that overlap the cloud"
        )
    prob = np.zeros(len(ids))
    prob[finite] = np.exp(log_ratio[finite] - log_ratio[finite].max())
    keep = patient_uniforms(rng_seed, ids) < prob
    n_keep = int(keep.sum())
    weights = np.where(keep, 1.0 / n_keep, 0.0) if n_keep else np.zeros(len(ids))
    ess = effective_sample_size(weights)
    return Selection(
        method="acceptance_rejection",
        patient_id=ids,
        weights=weights,
        ess=ess,
        fit=_fit_table(columns, x, weights, ess),
        info={
            "acceptance_probability": prob,
            "expected_n_selected": float(prob.sum()),
            "bandwidth": float(kde.factor),
        },
    )


# --------------------------------------------------------------------------------------------------
# Prevalence weighting


@dataclass(frozen=True)
class _Binning:
    """Bin of every patient under one target (-1 outside its support) and the target's bin
    probabilities."""

    name: str
    index: np.ndarray
    probability: np.ndarray


TAIL_PROBABILITIES = (1e-4, 1e-3, 1e-2)
"""Extra bin edges in each tail of a parametric target (cumulative probabilities): the outermost
equiprobable bin is open-ended, and a cloud much broader than the target would otherwise give its
far-out patients the same weight as those near the bin's inner edge."""


def _cumulative_edges(bins: int) -> np.ndarray:
    """Cumulative target probabilities of the bin edges: ``k / bins`` plus the tail edges."""
    inner = np.arange(1, bins) / bins
    tails = np.array([p for p in TAIL_PROBABILITIES if p < 1.0 / bins])
    return np.unique(np.r_[tails, inner, 1.0 - tails])


def _bins_of(key: str, target: TargetDistribution, x: np.ndarray, bins: int) -> _Binning:
    """Bins with known target probabilities (see :func:`prevalence_weights`)."""
    cum = _cumulative_edges(bins)
    edges = stats.norm.ppf(cum)
    prob = np.diff(np.r_[0.0, cum, 1.0])
    if target.kind == "normal":
        z = (x[:, 0] - target.mean[0]) / target.sd
        return _Binning(key, np.searchsorted(edges, z, side="right"), prob)
    if target.kind == "lognormal":
        v = x[:, 0]
        index = np.full(len(v), -1)
        pos = v > 0
        z = (np.log(v[pos]) - target.mean[0]) / target.sd
        index[pos] = np.searchsorted(edges, z, side="right")
        return _Binning(key, index, prob)
    if target.kind == "empirical":
        # Bins (c_j-1, c_j] between observed quantiles; the first edge lies just below the smallest
        # observation, so values below it or above the largest fall in bins of probability 0.
        data = np.asarray(target.data)
        cuts = np.unique(np.quantile(data, np.arange(0, bins + 1) / bins))
        cuts[0] = np.nextafter(cuts[0], -np.inf)
        counts = np.bincount(np.searchsorted(cuts, data, side="left"), minlength=len(cuts) + 1)
        index = np.searchsorted(cuts, x[:, 0], side="left")
        return _Binning(key, index, counts / len(data))
    k = len(target.markers)
    chol = np.linalg.cholesky(target._cov())
    z = np.linalg.solve(chol, (x - np.asarray(target.mean)).T).T
    per_axis = np.searchsorted(edges, z, side="right")
    index = np.ravel_multi_index(tuple(per_axis.T), (len(prob),) * k)
    joint = prob
    for _ in range(k - 1):
        joint = np.multiply.outer(joint, prob).ravel()
    return _Binning(key, index, joint)


def prevalence_weights(
    cloud: pd.DataFrame,
    targets: Mapping[str, TargetDistribution],
    bins: int = 20,
    *,
    id_column: str = ID_COLUMN,
    max_iter: int = 1000,
    tol: float = 1e-10,
) -> Selection:
    """Weights on every plausible patient so that the weighted markers match the targets.

    Prevalence weighting after Allen et al. 2016 (CPT Pharmacometrics Syst Pharmacol 5:140), who
    weight plausible patients so that binned model outputs match the binned data. What is
    implemented:

    1. Each target splits its markers into bins with known target probabilities ``q_tb``. A
       normal or log-normal target: ``bins`` equiprobable bins (edges at its quantiles ``j /
       bins``), the outermost ones split further at the 0.01 %, 0.1 % and 1 % quantiles
       (:data:`TAIL_PROBABILITIES`) so that patients far outside the target's range get almost
       no weight. An empirical target: bins between the observed quantiles ``j / bins``, with ``q``
       the observed fraction in each; values outside the observed range get weight 0. A
       multivariate normal over ``k`` markers: the same edges on each axis of the whitened
       coordinates ``z = L^-1 (x - mean)`` (``covariance = L L^T``), where the target is a product
       of independent standard normals, so a cell's probability is the product of its axes'
       probabilities; this matches the joint distribution, correlations included, at the
       resolution of the grid. The grid has ``(bins + 6)**k`` cells: keep ``bins`` small (about
       5) for ``k >= 3``.
    2. Patients that fall in the same bin of every target form a cell and share its weight
       equally (for given cell totals, equal shares give the largest effective sample size).
    3. The cell totals are found by raking (iterative proportional fitting; Deming and Stephan
       1940, Ann Math Stat 11:427): starting from the cloud's own shares, the cells are rescaled
       target by target until every target's weighted bin probabilities equal ``q_tb`` (to
       ``tol``). Where the bins can be matched, the result is the weighting closest to the cloud
       in Kullback-Leibler divergence (Ireland and Kullback 1968, Biometrika 55:179), hence as
       even as the fit allows; with a single target it is ``q`` spread over each bin's patients.
       Patients outside a target's support (a value <= 0 under a log-normal target) get weight 0.

    Within a bin the weighted values follow the cloud, not the target's shape: a cloud much
    broader than the target leaves the weighted SD a little too large (about 2 % with 20 bins for a
    cloud three times as wide); more bins reduce this at the cost of effective sample size. A
    bin that no plausible patient reaches cannot be matched: the other bins share its probability,
    ``info["unreached_probability"]`` says how much it was per target, and the goodness-of-fit
    statistics show the gap. For separate targets only each target's own bins are matched; their
    dependence stays as close to the cloud's as the margins allow (use one multivariate-normal
    target to impose a correlation).

    Raises:
        ValueError: as :func:`acceptance_rejection`, or ``bins`` below 2.
    """
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 2:
        raise ValueError(f"bins: got {bins!r}; allowed: an integer >= 2")
    if not (isinstance(max_iter, int) and max_iter >= 1):
        raise ValueError(f"max_iter: got {max_iter!r}; allowed: an integer >= 1")
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol: got {tol!r}; allowed: a number > 0")
    columns = _marker_columns(targets)
    markers = [c[0] for c in columns]
    ids, x = _prepare_cloud(cloud, markers, id_column)
    binnings = []
    col = 0
    for key, target in targets.items():
        k = len(target.marker_names(key))
        binnings.append(_bins_of(key, target, x[:, col : col + k], int(bins)))
        col += k
    keys = np.column_stack([b.index for b in binnings])
    cells, cell_of, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    cell_of = cell_of.ravel()
    allowed = np.ones(len(cells), dtype=bool)
    for t, b in enumerate(binnings):
        inside = cells[:, t] >= 0
        allowed &= inside
        allowed[inside] &= b.probability[cells[inside, t]] > 0
    if not allowed.any():
        raise ValueError(
            "targets: no patient of the cloud lies where the target probability is above 0;"
            " allowed: targets that overlap the cloud"
        )
    cell_bins = [np.where(allowed, cells[:, t], 0) for t in range(len(binnings))]
    goals, unreached = [], {}
    for t, b in enumerate(binnings):
        reached = np.bincount(cell_bins[t][allowed], minlength=len(b.probability)) > 0
        share = float(b.probability[reached].sum())
        unreached[b.name] = max(0.0, 1.0 - share)
        goals.append(np.where(reached, b.probability, 0.0) / share)
    total = np.where(allowed, counts, 0).astype(float)
    total /= total.sum()
    error = math.inf
    iterations = 0
    while iterations < max_iter and error > tol:
        iterations += 1
        for t, goal in enumerate(goals):
            current = np.bincount(cell_bins[t], weights=total, minlength=len(goal))
            scale = np.divide(goal, current, out=np.zeros_like(goal), where=current > 0)
            total *= scale[cell_bins[t]]
        error = max(
            float(np.abs(np.bincount(cell_bins[t], weights=total, minlength=len(g)) - g).max())
            for t, g in enumerate(goals)
        )
    total /= total.sum()
    weights = total[cell_of] / counts[cell_of]
    ess = effective_sample_size(weights)
    return Selection(
        method="prevalence_weights",
        patient_id=ids,
        weights=weights,
        ess=ess,
        fit=_fit_table(columns, x, weights, ess),
        info={
            "bins": int(bins),
            "n_cells": int(allowed.sum()),
            "unreached_probability": unreached,
            "max_bin_error": error,
            "iterations": iterations,
            "converged": error <= tol,
        },
    )
