"""Standard-Model inputs and branching ratios against physics.md §7."""

from __future__ import annotations

import pytest
from axgen_testing import prepare

from matrix_elements import constants, sm

# physics.md §7 table, "reference, PDG-2024 masses/τ" column
SM_TABLE = {
    "B+ -> K+ nu nu~ (SM)": 4.7062e-6,
    "B0 -> K0 nu nu~ (SM)": 4.3491e-6,
    "K+ -> pi+ nu nu~ (SM)": 8.333e-11,
    "KL -> pi0 nu nu~ (SM)": 2.786e-11,
}


def test_charm_contribution():
    assert constants.charm_contribution_pc() == pytest.approx(0.36354, abs=5e-6)


def test_eq32_k_plus():
    assert sm.br_k_pi_nunu(charged=True) == pytest.approx(8.333e-11, rel=1e-3)


def test_eq32_k_long():
    # Eq. 32 with the §7 inputs gives 2.7900e-11; the table quotes 2.786e-11 (0.15 % lower)
    assert sm.br_k_pi_nunu(charged=False) == pytest.approx(2.786e-11, rel=5e-3)


@pytest.mark.parametrize("process", sorted(SM_TABLE))
def test_sm_branching_ratios(process):
    assert prepare(process).analytic_rate == pytest.approx(SM_TABLE[process], rel=5e-3)


def test_eq33_direct_evaluation_of_k_modes():
    # physics.md §7: the direct Eq. 33 integration gives 8.41e-11 (K+) and 2.94e-11 (K_L)
    assert prepare("K+ -> pi+ nu nu~ (SM)").info["br_eq33_direct"] == pytest.approx(
        8.41e-11, rel=5e-3
    )
    assert prepare("KL -> pi0 nu nu~ (SM)").info["br_eq33_direct"] == pytest.approx(
        2.94e-11, rel=5e-3
    )


def test_g_sm_matches_eq30_normalisation():
    # 3 |G_SM|² = 6 G_F² α² |λ_t|² X_t² /(π² s_W⁴)  (Eq. 30 ⇔ Eq. 20 with G_SM)
    expected = (
        6
        * constants.G_FERMI**2
        * constants.ALPHA_EM_MZ**2
        * abs(constants.LAMBDA_T_BS) ** 2
        * constants.X_TOP**2
        / (3.141592653589793**2 * constants.SIN2_THETA_W_MSBAR**2)
    )
    assert sm.coupling2_b_to_k() == pytest.approx(expected, rel=1e-12)
