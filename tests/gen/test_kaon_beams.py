"""Kaon beams in flight (production setups ``na62`` and ``koto``): the decay law, the
decaying-kaon spectrum, the weight "per kaon entering the decay region", the lab record."""

from __future__ import annotations

import itertools
import math

import awkward as ak
import numba
import numpy as np
import pytest
from axgen_testing import card_dict, check_events
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import gen
from gen import pdg
from gen.cards import CardError
from gen.production import kaon_beams, vertices
from phase_space.block import BLOCK, scratch
from phase_space.maps import GUIDE_SIZE, from_table, tabulated
from phase_space.random import STREAM_PRODUCTION, stream_key, uniforms

C_MM_PER_S = 299_792_458e3
M_K = pdg.mass(321)
M_KL = pdg.mass(130)
CTAU_K = C_MM_PER_S * 1.2380e-8  # RPP 2024 mean lives (physics.md §9)
CTAU_KL = C_MM_PER_S * 5.116e-8


def _events(process, setup, events=100_000, seed=3, production=None, run=None, **model):
    raw = card_dict(process, events=events, seed=seed, run=run, **model)
    raw["production"] = {"setup": setup, **(production or {})}
    return gen.generate(raw)


def _decay_z(events) -> np.ndarray:
    """z of the parent's decay: the production vertex of its first daughter (slot 1)."""
    return ak.to_numpy(events.particles.vz[:, 1])


def _chi2_pvalue(observed: np.ndarray, expected: np.ndarray) -> float:
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    return float(stats.chi2.sf(chi2, observed.size - 1))


def test_na62_decay_positions_follow_the_exponential_law():
    """Fixed momentum and slope: z is exp(−(z − z_min)/λ) truncated to the region,
    λ = (p_z/m) cτ; χ² in 40 equiprobable bins, p-value > 1e-3 (fixed seed)."""
    production = {"momentum_spread": 0.0, "slope_spread": 0.0}
    events, summary = _events("K+ -> pi+ nu nu~ (SM)", "na62", 200_000, production=production)
    beam = kaon_beams.NA62Beam()
    p_z = beam.momentum / math.sqrt(1 + beam.slope_x**2 + beam.slope_y**2)
    lam = p_z / M_K * CTAU_K
    length = beam.z_max - beam.z_min
    probability = -math.expm1(-length / lam)
    quantiles = np.linspace(0, 1, 41)
    edges = beam.z_min - lam * np.log1p(-quantiles * probability)
    observed, _ = np.histogram(_decay_z(events), bins=edges)
    assert observed.sum() == 200_000
    assert _chi2_pvalue(observed, np.full(40, 200_000 / 40)) > 1e-3
    # the weight factor: P(decay in the region) for every event
    assert summary["production"]["decay_probability"] == pytest.approx(probability, rel=1e-8)
    w = ak.to_numpy(events.weight)
    assert w.sum() == pytest.approx(summary["rate"]["value"] * probability, rel=1e-12)


def _koto_density(p: np.ndarray) -> np.ndarray:
    """The §2.1 asymmetric Gaussian with the KOTOBeam defaults (independent of the module)."""
    beam = kaon_beams.KOTOBeam()
    sigma = beam.sigma0 * (1 - (beam.asymmetry_a + beam.asymmetry_s * p) * (p - beam.mu))
    return np.exp(-((p - beam.mu) ** 2) / (2 * sigma**2))


