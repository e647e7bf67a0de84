"""P → P′ X(→ νν̄) and the SM continuum P → P′ νν̄ (K⁺→π⁺, K_L→π⁰, B⁺→K⁺, B⁰→K⁰).

Full-chain matrix element of physics.md §4.2 (Eq. 19) with the X Breit–Wigner,

    |M|² = |g_q|² Σ_i g_νi² |D_X(q²)|² f₊(q²)² [(P·p_ν)(P·p_ν̄) − P² q²/4],   P = p + k,

and, for the SM continuum, g_q g_ν D_X → G_SM (physics.md §4.1, §7). The decay rate is

    dΓ = |M|²/(2 m_P) dΦ₂(P → P′ X*) dq²/(2π) dΦ₂(X* → νν̄),   BR = Γ τ_P/ħ,

so the integrand returned here integrates to the branching ratio (design.md §5).

VEGAS dimensions are the variables |M|² depends on: [q²] (absent in narrow-width mode) and
cosθ_ν of the neutrino in the X helicity frame. The angles it does not depend on — the P′
direction (the parent is unpolarised and at rest) and φ_ν — are drawn flat from auxiliary
uniforms, as are the neutrino flavour, the charge conjugate and the π⁰ → γγ or K⁰ → K_S/K_L
step: a VEGAS map would stay the identity there, and leaving them out makes the map
cheaper and the adaptation sharper.

Momenta are produced in the parent rest frame, parent along no axis (at rest).
"""

from __future__ import annotations

import math

import numpy as np

from matrix_elements.form_factors import FF_K_TO_PI, FF_SIZE
from matrix_elements.form_factors import b_k as ff_b_k
from matrix_elements.form_factors import k_pi as ff_k_pi
from matrix_elements.record import store_process
from matrix_elements.widths import (
    breit_wigner2,
    dwidth_dq2_p_to_pprime_nunu,
    integrate_q2,
    width_p_to_pprime_x,
)
from phase_space._jit import batch_kernel, kernel, stage
from phase_space.block import (
    BLOCK,
    CHOICE_PID,
    CONJUGATE,
    JACOBIAN,
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
    axes_from_direction,
    azimuth_cos_sin,
    decay_in_frame,
    dot,
    two_body_decay,
    two_body_momentum,
)
from phase_space.maps import (
    Q2_BREIT_WIGNER,
    Q2_FLAT,
    Q2_NARROW,
    breit_wigner_q2,
    resonance_map,
)
from phase_space.random import STRIDE, uniform
from phase_space.simd_math import sqrt

# --- parameter array layout -------------------------------------------------------------
I_M_PARENT = 0  # m_P [GeV]
I_M_DAUGHTER = 1  # m_P′ [GeV]
I_M_X = 2  # X pole mass [GeV]
I_WIDTH_X = 3  # Γ_X [GeV]
I_COUPLING2 = 4  # |g_q|² Σ g_νi² (X), or N_ν|G_SM|²·(normalisation) (SM)
I_TO_BR = 5  # τ_P/ħ [GeV⁻¹]: width → branching ratio
I_Q2_MODE = 6  # Q2_FLAT (SM), Q2_BREIT_WIGNER, Q2_NARROW
I_Q2_MIN = 7
I_Q2_MAX = 8
I_T_MIN = 9  # Breit–Wigner angle range (physics.md §4.6)
I_T_MAX = 10
I_HAS_X = 11  # 1: X is a record entry (status 2); 0: SM continuum
I_DAUGHTER_DECAY = 12  # DECAY_NONE, DECAY_PI0_GAMMA_GAMMA, DECAY_K0_MIXING
I_NU_CUM_E = 13  # cumulative flavour probabilities
I_NU_CUM_MU = 14
I_FF_KIND = 15  # FF_K_TO_PI or FF_B_TO_K
I_NORM = 16  # τ/ħ /(2m_P) /(4π m_P) /(8π) /(2π): constant factors of dBR/du
I_Q2_JAC = 17  # Jacobian of the q² map (× |D_X|²): see make_params
I_FF = 18  # packed f₊ block (FF_SIZE entries)
N_PARAMS = I_FF + FF_SIZE

DECAY_NONE = 0
DECAY_PI0_GAMMA_GAMMA = 1
DECAY_K0_MIXING = 2

PID_NU = (12, 14, 16)
PID_K_SHORT = 310
PID_K_LONG = 130


def n_dim(params: np.ndarray) -> int:
    """VEGAS dimension: cosθ_ν, plus q² unless in narrow-width mode."""
    return 1 if int(params[I_Q2_MODE]) == Q2_NARROW else 2


