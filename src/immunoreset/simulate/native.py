"""Calling machine code compiled outside numba from the compiled integrator: the traced right-hand
side, observables, switch functions and analytic Jacobian of :mod:`.analytic`, or the model's own
functions compiled as C functions (:func:`.kernels.model_function_addresses`).

Every such function has the C signature :data:`SIGNATURE`, ``void f(double *y, double *p, double
*mode, double t, double *out)``. Its address is an ordinary integer argument, not a constant baked
into the integrator, so the integrator's machine code stays valid when numba reads it from its disk
cache in another process, where the same function lives at another address; and the integrator does
not compile the model's largest functions itself (for the integrated model, more than half of a
first run's compile time).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

Array = np.ndarray
_DOUBLES = types.CPointer(types.float64)
SIGNATURE = types.void(_DOUBLES, _DOUBLES, _DOUBLES, types.float64, _DOUBLES)
"""``void f(double *y, double *p, double *mode, double t, double *out)``."""


@intrinsic
def call_compiled(typingctx, address, y, p, mode, t, out):  # type: ignore[no-untyped-def]
    """Call the function of :data:`SIGNATURE` at ``address`` with the data of contiguous float64
    arrays ``y``, ``p``, ``mode`` and ``out`` (``dy/dt``, or the dense ``n x n`` Jacobian,
    row-major)."""
    sig = types.void(address, y, p, mode, t, out)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        addr, yv, pv, mv, tv, ov = args
        dbl = ir.DoubleType()
        ptr = dbl.as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [ptr, ptr, ptr, dbl, ptr])
        fn = builder.inttoptr(addr, fnty.as_pointer())

        y, p, m, o = (_data(context, builder, v, signature.args[i])
                      for i, v in ((1, yv), (2, pv), (3, mv), (5, ov)))  # fmt: skip
        builder.call(fn, [y, p, m, tv, o])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def call_lu_factor(typingctx, address, jac, shift, scale, a):  # type: ignore[no-untyped-def]
    """Call the generated ``int lu_factor(double *jac, double shift, double *scale, double *a)``
    at ``address`` (:mod:`.lu_ir`); True if every planned pivot passed."""
    sig = types.boolean(address, jac, shift, scale, a)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        addr, jv, sv, cv, av = args
        dbl = ir.DoubleType()
        ptr = dbl.as_pointer()
        fnty = ir.FunctionType(ir.IntType(32), [ptr, dbl, ptr, ptr])
        fn = builder.inttoptr(addr, fnty.as_pointer())
        j, c, x = (_data(context, builder, v, signature.args[i])
                   for i, v in ((1, jv), (3, cv), (4, av)))  # fmt: skip
        ok = builder.call(fn, [j, sv, c, x])
        return builder.icmp_unsigned("!=", ok, ir.Constant(ir.IntType(32), 0))

    return sig, codegen


@intrinsic
def call_lu_solve(typingctx, address, a, b):  # type: ignore[no-untyped-def]
    """Call the generated ``void lu_solve(double *a, double *b)`` at ``address`` (:mod:`.lu_ir`):
    ``b`` is overwritten with the solution."""
    sig = types.void(address, a, b)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        addr, av, bv = args
        ptr = ir.DoubleType().as_pointer()
        fn = builder.inttoptr(addr, ir.FunctionType(ir.VoidType(), [ptr, ptr]).as_pointer())
        builder.call(
            fn, [_data(context, builder, v, signature.args[i]) for i, v in ((1, av), (2, bv))]
        )
        return context.get_dummy_value()

    return sig, codegen


def _call_pointers(context, builder, signature, args):  # type: ignore[no-untyped-def]
    """Code of a call of ``void f(double *, ...)`` at ``args[0]`` with the data of the arrays
    ``args[1:]``."""
    count = len(args) - 1
    ptr = ir.DoubleType().as_pointer()
    fn = builder.inttoptr(args[0], ir.FunctionType(ir.VoidType(), [ptr] * count).as_pointer())
    builder.call(
        fn, [_data(context, builder, args[i], signature.args[i]) for i in range(1, count + 1)]
    )
    return context.get_dummy_value()


@intrinsic
def call_lanes(typingctx, address, y, p, mode, t, out):  # type: ignore[no-untyped-def]
    """Call a function of :data:`SIGNATURE` rewritten for lanes (:mod:`.lanes_ir`): ``void
    f(double *y, double *p, double *mode, double *t, double *out)``, every array lane-interleaved
    and ``t`` one time per lane."""
    return types.void(address, y, p, mode, t, out), _call_pointers


@intrinsic
def call_lu_factor_lanes(typingctx, address, jac, shift, scale, a):  # type: ignore[no-untyped-def]
    """Call the generated ``int lu_factor_lanes(double *jac, double *shift, double *scale,
    double *a)`` (:mod:`.lanes_ir`): bit ``l`` of the result is set if every planned pivot of lane
    ``l`` passed."""
    sig = types.int64(address, jac, shift, scale, a)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        ptr = ir.DoubleType().as_pointer()
        fnty = ir.FunctionType(ir.IntType(32), [ptr] * 4)
        fn = builder.inttoptr(args[0], fnty.as_pointer())
        bits = builder.call(
            fn, [_data(context, builder, args[i], signature.args[i]) for i in range(1, 5)]
        )
        return builder.zext(bits, ir.IntType(64))

    return sig, codegen


@intrinsic
def call_pointers3(typingctx, address, a, b, c):  # type: ignore[no-untyped-def]
    """Call ``void f(double *a, double *b, double *c)`` at ``address`` with the data of contiguous
    float64 arrays (the stage functions of :mod:`.rodas_lanes_ir`)."""
    return types.void(address, a, b, c), _call_pointers


@intrinsic
def call_pointers4(typingctx, address, a, b, c, d):  # type: ignore[no-untyped-def]
    """Call ``void f(double *a, double *b, double *c, double *d)`` at ``address``."""
    return types.void(address, a, b, c, d), _call_pointers


@intrinsic
def call_pointers5(typingctx, address, a, b, c, d, e):  # type: ignore[no-untyped-def]
    """Call ``void f(double *a, ..., double *e)`` at ``address``."""
    return types.void(address, a, b, c, d, e), _call_pointers


@intrinsic
def call_pointers6(typingctx, address, a, b, c, d, e, f):  # type: ignore[no-untyped-def]
    """Call ``void f(double *a, ..., double *f)`` at ``address``."""
    return types.void(address, a, b, c, d, e, f), _call_pointers


@intrinsic
def borrowed(typingctx, a):  # type: ignore[no-untyped-def]
    """A view of array ``a`` that carries no reference to its memory: the same data, shape and
    strides with a null memory-info pointer.

    Numba counts references to an array's memory with atomic instructions every time the array is
    passed to a compiled function or bound to a variable; in the integrator's step loop, which
    hands about a hundred arrays to its helpers per step, these counts took about a seventh of
    the time of a Park 2025 patient. Counting a null pointer is a test and a branch. The caller
    must keep ``a`` itself alive for as long as the view is used."""
    if not isinstance(a, types.Array):
        return None
    sig = a(a)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        src = context.make_array(a)(context, builder, args[0])
        view = context.make_array(a)(context, builder)
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        view.parent = cgutils.get_null_value(view.parent.type)
        for field in ("nitems", "itemsize", "data", "shape", "strides"):
            setattr(view, field, getattr(src, field))
        return view._getvalue()

    return sig, codegen


def _data(context, builder, value, ty):  # type: ignore[no-untyped-def]
    """The data pointer of a contiguous array argument inside an intrinsic."""
    return context.make_array(ty)(context, builder, value).data


def python_caller(address: int) -> Callable[[float, Array, Array, Array, Array], None]:
    """A Python function ``f(t, y, p, mode, out)`` (a model's ``rhs`` signature) that calls the
    function of :data:`SIGNATURE` at ``address``, for work outside the integrator (probing the
    sparsity pattern). The arrays must be contiguous float64."""
    c_double_p = ctypes.POINTER(ctypes.c_double)
    fn = ctypes.CFUNCTYPE(None, c_double_p, c_double_p, c_double_p, ctypes.c_double, c_double_p)(
        address
    )

    def call(t: float, y: Array, p: Array, mode: Array, out: Array) -> None:
        for a in (y, p, mode, out):
            if a.dtype != np.float64 or not a.flags.c_contiguous:
                raise TypeError("compiled functions take contiguous float64 arrays")
        fn(*(a.ctypes.data_as(c_double_p) for a in (y, p, mode)), t, out.ctypes.data_as(c_double_p))

    return call
