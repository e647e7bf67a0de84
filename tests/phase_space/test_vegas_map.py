"""The frozen VEGAS map against vegas itself, and the warm-up on a known integral."""

from __future__ import annotations

import math

import numpy as np
import vegas

from phase_space._jit import batch_kernel, prange
from phase_space.sampler import adapt_map
from phase_space.vegas_map import FrozenMap


@batch_kernel
def _gaussian_peak(u, params, out):
    # a narrow 3-d Gaussian at params[0], width params[1], normalised to 1 on R^3
    for i in prange(u.shape[0]):
        r2 = 0.0
        for d in range(u.shape[1]):
            r2 += (u[i, d] - params[0]) ** 2
        out[i] = math.exp(-0.5 * r2 / params[1] ** 2) / (2 * math.pi * params[1] ** 2) ** 1.5


def test_frozen_map_reproduces_vegas_map():
    rng = np.random.default_rng(3)
    amap = vegas.AdaptiveMap([[0, 1]] * 3, ninc=50)
    x_train = rng.random((20_000, 3)) ** 3
    amap.adapt_to_samples(x_train, np.exp(-10 * x_train.sum(axis=1)), nitn=5)
    y = rng.random((1000, 3))
    x_ref = np.empty_like(y)
    jac_ref = np.empty(1000)
    amap.map(y, x_ref, jac_ref)
    frozen = FrozenMap.from_vegas(amap)
    x, jac = frozen.map(y)
    np.testing.assert_allclose(x, x_ref, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(jac, jac_ref, rtol=1e-12)


def test_identity_map():
    y = np.random.default_rng(1).random((100, 2))
    x, jac = FrozenMap.identity(2).map(y)
    assert np.array_equal(x, y)
    assert np.all(jac == 1.0)


def test_warmup_integrates_a_peak_and_the_frozen_map_samples_it():
    params = np.array([0.5, 0.05])
    frozen, warmup = adapt_map(_gaussian_peak, params, 3, iterations=10, evaluations=20_000, seed=7)
    exact = math.erf(0.5 / (math.sqrt(2) * 0.05)) ** 3
    assert abs(warmup.mean - exact) < 5 * warmup.sdev
    assert warmup.q_value > 1e-3
    # plain (unstratified) sampling with the frozen map: unbiased, and far better than flat
    y = np.random.default_rng(11).random((400_000, 3))
    x, jac = frozen.map(y)
    f = np.empty(len(x))
    _gaussian_peak(x, params, f)
    w = f * jac
    mean, err = w.mean(), w.std() / math.sqrt(len(w))
    assert abs(mean - exact) < 5 * err
    assert err / mean < 1e-3
    f_flat = np.empty(len(y))
    _gaussian_peak(y, params, f_flat)
    assert w.std() < 0.2 * f_flat.std()


def test_warmup_is_reproducible():
    params = np.array([0.3, 0.1])
    a, ra = adapt_map(_gaussian_peak, params, 3, iterations=3, evaluations=5000, seed=1)
    b, rb = adapt_map(_gaussian_peak, params, 3, iterations=3, evaluations=5000, seed=1)
    assert np.array_equal(a.grid, b.grid)
    assert ra.mean == rb.mean