def test_koto_decay_positions_and_momenta():
    """z: the mixture ∫ f(p) e^{−z/λ(p)}/λ(p) dp of exponentials over the K_L spectrum
    (χ², 30 bins); ⟨p⟩ of decaying K_L = ∫ p f P / ∫ f P within 5σ; ⟨P⟩ = ∫ f P / ∫ f."""
    beam = kaon_beams.KOTOBeam()
    n = 200_000
    events, summary = _events("KL -> pi0 nu nu~ (SM)", "koto", n)
    length = beam.z_max - beam.z_min

    def probability(p):
        return -np.expm1(-length * M_KL / (p * CTAU_KL))

    norm = integrate.quad(_koto_density, beam.p_min, beam.p_max, epsabs=0, epsrel=1e-10)[0]
    decaying = integrate.quad(lambda p: _koto_density(p) * probability(p), beam.p_min, beam.p_max,
                              epsabs=0, epsrel=1e-10)[0]
    assert summary["production"]["decay_probability"] == pytest.approx(decaying / norm, rel=2e-6)

    edges = np.linspace(beam.z_min, beam.z_max, 31)

    def in_bin(lo, hi):
        def integrand(p):
            lam = p / M_KL * CTAU_KL
            return _koto_density(p) * (np.exp(-(lo - beam.z_min) / lam) - np.exp(-(hi - beam.z_min) / lam))
        return integrate.quad(integrand, beam.p_min, beam.p_max, epsabs=0, epsrel=1e-10)[0] / decaying

    expected = n * np.array([in_bin(lo, hi) for lo, hi in itertools.pairwise(edges)])
    observed, _ = np.histogram(_decay_z(events), bins=edges)
    assert _chi2_pvalue(observed, expected) > 1e-3

    p_kl = ak.to_numpy(events.particles.pz[:, 0])
    mean = integrate.quad(lambda p: p * _koto_density(p) * probability(p), beam.p_min, beam.p_max,
                          epsabs=0, epsrel=1e-10)[0] / decaying
    assert abs(p_kl.mean() - mean) < 5 * p_kl.std() / math.sqrt(n)
    # the K_L travels along the axis from the target
    assert np.all(ak.to_numpy(events.particles.px[:, 0]) == 0.0)
    assert np.all(ak.to_numpy(events.particles.vz[:, 0]) == beam.z_target)


def test_na62_beam_moments():
    """Momentum ⟨p⟩ of decaying K⁺ (Gaussian × P), slopes 1.2 ± 0.1 mrad and 0 ± 0.1 mrad."""
    n = 100_000
    events, summary = _events("K+ -> pi+ X", "na62", n)
    beam = kaon_beams.NA62Beam()
    px, py, pz = (ak.to_numpy(events.particles[c][:, 0]) for c in ("px", "py", "pz"))
    p = np.sqrt(px**2 + py**2 + pz**2)
    sigma = beam.momentum * beam.momentum_spread
    length = beam.z_max - beam.z_min

    def weight(q):
        return stats.norm.pdf(q, beam.momentum, sigma) * -np.expm1(-length * M_K / (q * CTAU_K))

    lo, hi = beam.momentum - 8 * sigma, beam.momentum + 8 * sigma
    mean = integrate.quad(lambda q: q * weight(q), lo, hi)[0] / integrate.quad(weight, lo, hi)[0]
    # ⟨P⟩ over the Gaussian (p_z = p/√(1 + x′₀²) at the nominal slope)
    norm = math.sqrt(1 + beam.slope_x**2)
    mean_p = integrate.quad(lambda q: stats.norm.pdf(q, beam.momentum, sigma)
                            * -np.expm1(-length * M_K * norm / (q * CTAU_K)), lo, hi, epsabs=0, epsrel=1e-10)[0]
    assert summary["production"]["decay_probability"] == pytest.approx(mean_p, rel=1e-7)
    assert mean < beam.momentum  # softer kaons decay more often
    assert abs(p.mean() - mean) < 5 * p.std() / math.sqrt(n)
    assert p.std() == pytest.approx(sigma, rel=0.02)
    for slope, centre in [(px / pz, beam.slope_x), (py / pz, beam.slope_y)]:
        assert abs(slope.mean() - centre) < 5 * beam.slope_spread / math.sqrt(n)
        assert slope.std() == pytest.approx(beam.slope_spread, rel=0.02)
    # unweighted: equal weights up to the slope correction of P, O(x′₀ σ′) ≈ 1e-7
    events, summary = _events("K+ -> pi+ X", "na62", 20_000, run={"mode": "unweighted"})
    w = ak.to_numpy(events.weight)
    assert w.max() / w.min() - 1 < 1e-6


@pytest.mark.parametrize(("process", "setup"), [("K+ -> pi+ X", "na62"), ("KL -> pi0 X", "koto"),
                                                ("K+ -> pi+ nu nu~ (SM)", "na62"),
                                                ("KL -> pi0 nu nu~ (SM)", "koto")])
