"""Belle II: Υ(4S) → BB̄ production at SuperKEKB and the belle2 acceptance (experiments.md §3)."""

from __future__ import annotations

import json
import math

import awkward as ak
import numpy as np
import pytest
from axgen_testing import M_B_PLUS, M_K_PLUS, boost_to_rest, card_dict, check_events, momenta
from scipy import stats

import gen
from gen.acceptance import belle2
from gen.cards import CardError
from gen.production import upsilon4s

C_TAU_B_PLUS_MM = 1.638e-12 * 299_792_458.0e3  # PDG 2024 mean life × c


def _belle2(process: str = "B+ -> K+ nu nu~ (SM)", events: int = 20_000, seed: int = 3,
            production: dict | None = None, **model):
    raw = card_dict(process, events=events, seed=seed, run={"conjugate": "both"}, **model)
    raw["production"] = {"setup": "belle2", **(production or {})}
    raw["acceptance"] = {"experiment": "belle2"}
    return gen.generate(raw)


def test_beams_and_boost():
    """7 GeV e⁻ on 4 GeV e⁺ at 83 mrad, scaled to √s = m_Υ(4S): βγ ≈ (0.043, 0, 0.284) (§3.1)."""
    beams = upsilon4s.Belle2Beams()
    electron, positron = upsilon4s.beam_momenta(beams)
    total = electron + positron
    sqrt_s = math.sqrt(total[0] ** 2 - total[1:] @ total[1:])
    assert sqrt_s == pytest.approx(10.5794, rel=1e-13)
    # independent: massless beams E₁, E₂ at ±41.5 mrad scaled by k, s = 2E₁E₂k²(1 + cos θ_c)
    half = 0.0415
    k = 10.5794 / math.sqrt(2 * 7.0 * 4.0 * (1 + math.cos(2 * half)))
    expected_p = k * np.array([(7.0 + 4.0) * math.sin(half), 0.0, (7.0 - 4.0) * math.cos(half)])
    np.testing.assert_allclose(total[1:], expected_p, rtol=1e-7, atol=1e-12)
    beta_gamma = total[1:] / sqrt_s
    np.testing.assert_allclose(beta_gamma, [0.0432, 0.0, 0.2835], atol=5e-4)
    np.testing.assert_allclose(electron[0] / positron[0], 7.0 / 4.0, rtol=1e-7)


def test_upsilon_decay_kinematics():
    """Every event: beams and Υ(4S) fixed, B B̄ back to back in the c.m. with |p*| =
    √(s/4 − m_B²) (0.331 GeV/c, §0), the other B the charge conjugate, status 1, undecayed;
    conservation and mass shells at every vertex."""
    events, summary = _belle2(events=5_000)
    assert summary["record"][:5] == ["e-", "e+", "Upsilon(4S)", "B+", "B-"]
    p = check_events(events, mothers2=np.array([-1, -1, 1] + [-1] * 6))
    pid = ak.to_numpy(events.particles.pid)
    status = ak.to_numpy(events.particles.status)[0]
    assert list(status[:5]) == [4, 4, 2, 2, 1]
    np.testing.assert_array_equal(pid[:, 4], -pid[:, 3])
    assert set(np.unique(pid[:, 3])) == {521, -521}
    upsilon = p[:, 2]
    p_star = np.linalg.norm(boost_to_rest(p[:, 3], upsilon)[:, 1:], axis=1)
    expected = math.sqrt(10.5794**2 / 4 - M_B_PLUS**2)
    np.testing.assert_allclose(p_star, expected, rtol=1e-9)
    # experiments.md's 0.331 used m_B+ = 5279.34 MeV; with PDG 2024 (5279.41) it is 0.3298
    assert expected == pytest.approx(0.331, rel=5e-3)
    assert summary["production"]["p_star_B"] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(
        boost_to_rest(p[:, 3], upsilon)[:, 1:], -boost_to_rest(p[:, 4], upsilon)[:, 1:], atol=1e-12
    )


