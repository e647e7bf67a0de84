"""Pythia 8 yardstick of ``axgen bench``: its events are K⁺ → π⁺ X(→ ν ν̄), and it is timed.

Expected values are computed here independently of gen.yardstick_pythia (other form of the
two-body momentum, masses as Pythia 8.3 tabulates them). Units: GeV.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gen.yardstick_pythia import YardstickError, check, pythia_k_pi_x

pytest.importorskip("pythia8mc")

M_K = 0.49368  # Pythia 8.3's K⁺ mass (PDG 2024: 0.493677)
M_PI = 0.13957  # Pythia 8.3's π⁺ mass (PDG 2024: 0.13957039)
N = 300


def p_star(m_parent: float, m_1: float, m_2: float) -> float:
    """Two-body momentum as √((M² − (m₁+m₂)²)(M² − (m₁−m₂)²)) / 2M."""
    return math.sqrt((m_parent**2 - (m_1 + m_2) ** 2) * (m_parent**2 - (m_1 - m_2) ** 2)) / (
        2 * m_parent
    )


@pytest.fixture(scope="module", params=[0.1, 0.3])
def run(request):
    return pythia_k_pi_x(N, request.param, seed=7, return_events=True)


def test_it_is_timed_and_reports(run):
    assert run["events"] == N
    assert run["events_per_s"] > 0
    assert run["loop_s"] > 0
    assert run["init_s"] > 0
    assert run["version"].startswith("8.3")
    assert "ProcessLevel:all = off" in run["settings"]
    fractions = run["breakdown"]
    assert fractions["next_fraction"] + fractions["readout_fraction"] + fractions[
        "fill_fraction"
    ] == pytest.approx(1.0)


def test_final_state_is_pi_nu_nubar(run):
    assert run["momenta"].shape == (N, 3, 4)
    assert (run["ids"] == [211, 12, -12]).all()


def test_pi_momentum_is_the_two_body_value(run):
    m_x = run["m_x_gev"]
    pi = run["momenta"][:, 0]
    expected = p_star(M_K, M_PI, m_x)
    np.testing.assert_allclose(np.linalg.norm(pi[:, :3], axis=1), expected, rtol=1e-12)
    np.testing.assert_allclose(pi[:, 3], math.hypot(expected, M_PI), rtol=1e-12)
    # K⁺ at rest: everything sums to (0, 0, 0, m_K)
    np.testing.assert_allclose(run["momenta"].sum(axis=1), [[0, 0, 0, M_K]] * N, atol=1e-12)


def test_x_mass_is_the_nu_nubar_invariant_mass(run):
    x = run["momenta"][:, 1] + run["momenta"][:, 2]
    m_nunu = np.sqrt(x[:, 3] ** 2 - (x[:, :3] ** 2).sum(axis=1))
    np.testing.assert_allclose(m_nunu, run["m_x_gev"], rtol=1e-9)
    # neutrinos massless
    for nu in (run["momenta"][:, 1], run["momenta"][:, 2]):
        np.testing.assert_allclose(np.linalg.norm(nu[:, :3], axis=1), nu[:, 3], rtol=1e-12)


def test_pythia_masses_are_compared_with_the_pdg(run):
    pdg = run["checks"]["pdg"]
    assert pdg["m_k_pythia_minus_pdg_gev"] == pytest.approx(0.49368 - 0.493677, abs=1e-12)
    assert pdg["m_pi_pythia_minus_pdg_gev"] == pytest.approx(0.13957 - 0.13957039, abs=1e-12)
    assert 0 < abs(pdg["p_pi_two_body_pythia_minus_pdg_gev"]) < 1e-5


def test_check_rejects_broken_events(run):
    good = run["momenta"]
    ids = run["ids"]
    masses = {"m_k": M_K, "m_pi": M_PI, "m_x": run["m_x_gev"]}
    check(good, ids, **masses)

    with pytest.raises(YardstickError, match="m_X"):
        check(good, ids, m_k=M_K, m_pi=M_PI, m_x=run["m_x_gev"] * (1 + 1e-6))
    energy_off = good.copy()
    energy_off[5, 1, 3] += 1e-7
    with pytest.raises(YardstickError, match="p\\(K⁺\\)"):
        check(energy_off, ids, **masses)
    with pytest.raises(YardstickError, match="final state"):
        check(good, ids[:, ::-1], **masses)
    # the same event over and over (a loop that forgets to refill the record)
    with pytest.raises(YardstickError, match="isotropic"):
        check(np.repeat(good[:1], N, axis=0), ids, **masses)


def test_pythia_is_silent(capfd):
    pythia_k_pi_x(10, 0.1)
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


def test_arguments_are_validated():
    with pytest.raises(ValueError, match="m_x"):
        pythia_k_pi_x(10, 0.36)
    with pytest.raises(ValueError, match="seed"):
        pythia_k_pi_x(10, 0.1, seed=0)
