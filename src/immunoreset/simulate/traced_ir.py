"""LLVM IR of a model's right-hand side, its Jacobian, observables and switch functions, from its
traced equations.

The model's right-hand side is traced on symbols (:mod:`immunoreset.export.symbolic`). Its rates
are written as straight-line IR with every shared subexpression computed once, and differentiated
in forward mode over the same expression graph: every shared subexpression is differentiated once,
and only the states an expression depends on carry a derivative. :mod:`.analytic` compiles the IR;
this module is imported only when no cached IR exists, so a cached start never loads the computer
algebra.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp
from sympy.core.relational import Relational

from immunoreset.export.decisions import Decision, SymbolicError, record, recording
from immunoreset.export.symbolic import TIME, rates, symbolic, symbols
from immunoreset.model.core import Model
from immunoreset.simulate.elementary_ir import EXP, LOG, POW, definitions
from immunoreset.simulate.machine_code import IrFunction, ir_double
from immunoreset.simulate.sparsity import Colouring

Gradient = dict[int, str]
_UNARY = ("llvm.sqrt.f64", "llvm.fabs.f64", "llvm.floor.f64", "tanh")
_DECLARATIONS = "".join(f"declare double @{f}(double)\n" for f in _UNARY) + definitions(1)
"""Declarations, and the module's own ``pow``, ``exp`` and ``log`` (:mod:`.elementary_ir`: straight
line, so that lanes vectorise them)."""
_COMPARE = {"<": "olt", ">": "ogt", "<=": "ole", ">=": "oge", "==": "oeq", "!=": "one"}
_ZERO, _ONE = "0.0", "1.0"


class _Emitter(IrFunction):
    """Straight-line LLVM IR for expressions over states ``y``, parameters ``p``, switch modes and
    time, with forward-mode derivatives with respect to the states (sparse: only states an
    expression depends on carry a derivative)."""

    def __init__(self, inputs: dict[str, tuple[str, int]]) -> None:
        super().__init__()
        self.inputs = inputs
        self._values: dict[Any, str] = {}
        self._grads: dict[Any, Gradient] = {}

    def call(self, fn: str, *args: str) -> str:
        return self.op(f"call double @{fn}(" + ", ".join(f"double {a}" for a in args) + ")")

    def add(self, a: str, b: str) -> str:
        return b if a == _ZERO else a if b == _ZERO else self.op(f"fadd double {a}, {b}")

    def mul(self, a: str, b: str) -> str:
        if _ZERO in (a, b):
            return _ZERO
        return b if a == _ONE else a if b == _ONE else self.op(f"fmul double {a}, {b}")

    def select(self, cond: str, a: str, b: str) -> str:
        return a if a == b else self.op(f"select i1 {cond}, double {a}, double {b}")

    # values ---------------------------------------------------------------------------------
    def boolean(self, c: Any) -> str:
        if c is sp.true or c is sp.false:
            return "true" if c is sp.true else "false"
        if isinstance(c, Relational):
            lhs, rhs = self.value(c.lhs), self.value(c.rhs)
            return self.op(f"fcmp {_COMPARE[c.rel_op]} double {lhs}, {rhs}")
        if isinstance(c, (sp.And, sp.Or)):
            parts = [self.boolean(a) for a in c.args]
            word = "and" if isinstance(c, sp.And) else "or"
            out = parts[0]
            for q in parts[1:]:
                out = self.op(f"{word} i1 {out}, {q}")
            return out
        if isinstance(c, sp.Not):
            return self.op(f"xor i1 {self.boolean(c.args[0])}, true")
        raise SymbolicError(f"cannot compile the condition {c}")

    def value(self, e: Any) -> str:
        if e not in self._values:
            self._values[e] = self._value(e)
        return self._values[e]

    def _value(self, e: Any) -> str:
        if e.is_Number or isinstance(e, sp.NumberSymbol):
            return ir_double(e)
        if e.is_Symbol:
            if e == TIME:
                return "%t"
            return self.load(*self.inputs[e.name])
        if isinstance(e, (sp.Add, sp.Mul)):
            word = "fadd" if isinstance(e, sp.Add) else "fmul"
            args = [self.value(a) for a in e.args]
            out = args[0]
            for a in args[1:]:
                out = self.op(f"{word} double {out}, {a}")
            return out
        if isinstance(e, sp.Pow):
            return self._power(*e.args)
        if isinstance(e, (sp.exp, sp.log, sp.Abs, sp.tanh)):
            fn = {sp.exp: EXP, sp.log: LOG, sp.Abs: "llvm.fabs.f64", sp.tanh: "tanh"}[type(e)]
            return self.call(fn, self.value(e.args[0]))
        if isinstance(e, (sp.Max, sp.Min)):
            test = "ogt" if isinstance(e, sp.Max) else "olt"
            out = self.value(e.args[0])
            for a in e.args[1:]:
                v = self.value(a)
                out = self.select(self.op(f"fcmp {test} double {out}, {v}"), out, v)
            return out
        if isinstance(e, sp.sign):
            v = self.value(e.args[0])
            neg = self.select(self.op(f"fcmp olt double {v}, 0.0"), "-1.0", _ZERO)
            return self.select(self.op(f"fcmp ogt double {v}, 0.0"), _ONE, neg)
        if isinstance(e, sp.Piecewise):
            out = None
            for v, c in reversed(e.args):
                out = (
                    self.value(v)
                    if out is None
                    else self.select(self.boolean(c), self.value(v), out)
                )
            assert out is not None
            return out
        raise SymbolicError(f"cannot compile {type(e).__name__}: {e}")

    def _power(self, base: Any, exponent: Any) -> str:
        if exponent.is_Integer and abs(int(exponent)) <= 4:
            b = self.value(base)
            out = b
            for _ in range(abs(int(exponent)) - 1):
                out = self.op(f"fmul double {out}, {b}")
            return self.op(f"fdiv double 1.0, {out}") if exponent < 0 else out
        if exponent == sp.Rational(1, 2):
            return self.call("llvm.sqrt.f64", self.value(base))
        return self.call(POW, self.value(base), self.value(exponent))

    # derivatives ----------------------------------------------------------------------------
    def grad(self, e: Any) -> Gradient:
        if e not in self._grads:
            self._grads[e] = self._grad(e)
        return self._grads[e]

    def scaled(self, g: Gradient, factor: str) -> Gradient:
        return {j: self.mul(factor, v) for j, v in g.items()}

    def summed(self, grads: list[Gradient]) -> Gradient:
        out: Gradient = {}
        for g in grads:
            for j, v in g.items():
                out[j] = self.add(out[j], v) if j in out else v
        return out

    def chosen(self, cond: str, a: Gradient, b: Gradient) -> Gradient:
        return {j: self.select(cond, a.get(j, _ZERO), b.get(j, _ZERO)) for j in sorted({*a, *b})}

    def _grad(self, e: Any) -> Gradient:
        if e.is_Number or isinstance(e, sp.NumberSymbol) or e == TIME:
            return {}
        if e.is_Symbol:
            array, i = self.inputs[e.name]
            return {i: _ONE} if array == "y" else {}
        if isinstance(e, sp.Add):
            return self.summed([self.grad(a) for a in e.args])
        if isinstance(e, sp.Mul):
            parts = []
            for i, a in enumerate(e.args):
                g = self.grad(a)
                if g:
                    others = [self.value(b) for k, b in enumerate(e.args) if k != i]
                    factor = others[0]
                    for v in others[1:]:
                        factor = self.op(f"fmul double {factor}, {v}")
                    parts.append(self.scaled(g, factor))
            return self.summed(parts)
        if isinstance(e, sp.Pow):
            base, exponent = e.args
            parts = []
            if gb := self.grad(base):
                factor = self.mul(self.value(exponent), self.value(sp.Pow(base, exponent - 1)))
                parts.append(self.scaled(gb, factor))
            if gx := self.grad(exponent):
                factor = self.mul(self.value(e), self.call(LOG, self.value(base)))
                parts.append(self.scaled(gx, factor))
            return self.summed(parts)
        if isinstance(e, sp.exp):
            return self.scaled(self.grad(e.args[0]), self.value(e))
        if isinstance(e, sp.log):
            g = self.grad(e.args[0])
            return self.scaled(g, self.op(f"fdiv double 1.0, {self.value(e.args[0])}")) if g else {}
        if isinstance(e, sp.tanh):
            g = self.grad(e.args[0])
            if not g:
                return {}
            t = self.value(e)
            return self.scaled(g, self.op(f"fsub double 1.0, {self.op(f'fmul double {t}, {t}')}"))
        if isinstance(e, sp.Abs):
            g = self.grad(e.args[0])
            return self.scaled(g, self.value(sp.sign(e.args[0]))) if g else {}
        if isinstance(e, (sp.Max, sp.Min)):
            test = "ogt" if isinstance(e, sp.Max) else "olt"
            out, g = self.value(e.args[0]), self.grad(e.args[0])
            for a in e.args[1:]:
                v = self.value(a)
                cond = self.op(f"fcmp {test} double {out}, {v}")
                g = self.chosen(cond, g, self.grad(a))
                out = self.select(cond, out, v)
            return g
        if isinstance(e, sp.Piecewise):
            g: Gradient | None = None
            for v, c in reversed(e.args):
                g = self.grad(v) if g is None else self.chosen(self.boolean(c), self.grad(v), g)
            return g or {}
        if isinstance(e, (sp.sign, sp.Heaviside)):
            return {}
        raise SymbolicError(f"cannot differentiate {type(e).__name__}: {e}")


_LAST_TRACE: dict[tuple[object, bytes], tuple[list[Any], list[Decision]]] = {}
"""The last rates and decisions traced in this process: a first run traces its model three times at
the same parameters (for the right-hand side, the sparsity pattern and the Jacobian), about half a
second each time for the integrated model. One entry only, so that a process tracing many
parameter sets (a product per arm) does not keep every expression graph."""


def _names(model: Model) -> tuple[list[str], list[str], dict[str, tuple[str, int]]]:
    """Symbol names of the states and switch modes, and every symbol's array and index."""
    state_names = [f"__y{i}" for i in range(model.n_states)]
    mode_names = [f"__mode{k}" for k in range(len(model.switch_names))]
    inputs = {name: ("y", i) for i, name in enumerate(state_names)}
    inputs |= {name: ("mode", k) for k, name in enumerate(mode_names)}
    inputs |= {name: ("p", i) for i, name in enumerate(model.parameter_names)}
    return state_names, mode_names, inputs


