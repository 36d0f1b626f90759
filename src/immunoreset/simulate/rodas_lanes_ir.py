"""The RODAS5P stage arithmetic on lanes, as straight-line LLVM IR.

Between the generated right-hand side, Jacobian and LU (:mod:`.lanes_ir`) a step attempt forms
each stage's argument ``y + sum_j A_sj K_j``, its right-hand side ``f + h gamma_s df/dt + sum_j
(C_sj / h) K_j`` and finally the new state and error estimate (:mod:`.rodas5p`). Written as loops of
the integrator these are scalar code (the integrator is compiled at a low optimisation level, see
:data:`.kernels.OPT_LEVEL`); here, for a model's number of states and ``L`` lanes, they are
unrolled vector operations with the tableau's coefficients as constants: the same operations in
the same order as :func:`.kernel_template.rodas_step`, so the same bits (tested through the
integrator). Arrays are lane-interleaved (:mod:`.lanes_template`); the stages ``K`` are one array,
stage ``j`` at ``j * n * L``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from immunoreset.simulate import interpolate, rodas5p
from immunoreset.simulate.interpolate import N_DENSE
from immunoreset.simulate.kernels import cache_dir
from immunoreset.simulate.machine_code import compile_ir, ir_double, splat

INPUT, RHS, COMBINE, ERROR = "stage_input", "stage_rhs", "combine", "error_test"
"""Function names: ``stage_input<s>`` (s = 1..7), ``stage_rhs<s>`` (s = 0..7), ``combine`` and
``error_test``."""


class _Vectors:
    def __init__(self, n: int, lanes: int) -> None:
        self.n, self.lanes = n, lanes
        self.d = f"<{lanes} x double>"
        self.lines: list[str] = []
        self.count = 0

    def op(self, text: str) -> str:
        self.count += 1
        name = f"%v{self.count}"
        self.lines.append(f"  {name} = {text}")
        return name

    def splat(self, x: float) -> str:
        return splat("double", ir_double(x), self.lanes)

    def broadcast(self, array: str, index: int) -> str:
        """Entry ``index`` of the plain (not lane-interleaved) ``array`` in every lane."""
        pointer = self.op(f"getelementptr double, double* %{array}, i64 {index}")
        scalar = self.op(f"load double, double* {pointer}")
        first = self.op(f"insertelement {self.d} undef, double {scalar}, i32 0")
        mask = f"<{self.lanes} x i32> zeroinitializer"
        return self.op(f"shufflevector {self.d} {first}, {self.d} undef, {mask}")

    def pointer(self, array: str, index: int) -> str:
        scalar = self.op(f"getelementptr double, double* %{array}, i64 {index * self.lanes}")
        return self.op(f"bitcast double* {scalar} to {self.d}*")

    def load(self, array: str, index: int) -> str:
        return self.op(f"load {self.d}, {self.d}* {self.pointer(array, index)}, align 8")

    def store(self, value: str, array: str, index: int) -> None:
        self.lines.append(
            f"  store {self.d} {value}, {self.d}* {self.pointer(array, index)}, align 8"
        )

    def function(self, name: str, args: tuple[str, ...]) -> str:
        params = ", ".join(f"double* noalias %{a}" for a in args)
        return f"define void @{name}({params}) {{\n" + "\n".join(self.lines) + "\n  ret void\n}\n"


def _stage_input(n: int, lanes: int, s: int) -> str:
    v = _Vectors(n, lanes)
    for i in range(n):
        acc = v.load("y", i)
        for j in range(s):
            a = float(rodas5p.A[s, j])
            if a != 0.0:
                product = v.op(f"fmul {v.d} {v.splat(a)}, {v.load('k', j * n + i)}")
                acc = v.op(f"fadd {v.d} {acc}, {product}")
        v.store(acc, "yt", i)
    return v.function(f"{INPUT}{s}", ("y", "k", "yt"))


def _stage_rhs(n: int, lanes: int, s: int) -> str:
    v = _Vectors(n, lanes)
    h = v.load("h", 0)
    hg = v.op(f"fmul {v.d} {h}, {v.splat(float(rodas5p.GAMMA_I[s]))}")
    no_time = v.op(f"fmul {v.d} {hg}, {v.splat(0.0)}")  # h gamma_s df/dt, df/dt = 0
    c = [v.op(f"fdiv {v.d} {v.splat(float(rodas5p.C[s, j]))}, {h}") for j in range(s)]
    for i in range(n):
        acc = v.op(f"fadd {v.d} {v.load('ft', i)}, {no_time}")
        for j in range(s):
            product = v.op(f"fmul {v.d} {c[j]}, {v.load('k', j * n + i)}")
            acc = v.op(f"fadd {v.d} {acc}, {product}")
        v.store(acc, "w", i)
    return v.function(f"{RHS}{s}", ("ft", "k", "h", "w"))


def _combine(n: int, lanes: int) -> str:
    """``void combine(y, k, yn, err, dense)``: the new state, the error estimate and the dense
    output vectors (:func:`.interpolate.dense_vectors`; ``dense`` holds vector ``r`` at
    ``r * n * L``), each summed in stage order as the scalar integrator does."""
    v = _Vectors(n, lanes)

    def add(total: str, weight: float, k: str) -> str:
        return v.op(f"fadd {v.d} {total}, {v.op(f'fmul {v.d} {v.splat(weight)}, {k}')}")

    for i in range(n):
        acc = v.load("y", i)
        err = v.splat(0.0)
        dense = [v.splat(0.0)] * N_DENSE
        for s in range(rodas5p.N_STAGES):
            k = v.load("k", s * n + i)
            acc = add(acc, float(rodas5p.M[s]), k)
            err = add(err, float(rodas5p.E[s]), k)
            dense = [add(d, float(rodas5p.H[r, s]), k) for r, d in enumerate(dense)]
        v.store(acc, "yn", i)
        v.store(err, "err", i)
        for r, d in enumerate(dense):
            v.store(d, "dense", r * n + i)
    return v.function(COMBINE, ("y", "k", "yn", "err", "dense"))


def _error_test(n: int, lanes: int) -> str:
    """``void error_test(y, yn, err, atol, rtol, out)``: each lane's error norm
    (:func:`.rodas5p.error_norm`: ``sqrt(sum_i (err_i / (atol_i + rtol max(|y_i|, |yn_i|)))^2 / n)``,
    summed in order) into ``out[0:L]``, and 1.0 where every ``yn_i`` is finite (else 0.0) into
    ``out[L:2L]``. ``atol`` holds one value per state, ``rtol`` one value."""
    v = _Vectors(n, lanes)
    d, b = v.d, f"<{lanes} x i1>"
    rtol_s = v.broadcast("rtol", 0)
    acc = v.splat(0.0)
    finite = splat("i1", "true", lanes)
    inf = v.splat(float("inf"))
    for i in range(n):
        y0 = v.op(f"call {d} @llvm.fabs.v{lanes}f64({d} {v.load('y', i)})")
        yn = v.load("yn", i)
        y1 = v.op(f"call {d} @llvm.fabs.v{lanes}f64({d} {yn})")
        larger = v.op(f"fcmp ogt {d} {y1}, {y0}")  # numba's max(a, b): b where b > a, else a
        biggest = v.op(f"select {b} {larger}, {d} {y1}, {d} {y0}")
        atol_s = v.broadcast("atol", i)
        scale = v.op(f"fadd {d} {atol_s}, {v.op(f'fmul {d} {rtol_s}, {biggest}')}")
        r = v.op(f"fdiv {d} {v.load('err', i)}, {scale}")
        acc = v.op(f"fadd {d} {acc}, {v.op(f'fmul {d} {r}, {r}')}")
        ordered = v.op(f"fcmp ord {d} {yn}, {yn}")
        bounded = v.op(f"fcmp one {d} {y1}, {inf}")
        finite = v.op(f"and {b} {finite}, {v.op(f'and {b} {ordered}, {bounded}')}")
    mean = v.op(f"fdiv {d} {acc}, {v.splat(float(n))}")
    v.store(v.op(f"call {d} @llvm.sqrt.v{lanes}f64({d} {mean})"), "out", 0)
    v.store(v.op(f"uitofp {b} {finite} to {d}"), "out", 1)
    params = ", ".join(f"double* noalias %{a}" for a in ("y", "yn", "err", "atol", "rtol", "out"))
    return (
        f"declare {d} @llvm.fabs.v{lanes}f64({d})\ndeclare {d} @llvm.sqrt.v{lanes}f64({d})\n"
        f"define void @{ERROR}({params}) {{\n" + "\n".join(v.lines) + "\n  ret void\n}\n"
    )


def names() -> tuple[str, ...]:
    """The module's functions: ``stage_input1..7``, ``stage_rhs0..7``, ``combine``,
    ``error_test``."""
    inputs = tuple(f"{INPUT}{s}" for s in range(1, rodas5p.N_STAGES))
    return (*inputs, *(f"{RHS}{s}" for s in range(rodas5p.N_STAGES)), COMBINE, ERROR)


def stages_ir(n: int, lanes: int) -> str:
    """LLVM IR of the stage arithmetic of ``n`` states on ``lanes`` lanes (see :func:`names`)."""
    parts = [_stage_input(n, lanes, s) for s in range(1, rodas5p.N_STAGES)]
    parts += [_stage_rhs(n, lanes, s) for s in range(rodas5p.N_STAGES)]
    parts.append(_combine(n, lanes))
    parts.append(_error_test(n, lanes))
    return "\n".join(parts)


@dataclass(frozen=True)
class CompiledStages:
    """Addresses of the stage functions (in the order of :func:`names`) and the LLVM engine that
    owns their machine code."""

    addresses: np.ndarray
    _keep: Any = field(repr=False, compare=False)


_COMPILED: dict[tuple[int, int], CompiledStages] = {}


def compiled_stages(n: int, lanes: int) -> CompiledStages:
    """The stage functions of ``n`` states on ``lanes`` lanes as machine code, compiled once per
    process and cached on disk (:mod:`.machine_code`)."""
    if (n, lanes) not in _COMPILED:
        sources = b"".join(
            Path(f).read_bytes() for f in (__file__, rodas5p.__file__, interpolate.__file__)
        )
        digest = hashlib.sha256(sources + f"{n} {lanes}".encode()).hexdigest()[:16]
        stem = cache_dir() / "kernels" / f"stages_{digest}"
        engine, addresses = compile_ir(stages_ir(n, lanes), stem, names())
        _COMPILED[n, lanes] = CompiledStages(np.array(addresses, dtype=np.int64), engine)
    return _COMPILED[n, lanes]
