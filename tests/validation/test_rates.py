"""MC rates against the analytic widths of physics.md (Eq. 12, 13, 21; §7), 5σ at ≤ 1e-3.

Each X-mode run uses physical couplings (Γ_X/m_X ~ 1e-8), where ∫Eq. 20 equals the
narrow-width Eq. 21 to ~1e-8, so the MC integral is compared with Eq. 21 evaluated here from
Eq. 12/13 and Eq. 10 with the masses and mean lives of physics.md §9 typed in the tests —
independent of the generation kernel and of the code's particle tables.
"""

from __future__ import annotations

import pytest
from axgen_testing import MASS, MEAN_LIFE, SM_PROCESSES, card_dict

from gen import cards, driver
from matrix_elements.couplings import width_x_to_nunu
from matrix_elements.form_factors import b_k, k_pi
from matrix_elements.widths import width_p_to_pprime_x

pytestmark = pytest.mark.slow

KAON_MASSES = (0.01, 0.1, 0.3)
B_MASSES = (0.1, 2.1, 4.5)
CASES = (
    [("K+ -> pi+ X", m) for m in KAON_MASSES]
    + [("KL -> pi0 X", m) for m in KAON_MASSES]
    + [("B+ -> K+ X", m) for m in B_MASSES]
    + [("B0 -> K0 X", m) for m in B_MASSES]
)
SLOTS = {
    "K+ -> pi+ X": (321, 211),
    "KL -> pi0 X": (130, 111),
    "B+ -> K+ X": (521, 321),
    "B0 -> K0 X": (511, 311),
}

# physics.md §7, PDG-2024 column
SM_TABLE = {
    "B+ -> K+ nu nu~ (SM)": 4.7062e-6,
    "B0 -> K0 nu nu~ (SM)": 4.3491e-6,
    "K+ -> pi+ nu nu~ (SM)": 8.333e-11,
    "KL -> pi0 nu nu~ (SM)": 2.786e-11,
}


def _eq21(process, m_x, g_q, g_nu):
    parent, daughter = SLOTS[process]
    if process.startswith("K"):
        f_plus = k_pi.f_plus(m_x**2, k_pi.KPiFormFactor().to_array())
        g2 = g_q.imag**2 if process.startswith("KL") else abs(g_q) ** 2
    else:
        f_plus = b_k.bsz(m_x**2, b_k.F_PLUS.to_array())
        g2 = abs(g_q) ** 2
    gamma = width_p_to_pprime_x(g2, f_plus, MASS[parent], MASS[daughter], m_x)  # Eq. 12/13
    widths = [width_x_to_nunu(g, m_x) for g in g_nu]  # Eq. 10
    br_inv = sum(widths) / sum(widths)  # width_X = "auto"
    return gamma * br_inv * MEAN_LIFE[parent] / 6.582119569e-25


def _run(raw):
    card, prepared = driver.check(raw, "<test>")
    return driver.run(card, None, progress=False, prepared=prepared).summary


@pytest.mark.parametrize(("process", "m_x"), CASES)
def test_x_mode_rate(process, m_x):
    g_q = complex(2e-12, -1e-12) if process.startswith("K") else complex(1.45e-8, 0.3e-8)
    g_nu = (1e-3, 2e-3, 5e-3)
    key = "g_sd" if process.startswith("K") else "g_bs"
    raw = card_dict(
        process,
        events=200_000,
        seed=11,
        m_X=m_x,
        g_nu=list(g_nu),
        **{key: {"re": g_q.real, "im": g_q.imag}},
    )
    summary = _run(raw)
    rate, error = summary["rate"]["value"], summary["rate"]["error"]
    expected = _eq21(process, m_x, g_q, g_nu)
    assert error / rate <= 1e-3
    assert abs(rate - expected) < 5 * error, (rate, expected, (rate - expected) / error)
    # the generator's own analytic rate (∫ Eq. 20) is Eq. 21 to O(Γ_X/m_X)
    assert summary["analytic_rate"]["value"] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("process", SM_PROCESSES)
def test_sm_rate(process):
    summary = _run(card_dict(process, events=400_000, seed=12))
    rate, error = summary["rate"]["value"], summary["rate"]["error"]
    analytic = summary["analytic_rate"]["value"]
    assert error / rate <= 1e-3
    assert abs(rate - analytic) < 5 * error
    assert analytic == pytest.approx(SM_TABLE[process], rel=5e-3)


def test_narrow_width_mode_rate():
    raw = card_dict("B+ -> K+ X", events=100_000, m_X=2.1, narrow_width=True)
    summary = _run(raw)
    rate, error = summary["rate"]["value"], summary["rate"]["error"]
    expected = _eq21("B+ -> K+ X", 2.1, 1e-12, (1e-3, 1e-3, 1e-3))
    assert error / rate <= 1e-3
    assert abs(rate - expected) < 5 * error
    assert cards.parse(raw).model.narrow_width
