"""Straight-line scalar IR rewritten to integrate several patients at once, one per vector lane.

The traced right-hand side and Jacobian (:mod:`.traced_ir`) and the planned sparse LU
(:mod:`.lu_ir`) are straight-line LLVM IR on ``double`` values. Written on ``<L x double>``
vectors instead, one instruction does the same operation for ``L`` patients: the lanes never mix,
so each lane computes exactly what the scalar function computes for its patient (no fast-math
flags, no reordering; intrinsics such as ``pow`` are the same library functions lane by lane,
tested bit for bit). The lock-step integrator (:mod:`.lanes_template`) keeps its work arrays
lane-interleaved: entry ``i`` of lane ``l`` at ``i * L + l``, so that entry ``i`` of every lane is
one vector load.

Rewritten:

- every ``double`` value becomes ``<L x double>``, every ``i1`` ``<L x i1>``, constants become
  splats;
- a load or store at index ``i`` of an array reads or writes its ``L`` lanes at ``i * L``;
- the time argument ``double %t`` and the LU's ``double %shift`` become pointers to ``L`` values;
- an intrinsic call becomes its vector form, and so does a call of the module's own ``pow``,
  ``exp`` or ``log`` (:mod:`.elementary_ir`, whose definitions are replaced by their lane forms); a
  library call (``tanh``) is made lane by lane;
- the LU factorisation's early exits on a failed pivot test become a mask: every lane is
  factorised and the function returns the lanes whose pivots all passed as bits (lane ``l`` =
  bit ``l``); a lane whose test failed leaves garbage that the caller does not use.

Anything else in the input is an error, so that a new form in the scalar emitters is noticed.
"""

from __future__ import annotations

import re

from immunoreset.simulate import elementary_ir
from immunoreset.simulate.machine_code import splat

LANES = 8
"""Patients integrated at once: one AVX-512 vector of doubles (on AVX2, two vectors per operation).
Results do not depend on it (each lane computes what the scalar code computes)."""
SUFFIX = "_lanes"
"""Appended to each function's name."""

_BINARY = re.compile(r"^(  %[\w.]+ = )(fadd|fsub|fmul|fdiv) double (\S+), (\S+)$")
_FNEG = re.compile(r"^(  %[\w.]+ = )fneg double (\S+)$")
_FCMP = re.compile(r"^(  %[\w.]+ = )fcmp (\w+) double (\S+), (\S+)$")
_SELECT = re.compile(r"^(  %[\w.]+ = )select i1 (\S+), double (\S+), double (\S+)$")
_LOGIC = re.compile(r"^(  %[\w.]+ = )(and|or|xor) i1 (\S+), (\S+)$")
_CALL = re.compile(r"^(  %[\w.]+ = )call double @([\w.]+)\((.*)\)$")
_GEP = re.compile(r"^  (%[\w.]+) = getelementptr double, double\* (%\w+), i64 (\d+)$")
_LOAD = re.compile(r"^(  %[\w.]+ = )load double, double\* (%[\w.]+)$")
_STORE = re.compile(r"^  store double (\S+), double\* (%[\w.]+)$")
_DECLARE = re.compile(r"^declare double @([\w.]+)\((.*)\)$")
_DEFINE = re.compile(r"^define (void|i32) @(\w+)\((.*)\) \{$")
_BRANCH = re.compile(r"^  br i1 (%[\w.]+), label %pivot\d+, label %fail$")
_LABEL = re.compile(r"^(pivot\d+|fail):$")
ELEMENTARY = (elementary_ir.POW, elementary_ir.EXP, elementary_ir.LOG)
_LANE_ARGUMENTS = ("t", "shift")
"""Scalar arguments that become a value per lane (passed as pointers)."""


class _Lanes:
    def __init__(self, lanes: int) -> None:
        self.n = lanes
        self.dv = f"<{lanes} x double>"
        self.bv = f"<{lanes} x i1>"
        self.mask = "zeroinitializer"  # lanes whose pivot test failed so far
        self.extra = 0

    def value(self, token: str) -> str:
        """A double operand: a named value as it is, a constant as a splat."""
        return token if token.startswith("%") else splat("double", token, self.n)

    def boolean(self, token: str) -> str:
        """An i1 operand: a named value as it is, a constant as a splat."""
        return token if token.startswith("%") else splat("i1", token, self.n)

    def fresh(self) -> str:
        self.extra += 1
        return f"%lanes.{self.extra}"

    def scalar_call(self, head: str, fn: str, args: list[str]) -> list[str]:
        """``fn`` called lane by lane (a library function without a vector form); the last line
        names the result ``head`` as the scalar call did."""
        out = []
        result = "undef"
        for lane in range(self.n):
            parts = []
            for a in args:
                x = self.fresh()
                out.append(f"  {x} = extractelement {self.dv} {self.value(a)}, i32 {lane}")
                parts.append(f"double {x}")
            y = self.fresh()
            out.append(f"  {y} = call double @{fn}({', '.join(parts)})")
            into = head if lane == self.n - 1 else f"  {self.fresh()} = "
            out.append(f"{into}insertelement {self.dv} {result}, double {y}, i32 {lane}")
            result = into.strip().removesuffix(" =")
        return out


def _arguments(text: str) -> list[tuple[str, str]]:
    """``(type with attributes, name)`` of each argument of a define line."""
    out = []
    for part in text.split(", "):
        words = part.split(" ")
        out.append((" ".join(words[:-1]), words[-1]))
    return out


