"""Physical constants and Standard-Model inputs that are not PDG particle data.

Particle masses, widths and lifetimes come from the PDG table through ``gen.pdg`` (the
``particle`` package, PDG 2024); this module holds the remaining inputs of physics.md §1,
§7 and §9, each with its source. Values are plain floats: kernels receive them inside
parameter arrays, never as globals.
"""

from __future__ import annotations

import math

HBAR_GEV_S = 6.582119569e-25
"""ħ in GeV·s (physics.md §1; CODATA 2018)."""

HBARC_GEV_MM = 1.973269804e-13
"""ħc in GeV·mm: cτ [mm] = HBARC_GEV_MM / Γ [GeV]."""

GEV2_TO_PB = 3.893793721e8
"""1 GeV⁻² in pb (physics.md §1)."""

# --- electroweak and FCNC inputs: flavio 2.7.1 defaults (physics.md §7, §9) -------------
G_FERMI = 1.1663788e-5
"""G_F in GeV⁻² (PDG/CODATA; physics.md §9)."""

ALPHA_EM_MZ = 1.0 / 127.951
"""α(M_Z), MS-bar (physics.md §7: 1/127.951 = 0.00781549)."""

SIN2_THETA_EFF = 0.23153
"""sin²θ_eff^lept, for the Z–e couplings of e⁺e⁻ → Z* → γX (physics.md §4.5, §9)."""

SIN2_THETA_W_MSBAR = 0.23121
"""s_W² (MS-bar), used in C_L^SM = −X_t/s_W² (physics.md §7)."""

X_TOP = 1.462
"""Top loop function X_t (physics.md §7, flavio default)."""

# CKM products, standard parametrisation from flavio's "Tree" inputs (physics.md §7)
LAMBDA_T_BS = complex(-0.0411929, 0.0007458)
"""λ_t = V_tb V_ts* for b → s."""

LAMBDA_T_SD = complex(-3.26983e-4, 1.39359e-4)
"""λ_t = V_td V_ts* for s → d."""

LAMBDA_C_SD = complex(-0.218718, -1.39359e-4)
"""λ_c = V_cd V_cs* for s → d."""

V_US = 0.2248
"""|V_us| = λ of the Wolfenstein expansion (physics.md §7)."""

# K → π ν ν̄ (Mescia–Smith, arXiv:0705.2025; physics.md Eq. 32)
KAPPA_PLUS_0 = 5.173e-11
"""κ₊ at λ = 0.225; scales as (λ/0.225)⁸."""

KAPPA_L_0 = 2.231e-10
"""κ_L at λ = 0.225; scales as (λ/0.225)⁸."""

DELTA_EM = -0.003
"""QED correction Δ_EM to BR(K⁺ → π⁺νν̄)."""

DELTA_P_CU = 0.04
"""Long-distance charm-up correction δP_cu."""

M_CHARM = 1.273
"""m_c(m_c) in GeV, enters P_c."""

ALPHA_S_MZ = 0.1184
"""α_s(M_Z), enters P_c."""


def charm_contribution_pc(m_c: float = M_CHARM, alpha_s: float = ALPHA_S_MZ) -> float:
    """P_c = 0.379 (m_c/1.3)^2.155 (α_s/0.1187)^−1.417 (physics.md Eq. 32) = 0.36354."""
    return 0.379 * (m_c / 1.3) ** 2.155 * (alpha_s / 0.1187) ** -1.417


def g_sm_squared(lambda_t: complex) -> float:
    """|G_SM|² = |√2 G_F α λ_t C_L^SM/π|², C_L^SM = −X_t/s_W² (physics.md §4.1, §7)."""
    c_l = -X_TOP / SIN2_THETA_W_MSBAR
    return abs(math.sqrt(2.0) * G_FERMI * ALPHA_EM_MZ * lambda_t * c_l / math.pi) ** 2
