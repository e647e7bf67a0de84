"""KOTO acceptance mimic: the π⁰ reconstruction, hand-built clusters at every cut, the
signal box, the p_T endpoint."""

from __future__ import annotations

import dataclasses
import math

import awkward as ak
import numpy as np
import pytest
from axgen_testing import card_dict

import gen
from gen import pdg
from gen.acceptance import koto
from phase_space.kinematics import two_body_momentum

EPS = 1e-7
DEFAULTS = koto.KOTOCuts()
M_PI0 = pdg.mass(111)


def _record(**values: float):
    return koto.cut_record(dataclasses.replace(DEFAULTS, **values))[0]


def _pi0_clusters(z_vertex: float, p_pi0: tuple[float, float, float], cos_star: float, phi_star: float):
    """Two photons of a π⁰ of momentum ``p_pi0`` decaying at (0, 0, z_vertex): their energies
    and CsI positions (exact kinematics, independent of the generator)."""
    px, py, pz = p_pi0
    e = math.sqrt(px * px + py * py + pz * pz + M_PI0**2)
    half = M_PI0 / 2
    sin_star = math.sqrt(1 - cos_star**2)
    k_rest = np.array([half * sin_star * math.cos(phi_star), half * sin_star * math.sin(phi_star), half * cos_star])
    beta = np.array([px, py, pz]) / e
    gamma = e / M_PI0
    clusters = []
    for sign in (1.0, -1.0):
        k = sign * k_rest
        bk = beta @ k
        k_lab = k + ((gamma - 1) * bk / (beta @ beta) + gamma * half) * beta
        e_lab = gamma * (half + bk)
        dz = DEFAULTS.z_csi - z_vertex
        clusters.append((e_lab, k_lab[0] / k_lab[2] * dz, k_lab[1] / k_lab[2] * dz))
    return clusters


@pytest.mark.parametrize(("z_vertex", "pt", "pz"), [(3500.0, 0.2, 1.5), (1000.0, 0.1, 0.8), (4500.0, 0.15, 2.5)])
@pytest.mark.parametrize("cos_star", [0.0, 0.3, -0.5])
def test_reconstruction_recovers_an_on_axis_vertex(z_vertex, pt, pz, cos_star):
    """m_γγ = m_π0 and a vertex on the axis: Z_vtx and the π⁰ p_T come back exactly (when the
    larger root is the true one), p_T from the COE direction to O(θ²)."""
    (e1, x1, y1), (e2, x2, y2) = _pi0_clusters(z_vertex, (pt * 0.6, pt * 0.8, pz), cos_star, 1.0)
    ok, z, pt_rec, d = koto.reconstruct(e1, x1, y1, e2, x2, y2, DEFAULTS.z_csi, M_PI0)
    assert ok
    assert z == pytest.approx(z_vertex, abs=1e-6)
    assert d == pytest.approx(DEFAULTS.z_csi - z_vertex, abs=1e-6)
    assert pt_rec == pytest.approx(pt, rel=0.05)


def test_reconstruction_rejects_impossible_pairs():
    # two 50 MeV photons cannot make a π⁰ (m_π0²/(E₁E₂) > 4)
    ok, *_ = koto.reconstruct(0.05, 300.0, 0.0, 0.05, -300.0, 0.0, DEFAULTS.z_csi, M_PI0)
    assert not ok


# A pair that passes every cut (checked below); each test moves one cut across its value.
E1, X1, Y1 = 0.6, 400.0, 200.0
E2, X2, Y2 = 0.5, -200.0, 400.0
D = 4000.0


def _pair_passes(**values: float) -> bool:
    return koto.photon_pair_cuts(E1, X1, Y1, E2, X2, Y2, D, _record(**values))


