"""The counter-based uniforms: reference vectors, ranges, determinism, uniformity."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from scipy import stats

from phase_space.random import (
    GAUSSIAN_PAIR_COUNTERS,
    STRIDE,
    gaussian_pair,
    splitmix64,
    stream_key,
    uniform,
    uniforms,
)


def test_splitmix64_matches_reference_c_code():
    # Vigna's splitmix64.c seeded with x = 1234567 prints these first five numbers
    expected = [
        6457827717110365317,
        3203168211198807973,
        9817491932198370423,
        4593380528125082431,
        16408922859458223821,
    ]
    got = [int(splitmix64(np.uint64(1234567), np.uint64(i))) for i in range(5)]
    assert got == expected
    # and seeded with x = 0
    assert int(splitmix64(np.uint64(0), np.uint64(0))) == 0xE220A8397B1DCDAF


def test_uniform_is_53_bits_in_unit_interval():
    key = stream_key(1, 1)
    u = np.array([uniform(key, np.uint64(i)) for i in range(1000)])
    assert np.all((u >= 0.0) & (u < 1.0))
    assert np.all(u * 2**53 == np.floor(u * 2**53))


def test_uniforms_depend_only_on_event_index():
    key = stream_key(5, 1)
    whole = uniforms(key, 0, 100, 7)
    part = uniforms(key, 40, 10, 7)
    assert np.array_equal(whole[40:50], part)
    # the first dimensions do not change when more dimensions are asked for
    assert np.array_equal(uniforms(key, 0, 100, 3), whole[:, :3])
    assert np.array_equal(uniforms(key, 0, 2, STRIDE)[1, 0], whole[1, 0])


def test_streams_and_seeds_differ():
    a = uniforms(stream_key(1, 1), 0, 1000, 2)
    b = uniforms(stream_key(1, 2), 0, 1000, 2)
    c = uniforms(stream_key(2, 1), 0, 1000, 2)
    assert not np.any(a == b)
    assert not np.any(a == c)


def test_uniformity_and_independence():
    u = uniforms(stream_key(12345, 1), 0, 200_000, 4)
    # chi2 of each dimension in 50 equiprobable bins (fixed seed: deterministic)
    for d in range(4):
        counts = np.histogram(u[:, d], bins=50, range=(0, 1))[0]
        assert stats.chisquare(counts).pvalue > 1e-3
    # pairwise correlations of dimensions and of consecutive events
    corr = np.corrcoef(u.T)
    assert np.max(np.abs(corr - np.eye(4))) < 5 / np.sqrt(u.shape[0])
    assert abs(np.corrcoef(u[:-1, 0], u[1:, 0])[0, 1]) < 5 / np.sqrt(u.shape[0])


@njit
def _pairs(key, n, out):
    for i in range(n):
        a, b = gaussian_pair(key, np.uint64(i) * np.uint64(GAUSSIAN_PAIR_COUNTERS))
        out[0, i] = a
        out[1, i] = b


def test_gaussian_pairs_are_standard_normal_and_independent():
    """χ² in 50 equiprobable bins of each deviate and of their rotation (a + b)/√2 (which is
    N(0, 1) only for independent pairs); p > 1e-3 with a fixed key."""
    n = 400_000
    out = np.empty((2, n))
    _pairs(stream_key(5, 1), n, out)
    edges = stats.norm.ppf(np.linspace(0, 1, 51))
    for sample in (out[0], out[1], (out[0] + out[1]) / np.sqrt(2), (out[0] - out[1]) / np.sqrt(2)):
        observed, _ = np.histogram(sample, bins=edges)
        assert stats.chisquare(observed).pvalue > 1e-3
    assert abs(np.corrcoef(out)[0, 1]) < 5 / np.sqrt(n)


def test_gaussian_pair_is_box_muller_of_its_two_counters():
    """The pair is the Box–Muller transform of uniforms ``counter`` and ``counter + 1``."""
    key = stream_key(11, 2)
    for start in (0, 7, 64 * 1000 + 5):
        a, b = gaussian_pair(key, np.uint64(start))
        r = np.sqrt(-2 * np.log1p(-uniform(key, np.uint64(start))))
        phi = 2 * np.pi * uniform(key, np.uint64(start + 1))
        assert (a, b) == pytest.approx((r * np.cos(phi), r * np.sin(phi)), rel=1e-12, abs=1e-14)
