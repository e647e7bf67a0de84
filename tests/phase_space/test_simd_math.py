"""The vectorisable elementary functions: accuracy in ulp against 64-bit-mantissa references,
libm's special values, exact Gaussian moments, and that a loop calling them vectorises."""

from __future__ import annotations

import math
import platform
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import njit
from scipy import stats

from phase_space import simd_math

LD = np.longdouble
EXTENDED = np.finfo(LD).nmant >= 63  # x86 80-bit long double: references good to 2⁻⁶⁴


@njit(cache=True, error_model="numpy")
def _apply(code, x, out):
    for i in range(x.shape[0]):
        if code == 0:
            out[i] = simd_math.log(x[i])
        elif code == 1:
            out[i] = simd_math.log1p(x[i])
        elif code == 2:
            out[i] = simd_math.exp(x[i])
        elif code == 3:
            out[i] = simd_math.expm1(x[i])
        elif code == 4:
            out[i] = simd_math.sincos(x[i])[0]
        elif code == 5:
            out[i] = simd_math.sincos(x[i])[1]
        elif code == 6:
            out[i] = simd_math.tan(x[i])
        elif code == 7:
            out[i] = simd_math.sincos_turns(x[i])[0]
        elif code == 8:
            out[i] = simd_math.sincos_turns(x[i])[1]
        elif code == 9:
            out[i] = simd_math.atan(x[i])
        elif code == 10:
            out[i] = simd_math.asin(x[i])
        else:
            out[i] = simd_math.acos(x[i])


NAMES = (
    "log",
    "log1p",
    "exp",
    "expm1",
    "cos",
    "sin",
    "tan",
    "cos_turns",
    "sin_turns",
    "atan",
    "asin",
    "acos",
)


def ours(name: str, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    _apply(NAMES.index(name), np.ascontiguousarray(x, dtype=np.float64), out)
    return out


def turns(name: str, u: np.ndarray) -> np.ndarray:
    """cos or sin of 2πu in long double: u = q/4 + d exactly in float64 (|d| ≤ 1/8), so only
    2πd is rounded, relative to itself, and zeros at the quarter turns stay exact."""
    q = np.floor(4.0 * u + 0.5)
    d = (u - 0.25 * q).astype(LD)
    r = LD(2) * np.arccos(LD(-1)) * d
    c, s = np.cos(r), np.sin(r)
    q = q.astype(np.int64) & 3
    cos_u = np.select([q == 0, q == 1, q == 2], [c, -s, -c], s)
    sin_u = np.select([q == 0, q == 1, q == 2], [s, c, -s], -c)
    return cos_u if name == "cos_turns" else sin_u


def reference(name: str, x: np.ndarray) -> np.ndarray:
    """The function in long double (x86: 64-bit mantissa)."""
    if name.endswith("_turns"):
        return turns(name, x)
    with np.errstate(all="ignore"):
        return {
            "log": np.log,
            "log1p": np.log1p,
            "exp": np.exp,
            "expm1": np.expm1,
            "cos": np.cos,
            "sin": np.sin,
            "tan": np.tan,
            "atan": np.arctan,
            "asin": np.arcsin,
            "acos": np.arccos,
        }[name](x.astype(LD))


def ulp_error(name: str, x: np.ndarray) -> np.ndarray:
    """|ours − exact| in units of the last place of the exact value (as float64)."""
    exact = reference(name, x)
    spacing = np.spacing(np.abs(exact.astype(np.float64))).astype(LD)
    return np.abs(ours(name, x).astype(LD) - exact) / spacing


def log_uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(math.log(lo), math.log(hi), n))


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(20261206)


