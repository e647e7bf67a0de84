"""Z → γX(→ νν̄) with the Z at rest, and e⁺e⁻ → Z* → γX(→ νν̄) (physics.md §3.5, §4.5).

Amplitudes from the Wess–Zumino term Eq. 2 with X → νν̄ through Eq. 3:

    e⁺e⁻:  M = g_Z C g_ν D_Z(s) D_X(q²) ε^{βαρσ} J_νβ J_eα k_ρ ε*_σ(γ)          (Eq. 25)
    Z:     M = C g_ν D_X(q²) ε^{βαρσ} J_νβ ε_Zα k_ρ ε*_σ(γ)                     (§3.5, Eq. 16)

Spin sums, evaluated without tensors of rank > 1: with the e⁻ beam along +z, the electron
tensor Eq. 24 is E^{μν} = s[g_L² u₋u₋* + g_R² u₊u₊*], u± = (0, 1, ±i, 0); the neutrino tensor
Eq. 18 is L^{μν} = q² V V*, V the boost to the c.m. frame of (0, e_x′ − i e_y′), where e_z′ is
the ν̄ direction in the X rest frame; the unpolarised Z gives Σ ε_Z ε_Z* = diag(0, 1, 1, 1) in
its rest frame; photon polarisations sum to −g. Hence, with Z^σ = ε^{σβαρ} V_β a_α k_ρ,

    e⁺e⁻: Σ|M|²/4 = |g_Z C|² Σg_νi² |D_Z|²|D_X|² (s q²/4) Σ_h g_h² (−Z(u_h)·Z(u_h)*)
    Z:    Σ|M|²/3 = |C|² Σg_νi² |D_X|² (q²/3) Σ_i (−Z(e_i)·Z(e_i)*)

(both factorisations are checked against Eq. 18/24 in the tests, and the whole integrand
against an explicit-spinor oracle). Rates: BR(Z → γX)·BR(X → νν̄) = Γ/Γ_Z for the Z at rest;
σ in pb for e⁺e⁻, with an optional Gaussian spread of the two beam energies.

VEGAS dimensions: [q²], cosθ_ν (X helicity frame) for the Z at rest; [q²], cosθ_γ (w.r.t.
the e⁻ beam), cosθ_ν, φ_ν for e⁺e⁻. Flat: the photon direction (Z at rest) or its azimuth
(e⁺e⁻), φ_ν for the Z at rest, the neutrino flavour, and the beam-energy draws.
"""

from __future__ import annotations

import math

import numpy as np

from matrix_elements.constants import GEV2_TO_PB
from matrix_elements.record import store_process
from matrix_elements.widths import breit_wigner2, integrate_q2
from phase_space._jit import batch_kernel, kernel, stage
from phase_space.block import (
    BLOCK,
    CONJUGATE,
    JACOBIAN,
    NU_PID,
    P_ROWS,
    Q2,
    TMP,
    VEGAS_X,
    WEIGHT,
    fill,
    move,
    put,
    scratch,
    vegas_point,
)
from phase_space.kinematics import (
    axes_from_direction,
    azimuth_cos_sin,
    boost_factors,
    boost_from_rest,
    boost_with,
    decay_in_frame,
    dot,
    levi_civita_vector,
)
from phase_space.maps import Q2_NARROW, resonance_map
from phase_space.random import STRIDE, uniform
from phase_space.simd_math import normal_pair, sqrt, tan

MODE_Z_DECAY = 0
MODE_EE = 1

# --- parameter array layout -------------------------------------------------------------
I_MODE = 0  # MODE_Z_DECAY or MODE_EE
I_M_Z = 1
I_WIDTH_Z = 2
I_M_X = 3
I_WIDTH_X = 4
I_COUPLING2 = 5  # |C|² Σ g_νi² (Z), |g_Z C|² Σ g_νi² (e⁺e⁻)
I_G_L2 = 6  # g_L² of the Z–e coupling
I_G_R2 = 7  # g_R²
I_NORM = 8  # constant factor: 1/Γ_Z (Z) or GeV⁻² → pb (e⁺e⁻), over (4π)(8π)(2π) ...
I_SQRT_S = 9  # nominal √s (e⁺e⁻)
I_SPREAD = 10  # relative Gaussian spread of each beam energy
I_M_E = 11  # electron mass (beams on their mass shell)
I_Q2_MODE = 12
I_T_MIN = 13
I_T_MAX = 14
I_Q2_JAC = 15  # (dq²/du)|D_X|²
I_NU_CUM_E = 16
I_NU_CUM_MU = 17
N_PARAMS = 18