def test_cm_axis_is_the_electron_beam_in_the_cm():
    """The 1 − cos²θ* axis: the e⁻ direction after a numpy boost to the c.m. (the e⁺ exactly
    opposite) — not the lab z axis, from which the crossing tilts it (experiments.md §3.1)."""
    beams = upsilon4s.Belle2Beams()
    electron, positron = upsilon4s.beam_momenta(beams)
    run = upsilon4s.upsilon_decay(beams, M_B_PLUS)
    e_cm = boost_to_rest(electron, electron + positron)[1:]
    np.testing.assert_allclose(run.axes[2], e_cm / np.linalg.norm(e_cm), atol=1e-14)
    np.testing.assert_allclose(run.axes @ run.axes.T, np.eye(3), atol=1e-14)
    np.testing.assert_allclose(np.cross(run.axes[0], run.axes[1]), run.axes[2], atol=1e-14)
    p_cm = boost_to_rest(positron, electron + positron)[1:]
    np.testing.assert_allclose(p_cm / np.linalg.norm(p_cm), -run.axes[2], atol=1e-14)  # collinear
    tilt = math.acos(run.axes[2][2])
    assert 5.0e-3 < tilt < 6.5e-3, tilt  # 5.8 mrad: the x boost undoes most of the 41.5 mrad


def _cm_angles(events) -> tuple[np.ndarray, np.ndarray]:
    """cos θ* and φ* of the signal B about the e⁻ direction in the c.m. (numpy, independent)."""
    p = momenta(events)
    upsilon = p[:, 2]
    b_cm = boost_to_rest(p[:, 3], upsilon)[:, 1:]
    e_cm = boost_to_rest(p[:, 0], upsilon)[:, 1:]
    z_axis = e_cm / np.linalg.norm(e_cm, axis=1, keepdims=True)
    y_axis = np.array([0.0, 1.0, 0.0])
    x_axis = np.cross(y_axis, z_axis)
    b_hat = b_cm / np.linalg.norm(b_cm, axis=1, keepdims=True)
    cos_theta = np.sum(b_hat * z_axis, axis=1)
    phi = np.arctan2(b_hat @ y_axis, np.sum(b_hat * x_axis, axis=1))
    return cos_theta, phi


def test_b_direction_follows_one_minus_cos2():
    """cos θ* of the B in the c.m. about the beam axis: χ² against (3/4)(1 − cos²θ*) in 20
    equal-probability bins (p > 1e-3, fixed seed) and ⟨cos²θ*⟩ = 1/5 within 5σ (1/3 if flat);
    φ* uniform."""
    n = 200_000
    events, _ = _belle2(events=n, seed=11)
    cos_theta, phi = _cm_angles(events)
    edges = np.array([upsilon4s.cos_theta_one_minus_cos2(u) for u in np.linspace(0.0, 1.0, 21)])
    counts, _ = np.histogram(cos_theta, bins=edges)
    chi2 = float(np.sum((counts - n / 20) ** 2 / (n / 20)))
    assert stats.chi2.sf(chi2, 19) > 1e-3, chi2
    mean_c2 = float(np.mean(cos_theta**2))
    sigma = math.sqrt(3 / 35 - 1 / 25) / math.sqrt(n)
    assert abs(mean_c2 - 0.2) < 5 * sigma, (mean_c2, sigma)
    counts_phi, _ = np.histogram(phi, bins=20, range=(-math.pi, math.pi))
    assert stats.chi2.sf(float(np.sum((counts_phi - n / 20) ** 2 / (n / 20))), 19) > 1e-3


def test_inverse_cdf_of_one_minus_cos2():
    """F(c) = (2 + 3c − c³)/4 inverted exactly."""
    u = np.linspace(0.0, 1.0, 1001)
    c = np.array([upsilon4s.cos_theta_one_minus_cos2(x) for x in u])
    np.testing.assert_allclose((2 + 3 * c - c**3) / 4, u, atol=1e-14)


