"""``pow``, ``exp`` and ``log`` written in LLVM IR, so that they vectorise.

The generated functions (:mod:`.traced_ir`) call the C library's ``pow`` for every power with a
parameter or fractional exponent: the Hill terms of Park 2025 make five such calls per right-hand
side, about a fifth of a patient's time, and a library call cannot be vectorised, so in lock-step
lanes (:mod:`.lanes_ir`) it stays one call per lane. Written here as straight-line IR (bit
manipulation, polynomials and selects, no branches), the same function serves one patient
(``double``) or a vector of lanes (``<L x double>``): the same operations on every lane, so lanes
and scalar code give the same bits.

The algorithms are those of fdlibm (Sun Microsystems 1993; the C library of FreeBSD and of Java's
``StrictMath``), ``e_log.c`` and ``e_exp.c``, written without branches: the logarithm reduces its
argument to ``2^k m`` with ``m`` in ``[sqrt(2)/2, sqrt(2))`` and evaluates ``log(m)`` by fdlibm's
minimax polynomial in ``s = (m - 1) / (m + 1)``; the exponential reduces ``t = k ln2 + r`` with
``|r| <= ln2 / 2`` and evaluates fdlibm's rational approximation; both are accurate to about one
unit in the last place. ``pow(x, y)`` is ``exp(y log|x|)`` with the C standard's special cases
(``pow(x, 0) = 1``, ``pow(1, y) = 1``, negative bases with integer exponents, NaN for a negative
base with a fractional exponent); its relative error grows with ``|y log x|`` (about
``|y log x| x 2.2e-16``: below 1e-14 for the Hill terms' exponents of 1-5 and bases within 1e-20 to
1e20, against the library's correctly rounded result; tested).
"""

from __future__ import annotations

from immunoreset.simulate.machine_code import ir_double, splat

POW, EXP, LOG = "ir.pow", "ir.exp", "ir.log"
"""Names of the scalar functions; the lane forms add ``.v<L>``."""

_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_LG = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)
_P = (
    1.66666666666666019037e-01,
    -2.77777777770155933842e-03,
    6.61375632143793436117e-05,
    -1.65339022054652515390e-06,
    4.13813679705723846039e-08,
)
_EXP_OVER = 7.09782712893383973096e02
_EXP_UNDER = -7.45133219101941108420e02
_SQRT2 = 1.4142135623730951
_TINY = 2.2250738585072014e-308  # smallest normal double


class _Writer:
    """Straight-line IR on ``lanes`` lanes (1: scalar) with constants splatted as needed."""

    def __init__(self, lanes: int) -> None:
        self.lanes = lanes
        self.lines: list[str] = []
        self.d = "double" if lanes == 1 else f"<{lanes} x double>"
        self.i = "i64" if lanes == 1 else f"<{lanes} x i64>"
        self.b = "i1" if lanes == 1 else f"<{lanes} x i1>"
        self.suffix = "f64" if lanes == 1 else f"v{lanes}f64"

    def dc(self, x: float) -> str:
        return splat("double", ir_double(x), self.lanes)

    def ic(self, x: int) -> str:
        return splat("i64", str(x), self.lanes)

    def true(self) -> str:
        return splat("i1", "true", self.lanes)

    def op(self, name: str, text: str) -> str:
        self.lines.append(f"  %{name} = {text}")
        return f"%{name}"

    def poly(self, prefix: str, x: str, coefficients: tuple[float, ...]) -> str:
        """``c0 + x (c1 + x (c2 + ...))`` by Horner's rule, in fdlibm's order."""
        acc = self.dc(coefficients[-1])
        for k, c in enumerate(reversed(coefficients[:-1])):
            prod = self.op(f"{prefix}m{k}", f"fmul {self.d} {x}, {acc}")
            acc = self.op(f"{prefix}a{k}", f"fadd {self.d} {self.dc(c)}, {prod}")
        return acc