AUX_COS_GAMMA = 0  # Z at rest only
AUX_PHI_GAMMA = 1
AUX_PHI_NU = 2  # Z at rest only
AUX_FLAVOUR = 3
AUX_BEAM = 4  # two uniforms → two Gaussian beam-energy deviations



def n_dim(params: np.ndarray) -> int:
    """Z at rest: [q²], cosθ_ν; e⁺e⁻: [q²], cosθ_γ, cosθ_ν, φ_ν."""
    base = 2 if int(params[I_MODE]) == MODE_Z_DECAY else 4
    return base - int(int(params[I_Q2_MODE]) == Q2_NARROW)


def z_electron_couplings(sin2_theta_eff: float) -> tuple[float, float]:
    """(g_L, g_R) = (−½ + s_W², s_W²) of L ⊃ g_Z Z_μ ē γ^μ (g_L P_L + g_R P_R) e (§4.5)."""
    return -0.5 + sin2_theta_eff, sin2_theta_eff


def make_params(
    *,
    mode: int,
    m_z: float,
    width_z: float,
    m_x: float,
    width_x: float,
    coupling2: float,
    g_l: float = 0.0,
    g_r: float = 0.0,
    sqrt_s: float | None = None,
    beam_energy_spread: float = 0.0,
    m_e: float = 0.51099895e-3,
    narrow_width: bool = False,
    flavour_fractions: tuple[float, float, float] = (1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0),
) -> np.ndarray:
    """Pack the parameters (GeV). ``coupling2``: |C|²Σg_ν² (Z) or g_Z²|C|²Σg_ν² (e⁺e⁻)."""
    params = np.zeros(N_PARAMS)
    params[I_MODE] = mode
    params[I_M_Z] = m_z
    params[I_WIDTH_Z] = width_z
    params[I_M_X] = m_x
    params[I_WIDTH_X] = width_x
    params[I_COUPLING2] = coupling2
    params[I_G_L2] = g_l * g_l
    params[I_G_R2] = g_r * g_r
    params[I_M_E] = m_e
    params[I_NU_CUM_E] = flavour_fractions[0]
    params[I_NU_CUM_MU] = flavour_fractions[0] + flavour_fractions[1]
    # dΦ₂(→ γX*) dq²/(2π) dΦ₂(X* → νν̄) per du: p*/(4πM) · (dq²/du)/(2π) · 1/(8π)
    phase_space = 1.0 / (4.0 * math.pi) / (2.0 * math.pi) / (8.0 * math.pi)
    if mode == MODE_Z_DECAY:
        # BR = Γ/Γ_Z, Γ = ∫|M|²/(2m_Z) dΦ
        params[I_NORM] = phase_space / (2.0 * m_z) / width_z
        q2_max = m_z * m_z
    else:
        params[I_SQRT_S] = m_z if sqrt_s is None else sqrt_s
        params[I_SPREAD] = beam_energy_spread
        # σ = ∫|M|²/(2s) dΦ in GeV⁻², × GEV2_TO_PB (1/(2s) and 1/4 of the spin average per event)
        params[I_NORM] = phase_space * GEV2_TO_PB
        q2_max = params[I_SQRT_S] ** 2 * (1.0 + 6.0 * beam_energy_spread) ** 2
    # the X line shape: Breit–Wigner map or narrow width (physics.md §4.3, §4.6)
    params[I_Q2_MODE], params[I_T_MIN], params[I_T_MAX], params[I_Q2_JAC] = resonance_map(
        m_x, width_x, 0.0, q2_max, narrow_width
    )
    return params


@kernel
def _minus_norm2(re, im):
    """−Z·Z* of a complex 4-vector Z = re + i im (≥ 0 for Z spacelike or null)."""
    return -(dot(re, re) + dot(im, im))


