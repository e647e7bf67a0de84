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
from gen.cards import CardError, RunCard
from matrix_elements import p_to_pprime, sm
from matrix_elements.constants import HBARC_GEV_MM
from matrix_elements.couplings import Couplings
from matrix_elements.form_factors import FF_B_TO_K, FF_K_TO_PI
from matrix_elements.form_factors import b_k as ff_b_k
from matrix_elements.form_factors import k_pi as ff_k_pi

STATUS_FINAL = 1
STATUS_DECAYED = 2

PID_GAMMA = 22
PID_PI0 = 111
PID_K0 = 311


@dataclass(frozen=True)
class Topology:
    """The particle record of one event, in slot order (the momentum axis).

    ``pids[0]`` is the process as named, ``pids[1]`` its charge conjugate; neutrino
    flavours and K_S/K_L are set per event by the kernel. ``mothers[i]`` is the slot of the
    mother (−1 for the parent); ``masses[i]`` the generated mass in GeV (NaN: read it from
    the momentum, as for the off-shell X); ``ctau_mm[i]`` the proper decay length of a
    status-2 slot (0 for an instantaneous 1 → 1 step such as K⁰ → K_S).
    """

    labels: tuple[str, ...]
    pids: np.ndarray  # int32 (2, k)
    status: np.ndarray  # int32 (k,)
    mothers: np.ndarray  # int32 (k,)
    masses: np.ndarray  # float64 (k,)
    ctau_mm: np.ndarray  # float64 (k,)

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


def record_of(process: Process) -> tuple[tuple[str, ...], tuple[int, ...], str]:
    """(slot labels, PDG ids, VEGAS dimensions) of a process at a default model point."""
    from gen.cards import parse

    raw: dict[str, Any] = {"run": {"process": process.name, "events": 1}}
    if not process.is_sm:
        raw["model"] = {"m_X": 0.1, "g_sd": {"re": 1.0, "im": 1.0}, "g_bs": 1.0}
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


# --- P → P′ X(→ νν̄) and P → P′ νν̄ (SM) --------------------------------------------------


@dataclass(frozen=True)
class _PToPPrime:
    """Static description of one member of the P → P′ family."""

    parent: int
    daughter: int
    coupling: str | None  # "g_sd", "im_g_sd", "g_bs"; None for the SM continuum
    ff_kind: int
    daughter_decay: int
    sm_normalisation: str | None = None  # "b", "k_charged", "k_long"


def _form_factor(ff_kind: int) -> np.ndarray:
    if ff_kind == FF_K_TO_PI:
        return ff_k_pi.KPiFormFactor().to_array()
    return ff_b_k.F_PLUS.to_array()


def _p_to_pprime_topology(spec: _PToPPrime, has_x: bool, x_pid: int) -> Topology:
    labels = [pdg.name(spec.parent), pdg.name(spec.daughter)]
    pids = [spec.parent, spec.daughter]
    status = [STATUS_DECAYED, STATUS_FINAL]
    mothers = [-1, 0]
    masses = [pdg.mass(spec.parent), pdg.mass(spec.daughter)]
    ctau = [HBARC_GEV_MM / pdg.width(spec.parent), 0.0]
    nu_mother = 0
    if has_x:
        labels.append("X")
        pids.append(x_pid)
        status.append(STATUS_DECAYED)
        mothers.append(0)
        masses.append(np.nan)  # off shell: √q² from the momentum
        ctau.append(0.0)  # set from Γ_X in prepare
        nu_mother = 2
    labels += ["nu", "nu~"]
    pids += [12, -12]
    status += [STATUS_FINAL, STATUS_FINAL]
    mothers += [nu_mother, nu_mother]
    masses += [0.0, 0.0]
    ctau += [0.0, 0.0]
    if spec.daughter_decay == p_to_pprime.DECAY_PI0_GAMMA_GAMMA:
        status[1] = STATUS_DECAYED
        ctau[1] = HBARC_GEV_MM / pdg.width(PID_PI0)
        labels += ["gamma", "gamma"]
        pids += [PID_GAMMA, PID_GAMMA]
        status += [STATUS_FINAL, STATUS_FINAL]
        mothers += [1, 1]
        masses += [0.0, 0.0]
        ctau += [0.0, 0.0]
    elif spec.daughter_decay == p_to_pprime.DECAY_K0_MIXING:
        status[1] = STATUS_DECAYED
        labels += ["K_S/K_L"]
        pids += [p_to_pprime.PID_K_SHORT]
        status += [STATUS_FINAL]
        mothers += [1]
        masses += [pdg.mass(p_to_pprime.PID_K_SHORT)]
        ctau += [0.0]
    pid_rows = np.array([pids, [_conjugate(p, x_pid) for p in pids]], dtype=np.int32)
    return Topology(
        labels=tuple(labels),
        pids=pid_rows,
        status=np.array(status, dtype=np.int32),
        mothers=np.array(mothers, dtype=np.int32),
        masses=np.array(masses),
        ctau_mm=np.array(ctau),
    )


