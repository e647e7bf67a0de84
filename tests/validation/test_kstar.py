"""B → K*(→ Kπ) X(→ νν̄): rates, polarisation and angular correlations of generated events.

Against physics.md Eq. 14 (× isospin BR × BR_inv), Eq. 15 (F_L), Eq. 23 (moments) and
Eq. 31 (SM), with angles computed here from the event momenta by plain numpy boosts.
"""

from __future__ import annotations

import itertools

import awkward as ak
import numpy as np
import pytest
from axgen_testing import card_dict, helicity_cos, momenta, weighted_mean
from scipy import integrate, stats

import gen
from gen import driver
from matrix_elements import b_to_kstar

pytestmark = pytest.mark.slow

MASSES = (0.2, 1.0, 2.1, 4.0)
F_L = {0.2: 0.99515, 1.0: 0.89091, 2.1: 0.64597, 4.0: 0.33677}  # physics.md §3.4


def _run(raw):
    card, prepared = driver.check(raw, "<test>")
    return driver.run(card, None, progress=False, prepared=prepared).summary, prepared


@pytest.mark.parametrize("m_x", MASSES)
def test_rate_against_eq14(m_x):
    raw = card_dict(
        "B0 -> K*0(K+ pi-) X", events=600_000, seed=31, m_X=m_x, g_bs={"re": 1e-8, "im": 4e-9}
    )
    summary, prepared = _run(raw)
    rate, error = summary["rate"]["value"], summary["rate"]["error"]
    # Eq. 14 × BR(K*0 → K+π−) × BR(X → νν̄), evaluated with physics.md Eq. 15 amplitudes
    assert prepared.analytic_rate == pytest.approx(
        b_to_kstar.rate_narrow(prepared.params), rel=1e-6
    )
    assert error / rate <= 1e-3
    assert abs(rate - prepared.analytic_rate) < 5 * error


@pytest.mark.parametrize("process", ["B+ -> K*+(K0S pi+) X", "B+ -> K*+(K+ pi0) X"])
def test_charged_modes_rate(process):
    summary, prepared = _run(card_dict(process, events=600_000, seed=32, m_X=2.1, g_bs=1.45e-8))
    rate, error = summary["rate"]["value"], summary["rate"]["error"]
    assert error / rate <= 1e-3
    assert abs(rate - prepared.analytic_rate) < 5 * error


def test_sm_rate_and_mean_f_l():
    process = "B0 -> K*0(K+ pi-) nu nu~ (SM)"
    events, summary = gen.generate(card_dict(process, events=800_000, seed=33))
    rate, error = summary["rate"]["value"], summary["rate"]["error"]
    assert error / rate <= 1e-3
    assert abs(rate - summary["analytic_rate"]["value"]) < 5 * error
    assert summary["analytic_rate"]["value"] / (2 / 3) == pytest.approx(9.8001e-6, rel=5e-3)
    # ⟨F_L⟩ of the generated events, from ⟨cos²θ_K⟩ = (1 + 2F_L)/5
    p = momenta(events)
    cos_k = helicity_cos(p[:, 4], p[:, 1])
    mean, err = weighted_mean(cos_k**2, ak.to_numpy(events.weight))
    f_l, f_l_err = (5 * mean - 1) / 2, 2.5 * err
    assert abs(f_l - 0.48774) < 5 * f_l_err
    assert f_l_err < 0.005 * 0.48774  # the test resolves 0.5 %
    assert summary["model"]["mean_f_l"] == pytest.approx(0.48774, rel=5e-3)


def _angles(events):
    """(cosθ_K, cosθ_ν, weight, is_B): θ_ν of the neutrino (not the antineutrino)."""
    p = momenta(events)
    pid = ak.to_numpy(events.particles.pid)
    # slots: B, K*, X, ν, ν̄, K, π
    nu = np.where((pid[:, 3] > 0)[:, None], p[:, 3], p[:, 4])
    return (
        helicity_cos(p[:, 5], p[:, 1]),
        helicity_cos(nu, p[:, 2]),
        ak.to_numpy(events.weight),
        pid[:, 0] > 0,
    )