def _edges():
    """(cut, value of the baseline pair's quantity, passes above?)."""
    r = math.hypot(X1, Y1)
    coe = ((E1 * X1 + E2 * X2) / (E1 + E2), (E1 * Y1 + E2 * Y2) / (E1 + E2))
    dphi = math.degrees(abs(math.atan2(Y1, X1) - math.atan2(Y2, X2)))
    theta_e = min(math.degrees(math.atan(math.hypot(X1, Y1) / D)) * E1,
                  math.degrees(math.atan(math.hypot(X2, Y2) / D)) * E2)
    return [
        # cut value just above the quantity / just below: does the pair pass?
        ("cluster_r_max", r, True),
        ("csi_radius", r, True),
        ("inner_square_half", min(abs(X1), abs(Y1)), False),
        ("e_min", min(E1, E2), False),
        ("e_max", max(E1, E2), True),
        ("cluster_distance_min", math.hypot(X1 - X2, Y1 - Y2), False),
        ("e_sum_min", E1 + E2, False),
        ("e_ratio_min", min(E1, E2) / max(E1, E2), False),
        ("delta_phi_max", dphi, True),
        ("r_coe_min", math.hypot(*coe), False),
        ("theta_energy_min", theta_e, False),
    ]


def test_baseline_pair_passes():
    assert math.hypot(X1, Y1) == pytest.approx(math.hypot(X2, Y2))  # both clusters at the same radius
    assert _pair_passes()


@pytest.mark.parametrize(("cut", "quantity", "passes_when_cut_above"), _edges())
def test_each_pair_cut_at_its_edge(cut, quantity, passes_when_cut_above):
    """The cut value a hair above / below the pair's quantity: one side passes, one fails."""
    scale = max(abs(quantity), 1.0)
    assert _pair_passes(**{cut: quantity + EPS * scale}) is passes_when_cut_above
    assert _pair_passes(**{cut: quantity - EPS * scale}) is not passes_when_cut_above


def test_beam_hole_and_inner_region():
    c = _record(inner_square_half=0.0)
    h = DEFAULTS.beam_hole_half
    assert not koto.cluster_ok(h - EPS, h - EPS, 0.5, c)  # in the 15 × 15 cm² hole
    assert koto.cluster_ok(h + EPS, 10.0, 0.5, c)  # outside it along x
    assert koto.cluster_ok(-10.0, -(h + EPS), 0.5, c)
    s = DEFAULTS.inner_square_half
    # default, as ALPINIST codes it [C]: min(|x|, |y|) > s, outside a cross of half width s
    c = _record()
    assert not koto.cluster_ok(s - EPS, 500.0, 0.5, c)
    assert koto.cluster_ok(s + EPS, 500.0, 0.5, c)
    assert not koto.cluster_ok(-500.0, -(s - EPS), 0.5, c)
    assert koto.cluster_ok(-500.0, -(s + EPS), 0.5, c)
    # KOTO's cut as remembered [M]: max(|x|, |y|) > s, outside the 30 × 30 cm² square only
    c = _record(inner_square_only=1.0)
    assert not koto.cluster_ok(s - EPS, -(s - EPS), 0.5, c)
    assert koto.cluster_ok(s + EPS, 0.0, 0.5, c)
    assert koto.cluster_ok(10.0, s + EPS, 0.5, c)


def test_signal_box_edges():
    c = _record()
    d = DEFAULTS
    assert koto.in_signal_box(d.z_sr_min + EPS, 0.2, c)
    assert not koto.in_signal_box(d.z_sr_min - EPS, 0.2, c)
    assert koto.in_signal_box(3500.0, d.pt_min + EPS, c)
    assert not koto.in_signal_box(3500.0, d.pt_min - EPS, c)
    assert koto.in_signal_box(3500.0, d.pt_max - EPS, c)
    assert not koto.in_signal_box(3500.0, d.pt_max + EPS, c)
    # above 4 m the lower p_T edge rises by 0.2 GeV per 0.7 m [C, ALPINIST]
    z = 4200.0
    pt_low = d.pt_min + (z - d.pt_slope_start) * d.pt_slope
    assert pt_low == pytest.approx(0.13 + 0.2 * 0.2 / 0.7)
    assert koto.in_signal_box(z, pt_low + EPS, c)
    assert not koto.in_signal_box(z, pt_low - EPS, c)
    # the rising edge meets p_T,max = 0.25 at z = 4.42 m: no box beyond
    assert not koto.in_signal_box(4430.0, 0.249, c)
    assert not koto.in_signal_box(d.z_sr_max - EPS, 0.2, c)


