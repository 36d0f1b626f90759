"""A model's equations as symbolic expressions, read from its own numerical functions.

The model functions are plain Python over flat arrays (compiled by numba for simulation). Run on
arrays of sympy symbols instead of numbers, the same code yields the equations as expressions: no
second copy of a model exists to drift from the first. Each function is re-bound to globals in
which ``math`` and the ``max``/``min``/``abs`` builtins act on symbols, ``np`` makes object arrays
for scratch space, and the compiled helpers it calls are re-bound the same way.

Discrete switch modes are symbols where a model only multiplies by them, and numbers where it
branches on them (the caller then evaluates each combination, so ``if mode[k] > 0.5`` keeps
working; a mode is compared with ``<`` or ``>``, never ``==``, which sympy answers structurally).
A test of a parameter against a number is decided by its value (:class:`Valued`). A branch on a
state or on time is written in the model with the helpers of :mod:`immunoreset.model.kernel`:
:func:`~immunoreset.model.kernel.where` becomes ``sp.Piecewise`` and a
:func:`~immunoreset.model.kernel.shortcut` test is False (the full path). A plain ``if`` on a state
cannot be evaluated on symbols and raises :class:`SymbolicError` naming the function.
"""

from __future__ import annotations

import itertools
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from immunoreset.export.decisions import TESTS, SymbolicError, record
from immunoreset.model import kernel as compiled
from immunoreset.model.core import Model

TIME = sp.Symbol("time")


def _max(*args: Any) -> Any:
    return sp.Max(*args)


def _min(*args: Any) -> Any:
    return sp.Min(*args)


_MATH = types.SimpleNamespace(
    exp=sp.exp, log=sp.log, sqrt=sp.sqrt, pow=sp.Pow, tanh=sp.tanh, inf=sp.oo, pi=sp.pi, e=sp.E,
    fabs=sp.Abs, log10=lambda x: sp.log(x, 10), isfinite=lambda x: True,
)  # fmt: skip


class _NumpyShim:
    """``np`` for symbolic evaluation: scratch arrays hold objects; elementwise maths is sympy's."""

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def empty(shape: Any, dtype: Any = None) -> np.ndarray:
        return np.zeros(shape, dtype=object)

    zeros = empty
    exp = staticmethod(sp.exp)
    log = staticmethod(sp.log)
    sqrt = staticmethod(sp.sqrt)
    maximum = staticmethod(_max)
    minimum = staticmethod(_min)


def _where(condition: Any, if_true: Any, if_false: Any) -> Any:
    """:func:`immunoreset.model.kernel.where` on symbols: the chosen value where the condition is
    decided (by numbers or by a parameter's value), else a ``Piecewise``."""
    if isinstance(condition, bool | np.bool_ | sp.logic.boolalg.BooleanAtom):
        return if_true if condition else if_false
    return sp.Piecewise((if_true, condition), (if_false, True))


def _full_path(*args: Any) -> bool:
    """A :func:`immunoreset.model.kernel.shortcut` test on symbols: never skip."""
    return False


_OVERRIDES = {"math": _MATH, "np": _NumpyShim(), "max": _max, "min": _min, "abs": sp.Abs}


def symbolic(fn: Callable[..., Any], memo: dict[int, Any] | None = None) -> Callable[..., Any]:
    """``fn`` (a compiled model function or plain function) re-bound to work on symbols."""
    py = getattr(fn, "py_func", fn)
    if py is compiled.where.py_func:
        return _where
    if py in compiled.SHORTCUTS:
        return _full_path
    if not isinstance(py, types.FunctionType):
        return fn
    memo = {} if memo is None else memo
    if id(py) in memo:
        return memo[id(py)]
    glob = dict(py.__globals__)
    new = types.FunctionType(py.__code__, glob, py.__name__, py.__defaults__, py.__closure__)
    memo[id(py)] = new
    for name in py.__code__.co_names:
        value = glob.get(name)
        if hasattr(value, "py_func"):
            glob[name] = symbolic(value, memo)
        elif isinstance(value, types.ModuleType) and value.__name__.startswith("immunoreset."):
            glob[name] = _ModuleProxy(value, memo)  # helpers called as ``module.function(...)``
    glob.update({k: v for k, v in _OVERRIDES.items() if k in py.__code__.co_names})
    return _guarded(new)