@kernel
def contracted_z(p_x, p_nubar, m_x, k):
    """Σ over Z and γ polarisations and ν spins of |ε^{βαρσ} J_νβ ε_Zα k_ρ ε*_σ|² / 3.

    Z at rest; ``p_x`` the X momentum, ``p_nubar`` the ν̄, ``m_x`` = √q², ``k`` the photon.
    """
    vr, vi = _neutrino_polarisation(p_x, p_nubar, m_x)
    total = 0.0
    for axis in range(3):
        e = (0.0, 1.0 if axis == 0 else 0.0, 1.0 if axis == 1 else 0.0, 1.0 if axis == 2 else 0.0)
        total += _minus_norm2(levi_civita_vector(vr, e, k), levi_civita_vector(vi, e, k))
    return m_x * m_x * total / 3.0


@kernel
def contracted_ee(p_x, p_nubar, m_x, k, s, g_l2, g_r2):
    """Σ over e, ν spins and γ polarisations of |ε^{βαρσ} J_νβ J_eα k_ρ ε*_σ|² (e⁻ along +z)."""
    vr, vi = _neutrino_polarisation(p_x, p_nubar, m_x)
    e_x = (0.0, 1.0, 0.0, 0.0)
    e_y = (0.0, 0.0, 1.0, 0.0)
    a = levi_civita_vector(vr, e_x, k)
    b = levi_civita_vector(vi, e_y, k)
    c = levi_civita_vector(vr, e_y, k)
    d = levi_civita_vector(vi, e_x, k)
    # u₋ = e_x − i e_y (coupling g_L), u₊ = e_x + i e_y (g_R); Z(V, u) is bilinear
    minus_re = (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3])
    minus_im = (d[0] - c[0], d[1] - c[1], d[2] - c[2], d[3] - c[3])
    plus_re = (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3])
    plus_im = (d[0] + c[0], d[1] + c[1], d[2] + c[2], d[3] + c[3])
    return (
        s
        * m_x
        * m_x
        * (g_l2 * _minus_norm2(minus_re, minus_im) + g_r2 * _minus_norm2(plus_re, plus_im))
    )


@kernel
def _neutrino_polarisation(p_x, p_nubar, m_x):
    """(Re V, Im V): L^{μν} = q² V V* (physics.md Eq. 18), V = Λ(0, e_x′ − i e_y′).

    e_z′ is the ν̄ direction in the X rest frame; (e_x′, e_y′, e_z′) right-handed.
    """
    rest = _boost_to_rest_of(p_nubar, p_x, m_x)
    r = sqrt(rest[1] * rest[1] + rest[2] * rest[2] + rest[3] * rest[3])
    nz = (rest[1] / r, rest[2] / r, rest[3] / r)
    # any e_x′ ⟂ e_z′: the smaller of the lab axes' projections avoids cancellation
    if abs(nz[0]) < 0.7:
        t = (1.0 - nz[0] * nz[0]) ** 0.5
        ex = (t, -nz[0] * nz[1] / t, -nz[0] * nz[2] / t)
    else:
        t = (1.0 - nz[1] * nz[1]) ** 0.5
        ex = (-nz[1] * nz[0] / t, t, -nz[1] * nz[2] / t)
    ey = (
        nz[1] * ex[2] - nz[2] * ex[1],
        nz[2] * ex[0] - nz[0] * ex[2],
        nz[0] * ex[1] - nz[1] * ex[0],
    )
    vr = boost_from_rest((0.0, ex[0], ex[1], ex[2]), p_x)
    vi = boost_from_rest((0.0, -ey[0], -ey[1], -ey[2]), p_x)
    return vr, vi


@kernel
def _boost_to_rest_of(p, frame, m_frame):
    """p in the rest frame of ``frame`` (mass ``m_frame``), pure boost."""
    gamma = frame[0] / m_frame
    gx = frame[1] / m_frame
    gy = frame[2] / m_frame
    gz = frame[3] / m_frame
    gp = gx * p[1] + gy * p[2] + gz * p[3]
    energy = gamma * p[0] - gp
    coef = gp / (gamma + 1.0) - p[0]
    return (energy, p[1] + coef * gx, p[2] + coef * gy, p[3] + coef * gz)


