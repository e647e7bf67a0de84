"""Distributions of generated events against physics.md (χ² with fixed seeds).

Expected bin contents integrate the analytic shape over each bin (scipy.integrate.quad),
weighted histograms use Σw² per bin as variance, and every test passes when the χ²
p-value exceeds 1e-3 — with fixed seeds the outcome is deterministic, and with 10⁵–10⁶
events a 1 % distortion of a shape fails.
"""

from __future__ import annotations

import itertools

import awkward as ak
import numpy as np
import pytest
from axgen_testing import SM_PROCESSES, card_dict
from scipy import integrate, stats

import gen
from matrix_elements import p_to_pprime

pytestmark = pytest.mark.slow

P_MIN = 1e-3


def _chi2_pvalue(observed, variance, expected):
    chi2 = float(np.sum((observed - expected) ** 2 / variance))
    return chi2, stats.chi2.sf(chi2, len(observed))


def _nu_pair(events):
    """(p_ν, p_ν̄) as (n, 4) arrays: the slots with |pid| 12/14/16."""
    pid = ak.to_numpy(events.particles.pid)
    nu_slot = int(np.flatnonzero(np.isin(np.abs(pid[0]), (12, 14, 16)))[0])
    p = np.stack([ak.to_numpy(events.particles[c]) for c in ("E", "px", "py", "pz")], axis=-1)
    return p[:, nu_slot], p[:, nu_slot + 1]


def _cos_theta_nu(p_nu, p_nubar):
    """cosθ of the ν in the νν̄ (X) rest frame w.r.t. the X flight direction (parent frame).

    Independent numpy boost, not the generator's kinematics.
    """
    q = p_nu + p_nubar
    beta = q[:, 1:] / q[:, :1]
    b2 = np.sum(beta**2, axis=1)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p_nu[:, 1:], axis=1)
    coef = (gamma - 1.0) * bp / b2 - gamma * p_nu[:, 0]
    p_rest = p_nu[:, 1:] + coef[:, None] * beta
    direction = beta / np.sqrt(b2)[:, None]
    return np.sum(p_rest * direction, axis=1) / np.linalg.norm(p_rest, axis=1)


@pytest.mark.parametrize("process", SM_PROCESSES)
def test_sm_q2_spectrum(process):
    events, summary = gen.generate(card_dict(process, events=300_000, seed=5))
    prepared = gen.driver.validate(gen.cards.parse(card_dict(process)))
    params = prepared.params
    q2 = ak.to_numpy(events.observables.q2)
    w = ak.to_numpy(events.weight)
    edges = np.linspace(0.0, params[p_to_pprime.I_Q2_MAX], 26)
    observed = np.histogram(q2, edges, weights=w)[0]
    variance = np.histogram(q2, edges, weights=w * w)[0]

    def density(x):
        return float(p_to_pprime.dbr_dq2(np.array([x]), params)[0])

    expected = np.array(
        [integrate.quad(density, a, b, epsrel=1e-10)[0] for a, b in itertools.pairwise(edges)]
    )
    assert expected.sum() == pytest.approx(summary["analytic_rate"]["value"], rel=1e-8)
    chi2, p = _chi2_pvalue(observed, variance, expected)
    assert p > P_MIN, (chi2, observed / expected)


@pytest.mark.parametrize(("process", "m_x"), [("K+ -> pi+ X", 0.1), ("B+ -> K+ X", 2.1)])
def test_x_line_shape_at_gamma_over_m_1e_2(process, m_x):
    width = 1e-2 * m_x
    raw = card_dict(process, events=300_000, seed=6, m_X=m_x, width_X=width)
    events, summary = gen.generate(raw)
    params = gen.driver.validate(gen.cards.parse(raw)).params
    q2 = ak.to_numpy(events.observables.q2)
    w = ak.to_numpy(events.weight)
    # 30 bins of ±6 Γ around the pole in x = (q² − m²)/(mΓ), plus both tails as one bin each
    x_edges = np.linspace(-6.0, 6.0, 31)
    edges = np.concatenate(
        [
            [params[p_to_pprime.I_Q2_MIN]],
            m_x**2 + m_x * width * x_edges,
            [params[p_to_pprime.I_Q2_MAX]],
        ]
    )
    observed = np.histogram(q2, edges, weights=w)[0]
    variance = np.histogram(q2, edges, weights=w * w)[0]

    def density(x):
        return float(p_to_pprime.dbr_dq2(np.array([x]), params)[0])  # Eq. 20 with |D_X|²

    expected = np.array(
        [
            integrate.quad(
                density, a, b, epsrel=1e-10, limit=200, points=[m_x**2] if a < m_x**2 < b else None
            )[0]
            for a, b in itertools.pairwise(edges)
        ]
    )
    assert expected.sum() == pytest.approx(summary["analytic_rate"]["value"], rel=1e-6)
    chi2, p = _chi2_pvalue(observed, variance, expected)
    assert p > P_MIN, (chi2, observed / expected)
    # the Breit–Wigner tails beyond ±6Γ hold (2/π)·atan(1/6) ≈ 10 % of the rate
    assert observed[0] + observed[-1] > 0.05 * observed.sum()