def _couplings(card: RunCard) -> Couplings:
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


def _check_x_model(card: RunCard, spec: _PToPPrime, name: str) -> list[str]:
    """Pass-2 problems of the X model for a P → P′X process (dotted keys, no file prefix)."""
    problems = []
    m = card.model
    m_parent, m_daughter = pdg.mass(spec.parent), pdg.mass(spec.daughter)
    threshold = m_parent - m_daughter
    if m.m_X is None:
        problems.append(
            f"model.m_X: expected a mass in (0, {threshold:.5f}) GeV for {name!r}, got nothing"
        )
    elif not 0.0 < m.m_X < threshold:
        problems.append(
            f"model.m_X: expected a mass in (0, {threshold:.5f}) GeV ({name} threshold "
            f"m_{pdg.name(spec.parent)} - m_{pdg.name(spec.daughter)}), got {m.m_X:g}"
        )
    if spec.coupling == "g_sd" and abs(m.g_sd) == 0.0:
        problems.append(
            f"model.g_sd: expected a nonzero coupling for {name!r} (physics.md Eq. 12), got 0"
        )
    if spec.coupling == "im_g_sd" and m.g_sd.imag == 0.0:
        problems.append(
            f"model.g_sd: expected a nonzero imaginary part for {name!r} (rate ∝ (Im g_sd)², "
            f"physics.md Eq. 13), got {_format_complex(m.g_sd)}"
        )
    if spec.coupling == "g_bs" and abs(m.g_bs) == 0.0:
        problems.append(
            f"model.g_bs: expected a nonzero coupling for {name!r} (physics.md Eq. 12), got 0"
        )
    couplings = _couplings(card)
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


def _format_complex(z: complex) -> str:
    return f"{{re = {z.real:g}, im = {z.imag:g}}}"


def _prepare_p_to_pprime(spec: _PToPPrime, name: str) -> Callable[[RunCard], Prepared]:
    def prepare(card: RunCard) -> Prepared:
        is_sm = spec.coupling is None
        if not is_sm:
            problems = _check_x_model(card, spec, name)
            if problems:
                raise CardError(problems)
        m_parent, m_daughter = pdg.mass(spec.parent), pdg.mass(spec.daughter)
        to_br = pdg.lifetime_over_hbar(spec.parent)
        topology = _p_to_pprime_topology(spec, not is_sm, card.model.x_pid)
        info: dict[str, Any] = {
            "m_parent": m_parent,
            "m_daughter": m_daughter,
            "tau_parent_s": to_br * 6.582119569e-25,
        }
        if is_sm:
            if spec.sm_normalisation == "b":
                coupling2 = sm.coupling2_b_to_k()
            else:
                coupling2 = sm.coupling2_k_to_pi(charged=spec.sm_normalisation == "k_charged")
            params = p_to_pprime.make_params(
                m_parent=m_parent,
                m_daughter=m_daughter,
                lifetime_over_hbar=to_br,
                coupling2=coupling2,
                form_factor=_form_factor(spec.ff_kind),
                ff_kind=spec.ff_kind,
                daughter_decay=spec.daughter_decay,
            )
            if spec.sm_normalisation in ("k_charged", "k_long"):
                # Eq. 33 gives the q² shape; the normalisation is Eq. 32 (κ from K_l3 data)
                br_eq33 = p_to_pprime.rate(params)
                br_eq32 = sm.br_k_pi_nunu(charged=spec.sm_normalisation == "k_charged")
                params[p_to_pprime.I_COUPLING2] *= br_eq32 / br_eq33
                info["br_eq33_direct"] = br_eq33
            analytic = p_to_pprime.rate(params)
        else:
            couplings = _couplings(card)
            m = card.model
            if spec.coupling == "im_g_sd":
                g2 = m.g_sd.imag**2
            elif spec.coupling == "g_sd":
                g2 = abs(m.g_sd) ** 2
            else:
                g2 = abs(m.g_bs) ** 2
            params = p_to_pprime.make_params(
                m_parent=m_parent,
                m_daughter=m_daughter,
                lifetime_over_hbar=to_br,
                coupling2=g2 * couplings.g_nu_squared_sum,
                form_factor=_form_factor(spec.ff_kind),
                ff_kind=spec.ff_kind,
                daughter_decay=spec.daughter_decay,
                m_x=couplings.m_x,
                width_x=couplings.total_width,
                narrow_width=couplings.narrow_width,
                flavour_fractions=couplings.flavour_fractions,
            )
            topology.ctau_mm[2] = couplings.ctau_x_mm
            analytic = p_to_pprime.rate(params)
            br_narrow = p_to_pprime.rate_narrow(params)
            info.update(
                {
                    "m_X": couplings.m_x,
                    "width_X": couplings.total_width,
                    "width_X_invisible": couplings.width_invisible,
                    "br_invisible": couplings.br_invisible,
                    "ctau_X_mm": couplings.ctau_x_mm,
                    "width_parent_to_daughter_X": br_narrow / couplings.br_invisible / to_br,
                    "br_parent_to_daughter_X": br_narrow / couplings.br_invisible,
                    "br_narrow_width": br_narrow,
                    "flavour_fractions": couplings.flavour_fractions,
                }
            )
        return Prepared(
            process=REGISTRY[name],
            params=params,
            n_dim=p_to_pprime.n_dim(params),
            topology=topology,
            analytic_rate=analytic,
            rate_unit="BR",
            conjugate_fraction=conjugate_fraction(card),
            info=info,
        )

    return prepare


