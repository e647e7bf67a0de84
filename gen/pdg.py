"""PDG particle data for the generator: PDG 2024 (RPP 2024) through the ``particle`` package.

physics.md §9 and every reference value of physics.md §12 use the PDG-2024 table that
``particle`` 0.25–0.26 ship as ``particle2024.csv``. It is loaded once into a private
snapshot, and the user's global ``particle`` table is restored afterwards, so importing axgen
never changes what ``Particle.from_pdgid`` returns in the user's session.

Importing ``particle`` costs ~0.4 s (it builds literals for every particle), a quarter of a
short run. The few properties the generator reads (mass, width, name, charge, whether the
particle is its own antiparticle) are therefore kept for the whole table in a small JSON
cache, written from ``particle`` the first time and keyed by the ``particle`` version and
the PDG edition (``$AXGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/axgen`` or ``~/.cache/axgen``;
without a writable cache every process reads ``particle``). :func:`particle` still returns the
``particle.Particle`` itself.

Masses and widths are converted from MeV to GeV here, at the boundary. Parent lifetimes
(physics.md §4.6: BR = Γ τ/ħ) are the RPP 2024 mean lives of physics.md §9 for the weakly
decaying parents: the table stores their widths rounded to four digits, which would shift
BR(K_L) by 3e-4; for every other particle τ = ħ/Γ of the table.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

PDG_EDITION = 2024
_TABLE_FILE = f"particle{PDG_EDITION}.csv"
_LOCK = threading.Lock()

HBAR_GEV_S = 6.582119569e-25

MEAN_LIFE_S = {
    321: 1.2380e-8,  # K±, RPP 2024 (physics.md §9)
    130: 5.116e-8,  # K_L
    521: 1.638e-12,  # B±
    511: 1.517e-12,  # B0
}
"""RPP 2024 mean lives (s) of the weakly decaying parents, as measured (physics.md §9)."""

X_DEFAULT_PID = 32
"""PDG id of X unless the card says otherwise (design.md §4)."""


@functools.cache
def _table() -> dict[int, Any]:
    from particle import Particle
    from particle import data as particle_data

    with _LOCK:
        saved = (Particle._table, Particle._hash_table, Particle._table_names)
        try:
            with particle_data.basepath.joinpath(_TABLE_FILE).open() as f:
                Particle.load_table(f, append=False, _name=_TABLE_FILE)
            return dict(Particle._hash_table or {})
        finally:
            Particle._table, Particle._hash_table, Particle._table_names = saved


def particle(pid: int) -> Any:
    """The ``particle.Particle`` of PDG id ``pid`` in the PDG-2024 table."""
    try:
        return _table()[int(pid)]
    except KeyError:
        raise LookupError(f"PDG id {pid} is not in the PDG {PDG_EDITION} table") from None


_CACHE_LAYOUT = 1
"""Version of the cached tuple layout (mass, width, name, charge, self-conjugate): a change
of layout changes the file name, so an old file is never read as new data."""


def cache_path() -> Path:
    """Where the property cache of the installed ``particle`` version lives."""
    root = os.environ.get("AXGEN_CACHE_DIR")
    if not root:
        root = str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "axgen")
    return Path(root) / f"pdg{PDG_EDITION}-particle-{metadata.version('particle')}-v{_CACHE_LAYOUT}.json"


def _properties_from_particle() -> dict[int, tuple[Any, ...]]:
    """(mass MeV, width MeV, name, charge, self-conjugate) of every particle of the table."""
    return {
        pid: (p.mass, p.width, str(p.name), float(p.charge) if p.charge is not None else None,
              int(p.invert().pdgid) == pid)
        for pid, p in _table().items()
    }


@functools.cache
def _properties() -> dict[int, tuple[Any, ...]]:
    try:
        path = cache_path()
        return {int(k): tuple(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, RuntimeError):  # RuntimeError: Path.home() without a home
        pass
    table = _properties_from_particle()
    try:  # written under a temporary name and renamed: concurrent runs never see half a file
        path = cache_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(json.dumps({str(k): v for k, v in table.items()}))
        os.replace(tmp, path)
    except (OSError, RuntimeError):
        pass  # no writable cache: the next process reads particle again
    return table


def _property(pid: int, index: int) -> Any:
    try:
        return _properties()[int(pid)][index]
    except KeyError:
        raise LookupError(f"PDG id {pid} is not in the PDG {PDG_EDITION} table") from None


def mass(pid: int) -> float:
    """Mass in GeV."""
    value = _property(pid, 0)
    if value is None:
        raise LookupError(f"PDG {PDG_EDITION} table has no mass for {pid}")
    return _mev_to_gev(value)


def width(pid: int) -> float:
    """Total width in GeV."""
    value = _property(pid, 1)
    if value is None or value <= 0.0:
        raise LookupError(f"PDG {PDG_EDITION} table has no width for {pid}")
    return _mev_to_gev(value)


def _mev_to_gev(value: float) -> float:
    # through the decimal text, so 493.677 MeV becomes the double nearest 0.493677 GeV
    mantissa, _, exponent = repr(float(value)).partition("e")
    return float(f"{mantissa}e{int(exponent or 0) - 3}")


def lifetime_over_hbar(pid: int) -> float:
    """τ/ħ in GeV⁻¹ (multiplies a partial width to give a branching ratio).

    The RPP 2024 mean life for the weak-decay parents (:data:`MEAN_LIFE_S`), 1/Γ otherwise.
    """
    mean_life = MEAN_LIFE_S.get(abs(int(pid)))
    if mean_life is not None:
        return mean_life / HBAR_GEV_S
    return 1.0 / width(pid)


def name(pid: int) -> str:
    """Short PDG name, e.g. 'K+' or 'pi0'; 'X' for the new vector."""
    if abs(int(pid)) == X_DEFAULT_PID:
        return "X"
    return str(_property(pid, 2))


def is_self_conjugate(pid: int) -> bool:
    """True if the antiparticle of ``pid`` is itself (π⁰, K_L, γ, Z, ...)."""
    return bool(_property(pid, 4))


def charge(pid: int) -> float:
    """Electric charge in units of e."""
    value = _property(pid, 3)
    if value is None:
        raise LookupError(f"PDG {PDG_EDITION} table has no charge for {pid}")
    return float(value)
