"""The numpy yardstick of ``axgen bench``: K⁺ → π⁺ X(→ ν ν̄) in plain vectorised numpy.

The same chain as the numba kernel ``matrix_elements.p_to_pprime.generate`` — VEGAS map,
Breit–Wigner q², P → P′X* and X* → νν̄ two-body decays, |M|² of physics.md Eq. 19 — written
the way a careful numpy user would (whole-batch array expressions, no Python loop per event).
:func:`check_numpy_yardstick` proves it computes the same events as the kernel (same uniforms,
agreement to 1e-9) before :func:`time_numpy` times it, so the ratio compares equal work.
Momenta in GeV, in the K⁺ rest frame.
"""

from __future__ import annotations

import math
import time

import numpy as np

from gen import driver
from matrix_elements import p_to_pprime as fam
from phase_space.random import STREAM_PHASE_SPACE, stream_key, uniforms
from phase_space.vegas_map import FrozenMap


def numpy_k_pi_x(
    uniform: np.ndarray, frozen: FrozenMap, params: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """K⁺→π⁺X(→νν̄) in plain numpy: VEGAS map, Breit–Wigner q², two decays, Eq. 19.

    ``uniform[n, 5]``: the two VEGAS dimensions (u_q², u_cosθ_ν) then the flat u_cosθ_π,
    u_φ_π, u_φ_ν — the kernel's layout. Returns (p[4, n, 5], f·jac[n]), the quantities the
    numba kernel computes (same conventions, same formulas).
    """
    n = uniform.shape[0]
    y = uniform[:, :2]
    # VEGAS map
    t = y * frozen.ninc
    i = np.minimum(t.astype(np.int64), frozen.ninc - 1)
    d = np.arange(frozen.dim)
    width = frozen.inc[d, i]
    x = frozen.grid[d, i] + width * (t - i)
    jac = np.prod(width * frozen.ninc, axis=1)
    m_p, m_d = params[fam.I_M_PARENT], params[fam.I_M_DAUGHTER]
    m_x, g_x = params[fam.I_M_X], params[fam.I_WIDTH_X]
    t_min, t_max = params[fam.I_T_MIN], params[fam.I_T_MAX]
    q2 = m_x * m_x + m_x * g_x * np.tan(t_min + (t_max - t_min) * x[:, 0])
    q2_factor = (t_max - t_min) / (m_x * g_x) / (2 * math.pi)  # (dq²/du)|D_X|²/(2π)
    m_star = np.sqrt(q2)
    lam = (m_p**2 - (m_d + m_star) ** 2) * (m_p**2 - (m_d - m_star) ** 2)
    p_star = np.sqrt(np.maximum(lam, 0.0)) / (2 * m_p)
    # P → P′ X* at rest
    c1 = 2 * uniform[:, 2] - 1
    s1 = np.sqrt(np.maximum((1 - c1) * (1 + c1), 0.0))
    phi1 = 2 * math.pi * uniform[:, 3]
    n_d = np.stack([s1 * np.cos(phi1), s1 * np.sin(phi1), c1])
    e_d = np.sqrt(p_star**2 + m_d**2)
    p = np.empty((4, n, 5))
    p[0, :, 0], p[1:, :, 0] = m_p, 0.0
    p[0, :, 1], p[1:, :, 1] = e_d, p_star * n_d
    p[0, :, 2], p[1:, :, 2] = m_p - e_d, -p_star * n_d
    # X* → ν ν̄ in the X helicity frame (axes e_x, −e_y, −n_d), boosted along −n_d
    c2 = 2 * x[:, 1] - 1
    s2 = np.sqrt(np.maximum((1 - c2) * (1 + c2), 0.0))
    phi2 = 2 * math.pi * uniform[:, 4]
    e_x = np.stack([c1 * np.cos(phi1), c1 * np.sin(phi1), -s1])
    e_y = -np.stack([-np.sin(phi1), np.cos(phi1), np.zeros(n)])
    e_z = -n_d
    e = m_star / 2
    gamma = p[0, :, 2] / m_star
    beta_gamma = p_star / m_star
    p_par = gamma * e * c2 + beta_gamma * e
    p[0, :, 3] = gamma * e + beta_gamma * e * c2
    p[1:, :, 3] = e * s2 * (np.cos(phi2) * e_x + np.sin(phi2) * e_y) + p_par * e_z
    p[:, :, 4] = p[:, :, 2] - p[:, :, 3]

    def mdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]

    big_p = p[:, :, 0] + p[:, :, 1]
    tensor = mdot(big_p, p[:, :, 3]) * mdot(big_p, p[:, :, 4]) - 0.25 * mdot(big_p, big_p) * q2
    ff = params[fam.I_FF : fam.I_FF + 8]
    xk = q2 * ff[5]
    f_plus = ff[0] * np.exp(q2 * ff[4] * (ff[1] + ff[2] * xk + ff[3] * xk * xk))
    me2 = params[fam.I_COUPLING2] * f_plus**2 * tensor
    phase_space = p_star / (4 * math.pi * m_p) * q2_factor / (8 * math.pi)
    f = params[fam.I_TO_BR] * me2 * phase_space / (2 * m_p)
    return p, f * jac


def time_numpy(prepared: driver.Prepared, frozen: FrozenMap, n_events: int, batch: int, repeats: int = 3) -> float:
    """Events/s of :func:`numpy_k_pi_x` on batches of ``batch`` (best of ``repeats``)."""
    rng = np.random.Generator(np.random.PCG64(1))
    per_rep = max(n_events // repeats, batch)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for first in range(0, per_rep, batch):
            n = min(batch, per_rep - first)
            u = rng.random((n, 7))  # 2 VEGAS dimensions, 3 flat angles, flavour, conjugate
            numpy_k_pi_x(u[:, :5], frozen, prepared.params)
        best = max(best, per_rep / (time.perf_counter() - start))
    return best


def check_numpy_yardstick(prepared: driver.Prepared, frozen: FrozenMap, n: int = 10_000) -> float:
    """Largest relative difference of the numpy chain and the numba kernel on the same uniforms."""
    key = stream_key(1, STREAM_PHASE_SPACE)
    u = uniforms(key, 0, n, frozen.dim + 3)
    p_ref, _, fjac_ref, _ = driver._generate(prepared, frozen, key, 0, n)
    p, fjac = numpy_k_pi_x(u, frozen, prepared.params)
    scale = p_ref[0, :, 0][None, :, None]
    return max(float(np.max(np.abs(p - p_ref) / scale)), float(np.max(np.abs(fjac / fjac_ref - 1))))