_REF_K_PI_FF = ("FLAG 2021 arXiv:2111.09849", "arXiv:1602.04113", "arXiv:0903.1654")
_REF_B_K_FF = ("arXiv:2305.06301",)
_REF_MODEL = ("arXiv:2603.04394",)
_REF_SM_K = ("arXiv:0705.2025",)
_REF_SM_B = ("arXiv:1409.4557",)

_P_TO_PPRIME: list[tuple[str, int, _PToPPrime, tuple[str, ...], str]] = [
    (
        "K+ -> pi+ X",
        101,
        _PToPPrime(321, 211, "g_sd", FF_K_TO_PI, p_to_pprime.DECAY_NONE),
        _REF_MODEL + _REF_K_PI_FF,
        "K+ -> pi+ X(-> nu nu~), |g_sd|^2 (physics.md Eq. 12, 19)",
    ),
    (
        "KL -> pi0 X",
        102,
        _PToPPrime(130, 111, "im_g_sd", FF_K_TO_PI, p_to_pprime.DECAY_PI0_GAMMA_GAMMA),
        _REF_MODEL + _REF_K_PI_FF,
        "K_L -> pi0(-> gamma gamma) X(-> nu nu~), (Im g_sd)^2 (physics.md Eq. 13, 19)",
    ),
    (
        "B+ -> K+ X",
        103,
        _PToPPrime(521, 321, "g_bs", FF_B_TO_K, p_to_pprime.DECAY_NONE),
        _REF_MODEL + _REF_B_K_FF,
        "B+ -> K+ X(-> nu nu~), |g_bs|^2 (physics.md Eq. 12, 19)",
    ),
    (
        "B0 -> K0 X",
        104,
        _PToPPrime(511, 311, "g_bs", FF_B_TO_K, p_to_pprime.DECAY_K0_MIXING),
        _REF_MODEL + _REF_B_K_FF,
        "B0 -> K0(-> K_S/K_L) X(-> nu nu~), |g_bs|^2 (physics.md Eq. 12, 19)",
    ),
    (
        "K+ -> pi+ nu nu~ (SM)",
        201,
        _PToPPrime(321, 211, None, FF_K_TO_PI, p_to_pprime.DECAY_NONE, "k_charged"),
        _REF_SM_K + _REF_K_PI_FF,
        "SM K+ -> pi+ nu nu~: Eq. 33 shape normalised to Eq. 32",
    ),
    (
        "KL -> pi0 nu nu~ (SM)",
        202,
        _PToPPrime(130, 111, None, FF_K_TO_PI, p_to_pprime.DECAY_PI0_GAMMA_GAMMA, "k_long"),
        _REF_SM_K + _REF_K_PI_FF,
        "SM K_L -> pi0(-> gamma gamma) nu nu~: Eq. 33 shape normalised to Eq. 32",
    ),
    (
        "B+ -> K+ nu nu~ (SM)",
        203,
        _PToPPrime(521, 321, None, FF_B_TO_K, p_to_pprime.DECAY_NONE, "b"),
        _REF_SM_B + _REF_B_K_FF,
        "SM B+ -> K+ nu nu~ (physics.md Eq. 30)",
    ),
    (
        "B0 -> K0 nu nu~ (SM)",
        204,
        _PToPPrime(511, 311, None, FF_B_TO_K, p_to_pprime.DECAY_K0_MIXING, "b"),
        _REF_SM_B + _REF_B_K_FF,
        "SM B0 -> K0(-> K_S/K_L) nu nu~ (physics.md Eq. 30)",
    ),
]

for _name, _code, _spec, _refs, _description in _P_TO_PPRIME:
    register(
        Process(
            name=_name,
            code=_code,
            parent=_spec.parent,
            family=p_to_pprime,
            prepare=_prepare_p_to_pprime(_spec, _name),
            references=_refs,
            description=_description,
            is_sm=_spec.coupling is None,
        )
    )