def _traced(model: Model, p: np.ndarray) -> tuple[_Emitter, list[Any], list[Decision]]:
    """The model's rates traced on symbols at ``p``, a new emitter over them, and the decisions on
    parameters the trace rests on."""
    state_names, mode_names, inputs = _names(model)
    key = (model.rhs, np.ascontiguousarray(p, dtype=np.float64).tobytes())
    if key in _LAST_TRACE:
        dydt, decisions = _LAST_TRACE[key]
        for decision in decisions:  # as a new trace would, for any recording open around this
            record(decision)
    else:
        with recording() as decisions:
            dydt = rates(model, p, state_names, mode_names)
        _LAST_TRACE.clear()
        _LAST_TRACE[key] = (dydt, list(decisions))
    return _Emitter(inputs), dydt, list(decisions)


def traced_pattern(model: Model, p: np.ndarray) -> np.ndarray:
    """Boolean ``[n, n]``: entry ``(i, j)`` is True where the traced ``dy_i/dt`` has a derivative
    with respect to ``y_j`` that is not identically zero (for patients who take the decisions of
    ``p``). Unlike probing, this sees dependencies behind thresholds and those too small to show
    at the probed states. Raises :class:`SymbolicError` or ``TypeError`` if the model's
    equations cannot be traced."""
    emit, dydt, _ = _traced(model, p)
    pattern = np.zeros((model.n_states, model.n_states), dtype=bool)
    for i, rate in enumerate(dydt):
        pattern[i, list(emit.grad(rate))] = True
    return pattern


