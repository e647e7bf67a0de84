"""Analytic widths of P → P′X and the differential rate of P → P′νν̄ via X.

Formulas of physics.md §3.2, §3.3 and §4.2–4.3; all widths in GeV, q² in GeV².
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from phase_space.kinematics import kallen


def width_p_to_pprime_x(
    coupling2: float, f_plus_mx: float, m_parent: float, m_daughter: float, m_x: float
) -> float:
    """Γ(P → P′X) = |g|² f₊(m_X²)² λ^{3/2}(m_P², m_P′², m_X²)/(64π m_P³ m_X²).

    physics.md Eq. 12 (K⁺ → π⁺X, B → KX; ``coupling2 = |g|²``) and Eq. 13 (K_L → π⁰X,
    ``coupling2 = (Im g_sd)²``). Zero above threshold.
    """
    lam = kallen(m_parent**2, m_daughter**2, m_x**2)
    if lam <= 0.0 or m_x <= 0.0:
        return 0.0
    return coupling2 * f_plus_mx**2 * lam**1.5 / (64.0 * math.pi * m_parent**3 * m_x**2)


def dwidth_dq2_p_to_pprime_nunu(
    q2: np.ndarray,
    coupling2_propagator2: np.ndarray,
    f_plus: np.ndarray,
    m_parent: float,
    m_daughter: float,
) -> np.ndarray:
    """dΓ/dq² = |g_q g_ν|² f₊² λ^{3/2} |D_X|² /(1536π³ m_P³) per flavour (physics.md Eq. 20).

    ``coupling2_propagator2`` is |g_q|² Σ_i g_νi² |D_X(q²)|² (or |G_SM|² per flavour × N_ν for
    the SM continuum, §4.1); arrays broadcast.
    """
    m2p, m2d = m_parent**2, m_daughter**2
    lam = np.maximum(m2p**2 + m2d**2 + q2**2 - 2.0 * (m2p * m2d + m2p * q2 + m2d * q2), 0.0)
    return coupling2_propagator2 * f_plus**2 * lam**1.5 / (1536.0 * math.pi**3 * m_parent**3)


def breit_wigner2(q2: np.ndarray, m_x: float, width_x: float) -> np.ndarray:
    """|D_X(q²)|² = 1/((q² − m_X²)² + m_X²Γ_X²) (physics.md §1, constant width)."""
    return 1.0 / ((q2 - m_x * m_x) ** 2 + (m_x * width_x) ** 2)


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(48)


def _gauss_legendre(f: Callable[[np.ndarray], np.ndarray], a: float, b: float) -> float:
    half = 0.5 * (b - a)
    x = a + half * (_GL_NODES + 1.0)
    return float(half * np.dot(_GL_WEIGHTS, f(x)))


def integrate_q2(
    integrand: Callable[[np.ndarray], np.ndarray],
    q2_min: float,
    q2_max: float,
    *,
    peak: float | None = None,
    half_width: float | None = None,
) -> float:
    """∫ integrand(q²) dq² over [q2_min, q2_max] to ~1e-12 relative.

    The λ^{3/2} endpoint at ``q2_max`` is removed by q² = q2_max − s², and a resonance at
    ``peak`` with half width ``half_width`` (= m_XΓ_X) is integrated in the Breit–Wigner angle
    over log-spaced pieces around the pole, so that both a Γ/m = 1e-6 line and its tails are
    resolved.
    """
    if q2_max <= q2_min:
        return 0.0
    if peak is None or half_width is None or not q2_min < peak < q2_max:
        return _integrate_smooth(integrand, q2_min, q2_max)

    # pieces of the BW angle t, q² = peak + half_width·tan t: break points at
    # peak ± half_width·10^j so every piece has a smooth integrand in t
    offsets = half_width * 10.0 ** np.arange(0, 16)
    points = np.concatenate([peak - offsets[::-1], [peak], peak + offsets])
    points = np.concatenate([[q2_min], points[(points > q2_min) & (points < q2_max)], [q2_max]])
    t = np.arctan((points - peak) / half_width)

    def in_t(tt: np.ndarray) -> np.ndarray:
        q2 = peak + half_width * np.tan(tt)
        return integrand(q2) * half_width / np.cos(tt) ** 2

    total = 0.0
    for a, b, qa, qb in zip(t[:-1], t[1:], points[:-1], points[1:], strict=True):
        if qb == q2_max:
            # endpoint piece: s-substitution removes the (q2_max − q²)^{3/2} cusp
            total += _integrate_smooth(integrand, qa, qb)
        else:
            total += _gauss_legendre(in_t, a, b)
    return total


def _integrate_smooth(integrand: Callable[[np.ndarray], np.ndarray], lo: float, hi: float) -> float:
    # q² = hi − s², s ∈ [0, √(hi − lo)]: dq² = 2s ds; split in 8 pieces for a safe margin
    s_max = math.sqrt(hi - lo)
    edges = np.linspace(0.0, s_max, 9)
    return sum(
        _gauss_legendre(lambda s: integrand(hi - s * s) * 2.0 * s, a, b)
        for a, b in itertools.pairwise(edges)
    )
