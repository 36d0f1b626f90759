"""Compiled integrators, one per model, cached on disk so that only the first run compiles.

numba cannot cache a function that takes other functions as arguments, so the integrator is not
written that way: :mod:`.kernel_template` refers to the model's functions as module globals, and
this module specialises it per model by replacing the template's binding line with an import of the
model's own ``dose`` and ``initial_state``. The right-hand side, observables and switch functions
are not compiled into the integrator: they are called through their addresses (:mod:`.native`),
either the traced functions compiled by LLVM (:mod:`.analytic`) or, for patients and models those
do not serve, the model's own compiled as C functions from :mod:`.model_functions_template` the
same way (:func:`model_function_addresses`). The result is written to the user's cache folder as an
ordinary Python file and imported from there, which lets numba cache the compiled machine code
beside it (``__pycache__``); later processes load it in well under a second instead of compiling
for about ten.

The file name carries a fingerprint of everything the machine code depends on (the template, the
numerical modules it imports, the model's source files, and the numba, numpy and Python versions),
so an edited model, parameter table or engine never meets a stale cache. The probes of
:mod:`.sparsity` (Jacobian pattern, dormant states) are cached beside it, keyed also by the
parameters they were probed with.

Models whose functions are not importable from the ``immunoreset`` package (a model written in a
notebook, say) are specialised in memory and compiled in each process. If the cache folder cannot
be written, the same in-memory path is taken.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import ModuleType

import numpy as np

from immunoreset.files import write_bytes_atomic
from immunoreset.model.core import Model
from immunoreset.simulate.linalg import LuPlan, plan_lu
from immunoreset.simulate.sparsity import (
    Colouring,
    Rhs,
    colour_columns,
    dense_colouring,
    dormant_states,
    iteration_samples,
    jacobian_pattern,
)

CACHE_ENV = "IMMUNORESET_CACHE_DIR"
BIND_MARK = "# @bind-model"
"""Ends the line of a template that the model's functions replace."""
SIZES_MARK = "# @bind-sizes"
"""Ends the line of a template that the model's sizes replace (if it has one)."""
_ROLES = {
    "_rhs": "rhs",
    "_switches": "switches",
    "_dose": "dose",
    "_observe": "observe",
    "_initial_state": "initial_state",
}
_SIZES = ("_N_STATES", "_N_PARAMETERS", "_N_SWITCHES", "_N_OBSERVABLES")


@dataclass(frozen=True)
class _Template:
    """A template module: its file, the model functions its binding line imports, and the kind of
    module it makes (part of the module's name)."""

    file: str
    roles: tuple[str, ...]
    kind: str


_INTEGRATOR = _Template("kernel_template.py", ("_dose", "_initial_state"), "kernel")
_LANES = _Template("lanes_template.py", ("_dose", "_initial_state"), "lanes")
_MODEL_FUNCTIONS = _Template(
    "model_functions_template.py", ("_rhs", "_observe", "_switches"), "functions"
)
_LOADED: dict[tuple[object, ...], ModuleType] = {}
_COLOURINGS: dict[tuple[object, ...], Colouring] = {}
_PLANS: dict[tuple[object, ...], LuPlan] = {}


OPT_LEVEL = 1
"""LLVM optimisation level of the compiled integrators (numba's default is 3). Measured on Park
2025 and the integrated model, fresh cache each time, interleaved: level 1 compiles 1-2 s faster
and integrates 3-7 % faster per patient (level 3's inlining makes the integrator larger, not
faster; ``benchmarks/startup.py``, ``benchmarks/bench_models.py``). ``NUMBA_OPT`` in the
environment overrides it."""


@contextlib.contextmanager
def compile_settings() -> Iterator[None]:
    """Compile whatever numba compiles inside the block at :data:`OPT_LEVEL`, unless the user
    set ``NUMBA_OPT``; numba's setting is restored afterwards (it is process-wide, so code other
    threads compile meanwhile gets the same level)."""
    from numba.core import config

    level = getattr(config, "_OptLevel", None)
    if "NUMBA_OPT" in os.environ or level is None:
        yield
        return
    before = config.OPT
    config.OPT = level(OPT_LEVEL)
    try:
        yield
    finally:
        config.OPT = before