def _function(name: str, emit: _Emitter) -> str:
    """The module text of ``void name(double* y, double* p, double* mode, double t, double* out)``
    with the body ``emit`` wrote (the signature :func:`.native.call_compiled` calls)."""
    return (
        _DECLARATIONS
        + f"define void @{name}(double* %y, double* %p, double* %mode, double %t, double* %out) {{\n"
        + "\n".join(emit.lines)
        + "\n  ret void\n}\n"
    )


def rhs_ir(model: Model, p: np.ndarray) -> tuple[str, list[Decision]]:
    """LLVM IR of ``void rhs(y, p, mode, t, out)``, which writes ``dy/dt`` into ``out``, and the
    decisions on parameters it rests on."""
    emit, dydt, decisions = _traced(model, p)
    for i, rate in enumerate(dydt):
        emit.store(emit.value(rate), "out", i)
    return _function("rhs", emit), decisions


def outputs_ir(model: Model, p: np.ndarray, role: str) -> tuple[str, list[Decision]]:
    """LLVM IR of ``void observe(y, p, mode, t, out)`` (``role="observe"``: the observables) or
    ``void switches(y, p, mode, t, out)`` (``role="switches"``: the switch functions), traced at
    ``p``, and the decisions on parameters it rests on. ``mode`` is not read."""
    state_names, _, inputs = _names(model)
    size = len(model.observables if role == "observe" else model.switch_names)
    out = np.zeros(size, dtype=object)
    with recording() as decisions:
        y, pp = symbols(state_names), symbols(list(model.parameter_names), p)
        if size:
            symbolic(getattr(model, role))(TIME, y, pp, out)
    emit = _Emitter(inputs)
    for i, value in enumerate(out):
        emit.store(emit.value(sp.sympify(value)), "out", i)
    return _function(role, emit), list(decisions)


def jacobian_ir(model: Model, p: np.ndarray, colouring: Colouring) -> tuple[str, list[Decision]]:
    """LLVM IR of ``void jac(y, p, mode, t, out)``, which writes the entries of ``colouring``'s
    pattern into the dense row-major ``out``, and the decisions on parameters it rests on."""
    n = model.n_states
    emit, dydt, decisions = _traced(model, p)
    for j in range(n):
        for i in colouring.row_idx[colouring.col_ptr[j] : colouring.col_ptr[j + 1]]:
            d = emit.grad(dydt[i]).get(j)
            emit.store(d if d is not None else _ZERO, "out", int(i) * n + j)
    return _function("jac", emit), decisions
