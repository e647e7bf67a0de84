"""B → K*(→ Kπ) X(→ νν̄) and the SM continuum B → K*(→ Kπ) νν̄ (physics.md §3.4, §4.4, §7).

Full chain, physics.md Eq. 22:

    |M|² = (|g_q g_ν|²/4) g²_K*Kπ |D_X(q²)|² |D_K*(k²)|² H_μ(Q) H_ν(Q)* L^{μν}

with the B̄ → K̄* current of §3.4 and the K* polarisation replaced by
Q = (p_K − p_π) − k (m_K² − m_π²)/k²:

    H^μ = V^μ − i A^μ,   V^μ = 2V/(m_B+m_V) ε^{μνρσ} Q_ν p_ρ k_σ,
    A^μ = (m_B+m_V) A1 Q^μ − A2/(m_B+m_V) (Q·q)(p+k)^μ        (q^μ terms drop out)

and the neutrino tensor Eq. 18 (ε^{0123} = −1), p₁ = p_ν, p₂ = p_ν̄:

    H_μH_ν* L^{μν} = 2 Σ_{W=V,A} [2(W·p₁)(W·p₂) − W²(p₁·p₂)] − 4 ε(V, A, p₁, p₂).

The named processes are B mesons (b̄: B⁰, B⁺); their |M|² is the CP image of the B̄
formula: the B̄ expression evaluated on parity-flipped momenta with the roles of ν and ν̄
exchanged (physics.md §1: for B swap H₊ ↔ H₋). A charge-conjugate event is the CP image
of a generated event (every PDG id flips and every 3-momentum reverses), so it has the same
weight and the VEGAS map serves both.

Narrow K* (default): g²|D_K*|² dk²/(2π) → g²/(2m_VΓ) δ(k² − m_V²) = 3π BR m_V/p*³ δ, so the
chain integrates to Γ(B → K*X)·BR(K* → Kπ)·BR(X → νν̄) (physics.md §4.4). K* Breit–Wigner:
constant width, g² = BR Γ 6π m_V²/p*(m_V)³, normalised with Eq. 22 as written.

VEGAS dimensions: [q²] (not in narrow-width mode), [k²] (K* Breit–Wigner only), cosθ_K,
cosθ_ν and χ' = φ_K + φ_ν (|M|² depends on the azimuths only through this sum). Flat
auxiliary uniforms: the K* direction in the B frame, φ_K, the ν flavour, the charge
conjugate, and the π⁰ → γγ decay (or nothing for K⁰ → K_S).
"""

from __future__ import annotations

import math

import numpy as np

from matrix_elements.form_factors import b_kstar as ffk
from matrix_elements.record import store_process
from matrix_elements.widths import breit_wigner2, integrate_q2
from phase_space._jit import batch_kernel, kernel, stage
from phase_space.block import (
    BLOCK,
    CONJUGATE,
    JACOBIAN,
    N_TMP,
    NU_PID,
    P_ROWS,
    Q2,
    TMP,
    VEGAS_X,
    WEIGHT,
    get,
    move,
    p_row,
    put,
    scratch,
    vegas_point,
)
from phase_space.kinematics import (
    TWO_PI,
    axes_from_direction,
    azimuth_cos_sin,
    decay_in_frame,
    dot,
    kallen,
    levi_civita,
    levi_civita_vector,
    two_body_decay,
    two_body_momentum,
)
from phase_space.maps import Q2_BREIT_WIGNER, Q2_FLAT, Q2_NARROW, resonance_map
from phase_space.random import STRIDE, uniform
from phase_space.simd_math import atan, sqrt, tan

