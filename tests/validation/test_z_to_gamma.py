"""Z → γX and e⁺e⁻ → γX: rates (Eq. 16, 26), photon angle (Eq. 27), E_γ line, f_L (Eq. 28)."""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest
from axgen_testing import card_dict, helicity_cos, momenta, weighted_mean
from scipy import stats

import gen
from gen import driver
from matrix_elements import z_to_gamma as zg

pytestmark = pytest.mark.slow

M_Z, WIDTH_Z = 91.188, 2.4955
SIN2 = 0.23153
G_Z2 = 4 * math.pi / 127.951 / (SIN2 * (1 - SIN2))
G_L, G_R = -0.5 + SIN2, SIN2
C = 1e-6


def _run(raw):
    card, prepared = driver.check(raw, "<test>")
    return driver.run(card, None, progress=False, prepared=prepared).summary


@pytest.mark.parametrize("m_x", [0.1, 2.1, 30.0])
def test_z_to_gamma_x_rate(m_x):
    summary = _run(card_dict("Z -> gamma X", events=300_000, seed=41, m_X=m_x, C_Zgamma=C))
    rate, error = summary["rate"]["value"], summary["rate"]["error"]
    expected = zg.width_z_to_gamma_x(C * C, M_Z, m_x) / WIDTH_Z  # Eq. 16 × BR_inv (= 1) / Γ_Z
    assert error / rate <= 1e-3
    assert abs(rate - expected) < 5 * error


@pytest.mark.parametrize("m_x", [0.1, 2.1, 30.0])
@pytest.mark.parametrize("delta", [-1.0, 0.0, 1.0])
def test_ee_to_gamma_x_cross_section(m_x, delta):
    sqrt_s = M_Z + delta
    raw = card_dict("e+ e- -> gamma X", events=300_000, seed=42, m_X=m_x, C_Zgamma=C)
    raw["production"]["sqrt_s"] = sqrt_s
    summary = _run(raw)
    rate, error = summary["rate"]["value"], summary["rate"]["error"]
    # Eq. 26 (× BR_inv = 1) evaluated here; equal beams on their mass shell give s = 4E² exactly
    s = sqrt_s**2
    expected = zg.sigma_ee_to_gamma_x(s, C * C, G_Z2, G_L, G_R, M_Z, WIDTH_Z, m_x)
    assert summary["rate"]["unit"] == "pb"
    assert error / rate <= 1e-3
    assert abs(rate - expected) < 5 * error


def test_beam_energy_spread():
    raw = card_dict("e+ e- -> gamma X", events=300_000, seed=43, m_X=2.1, C_Zgamma=C)
    raw["production"]["beam_energy_spread"] = 0.01
    summary = _run(raw)
    rate, error = summary["rate"]["value"], summary["rate"]["error"]
    at_pole = zg.sigma_ee_to_gamma_x(M_Z**2, C * C, G_Z2, G_L, G_R, M_Z, WIDTH_Z, 2.1)
    assert abs(rate - summary["analytic_rate"]["value"]) < 5 * error
    assert rate < at_pole - 10 * error  # a 1 % spread visibly lowers the peak cross section


@pytest.mark.parametrize("m_x", [2.1, 30.0])
def test_photon_polar_angle_eq27(m_x):
    events, _ = gen.generate(
        card_dict("e+ e- -> gamma X", events=400_000, seed=44, m_X=m_x, C_Zgamma=C)
    )
    p = momenta(events)
    w = ak.to_numpy(events.weight)
    cos_g = p[:, 2, 3] / np.linalg.norm(p[:, 2, 1:], axis=1)
    r = m_x**2 / M_Z**2
    edges = np.linspace(-1, 1, 21)
    observed = np.histogram(cos_g, edges, weights=w)[0]
    variance = np.histogram(cos_g, edges, weights=w * w)[0]
    cdf = lambda c: 3 / (8 * (1 + r)) * ((1 + 2 * r) * c + (1 - 2 * r) * c**3 / 3)  # noqa: E731
    expected = w.sum() * np.diff(cdf(edges))
    chi2 = float(np.sum((observed - expected) ** 2 / variance))
    assert stats.chi2.sf(chi2, len(observed) - 1) > 1e-3
    # the (1 − 2r) coefficient: ⟨cos²θ⟩ = [(1+2r)/3 + (1−2r)/5]·3/(4(1+r)); at 30 GeV 0.3805
    mean, err = weighted_mean(cos_g**2, w)
    assert abs(mean - 3 / (4 * (1 + r)) * ((1 + 2 * r) / 3 + (1 - 2 * r) / 5)) < 5 * err
    if m_x == 30.0:
        assert abs(mean - 0.4) > 10 * err  # distinguishable from (3/8)(1 + cos²θ)


def test_monochromatic_photon_for_the_z_at_rest():
    events, _ = gen.generate(
        card_dict("Z -> gamma X", events=20_000, seed=45, m_X=30.0, narrow_width=True)
    )
    energy = ak.to_numpy(events.particles.E[:, 1])
    np.testing.assert_allclose(energy, (M_Z**2 - 900.0) / (2 * M_Z), rtol=1e-12)
    # isotropic photon: ⟨cosθ⟩ = 0, ⟨cos²θ⟩ = 1/3
    cos_g = ak.to_numpy(events.particles.pz[:, 1]) / energy
    w = ak.to_numpy(events.weight)
    for moment, value in ((cos_g, 0.0), (cos_g**2, 1 / 3)):
        mean, err = weighted_mean(moment, w)
        assert abs(mean - value) < 5 * err


@pytest.mark.parametrize(
    ("process", "m_x"), [("Z -> gamma X", 30.0), ("e+ e- -> gamma X", 30.0), ("Z -> gamma X", 60.0)]
)
def test_longitudinal_fraction_from_the_neutrino_angle(process, m_x):
    events, _ = gen.generate(card_dict(process, events=500_000, seed=46, m_X=m_x))
    p = momenta(events)
    w = ak.to_numpy(events.weight)
    x, nu = (3, 4) if process.startswith("e+") else (2, 3)
    cos_nu = helicity_cos(p[:, nu], p[:, x])
    f_l = zg.longitudinal_fraction(m_x, M_Z**2)
    # Eq. 28: (3/4) f_L sin²θ + (3/8)(1 − f_L)(1 + cos²θ), no linear term
    edges = np.linspace(-1, 1, 21)
    observed = np.histogram(cos_nu, edges, weights=w)[0]
    variance = np.histogram(cos_nu, edges, weights=w * w)[0]
    cdf = lambda c: 0.75 * f_l * (c - c**3 / 3) + 0.375 * (1 - f_l) * (c + c**3 / 3)  # noqa: E731
    expected = w.sum() * np.diff(cdf(edges))
    chi2 = float(np.sum((observed - expected) ** 2 / variance))
    assert stats.chi2.sf(chi2, len(observed)) > 1e-3
    mean, err = weighted_mean(cos_nu**2, w)  # ⟨cos²θ⟩ = (2 − f_L)/5
    assert abs((2 - 5 * mean) - f_l) < 5 * 5 * err
    mean, err = weighted_mean(cos_nu, w)
    assert abs(mean) < 5 * err
