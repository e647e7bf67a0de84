"""Standard-Model P → P′νν̄ continua (physics.md §7).

The SM amplitude has the Lorentz structure of the X amplitude with g_q g_ν D_X(q²) replaced
by the constant G_SM = √2 G_F α λ_t C_L^SM/π (physics.md §4.1), so the generator runs the SM
continua through the same kernels with a flat q² map and this constant coupling.
"""

from __future__ import annotations

import math

from matrix_elements import constants as c


def coupling2_b_to_k() -> float:
    """N_ν |G_SM|² for b → s νν̄, summed over 3 flavours (physics.md Eq. 30 normalisation)."""
    return 3.0 * c.g_sm_squared(c.LAMBDA_T_BS)


def _k_amplitude(charged: bool) -> complex:
    """A of physics.md Eq. 33: λ_tX_t + λ_cλ⁴(P_c + δP_cu) (K⁺), i Im(λ_tX_t) (K_L)."""
    lam4 = c.V_US**4
    if charged:
        return c.LAMBDA_T_SD * c.X_TOP + c.LAMBDA_C_SD * lam4 * (
            c.charm_contribution_pc() + c.DELTA_P_CU
        )
    return 1j * (c.LAMBDA_T_SD * c.X_TOP).imag


def coupling2_k_to_pi(charged: bool) -> float:
    """N_ν-summed effective |G|² of the direct form-factor evaluation (physics.md Eq. 33).

    dΓ/dq² = G_F²α²|A|²/s_W⁴ · f₊²λ^{3/2}/(256π⁵m_K³) equals Eq. 20's
    C f₊²λ^{3/2}/(1536π³m_K³) with C = 6 G_F²α²|A|²/(π² s_W⁴).
    """
    amp2 = abs(_k_amplitude(charged)) ** 2
    return 6.0 * c.G_FERMI**2 * c.ALPHA_EM_MZ**2 * amp2 / (math.pi**2 * c.SIN2_THETA_W_MSBAR**2)


def br_k_pi_nunu(charged: bool) -> float:
    """BR(K → πνν̄) from K_ℓ3 data, physics.md Eq. 32 (Mescia–Smith, arXiv:0705.2025).

    BR(K⁺) = κ₊(1 + Δ_EM)|λ_tX_t + λ_cλ⁴(P_c + δP_cu)|²/λ¹⁰,
    BR(K_L) = κ_L (Im λ_tX_t)²/λ¹⁰, κ = κ₀ (λ/0.225)⁸, λ = |V_us|.
    """
    lam = c.V_US
    scale = (lam / 0.225) ** 8 / lam**10
    amp2 = abs(_k_amplitude(charged)) ** 2
    if charged:
        return c.KAPPA_PLUS_0 * scale * (1.0 + c.DELTA_EM) * amp2
    return c.KAPPA_L_0 * scale * amp2