def _log_body(w: _Writer, x: str) -> str:
    """fdlibm ``__ieee754_log`` of ``x`` (-inf at 0, NaN below, inf at inf)."""
    d, i = w.d, w.i
    sub = w.op("l.sub", f"fcmp olt {d} {x}, {w.dc(_TINY)}")
    xs0 = w.op("l.xs0", f"fmul {d} {x}, {w.dc(2.0**54)}")
    xs = w.op("l.xs", f"select {w.b} {sub}, {d} {xs0}, {d} {x}")
    bits = w.op("l.bits", f"bitcast {d} {xs} to {i}")
    expo = w.op("l.expo", f"lshr {i} {bits}, {w.ic(52)}")
    k0 = w.op("l.k0", f"sub {i} {expo}, {w.ic(1023)}")
    k54 = w.op("l.k54", f"sub {i} {k0}, {w.ic(54)}")
    k1 = w.op("l.k1", f"select {w.b} {sub}, {i} {k54}, {i} {k0}")
    mant = w.op("l.mant", f"and {i} {bits}, {w.ic(0x000FFFFFFFFFFFFF)}")
    mbits = w.op("l.mbits", f"or {i} {mant}, {w.ic(0x3FF0000000000000)}")
    m1 = w.op("l.m1", f"bitcast {i} {mbits} to {d}")
    big = w.op("l.big", f"fcmp ogt {d} {m1}, {w.dc(_SQRT2)}")
    half = w.op("l.half", f"fmul {d} {m1}, {w.dc(0.5)}")
    m = w.op("l.m", f"select {w.b} {big}, {d} {half}, {d} {m1}")
    kinc = w.op("l.kinc", f"zext {w.b} {big} to {i}")
    k = w.op("l.k", f"add {i} {k1}, {kinc}")
    f = w.op("l.f", f"fsub {d} {m}, {w.dc(1.0)}")
    den = w.op("l.den", f"fadd {d} {w.dc(2.0)}, {f}")
    s = w.op("l.s", f"fdiv {d} {f}, {den}")
    z = w.op("l.z", f"fmul {d} {s}, {s}")
    ww = w.op("l.w", f"fmul {d} {z}, {z}")
    t1p = w.poly("l.t1", ww, (_LG[1], _LG[3], _LG[5]))
    t1 = w.op("l.t1", f"fmul {d} {ww}, {t1p}")
    t2p = w.poly("l.t2", ww, (_LG[0], _LG[2], _LG[4], _LG[6]))
    t2 = w.op("l.t2", f"fmul {d} {z}, {t2p}")
    r = w.op("l.r", f"fadd {d} {t2}, {t1}")
    ff = w.op("l.ff", f"fmul {d} {f}, {f}")
    hfsq = w.op("l.hfsq", f"fmul {d} {w.dc(0.5)}, {ff}")
    dk = w.op("l.dk", f"sitofp {i} {k} to {d}")
    # dk*ln2_hi - ((hfsq - (s*(hfsq+R) + dk*ln2_lo)) - f)
    hr = w.op("l.hr", f"fadd {d} {hfsq}, {r}")
    shr = w.op("l.shr", f"fmul {d} {s}, {hr}")
    klo = w.op("l.klo", f"fmul {d} {dk}, {w.dc(_LN2_LO)}")
    inner = w.op("l.inner", f"fadd {d} {shr}, {klo}")
    diff = w.op("l.diff", f"fsub {d} {hfsq}, {inner}")
    diff2 = w.op("l.diff2", f"fsub {d} {diff}, {f}")
    khi = w.op("l.khi", f"fmul {d} {dk}, {w.dc(_LN2_HI)}")
    value = w.op("l.value", f"fsub {d} {khi}, {diff2}")
    # Special cases: 0 -> -inf, < 0 or NaN -> NaN, inf -> inf.
    zero = w.op("l.zero", f"fcmp oeq {d} {x}, {w.dc(0.0)}")
    v1 = w.op("l.v1", f"select {w.b} {zero}, {d} {w.dc(float('-inf'))}, {d} {value}")
    inf = w.op("l.inf", f"fcmp oeq {d} {x}, {w.dc(float('inf'))}")
    v2 = w.op("l.v2", f"select {w.b} {inf}, {d} {x}, {d} {v1}")
    bad = w.op("l.bad", f"fcmp ult {d} {x}, {w.dc(0.0)}")  # negative or NaN
    return w.op("l.out", f"select {w.b} {bad}, {d} {w.dc(float('nan'))}, {d} {v2}")