def test_lab_records_conserve_momentum_and_sit_on_the_beam_line(process, setup):
    """In the lab: conservation and mass shells at every vertex; each daughter starts where
    its mother decays; the kaon's decay point lies on its line of flight, ct = path E/|p|."""
    events, _ = _events(process, setup, 5_000, m_X=0.1) if "X" in process else _events(process, setup, 5_000)
    parts = events.particles
    p = check_events(events)
    v = np.stack([ak.to_numpy(parts[c]) for c in ("vx", "vy", "vz", "vt")], axis=-1)
    assert np.all(np.isfinite(v))
    decay = v[:, 1]  # the kaon's decay point = its daughters' production vertex
    start = v[:, 0]
    path = decay[:, :3] - start[:, :3]
    kaon = p[:, 0]
    along = path / np.linalg.norm(path, axis=1)[:, None]
    direction = kaon[:, 1:] / np.linalg.norm(kaon[:, 1:], axis=1)[:, None]
    np.testing.assert_allclose(along, direction, atol=1e-9)
    np.testing.assert_allclose(decay[:, 3] - start[:, 3],
                               np.linalg.norm(path, axis=1) * kaon[:, 0] / np.linalg.norm(kaon[:, 1:], axis=1),
                               rtol=1e-9)
    beam = kaon_beams.NA62Beam() if setup == "na62" else kaon_beams.KOTOBeam()
    assert np.all((decay[:, 2] >= beam.z_min) & (decay[:, 2] <= beam.z_max))
    assert np.all(v[:, 2:, 3] >= decay[:, None, 3] - 1e-9)  # nothing before the kaon decays


@settings(deadline=None, max_examples=40)
@given(seed=st.integers(0, 2**40), momentum=st.floats(10.0, 200.0), spread=st.floats(0.0, 0.05),
       slope=st.floats(-5e-3, 5e-3), cos_theta=st.floats(-1.0, 1.0))
def test_na62_boost_property(seed, momentum, spread, slope, cos_theta):
    """Any beam point: a rest-frame two-body record boosted by the kernel conserves 4-momentum
    and keeps the masses (relative 1e-9)."""
    beam = kaon_beams.NA62Beam(momentum=momentum, momentum_spread=spread, slope_x=slope)
    grid = kaon_beams.na62_grid(beam, M_K, CTAU_K)
    m_pi = pdg.mass(211)
    q = math.sqrt((M_K**2 - (m_pi + 0.1) ** 2) * (M_K**2 - (m_pi - 0.1) ** 2)) / (2 * M_K)
    s = math.sqrt(1 - cos_theta**2)
    n = 64
    p = np.zeros((4, n, 3))
    p[:, :, 0] = np.array([M_K, 0, 0, 0])[:, None]
    p[:, :, 1] = np.array([math.hypot(q, m_pi), q * s, 0, q * cos_theta])[:, None]
    p[:, :, 2] = np.array([math.hypot(q, 0.1), -q * s, 0, -q * cos_theta])[:, None]
    _, root, factor = kaon_beams.na62(beam, grid, seed, 0, p, M_K, CTAU_K)
    total = p[:, :, 1] + p[:, :, 2]
    assert np.all(np.abs(total - p[:, :, 0]) <= 1e-9 * p[0, :, 0])
    for slot, m in [(0, M_K), (1, m_pi), (2, 0.1)]:
        m2 = p[0, :, slot] ** 2 - np.sum(p[1:, :, slot] ** 2, axis=0)
        assert np.all(np.abs(m2 - m * m) <= 1e-9 * p[0, :, slot] ** 2)
    assert np.all((root[2] >= beam.z_min) & (root[2] <= beam.z_max))
    # ⟨P⟩ × P(p_z)/P(p_z at the nominal slopes): |Δ ln P| ≲ |x′₀| δx′ ≲ 5e-3 × 5σ′
    np.testing.assert_allclose(factor, grid.mean_probability, rtol=3e-6)


def test_koto_momentum_table(tmp_path):
    """A measured spectrum replaces the shape: a CSV next to the card, read relative to it."""
    table = tmp_path / "spectrum.csv"
    table.write_text("# p [GeV], density\n1.0, 0.0\n1.5, 1.0\n2.0, 0.0\n")
    card = tmp_path / "koto.toml"
    card.write_text(
        '[run]\nprocess = "KL -> pi0 nu nu~ (SM)"\nevents = 20000\n'
        '[production]\nsetup = "koto"\nmomentum_table = "spectrum.csv"\n'
    )
    events, summary = gen.generate(str(card))
    p_kl = ak.to_numpy(events.particles.pz[:, 0])
    assert p_kl.min() >= 1.0
    assert p_kl.max() <= 2.0
    # the triangle between the table's points (not a histogram), times P(p)
    beam = kaon_beams.KOTOBeam()
    length = beam.z_max - beam.z_min

    def decaying(p):
        return (1 - abs(p - 1.5) / 0.5) * -np.expm1(-length * M_KL / (p * CTAU_KL))

    total = integrate.quad(decaying, 1.0, 2.0, points=[1.5], epsabs=0, epsrel=1e-10)[0]
    core = integrate.quad(decaying, 1.25, 1.75, points=[1.5], epsabs=0, epsrel=1e-10)[0] / total
    fraction = np.mean((p_kl > 1.25) & (p_kl < 1.75))
    assert abs(fraction - core) < 5 * math.sqrt(core * (1 - core) / p_kl.size)
    entering = 0.5  # ∫ triangle
    assert summary["production"]["decay_probability"] == pytest.approx(total / entering, rel=1e-5)
    bad = tmp_path / "bad.csv"
    bad.write_text("1.0, 1.0\n0.5, 1.0\n")
    card.write_text(card.read_text().replace("spectrum.csv", "bad.csv"))
    with pytest.raises(CardError, match=r"production\.momentum_table: expected a readable CSV"):
        gen.generate(str(card))
    bad.write_text("1.0, 1.0\n2.0, -1.0\n")
    with pytest.raises(CardError, match=r"densities must be >= 0"):
        gen.generate(str(card))
    card.write_text(card.read_text().replace("bad.csv", "missing.csv"))
    with pytest.raises(CardError, match=r"production\.momentum_table"):
        gen.generate(str(card))