def test_b_flight_and_vertices():
    """The Υ(4S) decays at the IP; the signal B flies ⟨L/(βγ)⟩ = cτ_B (within 5σ); its
    daughters start at its decay vertex; the other B has no decay vertex."""
    events, _ = _belle2(events=50_000, seed=5)
    parts = events.particles
    vertex = np.stack([ak.to_numpy(parts[c]) for c in ("vx", "vy", "vz", "vt")], axis=-1)
    np.testing.assert_array_equal(vertex[:, :5], 0.0)
    p = momenta(events)
    b = p[:, 3]
    kaon_vertex = vertex[:, 5]
    flight = np.linalg.norm(kaon_vertex[:, :3], axis=1)
    proper = flight * M_B_PLUS / np.linalg.norm(b[:, 1:], axis=1)
    assert abs(proper.mean() - C_TAU_B_PLUS_MM) < 5 * proper.std() / math.sqrt(proper.size)
    # along the B direction, and ct = (E/|p|) × path
    direction = b[:, 1:] / np.linalg.norm(b[:, 1:], axis=1, keepdims=True)
    np.testing.assert_allclose(kaon_vertex[:, :3], direction * flight[:, None], atol=1e-12)
    np.testing.assert_allclose(kaon_vertex[:, 3], flight * b[:, 0] / np.linalg.norm(b[:, 1:], axis=1), rtol=1e-9)


def test_q2_rec_equals_q2_for_b_at_rest():
    """√s = 2 m_B: the B is at rest in the c.m. and q²_rec = s/4 + m_K² − √s E*_K is q²."""
    events, _ = _belle2(events=2_000, production={"sqrt_s": 2 * M_B_PLUS})
    obs = events.observables
    np.testing.assert_allclose(ak.to_numpy(obs.q2_rec), ak.to_numpy(obs.q2), rtol=0, atol=1e-9)


def test_q2_rec_is_the_cm_formula():
    """q²_rec from the event = s/4 + m_K² − √s E*_K with E*_K from a numpy boost; the B motion
    smears it around q² by up to √s (p*_B/m_B) p*_K (§0)."""
    events, _ = _belle2(events=5_000)
    p = momenta(events)
    upsilon = p[:, 2]
    s = upsilon[:, 0] ** 2 - np.sum(upsilon[:, 1:] ** 2, axis=1)
    e_k = boost_to_rest(p[:, 5], upsilon)[:, 0]
    expected = s / 4 + M_K_PLUS**2 - np.sqrt(s) * e_k
    q2_rec = ak.to_numpy(events.observables.q2_rec)
    np.testing.assert_allclose(q2_rec, expected, atol=1e-9)
    q2 = ak.to_numpy(events.observables.q2)
    assert np.max(np.abs(q2_rec - q2)) < 1.8
    assert np.std(q2_rec - q2) > 0.2


def test_tracks_in_cdc():
    """``tracks``: the K⁺ polar angle in the lab within 17°–150° (§3.2)."""
    events, _ = _belle2(events=5_000)
    theta = np.degrees(ak.to_numpy(events.observables.theta_h))
    p = momenta(events)
    np.testing.assert_allclose(np.cos(np.radians(theta)), p[:, 5, 3] / np.linalg.norm(p[:, 5, 1:], axis=1), atol=1e-12)
    np.testing.assert_array_equal(ak.to_numpy(events.selected.tracks), (theta >= 17.0) & (theta <= 150.0))


def test_efficiency_table_reproduces_the_densities():
    """ε_i(q²_j) × N_SM f_j gives back N_ij (underflow moved to the first bin), and the SM
    fractions sum to 1 up to the sliver beyond the binning."""
    table, names = belle2.efficiency_table()
    fractions = belle2.sm_fractions()
    assert fractions.sum() == pytest.approx(1.0, abs=1e-6)  # 1e-7 lies in 22.885 GeV² < q² < q²_max
    density = belle2.number_densities()
    rebuilt = table[: len(belle2.ANALYSIS_BINS), :-1] * belle2.N_SM_PUBLISHED * fractions
    np.testing.assert_allclose(rebuilt.sum(axis=1), density.sum(axis=1), rtol=1e-12)
    assert names[-3:] == ("ITA", "ITA_SR", "HTA")
    assert np.all(table >= 0)
    assert np.all(table[:, -1] == 0)