def n_slots(params: np.ndarray) -> int:
    """Particles per event: P, P′, [X], ν, ν̄, [γ γ | K_S/K_L]."""
    decay = int(params[I_DAUGHTER_DECAY])
    extra = 2 if decay == DECAY_PI0_GAMMA_GAMMA else (1 if decay == DECAY_K0_MIXING else 0)
    return 4 + int(params[I_HAS_X]) + extra


def make_params(
    *,
    m_parent: float,
    m_daughter: float,
    lifetime_over_hbar: float,
    coupling2: float,
    form_factor: np.ndarray,
    ff_kind: int,
    daughter_decay: int = DECAY_NONE,
    m_x: float | None = None,
    width_x: float | None = None,
    narrow_width: bool = False,
    flavour_fractions: tuple[float, float, float] = (1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0),
) -> np.ndarray:
    """Pack the parameter array of this family.

    ``m_x is None`` selects the SM continuum (flat q² map, no X in the record); otherwise
    q² follows the X Breit–Wigner (or is fixed to m_X² with ``narrow_width``). Masses and
    widths in GeV, ``lifetime_over_hbar`` = τ_P/ħ in GeV⁻¹.
    """
    params = np.zeros(N_PARAMS)
    params[I_M_PARENT] = m_parent
    params[I_M_DAUGHTER] = m_daughter
    params[I_TO_BR] = lifetime_over_hbar
    params[I_COUPLING2] = coupling2
    params[I_FF_KIND] = ff_kind
    params[I_FF : I_FF + FF_SIZE] = form_factor
    params[I_DAUGHTER_DECAY] = daughter_decay
    params[I_NU_CUM_E] = flavour_fractions[0]
    params[I_NU_CUM_MU] = flavour_fractions[0] + flavour_fractions[1]
    q2_max = (m_parent - m_daughter) ** 2
    params[I_Q2_MIN] = 0.0
    params[I_Q2_MAX] = q2_max
    # dBR/du = τ/ħ |M|²/(2m_P) · dΦ₂(P → P′X*)/du² · (dq²/du)/(2π) · dΦ₂(X* → νν̄)/du², with
    # dΦ₂ = p*/(4πM) dΩ/(4π) = p*/(4πM) du du (cosθ = 2u − 1, φ = 2πu), 1/(8π) for νν̄
    params[I_NORM] = (
        lifetime_over_hbar
        / (2.0 * m_parent)
        / (4.0 * math.pi * m_parent)
        / (8.0 * math.pi)
        / (2.0 * math.pi)
    )
    if m_x is None:
        params[I_Q2_MODE] = Q2_FLAT
        params[I_HAS_X] = 0
        params[I_Q2_JAC] = q2_max  # flat q²
        return params
    if width_x is None or width_x <= 0.0:
        raise ValueError(f"width_x must be positive for the X modes, got {width_x}")
    params[I_M_X] = m_x
    params[I_WIDTH_X] = width_x
    params[I_HAS_X] = 1
    # the X line shape: Breit–Wigner map or narrow width (physics.md §4.3, §4.6)
    params[I_Q2_MODE], params[I_T_MIN], params[I_T_MAX], params[I_Q2_JAC] = resonance_map(
        m_x, width_x, 0.0, q2_max, narrow_width
    )
    return params


@kernel
def f_plus(q2, params):
    """f₊(q²) of the family's form factor (physics.md §6.1 or §6.2)."""
    if int(params[I_FF_KIND]) == FF_K_TO_PI:
        return ff_k_pi.f_plus(q2, params, I_FF)
    return ff_b_k.bsz(q2, params, I_FF)


