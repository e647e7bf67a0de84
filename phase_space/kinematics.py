"""Four-vector algebra for the kernels.

Convention (design.md §4): four-vectors are ``(E, px, py, pz)`` in GeV with the metric
(+, -, -, -); arrays of momenta are stored as ``p[component, event, slot]`` so that each
component is one contiguous array (structure of arrays). ``E, PX, PY, PZ`` index the
component axis. Inside kernels four-vectors travel as scalar 4-tuples, which numba keeps
in registers.

Two-body decays are written in the light-cone form of the boost, so that a daughter
emitted backwards from a fast parent keeps full relative precision (the naive
``gamma*(e + beta*p*cos)`` loses ~gamma² digits), and the harder daughter is the parent
minus the softer one, so four-momentum is conserved to the last bit.
"""

from __future__ import annotations

import math

from phase_space._jit import kernel
from phase_space.simd_math import sincos_turns, sqrt

E, PX, PY, PZ = 0, 1, 2, 3

TWO_PI = 2.0 * math.pi


@kernel
def kallen(a, b, c):
    """Källén function λ(a, b, c) = a² + b² + c² − 2ab − 2ac − 2bc (squared masses)."""
    return a * a + b * b + c * c - 2.0 * (a * b + a * c + b * c)


@kernel
def two_body_momentum(m0, m1, m2):
    """Break-up momentum p* = λ^{1/2}(m0², m1², m2²)/(2 m0) in GeV; 0 at threshold.

    Written as a product of (m0 ± m1 ± m2) factors, which is exact near threshold where
    the expanded Källén function cancels catastrophically.
    """
    if m1 == 0.0 and m2 == 0.0:
        return 0.5 * m0
    s = (m0 - m1 - m2) * (m0 + m1 + m2) * (m0 - m1 + m2) * (m0 + m1 - m2)
    if s <= 0.0:
        return 0.0
    return sqrt(s) / (2.0 * m0)


@kernel
def dot(a, b):
    """Minkowski product a·b of two 4-tuples (E, px, py, pz)."""
    return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]


@kernel
def mass2(p):
    """Invariant mass squared p² of a 4-tuple (raw, may be slightly negative)."""
    return p[0] * p[0] - p[1] * p[1] - p[2] * p[2] - p[3] * p[3]


@kernel
def mass(p):
    """Invariant mass, copysign(sqrt|p²|, p²) as in vector: never NaN for massless."""
    m2 = mass2(p)
    return math.copysign(sqrt(abs(m2)), m2)


@kernel
def levi_civita(a, b, c, d):
    """ε^{μνρσ} a_μ b_ν c_ρ d_σ with ε^{0123} = −1 (physics.md §1).

    Equals ε_{μνρσ} a^μ b^ν c^ρ d^σ = det[a; b; c; d] of the contravariant components
    (ε_{0123} = +1).
    """
    return (
        a[0]
        * (
            b[1] * (c[2] * d[3] - c[3] * d[2])
            - b[2] * (c[1] * d[3] - c[3] * d[1])
            + b[3] * (c[1] * d[2] - c[2] * d[1])
        )
        - a[1]
        * (
            b[0] * (c[2] * d[3] - c[3] * d[2])
            - b[2] * (c[0] * d[3] - c[3] * d[0])
            + b[3] * (c[0] * d[2] - c[2] * d[0])
        )
        + a[2]
        * (
            b[0] * (c[1] * d[3] - c[3] * d[1])
            - b[1] * (c[0] * d[3] - c[3] * d[0])
            + b[3] * (c[0] * d[1] - c[1] * d[0])
        )
        - a[3]
        * (
            b[0] * (c[1] * d[2] - c[2] * d[1])
            - b[1] * (c[0] * d[2] - c[2] * d[0])
            + b[2] * (c[0] * d[1] - c[1] * d[0])
        )
    )


