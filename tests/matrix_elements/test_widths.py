"""Analytic widths against the reference tables of physics.md §3, §4.3 and §12."""

from __future__ import annotations

import math

import pytest
from axgen_testing import (
    M_B_PLUS,
    M_B_ZERO,
    M_K_PLUS,
    M_K_ZERO,
    M_PI_PLUS,
    M_PI_ZERO,
    prepare,
)

from matrix_elements import p_to_pprime
from matrix_elements.couplings import Couplings, width_x_to_nunu
from matrix_elements.form_factors import b_k, k_pi
from matrix_elements.widths import width_p_to_pprime_x
from phase_space.maps import breit_wigner_t_range

# physics.md §12: widths in GeV for unit couplings
TABLE = {
    0.01: (4.3778e00, 4.5770e00, 7.8553e02, 7.8534e02),
    0.10: (3.8203e-02, 4.0178e-02, 7.8554e00, 7.8534e00),
    0.20: (5.8257e-03, 6.2883e-03, 1.9639e00, 1.9634e00),
    1.00: (None, None, 7.8513e-02, 7.8491e-02),
    2.10: (None, None, 1.7514e-02, 1.7507e-02),
    4.00: (None, None, 3.0894e-03, 3.0786e-03),
}


def _f_kpi(m_x):
    return k_pi.f_plus(m_x**2, k_pi.KPiFormFactor().to_array())


def _f_bk(m_x):
    return b_k.bsz(m_x**2, b_k.F_PLUS.to_array())


@pytest.mark.parametrize("m_x", sorted(TABLE))
def test_eq12_eq13_against_physics_table(m_x):
    k_plus, k_long, b_plus, b_zero = TABLE[m_x]
    if k_plus is not None:
        assert width_p_to_pprime_x(1.0, _f_kpi(m_x), M_K_PLUS, M_PI_PLUS, m_x) == pytest.approx(
            k_plus, rel=2e-4
        )
        assert width_p_to_pprime_x(1.0, _f_kpi(m_x), M_K_ZERO, M_PI_ZERO, m_x) == pytest.approx(
            k_long, rel=2e-4
        )
    assert width_p_to_pprime_x(1.0, _f_bk(m_x), M_B_PLUS, M_K_PLUS, m_x) == pytest.approx(
        b_plus, rel=2e-4
    )
    assert width_p_to_pprime_x(1.0, _f_bk(m_x), M_B_ZERO, M_K_ZERO, m_x) == pytest.approx(
        b_zero, rel=2e-4
    )


def test_width_closes_at_threshold():
    assert width_p_to_pprime_x(1.0, 1.0, M_K_PLUS, M_PI_PLUS, M_K_PLUS - M_PI_PLUS) == 0.0


@pytest.mark.parametrize(
    ("m_x", "expected"), [(0.01, 1.3263e-04), (0.1, 1.3263e-03), (2.1, 2.7852e-02)]
)
def test_eq10_x_to_nunu(m_x, expected):
    assert width_x_to_nunu(1.0, m_x) == pytest.approx(expected, rel=1e-4)
    # physics.md §3.1: explicit spinors give 1.326291e-3 at m_X = 0.1
    assert width_x_to_nunu(1.0, 0.1) == pytest.approx(1.326291e-3, rel=1e-6)


def test_couplings_derived_quantities():
    c = Couplings(m_x=0.1, g_nu=(1e-2, 2e-2, 0.0), width_x=None)
    assert c.total_width == pytest.approx(5e-4 * 0.1 / (24 * math.pi))
    assert c.br_invisible == 1.0
    assert c.flavour_fractions == pytest.approx((0.2, 0.8, 0.0))
    assert c.ctau_x_mm == pytest.approx(1.973269804e-13 / c.total_width)
    wide = Couplings(m_x=0.1, g_nu=(1e-2, 0.0, 0.0), width_x=2 * width_x_to_nunu(1e-2, 0.1))
    assert wide.br_invisible == pytest.approx(0.5)


# physics.md §4.3: ∫ Eq. 20 / (Eq. 12 × BR) at Γ_X/m_X = 1e-1 .. 1e-4
NARROW_WIDTH_RATIOS = {
    ("K+ -> pi+ X", 0.1): (0.95615, 0.99561, 0.99956, 0.99996),
    ("B+ -> K+ X", 2.1): (0.95376, 0.99534, 0.99953, 0.99995),
}


@pytest.mark.parametrize(("process", "m_x"), sorted(NARROW_WIDTH_RATIOS))
def test_breit_wigner_integral_against_narrow_width(process, m_x):
    prepared = prepare(process, m_X=m_x)
    for gamma_over_m, expected in zip(
        (1e-1, 1e-2, 1e-3, 1e-4), NARROW_WIDTH_RATIOS[(process, m_x)], strict=True
    ):
        params = prepared.params.copy()
        width = gamma_over_m * m_x
        params[p_to_pprime.I_WIDTH_X] = width
        params[p_to_pprime.I_T_MIN], params[p_to_pprime.I_T_MAX] = breit_wigner_t_range(
            m_x * m_x, m_x * width, params[p_to_pprime.I_Q2_MIN], params[p_to_pprime.I_Q2_MAX]
        )
        ratio = p_to_pprime.rate(params) / p_to_pprime.rate_narrow(params)
        assert ratio == pytest.approx(expected, abs=1.5e-5)


def test_rate_narrow_is_eq21():
    """Eq. 21 = Eq. 12 × Γ_inv/Γ_X × τ/ħ, with a given width (BR_inv < 1)."""
    prepared = prepare("B+ -> K+ X", m_X=2.1, g_bs=1e-8, g_nu=[0.0, 0.0, 1e-2], width_X=1e-5)
    params = prepared.params
    gamma = width_p_to_pprime_x(1e-16, _f_bk(2.1), M_B_PLUS, M_K_PLUS, 2.1)
    br_inv = width_x_to_nunu(1e-2, 2.1) / 1e-5
    tau_over_hbar = params[p_to_pprime.I_TO_BR]
    assert p_to_pprime.rate_narrow(params) == pytest.approx(
        gamma * br_inv * tau_over_hbar, rel=1e-12
    )
    assert prepared.info["br_invisible"] == pytest.approx(br_inv)