@kernel
def _event(u_q2, u_cos_nu, cos_daughter, u_phi_daughter, u_phi_nu, params):
    """One phase-space point: momenta in the parent frame and dBR/du.

    ``u_q2`` and ``u_cos_nu`` are the VEGAS dimensions (``u_q2`` unused in narrow-width
    mode); ``cos_daughter`` is cosθ of P′ in the parent frame, ``u_phi_daughter`` and
    ``u_phi_nu`` give φ = 2πu of P′ and of the ν (X helicity frame). dBR/du includes the
    Jacobians of all five variables. Returns ``(dbr_du, q2, p_parent, p_daughter, p_x, p_nu,
    p_nubar)``; 4-tuples in GeV. Straight-line code on scalars: a loop over events that
    calls it vectorises (:mod:`phase_space.block`).
    """
    m_parent = params[I_M_PARENT]
    m_daughter = params[I_M_DAUGHTER]
    mode = int(params[I_Q2_MODE])
    if mode == Q2_NARROW:
        q2 = params[I_M_X] * params[I_M_X]
    elif mode == Q2_BREIT_WIGNER:
        m_x = params[I_M_X]
        q2 = breit_wigner_q2(
            u_q2, m_x * m_x, m_x * params[I_WIDTH_X], params[I_T_MIN], params[I_T_MAX]
        )[0]
    else:
        q2 = params[I_Q2_MIN] + (params[I_Q2_MAX] - params[I_Q2_MIN]) * u_q2
    m_star = sqrt(q2)
    p_star = two_body_momentum(m_parent, m_daughter, m_star)

    # P → P′X* at rest: P′ along n = (θ, φ); X* opposite
    cos1 = cos_daughter
    sin1_2 = (1.0 - cos1) * (1.0 + cos1)
    sin1 = sqrt(sin1_2) if sin1_2 > 0.0 else 0.0
    cos_phi1, sin_phi1 = azimuth_cos_sin(u_phi_daughter)
    e_x, e_y, e_z = axes_from_direction(cos1, sin1, cos_phi1, sin_phi1)
    e_daughter = sqrt(p_star * p_star + m_daughter * m_daughter)
    p_parent = (m_parent, 0.0, 0.0, 0.0)
    p_daughter = (e_daughter, p_star * e_z[0], p_star * e_z[1], p_star * e_z[2])
    p_x = (m_parent - e_daughter, -p_daughter[1], -p_daughter[2], -p_daughter[3])

    # X* → νν̄ in the X helicity frame: axes (e_x, −e_y, −e_z) (rotation by π about e_x)
    x_axes = (e_x, (-e_y[0], -e_y[1], -e_y[2]), (-e_z[0], -e_z[1], -e_z[2]))
    cos_phi2, sin_phi2 = azimuth_cos_sin(u_phi_nu)
    p_nu, p_nubar = decay_in_frame(
        p_x, p_star, m_star, 0.0, 0.0, x_axes, 2.0 * u_cos_nu - 1.0, cos_phi2, sin_phi2
    )

    # physics.md Eq. 19: T = (P·p_ν)(P·p_ν̄) − P²q²/4 with P = p + k
    p_sum = (
        p_parent[0] + p_daughter[0],
        p_parent[1] + p_daughter[1],
        p_parent[2] + p_daughter[2],
        p_parent[3] + p_daughter[3],
    )
    tensor = dot(p_sum, p_nu) * dot(p_sum, p_nubar) - 0.25 * dot(p_sum, p_sum) * q2
    ff = f_plus(q2, params)
    # |M|² = coupling2 · f₊² T; the constant factors and the q² Jacobian are in the params
    dbr_du = params[I_NORM] * params[I_COUPLING2] * params[I_Q2_JAC] * ff * ff * tensor * p_star
    return dbr_du, q2, p_parent, p_daughter, p_x, p_nu, p_nubar


@batch_kernel(events=0)
def integrand(u, params, out, start, stop):
    """dBR/du at points ``u[n, n_dim]`` into ``out[n]`` (the VEGAS warm-up integrand).

    dBR/du does not depend on the flat angles, which are set to arbitrary values here.
    """
    last = u.shape[1] - 1  # u_cosθ_ν; u_q² before it unless in narrow-width mode
    for i in range(start, stop):
        out[i] = _event(u[i, 0], u[i, last], 0.5, 0.25, 0.25, params)[0]


# auxiliary uniforms, after the VEGAS dimensions of an event (flat, not mapped)
AUX_COS_DAUGHTER = 0
AUX_PHI_DAUGHTER = 1
AUX_PHI_NU = 2
AUX_FLAVOUR = 3
AUX_CONJUGATE = 4
AUX_DAUGHTER_DECAY = 5  # two uniforms: π⁰ → γγ angles, or K_S/K_L choice


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
    """Generate events ``first_event ..`` of stream ``key`` with the frozen VEGAS map
    (:func:`block` per block of events, copied into the batch arrays).

    Parameters
    ----------
    key : uint64 stream key (phase_space.random.stream_key).
    first_event : index of the first event of this batch in the run.
    grid, inc, ninc : the frozen VEGAS map (phase_space.vegas_map.FrozenMap).
    params : family parameter array (make_params).
    pid_template : int32[2, k] PDG ids of the slots for the process (row 0) and its charge
        conjugate (row 1); the ν flavour and K_S/K_L are drawn per event.
    conjugate_fraction : probability of the charge-conjugate process (0, 1 or 0.5).
    p : out float64[4, n, k], momenta (E, px, py, pz) in GeV in the parent rest frame.
    pid : out int32[n, k].
    fjac : out float64[n], dBR/du × VEGAS Jacobian (weight × number of events).
    q2_out : out float64[n], q² = (p_ν + p_ν̄)² in GeV².
    """
    s = scratch()
    has_x = int(params[I_HAS_X])
    nu_slot = 2 + has_x
    choice_slot = 4 + has_x if int(params[I_DAUGHTER_DECAY]) == DECAY_K0_MIXING else -1
    for i0 in range(start, stop, BLOCK):
        n = min(BLOCK, stop - i0)
        block(s, first_event + i0, key, grid, inc, ninc, params, conjugate_fraction)
        store_process(s, i0, n, pid_template, nu_slot, choice_slot, p, pid, fjac, q2_out)


