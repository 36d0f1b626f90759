"""The RODAS4 stage arithmetic on lanes, as straight-line LLVM IR.

Between the generated right-hand side, Jacobian and LU (:mod:`.lanes_ir`) a step attempt forms
each stage's argument ``y + sum_j A_sj K_j``, its right-hand side ``f + h gamma_s df/dt + sum_j
(C_sj / h) K_j`` and finally the new state and error estimate (:mod:`.rodas4`). Written as loops of
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

from immunoreset.simulate import rodas4
from immunoreset.simulate.kernels import cache_dir
from immunoreset.simulate.machine_code import compile_ir, ir_double

INPUT, RHS, COMBINE = "stage_input", "stage_rhs", "combine"
"""Function names: ``stage_input<s>`` (s = 1..5), ``stage_rhs<s>`` (s = 0..5) and ``combine``."""


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
        return "<" + ", ".join([f"double {ir_double(x)}"] * self.lanes) + ">"

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
            a = float(rodas4.A[s, j])
            if a != 0.0:
                product = v.op(f"fmul {v.d} {v.splat(a)}, {v.load('k', j * n + i)}")
                acc = v.op(f"fadd {v.d} {acc}, {product}")
        v.store(acc, "yt", i)
    return v.function(f"{INPUT}{s}", ("y", "k", "yt"))


def _stage_rhs(n: int, lanes: int, s: int) -> str:
    v = _Vectors(n, lanes)
    h = v.load("h", 0)
    hg = v.op(f"fmul {v.d} {h}, {v.splat(float(rodas4.GAMMA_I[s]))}")
    no_time = v.op(f"fmul {v.d} {hg}, {v.splat(0.0)}")  # h gamma_s df/dt, df/dt = 0
    c = [v.op(f"fdiv {v.d} {v.splat(float(rodas4.C[s, j]))}, {h}") for j in range(s)]
    for i in range(n):
        acc = v.op(f"fadd {v.d} {v.load('ft', i)}, {no_time}")
        for j in range(s):
            product = v.op(f"fmul {v.d} {c[j]}, {v.load('k', j * n + i)}")
            acc = v.op(f"fadd {v.d} {acc}, {product}")
        v.store(acc, "w", i)
    return v.function(f"{RHS}{s}", ("ft", "k", "h", "w"))


def _combine(n: int, lanes: int) -> str:
    v = _Vectors(n, lanes)
    for i in range(n):
        acc = v.load("y", i)
        err = v.splat(0.0)
        for s in range(rodas4.N_STAGES):
            k = v.load("k", s * n + i)
            acc = v.op(
                f"fadd {v.d} {acc}, {v.op(f'fmul {v.d} {v.splat(float(rodas4.M[s]))}, {k}')}"
            )
            err = v.op(
                f"fadd {v.d} {err}, {v.op(f'fmul {v.d} {v.splat(float(rodas4.E[s]))}, {k}')}"
            )
        v.store(acc, "yn", i)
        v.store(err, "err", i)
    return v.function(COMBINE, ("y", "k", "yn", "err"))


def names() -> tuple[str, ...]:
    """The module's functions: ``stage_input1..5``, ``stage_rhs0..5``, ``combine``."""
    inputs = tuple(f"{INPUT}{s}" for s in range(1, rodas4.N_STAGES))
    return (*inputs, *(f"{RHS}{s}" for s in range(rodas4.N_STAGES)), COMBINE)


def stages_ir(n: int, lanes: int) -> str:
    """LLVM IR of the stage arithmetic of ``n`` states on ``lanes`` lanes (see :func:`names`)."""
    parts = [_stage_input(n, lanes, s) for s in range(1, rodas4.N_STAGES)]
    parts += [_stage_rhs(n, lanes, s) for s in range(rodas4.N_STAGES)]
    parts.append(_combine(n, lanes))
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
        sources = Path(__file__).read_bytes() + Path(rodas4.__file__).read_bytes()
        digest = hashlib.sha256(sources + f"{n} {lanes}".encode()).hexdigest()[:16]
        stem = cache_dir() / "kernels" / f"stages_{digest}"
        engine, addresses = compile_ir(stages_ir(n, lanes), stem, names())
        _COMPILED[n, lanes] = CompiledStages(np.array(addresses, dtype=np.int64), engine)
    return _COMPILED[n, lanes]
