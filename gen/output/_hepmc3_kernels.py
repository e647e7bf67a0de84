"""numba kernels that format HepMC3 ASCII event text (used by :mod:`gen.output.hepmc3_text`).

Floats are written as C's ``printf("%.*e", precision, x)``, the way HepMC3's WriterAscii
writes them. ``|x| = m·2^e`` (m a 53-bit integer) is scaled to ``y = |x|·10^s`` with
``10^(n−1) ≤ y < 10^n`` for n = precision + 1 significant digits: ``y = m·P·2^−q`` with
``10^s ≈ P·2^b`` from a table of 128-bit mantissas. The 181-bit product ``m·P`` is kept
whole (LLVM 256-bit integers), so its integer part is the digit string and its fraction
decides the rounding (half to even, as glibc in the default rounding mode).

Exactness: for 0 ≤ s ≤ 55, ``P = 5^s`` (shifted) is exact, the whole computation is exact
and the text equals glibc's byte for byte. This covers ``10^(n−56) ≤ |x| < 10^n``, that is
1e-39 ≤ |x| < 1e17 at the default precision 16 and the weights' 23 digits for 1e-33 ≤ |x|
< 1e23: every value of our events. Outside, ``P`` is 10^s rounded to 128 bits (relative
error ≤ 2^−128), so the text can differ from glibc in the last digit only when x lies within
~1e-15 units of that digit of a rounding midpoint; either way it reads back to the same
double when precision ≥ 16 (17 significant digits) and within half a unit of the last
digit otherwise (relative 5·10^−n). Zero, −0, ±inf and NaN are written as glibc does
(``0.000e+00``, ``-0.000e+00``, ``inf``, ``-inf``, ``nan``, ``-nan``).

Speed (50–70 ns per float on one core of the development machine): floats arrive as their IEEE-754 bit patterns (float64
arrays viewed as uint64: no libm calls), the product is two machine multiplications (an
LLVM intrinsic), digits come in pairs from a table. Array-writing helpers are inlined in
numba's IR: a compiled call increfs and decrefs its array arguments (atomic operations,
~30 % of the time), and a call to a compiled function from inside an inlined helper brings
them back, so callers call the scalar :func:`_decimal` themselves and pass its result to the
inlined writer. Inlining :func:`_decimal` as well would take minutes to compile.

All unsigned arithmetic uses ``np.uint64`` constants: numba turns ``uint64 ⊕ int64`` into
float64, which would silently lose bits.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from phase_space._jit import batch_kernel, kernel

leaf = numba.njit(cache=True, error_model="numpy", inline="always")
"""Compile policy of the small helpers that write into arrays (see the module docstring)."""

MAX_PRECISION = 22
"""Largest supported precision (digits after the point): HepMC3 writes weights with
min(3·precision, 22)."""

_S_MIN = -330
_S_MAX = 370


def _power_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """10^s = (hi·2^64 + lo)·2^b for s in [_S_MIN, _S_MAX], mantissa in [2^127, 2^128).

    Exact (5^s shifted) where 5^s < 2^128, otherwise rounded to nearest.
    """
    hi, lo, b = [], [], []
    for s in range(_S_MIN, _S_MAX + 1):
        if s >= 0 and 5**s < 2**128:
            shift = 128 - (5**s).bit_length()
            mantissa, exponent = 5**s << shift, s - shift
        else:
            num, den = (10**s, 1) if s >= 0 else (1, 10**-s)
            exponent = num.bit_length() - den.bit_length() - 128
            while True:
                n, d = (num, den << exponent) if exponent >= 0 else (num << -exponent, den)
                mantissa = (2 * n + d) // (2 * d)  # round half up; ties cannot occur
                if mantissa >= 2**128:
                    exponent += 1
                elif mantissa < 2**127:
                    exponent -= 1
                else:
                    break
        hi.append(mantissa >> 64)
        lo.append(mantissa & (2**64 - 1))
        b.append(exponent)
    return (
        np.array(hi, dtype=np.uint64),
        np.array(lo, dtype=np.uint64),
        np.array(b, dtype=np.int64),
    )


def _decimal_powers() -> tuple[np.ndarray, np.ndarray]:
    """10^n as two uint64 limbs (hi, lo), n = 0 … MAX_PRECISION + 2."""
    values = [10**n for n in range(MAX_PRECISION + 3)]
    return (
        np.array([v >> 64 for v in values], dtype=np.uint64),
        np.array([v & (2**64 - 1) for v in values], dtype=np.uint64),
    )


# global arrays are frozen into the compiled code as constants (no reference counting)
POW_HI, POW_LO, POW_B = _power_table()
DEC_HI, DEC_LO = _decimal_powers()
# bit patterns of the doubles nearest 10^s (0 and inf at the ends): first guess of exponents
_POW10_BITS = np.array([float(f"1e{s}") for s in range(_S_MIN, _S_MAX + 1)]).view(np.uint64)
# "00", "01", … "99"
_PAIRS = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), dtype=np.uint8)

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U2 = np.uint64(2)
_U10 = np.uint64(10)
_U32 = np.uint64(32)
_U52 = np.uint64(52)
_U63 = np.uint64(63)
_U100 = np.uint64(100)
_M32 = np.uint64(0xFFFFFFFF)
_E8 = np.uint64(100_000_000)
_EXP_MASK = np.uint64(0x7FF)
_FRACTION_MASK = np.uint64(2**52 - 1)
_HIDDEN = np.uint64(2**52)
_ABS_MASK = np.uint64(2**63 - 1)
_ZERO, _DOT, _MINUS, _PLUS, _SPACE, _NEWLINE = 48, 46, 45, 43, 32, 10
_LOWER_E, _LOWER_I, _LOWER_N, _LOWER_F, _LOWER_A = 101, 105, 110, 102, 97
_AT = np.frombuffer(b" @", dtype=np.uint8)


def _scale_py(m, p_hi, p_lo, q):
    """Pure-Python :func:`_scale` (NUMBA_DISABLE_JIT runs)."""
    product = int(m) * ((int(p_hi) << 64) | int(p_lo))
    d = product >> int(q)
    rest = product & ((1 << int(q)) - 1)
    half = 1 << (int(q) - 1)
    side = (rest > half) - (rest < half)
    return np.uint64(d >> 64), np.uint64(d & (2**64 - 1)), side


@intrinsic
def _scale_intrinsic(typingctx, m, p_hi, p_lo, q):  # noqa: ARG001 - numba's signature
    """N = m·(p_hi·2^64 + p_lo) in 256-bit integers: (⌊N/2^q⌋ as (hi, lo) limbs, the sign
    of (N mod 2^q) − 2^(q−1)); for 1 ≤ q < 256 and a quotient below 2^128."""
    if not all(isinstance(t, types.Integer) for t in (m, p_hi, p_lo, q)):
        return None
    signature = types.Tuple((types.uint64, types.uint64, types.int64))(m, p_hi, p_lo, q)

    def codegen(context, builder, sig, args):
        i64, i256 = ir.IntType(64), ir.IntType(256)
        m_, hi_, lo_, q_ = (
            context.cast(builder, a, t, u)
            for a, t, u in zip(args, sig.args, (types.uint64,) * 3 + (types.int64,), strict=True)
        )
        power = builder.or_(
            builder.shl(builder.zext(hi_, i256), ir.Constant(i256, 64)), builder.zext(lo_, i256)
        )
        product = builder.mul(builder.zext(m_, i256), power)
        shift = builder.zext(q_, i256)
        quotient = builder.lshr(product, shift)
        one = ir.Constant(i256, 1)
        rest = builder.and_(product, builder.sub(builder.shl(one, shift), one))
        half = builder.shl(one, builder.sub(shift, one))
        side = builder.select(
            builder.icmp_unsigned(">", rest, half),
            ir.Constant(i64, 1),
            builder.select(
                builder.icmp_unsigned("==", rest, half), ir.Constant(i64, 0), ir.Constant(i64, -1)
            ),
        )
        d_lo = builder.trunc(quotient, i64)
        d_hi = builder.trunc(builder.lshr(quotient, ir.Constant(i256, 64)), i64)
        return context.make_tuple(builder, sig.return_type, (d_hi, d_lo, side))

    return signature, codegen


_scale = _scale_py if numba.config.DISABLE_JIT else _scale_intrinsic


@kernel
def _at_least(hi, lo, ref_hi, ref_lo):
    """(hi, lo) ≥ (ref_hi, ref_lo) as 128-bit numbers."""
    return hi > ref_hi or (hi == ref_hi and lo >= ref_lo)


@kernel
def _decimal(bits, n):
    """The n significant digits of the double with bit pattern ``bits`` (sign ignored).

    Returns (kind, d_hi, d_lo, exponent10): |x| ≈ D·10^(exponent10 − n + 1) with
    D = d_hi·2^64 + d_lo correctly rounded and 10^(n−1) ≤ D < 10^n (D = 0 for zero); kind
    0 for a finite number, 1 for inf, 2 for NaN. 1 ≤ n ≤ MAX_PRECISION + 1.
    """
    biased = np.int64((bits >> _U52) & _EXP_MASK)
    m = bits & _FRACTION_MASK
    if biased == 0x7FF:
        return (2 if m != _U0 else 1), _U0, _U0, 0
    if biased == 0 and m == _U0:
        return 0, _U0, _U0, 0
    if biased == 0:  # subnormal: normalise the mantissa to 53 bits
        e = -1074
        while m < _HIDDEN:
            m = m << _U1
            e -= 1
    else:
        m = m | _HIDDEN
        e = biased - 1075
    # |x| = m·2^e, 2^52 ≤ m < 2^53. floor(log10 |x|) from the binary exponent (78913/2^18 ≈
    # log10 2) and one compare with 10^(E+1) (positive doubles order as their bit patterns);
    # a misestimate by one is corrected by the range check of D below
    exponent10 = ((e + 52) * 78913) >> 18
    if (bits & _ABS_MASK) >= _POW10_BITS[exponent10 + 1 - _S_MIN]:
        exponent10 += 1
    went_up = False
    while True:
        k = n - 1 - exponent10 - _S_MIN  # y = |x|·10^s, s = n − 1 − exponent10
        q = -(e + POW_B[k])  # y = m·P·2^−q, 99 ≤ q ≤ 185
        d_hi, d_lo, side = _scale(m, POW_HI[k], POW_LO[k], q)
        if _at_least(d_hi, d_lo, DEC_HI[n], DEC_LO[n]):
            exponent10 += 1
            went_up = True
            continue
        if not _at_least(d_hi, d_lo, DEC_HI[n - 1], DEC_LO[n - 1]):
            if went_up:
                # only with an inexact power, within 2^-128 of 10^(E+1): that is the
                # correctly rounded value
                return 0, DEC_HI[n - 1], DEC_LO[n - 1], exponent10
            exponent10 -= 1
            continue
        # round half to even (without a branch: the direction is random in the data)
        up = np.uint64((side > 0) | ((side == 0) & ((d_lo & _U1) != _U0)))
        d_lo += up
        d_hi += np.uint64(d_lo < up)  # carry
        if d_hi == DEC_HI[n] and d_lo == DEC_LO[n]:
            return 0, DEC_HI[n - 1], DEC_LO[n - 1], exponent10 + 1
        return 0, d_hi, d_lo, exponent10


@leaf
def _put_uint(buf, end, value, count):
    """Write the ``count`` low decimal digits of ``value`` (zero-padded) just before ``end``."""
    while count >= 2:
        pair = (value % _U100) * _U2  # two digits per division: half the dependency chain
        value = value // _U100
        end -= 2
        buf[end] = _PAIRS[pair]
        buf[end + 1] = _PAIRS[pair + _U1]
        count -= 2
    if count == 1:
        buf[end - 1] = _ZERO + np.uint8(value % _U10)


@leaf
def _put_digits(buf, start, hi, lo, count):
    """Write the ``count`` low decimal digits of hi·2^64 + lo (hi < 2^32) to
    ``buf[start : start + count]``, eight at a time from the right (one inlined digit loop
    for every length keeps the compile time down)."""
    end = start + count
    while count > 0:
        if hi == _U0:
            chunk = lo % _E8
            lo = lo // _E8
        else:
            # long division by 10^8 in 32-bit pieces (numba has no 128-bit division)
            r = hi % _E8
            hi = hi // _E8
            cur = (r << _U32) | (lo >> _U32)
            q1 = cur // _E8
            r = cur % _E8
            cur = (r << _U32) | (lo & _M32)
            lo = (q1 << _U32) | (cur // _E8)
            chunk = cur % _E8
        c = min(8, count)
        _put_uint(buf, end, chunk, c)
        end -= c
        count -= c


@leaf
def put_decimal(buf, pos, bits, n, kind, d_hi, d_lo, exponent10):
    """Write ``"%.{n−1}e"`` of the double with bit pattern ``bits`` at ``pos``, from
    ``_decimal(bits, n)`` = (kind, d_hi, d_lo, exponent10); return the end.

    ``buf`` needs room for n + 7 bytes. The caller calls :func:`_decimal` itself (see the
    module docstring).
    """
    # signs and exponent signs are random in the data: written without branches
    buf[pos] = _MINUS
    pos += np.int64(bits >> _U63)
    if kind != 0:
        if kind == 2:
            buf[pos] = _LOWER_N
            buf[pos + 1] = _LOWER_A
            buf[pos + 2] = _LOWER_N
        else:
            buf[pos] = _LOWER_I
            buf[pos + 1] = _LOWER_N
            buf[pos + 2] = _LOWER_F
        return pos + 3
    # the n digits go to pos+1 … pos+n; then the first moves left to make room for the point
    _put_digits(buf, pos + 1, d_hi, d_lo, n)
    buf[pos] = buf[pos + 1]
    if n > 1:
        buf[pos + 1] = _DOT
        pos += n + 1
    else:
        pos += 1
    buf[pos] = _LOWER_E
    negative = np.int64(exponent10 < 0)
    buf[pos + 1] = _PLUS + 2 * negative
    exponent10 = exponent10 * (1 - 2 * negative)
    if exponent10 >= 100:
        buf[pos + 2] = _ZERO + exponent10 // 100
        buf[pos + 3] = _ZERO + exponent10 // 10 % 10
        buf[pos + 4] = _ZERO + exponent10 % 10
        return pos + 5
    buf[pos + 2] = _ZERO + exponent10 // 10
    buf[pos + 3] = _ZERO + exponent10 % 10
    return pos + 4


@leaf
def put_int(buf, pos, value):
    """Write the integer ``value`` in decimal (C's ``%d``) at ``pos``; return the end."""
    v = np.int64(value)
    if v < 0:
        buf[pos] = _MINUS
        pos += 1
        u = np.uint64(-(v + 1)) + _U1  # also for the smallest int64
    else:
        u = np.uint64(v)
    digits = 1
    while digits < 20 and u >= DEC_LO[digits]:
        digits += 1
    _put_digits(buf, pos, _U0, u, digits)
    return pos + digits


@leaf
def _put_bytes(buf, pos, text, start, stop):
    """Copy ``text[start:stop]`` to ``buf`` at ``pos``; return the end."""
    for j in range(start, stop):
        buf[pos + j - start] = text[j]
    return pos + stop - start


@leaf
def _put_text(buf, pos, texts, text_offsets, entry):
    """Copy entry ``entry`` of the text table to ``buf`` at ``pos``; return the end."""
    return _put_bytes(buf, pos, texts, text_offsets[entry], text_offsets[entry + 1])


# entries of the text table that ``format_events`` receives (see :func:`text_table`)
EVENT_HEAD, EVENT_MIDDLE, EVENT_TAIL, FIRST_VERTEX = 0, 1, 2, 3


@kernel
def _event_text(
    i, buf, pos, p, v, v_column, mass, pid, weight, event_number, production_vertex, vertex_first,
    vertex_n_in, texts, text_offsets, precision, weight_precision,
):  # fmt: skip
    """Write event ``i``'s lines into ``buf`` from ``pos``; return the end (see
    :func:`format_events` for the arguments).

    Only the event number, the weight, the pids and the floats vary from event to event;
    every other piece of text comes from the table (few inlined call sites also keep the
    compile time down).
    """
    n = precision + 1
    k = pid.shape[1]
    n_vertices = vertex_first.shape[0]
    pos = _put_text(buf, pos, texts, text_offsets, EVENT_HEAD)
    pos = put_int(buf, pos, event_number[i])
    pos = _put_text(buf, pos, texts, text_offsets, EVENT_MIDDLE)
    w = weight[i]
    kind, d_hi, d_lo, e10 = _decimal(w, weight_precision + 1)
    pos = put_decimal(buf, pos, w, weight_precision + 1, kind, d_hi, d_lo, e10)
    pos = _put_text(buf, pos, texts, text_offsets, EVENT_TAIL)
    written = 0  # bit j: vertex j has a V line in this event
    for s in range(k):
        j = production_vertex[s]
        if j >= 0 and vertex_first[j] == s:
            # HepMC3 writes a vertex (before its first daughter) when it has several incoming
            # particles or a nonzero position (its status is always 0 here)
            column = v_column[s]
            x = v[0, i, column]
            y = v[1, i, column]
            z = v[2, i, column]
            t = v[3, i, column]
            at_origin = ((x | y | z | t) & _ABS_MASK) == _U0  # −0 counts as 0, as in C++
            if vertex_n_in[j] > 1 or not at_origin:
                written |= 1 << j
                pos = _put_text(buf, pos, texts, text_offsets, FIRST_VERTEX + j)
                if not at_origin:
                    pos = _put_bytes(buf, pos, _AT, 0, 2)
                    for c in (x, y, z, t):
                        buf[pos] = _SPACE
                        kind, d_hi, d_lo, e10 = _decimal(c, n)
                        pos = put_decimal(buf, pos + 1, c, n, kind, d_hi, d_lo, e10)
                buf[pos] = _NEWLINE
                pos += 1
        # "P id parent ": the parent is the vertex if it has a V line, else the only mother
        via_mother = 0 if j >= 0 and written & (1 << j) else 1
        pos = _put_text(
            buf, pos, texts, text_offsets, FIRST_VERTEX + n_vertices + 2 * s + via_mother
        )
        pos = put_int(buf, pos, pid[i, s])
        for c in (p[1, i, s], p[2, i, s], p[3, i, s], p[0, i, s], mass[i, s]):
            buf[pos] = _SPACE
            kind, d_hi, d_lo, e10 = _decimal(c, n)
            pos = put_decimal(buf, pos + 1, c, n, kind, d_hi, d_lo, e10)
        pos = _put_text(buf, pos, texts, text_offsets, FIRST_VERTEX + n_vertices + 2 * k + s)
    return pos


@batch_kernel(events=5, min_per_thread=4)
def format_events(
    first, count, block, block_stride, scratch, lengths, p, v, v_column, mass, pid, weight,
    event_number, production_vertex, vertex_first, vertex_n_in, texts, text_offsets,
    precision, weight_precision, start, stop,
):  # fmt: skip
    """Format events ``first … first+count−1`` of a batch, in parallel blocks of ``block``
    events: block b goes to ``scratch[b·block_stride:]``, its length to ``lengths[b]``.

    Parameters
    ----------
    first, count : int
        The events of the batch to format.
    block, block_stride : int
        Events per block, and the scratch bytes reserved per block (≥ block × the largest
        event).
    scratch : uint8 (≥ ⌈count/block⌉·block_stride,)
        Work buffer.
    lengths : int64 (⌈count/block⌉,)
        Output: bytes written per block (each block is then written to the file as it is:
        no copy to close the gaps).
    p : uint64 (4, n, k)
        E, px, py, pz in GeV (float64 bit patterns, as every float argument).
    v : uint64 (4, n, m)
        The distinct production vertices x, y, z, ct in mm (``EventBatch.vertices``).
    v_column : int64 (k,)
        The column of ``v`` each particle is produced at (``EventBatch.vertex_of_slot``).
    mass : uint64 (n, k)
        Generated masses in GeV.
    pid : int32 (n, k)
    weight : uint64 (n,)
    event_number : int64 (n,)
    production_vertex : int64 (k,)
        Index j of each particle's production vertex (HepMC3 id −(j+1)), −1 for none.
    vertex_first, vertex_n_in : int64 (n_vertices,)
        Per vertex: its first outgoing slot (the position is that particle's production
        vertex) and the number of incoming particles.
    texts : uint8; text_offsets : int64
        The fixed pieces of text, concatenated (entry e is
        ``texts[text_offsets[e]:text_offsets[e + 1]]``): "E ", " n_v n_p\nU GEV MM\nW ",
        "\nA 0 GenCrossSection …\n", each vertex's "V -j 0 [in]", for each slot "P id -j "
        and "P id mother " (or "P id 0 "), and for each slot " status\n".
    precision, weight_precision : int
        Digits after the point for momenta, masses and positions, and for the weight.
    """
    for b in range(start, stop):  # blocks: the threads of batch_kernel share them out
        block_start = b * block_stride
        pos = block_start
        for i in range(first + b * block, first + min((b + 1) * block, count)):
            pos = _event_text(
                i, scratch, pos, p, v, v_column, mass, pid, weight, event_number, production_vertex,
                vertex_first, vertex_n_in, texts, text_offsets, precision, weight_precision,
            )  # fmt: skip
        lengths[b] = pos - block_start


@kernel
def _format_floats(bits, precision):
    n = precision + 1
    buf = np.empty(bits.shape[0] * (precision + 8), dtype=np.uint8)
    offsets = np.empty(bits.shape[0] + 1, dtype=np.int64)
    offsets[0] = 0
    pos = 0
    for i in range(bits.shape[0]):
        kind, d_hi, d_lo, e10 = _decimal(bits[i], n)
        pos = put_decimal(buf, pos, bits[i], n, kind, d_hi, d_lo, e10)
        offsets[i + 1] = pos
    return buf[:pos], offsets


def format_floats(values: np.ndarray, precision: int) -> list[str]:
    """Every value as the kernels write it (C's ``"%.{precision}e"``); for tests."""
    bits = np.ascontiguousarray(values, dtype=np.float64).reshape(-1).view(np.uint64)
    text, offsets = _format_floats(bits, precision)
    data = text.tobytes().decode()
    return [data[offsets[i] : offsets[i + 1]] for i in range(bits.shape[0])]


@kernel
def _format_ints(values):
    buf = np.empty(values.shape[0] * 20, dtype=np.uint8)
    offsets = np.empty(values.shape[0] + 1, dtype=np.int64)
    offsets[0] = 0
    pos = 0
    for i in range(values.shape[0]):
        pos = put_int(buf, pos, values[i])
        offsets[i + 1] = pos
    return buf[:pos], offsets


def format_ints(values: np.ndarray) -> list[str]:
    """Every int64 as the kernels write it (C's ``%d``); for tests."""
    values = np.ascontiguousarray(values, dtype=np.int64).reshape(-1)
    text, offsets = _format_ints(values)
    data = text.tobytes().decode()
    return [data[offsets[i] : offsets[i + 1]] for i in range(values.shape[0])]