# --- parameter array layout -------------------------------------------------------------
I_M_PARENT = 0  # m_B
I_M_KSTAR = 1  # nominal K* mass m_V
I_M_KAON = 2  # kaon from the K*
I_M_PION = 3  # pion from the K*
I_WIDTH_KSTAR = 4
I_M_X = 5
I_WIDTH_X = 6
I_COUPLING2 = 7  # |g_bs|² Σ g_νi² (X), N_ν|G_SM|² (SM)
I_TO_BR = 8  # τ_B/ħ
I_BR_KPI = 9  # BR(K* → K π mode) (× ½ for K⁰ → K_S)
I_Q2_MODE = 10  # Q2_FLAT (SM), Q2_BREIT_WIGNER, Q2_NARROW
I_KSTAR_BW = 11  # 0: narrow K*, 1: constant-width Breit–Wigner
I_Q2_MIN = 12
I_Q2_MAX = 13
I_T_MIN = 14  # X Breit–Wigner angle range
I_T_MAX = 15
I_HAS_X = 16
I_DAUGHTER_DECAY = 17  # DECAY_NONE, DECAY_PI0_GAMMA_GAMMA, DECAY_K0_SHORT
I_NU_CUM_E = 18
I_NU_CUM_MU = 19
I_NORM = 20  # τ/ħ /(2m_B) /(4π m_B) /(8π) /(2π) /4
I_Q2_JAC = 21  # (dq²/du)|D_X|² (or dq²/du for the SM)
I_KSTAR_FACTOR = 22  # narrow: 3 BR/(4p*²); BW: g²_K*Kπ (Eq. 22)
I_K2_MIN = 23  # (m_K + m_π)²
I_FF = 24
N_PARAMS = I_FF + ffk.SIZE

DECAY_NONE = 0
DECAY_PI0_GAMMA_GAMMA = 1
DECAY_K0_SHORT = 2

AUX_COS_KSTAR = 0
AUX_PHI_KSTAR = 1
AUX_PHI_KAON = 2
AUX_FLAVOUR = 3
AUX_CONJUGATE = 4
AUX_DAUGHTER_DECAY = 5  # two uniforms (π⁰ → γγ)



def n_dim(params: np.ndarray) -> int:
    """cosθ_K, cosθ_ν, χ', plus q² (unless narrow X) and k² (K* Breit–Wigner)."""
    return 3 + int(int(params[I_Q2_MODE]) != Q2_NARROW) + int(params[I_KSTAR_BW])


def make_params(
    *,
    m_parent: float,
    m_kstar: float,
    m_kaon: float,
    m_pion: float,
    width_kstar: float,
    br_kpi: float,
    lifetime_over_hbar: float,
    coupling2: float,
    daughter_decay: int = DECAY_NONE,
    kstar_breit_wigner: bool = False,
    m_x: float | None = None,
    width_x: float | None = None,
    narrow_width: bool = False,
    flavour_fractions: tuple[float, float, float] = (1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0),
) -> np.ndarray:
    """Pack the parameter array of this family (masses and widths in GeV).

    ``m_x is None`` selects the SM continuum. The q² range ends at (m_B − m_V)² for a narrow
    K* and at (m_B − m_K − m_π)² with the K* Breit–Wigner.
    """
    params = np.zeros(N_PARAMS)
    params[I_M_PARENT] = m_parent
    params[I_M_KSTAR] = m_kstar
    params[I_M_KAON] = m_kaon
    params[I_M_PION] = m_pion
    params[I_WIDTH_KSTAR] = width_kstar
    params[I_COUPLING2] = coupling2
    params[I_TO_BR] = lifetime_over_hbar
    params[I_BR_KPI] = br_kpi
    params[I_KSTAR_BW] = 1.0 if kstar_breit_wigner else 0.0
    params[I_DAUGHTER_DECAY] = daughter_decay
    params[I_NU_CUM_E] = flavour_fractions[0]
    params[I_NU_CUM_MU] = flavour_fractions[0] + flavour_fractions[1]
    params[I_K2_MIN] = (m_kaon + m_pion) ** 2
    params[I_FF : I_FF + ffk.SIZE] = ffk.BKstarFormFactors().to_array()
    # dBR/du = τ/ħ |M|²/(2m_B) dΦ₂(B→K*X) dq²/(2π) dk²/(2π) dΦ₂(K*→Kπ) dΦ₂(X→νν̄) per du,
    # dΦ₂ = p*/(4πM) du du; the 1/4 of |M|² = (|g g|²/4)... is included
    params[I_NORM] = (
        lifetime_over_hbar
        / (2.0 * m_parent)
        / (4.0 * math.pi * m_parent)
        / (8.0 * math.pi)
        / (2.0 * math.pi)
        / 4.0
    )
    p_star = two_body_momentum(m_kstar, m_kaon, m_pion)
    if kstar_breit_wigner:
        # g²_K*Kπ = BR · Γ_K* · 6π m_K*²/p*(m_K*)³ (physics.md §4.4)
        params[I_KSTAR_FACTOR] = br_kpi * width_kstar * 6.0 * math.pi * m_kstar**2 / p_star**3
        q2_max = (m_parent - m_kaon - m_pion) ** 2
    else:
        # g²|D_K*|²/(2π) → 3π BR m_V/p*³ δ(k² − m_V²), times dΦ₂(K*→Kπ) = p*/(4π m_V)
        params[I_KSTAR_FACTOR] = 3.0 * br_kpi / (4.0 * p_star**2)
        q2_max = (m_parent - m_kstar) ** 2
    params[I_Q2_MIN] = 0.0
    params[I_Q2_MAX] = q2_max
    if m_x is None:
        params[I_Q2_MODE] = Q2_FLAT
        params[I_Q2_JAC] = q2_max
        return params
    if width_x is None or width_x <= 0.0:
        raise ValueError(f"width_x must be positive for the X modes, got {width_x}")
    params[I_HAS_X] = 1.0
    params[I_M_X] = m_x
    params[I_WIDTH_X] = width_x
    # the X line shape: Breit–Wigner map or narrow width (physics.md §4.3, §4.6)
    params[I_Q2_MODE], params[I_T_MIN], params[I_T_MAX], params[I_Q2_JAC] = resonance_map(
        m_x, width_x, 0.0, q2_max, narrow_width
    )
    return params