@kernel
def levi_civita_vector(b, c, d):
    """The 4-vector X^μ = ε^{μνρσ} b_ν c_ρ d_σ (ε^{0123} = −1), so that a·X = ε(a, b, c, d).

    From the cofactors C_μ of the first row of det[·; b; c; d]: X^0 = C_0, X^i = −C_i.
    """
    c0 = (
        b[1] * (c[2] * d[3] - c[3] * d[2])
        - b[2] * (c[1] * d[3] - c[3] * d[1])
        + b[3] * (c[1] * d[2] - c[2] * d[1])
    )
    c1 = -(
        b[0] * (c[2] * d[3] - c[3] * d[2])
        - b[2] * (c[0] * d[3] - c[3] * d[0])
        + b[3] * (c[0] * d[2] - c[2] * d[0])
    )
    c2 = (
        b[0] * (c[1] * d[3] - c[3] * d[1])
        - b[1] * (c[0] * d[3] - c[3] * d[0])
        + b[3] * (c[0] * d[1] - c[1] * d[0])
    )
    c3 = -(
        b[0] * (c[1] * d[2] - c[2] * d[1])
        - b[1] * (c[0] * d[2] - c[2] * d[0])
        + b[2] * (c[0] * d[1] - c[1] * d[0])
    )
    return (c0, -c1, -c2, -c3)


@kernel
def add(a, b):
    """a + b for 4-tuples."""
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3])


@kernel
def sub(a, b):
    """a − b for 4-tuples."""
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3])


@kernel
def azimuth_cos_sin(u):
    """(cos φ, sin φ) of φ = 2πu, each within 1 ulp (cos²φ + sin²φ = 1 to rounding, which is
    what the mass shell needs), by :func:`phase_space.simd_math.sincos_turns`: no libm call,
    so a loop over events that draws azimuths vectorises."""
    return sincos_turns(u)


@kernel
def axes_from_direction(cos_theta, sin_theta, cos_phi, sin_phi):
    """Helicity-frame axes (e_x, e_y, e_z) of the direction (θ, φ).

    e_z = (sinθ cosφ, sinθ sinφ, cosθ) and (e_x, e_y) are R(φ, θ, 0) applied to the lab
    x, y axes; (e_x, e_y, e_z) is right-handed and orthonormal.
    """
    e_x = (cos_theta * cos_phi, cos_theta * sin_phi, -sin_theta)
    e_y = (-sin_phi, cos_phi, 0.0)
    e_z = (sin_theta * cos_phi, sin_theta * sin_phi, cos_theta)
    return e_x, e_y, e_z