@pytest.mark.parametrize(
    "process", ["K+ -> pi+ X", "KL -> pi0 X", "B0 -> K0 X", "B+ -> K+ nu nu~ (SM)"]
)
def test_neutrino_angle_in_x_frame(process):
    events, _ = gen.generate(card_dict(process, events=300_000, seed=7))
    cos_t = _cos_theta_nu(*_nu_pair(events))
    w = ak.to_numpy(events.weight)
    edges = np.linspace(-1.0, 1.0, 21)
    observed = np.histogram(cos_t, edges, weights=w)[0]
    variance = np.histogram(cos_t, edges, weights=w * w)[0]
    cdf = lambda c: 0.75 * (c - c**3 / 3.0)  # ∫ (3/4) sin²θ dcosθ  # noqa: E731
    expected = w.sum() * np.diff(cdf(edges))
    chi2, p = _chi2_pvalue(observed, variance, expected)
    assert p > P_MIN, (chi2, observed / expected)
    # moment ⟨cos²θ⟩ = 1/5 (physics.md §4.2)
    mean_c2 = np.sum(w * cos_t**2) / w.sum()
    err = np.sqrt(np.sum(w**2 * (cos_t**2 - mean_c2) ** 2)) / w.sum()
    assert abs(mean_c2 - 0.2) < 5 * err


@pytest.mark.parametrize(
    ("process", "model", "q2_max"),
    [("K+ -> pi+ nu nu~ (SM)", {}, 0.1258), ("K+ -> pi+ X", {"m_X": 0.1, "width_X": 1e-3}, 0.1258)],
)
def test_unweighted_events_are_distributed_like_weighted_ones(process, model, q2_max):
    weighted, _ = gen.generate(card_dict(process, events=300_000, seed=8, **model))
    unweighted, summary = gen.generate(
        card_dict(process, events=200_000, seed=9, run={"mode": "unweighted"}, **model)
    )
    assert summary["unweighting"]["efficiency"] > 0.3
    if "m_X" in model:  # X line shape: bins of ±5Γ around the pole, tails in the outer bins
        m, g = model["m_X"], model["width_X"]
        q2_edges = np.concatenate([[0.0], m * m + m * g * np.linspace(-5, 5, 21), [q2_max]])
    else:
        q2_edges = np.linspace(0.0, q2_max, 21)
    for observable in ("q2", "cos_theta_nu", "E_pi"):
        samples = []
        for events in (weighted, unweighted):
            if observable == "q2":
                x = ak.to_numpy(events.observables.q2)
                edges = q2_edges
            elif observable == "cos_theta_nu":
                x = _cos_theta_nu(*_nu_pair(events))
                edges = np.linspace(-1.0, 1.0, 21)
            else:
                x = ak.to_numpy(events.particles.E[:, 1])
                if events is weighted:  # 20 bins of equal rate, from the weighted sample
                    order = np.argsort(x)
                    cum = np.cumsum(ak.to_numpy(events.weight)[order])
                    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, 20) / 20)
                    e_edges = np.concatenate([[0.0], x[order][cuts], [1.0]])  # outer bins open
                edges = e_edges
            w = ak.to_numpy(events.weight)
            samples.append(
                (np.histogram(x, edges, weights=w)[0], np.histogram(x, edges, weights=w * w)[0])
            )
        (h1, v1), (h2, v2) = samples
        # both estimate the same dBR/dx per bin: compare absolute contents
        chi2 = float(np.sum((h1 - h2) ** 2 / (v1 + v2)))
        assert stats.chi2.sf(chi2, len(h1)) > P_MIN, (observable, chi2)