@pytest.mark.skipif(not EXTENDED, reason="needs an 80-bit long double for exact references")
@pytest.mark.parametrize(
    ("name", "bound", "samples"),
    [
        (
            "log",
            1.0,
            lambda r: np.concatenate(
                [
                    log_uniform(r, 1e-300, 1e300, 200_000),
                    r.uniform(0.5, 2.0, 200_000),
                    [5e-324, 1e-310, 1.0],
                ]
            ),
        ),
        (
            "log1p",
            3.0,
            lambda r: np.concatenate(
                [
                    -log_uniform(r, 1e-300, 0.999, 100_000),
                    log_uniform(r, 1e-300, 1e300, 100_000),
                    r.uniform(-0.3, 0.3, 100_000),
                ]
            ),
        ),
        (
            "exp",
            1.0,
            lambda r: np.concatenate(
                [
                    r.uniform(-745.0, 709.7, 200_000),
                    r.uniform(-1.0, 1.0, 100_000),
                    [-708.5, 709.78, 0.0],
                ]
            ),
        ),
        (
            "expm1",
            3.0,
            lambda r: np.concatenate(
                [
                    r.uniform(-40.0, 709.0, 100_000),
                    r.uniform(-1.0, 1.0, 100_000),
                    -log_uniform(r, 1e-300, 1.0, 50_000),
                    log_uniform(r, 1e-300, 1.0, 50_000),
                ]
            ),
        ),
        (
            "cos",
            1.0,
            lambda r: np.concatenate(
                [r.uniform(-10.0, 10.0, 200_000), r.uniform(-1e5, 1e5, 100_000)]
            ),
        ),
        (
            "sin",
            1.0,
            lambda r: np.concatenate(
                [r.uniform(-10.0, 10.0, 200_000), log_uniform(r, 1e-300, 1.0, 50_000)]
            ),
        ),
        (
            "tan",
            4.0,
            lambda r: np.concatenate(
                [r.uniform(-1.5707963, 1.5707963, 200_000), r.uniform(-100.0, 100.0, 100_000)]
            ),
        ),
        (
            "cos_turns",
            1.0,
            lambda r: np.concatenate([r.random(200_000), [0.0, 0.125, 0.25, 0.5, 0.75]]),
        ),
        (
            "sin_turns",
            1.0,
            lambda r: np.concatenate([r.random(200_000), log_uniform(r, 1e-300, 1e-3, 50_000)]),
        ),
        (
            "atan",
            1.0,
            lambda r: np.concatenate(
                [
                    r.uniform(-3.0, 3.0, 200_000),
                    log_uniform(r, 1e-300, 1e300, 100_000),
                    -log_uniform(r, 1e-300, 1e300, 100_000),
                    [np.inf, -np.inf, 0.0],
                ]
            ),
        ),
        (
            "asin",
            2.0,
            lambda r: np.concatenate(
                [
                    r.uniform(-1.0, 1.0, 200_000),
                    1.0 - log_uniform(r, 1e-16, 1e-2, 50_000),
                    [1.0, -1.0, 0.0],
                ]
            ),
        ),
        (
            "acos",
            2.0,
            lambda r: np.concatenate(
                [
                    r.uniform(-1.0, 1.0, 200_000),
                    1.0 - log_uniform(r, 1e-16, 1e-2, 50_000),
                    -1.0 + log_uniform(r, 1e-16, 1e-2, 50_000),
                    [1.0, -1.0, 0.0],
                ]
            ),
        ),
    ],
)
def test_accuracy_in_ulp(rng, name, bound, samples):
    x = samples(rng)
    error = ulp_error(name, x)
    worst = int(np.argmax(error))
    assert error[worst] <= bound, f"{name}({x[worst]!r}): {float(error[worst]):.2f} ulp"


@pytest.mark.skipif(not EXTENDED, reason="needs an 80-bit long double for exact references")
@given(st.floats(min_value=-700.0, max_value=700.0))
def test_exp_and_log_round_trip_hypothesis(x):
    assert ulp_error("exp", np.array([x]))[0] <= 1.0
    y = float(ours("exp", np.array([x]))[0])
    if y > 0.0:
        assert ulp_error("log", np.array([y]))[0] <= 1.0


@pytest.mark.parametrize("name", ["log", "log1p", "exp", "expm1", "cos", "sin", "tan"])
def test_special_values_as_libm(name):
    libm = {
        "log": math.log,
        "log1p": math.log1p,
        "exp": math.exp,
        "expm1": math.expm1,
        "cos": math.cos,
        "sin": math.sin,
        "tan": math.tan,
    }[name]
    x = np.array([0.0, -0.0, math.inf, -math.inf, math.nan, -1.0, -2.0, 1e-320, 800.0, -800.0])
    got = ours(name, x)
    for xi, gi in zip(x, got, strict=True):
        try:
            with np.errstate(all="ignore"):
                want = libm(xi)
        except ValueError:  # math raises for a domain error where C returns NaN or −inf
            want = -math.inf if xi == 0.0 or (name == "log1p" and xi == -1.0) else math.nan
        except OverflowError:
            want = math.inf
        if math.isnan(want):
            assert math.isnan(gi), f"{name}({xi}) = {gi}, expected NaN"
        else:
            assert gi == want or abs(gi - want) <= 2 * np.spacing(abs(want)), (
                f"{name}({xi}) = {gi}, expected {want}"
            )


@njit(cache=True, error_model="numpy")
def _atan2_hypot(y, x, out):
    for i in range(x.shape[0]):
        out[0, i] = simd_math.atan2(y[i], x[i])
        out[1, i] = simd_math.hypot(y[i], x[i])


def test_atan2_and_hypot_against_libm():
    """Every quadrant, the axes with signed zeros, and magnitudes from 1e-300 to 1e300."""
    rng = np.random.default_rng(3)
    values = np.concatenate(
        [
            rng.normal(size=2000),
            log_uniform(rng, 1e-300, 1e300, 2000) * rng.choice([-1.0, 1.0], 2000),
            [0.0, -0.0, 1.0, -1.0],
        ]
    )
    y, x = (a.ravel() for a in np.meshgrid(values[::20], values[::20]))
    out = np.empty((2, x.size))
    _atan2_hypot(y, x, out)
    want_angle = np.array([math.atan2(a, b) for a, b in zip(y, x, strict=True)])
    want_norm = np.array([math.hypot(a, b) for a, b in zip(y, x, strict=True)])
    assert np.all(np.abs(out[0] - want_angle) <= 2 * np.spacing(np.abs(want_angle)))
    assert np.all(np.signbit(out[0]) == np.signbit(want_angle))
    assert np.all(np.abs(out[1] - want_norm) <= 2 * np.spacing(want_norm))


