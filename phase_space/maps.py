"""Maps from the unit interval to kinematic variables, with their Jacobians.

Each map takes one uniform ``u`` in [0, 1) and returns the variable and ``d(variable)/du``.
They are the analytic pre-flattening under the VEGAS map: the Breit–Wigner map removes
the resonance peak exactly, so VEGAS only has to learn the smooth remainder.
"""

from __future__ import annotations

import math

import numpy as np

from phase_space._jit import kernel
from phase_space.kinematics import TWO_PI
from phase_space.simd_math import tan

Q2_FLAT = 0
Q2_BREIT_WIGNER = 1
Q2_NARROW = 2


def breit_wigner_t_range(m2_pole, m_gamma, q2_min, q2_max):
    """Range of the Breit–Wigner angle t for q² in [q2_min, q2_max].

    q² = m² + mΓ tan t (physics.md §4.6); returns (t_min, t_max) in radians.
    ``m_gamma`` is the product m·Γ in GeV².
    """
    return (math.atan((q2_min - m2_pole) / m_gamma), math.atan((q2_max - m2_pole) / m_gamma))


def resonance_map(mass, width, q2_min, q2_max, narrow):
    """(mode, t_min, t_max, jac) of the q² map for a resonance of ``mass``, ``width`` (GeV).

    Breit–Wigner: q² = m² + mΓ tan t over [q2_min, q2_max], and ``jac`` = (t_max − t_min)/(mΓ)
    = (dq²/du)·|D(q²)|² exactly (physics.md §4.6). Narrow: q² = m², and ``jac`` = π/(mΓ), the
    integral of |D|² over all q² (physics.md §4.3); the t range is unused (0, 0).
    """
    m_gamma = mass * width
    if narrow:
        return Q2_NARROW, 0.0, 0.0, math.pi / m_gamma
    t_min, t_max = breit_wigner_t_range(mass * mass, m_gamma, q2_min, q2_max)
    return Q2_BREIT_WIGNER, t_min, t_max, (t_max - t_min) / m_gamma


@kernel
def breit_wigner_q2(u, m2_pole, m_gamma, t_min, t_max):
    """q² from a uniform ``u`` with density ∝ 1/((q² − m²)² + m²Γ²) (physics.md §4.6).

    Returns ``(q2, jac_over_bw)`` where ``jac_over_bw = (dq²/du)·|D(q²)|²
    = (t_max − t_min)/(mΓ)`` is exact: the propagator squared and the Jacobian cancel
    analytically, so nothing is lost to rounding at Γ/m ~ 1e-6.
    """
    t = t_min + (t_max - t_min) * u
    q2 = m2_pole + m_gamma * tan(t)
    return q2, (t_max - t_min) / m_gamma


@kernel
def flat(u, lo, hi):
    """x = lo + (hi − lo) u; returns ``(x, hi − lo)``."""
    return lo + (hi - lo) * u, hi - lo


@kernel
def cos_theta(u):
    """cosθ = 2u − 1 (Jacobian 2)."""
    return 2.0 * u - 1.0


@kernel
def azimuth(u):
    """φ = 2π u (Jacobian 2π)."""
    return TWO_PI * u


GUIDE_SIZE = 65536  # guide-table entries: ~16 per bin of a 4001-point table, so the search
# after the lookup almost never steps (a data-dependent step mispredicts; measured 12 → 8 ns)


def tabulated(x, density):
    """A piecewise-linear density on the grid ``x`` as the tables that :func:`from_table`
    samples: ``(x, cdf, guide)`` with the trapezoid CDF normalised to 1 and a guide table
    (Chen and Asau): ``guide[j]`` is the last bin whose CDF is ≤ j/GUIDE_SIZE."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    density = np.asarray(density, dtype=np.float64)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(x))])
    cdf = np.ascontiguousarray(cdf / cdf[-1])
    levels = np.arange(GUIDE_SIZE + 1) / GUIDE_SIZE
    guide = np.clip(np.searchsorted(cdf, levels, side="right") - 1, 0, x.size - 2).astype(np.int32)
    return x, cdf, guide


@kernel
def from_table(u, x, cdf, guide):
    """x with the CDF tabulated by :func:`tabulated`, from a uniform ``u`` in [0, 1): the
    guide table gives the bin in O(1) on average; linear in u within the bin (the inverse of
    the piecewise-linear CDF)."""
    i = guide[int(u * (guide.size - 1))]
    while i < x.size - 2 and cdf[i + 1] <= u:
        i += 1
    width = cdf[i + 1] - cdf[i]
    t = (u - cdf[i]) / width if width > 0.0 else 0.0
    return x[i] + t * (x[i + 1] - x[i])