@kernel
def _event(u_q2, u_cos_gamma, u_cos_nu, u_phi_nu, u_phi_gamma, sqrt_s_event, params):
    """One point in the rest frame of the Z (decay) or of the e⁺e⁻ pair (scattering), from
    its unit-cube variables: u_q² (unused in narrow-width mode), cosθ_γ = 2u − 1, cosθ_ν,
    φ_ν = 2πu (X helicity frame) and φ_γ (which are VEGAS dimensions and which flat
    auxiliaries depends on the mode: module docstring).

    Returns ``(weight_per_du, q2, p_gamma, p_x, p_nu, p_nubar)`` with 4-tuples in GeV; the
    weight is dBR/du (Z) or dσ/du in pb (e⁺e⁻).
    """
    mode = int(params[I_MODE])
    m_x_pole = params[I_M_X]
    if int(params[I_Q2_MODE]) == Q2_NARROW:
        q2 = m_x_pole * m_x_pole
    else:
        t = params[I_T_MIN] + (params[I_T_MAX] - params[I_T_MIN]) * u_q2
        q2 = m_x_pole * m_x_pole + m_x_pole * params[I_WIDTH_X] * tan(t)
    m_total = params[I_M_Z] if mode == MODE_Z_DECAY else sqrt_s_event
    cos_g = 2.0 * u_cos_gamma - 1.0
    cos_nu = 2.0 * u_cos_nu - 1.0
    if q2 <= 0.0 or q2 >= m_total * m_total:
        zero = (0.0, 0.0, 0.0, 0.0)
        return 0.0, q2, zero, zero, zero, zero
    m_x = sqrt(q2)
    e_gamma = (m_total * m_total - q2) / (2.0 * m_total)
    sin2 = (1.0 - cos_g) * (1.0 + cos_g)
    sin_g = sqrt(sin2) if sin2 > 0.0 else 0.0
    cos_phi, sin_phi = azimuth_cos_sin(u_phi_gamma)
    e_x, e_y, e_z = axes_from_direction(cos_g, sin_g, cos_phi, sin_phi)
    p_gamma = (e_gamma, e_gamma * e_z[0], e_gamma * e_z[1], e_gamma * e_z[2])
    p_x = (m_total - e_gamma, -p_gamma[1], -p_gamma[2], -p_gamma[3])
    x_axes = (e_x, (-e_y[0], -e_y[1], -e_y[2]), (-e_z[0], -e_z[1], -e_z[2]))
    cos_phi_nu, sin_phi_nu = azimuth_cos_sin(u_phi_nu)
    p_nu, p_nubar = decay_in_frame(
        p_x, e_gamma, m_x, 0.0, 0.0, x_axes, cos_nu, cos_phi_nu, sin_phi_nu
    )

    phase_space = e_gamma / m_total * params[I_Q2_JAC]  # p*/M of dΦ₂(→ γX*) and the q² map
    if mode == MODE_Z_DECAY:
        me2 = params[I_COUPLING2] * contracted_z(p_x, p_nubar, m_x, p_gamma)
        weight = params[I_NORM] * me2 * phase_space
    else:
        s = m_total * m_total
        m_z = params[I_M_Z]
        d_z2 = 1.0 / ((s - m_z * m_z) ** 2 + (m_z * params[I_WIDTH_Z]) ** 2)
        me2 = (
            0.25
            * params[I_COUPLING2]
            * d_z2
            * contracted_ee(p_x, p_nubar, m_x, p_gamma, s, params[I_G_L2], params[I_G_R2])
        )
        weight = params[I_NORM] * me2 * phase_space / (2.0 * s)
    return weight, q2, p_gamma, p_x, p_nu, p_nubar


