"""PDG data against physics.md §9 (PDG 2024), independent of the code's tables."""

from __future__ import annotations

import pytest

from gen import pdg

HBAR = 6.582119569e-25

# physics.md §9: masses in GeV, mean lives in s
MASSES = {
    211: 0.13957039,
    111: 0.1349768,
    321: 0.493677,
    311: 0.497611,
    130: 0.497611,
    310: 0.497611,
    521: 5.27941,
    511: 5.27972,
    313: 0.89555,
    323: 0.89167,
    23: 91.1880,
}
MEAN_LIVES = {321: 1.2380e-8, 130: 5.116e-8, 521: 1.638e-12, 511: 1.517e-12}


@pytest.mark.parametrize("pid", sorted(MASSES))
def test_masses(pid):
    assert pdg.mass(pid) == MASSES[pid]  # the same double: converted through the decimal text


@pytest.mark.parametrize("pid", sorted(MEAN_LIVES))
def test_parent_lifetimes(pid):
    assert pdg.lifetime_over_hbar(pid) * HBAR == pytest.approx(MEAN_LIVES[pid], rel=1e-12)
    # and the PDG-2024 table's rounded width agrees with the mean life to its 4 digits
    assert HBAR / pdg.width(pid) == pytest.approx(MEAN_LIVES[pid], rel=5e-4)


def test_widths_of_resonances():
    assert pdg.width(313) == pytest.approx(0.0473)
    assert pdg.width(23) == pytest.approx(2.4955)


def test_pdg_edition_and_user_table_untouched(tmp_path, monkeypatch):
    """Reading the PDG-2024 table (no cache yet: through ``particle``) leaves the user's
    global ``particle`` table as it was."""
    from particle import Particle

    monkeypatch.setenv("AXGEN_CACHE_DIR", str(tmp_path))
    pdg._properties.cache_clear()
    pdg._table.cache_clear()
    try:
        before = Particle.table_names()
        assert pdg.mass(321) == MASSES[321]
        assert pdg._table.cache_info().currsize == 1  # the table was read just now
        assert pdg.PDG_EDITION == 2024
        assert Particle.table_names() == before
    finally:
        pdg._properties.cache_clear()


def test_property_cache_matches_particle(tmp_path, monkeypatch):
    """The JSON cache that spares each run the import of ``particle`` holds exactly what
    ``particle`` says, for every particle of the table, and is read back as written."""
    monkeypatch.setenv("AXGEN_CACHE_DIR", str(tmp_path))
    pdg._properties.cache_clear()
    try:
        from_particle = pdg._properties_from_particle()
        written = pdg._properties()  # no cache yet: from particle, then written
        assert pdg.cache_path().parent == tmp_path
        assert pdg.cache_path().exists()
        pdg._properties.cache_clear()
        read = pdg._properties()  # from the file
        assert read == written == from_particle
        assert len(read) > 500
        assert read[321][2] == "K+"
        assert read[-321][3] == -1.0
        assert read[111][4] is True
        assert pdg.mass(321) == MASSES[321]
    finally:
        pdg._properties.cache_clear()


def test_property_cache_unwritable_directory(tmp_path, monkeypatch):
    """Without a writable cache the values still come from ``particle``."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("AXGEN_CACHE_DIR", str(blocker / "sub"))
    pdg._properties.cache_clear()
    try:
        assert pdg.mass(521) == MASSES[521]
        assert not (blocker / "sub").exists()
    finally:
        pdg._properties.cache_clear()