def test_beam_options_are_checked_all_at_once():
    raw = card_dict("K+ -> pi+ X", events=10)
    raw["production"] = {"setup": "na62", "z_max": 90_000.0, "momentum_sprd": 0.01, "slope_x": math.nan,
                         "momentum_spread": 0.2, "momentum": math.inf}
    with pytest.raises(CardError) as err:
        gen.generate(raw)
    assert sorted(err.value.problems) == sorted([
        "<dict>: production.z_max: expected a value above z_min = 102425, got 90000",
        "<dict>: production.momentum_sprd: unknown key for setup 'na62'; did you mean 'momentum_spread'?",
        "<dict>: production.slope_x: expected a slope below 0.1 in size, got nan",
        "<dict>: production.momentum_spread: expected a number >= 0 and < 0.1, got 0.2",
        "<dict>: production.momentum: expected a number > 0, got inf",
    ])
    # decays before the kaon is produced (upstream of GTK3)
    raw["production"] = {"setup": "na62", "z_min": 0.0}
    with pytest.raises(CardError, match=r"production\.z_min: expected a value above z_reference = 102400, got 0"):
        gen.generate(raw)
    # the KOTO decay region must end at the CsI
    raw = card_dict("KL -> pi0 X", events=10)
    raw["production"] = {"setup": "koto", "z_max": 7000.0}
    raw["acceptance"] = {"experiment": "koto"}
    with pytest.raises(CardError, match=r"production\.z_max: expected a value <= acceptance\.cuts\.z_csi = 6000"):
        gen.generate(raw)
    raw = card_dict("K+ -> pi+ X", events=10)
    raw["production"] = {"setup": "koto"}
    with pytest.raises(CardError, match=r"production\.setup: expected 'rest' or 'na62'"):
        gen.generate(raw)


@numba.njit(cache=True)
def _block_momenta(first, key, p_grid, cdf, guide):
    s = scratch()
    kaon_beams._momenta(s, first, key, p_grid, cdf, guide)
    return s[kaon_beams.KAON_P].copy()


@pytest.mark.parametrize("points", [4001, 300_001])
def test_momentum_draw_is_from_table_lane_by_lane(points):
    """The vectorised lookup of the beam block gives from_table's numbers exactly: with the
    beam's 4001-point tables (the guide's bin is almost always right) and with 300 001 points,
    more bins than guide entries, where most lanes step past the guide's bin (the scalar
    fix-up loop)."""
    x = np.linspace(60.0, 90.0, points)
    p_grid, cdf, guide = tabulated(x, np.exp(-0.5 * ((x - 75.0) / 1.5) ** 2) + 1e-3)
    key = stream_key(7, STREAM_PRODUCTION)
    stepped = 0
    for first in (0, 128 * 5, 10**9):
        drawn = _block_momenta(first, key, p_grid, cdf, guide)
        for lane in range(BLOCK):
            u = uniforms(key, first + lane, 1, vertices.FIRST_BEAM_COUNTER + 1)[0, -1]
            assert drawn[lane] == _from_table(u, p_grid, cdf, guide)
            stepped += cdf[guide[int(u * (guide.size - 1))] + 1] <= u
    assert (stepped > 100) == (points > GUIDE_SIZE)


@numba.njit(cache=True)
def _from_table(u, p_grid, cdf, guide):
    return from_table(u, p_grid, cdf, guide)