@kernel
def _parity(v):
    return (v[0], -v[1], -v[2], -v[3])


@kernel
def contracted_current(p, p_kaon, p_pion, p1, p2, params):
    """H_μ(Q) H_ν(Q)* L^{μν} of Eq. 22 for B̄ → K̄*(→ Kπ) νν̄, p₁ = p_ν, p₂ = p_ν̄.

    4-tuples in GeV (any frame); form factors at q² = (p₁ + p₂)², nominal m_V in the
    (m_B + m_V) factors, the actual k = p_K + p_π in the kinematics (physics.md §4.4).
    """
    m_b = params[I_M_PARENT]
    m_v = params[I_M_KSTAR]
    m_kaon = params[I_M_KAON]
    m_pion = params[I_M_PION]
    k = (
        p_kaon[0] + p_pion[0],
        p_kaon[1] + p_pion[1],
        p_kaon[2] + p_pion[2],
        p_kaon[3] + p_pion[3],
    )
    k2 = dot(k, k)
    c = (m_kaon * m_kaon - m_pion * m_pion) / k2
    big_q = (
        p_kaon[0] - p_pion[0] - c * k[0],
        p_kaon[1] - p_pion[1] - c * k[1],
        p_kaon[2] - p_pion[2] - c * k[2],
        p_kaon[3] - p_pion[3] - c * k[3],
    )
    q = (p[0] - k[0], p[1] - k[1], p[2] - k[2], p[3] - k[3])
    q2 = dot(p1, p1) + dot(p2, p2) + 2.0 * dot(p1, p2)
    v_ff, a1_ff, a2_ff = ffk.v_a1_a2(q2, params, m_b, m_v, I_FF)
    cv = 2.0 * v_ff / (m_b + m_v)
    x = levi_civita_vector(big_q, p, k)
    vec = (cv * x[0], cv * x[1], cv * x[2], cv * x[3])
    c1 = (m_b + m_v) * a1_ff
    c2 = a2_ff / (m_b + m_v) * dot(big_q, q)
    ax = (
        c1 * big_q[0] - c2 * (p[0] + k[0]),
        c1 * big_q[1] - c2 * (p[1] + k[1]),
        c1 * big_q[2] - c2 * (p[2] + k[2]),
        c1 * big_q[3] - c2 * (p[3] + k[3]),
    )
    p12 = dot(p1, p2)
    symmetric = (
        2.0 * dot(vec, p1) * dot(vec, p2)
        - dot(vec, vec) * p12
        + 2.0 * dot(ax, p1) * dot(ax, p2)
        - dot(ax, ax) * p12
    )
    return 2.0 * symmetric - 4.0 * levi_civita(vec, ax, p1, p2)


