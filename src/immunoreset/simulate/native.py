"""Calling machine code compiled outside numba (the analytic Jacobian of :mod:`.analytic`) from the
compiled integrator.

The function's address is an ordinary integer argument, not a constant baked into the integrator,
so the integrator's machine code stays valid when numba reads it from its disk cache in another
process, where the same function lives at another address.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic


@intrinsic
def call_jacobian(typingctx, address, y, p, mode, t, out):  # type: ignore[no-untyped-def]
    """Call ``void jac(double *y, double *p, double *mode, double t, double *out)`` at
    ``address`` with the data of contiguous float64 arrays ``y``, ``p``, ``mode`` and ``out``
    (the dense ``n x n`` Jacobian, row-major)."""
    sig = types.void(address, y, p, mode, t, out)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        addr, yv, pv, mv, tv, ov = args
        dbl = ir.DoubleType()
        ptr = dbl.as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [ptr, ptr, ptr, dbl, ptr])
        fn = builder.inttoptr(addr, fnty.as_pointer())

        def data(value, ty):  # type: ignore[no-untyped-def]
            return context.make_array(ty)(context, builder, value).data

        a = signature.args
        builder.call(fn, [data(yv, a[1]), data(pv, a[2]), data(mv, a[3]), tv, data(ov, a[5])])
        return context.get_dummy_value()

    return sig, codegen