U_COS_NU = TMP + 8  # scratch row of u_cosθ_ν


@stage
def block(s, first, key, grid, inc, ninc, params, conjugate_fraction):
    """The events ``first .. first + BLOCK − 1`` of stream ``key`` into the scratch block ``s``
    (:mod:`phase_space.block`): what :func:`generate` computes, one row per quantity.

    Momenta in the parent rest frame go to the rows of their record slots (P, P′, [X], ν, ν̄,
    [γ γ | K_S/K_L]); rows WEIGHT (dBR/du × VEGAS Jacobian), Q2, CONJUGATE (1: the
    charge-conjugate event), NU_PID (12, 14 or 16) and, for K⁰ → K_S/K_L, CHOICE_PID are
    filled. The same uniforms as :func:`generate`, so the same events.
    """
    vegas_point(s, first, key, grid, inc, ninc)
    dim = ninc.shape[0]
    has_x = int(params[I_HAS_X])
    decay = int(params[I_DAUGHTER_DECAY])
    cum_e = params[I_NU_CUM_E]
    cum_mu = params[I_NU_CUM_MU]
    # u_cosθ_ν is the last VEGAS dimension: a constant row for the loop (see block.move)
    move(s, VEGAS_X + dim - 1, U_COS_NU, 1)
    for lane in range(BLOCK):
        aux = np.uint64(first + lane) * np.uint64(STRIDE) + np.uint64(dim)
        dbr_du, q2, p_parent, p_daughter, p_x, p_nu, p_nubar = _event(
            s[VEGAS_X, lane],
            s[U_COS_NU, lane],
            2.0 * uniform(key, aux + np.uint64(AUX_COS_DAUGHTER)) - 1.0,
            uniform(key, aux + np.uint64(AUX_PHI_DAUGHTER)),
            uniform(key, aux + np.uint64(AUX_PHI_NU)),
            params,
        )
        s[WEIGHT, lane] = dbr_du * s[JACOBIAN, lane]
        s[Q2, lane] = q2
        put(s, 0, P_ROWS, lane, p_parent)
        put(s, 1, P_ROWS, lane, p_daughter)
        put(s, 2, P_ROWS, lane, p_x)
        put(s, 0, TMP, lane, p_nu)
        put(s, 1, TMP, lane, p_nubar)
        conjugate = uniform(key, aux + np.uint64(AUX_CONJUGATE)) < conjugate_fraction
        s[CONJUGATE, lane] = 1.0 if conjugate else 0.0
        r_flavour = uniform(key, aux + np.uint64(AUX_FLAVOUR))
        s[NU_PID, lane] = 12.0 if r_flavour < cum_e else (14.0 if r_flavour < cum_mu else 16.0)
    s_nu = 2 + has_x  # ν, ν̄ after the X, or in its place for the SM continuum
    move(s, TMP, p_row(s_nu, 0), 8)
    s_extra = s_nu + 2
    if decay == DECAY_PI0_GAMMA_GAMMA:
        m_daughter = params[I_M_DAUGHTER]
        for lane in range(BLOCK):
            aux = np.uint64(first + lane) * np.uint64(STRIDE) + np.uint64(dim)
            cos_g = 2.0 * uniform(key, aux + np.uint64(AUX_DAUGHTER_DECAY)) - 1.0
            u_phi_g = uniform(key, aux + np.uint64(AUX_DAUGHTER_DECAY + 1))
            g1, g2 = two_body_decay(get(s, 1, P_ROWS, lane), m_daughter, 0.0, 0.0, cos_g, u_phi_g)
            put(s, 0, TMP, lane, g1)
            put(s, 1, TMP, lane, g2)
        move(s, TMP, p_row(s_extra, 0), 8)
    elif decay == DECAY_K0_MIXING:
        # K⁰ is a 50/50 superposition of K_S and K_L (physics.md §11); the 1 → 1 step keeps
        # the momentum, as Pythia and EvtGen record it
        move(s, p_row(1, 0), p_row(s_extra, 0), 4)
        for lane in range(BLOCK):
            aux = np.uint64(first + lane) * np.uint64(STRIDE) + np.uint64(dim)
            r_k = uniform(key, aux + np.uint64(AUX_DAUGHTER_DECAY))
            s[CHOICE_PID, lane] = float(PID_K_SHORT) if r_k < 0.5 else float(PID_K_LONG)