def test_outside_the_exact_reduction_nan_not_garbage():
    """Beyond the range where the reduction is exact the functions say so with NaN."""
    big = np.array([2.0**20, -(2.0**21), 1e20, math.inf, math.nan])
    for name in ("cos", "sin", "tan"):
        assert np.all(np.isnan(ours(name, big))), name
    assert np.all(
        np.isnan(ours("cos_turns", np.array([2.0**50, -(2.0**60), 1e20, math.inf, math.nan])))
    )
    assert not np.isnan(ours("sin_turns", np.array([2.0**49]))[0])


def test_hypot_special_values():
    y = np.array([1.0, math.nan, math.inf, math.nan, -math.inf, 0.0])
    x = np.array([math.nan, 1.0, math.nan, math.inf, 2.0, 0.0])
    out = np.empty((2, x.size))
    _atan2_hypot(y, x, out)
    want = [math.hypot(a, b) for a, b in zip(y, x, strict=True)]
    for got, expected in zip(out[1], want, strict=True):
        assert (math.isnan(got) and math.isnan(expected)) or got == expected


def test_sincos_turns_is_on_the_unit_circle_and_exact_at_quarters():
    u = np.linspace(0.0, 1.0, 100_001)[:-1]
    c, s = ours("cos_turns", u), ours("sin_turns", u)
    assert np.max(np.abs(c * c + s * s - 1.0)) < 4e-16
    assert ours("cos_turns", np.array([0.0, 0.25, 0.5, 0.75])).tolist() == [1.0, 0.0, -1.0, 0.0]
    assert ours("sin_turns", np.array([0.0, 0.25, 0.5, 0.75])).tolist() == [0.0, 1.0, 0.0, -1.0]


@njit(cache=True, error_model="numpy")
def _normals(u1, u2, out):
    for i in range(u1.shape[0]):
        out[0, i], out[1, i] = simd_math.normal_pair(u1[i], u2[i])


def test_normal_pair_moments_and_independence():
    """Box–Muller is exact: moments of 10⁶ pairs within 5σ, the two deviates uncorrelated,
    and the radius² is exponential (χ² on 40 bins, p > 1e-4)."""
    rng = np.random.default_rng(7)
    n = 1_000_000
    out = np.empty((2, n))
    _normals(rng.random(n), rng.random(n), out)
    for g in out:
        assert abs(g.mean()) < 5.0 / math.sqrt(n)
        assert abs(g.var() - 1.0) < 5.0 * math.sqrt(2.0 / n)
        assert abs(np.mean(g**4) - 3.0) < 5.0 * math.sqrt(96.0 / n)
    assert abs(np.mean(out[0] * out[1])) < 5.0 / math.sqrt(n)
    r2 = out[0] ** 2 + out[1] ** 2
    edges = stats.expon.ppf(np.linspace(0.0, 1.0, 41), scale=2.0)
    counts = np.histogram(r2, edges)[0]
    assert stats.chisquare(counts).pvalue > 1e-4


def test_normal_pair_is_finite_at_the_ends_of_the_unit_interval():
    out = np.empty((2, 3))
    _normals(np.array([0.0, 1.0 - 2.0**-53, 0.5]), np.array([0.0, 1.0 - 2.0**-53, 0.25]), out)
    assert np.all(np.isfinite(out))
    assert out[0, 0] == 0.0  # u1 = 0: radius √(−2 log 1) = 0
    assert out[1, 0] == 0.0


@njit(error_model="numpy")  # not cached: cached code cannot be inspected
def _log_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = simd_math.log(x[i]) + simd_math.exp(-x[i]) + simd_math.sincos_turns(x[i])[0]


@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64"), reason="checks x86 packed instructions"
)
def test_a_loop_calling_them_vectorises():
    """What the module is for: LLVM emits packed double arithmetic (4 or 8 lanes; 2 on bare
    SSE2) and no libm call for a loop over these functions."""
    _log_loop(np.ones(16), np.empty(16))
    asm = next(iter(_log_loop.inspect_asm().values()))
    assert "mulpd" in asm  # packed (vector) multiply of doubles
    ir = next(iter(_log_loop.inspect_llvm().values()))
    libm = re.findall(r"call [^\n]*@(log|exp|sin|cos|tan|llvm\.(?:log|exp|sin|cos)\.[^(]*)\(", ir)
    assert not libm, f"libm calls in the loop: {sorted(set(libm))}"