@kernel
def helicity_axes(p):
    """Orthonormal axes (e_x, e_y, e_z) of the helicity frame of momentum ``p``.

    e_z is the flight direction p̂; see :func:`axes_from_direction`. A particle at rest
    (|p| = 0) uses the lab axes. The components are scaled by the largest one (so none is
    subnormal unless negligible), and the transverse part by its own largest component
    before its norm is taken (no squares that underflow), so the axes stay orthonormal for
    any momentum.
    """
    scale = max(abs(p[1]), abs(p[2]), abs(p[3]))
    if scale == 0.0:
        return (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
    x = p[1] / scale
    y = p[2] / scale
    z = p[3] / scale
    # the azimuth from the transverse components scaled on their own: a transverse part
    # far below |p| (even subnormal) still gives cos²φ + sin²φ = 1
    t = max(abs(x), abs(y))
    if t > 0.0:
        # the scaled components are ≤ 1 and one of them is 1: no overflow or underflow in
        # the squares (hypot would be a libm call)
        r = sqrt((x / t) ** 2 + (y / t) ** 2)
        cphi = (x / t) / r
        sphi = (y / t) / r
        p_perp = t * r
    else:
        cphi = 1.0
        sphi = 0.0
        p_perp = 0.0
    p_abs = sqrt(p_perp * p_perp + z * z)  # both ≤ √2 after the scaling
    return axes_from_direction(z / p_abs, p_perp / p_abs, cphi, sphi)


@kernel
def _light_cone_boost(plus_parent, minus_over_m, inv_m, e_rest, p_star, cos_theta, m, p_perp):
    """(E, p∥) in the lab of a daughter of mass ``m`` emitted at cosθ with momentum p*.

    Light-cone components in the parent rest frame, e ± p* cosθ: for a massless daughter
    p*(1 ± cosθ); otherwise the one without cancellation directly and the other from
    (e + p∥)(e − p∥) = m² + p⊥². In the lab, E ± p∥ = (E_P ± |P|)(e ± p* cosθ)/M with
    (E_P − |P|)/M = M/(E_P + |P|) = ``minus_over_m``.
    """
    if m == 0.0:
        plus = p_star * (1.0 + cos_theta)
        minus = p_star * (1.0 - cos_theta)
    elif cos_theta >= 0.0:
        plus = e_rest + p_star * cos_theta
        minus = (m * m + p_perp * p_perp) / plus
    else:
        minus = e_rest - p_star * cos_theta
        plus = (m * m + p_perp * p_perp) / minus
    plus_lab = plus_parent * plus * inv_m
    minus_lab = minus_over_m * minus
    return 0.5 * (plus_lab + minus_lab), 0.5 * (plus_lab - minus_lab)


@kernel
def decay_in_frame(p_parent, p_abs, m_parent, m1, m2, axes, cos_theta, cos_phi, sin_phi):
    """Two-body decay with the daughter-1 direction given in the axes ``axes``.

    Parameters
    ----------
    p_parent : 4-tuple (E, px, py, pz) of the parent, GeV.
    p_abs : |p⃗_parent| (GeV); ``axes[2]`` must be p̂_parent when p_abs > 0.
    m_parent, m1, m2 : parent (generated) and daughter masses, GeV.
    axes : (e_x, e_y, e_z), orthonormal, right-handed (e.g. :func:`helicity_axes`).
    cos_theta, cos_phi, sin_phi : direction of daughter 1 in the parent rest frame,
        measured in ``axes``.

    Returns
    -------
    (p1, p2), 4-tuples with p1 + p2 = p_parent exactly: the softer daughter is boosted,
    the harder one is the parent minus the softer.

    Notes
    -----
    The boost along e_z uses light-cone components,
    E ± p∥ = (E_P ± |P|)(e ± p* cosθ)/M with E_P − |P| = M²/(E_P + |P|) and
    e ∓ p* cosθ = (m1² + p*² sin²θ)/(e ± p* cosθ), so no difference of nearly equal numbers
    is formed: a daughter emitted backwards from a fast parent keeps full relative precision
    (the naive γ(e + βp* cosθ) loses ~γ² in relative precision), and the subtraction that
    gives the other daughter only ever loses bits of a daughter with at least half the
    parent's energy.
    """
    p_star = two_body_momentum(m_parent, m1, m2)
    sin2 = (1.0 - cos_theta) * (1.0 + cos_theta)
    sin_theta = sqrt(sin2) if sin2 > 0.0 else 0.0
    p_perp = p_star * sin_theta
    plus_parent = p_parent[0] + p_abs
    inv = 1.0 / (m_parent * plus_parent)  # one division for 1/M and M/(E + |P|)
    inv_m = plus_parent * inv
    minus_over_m = m_parent * m_parent * inv
    e_x, e_y, e_z = axes
    px_perp = p_perp * cos_phi
    py_perp = p_perp * sin_phi

    e1 = p_star if m1 == 0.0 else sqrt(p_star * p_star + m1 * m1)
    energy1, p_par1 = _light_cone_boost(
        plus_parent, minus_over_m, inv_m, e1, p_star, cos_theta, m1, p_perp
    )
    if energy1 <= 0.5 * p_parent[0]:
        p1 = (
            energy1,
            px_perp * e_x[0] + py_perp * e_y[0] + p_par1 * e_z[0],
            px_perp * e_x[1] + py_perp * e_y[1] + p_par1 * e_z[1],
            px_perp * e_x[2] + py_perp * e_y[2] + p_par1 * e_z[2],
        )
        return p1, sub(p_parent, p1)
    e2 = p_star if m2 == 0.0 else sqrt(p_star * p_star + m2 * m2)
    energy2, p_par2 = _light_cone_boost(
        plus_parent, minus_over_m, inv_m, e2, p_star, -cos_theta, m2, p_perp
    )
    p2 = (
        energy2,
        -px_perp * e_x[0] - py_perp * e_y[0] + p_par2 * e_z[0],
        -px_perp * e_x[1] - py_perp * e_y[1] + p_par2 * e_z[1],
        -px_perp * e_x[2] - py_perp * e_y[2] + p_par2 * e_z[2],
    )
    return sub(p_parent, p2), p2


@kernel
def _norm3(x, y, z):
    """√(x² + y² + z²) without overflow or underflow of the squares (scaled by the largest)."""
    scale = max(abs(x), abs(y), abs(z))
    divisor = scale if scale > 0.0 else 1.0  # divisions, not 1/scale: that overflows for subnormals
    a = x / divisor
    b = y / divisor
    c = z / divisor
    return scale * sqrt(a * a + b * b + c * c)


@kernel
def two_body_decay(p_parent, m_parent, m1, m2, cos_theta, u_phi):
    """Decay ``p_parent`` into masses ``m1``, ``m2``; daughter 1 at helicity angles
    (θ, φ = 2π·u_phi) w.r.t. the parent's flight direction (:func:`helicity_axes`).

    Returns (p1, p2), 4-tuples in GeV, with p1 + p2 = p_parent exactly.
    """
    p_abs = _norm3(p_parent[1], p_parent[2], p_parent[3])
    cos_phi, sin_phi = azimuth_cos_sin(u_phi)
    return decay_in_frame(
        p_parent, p_abs, m_parent, m1, m2, helicity_axes(p_parent), cos_theta, cos_phi, sin_phi
    )


@kernel
def boost_to_rest(p, frame):
    """Components of ``p`` in the rest frame of 4-tuple ``frame`` (pure boost, no rotation)."""
    m_frame = mass(frame)
    bx = frame[1] / frame[0]
    by = frame[2] / frame[0]
    bz = frame[3] / frame[0]
    gamma = frame[0] / m_frame
    bp = bx * p[1] + by * p[2] + bz * p[3]
    b2 = bx * bx + by * by + bz * bz
    coef = (gamma - 1.0) * bp / b2 - gamma * p[0] if b2 > 0.0 else 0.0
    return (gamma * (p[0] - bp), p[1] + coef * bx, p[2] + coef * by, p[3] + coef * bz)


@kernel
def boost_from_rest(p, frame):
    """Components in the lab of ``p`` given in the rest frame of 4-tuple ``frame``.

    Used by the production step to carry a whole decay from the parent rest frame into the
    lab. Written with γ and βγ from ``frame``'s components.
    """
    return boost_with(p, boost_factors(frame))


@kernel
def boost_factors(frame):
    """(γ, βγ_x, βγ_y, βγ_z) of the rest frame of 4-tuple ``frame``: computed once per event
    when several momenta are boosted into the same frame (one sqrt, one division: the
    factors are within an ulp of the four quotients)."""
    inverse_mass = 1.0 / mass(frame)
    return (frame[0] * inverse_mass, frame[1] * inverse_mass, frame[2] * inverse_mass, frame[3] * inverse_mass)


@kernel
def boost_with(p, factors):
    """:func:`boost_from_rest` of ``p`` with the factors of :func:`boost_factors`."""
    gamma, gx, gy, gz = factors
    gp = gx * p[1] + gy * p[2] + gz * p[3]
    energy = gamma * p[0] + gp
    coef = p[0] + gp / (gamma + 1.0)
    return (energy, p[1] + coef * gx, p[2] + coef * gy, p[3] + coef * gz)
