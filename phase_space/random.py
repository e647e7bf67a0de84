"""Counter-based uniform random numbers for the kernels (design.md §6).

Uniform number ``j`` of event ``i`` in stream ``key`` is a pure function
``uniform(key, i * STRIDE + j)``: the SplitMix64 output (Steele, Lea, Flood, OOPSLA 2014;
reference C code by S. Vigna) at position ``counter`` of the sequence whose state starts at
``key``, mapped to [0, 1) with 53 bits. Any event can be regenerated alone, and a batch
gives bit-identical numbers on any number of threads.

Streams: every consumer (phase space, decay times, unweighting, smearing) derives its own
``key`` from the run seed and a fixed stream id with :func:`stream_key`, so adding a
dimension to one consumer never shifts another's numbers.
"""

from __future__ import annotations

import numpy as np

from phase_space._jit import batch_kernel, kernel
from phase_space.simd_math import normal_pair

STRIDE = 64
"""Uniforms reserved per event and stream; kernels use indices ``0 .. STRIDE-1``."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

# stream ids: fixed forever, so adding one never changes the others
STREAM_PHASE_SPACE = 1
STREAM_UNWEIGHT = 2
STREAM_PRODUCTION = 3
STREAM_ACCEPTANCE = 4
STREAM_PILOT = 5


@kernel
def mix64(z):
    """SplitMix64 finaliser (bijective 64-bit mixer)."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@kernel
def splitmix64(key, counter):
    """Output number ``counter`` (0-based) of SplitMix64 seeded with state ``key``."""
    return mix64(key + (counter + _ONE) * _GOLDEN)


@kernel
def uniform(key, counter):
    """Uniform double in [0, 1) with 53 random bits."""
    return float(splitmix64(key, counter) >> _S11) * _TO_UNIT


GAUSSIAN_PAIR_COUNTERS = 2  # counters one gaussian_pair call uses


@kernel
def gaussian_pair(key, counter):
    """Two independent N(0, 1) deviates from counters ``counter`` and ``counter + 1``.

    The Box–Muller transform (:func:`phase_space.simd_math.normal_pair`): exact, with no
    rejection loop, so a loop over events that smears vectorises.
    """
    return normal_pair(uniform(key, counter), uniform(key, counter + np.uint64(1)))


def stream_key(seed: int, stream: int) -> np.uint64:
    """64-bit key of stream ``stream`` for run seed ``seed`` (both non-negative ints)."""
    if seed < 0 or stream < 0:
        raise ValueError(f"seed and stream must be non-negative, got seed={seed}, stream={stream}")
    mask = (1 << 64) - 1
    z = (seed * 0x9E3779B97F4A7C15 + stream * 0xD1B54A32D192ED03 + 0x632BE59BD9B4E019) & mask
    return np.uint64(_mix64_python(_mix64_python(z) ^ stream))


def _mix64_python(z: int) -> int:
    mask = (1 << 64) - 1
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


@batch_kernel(events=3)
def _fill_uniforms(key, first_event, n_dim, out, start, stop):
    for i in range(start, stop):
        base = np.uint64(first_event + i) * np.uint64(STRIDE)
        for j in range(n_dim):
            out[i, j] = uniform(key, base + np.uint64(j))


def uniforms(key: np.uint64, first_event: int, n_events: int, n_dim: int) -> np.ndarray:
    """Uniforms ``u[i, j]`` of events ``first_event ..`` as a (n_events, n_dim) array.

    The same numbers the generation kernels draw inside numba; used by tests, by the
    VEGAS warm-up, and by anyone who wants to regenerate an event by its index.
    """
    if not 0 < n_dim <= STRIDE:
        raise ValueError(f"n_dim must be in 1..{STRIDE}, got {n_dim}")
    out = np.empty((n_events, n_dim))
    _fill_uniforms(np.uint64(key), np.int64(first_event), np.int64(n_dim), out)
    return out
