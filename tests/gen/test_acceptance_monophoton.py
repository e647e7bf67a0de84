"""LEP and FCC-ee monophoton selections: hand-built photons at every cut, smearing, efficiency."""

from __future__ import annotations

import math

import numpy as np
import pytest
from axgen_testing import card_dict

import gen
from gen import acceptance
from gen.cards import CardError

M_Z = 91.188
M_X = 2.1
LINE = (M_Z**2 - M_X**2) / (2 * M_Z)
CONTEXT = {"photon_slot": 1, "sqrt_s": M_Z, "m_X": M_X}


def _photons(energies, cos_thetas):
    """A batch whose slot 1 holds photons of the given energies and polar angles."""
    n = len(energies)
    p = np.zeros((4, n, 2))
    for i, (e, c) in enumerate(zip(energies, cos_thetas, strict=True)):
        s = math.sqrt(1 - c * c)
        p[:, i, 1] = (e, e * s, 0.0, e * c)
    return p


def _exact(name, **cuts):
    """The model applied to the true photon (the line window keeps its resolution width)."""
    return acceptance.get(name, {"smear": 0.0, **cuts})


def _window(name):
    """Half width n σ_E(E_line) of the line window."""
    stochastic, constant = (0.0, 0.015) if name == "lep" else (0.11, 0.01)
    return 3.0 * math.sqrt(stochastic**2 / LINE + constant**2) * LINE


@pytest.mark.parametrize("name", ["lep", "fccee"])
def test_polar_angle_cut(name):
    model = _exact(name)
    c_max = model.cuts.cos_theta_max
    cos_values = [c_max - 1e-9, -(c_max - 1e-9), c_max + 1e-9, -(c_max + 1e-9)]
    _, selected = model.apply(_photons([LINE] * 4, cos_values), None, np.zeros(4), CONTEXT, 1, 0)
    assert selected["SR_inclusive"].tolist() == [True, True, False, False]
    assert selected["SR"].tolist() == [True, True, False, False]


@pytest.mark.parametrize("name", ["lep", "fccee"])
def test_minimum_energy_cut(name):
    model = _exact(name, e_min=20.0)
    _, selected = model.apply(
        _photons([20.0 + 1e-9, 20.0 - 1e-9], [0.0, 0.0]), None, np.zeros(2), CONTEXT, 1, 0
    )
    assert selected["SR_inclusive"].tolist() == [True, False]
    assert selected["SR"].tolist() == [False, False]  # 20 GeV is far from the 45.6 GeV line


@pytest.mark.parametrize("name", ["lep", "fccee"])
def test_line_window(name):
    half = _window(name)
    energies = [LINE + 0.999 * half, LINE - 0.999 * half, LINE + 1.001 * half, LINE - 1.001 * half]
    observables, selected = _exact(name).apply(
        _photons(energies, [0.0] * 4), None, np.zeros(4), CONTEXT, 1, 0
    )
    assert observables["E_gamma"].tolist() == energies  # the true photon
    assert selected["SR"].tolist() == [True, True, False, False]
    assert selected["SR_inclusive"].tolist() == [True] * 4
    # m²_rec = s − 2√s E_γ
    np.testing.assert_allclose(
        observables["m2_rec"], M_Z**2 - 2 * M_Z * np.array(energies), rtol=1e-12
    )


def test_smearing_is_reproducible_and_gaussian():
    model = acceptance.get("fccee", {})
    n = 200_000
    p = _photons([LINE] * n, [0.1] * n)
    first, _ = model.apply(p, None, np.zeros(n), CONTEXT, 7, 0)
    again, _ = model.apply(p, None, np.zeros(n), CONTEXT, 7, 0)
    assert np.array_equal(first["E_gamma"], again["E_gamma"])
    sigma = math.sqrt(0.11**2 / LINE + 0.01**2) * LINE
    pulls = (first["E_gamma"] - LINE) / sigma
    assert abs(pulls.mean()) < 5 / math.sqrt(n)
    assert abs(pulls.std() - 1) < 5 / math.sqrt(2 * n)
    theta = np.arccos(first["cos_theta_gamma"])
    assert abs((theta - math.acos(0.1)).std() - 1e-3) < 5e-3 / math.sqrt(2 * n)


