"""LLVM IR compiled to machine code by llvmlite, with the machine code cached on disk.

The traced model functions (:mod:`.analytic`) and the generated sparse LU (:mod:`.lu_ir`) are
written as LLVM IR and compiled here; the integrator calls them through their addresses
(:mod:`.native`). Optimising is most of a build; machine code read from the cache was optimised
when it was built, so a later process only loads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import struct
from pathlib import Path
from typing import Any

from immunoreset.simulate.kernels import write_once

CODE_GENERATION = "host CPU, optimisation level 2"
"""How the machine code is generated (part of the cache key). For the host's CPU: its instruction
set (AVX2, AVX-512 where present) gives the straight-line functions about 10 % more speed on the
integrated model than generic x86-64 code. The IR has no fast-math flags, so no multiply-add is
fused and no operation reordered: the results are the same bits either way."""


def ir_double(x: object) -> str:
    """``x`` as an exact LLVM IR double constant (its bits in hexadecimal)."""
    bits = struct.unpack("<Q", struct.pack("<d", float(x)))[0]  # type: ignore[arg-type]
    return f"0x{bits:016X}"


def splat(scalar_type: str, value: str, lanes: int) -> str:
    """The constant ``value`` of ``scalar_type`` (``double``, ``i64``, ``i1``) on ``lanes`` lanes:
    itself for one lane, else a vector constant with it in every lane."""
    if lanes == 1:
        return value
    return "<" + ", ".join([f"{scalar_type} {value}"] * lanes) + ">"


class IrFunction:
    """The body of one straight-line LLVM IR function: numbered SSA values, loads from and stores
    to its ``double*`` arguments by constant index."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def op(self, text: str) -> str:
        """Append ``%vN = text`` and return ``%vN``."""
        name = f"%v{len(self.lines)}"
        self.lines.append(f"  {name} = {text}")
        return name

    def load(self, array: str, index: int) -> str:
        ptr = self.op(f"getelementptr double, double* %{array}, i64 {index}")
        return self.op(f"load double, double* {ptr}")

    def store(self, value: str, array: str, index: int) -> None:
        ptr = self.op(f"getelementptr double, double* %{array}, i64 {index}")
        self.lines.append(f"  store double {value}, double* {ptr}")


def compile_ir(text: str, stem: Path | None, names: tuple[str, ...]) -> tuple[Any, tuple[int, ...]]:
    """Compile the IR module ``text`` and return its engine (which owns the machine code: keep it
    alive while the addresses are used) and the addresses of the functions ``names``. With a
    ``stem`` the object code is cached beside it, keyed by llvmlite's version and the host CPU."""
    import llvmlite
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    cpu, features = llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()
    machine = llvm.Target.from_default_triple().create_target_machine(
        cpu=cpu, features=features, opt=2
    )
    objects = None
    if stem is not None:
        host = f"{llvmlite.__version__} {CODE_GENERATION} {cpu} {features}"
        tag = hashlib.sha256(host.encode()).hexdigest()[:12]
        objects = stem.parent / f"{stem.name}.{tag}.o"
    module = llvm.parse_assembly(text)
    if objects is None or not objects.exists():
        module.verify()
        builder = llvm.create_pass_builder(
            machine, llvm.create_pipeline_tuning_options(speed_level=2)
        )
        builder.getModulePassManager().run(module, builder)
    engine = llvm.create_mcjit_compiler(module, machine)
    if objects is not None:
        _cache_objects(engine, objects)
    engine.finalize_object()
    return engine, tuple(engine.get_function_address(name) for name in names)


def _cache_objects(engine: Any, path: Path) -> None:
    """Let LLVM read the machine code from ``path`` if there, and write it there once built."""

    def notify(module: Any, buffer: bytes) -> None:
        with contextlib.suppress(OSError):
            write_once(path, buffer)

    def get(module: Any) -> bytes | None:
        try:
            return path.read_bytes()
        except OSError:
            return None

    engine.set_object_cache(notify, get)