# the published per-bin SM signal of the likelihood (experiments.md §3.5): ITA per q²_rec column
# over the four η(BDT2) bins, and HTA
ITA_COLUMNS = {"low": 72.9, "mid": 54.0, "high": 33.1}
ITA_TOTAL = 159.9
HTA_TOTAL = 8.05


@pytest.mark.slow
def test_sm_events_reproduce_the_published_templates():
    """The product's own SM B⁺ → K⁺νν̄ events, folded through the number densities and scaled
    to BR_SM = 4.97e-6 (the templates' normalisation), give the likelihood's SM signal per
    analysis bin within 3 % (and within 5σ of MC error); the summary names the analysis bins."""
    events, summary = _belle2(events=1_000_000, seed=21)
    scale = belle2.BR_SM_PUBLISHED / summary["rate"]["value"]
    expected = {k: v * scale for k, v in summary["expected_events"].items()}
    assert summary["production"]["n_parents"] == pytest.approx(2 * 387e6 * 0.516)
    for column, published in ITA_COLUMNS.items():
        ours = sum(expected[k] for k in expected if k.startswith("ITA_") and k.endswith(column))
        assert ours == pytest.approx(published, rel=0.03), column
    assert expected["ITA"] == pytest.approx(ITA_TOTAL, rel=0.03)
    assert expected["HTA"] == pytest.approx(HTA_TOTAL, rel=0.03)
    templates = belle2.number_densities().sum(axis=1)
    for i, name in enumerate(belle2.ANALYSIS_BINS):
        acc = summary["acceptance"][name]
        error = acc["error"] / acc["value"] * expected[name]
        assert abs(expected[name] - templates[i]) < max(5 * error, 1e-3 * templates[i]), name
    # the efficiency columns are per-event selection probabilities
    assert events.selected.ITA.type.content.primitive == "float64"
    assert summary["acceptance"]["ITA"]["value"] == pytest.approx(0.0806, rel=0.01)


# experiments.md §3.6 (derived with the Ball–Zwicky 2004 shape) and §7 targets: ε_ITA per q² bin
# within ±20 % below 12 GeV², the ITA total 8.06 % ± 15 %, HTA 0.41 % ± 25 %
ITA_TARGETS = {(0.0, 2.3): 0.178, (2.3, 4.6): 0.167, (4.6, 6.9): 0.133, (6.9, 9.2): 0.094, (9.2, 11.4): 0.057}


def test_efficiency_map_meets_the_published_targets():
    """The map derived with physics.md's SM shape against the independent §3.6/§7 targets."""
    table, names = belle2.efficiency_table()
    fractions = belle2.sm_fractions()
    centres = 0.5 * (belle2.Q2_GEN_EDGES[1:] + belle2.Q2_GEN_EDGES[:-1])
    ita = table[names.index("ITA"), :-1]
    for (lo, hi), target in ITA_TARGETS.items():
        inside = (centres > lo) & (centres < hi)
        mean = float(np.sum(ita[inside] * fractions[inside]) / np.sum(fractions[inside]))
        assert mean == pytest.approx(target, rel=0.20), (lo, hi, mean)
    assert float(ita @ fractions) == pytest.approx(0.0806, rel=0.15)
    assert float(table[names.index("HTA"), :-1] @ fractions) == pytest.approx(0.0041, rel=0.25)


def test_k0_modes_have_no_track():
    """B⁰ → K⁰νν̄: the K_S/K_L stays undecayed, so no event has a charged signal-side track."""
    events, summary = _belle2("B0 -> K0 nu nu~ (SM)", events=2_000)
    assert summary["acceptance"]["tracks"]["value"] == 0.0
    assert not np.any(ak.to_numpy(events.selected.tracks))