@batch_kernel(events=0)
def integrand(u, params, out, start, stop):
    """The VEGAS warm-up integrand at the nominal √s (flat angles fixed)."""
    sqrt_s = params[I_SQRT_S]
    last = u.shape[1] - 1
    ee = int(params[I_MODE]) == MODE_EE
    for i in range(start, stop):
        # Z: [u_q²], u_cosθ_ν; e⁺e⁻: [u_q²], u_cosθ_γ, u_cosθ_ν, u_φν (flat ones fixed here)
        if ee:
            out[i] = _event(u[i, 0], u[i, last - 2], u[i, last - 1], u[i, last], 0.2, sqrt_s, params)[0]
        else:
            out[i] = _event(u[i, 0], 0.65, u[i, last], 0.1, 0.2, sqrt_s, params)[0]


@kernel
def _beams(params, u1, u2):
    """Beam 4-momenta (e⁻ along +z, e⁺ along −z, on their mass shell) in the lab."""
    e_beam = 0.5 * params[I_SQRT_S]
    spread = params[I_SPREAD]
    m_e = params[I_M_E]
    # Box–Muller: two independent Gaussian deviations of the beam energies (× 0 without spread)
    g1, g2 = normal_pair(u1, u2)
    e_minus = e_beam * (1.0 + spread * g1)
    e_plus = e_beam * (1.0 + spread * g2)
    pz_minus = sqrt((e_minus - m_e) * (e_minus + m_e))
    pz_plus = sqrt((e_plus - m_e) * (e_plus + m_e))
    return (e_minus, 0.0, 0.0, pz_minus), (e_plus, 0.0, 0.0, -pz_plus)


U_ROWS = TMP + 24  # scratch rows of u_q², u_cosθ_γ, u_cosθ_ν, u_φν


@stage
def block(s, first, key, grid, inc, ninc, params, conjugate_fraction):  # noqa: ARG001 - C-even
    """The events ``first .. first + BLOCK − 1`` of stream ``key`` into the scratch block ``s``
    (:mod:`phase_space.block`), what :func:`generate` computes. Z at rest: slots Z, γ, X, ν,
    ν̄ (Z frame). e⁺e⁻: e⁻, e⁺ (beams), γ, X, ν, ν̄ in the lab (the c.m. frame boosted along
    z by the beam energies). Rows WEIGHT (dBR/du or dσ/du in pb, × VEGAS Jacobian), Q2,
    CONJUGATE (0: charge conjugation is the identity here), NU_PID.
    """
    vegas_point(s, first, key, grid, inc, ninc)
    dim = ninc.shape[0]
    ee = int(params[I_MODE]) == MODE_EE
    cum_e = params[I_NU_CUM_E]
    cum_mu = params[I_NU_CUM_MU]
    m_z = params[I_M_Z]
    # the unit-cube variables into constant rows: VEGAS dimensions, then the flat ones
    narrow = int(params[I_Q2_MODE]) == Q2_NARROW
    j = 0 if narrow else 1
    move(s, VEGAS_X, U_ROWS, 1)
    if ee:
        move(s, VEGAS_X + j, U_ROWS + 1, 3)
    else:
        move(s, VEGAS_X + j, U_ROWS + 2, 1)
        for lane in range(BLOCK):
            aux = np.uint64(first + lane) * np.uint64(STRIDE) + np.uint64(dim)
            s[U_ROWS + 1, lane] = uniform(key, aux + np.uint64(AUX_COS_GAMMA))
            s[U_ROWS + 3, lane] = uniform(key, aux + np.uint64(AUX_PHI_NU))
    fill(s, CONJUGATE, 0.0)
    if ee:
        for lane in range(BLOCK):
            aux = np.uint64(first + lane) * np.uint64(STRIDE) + np.uint64(dim)
            beam_minus, beam_plus = _beams(
                params, uniform(key, aux + np.uint64(AUX_BEAM)), uniform(key, aux + np.uint64(AUX_BEAM + 1))
            )
            total = (beam_minus[0] + beam_plus[0], 0.0, 0.0, beam_minus[3] + beam_plus[3])
            weight, q2, p_gamma, p_x, p_nu, p_nubar = _event(
                s[U_ROWS, lane], s[U_ROWS + 1, lane], s[U_ROWS + 2, lane], s[U_ROWS + 3, lane],
                uniform(key, aux + np.uint64(AUX_PHI_GAMMA)), sqrt(dot(total, total)), params,
            )
            # unequal beams: carry the c.m. frame to the lab (equal ones: exactly as generated)
            moving = total[3] != 0.0
            into_lab = boost_factors(total)
            s[WEIGHT, lane] = weight * s[JACOBIAN, lane]
            s[Q2, lane] = q2
            put(s, 0, P_ROWS, lane, beam_minus)
            put(s, 1, P_ROWS, lane, beam_plus)
            put(s, 2, P_ROWS, lane, _lab(p_gamma, into_lab, moving))
            put(s, 3, P_ROWS, lane, _lab(p_x, into_lab, moving))
            put(s, 4, P_ROWS, lane, _lab(p_nu, into_lab, moving))
            put(s, 5, P_ROWS, lane, _lab(p_nubar, into_lab, moving))
            r_flavour = uniform(key, aux + np.uint64(AUX_FLAVOUR))
            s[NU_PID, lane] = 12.0 if r_flavour < cum_e else (14.0 if r_flavour < cum_mu else 16.0)
    else:
        for lane in range(BLOCK):
            aux = np.uint64(first + lane) * np.uint64(STRIDE) + np.uint64(dim)
            weight, q2, p_gamma, p_x, p_nu, p_nubar = _event(
                s[U_ROWS, lane], s[U_ROWS + 1, lane], s[U_ROWS + 2, lane], s[U_ROWS + 3, lane],
                uniform(key, aux + np.uint64(AUX_PHI_GAMMA)), m_z, params,
            )
            s[WEIGHT, lane] = weight * s[JACOBIAN, lane]
            s[Q2, lane] = q2
            put(s, 0, P_ROWS, lane, (m_z, 0.0, 0.0, 0.0))
            put(s, 1, P_ROWS, lane, p_gamma)
            put(s, 2, P_ROWS, lane, p_x)
            put(s, 3, P_ROWS, lane, p_nu)
            put(s, 4, P_ROWS, lane, p_nubar)
            r_flavour = uniform(key, aux + np.uint64(AUX_FLAVOUR))
            s[NU_PID, lane] = 12.0 if r_flavour < cum_e else (14.0 if r_flavour < cum_mu else 16.0)


