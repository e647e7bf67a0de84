"""Elementary functions that vectorise: log, log1p, exp, expm1, sin/cos, tan, Gaussians.

numba calls libm for ``math.log``, ``math.cos``, …; a call is opaque to LLVM, so a loop that
makes one runs one event at a time (6–20 ns per call here, the cosine of 2πu the slowest).
The functions below are written as straight-line arithmetic on the bits of the float —
range reduction, a polynomial, a power-of-two scaling, and ``a if c else b`` selects for the
special cases — so LLVM vectorises a loop that calls them (4 or 8 lanes with AVX2/AVX-512):
a Gaussian pair costs ~3 ns instead of ~19 ns.

Accuracy (tests/phase_space/test_simd_math.py, against long-double references): log, exp,
sin, cos within 1 ulp; log1p and expm1 within 3 ulp, tan within 4 ulp. The algorithms and coefficients are
fdlibm's (Sun Microsystems, 1993: e_log.c, e_exp.c, k_sin.c, k_cos.c), the same that
glibc, musl and Java's StrictMath descend from; log1p and expm1 use the corrections of
Goldberg (ACM Comput. Surv. 23 (1991) 5, thm. 4) and Kahan.

Domains: log, log1p, exp, expm1, atan, atan2, asin, acos and hypot return what libm does
for 0, ±inf and NaN (log(0) = −inf, …). ``sincos`` and ``tan`` reduce the argument by π/2
in two rounds (Cody–Waite, fdlibm e_rem_pio2.c), exact for |x| < 2²⁰ ≈ 10⁶ rad, and return
NaN beyond (no kernel here needs more). Angles given in turns (φ = 2πu) go through
:func:`sincos_turns`, whose reduction is exact for |u| < 2⁵⁰ (NaN beyond). atan follows
fdlibm s_atan.c; asin, acos and atan2 are atan identities.
"""

from __future__ import annotations

import math

import numba
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_inline = numba.njit(cache=True, error_model="numpy", forceinline=True)


@intrinsic
def float_bits(typingctx, x):  # noqa: ARG001 - numba's intrinsic signature
    """The IEEE-754 bits of a float64 as an int64 (a bit cast, no conversion)."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):  # noqa: ARG001
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return sig, codegen


@intrinsic
def bits_float(typingctx, x):  # noqa: ARG001
    """The float64 whose IEEE-754 bits are the int64 ``x`` (inverse of :func:`float_bits`)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):  # noqa: ARG001
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


@intrinsic
def sqrt(typingctx, x):  # noqa: ARG001
    """√x as the IEEE square root instruction (``llvm.sqrt``): NaN for x < 0, no errno.

    ``math.sqrt`` is a call to libm's ``sqrt``, which LLVM keeps (it may set errno) wherever
    it cannot prove x ≥ 0, and one such call keeps a whole loop scalar.
    """
    if not isinstance(x, (types.Float, types.Integer)):
        return None
    sig = types.float64(x)

    def codegen(context, builder, signature, args):
        value = context.cast(builder, args[0], signature.args[0], types.float64)
        fn = builder.module.declare_intrinsic("llvm.sqrt", [ir.DoubleType()])
        return builder.call(fn, [value])

    return sig, codegen


_INF = math.inf
_NAN = math.nan
_LN2_HI = 6.93147180369123816490e-01  # ln 2 to 32 bits: k·LN2_HI is exact for |k| < 2¹¹
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_TWO54 = 18014398509481984.0  # 2⁵⁴: lifts subnormals into the normal range
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD  # bits of √2/2: mantissas are reduced to [√2/2, √2)

# e_log.c: log(1 + f) = f − f²/2 + s(f²/2 + R(s²)), s = f/(2 + f)
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01


@_inline
def log(x):
    """Natural logarithm (fdlibm e_log.c), within 1 ulp; log(0) = −inf, log(x < 0) = NaN."""
    subnormal = x < 2.2250738585072014e-308
    scaled = x * _TWO54 if subnormal else x
    bits = float_bits(scaled)
    # exponent k and mantissa m in [√2/2, √2) with x = 2^k m
    exponent = (bits - _SQRT_HALF_BITS) >> 52
    m = bits_float(bits - (exponent << 52))
    k = float(exponent) - (54.0 if subnormal else 0.0)
    f = m - 1.0
    half_f2 = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
    result = k * _LN2_HI - ((half_f2 - (s * (half_f2 + r) + k * _LN2_LO)) - f)
    # special values as libm returns them
    result = result if x < _INF else x  # +inf, NaN pass through (a NaN compares false)
    result = -_INF if x == 0.0 else result
    return _NAN if x < 0.0 else result


