"""Every generated event conserves four-momentum at every vertex and is on shell."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
from axgen_testing import ALL_PROCESSES, card_dict, check_events, check_record
from hypothesis import given, settings
from hypothesis import strategies as st

import gen
from gen import pdg
from gen.driver import _generate
from phase_space.random import stream_key
from phase_space.vegas_map import FrozenMap


@pytest.mark.parametrize("process", ALL_PROCESSES)
def test_generated_records(process):
    """Conservation and mass shells; a narrow K* has the K π mass at the K* mass."""
    events, _summary = gen.generate(card_dict(process, events=3000, run={"conjugate": "both"}))
    parts = events.particles
    pid = ak.to_numpy(parts.pid)
    mother = ak.to_numpy(parts.mother)[0]
    prepared = gen.driver.validate(gen.cards.parse(card_dict(process), "<test>"))
    check_events(events, prepared.topology.mothers2)
    # every particle has its production vertex at the decay vertex of its mother
    vt = ak.to_numpy(parts.vt)
    for c in ("vx", "vy", "vz", "vt"):  # every vertex is set (beams and parents at the origin)
        assert np.all(np.isfinite(ak.to_numpy(parts[c])))
        assert np.all(ak.to_numpy(parts[c])[:, mother < 0] == 0.0)
    assert np.all(vt[:, 0] == 0.0)
    produced = mother >= 0
    assert np.all(vt[:, produced] >= vt[:, mother[produced]])
    # both charge states appear, and the neutrino slots carry a ν and a ν̄ of one flavour
    conjugates = {1} if pdg.is_self_conjugate(int(pid[0, 0])) or "gamma" in process else {-1, 1}
    assert set(np.sign(pid[:, 0])) == conjugates
    nu = np.flatnonzero(np.isin(np.abs(pid[0]), (12, 14, 16)))
    assert np.all(pid[:, nu[0]] == -pid[:, nu[1]])


THRESHOLDS = {
    "K+ -> pi+ X": (321, 211),
    "KL -> pi0 X": (130, 111),
    "B+ -> K+ X": (521, 321),
    "B0 -> K0 X": (511, 311),
    "B0 -> K*0(K+ pi-) X": (511, 313),
    "B+ -> K*+(K0S pi+) X": (521, 323),
    "B+ -> K*+(K+ pi0) X": (521, 323),
    "Z -> gamma X": (23, 22),
}


@settings(deadline=None, max_examples=60)
@given(
    process=st.sampled_from(sorted(THRESHOLDS)),
    mass_fraction=st.floats(0.001, 0.999),
    seed=st.integers(0, 2**32),
    narrow=st.booleans(),
    narrow_kstar=st.booleans(),
    conjugate=st.sampled_from(["particle", "antiparticle", "both"]),
)
def test_kernel_conservation_over_the_whole_range(
    process, mass_fraction, seed, narrow, narrow_kstar, conjugate
):
    """Random m_X over the whole kinematic range, random seeds, X and K* line shapes."""
    parent, daughter = THRESHOLDS[process]
    m_x = mass_fraction * (pdg.mass(parent) - pdg.mass(daughter))
    raw = card_dict(
        process,
        m_X=m_x,
        narrow_width=narrow,
        width_X=0.05 * m_x,
        narrow_kstar=narrow_kstar,
        run={"conjugate": conjugate},
    )
    prepared = gen.driver.validate(gen.cards.parse(raw, "<test>"))
    frozen = FrozenMap.identity(prepared.n_dim)
    p, pid, fjac, q2 = _generate(prepared, frozen, stream_key(seed, 1), 0, 500)
    assert np.all(np.isfinite(fjac))
    assert np.all(fjac >= 0)
    p = np.moveaxis(p, 0, -1)
    topo = prepared.topology
    labels = list(topo.labels)
    masses = np.broadcast_to(topo.masses, pid.shape).copy()
    m2 = p[..., 0] ** 2 - np.sum(p[..., 1:] ** 2, axis=-1)
    # off-shell slots (X, a Breit–Wigner K*): the generated mass is their invariant mass
    free = np.isnan(topo.masses)
    masses[:, free] = np.sqrt(np.maximum(m2[:, free], 0.0))
    check_record(pid, topo.status, topo.mothers, p, masses, topo.mothers2)
    x = labels.index("X")
    assert np.allclose(m2[:, x], q2, rtol=1e-9, atol=1e-12 * pdg.mass(parent) ** 2)
    if narrow:
        assert np.allclose(q2, m_x * m_x, rtol=1e-12)
    if "K*" in labels[1] and narrow_kstar:
        assert np.allclose(np.sqrt(m2[:, 1]), pdg.mass(daughter), rtol=1e-9)
    # determinism: the same seed gives the same events
    p2, _pid2, fjac2, _ = _generate(prepared, frozen, stream_key(seed, 1), 0, 500)
    assert np.array_equal(np.moveaxis(p2, 0, -1), p)
    assert np.array_equal(fjac2, fjac)