@kernel
def _event(u_q2, u_k2, u_cos_kaon, u_cos_nu, u_chi, cos_kstar, u_phi_kstar, u_phi_kaon, params):
    """One point of the chain in the B rest frame; returns dBR/du, q², k² and momenta.

    The VEGAS dimensions u_q² (unused in narrow-width mode), u_k² (K* Breit–Wigner only),
    u_cosθ_K, u_cosθ_ν, u_χ'; the flat cosθ and φ of the K* and φ_K. Returns
    ``(dbr_du, q2, k2, p_b, p_kstar, p_x, p_nu, p_nubar, p_kaon, p_pion)``. Straight-line
    code on scalars: a loop over events that calls it vectorises.
    """
    m_b = params[I_M_PARENT]
    m_v = params[I_M_KSTAR]
    m_kaon = params[I_M_KAON]
    m_pion = params[I_M_PION]
    mode = int(params[I_Q2_MODE])
    if mode == Q2_NARROW:
        q2 = params[I_M_X] * params[I_M_X]
    elif mode == Q2_BREIT_WIGNER:
        m_x = params[I_M_X]
        t = params[I_T_MIN] + (params[I_T_MAX] - params[I_T_MIN]) * u_q2
        q2 = m_x * m_x + m_x * params[I_WIDTH_X] * tan(t)
    else:
        q2 = params[I_Q2_MIN] + (params[I_Q2_MAX] - params[I_Q2_MIN]) * u_q2
    m_q = sqrt(q2)

    kstar_factor = params[I_KSTAR_FACTOR]
    if params[I_KSTAR_BW] > 0.0:
        width = params[I_WIDTH_KSTAR]
        m_gamma = m_v * width
        k2_max = (m_b - m_q) ** 2
        t_lo = atan((params[I_K2_MIN] - m_v * m_v) / m_gamma)
        t_hi = atan((k2_max - m_v * m_v) / m_gamma)
        k2 = m_v * m_v + m_gamma * tan(t_lo + (t_hi - t_lo) * u_k2)
        m_k = sqrt(k2)
        p_kaon_star = two_body_momentum(m_k, m_kaon, m_pion)
        # g² (dk²/du)|D_K*|²/(2π) · dΦ₂(K*→Kπ)/(du du)
        kstar_factor = (
            kstar_factor * (t_hi - t_lo) / m_gamma / TWO_PI * p_kaon_star / (4.0 * math.pi * m_k)
        )
    else:
        k2 = m_v * m_v
        m_k = m_v

    p_star = two_body_momentum(m_b, m_k, m_q)
    # B → K* X* at rest: K* along (θ, φ) (flat), X* opposite
    sin2 = (1.0 - cos_kstar) * (1.0 + cos_kstar)
    sin_kstar = sqrt(sin2) if sin2 > 0.0 else 0.0
    cos_phi, sin_phi = azimuth_cos_sin(u_phi_kstar)
    e_x, e_y, e_z = axes_from_direction(cos_kstar, sin_kstar, cos_phi, sin_phi)
    e_kstar = sqrt(p_star * p_star + k2)
    p_b = (m_b, 0.0, 0.0, 0.0)
    p_kstar = (e_kstar, p_star * e_z[0], p_star * e_z[1], p_star * e_z[2])
    p_x = (m_b - e_kstar, -p_kstar[1], -p_kstar[2], -p_kstar[3])

    # K* → K π in the K* helicity frame; X* → νν̄ in the X helicity frame, whose axes are
    # (e_x, −e_y, −e_z): φ_K + φ_ν is rotation invariant, so φ_ν = χ' − φ_K
    cos_phi_k, sin_phi_k = azimuth_cos_sin(u_phi_kaon)
    p_kaon, p_pion = decay_in_frame(
        p_kstar,
        p_star,
        m_k,
        m_kaon,
        m_pion,
        (e_x, e_y, e_z),
        2.0 * u_cos_kaon - 1.0,
        cos_phi_k,
        sin_phi_k,
    )
    cos_chi, sin_chi = azimuth_cos_sin(u_chi)
    cos_phi_nu = cos_chi * cos_phi_k + sin_chi * sin_phi_k
    sin_phi_nu = sin_chi * cos_phi_k - cos_chi * sin_phi_k
    x_axes = (e_x, (-e_y[0], -e_y[1], -e_y[2]), (-e_z[0], -e_z[1], -e_z[2]))
    p_nu, p_nubar = decay_in_frame(
        p_x, p_star, m_q, 0.0, 0.0, x_axes, 2.0 * u_cos_nu - 1.0, cos_phi_nu, sin_phi_nu
    )

    # B (b̄) decay: the CP image of the B̄ formula (parity flip, ν ↔ ν̄)
    hhl = contracted_current(
        p_b, _parity(p_kaon), _parity(p_pion), _parity(p_nubar), _parity(p_nu), params
    )
    dbr_du = params[I_NORM] * params[I_COUPLING2] * params[I_Q2_JAC] * kstar_factor * hhl * p_star
    return dbr_du, q2, k2, p_b, p_kstar, p_x, p_nu, p_nubar, p_kaon, p_pion