@pytest.mark.parametrize("m_x", MASSES)
def test_polarisation_and_correlations(m_x):
    events, _ = gen.generate(
        card_dict(
            "B0 -> K*0(K+ pi-) X", events=600_000, seed=34, m_X=m_x, run={"conjugate": "both"}
        )
    )
    cos_k, cos_nu, w, is_b = _angles(events)
    f_l = F_L[m_x]
    prepared = driver.validate(gen.cards.parse(card_dict("B0 -> K*0(K+ pi-) X", m_X=m_x)))
    total, zero = b_to_kstar.helicity_sum(m_x**2, prepared.params)
    assert zero / total == pytest.approx(f_l, abs=6e-6)

    # F_L from the cosθ_K distribution: moment estimate, then χ² of the shape
    mean, err = weighted_mean(cos_k**2, w)
    assert abs((5 * mean - 1) / 2 - f_l) < 5 * 2.5 * err
    edges = np.linspace(-1, 1, 21)
    observed = np.histogram(cos_k, edges, weights=w)[0]
    variance = np.histogram(cos_k, edges, weights=w * w)[0]
    cdf = lambda c: f_l * (c**3 + 1) / 2 + (1 - f_l) * 0.75 * (c - c**3 / 3 + 2 / 3)  # noqa: E731
    expected = w.sum() * np.diff(cdf(edges))
    chi2 = float(np.sum((observed - expected) ** 2 / variance))
    assert stats.chi2.sf(chi2, len(observed) - 1) > 1e-3

    # ⟨cosθ_ν⟩ = (F₋ − F₊)/2 for B̄ (Eq. 23); for B the helicity labels swap: the sign flips
    amplitudes = [
        abs(h) ** 2
        for h in b_to_kstar.ffk.helicity_amplitudes(
            m_x**2, prepared.params[b_to_kstar.I_FF :], prepared.params[0], prepared.params[1]
        )
    ]
    f_plus, _, f_minus = (a / sum(amplitudes) for a in amplitudes)
    expected_bbar = (f_minus - f_plus) / 2
    for mask, expected_mean in ((~is_b, expected_bbar), (is_b, -expected_bbar)):
        mean, err = weighted_mean(cos_nu[mask], w[mask])
        assert abs(mean - expected_mean) < 5 * err
    # both charge states are present in about equal shares
    assert 0.45 < w[is_b].sum() / w.sum() < 0.55

    # ⟨P2(cosθ_K) P2(cosθ_ν)⟩ = −(1 + 3F_L)/50
    p2 = lambda c: 0.5 * (3 * c**2 - 1)  # noqa: E731
    mean, err = weighted_mean(p2(cos_k) * p2(cos_nu), w)
    assert abs(mean + (1 + 3 * f_l) / 50) < 5 * err
    assert err < 0.01  # resolves the correlation (|⟨P2P2⟩| ≥ 0.04)


def test_sm_f_l_of_q2():
    """F_L(q²) of the SM continuum in q² bins against Eq. 15, rate-weighted within each bin."""
    process = "B0 -> K*0(K+ pi-) nu nu~ (SM)"
    events, _ = gen.generate(card_dict(process, events=800_000, seed=35))
    params = driver.validate(gen.cards.parse(card_dict(process))).params
    p = momenta(events)
    cos_k = helicity_cos(p[:, 4], p[:, 1])
    q2 = ak.to_numpy(events.observables.q2)
    w = ak.to_numpy(events.weight)
    edges = np.linspace(0.0, params[b_to_kstar.I_Q2_MAX], 11)
    pulls = []
    for lo, hi in itertools.pairwise(edges):
        mask = (q2 >= lo) & (q2 < hi)
        mean, err = weighted_mean(cos_k[mask] ** 2, w[mask])
        measured, measured_err = (5 * mean - 1) / 2, 2.5 * err
        rate = integrate.quad(lambda x: b_to_kstar.dbr_dq2(np.array([x]), params)[0], lo, hi)[0]
        longitudinal = integrate.quad(
            lambda x: b_to_kstar.dbr_dq2(np.array([x]), params)[0] * b_to_kstar.f_l(x, params),
            lo,
            hi,
        )[0]
        pulls.append((measured - longitudinal / rate) / measured_err)
    chi2 = float(np.sum(np.square(pulls)))
    assert stats.chi2.sf(chi2, len(pulls)) > 1e-3, pulls