@kernel
def _lab(p, into_lab, moving):
    lab = boost_with(p, into_lab)
    return lab if moving else p


@batch_kernel(events=10, min_per_thread=BLOCK)
def generate(
    key,
    first_event,
    grid,
    inc,
    ninc,
    params,
    pid_template,
    conjugate_fraction,
    p,
    pid,
    fjac,
    q2_out,
    start,
    stop,
):
    """Generate events (:func:`block` per block of events); same contract as
    ``p_to_pprime.generate``. ``fjac`` is dBR/du (Z) or dσ/du in pb (e⁺e⁻) × Jacobian."""
    s = scratch()
    nu_slot = 4 if int(params[I_MODE]) == MODE_EE else 3
    for i0 in range(start, stop, BLOCK):
        n = min(BLOCK, stop - i0)
        block(s, first_event + i0, key, grid, inc, ninc, params, conjugate_fraction)
        store_process(s, i0, n, pid_template, nu_slot, -1, p, pid, fjac, q2_out)


# --- analytic rates ---------------------------------------------------------------------


def width_z_to_gamma_x(c2: float, m_z: float, m_x: float) -> float:
    """Γ(Z → γX) = |C|²(m_Z² − m_X²)³(m_Z² + m_X²)/(96π m_Z⁵ m_X²), physics.md Eq. 16."""
    if not 0.0 < m_x < m_z:
        return 0.0
    return c2 * (m_z**2 - m_x**2) ** 3 * (m_z**2 + m_x**2) / (96.0 * math.pi * m_z**5 * m_x**2)


def width_z_to_ee(g_z2: float, g_l: float, g_r: float, m: float) -> float:
    """Γ(Z → e⁺e⁻) of a Z of mass m: g_Z² m (g_L² + g_R²)/(24π) (physics.md §4.5)."""
    return g_z2 * m * (g_l * g_l + g_r * g_r) / (24.0 * math.pi)