def _exp_body(w: _Writer, t: str) -> str:
    """fdlibm ``__ieee754_exp`` of ``t`` (0 below -745.13, inf above 709.78, NaN for NaN)."""
    d, i = w.d, w.i
    scaled = w.op("e.sc", f"fmul {d} {t}, {w.dc(_INV_LN2)}")
    shifted = w.op("e.sh", f"fadd {d} {scaled}, {w.dc(0.5)}")
    kd = w.op("e.kd", f"call {d} @llvm.floor.{w.suffix}({d} {shifted})")
    # Clamp k so that its conversion is defined for NaN and out-of-range t (results replaced).
    ok = w.op("e.ok", f"fcmp olt {d} {kd}, {w.dc(2000.0)}")
    kd1 = w.op("e.kd1", f"select {w.b} {ok}, {d} {kd}, {d} {w.dc(0.0)}")
    ok2 = w.op("e.ok2", f"fcmp ogt {d} {kd1}, {w.dc(-2000.0)}")
    kd2 = w.op("e.kd2", f"select {w.b} {ok2}, {d} {kd1}, {d} {w.dc(0.0)}")
    hi0 = w.op("e.hi0", f"fmul {d} {kd2}, {w.dc(_LN2_HI)}")
    hi = w.op("e.hi", f"fsub {d} {t}, {hi0}")
    lo = w.op("e.lo", f"fmul {d} {kd2}, {w.dc(_LN2_LO)}")
    r = w.op("e.r", f"fsub {d} {hi}, {lo}")
    rr = w.op("e.rr", f"fmul {d} {r}, {r}")
    pp = w.poly("e.p", rr, _P)
    rp = w.op("e.rp", f"fmul {d} {rr}, {pp}")
    c = w.op("e.c", f"fsub {d} {r}, {rp}")
    rc = w.op("e.rc", f"fmul {d} {r}, {c}")
    den = w.op("e.den", f"fsub {d} {w.dc(2.0)}, {c}")
    q = w.op("e.q", f"fdiv {d} {rc}, {den}")
    a = w.op("e.a", f"fsub {d} {lo}, {q}")
    b = w.op("e.b", f"fsub {d} {a}, {hi}")
    y = w.op("e.y", f"fsub {d} {w.dc(1.0)}, {b}")
    # y * 2^k in two factors, so that subnormal results are rounded once.
    k = w.op("e.k", f"fptosi {d} {kd2} to {i}")
    k1 = w.op("e.k1", f"ashr {i} {k}, {w.ic(1)}")
    k2 = w.op("e.k2", f"sub {i} {k}, {k1}")
    scales = []
    for name, kk in (("s1", k1), ("s2", k2)):
        biased = w.op(f"e.{name}b", f"add {i} {kk}, {w.ic(1023)}")
        shifted_bits = w.op(f"e.{name}s", f"shl {i} {biased}, {w.ic(52)}")
        scales.append(w.op(f"e.{name}", f"bitcast {i} {shifted_bits} to {d}"))
    y1 = w.op("e.y1", f"fmul {d} {y}, {scales[0]}")
    value = w.op("e.value", f"fmul {d} {y1}, {scales[1]}")
    over = w.op("e.over", f"fcmp ogt {d} {t}, {w.dc(_EXP_OVER)}")
    v1 = w.op("e.v1", f"select {w.b} {over}, {d} {w.dc(float('inf'))}, {d} {value}")
    under = w.op("e.under", f"fcmp olt {d} {t}, {w.dc(_EXP_UNDER)}")
    v2 = w.op("e.v2", f"select {w.b} {under}, {d} {w.dc(0.0)}, {d} {v1}")
    nan = w.op("e.nan", f"fcmp uno {d} {t}, {t}")
    return w.op("e.out", f"select {w.b} {nan}, {d} {t}, {d} {v2}")


