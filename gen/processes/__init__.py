"""The process registry (design.md §3): every process axgen generates, registered once.

A process is data: its name (the card's ``process`` key), parent, record topology, kernels,
``prepare`` (pass-2 validation of the card, then the float64 parameter array) and the
analytic ``rate`` that validates the MC integral. Users may ``register()`` their own.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from gen import pdg
from gen.cards import RunCard
from matrix_elements.constants import HBARC_GEV_MM
from matrix_elements.couplings import Couplings

STATUS_FINAL = 1
STATUS_DECAYED = 2
STATUS_BEAM = 4

PID_GAMMA = 22
PID_PI0 = 111
PID_K0 = 311
PID_K_SHORT = 310
PID_K_LONG = 130


@dataclass(frozen=True)
class Topology:
    """The particle record of one event, in slot order (the momentum axis).

    ``pids[0]`` is the process as named, ``pids[1]`` its charge conjugate; neutrino
    flavours and K_S/K_L are set per event by the kernel. ``mothers[i]`` is the slot of the
    mother (−1 for the parent or a beam), ``mothers2[i]`` a second mother (the e⁺ beam of an
    e⁺e⁻ collision, −1 otherwise); ``masses[i]`` the generated mass in GeV (NaN: read it from
    the momentum, as for the off-shell X); ``ctau_mm[i]`` the proper decay length of a
    status-2 slot (0 for an instantaneous 1 → 1 step such as K⁰ → K_S).
    """

    labels: tuple[str, ...]
    pids: np.ndarray  # int32 (2, k)
    status: np.ndarray  # int32 (k,)
    mothers: np.ndarray  # int32 (k,)
    masses: np.ndarray  # float64 (k,)
    ctau_mm: np.ndarray  # float64 (k,)
    mothers2: np.ndarray  # int32 (k,): a second mother (the other beam), −1 for none

    @property
    def n_slots(self) -> int:
        return int(self.status.shape[0])


@dataclass(frozen=True)
class Prepared:
    """A process made ready for one card: parameters, topology and analytic numbers."""

    process: Process
    params: np.ndarray
    n_dim: int
    topology: Topology
    analytic_rate: float
    rate_unit: str
    conjugate_fraction: float
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Process:
    """One registered process (design.md §3)."""

    name: str
    code: int
    parent: int
    family: ModuleType  # kernels: integrand, generate, n_dim, rate
    prepare: Callable[[RunCard], Prepared]
    references: tuple[str, ...]
    description: str
    is_sm: bool = False
    sm_model_keys: tuple[str, ...] = ()  # [model] keys an SM process still reads
    signature: str = "b_meson"  # "b_meson", "k_plus", "k_long" or "monophoton": which acceptance models apply
    setups: tuple[str, ...] = ("rest",)  # production setups the process can use


REGISTRY: dict[str, Process] = {}


def register(process: Process) -> Process:
    """Add a process; names and codes are unique."""
    if process.name in REGISTRY:
        raise ValueError(f"process {process.name!r} is already registered")
    if any(p.code == process.code for p in REGISTRY.values()):
        raise ValueError(f"process code {process.code} is already used")
    REGISTRY[process.name] = process
    return process


def suggest(name: str) -> str:
    """' (did you mean ...?)' for a near-miss process name, else the list hint."""
    close = difflib.get_close_matches(name, list(REGISTRY), n=1, cutoff=0.5)
    if close:
        return f"did you mean {close[0]!r}? (see 'axgen list')"
    return "see 'axgen list' for the known processes"


def get(name: str) -> Process:
    """The process called ``name``; LookupError with a suggestion otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise LookupError(f"unknown process {name!r}; {suggest(name)}") from None


def sm_partner(process: Process) -> Process | None:
    """The SM continuum of a P → P′ X process (its X replaced by νν̄), or None."""
    if process.is_sm or not process.name.endswith(" X"):
        return None
    return REGISTRY.get(process.name[: -len(" X")] + " nu nu~ (SM)")


def record_of(process: Process) -> tuple[tuple[str, ...], tuple[int, ...], str]:
    """(slot labels, PDG ids, VEGAS dimensions) of a process at a default model point."""
    from gen.cards import parse

    raw: dict[str, Any] = {
        "run": {"process": process.name, "events": 1},
        "production": {"setup": process.setups[0]},
    }
    if not process.is_sm:
        raw["model"] = {"m_X": 0.1, "g_sd": {"re": 1.0, "im": 1.0}, "g_bs": 1.0, "C_Zgamma": 1.0}
    prepared = process.prepare(parse(raw, "<list>"))
    dims = (
        str(prepared.n_dim)
        if process.is_sm
        else f"{prepared.n_dim} (narrow width: {prepared.n_dim - 1})"
    )
    return prepared.topology.labels, tuple(int(p) for p in prepared.topology.pids[0]), dims


def conjugate_fraction(card: RunCard) -> float:
    return {"particle": 0.0, "antiparticle": 1.0, "both": 0.5}[card.run.conjugate]


def _conjugate(pid: int, x_pid: int) -> int:
    """Charge conjugate of ``pid``; X (a real vector field) is its own antiparticle."""
    if pid == x_pid:
        return pid
    if pid in (12, 14, 16, -12, -14, -16):
        return -pid
    return pid if pdg.is_self_conjugate(pid) else -pid


