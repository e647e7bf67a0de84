"""B → K* form factors, helicity amplitudes, widths and SM rates against physics.md."""

from __future__ import annotations

import pytest
from axgen_testing import prepare

from matrix_elements import b_to_kstar
from matrix_elements.form_factors import b_kstar

FF = b_kstar.BKstarFormFactors().to_array()
M_B0, M_KSTAR0 = 5.27972, 0.89555


@pytest.mark.parametrize(
    ("q2", "v", "a1", "a12", "a2", "a0"),
    [
        (0.0, 0.37631, 0.29725, 0.26424, 0.26786, 0.36920),
        (5.0, 0.50639, 0.33414, 0.28864, 0.34062, 0.50471),
        (10.0, 0.72635, 0.38870, 0.32101, 0.45782, 0.72526),
    ],
)
def test_bsz_form_factors(q2, v, a1, a12, a2, a0):
    """physics.md §6.3 values (flavio masses m_B = 5.27966, m_V = 0.89555 in A2)."""
    got_v, got_a1, got_a2 = b_kstar.v_a1_a2(q2, FF, 5.27966, 0.89555)
    assert got_v == pytest.approx(v, abs=6e-6)
    assert got_a1 == pytest.approx(a1, abs=6e-6)
    assert got_a2 == pytest.approx(a2, abs=6e-6)
    assert b_kstar.a12(q2, FF) == pytest.approx(a12, abs=6e-6)
    assert b_kstar.a0(q2, FF) == pytest.approx(a0, abs=6e-6)


@pytest.mark.parametrize(
    ("m_x", "amplitudes"),
    [(2.1, (0.267599, 5.141063, 3.796522)), (0.1, (0.185912, 99.969109, 3.486051))],
)
def test_helicity_amplitudes_eq15(m_x, amplitudes):
    got = b_kstar.helicity_amplitudes(m_x**2, FF, M_B0, M_KSTAR0)
    assert [abs(h) for h in got] == pytest.approx(amplitudes, abs=2e-6)
    # the general off-shell form of H0 reduces to 8 m_B m_V A12/√q² on shell
    params = prepare("B0 -> K*0(K+ pi-) X", m_X=m_x).params
    total, zero = b_to_kstar.helicity_sum(m_x**2, params)
    assert zero == pytest.approx(got[1] ** 2, rel=1e-10)
    assert total == pytest.approx(sum(h * h for h in got), rel=1e-10)


# physics.md §12: Γ(B⁰→K*⁰X)/|g_bs|² in GeV and F_L
TABLE = {
    0.01: (9.1406e02, 0.99999),
    0.10: (9.1511e00, 0.99878),
    0.20: (2.2957e00, 0.99515),
    1.00: (1.0189e-01, 0.89091),
    2.10: (3.0902e-02, 0.64597),
    4.00: (1.0897e-02, 0.33677),
}


@pytest.mark.parametrize("m_x", sorted(TABLE))
def test_eq14_width_and_f_l(m_x):
    width, f_l = TABLE[m_x]
    prepared = prepare("B0 -> K*0(K+ pi-) X", m_X=m_x, g_bs=1.0)
    tau_over_hbar = prepared.params[b_to_kstar.I_TO_BR]
    assert prepared.info["br_parent_to_kstar_X"] / tau_over_hbar == pytest.approx(width, rel=2e-4)
    assert prepared.info["f_l"] == pytest.approx(f_l, abs=6e-6)
    # the generated rate carries BR(K*0 -> K+ pi-) = 2/3 and BR(X -> nu nu~) = 1
    assert prepared.analytic_rate == pytest.approx(
        2 / 3 * prepared.info["br_parent_to_kstar_X"], rel=1e-6
    )


def test_belle2_excess_point_implies_physics_md_br():
    # physics.md §10: |g_bs| = 1.4529e-8 at m_X = 2.1 GeV implies BR(B0 -> K*0 X) = 1.503e-5
    prepared = prepare("B0 -> K*0(K+ pi-) X", m_X=2.1, g_bs=1.4529e-8)
    assert prepared.info["br_parent_to_kstar_X"] == pytest.approx(1.503e-5, rel=1e-3)


@pytest.mark.parametrize(
    ("process", "br", "br_kpi"),
    [
        ("B0 -> K*0(K+ pi-) nu nu~ (SM)", 9.8001e-6, 2 / 3),
        ("B+ -> K*+(K0S pi+) nu nu~ (SM)", 1.05713e-5, 1 / 3),
        ("B+ -> K*+(K+ pi0) nu nu~ (SM)", 1.05713e-5, 1 / 3),
    ],
)
def test_sm_branching_ratios(process, br, br_kpi):
    """physics.md §7 table (PDG-2024 column), times the isospin (and K_S) fractions."""
    prepared = prepare(process)
    assert prepared.analytic_rate == pytest.approx(br * br_kpi, rel=5e-3)
    assert prepared.analytic_rate == pytest.approx(br * br_kpi, rel=2e-5)  # in fact exact


def test_sm_mean_f_l():
    assert prepare("B0 -> K*0(K+ pi-) nu nu~ (SM)").info["mean_f_l"] == pytest.approx(
        0.48774, rel=5e-3
    )
    assert prepare("B0 -> K*0(K+ pi-) nu nu~ (SM)").info["mean_f_l"] == pytest.approx(
        0.48774, abs=2e-5
    )


@pytest.mark.parametrize(("m_x", "ratio", "tolerance"), [(2.1, 1.030, 1e-3), (0.2, 0.992, 2.5e-3)])
def test_kstar_breit_wigner_against_narrow(m_x, ratio, tolerance):
    """physics.md §4.4: Eq. 22 with Γ_K* = 47.3 MeV over the narrow K*: 1.030 (2.1), 0.992 (0.2).

    The quoted 0.992 comes from an MC with ±0.002; the quadrature here gives 0.9936.
    """
    wide = prepare("B0 -> K*0(K+ pi-) X", m_X=m_x, narrow_kstar=False).analytic_rate
    narrow = prepare("B0 -> K*0(K+ pi-) X", m_X=m_x).analytic_rate
    assert wide / narrow == pytest.approx(ratio, abs=tolerance)
