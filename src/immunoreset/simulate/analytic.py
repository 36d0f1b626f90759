"""A model's right-hand side, observables, switch functions and analytic Jacobian, compiled by LLVM
from its traced equations.

A finite-difference Jacobian costs one right-hand-side evaluation per colour of its sparsity
pattern (:mod:`.sparsity`); the integrated model's myeloid-activation row alone depends on 29
states, so no colouring needs fewer than 29 evaluations, about half of the engine's time per step.
The analytic Jacobian reads the model's right-hand side as expressions (the same tracing as the SBML
export, :mod:`immunoreset.export.symbolic`), differentiates them in forward mode over their
expression graph (every shared subexpression is differentiated once) and writes straight-line LLVM
IR, which llvmlite compiles in about a second (the integrated model: 14,000 instructions, 5 us per
Jacobian against about 30 us by finite differences; Park 2025: 0.5 against 3 us). numba's own
front end would need minutes for a function of this size. The traced rates themselves are compiled
the same way (:func:`traced_rhs`), and so are its observables and switch functions
(:func:`traced_outputs`): faster than the model's own functions compiled by numba, and compiled in
a fraction of the time, so the integrator calls them through their addresses instead of compiling
them into itself.

Tracing decides the model's branches on parameters by their values at the run's typical patient
(the antigens a product binds, a grade in a management policy). The compiled functions are right
for every patient whose parameters take the same decisions (:meth:`Compiled.applies`); any other
patient keeps the model's own functions and the finite-difference Jacobian, so a patient's
result never depends on which other patients share its batch. Jacobian entries are written only
inside the run's probed pattern, the same ones the finite-difference Jacobian fills.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from immunoreset.export.decisions import Decision, SymbolicError, holds
from immunoreset.model.core import Model
from immunoreset.simulate.kernels import cache_dir, fingerprint, safe_name, write_once
from immunoreset.simulate.lanes_ir import SUFFIX, vectorized
from immunoreset.simulate.lanes_ir import __file__ as lanes_ir_file
from immunoreset.simulate.machine_code import compile_ir
from immunoreset.simulate.sparsity import Colouring

PACKAGE = Path(__file__).resolve().parents[1]
TRACING_SOURCES = (
    PACKAGE / "export" / "symbolic.py",
    PACKAGE / "export" / "decisions.py",
    PACKAGE / "simulate" / "traced_ir.py",
    PACKAGE / "simulate" / "elementary_ir.py",
)
"""The code that turns a model into IR: a change to any of it invalidates the cached IR."""


@dataclass(frozen=True)
class Compiled:
    """A function compiled from the model's traced equations: its machine-code ``address`` (see
    :mod:`.native`) and the ``decisions`` on parameters it holds for (as parameter index,
    decision)."""

    address: int
    decisions: tuple[tuple[int, Decision], ...]
    _keep: Any = field(repr=False, compare=False)  # the LLVM engine that owns the machine code

    def applies(self, params: np.ndarray) -> np.ndarray:
        """Boolean per row of ``params``: the patient takes every decision the same way."""
        ok = np.ones(len(params), dtype=bool)
        for index, decision in self.decisions:
            ok &= holds(decision, params[:, index])
        return ok


_COMPILED: dict[tuple[object, ...], Compiled | None] = {}


def traced_rhs(model: Model, p: np.ndarray, lanes: int = 0) -> Compiled | None:
    """The right-hand side of ``model`` traced at parameters ``p`` and compiled (``void rhs(y, p,
    mode, t, out)``); None if the model's equations cannot be traced.

    Straight-line code with every shared subexpression computed once: the integrated model's rates
    take 0.4 us against 0.9 us by the model's own function compiled by numba (Park 2025: 0.12
    against 0.14 us, with the C library's ``pow``; docs/engine.md), the same values to about
    1e-14, and about 0.1 s to compile against seven seconds. With ``lanes``, its form for that many
    patients at once (:mod:`.lanes_ir`). Cached like :func:`analytic_jacobian`."""
    p = np.ascontiguousarray(p, dtype=np.float64)
    return _traced_function(model, p, "rhs", (), lambda ir: ir.rhs_ir(model, p), lanes)


def traced_outputs(model: Model, p: np.ndarray, role: str) -> Compiled | None:
    """The observables (``role="observe"``) or switch functions (``role="switches"``) of
    ``model`` traced at ``p`` and compiled (``void observe(y, p, mode, t, out)``, ``mode`` unread);
    None if they cannot be traced. Compiled into the integrator by numba, the integrated model's
    observables alone took two seconds of a first run. Cached like :func:`analytic_jacobian`."""
    if role not in ("observe", "switches"):
        raise ValueError(f"role: got {role!r}; allowed: 'observe', 'switches'")
    p = np.ascontiguousarray(p, dtype=np.float64)
    return _traced_function(model, p, role, (), lambda ir: ir.outputs_ir(model, p, role))


def analytic_jacobian(
    model: Model, p: np.ndarray, colouring: Colouring, lanes: int = 0
) -> Compiled | None:
    """The analytic Jacobian of ``model`` traced at parameters ``p`` over ``colouring``'s pattern;
    None if the model's equations cannot be traced.

    Compiled once per process. For a model of the package, the IR and its decisions, and the
    machine code built from them, are cached in the user cache folder beside the compiled integrator
    (:mod:`.kernels`), keyed by the model's fingerprint, ``p``, the pattern, the tracing code and,
    for machine code, the LLVM version and host CPU; a later process then skips tracing and
    compiling. With ``lanes``, its form for that many patients at once (:mod:`.lanes_ir`)."""
    p = np.ascontiguousarray(p, dtype=np.float64)
    return _traced_function(
        model, p, "jac", (colouring.col_ptr, colouring.row_idx),
        lambda ir: ir.jacobian_ir(model, p, colouring), lanes,
    )  # fmt: skip


def _traced_function(
    model: Model, p: np.ndarray, name: str, keys: tuple[np.ndarray, ...],
    build: Callable[[ModuleType], tuple[str, list[Decision]]], lanes: int = 0,
) -> Compiled | None:  # fmt: skip
    """Function ``name`` built by ``build(traced_ir module)`` at ``p``, compiled once per process
    and cached on disk under the model, ``p`` and ``keys``; with ``lanes``, its form for that many
    patients at once (:mod:`.lanes_ir`)."""
    key = (model.rhs, name, p.tobytes(), *(k.tobytes() for k in keys), lanes)
    if key not in _COMPILED:
        stem = _cache_stem(model, name, p, keys)
        try:
            text, decisions = _traced(stem, build)
        except (SymbolicError, TypeError):
            _COMPILED[key] = None
        else:
            if lanes:
                text, name = vectorized(text, lanes), name + SUFFIX
                if stem is not None:  # the lane form's machine code depends on the rewriting too
                    tag = hashlib.sha256(Path(lanes_ir_file).read_bytes()).hexdigest()[:8]
                    stem = stem.with_name(f"{stem.name}.lanes{lanes}_{tag}")
            engine, (address,) = compile_ir(text, stem, (name,))
            index = {pname: i for i, pname in enumerate(model.parameter_names)}
            found = tuple(dict.fromkeys((index[d[0]], d) for d in decisions))
            _COMPILED[key] = Compiled(address, found, engine)
    return _COMPILED[key]


def _cache_stem(
    model: Model, name: str, p: np.ndarray, keys: tuple[np.ndarray, ...]
) -> Path | None:
    fp = fingerprint(model)
    if fp is None:
        return None
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in TRACING_SOURCES))
    for part in (p, *keys):
        digest.update(np.ascontiguousarray(part).tobytes())
    return (
        cache_dir() / "kernels" / f"{safe_name(model.name)}_{fp}_{digest.hexdigest()[:12]}.{name}"
    )


def _traced(
    stem: Path | None, build: Callable[[ModuleType], tuple[str, list[Decision]]]
) -> tuple[str, list[Decision]]:
    path = stem.parent / f"{stem.name}.json" if stem is not None else None
    if path is not None and path.exists():
        with contextlib.suppress(OSError, ValueError, KeyError):
            found = json.loads(path.read_text("utf-8"))
            return found["ir"], [tuple(d) for d in found["decisions"]]  # type: ignore[misc]
    from immunoreset.simulate import traced_ir  # computer algebra: only to trace

    text, decisions = build(traced_ir)
    if path is not None:
        with contextlib.suppress(OSError):  # an unwritable cache only costs the next trace
            write_once(path, json.dumps({"ir": text, "decisions": decisions}).encode("utf-8"))
    return text, decisions