class _ModuleProxy:
    """A model module whose compiled functions are returned re-bound to symbols."""

    def __init__(self, module: types.ModuleType, memo: dict[int, Any]) -> None:
        self._module = module
        self._memo = memo

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        return symbolic(value, self._memo) if hasattr(value, "py_func") else value


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except TypeError as exc:
            if "truth value" in str(exc) or "cannot determine" in str(exc):
                raise SymbolicError(
                    f"{fn.__name__}: branches on a state or parameter value ({exc}); write it"
                    " with max/min, immunoreset.model.kernel.where or a model switch so it can be"
                    " exported"
                ) from None
            raise

    call.__name__ = fn.__name__
    return call


class Valued(sp.Symbol):
    """A parameter symbol that knows its value: an ordering test against a number (``if
    p[X] <= 0.0``, a product switch such as "this CAR binds no CD19") is decided by the value, so
    structural branches on parameters resolve as they do for the values exported, while the
    parameter stays a symbol in every expression."""

    value: float

    def __new__(cls, name: str, value: float) -> Valued:
        obj = super().__new__(cls, name)
        obj.value = float(value)
        return obj

    def _decide(self, other: Any, test: str, fallback: Any) -> Any:
        if isinstance(other, int | float | sp.Number):
            outcome = TESTS[test](self.value, float(other))
            record((self.name, test, float(other), float(outcome)))
            return outcome
        return fallback(other)

    def __le__(self, other: Any) -> Any:
        return self._decide(other, "le", super().__le__)

    def __lt__(self, other: Any) -> Any:
        return self._decide(other, "lt", super().__lt__)

    def __ge__(self, other: Any) -> Any:
        return self._decide(other, "ge", super().__ge__)

    def __gt__(self, other: Any) -> Any:
        return self._decide(other, "gt", super().__gt__)

    def __round__(self, ndigits: int | None = None) -> Any:
        """Rounded by value: a parameter that selects a level (an ASTCT grade) is structural."""
        rounded = round(self.value, ndigits)
        record((self.name, "round", float(ndigits or 0), float(rounded)))
        return rounded


def symbols(names: tuple[str, ...] | list[str], values: Any = None) -> np.ndarray:
    """An object array of sympy symbols, one per name (:class:`Valued` if ``values`` given)."""
    out = np.empty(len(names), dtype=object)
    for i, name in enumerate(names):
        out[i] = sp.Symbol(name) if values is None else Valued(name, values[i])
    return out


def rates(
    model: Model, values: np.ndarray, state_names: list[str], mode_names: list[str]
) -> list[Any]:
    """d state/dt for every state of ``model`` at parameter ``values`` (structural branches decided
    by value, see :class:`Valued`), as one expression over all switch-mode combinations, with
    states and modes as symbols of the given names and time as :data:`TIME`.

    A model that uses its modes as numbers (a factor 0 or 1) is traced once with the modes as
    symbols; one that branches on a mode (``if mode[k] > 0.5``) is traced once per combination of
    modes, joined by a ``Piecewise`` on the modes. The first writes each rate once instead of once
    per combination: libRoadRunner, which compiles every expression in full, compiles the
    integrated model's SBML rates (two switches) in 20 s instead of ten minutes.
    """
    n = model.n_states
    y, p = symbols(state_names), symbols(list(model.parameter_names), values)
    rhs = symbolic(model.rhs)
    if model.switch_names:
        dydt = np.zeros(n, dtype=object)
        try:
            rhs(TIME, y, p, symbols(mode_names), dydt)
            return [sp.sympify(v) for v in dydt]
        except SymbolicError:
            pass
    combos = list(itertools.product((0.0, 1.0), repeat=len(model.switch_names)))
    per_combo = []
    for combo in combos:
        dydt = np.zeros(n, dtype=object)
        rhs(TIME, y, p, np.array(combo), dydt)
        per_combo.append([sp.sympify(v) for v in dydt])
    modes = [sp.Symbol(m) for m in mode_names]
    out = []
    for i in range(n):
        exprs = [c[i] for c in per_combo]
        if all(e == exprs[0] for e in exprs):
            out.append(exprs[0])
            continue
        branches = []
        for combo, expr in zip(combos, exprs, strict=True):
            cond = sp.And(*[(m > 0.5) if v > 0.5 else (m < 0.5) for m, v in zip(modes, combo,
                            strict=True)])  # fmt: skip
            branches.append((expr, cond))
        branches[-1] = (branches[-1][0], sp.true)
        out.append(sp.Piecewise(*branches))
    return out