def test_efficiency_and_region_factors():
    assert acceptance.get("lep", {}).efficiency == {"SR": 0.75, "SR_inclusive": 0.75}
    assert acceptance.get("fccee", {"efficiency": 0.9}).efficiency == {
        "SR": 0.9,
        "SR_inclusive": 0.9,
    }


def test_recoil_mass_peaks_at_m_x_squared_after_smearing():
    """m²_rec = s − 2√s E_γ: mean m_X², width 2√s σ_E at the line (LEP: 1.5 %)."""
    events, summary = gen.generate(
        {
            **card_dict("Z -> gamma X", events=200_000, seed=51, m_X=M_X, narrow_width=True),
            "acceptance": {"experiment": "lep"},
        }
    )
    import awkward as ak

    m2 = ak.to_numpy(events.observables.m2_rec)
    w = ak.to_numpy(events.weight)
    mean = np.sum(w * m2) / w.sum()
    std = math.sqrt(np.sum(w * (m2 - mean) ** 2) / w.sum())
    expected_std = 2 * M_Z * 0.015 * LINE
    assert abs(mean - M_X**2) < 5 * expected_std / math.sqrt(len(m2))
    assert std == pytest.approx(expected_std, rel=0.01)
    # acceptance: |cosθ| < 0.7 of an isotropic photon × ε = 0.75, line window ±3σ keeps 99.73 %
    assert summary["acceptance"]["SR_inclusive"]["value"] == pytest.approx(0.7 * 0.75, abs=0.005)
    assert summary["acceptance"]["SR"]["value"] / summary["acceptance"]["SR_inclusive"][
        "value"
    ] == pytest.approx(0.9973, abs=0.002)


def test_expected_events_from_n_z_and_luminosity():
    raw = card_dict("Z -> gamma X", events=20_000, seed=52, run={"n_parents": 1.7e7})
    raw["acceptance"] = {"experiment": "lep"}
    _, summary = gen.generate(raw)
    br_sel = summary["rate"]["value"] * summary["acceptance"]["SR"]["value"]
    assert summary["expected_events"]["SR"] == pytest.approx(1.7e7 * br_sel, rel=1e-9)
    raw = card_dict("e+ e- -> gamma X", events=20_000, seed=53, run={"luminosity": 140.0})
    raw["acceptance"] = {"experiment": "fccee"}
    _, summary = gen.generate(raw)
    sigma_sel = summary["rate"]["value"] * summary["acceptance"]["SR"]["value"]
    assert summary["expected_events"]["SR"] == pytest.approx(140.0 * sigma_sel, rel=1e-9)


@pytest.mark.parametrize(
    ("raw_change", "fragment"),
    [
        (
            {"acceptance": {"experiment": "lep", "cuts": {"e_mn": 3}}},
            "acceptance.cuts.e_mn: unknown cut for 'lep'; did you mean 'e_min'?",
        ),
        (
            {"acceptance": {"experiment": "lep", "cuts": {"efficiency": 2.0}}},
            "acceptance.cuts.efficiency: expected a number in (0, 1], got 2.0",
        ),
        ({"acceptance": {"experiment": "lpe"}}, "did you mean 'lep'?"),
        ({"run": {"n_parents": 1e9}}, "run.n_parents: 'e+ e- -> gamma X' is a cross section"),
        (
            {"production": {"setup": "rest"}},
            "production.setup: expected 'ee' for 'e+ e- -> gamma X'",
        ),
    ],
)
def test_bad_monophoton_cards(raw_change, fragment):
    raw = card_dict("e+ e- -> gamma X")
    for section, values in raw_change.items():
        raw.setdefault(section, {}).update(values)
    with pytest.raises(CardError) as err:
        gen.driver.check(raw, "<card>")
    assert any(fragment in line for line in err.value.problems), err.value.problems


def test_lep_acceptance_refuses_meson_processes():
    raw = card_dict("K+ -> pi+ X")
    raw["acceptance"] = {"experiment": "lep"}
    with pytest.raises(CardError, match="'lep' applies to monophoton processes"):
        gen.driver.check(raw, "<card>")
