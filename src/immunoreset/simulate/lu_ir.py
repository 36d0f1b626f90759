"""The planned sparse LU of :mod:`.linalg` written out as straight-line machine code.

Every RODAS5P step factorises the iteration matrix once and solves with it eight times
(:mod:`.rodas5p`), and with the plan fixed per Jacobian pattern (:func:`.linalg.plan_lu`) every
index the loops of :func:`.linalg.static_factor` and :func:`.linalg.static_solve` read is known in
advance. Unrolled into LLVM IR, the entries live in registers and no index is loaded: for the
integrated model's pattern-only plan (81 states, 1,561 updates) a factorisation takes about half the time of
the loops compiled by numba and a solve about a third; for Park 2025's about a quarter and a
sixth. The arithmetic is the loops', operation for operation and without contraction into fused
multiply-adds, so the factors and solutions are the same numbers (tested bit for bit). The only
difference: a NaN anywhere in a pivot's column fails the pivot test here (the loops' ``max`` can
skip it), so such a step goes to the pivoting LU.

Compiled once per plan and process; the machine code is cached on disk (:mod:`.machine_code`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from immunoreset.simulate import lanes_ir
from immunoreset.simulate.kernels import cache_dir
from immunoreset.simulate.linalg import THRESHOLD, LuPlan
from immunoreset.simulate.machine_code import IrFunction, compile_ir, ir_double

FACTOR, SOLVE = "lu_factor", "lu_solve"
_ZERO = "0.0"


@dataclass(frozen=True)
class CompiledLu:
    """Addresses of ``int lu_factor(double *jac, double shift, double *inv_scale, double *a)`` (1 if
    every planned pivot passed, else 0 and ``a`` untouched) and ``void lu_solve(double *a, double
    *b)``, which take the same arguments as :func:`.linalg.static_factor` and
    :func:`.linalg.static_solve` (``jac`` and ``a`` dense row-major ``n x n``)."""

    factor: int
    solve: int
    _keep: Any = field(repr=False, compare=False)  # the LLVM engine that owns the machine code


_COMPILED: dict[bytes, CompiledLu] = {}


def compiled_lu(plan: LuPlan, lanes: int = 0) -> CompiledLu:
    """The plan's factorisation and solve as machine code, compiled once per process and plan;
    with ``lanes``, their forms for that many patients at once (:mod:`.lanes_ir`)."""
    key = b"".join(len(a).to_bytes(8, "little") + a.tobytes() for a in plan.arrays)
    key += lanes.to_bytes(8, "little")
    if key not in _COMPILED:
        sources = Path(__file__).read_bytes() + Path(lanes_ir.__file__).read_bytes()
        digest = hashlib.sha256(sources + key).hexdigest()[:16]
        stem = cache_dir() / "kernels" / f"lu_{digest}"
        text, names = lu_ir(plan), (FACTOR, SOLVE)
        if lanes:
            text, names = (
                lanes_ir.vectorized(text, lanes),
                tuple(x + lanes_ir.SUFFIX for x in names),
            )
        engine, (factor, solve) = compile_ir(text, stem, names)
        _COMPILED[key] = CompiledLu(factor, solve, engine)
    return _COMPILED[key]


def lu_ir(plan: LuPlan) -> str:
    """LLVM IR of the plan's factorisation (:data:`FACTOR`) and solve (:data:`SOLVE`)."""
    return "\n".join(
        [
            "declare double @llvm.fabs.f64(double)",
            _factor_ir(plan),
            _solve_ir(plan),
        ]
    )


def _columns(plan: LuPlan, k: int) -> tuple[list[int], list[int]]:
    """Rows below pivot ``k`` (its column of L) and columns right of it (its row of U)."""
    rows = plan.lidx[plan.lptr[k] : plan.lptr[k + 1]].tolist()
    cols = plan.uidx[plan.uptr[k] : plan.uptr[k + 1]].tolist()
    return rows, cols