@batch_kernel(events=0)
def integrand(u, params, out, start, stop):
    """dBR/du at points ``u[n, n_dim]`` (the VEGAS warm-up integrand; flat angles fixed)."""
    j = u.shape[1] - 3  # u_cosθ_K; u_q² and u_k² before it, as the modes have them
    k2_dim = j - 1 if params[I_KSTAR_BW] > 0.0 else 0
    for i in range(start, stop):
        out[i] = _event(u[i, 0], u[i, k2_dim], u[i, j], u[i, j + 1], u[i, j + 2], 0.3, 0.2, 0.1, params)[0]


U_ROWS = TMP + 27  # five scratch rows of the VEGAS dimensions, in _event's order
PION_REST = TMP + 16  # the π before the parity flip (the π⁰ → γγ decay starts from it)
assert U_ROWS + 5 <= TMP + N_TMP


@stage
def block(s, first, key, grid, inc, ninc, params, conjugate_fraction):
    """The events ``first .. first + BLOCK − 1`` of stream ``key`` into the scratch block ``s``
    (:mod:`phase_space.block`), what :func:`generate` computes: momenta in the B rest frame
    in the rows of slots B, K*, [X], ν, ν̄, K, π, [γ γ | K_S]; rows WEIGHT (dBR/du × VEGAS
    Jacobian), Q2, CONJUGATE, NU_PID. A charge-conjugate event is the CP image of the event
    generated (3-momenta reversed; the PDG ids flip in the record).
    """
    vegas_point(s, first, key, grid, inc, ninc)
    dim = ninc.shape[0]
    has_x = int(params[I_HAS_X])
    decay = int(params[I_DAUGHTER_DECAY])
    m_pion = params[I_M_PION]
    cum_e = params[I_NU_CUM_E]
    cum_mu = params[I_NU_CUM_MU]
    # the VEGAS dimensions into constant rows (block.move): u_q², u_k², u_cosθ_K, u_cosθ_ν, u_χ'
    j = dim - 3
    move(s, VEGAS_X + j, U_ROWS + 2, 3)
    move(s, VEGAS_X, U_ROWS, 1)
    if params[I_KSTAR_BW] > 0.0:
        move(s, VEGAS_X + j - 1, U_ROWS + 1, 1)
    for lane in range(BLOCK):
        aux = np.uint64(first + lane) * np.uint64(STRIDE) + np.uint64(dim)
        dbr_du, q2, _, p_b, p_kstar, p_x, p_nu, p_nubar, p_kaon, p_pion = _event(
            s[U_ROWS, lane],
            s[U_ROWS + 1, lane],
            s[U_ROWS + 2, lane],
            s[U_ROWS + 3, lane],
            s[U_ROWS + 4, lane],
            2.0 * uniform(key, aux + np.uint64(AUX_COS_KSTAR)) - 1.0,
            uniform(key, aux + np.uint64(AUX_PHI_KSTAR)),
            uniform(key, aux + np.uint64(AUX_PHI_KAON)),
            params,
        )
        s[WEIGHT, lane] = dbr_du * s[JACOBIAN, lane]
        s[Q2, lane] = q2
        conjugate = uniform(key, aux + np.uint64(AUX_CONJUGATE)) < conjugate_fraction
        s[CONJUGATE, lane] = 1.0 if conjugate else 0.0
        parity = -1.0 if conjugate else 1.0
        put(s, 0, P_ROWS, lane, _flip(p_b, parity))
        put(s, 1, P_ROWS, lane, _flip(p_kstar, parity))
        put(s, 2, P_ROWS, lane, _flip(p_x, parity))
        put(s, 0, TMP, lane, _flip(p_nu, parity))
        put(s, 1, TMP, lane, _flip(p_nubar, parity))
        put(s, 2, TMP, lane, _flip(p_kaon, parity))
        put(s, 3, TMP, lane, _flip(p_pion, parity))
        put(s, 0, PION_REST, lane, p_pion)
        r_flavour = uniform(key, aux + np.uint64(AUX_FLAVOUR))
        s[NU_PID, lane] = 12.0 if r_flavour < cum_e else (14.0 if r_flavour < cum_mu else 16.0)
    s_nu = 2 + has_x
    move(s, TMP, p_row(s_nu, 0), 16)  # ν, ν̄, K, π
    s_extra = s_nu + 4
    if decay == DECAY_PI0_GAMMA_GAMMA:
        for lane in range(BLOCK):
            aux = np.uint64(first + lane) * np.uint64(STRIDE) + np.uint64(dim)
            cos_g = 2.0 * uniform(key, aux + np.uint64(AUX_DAUGHTER_DECAY)) - 1.0
            u_phi_g = uniform(key, aux + np.uint64(AUX_DAUGHTER_DECAY + 1))
            g1, g2 = two_body_decay(get(s, 0, PION_REST, lane), m_pion, 0.0, 0.0, cos_g, u_phi_g)
            parity = 1.0 - 2.0 * s[CONJUGATE, lane]
            put(s, 0, TMP, lane, _flip(g1, parity))
            put(s, 1, TMP, lane, _flip(g2, parity))
        move(s, TMP, p_row(s_extra, 0), 8)
    elif decay == DECAY_K0_SHORT:
        move(s, p_row(s_nu + 2, 0), p_row(s_extra, 0), 4)  # K⁰ → K_S (1 → 1)


