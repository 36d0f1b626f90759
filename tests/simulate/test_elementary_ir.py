"""pow, exp and log in IR (:mod:`immunoreset.simulate.elementary_ir`) against the C library, and the
lane forms against the scalar ones."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from immunoreset.simulate import elementary_ir as elementary
from immunoreset.simulate.machine_code import compile_ir

DOUBLES = ctypes.POINTER(ctypes.c_double)
LANES = 4


def _loop(function: str, arity: int, lanes: int) -> str:
    """``void run(x[, y], out, n)``: ``out[i] = function(x[i][, y[i]])``, ``lanes`` at a time."""
    d = "double" if lanes == 1 else f"<{lanes} x double>"
    args = ("x", "y")[:arity]
    lines = [
        "define void @run(" + "".join(f"double* %{a}, " for a in args) + "double* %out, i64 %n) {",
        "entry:",
        "  br label %loop",
        "loop:",
        "  %i = phi i64 [0, %entry], [%next, %loop]",
    ]
    for a in (*args, "out"):
        lines.append(f"  %p{a} = getelementptr double, double* %{a}, i64 %i")
        lines.append(f"  %q{a} = bitcast double* %p{a} to {d}*")
    for a in args:
        lines.append(f"  %v{a} = load {d}, {d}* %q{a}, align 8")
    call_args = ", ".join(f"{d} %v{a}" for a in args)
    lines += [
        f"  %r = call {d} @{elementary.name(function, lanes)}({call_args})",
        f"  store {d} %r, {d}* %qout, align 8",
        f"  %next = add i64 %i, {lanes}",
        "  %done = icmp sge i64 %next, %n",
        "  br i1 %done, label %exit, label %loop",
        "exit:",
        "  ret void",
        "}",
    ]
    return elementary.declarations(lanes) + elementary.definitions(lanes) + "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def functions():  # type: ignore[no-untyped-def]
    """(function, lanes) -> a numpy-level caller, compiled once for the module."""
    engines, out = [], {}
    for function, arity in ((elementary.POW, 2), (elementary.EXP, 1), (elementary.LOG, 1)):
        for lanes in (1, LANES):
            engine, (address,) = compile_ir(_loop(function, arity, lanes), None, ("run",))
            engines.append(engine)
            fn = ctypes.CFUNCTYPE(None, *[DOUBLES] * (arity + 1), ctypes.c_int64)(address)

            def call(*arrays: np.ndarray, fn=fn) -> np.ndarray:  # type: ignore[no-untyped-def]
                arrays = tuple(np.ascontiguousarray(a, dtype=np.float64) for a in arrays)
                result = np.zeros_like(arrays[0])
                assert len(result) % LANES == 0
                fn(*(a.ctypes.data_as(DOUBLES) for a in (*arrays, result)), len(result))
                return result

            out[function, lanes] = call
    yield out
    del engines


def _relative(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a / b - 1.0)


def test_log_and_exp_are_within_two_units_in_the_last_place(functions) -> None:  # type: ignore[no-untyped-def]
    """fdlibm's log and exp are accurate to below one ulp (2.2e-16); two allow for the library's
    own rounding."""
    rng = np.random.default_rng(1)
    x = 10.0 ** rng.uniform(-300, 300, 1 << 14)
    x[:4] = (5e-324, 2.2e-308, 1.0 - 1e-12, 1.0 + 1e-12)  # subnormal, tiny, near 1
    assert _relative(functions[elementary.LOG, 1](x), np.log(x)).max() <= 4.5e-16
    near_one = 1.0 + rng.uniform(-0.3, 0.3, 1 << 14)
    assert np.abs(functions[elementary.LOG, 1](near_one) - np.log(near_one)).max() <= 1.2e-16
    t = rng.uniform(-708.0, 709.0, 1 << 14)
    assert _relative(functions[elementary.EXP, 1](t), np.exp(t)).max() <= 4.5e-16


def test_pow_error_grows_with_y_log_x_as_documented(functions) -> None:  # type: ignore[no-untyped-def]
    """exp(y log x): relative error at most |y log x| x 2.2e-16 plus a few ulp (the log's and exp's
    own); below 1e-14 for Hill exponents 0.3-5 and bases 1e-20 to 1e20."""
    rng = np.random.default_rng(2)
    x = 10.0 ** rng.uniform(-20, 20, 1 << 15)
    y = rng.uniform(0.3, 5.0, 1 << 15)
    error = _relative(functions[elementary.POW, 1](x, y), np.power(x, y))
    bound = np.abs(y * np.log(x)) * 2.2e-16 + 1e-15
    assert (error <= bound).all()
    assert error.max() < 1e-14 * 3.2  # |y log x| reaches 230 here


CASES = [  # x, y: C99 Annex F special cases of pow, and ordinary ones
    (0.0, 2.0), (-0.0, 3.0), (0.0, -1.5), (-0.0, -3.0), (-2.0, 3.0), (-2.0, 2.0), (-2.0, 0.5),
    (np.inf, 2.0), (np.inf, -2.0), (-np.inf, 3.0), (-np.inf, 0.5), (np.nan, 0.0), (1.0, np.nan),
    (np.nan, 2.0), (2.0, np.inf), (2.0, -np.inf), (0.5, np.inf), (-8.0, 1 / 3), (1e-310, 0.5),
    (1e300, 2.0), (1e-300, 2.0), (3.0, 1.0), (10.0, 308.0), (10.0, -323.0), (-0.5, 7.0), (7.0, -1.0),
]  # fmt: skip


def test_pow_special_cases_are_the_c_librarys(functions) -> None:  # type: ignore[no-untyped-def]
    x, y = (np.array(v + (1.0,) * (-len(v) % LANES)) for v in zip(*CASES, strict=True))
    with np.errstate(all="ignore"):
        expected = np.power(x, y)
    got = functions[elementary.POW, 1](x, y)
    for a, b, g, e in zip(x, y, got, expected, strict=True):
        if np.isnan(e):
            assert np.isnan(g), (a, b, g)
        elif e == 0.0 or np.isinf(e):
            assert g == e and np.signbit(g) == np.signbit(e), (a, b, g, e)
        else:
            assert abs(g / e - 1.0) < 1e-13, (a, b, g, e)


def test_lane_forms_give_the_scalar_bits(functions) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    x = np.concatenate(
        [10.0 ** rng.uniform(-30, 30, 4096), -rng.uniform(0, 5, 64), [0.0, np.inf, np.nan, 1.0]]
    )
    y = np.concatenate(
        [rng.uniform(-6, 6, 4096), np.round(rng.uniform(-6, 6, 64)), [2.0, -1.0, 3.0, np.nan]]
    )
    for function, args in (
        (elementary.POW, (x, y)),
        (elementary.EXP, (y * 100,)),
        (elementary.LOG, (np.abs(x),)),
    ):
        with np.errstate(all="ignore"):
            scalar = functions[function, 1](*args)
            lanes = functions[function, LANES](*args)
        assert np.array_equal(scalar.view(np.int64), lanes.view(np.int64)), function