def vectorized(text: str, lanes: int) -> str:
    """The module ``text`` (straight-line IR of :mod:`.traced_ir` or :mod:`.lu_ir`) on ``lanes``
    patients at once; each function ``f`` becomes ``f_lanes`` (see the module docstring)."""
    if lanes < 2 or lanes & (lanes - 1):
        raise ValueError(f"lanes: got {lanes!r}; allowed: a power of two >= 2")
    v = _Lanes(lanes)
    dv, bv = v.dv, v.bv
    elementary = False  # lane forms of pow, exp and log written
    out: list[str] = []
    pending: list[str] = []  # loads of the per-lane arguments, due at the top of the body
    in_helper = False  # inside the scalar elementary functions, replaced by their lane forms
    for line in text.splitlines():
        if in_helper:
            in_helper = line != "}"
            continue
        if line.startswith("define internal "):
            if not elementary:
                out.append(elementary_ir.definitions(lanes))
                elementary = True
            in_helper = True
            continue
        if pending and line != "entry:":
            out.extend(pending)
            pending = []
        if m := _BINARY.match(line):
            head, word, a, b = m.groups()
            out.append(f"{head}{word} {dv} {v.value(a)}, {v.value(b)}")
        elif m := _FNEG.match(line):
            out.append(f"{m[1]}fneg {dv} {v.value(m[2])}")
        elif m := _FCMP.match(line):
            head, pred, a, b = m.groups()
            out.append(f"{head}fcmp {pred} {dv} {v.value(a)}, {v.value(b)}")
        elif m := _SELECT.match(line):
            head, c, a, b = m.groups()
            out.append(f"{head}select {bv} {v.boolean(c)}, {dv} {v.value(a)}, {dv} {v.value(b)}")
        elif m := _LOGIC.match(line):
            head, word, a, b = m.groups()
            out.append(f"{head}{word} {bv} {v.boolean(a)}, {v.boolean(b)}")
        elif m := _CALL.match(line):
            head, fn, args = m.groups()
            values = [a.removeprefix("double ") for a in args.split(", ")]
            vargs = ", ".join(f"{dv} {v.value(a)}" for a in values)
            if fn.startswith("llvm.") and fn.endswith(".f64"):
                out.append(f"{head}call {dv} @{fn[:-4]}.v{lanes}f64({vargs})")
            elif fn in ELEMENTARY:
                out.append(f"{head}call {dv} @{elementary_ir.name(fn, lanes)}({vargs})")
            else:
                out.extend(v.scalar_call(head, fn, values))
        elif m := _GEP.match(line):
            name, array, index = m.groups()
            out.append(
                f"  {name}.s = getelementptr double, double* {array}, i64 {int(index) * lanes}"
            )
            out.append(f"  {name} = bitcast double* {name}.s to {dv}*")
        elif m := _LOAD.match(line):
            out.append(f"{m[1]}load {dv}, {dv}* {m[2]}, align 8")
        elif m := _STORE.match(line):
            out.append(f"  store {dv} {v.value(m[1])}, {dv}* {m[2]}, align 8")
        elif m := _DECLARE.match(line):
            fn, args = m.groups()
            if fn.startswith("llvm.") and fn.endswith(".f64"):
                vargs = ", ".join([dv] * len(args.split(", ")))
                out.append(f"declare {dv} @{fn[:-4]}.v{lanes}f64({vargs})")
            out.append(line)
        elif m := _DEFINE.match(line):
            ret, name, args = m.groups()
            parts, lane_args = [], []
            for ty, arg in _arguments(args):
                if ty == "double" and arg[1:] in _LANE_ARGUMENTS:
                    parts.append(f"double* {arg}.lanes")
                    lane_args.append(arg)
                else:
                    parts.append(f"{ty} {arg}")
            out.append(f"define {ret} @{name}{SUFFIX}({', '.join(parts)}) {{")
            pending = _load_lane_args(lane_args, dv)
            v.mask = "zeroinitializer"
        elif line == "entry:":
            out.append(line)
            out.extend(pending)
            pending = []
        elif m := _BRANCH.match(line):
            # ``mask`` accumulates the lanes whose pivot test failed.
            failed, merged = v.fresh(), v.fresh()
            out.append(f"  {failed} = xor {bv} {m[1]}, {v.boolean('true')}")
            out.append(f"  {merged} = or {bv} {v.mask}, {failed}")
            v.mask = merged
        elif _LABEL.match(line) or line == "  ret i32 0":
            continue
        elif line == "  ret i32 1":
            passed, bits, word = v.fresh(), v.fresh(), v.fresh()
            out.append(f"  {passed} = xor {bv} {v.mask}, {v.boolean('true')}")
            out.append(f"  {bits} = bitcast {bv} {passed} to i{lanes}")
            out.append(f"  {word} = zext i{lanes} {bits} to i32")
            out.append(f"  ret i32 {word}")
        elif line in ("  ret void", "}", ""):
            out.append(line)
        else:
            raise ValueError(f"cannot vectorise the IR line {line!r}")
    return "\n".join(out) + "\n"


def _load_lane_args(names: list[str], dv: str) -> list[str]:
    """The per-lane values of arguments passed as pointers, under their scalar names."""
    lines = []
    for arg in names:
        lines.append(f"  {arg}.p = bitcast double* {arg}.lanes to {dv}*")
        lines.append(f"  {arg} = load {dv}, {dv}* {arg}.p, align 8")
    return lines