def sigma_ee_to_gamma_x(
    s: float, c2: float, g_z2: float, g_l: float, g_r: float, m_z: float, width_z: float, m_x: float
) -> float:
    """σ(e⁺e⁻ → γX) in pb, physics.md Eq. 26: 12π Γ_ee(√s) Γ_γX(√s)/[(s − m_Z²)² + m_Z²Γ_Z²]."""
    m = math.sqrt(s)
    widths = width_z_to_ee(g_z2, g_l, g_r, m) * width_z_to_gamma_x(c2, m, m_x)
    return 12.0 * math.pi * widths / ((s - m_z**2) ** 2 + (m_z * width_z) ** 2) * GEV2_TO_PB


def _off_shell_x(rate_at: callable, params: np.ndarray, q2_max: float) -> float:  # type: ignore[valid-type]
    """∫ dq² rate(m_X² → q²) · q² Σg_ν²/(24π²) · |D_X(q²)|², → rate × BR_inv for a narrow X.

    Σg_ν² is carried in the coupling, so the factor per unit coupling is q²/(24π²).
    """
    m_x, width_x = params[I_M_X], params[I_WIDTH_X]
    if int(params[I_Q2_MODE]) == Q2_NARROW:
        return rate_at(m_x * m_x) * m_x / (24.0 * math.pi * width_x)

    def density(q2: np.ndarray) -> np.ndarray:
        values = np.array([rate_at(float(x)) for x in q2.ravel()]).reshape(q2.shape)
        return values * q2 / (24.0 * math.pi**2) * breit_wigner2(q2, m_x, width_x)

    return integrate_q2(density, 0.0, q2_max, peak=m_x * m_x, half_width=m_x * width_x)


_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(24)


def rate(params: np.ndarray) -> float:
    """What the generator integrates: BR(Z → γX)·BR_inv (Z), or σ(e⁺e⁻ → γX)·BR_inv in pb.

    Eq. 16 and Eq. 26 with the X Breit–Wigner integrated (→ × BR(X → νν̄) for a narrow X); the
    beam-energy spread by 24 × 24-point Gauss–Hermite quadrature over the two beam energies.
    """
    m_z, width_z = params[I_M_Z], params[I_WIDTH_Z]
    coupling2 = params[I_COUPLING2]
    if int(params[I_MODE]) == MODE_Z_DECAY:
        return _off_shell_x(
            lambda q2: width_z_to_gamma_x(coupling2, m_z, math.sqrt(q2)) / width_z,
            params,
            m_z * m_z,
        )
    g_l2, g_r2 = params[I_G_L2], params[I_G_R2]

    def sigma(s: float) -> float:
        # coupling2 = g_Z²|C|²Σg_ν²; Eq. 26 with g_Z² folded in (g_L, g_R enter squared)
        return _off_shell_x(
            lambda q2: sigma_ee_to_gamma_x(
                s, coupling2, 1.0, math.sqrt(g_l2), math.sqrt(g_r2), m_z, width_z, math.sqrt(q2)
            ),
            params,
            s,
        )

    e_beam, spread, m_e = 0.5 * params[I_SQRT_S], params[I_SPREAD], params[I_M_E]

    def s_of(e_minus: float, e_plus: float) -> float:
        p_minus = math.sqrt(e_minus**2 - m_e**2)
        p_plus = math.sqrt(e_plus**2 - m_e**2)
        return (e_minus + e_plus) ** 2 - (p_minus - p_plus) ** 2

    if spread == 0.0:
        return sigma(s_of(e_beam, e_beam))
    norm = np.sqrt(2.0 * np.pi)
    total = 0.0
    for x1, w1 in zip(_GH_NODES, _GH_WEIGHTS, strict=True):
        for x2, w2 in zip(_GH_NODES, _GH_WEIGHTS, strict=True):
            total += w1 * w2 * sigma(s_of(e_beam * (1 + spread * x1), e_beam * (1 + spread * x2)))
    return total / norm**2


def longitudinal_fraction(m_x: float, s: float) -> float:
    """f_L = 1/(1 + m_X²/s) of the X (physics.md Eq. 28, §5)."""
    return 1.0 / (1.0 + m_x * m_x / s)