@_inline
def log1p(x):
    """log(1 + x), accurate for small |x| (Goldberg: log(u)·x/(u − 1) with u = 1 + x rounded)."""
    u = 1.0 + x
    d = u - 1.0
    # d == 0: 1 + x rounds to 1, and log1p(x) = x to rounding; d == x·(1 + δ) otherwise
    # (no division by zero even in the branch not taken: callers may raise on it)
    ratio = x / (d if d != 0.0 else 1.0)
    return x if d == 0.0 else (log(u) * ratio if u < _INF else u)


# e_exp.c: e^r = 1 + r + r·c/(2 − c), c = r − r²(P1 + r²(P2 + …))
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
_EXP_MAX = 709.782712893383973096  # exp overflows above
_EXP_MIN = -745.13321910194110842  # exp underflows to 0 below


@_inline
def _pow2(k):
    """2^k for an integer-valued float k in [−1022, 1023]."""
    return bits_float((int(k) + 1023) << 52)


@_inline
def exp(x):
    """e^x (fdlibm e_exp.c), within 1 ulp; 0 below −745.13, inf above 709.78, NaN for NaN."""
    clamped = min(max(x, -746.0), 710.0)  # keeps k in range; the selects below fix the ends
    k = math.floor(clamped * _INV_LN2 + 0.5)
    hi = clamped - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    r2 = r * r
    c = r - r2 * (_P1 + r2 * (_P2 + r2 * (_P3 + r2 * (_P4 + r2 * _P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    # 2^k in two factors, so that subnormal results (k < −1022) and k = 1024 scale exactly
    k_half = math.floor(0.5 * k)
    result = y * _pow2(k_half) * _pow2(k - k_half)
    result = _INF if x > _EXP_MAX else result
    result = 0.0 if x < _EXP_MIN else result
    return x if math.isnan(x) else result


@_inline
def expm1(x):
    """e^x − 1, accurate for small |x| (Kahan: (u − 1)·x/log u with u = e^x rounded)."""
    u = exp(x)
    d = u - 1.0
    log_u = log(u)
    result = d * (x / (log_u if u != 1.0 else 1.0))
    result = x if u == 1.0 else result  # |x| below half an ulp of 1
    result = -1.0 if d == -1.0 else result  # e^x underflows against 1
    result = _INF if u == _INF else result
    return x if math.isnan(x) else result


# k_sin.c, k_cos.c on |r| ≤ π/4
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11


@_inline
def _sin_kernel(x, y):
    """sin(x + y) for |x| ≤ π/4 and a tail |y| ≤ ulp(x)/2 (fdlibm k_sin.c)."""
    z = x * x
    v = z * x
    r = _S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))
    return x - ((z * (0.5 * y - v * r) - y) - v * _S1)


@_inline
def _cos_kernel(x, y):
    """cos(x + y) for |x| ≤ π/4 and a tail |y| ≤ ulp(x)/2 (fdlibm k_cos.c)."""
    z = x * x
    r = z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    half_z = 0.5 * z
    w = 1.0 - half_z
    return w + (((1.0 - w) - half_z) + (z * r - x * y))


@_inline
def _by_quadrant(sin_r, cos_r, quadrant):
    """(cos x, sin x) for x = r + quadrant·π/2, from sin r and cos r."""
    q = int(quadrant) & 3
    odd = (q & 1) == 1
    cos_x = sin_r if odd else cos_r
    sin_x = cos_r if odd else sin_r
    cos_x = -cos_x if ((q + 1) & 2) != 0 else cos_x  # quadrants 1 and 2
    sin_x = -sin_x if (q & 2) != 0 else sin_x  # quadrants 2 and 3
    return cos_x, sin_x


_TWO_PI = 6.283185307179586
_TWO_PI_LO = 2.4492935982947064e-16  # 2π − _TWO_PI
_SPLIT = 134217729.0  # 2²⁷ + 1: Veltkamp's splitting constant


@_inline
def _two_product_error(a, b, product):
    """a·b − product exactly, for product = fl(a·b) (Dekker's algorithm, no FMA needed)."""
    t = _SPLIT * a
    a_hi = t - (t - a)
    a_lo = a - a_hi
    t = _SPLIT * b
    b_hi = t - (t - b)
    b_lo = b - b_hi
    return ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


@_inline
def sincos_turns(u):
    """(cos 2πu, sin 2πu) within 1 ulp; the reduction u − q/4 is exact for |u| < 2⁵⁰ (NaN
    beyond, and for ±inf and NaN)."""
    inside = abs(u) < 1125899906842624.0  # 2⁵⁰
    u = u if inside else 0.0
    quadrant = math.floor(4.0 * u + 0.5)
    d = u - 0.25 * quadrant  # exact, |d| ≤ 1/8
    # 2πd as a double-double r + tail (2π split into 2π_hi, exact in a product with d's
    # 53 bits only approximately, so the tail carries the product's rounding error)
    r = d * _TWO_PI
    tail = d * _TWO_PI_LO + _two_product_error(d, _TWO_PI, r)
    cos_u, sin_u = _by_quadrant(_sin_kernel(r, tail), _cos_kernel(r, tail), quadrant)
    return (cos_u if inside else _NAN), (sin_u if inside else _NAN)


# π/2 = _PIO2_1 + _PIO2_2 + _PIO2_2T, the first two of 33 bits each (fdlibm e_rem_pio2.c),
# so that k·_PIO2_1 and k·_PIO2_2 are exact for |k| < 2²⁰
_PIO2_1 = 1.57079632673412561417e00
_PIO2_2 = 6.07710050630396597660e-11
_PIO2_2T = 2.02226624879595063154e-21
_TWO_OVER_PI = 6.36619772367581382433e-01


@_inline
def _reduce_half_pi(x):
    """(r, tail, k) with x = r + tail + k·π/2, |r| ≲ π/4, tail the rounding error of r
    (Cody–Waite in fdlibm's two rounds, exact enough for |x| < 2²⁰)."""
    k = math.floor(x * _TWO_OVER_PI + 0.5)
    r1 = x - k * _PIO2_1  # exact
    w = k * _PIO2_2  # exact
    r2 = r1 - w
    w = k * _PIO2_2T - ((r1 - r2) - w)
    r = r2 - w
    return r, (r2 - r) - w, k


_REDUCTION_LIMIT = 1048576.0  # 2²⁰: k·π/2 in parts of 33 bits stays exact below


@_inline
def sincos(x):
    """(cos x, sin x) for x in radians, within 1 ulp for |x| < 2²⁰; NaN beyond (±inf, NaN)."""
    inside = abs(x) < _REDUCTION_LIMIT
    r, tail, k = _reduce_half_pi(x if inside else 0.0)
    cos_x, sin_x = _by_quadrant(_sin_kernel(r, tail), _cos_kernel(r, tail), k)
    return (cos_x if inside else _NAN), (sin_x if inside else _NAN)


@_inline
def tan(x):
    """tan x for x in radians (sin/cos of the reduced argument), within 4 ulp for |x| < 2²⁰;
    NaN beyond (±inf, NaN)."""
    inside = abs(x) < _REDUCTION_LIMIT
    r, tail, k = _reduce_half_pi(x if inside else 0.0)
    s = _sin_kernel(r, tail)
    c = _cos_kernel(r, tail)
    odd = (int(k) & 1) == 1
    result = -c / s if odd else s / c
    return result if inside else _NAN


# s_atan.c: atan(x) = atan(c) + atan((x − c)/(1 + xc)) with c ∈ {0, ½, 1, 3/2, ∞}
_ATAN_HI = (
    4.63647609000806093515e-01,
    7.85398163397448278999e-01,
    9.82793723247329054082e-01,
    1.57079632679489655800e00,
)
_ATAN_LO = (
    2.26987774529616870924e-17,
    3.06161699786838301793e-17,
    1.39033110312309984516e-17,
    6.12323399573676603587e-17,
)
_AT0 = 3.33333333333329318027e-01
_AT1 = -1.99999999998764832476e-01
_AT2 = 1.42857142725034663711e-01
_AT3 = -1.11111104054623557880e-01
_AT4 = 9.09088713343650656196e-02
_AT5 = -7.69187620504482999495e-02
_AT6 = 6.66107313738753120669e-02
_AT7 = -5.83357013379057348645e-02
_AT8 = 4.97687799461593236017e-02
_AT9 = -3.65315727442169155270e-02
_AT10 = 1.62858201153657823623e-02


@_inline
def atan(x):
    """Arc tangent in (−π/2, π/2) (fdlibm s_atan.c), within 1 ulp; the interval of |x| selects
    the reduction by ``a if c else b``, not by a branch."""
    t = abs(x)
    # fdlibm's intervals: [0, 7/16), [7/16, 11/16), [11/16, 19/16), [19/16, 39/16), [39/16, ∞]
    reduced = t
    reduced = (2.0 * t - 1.0) / (2.0 + t) if t >= 0.4375 else reduced
    reduced = (t - 1.0) / (t + 1.0) if t >= 0.6875 else reduced
    reduced = (t - 1.5) / (1.0 + 1.5 * t) if t >= 1.1875 else reduced
    reduced = -1.0 / t if t >= 2.4375 else reduced
    hi = 0.0
    hi = _ATAN_HI[0] if t >= 0.4375 else hi
    hi = _ATAN_HI[1] if t >= 0.6875 else hi
    hi = _ATAN_HI[2] if t >= 1.1875 else hi
    hi = _ATAN_HI[3] if t >= 2.4375 else hi
    lo = 0.0
    lo = _ATAN_LO[0] if t >= 0.4375 else lo
    lo = _ATAN_LO[1] if t >= 0.6875 else lo
    lo = _ATAN_LO[2] if t >= 1.1875 else lo
    lo = _ATAN_LO[3] if t >= 2.4375 else lo
    z = reduced * reduced
    w = z * z
    s1 = z * (_AT0 + w * (_AT2 + w * (_AT4 + w * (_AT6 + w * (_AT8 + w * _AT10)))))
    s2 = w * (_AT1 + w * (_AT3 + w * (_AT5 + w * (_AT7 + w * _AT9))))
    tail = reduced * (s1 + s2)
    result = reduced - tail if t < 0.4375 else hi - ((tail - lo) - reduced)
    result = t if math.isnan(t) else result
    return math.copysign(result, x)


@_inline
def atan2(y, x):
    """The angle of (x, y) in [−π, π], as libm's atan2 for finite arguments (signed zeros
    included), within 2 ulp."""
    a = atan(abs(y) / abs(x))  # x = 0: atan(inf) = π/2
    a = 0.0 if y == 0.0 else a
    a = math.pi - a if math.copysign(1.0, x) < 0.0 else a  # x < 0 or x = −0
    return math.copysign(a, y)


@_inline
def asin(x):
    """Arc sine in [−π/2, π/2] as atan(x/√((1 − x)(1 + x))), within 2 ulp; NaN for |x| > 1."""
    return atan(x / sqrt((1.0 - x) * (1.0 + x)))


@_inline
def acos(x):
    """Arc cosine in [0, π] as 2 atan(√((1 − x)/(1 + x))), within 2 ulp; NaN for |x| > 1."""
    return 2.0 * atan(sqrt((1.0 - x) / (1.0 + x)))


@_inline
def hypot(x, y):
    """√(x² + y²) without overflow or underflow of the squares (scaled by the larger); inf if
    either is infinite, else NaN if either is NaN (as libm)."""
    a = abs(x)
    b = abs(y)
    big = max(b, a)
    small = min(a, b)
    ratio = small / big if big > 0.0 else 0.0
    result = big * sqrt(1.0 + ratio * ratio)
    result = _NAN if math.isnan(x) or math.isnan(y) else result
    return _INF if a == _INF or b == _INF else result


@_inline
def normal_pair(u1, u2):
    """Two independent N(0, 1) deviates from two uniforms in [0, 1) (Box–Muller).

    The radius uses 1 − u1 ∈ (0, 1], so log never sees 0; every pair of uniforms gives a
    pair of deviates, with no rejection, so a loop over events stays vectorisable.
    """
    radius = sqrt(-2.0 * log(1.0 - u1))
    cos_phi, sin_phi = sincos_turns(u2)
    return radius * cos_phi, radius * sin_phi