@dataclass(frozen=True)
class Slot:
    """One particle of the record: label, PDG id, status, mother slot, mass, cτ.

    ``mass`` NaN means "read it from the momentum" (off-shell X or K*); ``ctau_mm`` is the
    proper decay length of a status-2 particle (0: decays in place).
    """

    label: str
    pid: int
    status: int
    mother: int
    mass: float
    ctau_mm: float = 0.0
    mother2: int = -1


def make_topology(slots: list[Slot], x_pid: int) -> Topology:
    """The Topology of a list of slots; row 1 of the PDG ids is the charge conjugate."""
    pids = [s.pid for s in slots]
    return Topology(
        labels=tuple(s.label for s in slots),
        pids=np.array([pids, [_conjugate(p, x_pid) for p in pids]], dtype=np.int32),
        status=np.array([s.status for s in slots], dtype=np.int32),
        mothers=np.array([s.mother for s in slots], dtype=np.int32),
        masses=np.array([s.mass for s in slots]),
        ctau_mm=np.array([s.ctau_mm for s in slots]),
        mothers2=np.array([s.mother2 for s in slots], dtype=np.int32),
    )


def ctau_mm(pid: int) -> float:
    """Proper decay length cτ in mm of a PDG particle (RPP mean life where pinned)."""
    return HBARC_GEV_MM * pdg.lifetime_over_hbar(pid)


def couplings_of(card: RunCard) -> Couplings:
    """The X model of a card (physics.md §2)."""
    m = card.model
    return Couplings(
        m_x=m.m_X if m.m_X is not None else 0.0,
        g_sd=m.g_sd,
        g_bs=m.g_bs,
        c_zgamma=m.C_Zgamma,
        g_nu=m.g_nu,
        width_x=m.width_X,
        narrow_width=m.narrow_width,
    )


def format_complex(z: complex) -> str:
    return f"{{re = {z.real:g}, im = {z.imag:g}}}"


def check_x_model(
    card: RunCard, name: str, coupling: str, threshold: float, threshold_text: str
) -> list[str]:
    """Pass-2 problems of the X model (dotted keys, no file prefix).

    ``coupling``: "g_sd" (|g_sd|²), "im_g_sd" ((Im g_sd)², K_L) or "g_bs";
    m_X must lie in (0, threshold) GeV.
    """
    problems = []
    m = card.model
    if m.m_X is None:
        problems.append(
            f"model.m_X: expected a mass in (0, {threshold:.5f}) GeV for {name!r}, got nothing"
        )
    elif not 0.0 < m.m_X < threshold:
        problems.append(
            f"model.m_X: expected a mass in (0, {threshold:.5f}) GeV ({name} threshold "
            f"{threshold_text}), got {m.m_X:g}"
        )
    if coupling == "g_sd" and abs(m.g_sd) == 0.0:
        problems.append(
            f"model.g_sd: expected a nonzero coupling for {name!r} (physics.md Eq. 12), got 0"
        )
    if coupling == "im_g_sd" and m.g_sd.imag == 0.0:
        problems.append(
            f"model.g_sd: expected a nonzero imaginary part for {name!r} (rate ∝ (Im g_sd)², "
            f"physics.md Eq. 13), got {format_complex(m.g_sd)}"
        )
    if coupling == "g_bs" and abs(m.g_bs) == 0.0:
        problems.append(f"model.g_bs: expected a nonzero coupling for {name!r}, got 0")
    if coupling == "C_Zgamma" and m.C_Zgamma == 0.0:
        problems.append(f"model.C_Zgamma: expected a nonzero coupling for {name!r} (Eq. 2), got 0")
    couplings = couplings_of(card)
    if couplings.g_nu_squared_sum == 0.0:
        problems.append(
            "model.g_nu: expected at least one nonzero X–ν coupling (X → νν̄, Eq. 3), got [0, 0, 0]"
        )
    elif (
        m.width_X is not None
        and m.m_X is not None
        and m.width_X < couplings.width_invisible * (1 - 1e-12)
    ):
        problems.append(
            f"model.width_X: expected at least the invisible width Σ Γ(X→νν̄) = "
            f"{couplings.width_invisible:.6g} GeV (Eq. 10), got {m.width_X:g}"
        )
    return problems


def coupling_squared(card: RunCard, coupling: str) -> float:
    """|g_sd|², (Im g_sd)² or |g_bs|² of the card."""
    m = card.model
    if coupling == "im_g_sd":
        return m.g_sd.imag**2
    if coupling == "g_sd":
        return abs(m.g_sd) ** 2
    return abs(m.g_bs) ** 2


def x_model_info(couplings: Couplings) -> dict[str, Any]:
    """The derived X quantities every X process reports."""
    return {
        "m_X": couplings.m_x,
        "width_X": couplings.total_width,
        "width_X_invisible": couplings.width_invisible,
        "br_invisible": couplings.br_invisible,
        "ctau_X_mm": couplings.ctau_x_mm,
        "flavour_fractions": couplings.flavour_fractions,
    }


REF_MODEL = ("arXiv:2603.04394",)


# the explicit registration list (EvtGen's EvtModelReg): one module per process family
from gen.processes import p_to_pprime as _p_to_pprime  # noqa: E402,F401, I001
from gen.processes import b_to_kstar as _b_to_kstar  # noqa: E402,F401
from gen.processes import z_to_gamma as _z_to_gamma  # noqa: E402,F401