@kernel
def _flip(v, parity):
    return (v[0], parity * v[1], parity * v[2], parity * v[3])


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
    """Generate events ``first_event ..`` of stream ``key`` with the frozen VEGAS map.

    Same contract as ``p_to_pprime.generate``: ``p[4, n, k]`` momenta in the B rest frame,
    ``pid[n, k]``, ``fjac[n]`` = dBR/du × Jacobian, ``q2_out[n]``. Record slots: B, K*, [X],
    ν, ν̄, K, π, then γ γ (π⁰ decay) or K_S (K⁰ → K_S).
    """
    s = scratch()
    nu_slot = 2 + int(params[I_HAS_X])
    for i0 in range(start, stop, BLOCK):
        n = min(BLOCK, stop - i0)
        block(s, first_event + i0, key, grid, inc, ninc, params, conjugate_fraction)
        store_process(s, i0, n, pid_template, nu_slot, -1, p, pid, fjac, q2_out)


# --- analytic rates ---------------------------------------------------------------------


@kernel
def helicity_sums(q2, k2, params):
    """(Σ_λ|H_λ|², |H₀|²) at q² for a K* of mass² k², physics.md Eq. 15 (B̄ → K̄*).

    For an off-shell K* the amplitudes use √k² wherever the K* mass enters kinematics and the
    nominal m_V in the (m_B + m_V) factors and the A2–A12 relation (physics.md §4.4):
    H± = (m_B+m_V)A1 ∓ λ^{1/2}V/(m_B+m_V),
    H₀ = [(m_B²−k²−q²)(m_B+m_V)²A1 − λA2]/(2√k²(m_B+m_V)√q²), λ = λ(m_B², k², q²);
    at k² = m_V² this is H₀ = 8 m_B m_V A12/√q².
    """
    m_b = params[I_M_PARENT]
    m_v = params[I_M_KSTAR]
    v, a1, a2 = ffk.v_a1_a2(q2, params, m_b, m_v, I_FF)
    lam = max(kallen(m_b * m_b, k2, q2), 0.0)
    h_plus = (m_b + m_v) * a1 - sqrt(lam) * v / (m_b + m_v)
    h_minus = (m_b + m_v) * a1 + sqrt(lam) * v / (m_b + m_v)
    h_zero = ((m_b * m_b - k2 - q2) * (m_b + m_v) ** 2 * a1 - lam * a2) / (
        2.0 * sqrt(k2) * (m_b + m_v) * sqrt(q2)
    )
    return h_plus * h_plus + h_zero * h_zero + h_minus * h_minus, h_zero * h_zero