def _factor_ir(plan: LuPlan) -> str:
    n = len(plan.order)
    fn = IrFunction()
    val: dict[tuple[int, int], str] = {}
    reciprocal: dict[int, str] = {}
    for r, c in zip(plan.entry_rows.tolist(), plan.entry_cols.tolist(), strict=True):
        val[r, c] = fn.op(f"fneg double {fn.load('jac', r * n + c)}")
    for r, c in zip(plan.fill_rows.tolist(), plan.fill_cols.tolist(), strict=True):
        val[r, c] = _ZERO
    for i in range(n):
        val[i, i] = fn.op(f"fadd double {val[i, i]}, %shift")
    for k, p in enumerate(plan.order.tolist()):
        rows, cols = _columns(plan, k)
        d = val[p, p]
        ok = _pivot_passes(fn, d, p, [(i, val[i, p]) for i in rows])
        fn.lines.append(f"  br i1 {ok}, label %pivot{k}, label %fail")
        fn.lines.append(f"pivot{k}:")
        inv = fn.op(f"fdiv double 1.0, {d}")
        reciprocal[p] = inv
        for i in rows:
            f = val[i, p] = fn.op(f"fmul double {val[i, p]}, {inv}")
            for j in cols:
                product = fn.op(f"fmul double {f}, {val[p, j]}")
                val[i, j] = fn.op(f"fsub double {val[i, j]}, {product}")
    for k, p in enumerate(plan.order.tolist()):
        rows, cols = _columns(plan, k)
        fn.store(reciprocal[p], "a", p * n + p)
        for i, j in [*((i, p) for i in rows), *((p, j) for j in cols)]:
            fn.store(val[i, j], "a", i * n + j)
    return (
        "define i32 @lu_factor(double* noalias nocapture readonly %jac, double %shift, "
        "double* noalias nocapture readonly %inv_scale, double* noalias nocapture %a) {\n"
        "entry:\n" + "\n".join(fn.lines) + "\n  ret i32 1\nfail:\n  ret i32 0\n}\n"
    )


def _pivot_passes(fn: IrFunction, pivot: str, p: int, below: list[tuple[int, str]]) -> str:
    """The threshold test of :func:`.linalg.static_factor` on ``pivot`` (state ``p``) against the
    entries ``below`` it (state, value), in the states' scales (``inv_scale`` holds their
    reciprocals); false for a zero or non-finite pivot and for a NaN below it."""
    big, nan = _ZERO, "false"
    for i, value in below:
        size = fn.op(f"call double @llvm.fabs.f64(double {value})")
        q = fn.op(f"fmul double {size}, {fn.load('inv_scale', i)}")
        nan = fn.op(f"or i1 {nan}, {fn.op(f'fcmp uno double {q}, 0.0')}")
        larger = fn.op(f"fcmp ogt double {q}, {big}")
        big = fn.op(f"select i1 {larger}, double {q}, double {big}")
    bound = fn.op(f"fmul double {ir_double(THRESHOLD)}, {big}")
    size = fn.op(f"call double @llvm.fabs.f64(double {pivot})")
    scaled = fn.op(f"fmul double {size}, {fn.load('inv_scale', p)}")
    ok = fn.op(f"fcmp oge double {scaled}, {bound}")
    ok = fn.op(f"and i1 {ok}, {fn.op(f'fcmp one double {pivot}, 0.0')}")
    ok = fn.op(f"and i1 {ok}, {fn.op(f'fcmp one double {size}, 0x7FF0000000000000')}")
    return fn.op(f"and i1 {ok}, {fn.op(f'xor i1 {nan}, true')}")


def _solve_ir(plan: LuPlan) -> str:
    n = len(plan.order)
    fn = IrFunction()
    b = [fn.load("b", i) for i in range(n)]
    for k, p in enumerate(plan.order.tolist()):
        rows, _ = _columns(plan, k)
        for i in rows:
            entry = fn.load("a", i * n + p)
            b[i] = fn.op(f"fsub double {b[i]}, {fn.op(f'fmul double {entry}, {b[p]}')}")
    for k in range(n - 1, -1, -1):
        p = int(plan.order[k])
        _, cols = _columns(plan, k)
        s = b[p]
        for j in cols:
            entry = fn.load("a", p * n + j)
            s = fn.op(f"fsub double {s}, {fn.op(f'fmul double {entry}, {b[j]}')}")
        b[p] = fn.op(f"fmul double {s}, {fn.load('a', p * n + p)}")
    for i in range(n):
        fn.store(b[i], "b", i)
    return (
        "define void @lu_solve(double* noalias nocapture readonly %a, "
        "double* noalias nocapture %b) {\nentry:\n" + "\n".join(fn.lines) + "\n  ret void\n}\n"
    )