def _pow_body(w: _Writer, x: str, y: str) -> str:
    """``exp(y log|x|)`` with the special cases of C's ``pow``."""
    d, i, b = w.d, w.i, w.b
    ax = w.op("p.ax", f"call {d} @llvm.fabs.{w.suffix}({d} {x})")
    lx = _log_body(w, ax)
    t = w.op("p.t", f"fmul {d} {y}, {lx}")
    r = _exp_body(w, t)
    fy = w.op("p.fy", f"call {d} @llvm.floor.{w.suffix}({d} {y})")
    integer = w.op("p.int", f"fcmp oeq {d} {fy}, {y}")
    hy = w.op("p.hy", f"fmul {d} {y}, {w.dc(0.5)}")
    fhy = w.op("p.fhy", f"call {d} @llvm.floor.{w.suffix}({d} {hy})")
    even = w.op("p.even", f"fcmp oeq {d} {fhy}, {hy}")
    odd = w.op("p.odd", f"xor {b} {even}, {w.true()}")
    odd_int = w.op("p.oddint", f"and {b} {integer}, {odd}")
    xbits = w.op("p.xbits", f"bitcast {d} {x} to {i}")
    negative = w.op("p.neg", f"icmp slt {i} {xbits}, {w.ic(0)}")
    flip = w.op("p.flip", f"and {b} {negative}, {odd_int}")
    minus = w.op("p.minus", f"fneg {d} {r}")
    v1 = w.op("p.v1", f"select {b} {flip}, {d} {minus}, {d} {r}")
    below = w.op("p.below", f"fcmp olt {d} {x}, {w.dc(0.0)}")
    finite = w.op("p.finite", f"fcmp ogt {d} {x}, {w.dc(float('-inf'))}")
    frac = w.op("p.frac", f"xor {b} {integer}, {w.true()}")
    nb = w.op("p.nb", f"and {b} {below}, {finite}")
    nan = w.op("p.nan", f"and {b} {nb}, {frac}")
    v2 = w.op("p.v2", f"select {b} {nan}, {d} {w.dc(float('nan'))}, {d} {v1}")
    one = w.op("p.one", f"fcmp oeq {d} {x}, {w.dc(1.0)}")
    zero = w.op("p.zero", f"fcmp oeq {d} {y}, {w.dc(0.0)}")
    trivial = w.op("p.trivial", f"or {b} {one}, {zero}")
    return w.op("p.out", f"select {b} {trivial}, {d} {w.dc(1.0)}, {d} {v2}")


def name(function: str, lanes: int) -> str:
    """The IR name of ``function`` (:data:`POW`, :data:`EXP`, :data:`LOG`) on ``lanes`` lanes."""
    return function if lanes == 1 else f"{function}.v{lanes}"


def declarations(lanes: int) -> str:
    """Declarations of the intrinsics the definitions use (on ``lanes`` lanes)."""
    suffix = "f64" if lanes == 1 else f"v{lanes}f64"
    d = "double" if lanes == 1 else f"<{lanes} x double>"
    return "".join(f"declare {d} @llvm.{f}.{suffix}({d})\n" for f in ("floor", "fabs"))


def definitions(lanes: int) -> str:
    """IR of ``pow``, ``exp`` and ``log`` on ``lanes`` lanes (1: on doubles), internal to the
    module and always inlined; the module declares the intrinsics (:func:`declarations`)."""
    out = []
    d = "double" if lanes == 1 else f"<{lanes} x double>"
    for function, arguments, body in (
        (POW, ("x", "y"), lambda w: _pow_body(w, "%x", "%y")),
        (EXP, ("x",), lambda w: _exp_body(w, "%x")),
        (LOG, ("x",), lambda w: _log_body(w, "%x")),
    ):
        w = _Writer(lanes)
        result = body(w)
        args = ", ".join(f"{d} %{a}" for a in arguments)
        out.append(f"define internal {d} @{name(function, lanes)}({args}) alwaysinline {{")
        out.extend(w.lines)
        out.append(f"  ret {d} {result}")
        out.append("}")
    return "\n".join(out) + "\n"