def test_unweighted_and_selected_only(tmp_path):
    """Unweighted mode with the Belle II maps, ``keep = "selected"`` (an event is kept when a flag
    passes or a selection probability is positive), and summary.json on disk naming the bins."""
    raw = card_dict("B+ -> K+ X", events=3_000, seed=9, run={"mode": "unweighted", "keep": "selected"})
    raw["production"] = {"setup": "belle2"}
    raw["acceptance"] = {"experiment": "belle2"}
    events, summary = gen.generate(raw, output_dir=tmp_path)
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert {f"ITA_SR_eta{e}_{q}" for e in (1, 2, 3) for q in ("low", "mid", "high")} | {
        "ITA_CR_low", "ITA_CR_mid", "ITA_CR_high", "ITA", "ITA_SR", "HTA"} | {f"HTA_{i}" for i in range(1, 7)} \
        <= set(on_disk["expected_events"])
    ita = ak.to_numpy(events.selected.ITA)
    kept = ita > 0
    assert np.all(kept | ak.to_numpy(events.selected.tracks))
    assert summary["unweighting"]["efficiency"] > 0.3
    weights = ak.to_numpy(events.weight)
    assert np.mean(weights == weights.min()) > 0.999  # unweighted: equal weights bar overweights


def test_x_efficiency_is_the_map_at_m_x2():
    """For a narrow X the ITA efficiency is ε_ITA(q² = m_X²) of the map (spin-0 argument, §0)."""
    _events, summary = _belle2("B+ -> K+ X", events=20_000, m_X=2.1, narrow_width=True)
    table, names = belle2.efficiency_table()
    column = belle2.q2_gen_bin(np.array([2.1**2]))[0]
    for region in ("ITA", "HTA", "ITA_SR_eta3_low"):
        assert summary["acceptance"][region]["value"] == pytest.approx(table[names.index(region), column], rel=1e-12)


def test_kstar_mode_has_tracks_only():
    """B⁰ → K*⁰(K⁺π⁻)X: q²_rec of the Kπ system, both tracks in the CDC; no published map."""
    events, summary = _belle2("B0 -> K*0(K+ pi-) X", events=5_000)
    assert list(summary["acceptance"]) == ["tracks"]
    p = momenta(events)
    labels = summary["record"]
    kstar, kaon, pion = labels.index("K*(892)0"), labels.index("K+"), labels.index("pi-")
    np.testing.assert_allclose(p[:, kstar], p[:, kaon] + p[:, pion], atol=1e-12)
    half = 0.5 * (p[:, 0] + p[:, 1])
    d = half - p[:, kstar]
    np.testing.assert_allclose(ak.to_numpy(events.observables.q2_rec),
                               d[:, 0] ** 2 - np.sum(d[:, 1:] ** 2, axis=1), atol=1e-9)
    cos_k = p[:, kaon, 3] / np.linalg.norm(p[:, kaon, 1:], axis=1)
    cos_pi = p[:, pion, 3] / np.linalg.norm(p[:, pion, 1:], axis=1)
    inside = ((cos_k <= math.cos(math.radians(17))) & (cos_k >= math.cos(math.radians(150)))
              & (cos_pi <= math.cos(math.radians(17))) & (cos_pi >= math.cos(math.radians(150))))
    np.testing.assert_array_equal(ak.to_numpy(events.selected.tracks), inside)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"production": {"setup": "belle2", "sqrt_s": 10.0}}, "production.sqrt_s: expected at least 2 m_B+"),
        ({"run": {"process": "K+ -> pi+ X"}}, "production.setup: expected 'rest' or 'na62'"),
        ({"production": {"setup": "rest"}}, "acceptance.experiment: 'belle2' needs production setup 'belle2'"),
        ({"acceptance": {"experiment": "belle2", "cuts": {"theta_mn": 20}}}, "did you mean 'theta_min'"),
        ({"acceptance": {"experiment": "belle2", "cuts": {"theta_min": 160}}}, "acceptance.cuts.theta_max"),
        ({"production": {"setup": "belle2", "f_plus_minus": 1.5}}, "production.f_plus_minus: expected a number in (0, 1]"),
    ],
)
def test_card_errors(change, message):
    raw = card_dict("B+ -> K+ X", events=10)
    raw["production"] = {"setup": "belle2"}
    raw["acceptance"] = {"experiment": "belle2"}
    for section, values in change.items():
        raw[section] = {**raw.get(section, {}), **values}
    with pytest.raises(CardError) as err:
        gen.generate(raw)
    assert message in str(err.value), str(err.value)
