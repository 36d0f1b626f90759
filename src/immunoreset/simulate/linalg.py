"""Linear algebra of the Rosenbrock iteration matrix ``G = I/(h gamma) - J``.

Every step factorises ``G`` once and solves with it once per stage, so the factorisation is a
large share of the integrator's work for models of 50-100 states. Two factorisations are here:

* :func:`static_factor` / :func:`static_solve`: a sparse LU whose elimination order and fill-in are
  planned once per Jacobian pattern (:func:`plan_lu`), so each step touches only the entries the
  factors can hold. The order is Markowitz's (Markowitz, Manage Sci 1957;3:255-269): eliminate next
  the diagonal whose row and column have the fewest remaining non-zeros, ``(r - 1)(c - 1)`` being
  the most fill the step can create (with sample matrices, among the diagonals that fail the
  threshold test below in the fewest samples). Pivots stay on the diagonal (static pivoting, as in
  SuperLU_DIST: Li and Demmel, ACM TOMS 2003;29:110-140), accepted only if
  ``|a_kk| >= THRESHOLD * max_i |a_ik| s_k / s_i`` over the column below it (threshold pivoting,
  Duff, Erisman and Reid, *Direct Methods for Sparse Matrices*, 2nd ed., Oxford 2017, section 7.8),
  which bounds the growth of entries by ``1 + 1/THRESHOLD`` per step (thresholds of 0.01-0.1 are
  the usual compromise between stability and sparsity there). The test is made in the
  states' own scales ``s_i`` (the weights of the integrator's error test, ``atol_i + rtol |y_i|``):
  elimination commutes with the diagonal scaling ``D^-1 G D``, and the columns of ``G`` mix states
  whose sizes differ by ten decades (cells/uL next to antigen molecules/uL), so a test on raw
  sizes would decline pivots that are harmless, and accept ones that are not, in the norm the
  error test uses. Ordered on the pattern alone, the plan declined about 15 % of the
  integrated model's steps and half of Park 2025's, which then fell back to the pivoting LU; the
  engine orders it on sample matrices of the model as well (threshold Markowitz, see
  :func:`plan_lu`): in Park 2025 it declines 9 instead of 313 of 3,940 iteration matrices along
  the typical patient's course. The engine runs the plan as generated
  straight-line code (:mod:`.lu_ir`); the loops here are its reference.
* :func:`pivoting_factor` / :func:`pivoting_solve`: LU with partial pivoting (LINPACK ``dgefa``
  order) that skips zero multipliers and zero entries of the pivot row, the fallback when a
  diagonal pivot fails the threshold test.

The planning is plain numpy (run once per pattern); the numerical functions are plain loops that
run unchanged in Python for tests; numba compiles the pivoting pair into the integrator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

THRESHOLD = 0.01
"""Smallest accepted ratio of a diagonal pivot to the largest scaled entry below it."""


@dataclass(frozen=True)
class LuPlan:
    """Elimination order and the structure of the factors of one sparsity pattern.

    Step ``k`` eliminates state ``order[k]``: the rows ``lidx[lptr[k]:lptr[k+1]]`` below it hold
    multipliers (column ``order[k]`` of L) and the columns ``uidx[uptr[k]:uptr[k+1]]`` hold the
    pivot row's entries (row ``order[k]`` of U). ``entry_rows``/``entry_cols`` are the positions
    of the pattern (copied from ``-J``), ``fill_rows``/``fill_cols`` the fill-in positions (start
    at zero); no other entry of the work matrix is read.
    """

    order: np.ndarray
    lptr: np.ndarray
    lidx: np.ndarray
    uptr: np.ndarray
    uidx: np.ndarray
    entry_rows: np.ndarray
    entry_cols: np.ndarray
    fill_rows: np.ndarray
    fill_cols: np.ndarray

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """The plan as the tuple the compiled integrator takes."""
        return (
            self.order, self.lptr, self.lidx, self.uptr, self.uidx,
            self.entry_rows, self.entry_cols, self.fill_rows, self.fill_cols,
        )  # fmt: skip


def plan_lu(
    pattern: np.ndarray, samples: np.ndarray | None = None, order: np.ndarray | None = None
) -> LuPlan:
    """Plan the sparse LU of matrices with non-zeros where ``pattern`` (boolean ``[n, n]``) is
    True, plus the diagonal.

    Without ``samples`` the order is Markowitz's on the pattern alone, ties to the lowest state
    index. ``samples`` (``[m, n, n]``: iteration matrices the integrator will meet, each already
    in its states' scales, ``D^-1 G D``) make it threshold Markowitz (Duff, Erisman and Reid,
    section 7.8): each step takes, among the remaining diagonals, the one whose threshold test
    fails in the fewest samples, then the cheapest by Markowitz's count, then the lowest index,
    and eliminates it in every sample. The pattern alone cannot see that one coupling is ten
    decades larger than a diagonal it meets (in Park 2025, lymphodepletion makes the autoantibody
    row's entry for host CD4+ T cells dwarf their own diagonal, so the structural order declines
    its pivot in every step of the first days and the step falls back to the pivoting LU). The
    plan depends on the pattern and the samples alone, never on the patients being integrated.
    An ``order`` found before (a plan's ``order``) gives that plan again without the samples."""
    n = pattern.shape[0]
    filled = np.asarray(pattern, dtype=bool) | np.eye(n, dtype=bool)
    work = filled.copy()
    remaining = np.ones(n, dtype=bool)
    off_diagonal = ~np.eye(n, dtype=bool)
    chosen = np.empty(n, dtype=np.int64)
    lists: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    values = None if samples is None or order is not None else np.where(filled, samples, 0.0)
    for k in range(n):
        if order is not None:
            p = int(order[k])
        else:
            rows = (work & remaining[None, :]).sum(axis=1)  # remaining non-zeros per row
            cols = (work & remaining[:, None]).sum(axis=0)  # ... per column
            cost = np.where(remaining, (rows - 1) * (cols - 1), np.iinfo(np.int64).max)
            if values is None:
                p = int(np.argmin(cost))
            else:
                declined = _declined(values, work & remaining[:, None] & off_diagonal)
                p = min(np.flatnonzero(remaining), key=lambda j: (declined[j], cost[j], j))
        chosen[k] = p
        remaining[p] = False
        below = np.flatnonzero(work[:, p] & remaining)
        right = np.flatnonzero(work[p, :] & remaining)
        work[np.ix_(below, right)] = True
        if values is not None:
            _eliminate(values, p, below, right)
        lists[0].append(below)
        lists[1].append(right)
    fill = work & ~filled
    entry_rows, entry_cols = np.nonzero(filled)
    fill_rows, fill_cols = np.nonzero(fill)
    return LuPlan(
        chosen,
        *_flat(lists[0]),
        *_flat(lists[1]),
        entry_rows.astype(np.int64),
        entry_cols.astype(np.int64),
        fill_rows.astype(np.int64),
        fill_cols.astype(np.int64),
    )


def _declined(values: np.ndarray, below: np.ndarray) -> np.ndarray:
    """Per column, the number of samples in which its diagonal fails the threshold test against
    the entries ``below`` (boolean ``[n, n]``) it (a sample spoiled by an earlier failure, with
    non-finite entries, counts as failing)."""
    diag = np.abs(np.diagonal(values, axis1=1, axis2=2))
    big = np.max(np.abs(values) * below[None], axis=1)
    with np.errstate(invalid="ignore"):
        ok = (diag >= THRESHOLD * big) & (diag > 0.0) & np.isfinite(diag) & np.isfinite(big)
    return (~ok).sum(axis=0)


def _eliminate(values: np.ndarray, p: int, below: np.ndarray, right: np.ndarray) -> None:
    """One elimination step on every sample (those with a zero pivot become non-finite)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        f = values[:, below, p] / values[:, p, p][:, None]
        values[:, below[:, None], right[None, :]] -= f[:, :, None] * values[:, p, right][:, None, :]
        values[:, below, p] = f


def _flat(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.concatenate([[0], np.cumsum([len(x) for x in parts])]).astype(np.int64)
    idx = np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)
    return ptr, idx


def static_factor(
    a: np.ndarray,
    jac: np.ndarray,
    shift: float,
    inv_scale: np.ndarray,
    order: np.ndarray,
    lptr: np.ndarray,
    lidx: np.ndarray,
    uptr: np.ndarray,
    uidx: np.ndarray,
    entry_rows: np.ndarray,
    entry_cols: np.ndarray,
    fill_rows: np.ndarray,
    fill_cols: np.ndarray,
) -> bool:
    """Factorise ``shift * I - jac`` into ``a`` by the plan; False if a diagonal pivot fails the
    threshold test in the scales ``1 / inv_scale`` (or is zero or not finite), in which case ``a``
    is spoiled and the caller factorises with :func:`pivoting_factor` instead. The scales come as
    reciprocals, computed once per step, so the test multiplies instead of dividing once per entry
    below a pivot.

    The diagonal of ``a`` holds the reciprocal of each pivot, which the factorisation computes
    anyway: :func:`static_solve` multiplies by it, so its back substitution, a chain of dependent
    operations, has no division in the chain (a tenth of a Park 2025 patient's time)."""
    for q in range(entry_rows.shape[0]):
        a[entry_rows[q], entry_cols[q]] = -jac[entry_rows[q], entry_cols[q]]
    for q in range(fill_rows.shape[0]):
        a[fill_rows[q], fill_cols[q]] = 0.0
    for i in range(order.shape[0]):
        a[i, i] += shift
    for k in range(order.shape[0]):
        p = order[k]
        d = a[p, p]
        big = 0.0
        for q in range(lptr[k], lptr[k + 1]):
            i = lidx[q]
            big = max(big, abs(a[i, p]) * inv_scale[i])
        if not (abs(d) * inv_scale[p] >= THRESHOLD * big and d != 0.0 and math.isfinite(d)):
            return False
        inv = 1.0 / d
        a[p, p] = inv
        for q in range(lptr[k], lptr[k + 1]):
            i = lidx[q]
            f = a[i, p] * inv
            a[i, p] = f
            if f != 0.0:
                for r in range(uptr[k], uptr[k + 1]):
                    j = uidx[r]
                    a[i, j] -= f * a[p, j]
    return True


def static_solve(
    a: np.ndarray,
    order: np.ndarray,
    lptr: np.ndarray,
    lidx: np.ndarray,
    uptr: np.ndarray,
    uidx: np.ndarray,
    b: np.ndarray,
) -> None:
    """Solve ``A x = b`` in place with the factors from :func:`static_factor` (pivot
    reciprocals on the diagonal)."""
    n = order.shape[0]
    for k in range(n):
        p = order[k]
        t = b[p]
        if t != 0.0:
            for q in range(lptr[k], lptr[k + 1]):
                i = lidx[q]
                b[i] -= a[i, p] * t
    for k in range(n - 1, -1, -1):
        p = order[k]
        s = b[p]
        for q in range(uptr[k], uptr[k + 1]):
            j = uidx[q]
            s -= a[p, j] * b[j]
        b[p] = s * a[p, p]


def pivoting_factor(
    a: np.ndarray,
    piv: np.ndarray,
    lptr: np.ndarray,
    lidx: np.ndarray,
    uptr: np.ndarray,
    uidx: np.ndarray,
) -> bool:
    """In-place LU factorisation with partial pivoting (LINPACK ``dgefa`` order); False if singular.

    Each elimination step records the rows with a non-zero multiplier (column ``k`` of L, in
    ``lidx[lptr[k]:lptr[k+1]]``) and the non-zero columns of the pivot row (row ``k`` of U above
    the diagonal, in ``uidx[uptr[k]:uptr[k+1]]``), and updates only their products. As in
    ``dgefa``, row interchanges apply to the columns not yet eliminated, so
    :func:`pivoting_solve` replays them during forward substitution.
    """
    n = a.shape[0]
    nl = 0
    nu = 0
    for k in range(n):
        # One pass down column k: the pivot, and the rows that need eliminating.
        p = k
        big = abs(a[k, k])
        lptr[k] = nl
        for i in range(k + 1, n):
            v = a[i, k]
            if v != 0.0:
                lidx[nl] = i
                nl += 1
                if abs(v) > big:
                    big = abs(v)
                    p = i
        piv[k] = p
        if big == 0.0 or not math.isfinite(big):
            return False
        if p != k:
            for j in range(k, n):
                tmp = a[k, j]
                a[k, j] = a[p, j]
                a[p, j] = tmp
            # Row p now holds the old row k: it joins the list if its entry is non-zero, and p
            # leaves it (its entry moved to the diagonal).
            q = lptr[k]
            while q < nl and lidx[q] != p:
                q += 1
            if a[p, k] != 0.0:
                lidx[q] = p  # same slot: row p keeps a non-zero entry
            else:
                nl -= 1
                lidx[q] = lidx[nl]
        uptr[k] = nu
        for j in range(k + 1, n):
            if a[k, j] != 0.0:
                uidx[nu] = j
                nu += 1
        inv = 1.0 / a[k, k]
        for q in range(lptr[k], nl):
            i = lidx[q]
            a[i, k] *= inv
            f = a[i, k]
            for r in range(uptr[k], nu):
                j = uidx[r]
                a[i, j] -= f * a[k, j]
    lptr[n] = nl
    uptr[n] = nu
    return True


def pivoting_solve(
    a: np.ndarray,
    piv: np.ndarray,
    lptr: np.ndarray,
    lidx: np.ndarray,
    uptr: np.ndarray,
    uidx: np.ndarray,
    b: np.ndarray,
) -> None:
    """Solve ``A x = b`` in place with the factors and non-zero lists from :func:`pivoting_factor`."""
    n = a.shape[0]
    for k in range(n):
        p = piv[k]
        t = b[p]
        if p != k:
            b[p] = b[k]
            b[k] = t
        if t != 0.0:
            for q in range(lptr[k], lptr[k + 1]):
                i = lidx[q]
                b[i] -= a[i, k] * t
    for i in range(n - 1, -1, -1):
        s = b[i]
        for q in range(uptr[i], uptr[i + 1]):
            s -= a[i, uidx[q]] * b[uidx[q]]
        b[i] = s / a[i, i]