# --- analytic rates ---------------------------------------------------------------------


def rate_narrow(params: np.ndarray) -> float:
    """BR(P → P′X)·BR(X → νν̄) of physics.md Eq. 21 (= Eq. 12/13 × Γ_inv/Γ_X).

    With the packed coupling |g_q|² Σ g_νi², Eq. 12 × Σ_i Γ(X→ν_iν̄_i)/Γ_X reads
    Γ = |g_q|² Σg_νi² f₊² λ^{3/2}/(64π m_P³ m_X²) · m_X/(24π Γ_X).
    """
    if int(params[I_HAS_X]) == 0:
        raise ValueError("rate_narrow applies to the X modes only")
    m_x = params[I_M_X]
    width_inv_over_coupling = m_x / (24.0 * math.pi)
    gamma = width_p_to_pprime_x(
        params[I_COUPLING2],
        f_plus(m_x * m_x, params),
        params[I_M_PARENT],
        params[I_M_DAUGHTER],
        m_x,
    )
    return params[I_TO_BR] * gamma * width_inv_over_coupling / params[I_WIDTH_X]


def rate(params: np.ndarray) -> float:
    """The branching ratio the generator integrates, from the analytic dΓ/dq².

    X modes with a Breit–Wigner: ∫ Eq. 20 dq² over the kinematic range (→ Eq. 21 as
    Γ_X/m_X → 0, to −0.45 Γ_X/m_X); narrow width: Eq. 21; SM continuum: ∫ Eq. 20 with the
    constant SM coupling (= Eq. 30 for B → Kνν̄; Eq. 33 normalised to Eq. 32 for K → πνν̄).
    """
    mode = int(params[I_Q2_MODE])
    if mode == Q2_NARROW:
        return rate_narrow(params)
    m_parent, m_daughter = params[I_M_PARENT], params[I_M_DAUGHTER]
    coupling2 = params[I_COUPLING2]
    f_plus_vec = np.vectorize(lambda q2: f_plus(float(q2), params))

    if mode == Q2_FLAT:

        def dbr_dq2(q2: np.ndarray) -> np.ndarray:
            return params[I_TO_BR] * dwidth_dq2_p_to_pprime_nunu(
                q2, coupling2, f_plus_vec(q2), m_parent, m_daughter
            )

        return integrate_q2(dbr_dq2, params[I_Q2_MIN], params[I_Q2_MAX])

    m_x, width_x = params[I_M_X], params[I_WIDTH_X]

    def dbr_dq2_bw(q2: np.ndarray) -> np.ndarray:
        return params[I_TO_BR] * dwidth_dq2_p_to_pprime_nunu(
            q2, coupling2 * breit_wigner2(q2, m_x, width_x), f_plus_vec(q2), m_parent, m_daughter
        )

    return integrate_q2(
        dbr_dq2_bw, params[I_Q2_MIN], params[I_Q2_MAX], peak=m_x * m_x, half_width=m_x * width_x
    )


def dbr_dq2(q2: np.ndarray, params: np.ndarray) -> np.ndarray:
    """dBR/dq² of physics.md Eq. 20 (all flavours; X Breit–Wigner or SM constant coupling)."""
    q2 = np.asarray(q2, dtype=np.float64)
    coupling2 = params[I_COUPLING2]
    if int(params[I_HAS_X]) == 1:
        coupling2 = coupling2 * breit_wigner2(q2, params[I_M_X], params[I_WIDTH_X])
    ff = np.array([f_plus(float(x), params) for x in q2.ravel()]).reshape(q2.shape)
    return params[I_TO_BR] * dwidth_dq2_p_to_pprime_nunu(
        q2, coupling2, ff, params[I_M_PARENT], params[I_M_DAUGHTER]
    )