def cache_dir() -> Path:
    """The user cache folder: ``$IMMUNORESET_CACHE_DIR``, else ``$XDG_CACHE_HOME/immunoreset``,
    else ``~/.cache/immunoreset``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "immunoreset"


def _replace_marked(text: str, template: _Template, mark: str, replacement: str) -> str:
    """``text`` with its one line ending in ``mark`` replaced by ``replacement``."""
    lines = [line for line in text.splitlines(keepends=True) if line.rstrip().endswith(mark)]
    if len(lines) != 1:  # pragma: no cover - guards an edit of a template
        raise RuntimeError(f"{template.file} needs exactly one line ending in {mark!r}")
    return text.replace(lines[0], replacement)


def _functions(model: Model) -> dict[str, Callable[..., object]]:
    return {glob: getattr(model, role) for glob, role in _ROLES.items()}


def _import_path(fn: Callable[..., object]) -> tuple[str, str] | None:
    """``(module, name)`` if ``fn`` is a module-level function of the package, else None."""
    py = getattr(fn, "py_func", fn)
    module, name = getattr(py, "__module__", ""), getattr(py, "__name__", "")
    if (
        not module.startswith("immunoreset.")
        or getattr(sys.modules.get(module), name, None) is not fn
    ):
        return None
    return module, name


def _sources(paths: list[tuple[str, str]]) -> list[Path]:
    """Every file the compiled code may depend on: the engine's numerical modules, and every file
    (code and data: index constants are computed from parameter and state tables at import) of
    the package folder of each model function and of the model framework."""
    files = set(Path(__file__).parent.glob("*.py"))
    folders = {Path(sys.modules["immunoreset.model.core"].__file__ or "").parent}
    for module, _ in paths:
        folders.add(Path(sys.modules[module].__file__ or "").parent)
    for folder in folders:
        files.update(f for f in folder.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
    return sorted(files)


def fingerprint(model: Model) -> str | None:
    """Content hash of what the model's compiled integrator depends on; None if not cacheable."""
    paths = [_import_path(fn) for fn in _functions(model).values()]
    if any(p is None for p in paths):
        return None
    import numba

    digest = hashlib.sha256()
    for version in (numba.__version__, np.__version__, sys.version, sys.platform):
        digest.update(version.encode())
    for module, name in paths:  # type: ignore[misc]
        digest.update(f"{module}:{name}".encode())
    for path in _sources(paths):  # type: ignore[arg-type]
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def write_once(path: Path, data: bytes) -> None:
    """Create ``path`` atomically unless it exists (a rewrite would invalidate numba's cache)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, data)


def safe_name(name: str) -> str:
    """``name`` with every character that is not a letter or digit replaced by ``_`` (file names)."""
    return "".join(c if c.isalnum() else "_" for c in name)


def _specialised(model: Model, template: _Template) -> ModuleType:
    """``template`` bound to ``model``'s functions and sizes: written to the cache folder and
    imported from there (so numba caches its machine code), or, for a model whose functions are
    not importable or an unwritable cache folder, compiled in memory."""
    text = resources.files("immunoreset.simulate").joinpath(template.file).read_text("utf-8")
    sizes = (model.n_states, len(model.parameter_names), len(model.switch_names),
             len(model.observables))  # fmt: skip
    if SIZES_MARK in text:
        values = "".join(f"{name} = {value}\n" for name, value in zip(_SIZES, sizes, strict=True))
        text = _replace_marked(text, template, SIZES_MARK, values)
    functions = {glob: getattr(model, _ROLES[glob]) for glob in template.roles}
    fp = fingerprint(model)
    if fp is not None:
        imports = "".join(
            "from {} import {} as {}\n".format(*_import_path(fn), glob)  # type: ignore[misc]
            for glob, fn in functions.items()
        )
        name = f"immunoreset_{template.kind}_{safe_name(model.name)}_{fp}"
        path = cache_dir() / "kernels" / f"{name}.py"
        try:
            write_once(path, _replace_marked(text, template, BIND_MARK, imports).encode("utf-8"))
        except OSError:  # cache folder not writable: compile in memory instead
            pass
        else:
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return module
    module = ModuleType(f"immunoreset_{template.kind}_{safe_name(model.name)}_in_memory")
    module.__dict__.update(functions)
    text = _replace_marked(text, template, BIND_MARK, "").replace("cache=True", "cache=False")
    exec(compile(text, f"<immunoreset {template.kind} of {model.name}>", "exec"), module.__dict__)
    return module


def kernel_for(model: Model) -> ModuleType:
    """The compiled integrator module of ``model`` (``solve_batch`` and its parts)."""
    key = (_INTEGRATOR.kind, *_functions(model).values())
    if key not in _LOADED:
        _LOADED[key] = _specialised(model, _INTEGRATOR)
    return _LOADED[key]


def lanes_kernel_for(model: Model) -> ModuleType:
    """The compiled lock-step integrator module of ``model`` (``solve_batch_lanes``, see
    :mod:`.lanes_template`)."""
    key = (_LANES.kind, *_functions(model).values())
    if key not in _LOADED:
        _LOADED[key] = _specialised(model, _LANES)
    return _LOADED[key]


def model_function_addresses(model: Model) -> tuple[int, int, int]:
    """Addresses of the model's own ``rhs``, ``observe`` and ``switches`` compiled by numba as C
    functions of :data:`.native.SIGNATURE`, for the patients and models the traced functions
    (:mod:`.analytic`) do not serve. Compiled only when first asked for (about nine seconds for the
    integrated model), then cached like the integrator."""
    key = (_MODEL_FUNCTIONS.kind, *_functions(model).values())
    if key not in _LOADED:
        _LOADED[key] = _specialised(model, _MODEL_FUNCTIONS)
    module = _LOADED[key]
    return int(module.rhs.address), int(module.observe.address), int(module.switches.address)


def colouring_for(
    model: Model, sparse: bool, p: np.ndarray | None = None, dormant: np.ndarray | None = None,
    rhs: Rhs | None = None,
) -> Colouring:  # fmt: skip
    """The Jacobian colouring of ``model`` probed at parameters ``p`` (default: the typical
    patient), leaving out the ``dormant`` states (see :func:`.sparsity.dormant_states`): probed
    once, then read from the cache folder. ``rhs`` evaluates the right-hand side for the probes
    (default: the model's own function).

    Parameters can switch couplings on or off (a product's target antigens, say), so a run probes
    at its own typical parameters rather than the model's defaults.
    """
    if not sparse:
        return dense_colouring(model.n_states)
    p = model.typical_parameters() if p is None else np.ascontiguousarray(p, dtype=np.float64)
    skip = np.zeros(model.n_states, dtype=bool) if dormant is None else np.asarray(dormant, bool)
    scales = np.array([s.atol_scale for s in model.states])
    key = (*_functions(model).values(), p.tobytes(), scales.tobytes(), skip.tobytes())
    if key not in _COLOURINGS:
        _COLOURINGS[key] = colour_columns(_pattern(model, p, rhs), skip if skip.any() else None)
    return _COLOURINGS[key]


def lu_plan_for(
    model: Model, colours: Colouring, p: np.ndarray, atol: np.ndarray, rtol: float,
    rhs: Rhs | None = None,
) -> LuPlan:  # fmt: skip
    """The sparse LU plan of ``colours``' pattern, its pivots ordered by threshold Markowitz on
    the model's iteration matrices at ``p`` (:func:`.sparsity.iteration_samples` with the run's
    tolerances, ``rhs`` as for :func:`colouring_for`): ordered once, then read from the cache
    folder."""
    n = model.n_states
    pattern = colours.pattern
    atol = np.ascontiguousarray(atol, dtype=np.float64)
    # The samples' rounding depends on which right-hand side computes them: one order per kind.
    keys = (pattern, atol, np.array([rtol, rhs is None]))
    key = (*_functions(model).values(), p.tobytes(), *(k.tobytes() for k in keys))
    if key not in _PLANS:
        order = _probed(
            model, "luorder", p, (n,),
            lambda m, q: plan_lu(pattern, iteration_samples(m, q, atol, rtol, rhs)).order, *keys,
        )  # fmt: skip
        _PLANS[key] = plan_lu(pattern, order=order)
    return _PLANS[key]


def _pattern(model: Model, p: np.ndarray, rhs: Rhs | None) -> np.ndarray:
    """The Jacobian sparsity at ``p``, from the cache folder when it was probed before."""
    return _probed(
        model, "pattern", p, (model.n_states, model.n_states),
        lambda m, q: jacobian_pattern(m, q, rhs),
    )  # fmt: skip


def dormant_for(
    model: Model, p: np.ndarray, candidates: np.ndarray, rhs: Rhs | None = None
) -> np.ndarray:
    """:func:`.sparsity.dormant_states` of ``candidates`` at ``p``, probed with ``rhs`` (default:
    the model's own function) once, then read from the cache folder."""
    cand = np.asarray(candidates, dtype=bool)
    return _probed(
        model, "dormant", p, (model.n_states,), lambda m, q: dormant_states(m, q, cand, rhs), cand
    )


def _probed(
    model: Model,
    kind: str,
    p: np.ndarray,
    shape: tuple[int, ...],
    probe: Callable[[Model, np.ndarray], np.ndarray],
    *keys: np.ndarray,
) -> np.ndarray:
    """An array found by probing the model at ``p`` (a sparsity pattern, dormant states, an LU order),
    cached beside the compiled integrator under the model's fingerprint and a hash of ``p``, the
    tolerance scales and ``keys``. Probes are deterministic, so a cached result equals a new one."""
    scales = np.array([s.atol_scale for s in model.states])
    fp = fingerprint(model)
    path = None
    if fp is not None:
        data = p.tobytes() + scales.tobytes() + b"".join(k.tobytes() for k in keys)
        extra = hashlib.sha256(data).hexdigest()[:12]
        path = cache_dir() / "kernels" / f"{safe_name(model.name)}_{fp}_{extra}.{kind}.npy"
    found = None
    if path is not None and path.exists():
        try:
            found = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            found = None
    if found is None or found.shape != shape:
        found = probe(model, p)
        if path is not None:
            with contextlib.suppress(OSError):  # an unwritable cache only costs the next probe
                write_once(path, _npy_bytes(found))
    return found


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()