@kernel
def _dgamma_dq2_kernel(q2, k2, params, longitudinal):
    """λ^{1/2} q² Σ|H_λ|² coupling2/(1536π³ m_B³) (|H₀|² only if ``longitudinal``)."""
    m_b = params[I_M_PARENT]
    lam = kallen(m_b * m_b, k2, q2)
    if lam <= 0.0 or q2 <= 0.0:
        return 0.0
    total, zero = helicity_sums(q2, k2, params)
    h2 = zero if longitudinal else total
    return params[I_COUPLING2] * sqrt(lam) * q2 * h2 / (1536.0 * math.pi**3 * m_b**3)


@kernel
def _dgamma_dq2_array(q2, k2, params, longitudinal, out):
    for i in range(q2.shape[0]):
        out[i] = _dgamma_dq2_kernel(q2[i], k2, params, longitudinal)


@kernel
def _kstar_line_shape_array(k2, params, out):
    """g²|D_K*(k²)|² p*(k²)³/(6π² √k²): → BR(K* → Kπ) δ(k² − m_V²) for a narrow K*."""
    m_v = params[I_M_KSTAR]
    width = params[I_WIDTH_KSTAR]
    for i in range(k2.shape[0]):
        m_k = sqrt(k2[i])
        p_k = two_body_momentum(m_k, params[I_M_KAON], params[I_M_PION])
        bw = 1.0 / ((k2[i] - m_v * m_v) ** 2 + (m_v * width) ** 2)
        out[i] = params[I_KSTAR_FACTOR] * bw * p_k**3 / (6.0 * math.pi**2 * m_k)


def helicity_sum(q2: float, params: np.ndarray, k2: float | None = None) -> tuple[float, float]:
    """(Σ_λ|H_λ|², |H₀|²) at q² (nominal K* mass unless ``k2`` is given)."""
    m_v = params[I_M_KSTAR]
    return helicity_sums(q2, m_v * m_v if k2 is None else k2, params)


def f_l(q2: float, params: np.ndarray) -> float:
    """Longitudinal K* fraction F_L = |H₀|²/Σ|H_λ|² at q² (physics.md Eq. 15)."""
    total, zero = helicity_sum(q2, params)
    return zero / total


def _dgamma_dq2_narrow_kstar(
    q2: np.ndarray, params: np.ndarray, k2: float | None = None, longitudinal: bool = False
) -> np.ndarray:
    """dΓ/dq² for a K* of mass² k² without BR(K*→Kπ) and |D_X|² (Eq. 14 shape, Eq. 31)."""
    q2 = np.ascontiguousarray(q2, dtype=np.float64)
    out = np.empty(q2.size)
    k2 = params[I_M_KSTAR] ** 2 if k2 is None else k2
    _dgamma_dq2_array(q2.ravel(), float(k2), params, longitudinal, out)
    return out.reshape(q2.shape)


def rate_narrow(params: np.ndarray) -> float:
    """Γ(B → K*X)·BR(K* → Kπ)·BR(X → νν̄)·τ/ħ: physics.md Eq. 14 × isospin BR × Eq. 10/Γ_X."""
    m_b, m_v, m_x = params[I_M_PARENT], params[I_M_KSTAR], params[I_M_X]
    lam = m_b**4 + m_v**4 + m_x**4 - 2 * (m_b**2 * m_v**2 + m_b**2 * m_x**2 + m_v**2 * m_x**2)
    # Eq. 14 with |g_bs|² Σ g_ν² packed, × Γ_inv/Γ_X = m_X/(24πΓ_X) per unit g_ν²
    gamma = (
        params[I_COUPLING2]
        * math.sqrt(lam)
        * helicity_sum(m_x * m_x, params)[0]
        / (64.0 * math.pi * m_b**3)
        * m_x
        / (24.0 * math.pi * params[I_WIDTH_X])
    )
    return params[I_TO_BR] * params[I_BR_KPI] * gamma


def _rate_narrow_kstar(params: np.ndarray) -> float:
    mode = int(params[I_Q2_MODE])
    if mode == Q2_NARROW:
        return rate_narrow(params)
    scale = params[I_TO_BR] * params[I_BR_KPI]
    if mode == Q2_FLAT:
        return scale * integrate_q2(
            lambda q2: _dgamma_dq2_narrow_kstar(q2, params), params[I_Q2_MIN], params[I_Q2_MAX]
        )
    m_x, width = params[I_M_X], params[I_WIDTH_X]
    return scale * integrate_q2(
        lambda q2: _dgamma_dq2_narrow_kstar(q2, params) * breit_wigner2(q2, m_x, width),
        params[I_Q2_MIN],
        params[I_Q2_MAX],
        peak=m_x * m_x,
        half_width=m_x * width,
    )