def _run(process, events, cuts=None, seed=11, **model):
    raw = card_dict(process, events=events, seed=seed, **model)
    raw["production"] = {"setup": "koto"}
    raw["acceptance"] = {"experiment": "koto", "cuts": cuts or {}}
    return gen.generate(raw)


def test_unsmeared_reconstruction_returns_the_true_vertex():
    """With true photons every preselected event has Z_vtx equal to the true π⁰ vertex; the
    others either do so or took the other root of the quadratic (ALPINIST's choice)."""
    events, _ = _run("KL -> pi0 X", 50_000, cuts={"smear": 0}, m_X=0.135)
    z = ak.to_numpy(events.observables.z_vtx)
    z_true = ak.to_numpy(events.observables.z_true)
    presel = ak.to_numpy(events.selected.presel)
    assert presel.sum() > 300
    assert np.all(np.abs(z - z_true)[presel] < 1e-3)
    reconstructed = np.isfinite(z)
    exact = np.abs(z - z_true) < 1e-3
    assert exact[reconstructed].mean() > 0.9


def test_signal_acceptance_vanishes_above_the_pt_endpoint():
    """p_T ≤ p*(m_X) for a K_L along the axis: below 130 MeV for m_X > 0.281 GeV (§0). KOTO's
    p_T from the centre-of-energy direction overshoots the true p_T by up to ~5 % (O(θ²)),
    so the endpoint is sharp from m_X = 0.29 GeV (p* = 123 MeV)."""
    m_kl = pdg.mass(130)
    for m_x, expected_zero in [(0.29, True), (0.25, False)]:
        p_star = two_body_momentum(m_kl, M_PI0, m_x)
        assert (p_star < DEFAULTS.pt_min) is expected_zero
        events, summary = _run("KL -> pi0 X", 50_000, cuts={"smear": 0}, m_X=m_x)
        sr = summary["acceptance"]["SR"]["value"]
        assert (sr == 0.0) is expected_zero
        pt = ak.to_numpy(events.observables.pt)
        presel = ak.to_numpy(events.selected.presel)
        assert np.all(pt[presel] <= p_star * 1.05)
    # with smearing, far enough above the endpoint
    _, summary = _run("KL -> pi0 X", 100_000, m_X=0.30)
    assert summary["acceptance"]["SR"]["value"] == 0.0
    assert summary["acceptance"]["presel"]["value"] > 0.0


def test_cluster_smearing_widths():
    """σ_E/E = 1 % ⊕ 2 %/√E and 3 mm per coordinate (§2.3 [M]): the spread of the smeared
    cluster energy around the true one, for K_L → π⁰νν̄ photons (5σ on the width)."""
    events, _ = _run("KL -> pi0 nu nu~ (SM)", 100_000, cuts={})
    true_events, _ = _run("KL -> pi0 nu nu~ (SM)", 100_000, cuts={"smear": 0})
    e_smeared = ak.to_numpy(events.observables.E_gamma1)
    e_true = ak.to_numpy(true_events.observables.E_gamma1)
    pulls = (e_smeared - e_true) / (e_true * np.sqrt(0.01**2 + 0.02**2 / e_true))
    on_csi = np.isfinite(pulls) & (e_true > 0.05)
    pulls = pulls[on_csi]
    assert pulls.size > 50_000
    assert abs(pulls.mean()) < 5 / math.sqrt(pulls.size)
    assert abs(pulls.std() - 1) < 5 / math.sqrt(2 * pulls.size)