def _rate_kstar_breit_wigner(params: np.ndarray) -> float:
    """∫dq² ∫dk² of Eq. 22 integrated over the decay angles (constant-width K*).

    d²Γ/dq²dk² = [dΓ/dq² at K* mass √k²] × g² |D_K*(k²)|² p*(k²)³/(6π² √k²), which tends to
    BR(K* → Kπ) × dΓ/dq² for a narrow K*.
    """
    m_b, m_v = params[I_M_PARENT], params[I_M_KSTAR]
    width_k = params[I_WIDTH_KSTAR]
    mode = int(params[I_Q2_MODE])

    def line_shape(k2: np.ndarray) -> np.ndarray:
        k2 = np.ascontiguousarray(k2, dtype=np.float64)
        out = np.empty(k2.size)
        _kstar_line_shape_array(k2.ravel(), params, out)
        return out.reshape(k2.shape)

    def inner(q2: float) -> float:
        def dk2(k2: np.ndarray) -> np.ndarray:
            density = np.array(
                [_dgamma_dq2_kernel(q2, float(x), params, False) for x in k2.ravel()]
            )
            return density.reshape(k2.shape) * line_shape(k2)

        k2_max = (m_b - math.sqrt(q2)) ** 2
        return integrate_q2(dk2, params[I_K2_MIN], k2_max, peak=m_v * m_v, half_width=m_v * width_k)

    if mode == Q2_NARROW:
        # |D_X|² → π/(m_XΓ_X) δ(q² − m_X²): the inner integral at the pole
        m_x = params[I_M_X]
        return params[I_TO_BR] * inner(m_x * m_x) * math.pi / (m_x * params[I_WIDTH_X])

    def outer(q2: np.ndarray) -> np.ndarray:
        values = np.array([inner(float(x)) for x in q2.ravel()]).reshape(q2.shape)
        if mode == Q2_FLAT:
            return values
        return values * breit_wigner2(q2, params[I_M_X], params[I_WIDTH_X])

    kwargs = {}
    if mode == Q2_BREIT_WIGNER:
        kwargs = {"peak": params[I_M_X] ** 2, "half_width": params[I_M_X] * params[I_WIDTH_X]}
    return params[I_TO_BR] * integrate_q2(outer, params[I_Q2_MIN], params[I_Q2_MAX], **kwargs)


def rate(params: np.ndarray) -> float:
    """The branching ratio the generator integrates (BR(K* → Kπ mode) and BR_inv included).

    Narrow K*: Eq. 14 × BR × Eq. 21 for a narrow X, ∫Eq. 14-shaped dΓ/dq² with the X
    Breit–Wigner otherwise, ∫Eq. 31 for the SM; K* Breit–Wigner: the double integral of
    Eq. 22 over q² and k² (physics.md §4.4: ±3 % from the narrow K* at the physical width).
    """
    if params[I_KSTAR_BW] > 0.0:
        return _rate_kstar_breit_wigner(params)
    return _rate_narrow_kstar(params)


def mean_f_l(params: np.ndarray) -> float:
    """Rate-weighted ⟨F_L⟩ of the SM continuum over its q² range (physics.md §7 table)."""
    lo, hi = params[I_Q2_MIN], params[I_Q2_MAX]
    longitudinal = integrate_q2(
        lambda q: _dgamma_dq2_narrow_kstar(q, params, longitudinal=True), lo, hi
    )
    return longitudinal / integrate_q2(lambda q: _dgamma_dq2_narrow_kstar(q, params), lo, hi)


def dbr_dq2(q2: np.ndarray, params: np.ndarray) -> np.ndarray:
    """dBR/dq² for a narrow K* (Eq. 31 shape; × |D_X|² for the X modes), BR(K*→Kπ) included."""
    q2 = np.asarray(q2, dtype=np.float64)
    out = _dgamma_dq2_narrow_kstar(q2, params)
    if int(params[I_HAS_X]) == 1:
        out = out * breit_wigner2(q2, params[I_M_X], params[I_WIDTH_X])
    return params[I_TO_BR] * params[I_BR_KPI] * out
