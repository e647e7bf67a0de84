"""Processes B → K*(→ Kπ) X(→ νν̄) and the SM continua B → K*(→ Kπ) νν̄.

physics.md §3.4, §4.4, §6.3, §7; kernels in ``matrix_elements.b_to_kstar``. Isospin
BR(K*⁰ → K⁺π⁻) = BR(K*⁺ → K⁰π⁺) = 2/3, BR(K*⁺ → K⁺π⁰) = 1/3; the K⁰_S mode also carries
BR(K⁰ → K_S) = ½ (the record has K⁰ → K_S as a 1 → 1 step, K_S final).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gen import pdg
from gen.cards import CardError, RunCard
from gen.processes import (
    PID_GAMMA,
    PID_K0,
    PID_K_SHORT,
    PID_PI0,
    REF_MODEL,
    REGISTRY,
    STATUS_DECAYED,
    STATUS_FINAL,
    Prepared,
    Process,
    Slot,
    Topology,
    check_x_model,
    conjugate_fraction,
    coupling_squared,
    couplings_of,
    ctau_mm,
    make_topology,
    register,
    x_model_info,
)
from matrix_elements import b_to_kstar, sm

_REF_FF = ("arXiv:1503.05534",)
_REF_SM = ("arXiv:1409.4557",)


@dataclass(frozen=True)
class _BToKstar:
    """One B → K*(→ Kπ) mode."""

    parent: int
    kstar: int
    kaon: int
    pion: int
    br_kpi: float
    daughter_decay: int
    sm: bool = False


def _topology(spec: _BToKstar, has_x: bool, x_pid: int) -> Topology:
    """B, K*, [X], ν, ν̄, K, π, then γ γ (π⁰ → γγ) or K_S (K⁰ → K_S)."""
    slots = [
        Slot(
            pdg.name(spec.parent),
            spec.parent,
            STATUS_DECAYED,
            -1,
            pdg.mass(spec.parent),
            ctau_mm(spec.parent),
        ),
        Slot(pdg.name(spec.kstar), spec.kstar, STATUS_DECAYED, 0, np.nan, ctau_mm(spec.kstar)),
    ]
    nu_mother = 0
    if has_x:
        slots.append(Slot("X", x_pid, STATUS_DECAYED, 0, np.nan))  # cτ set from Γ_X
        nu_mother = 2
    slots += [
        Slot("nu", 12, STATUS_FINAL, nu_mother, 0.0),
        Slot("nu~", -12, STATUS_FINAL, nu_mother, 0.0),
    ]
    s_kaon = len(slots)
    kaon_decays = spec.daughter_decay == b_to_kstar.DECAY_K0_SHORT
    pion_decays = spec.daughter_decay == b_to_kstar.DECAY_PI0_GAMMA_GAMMA
    slots += [
        Slot(
            pdg.name(spec.kaon),
            spec.kaon,
            STATUS_DECAYED if kaon_decays else STATUS_FINAL,
            1,
            pdg.mass(spec.kaon),
        ),
        Slot(
            pdg.name(spec.pion),
            spec.pion,
            STATUS_DECAYED if pion_decays else STATUS_FINAL,
            1,
            pdg.mass(spec.pion),
            ctau_mm(PID_PI0) if pion_decays else 0.0,
        ),
    ]
    if pion_decays:
        slots += [Slot("gamma", PID_GAMMA, STATUS_FINAL, s_kaon + 1, 0.0)] * 2
    elif kaon_decays:
        slots.append(Slot("K_S", PID_K_SHORT, STATUS_FINAL, s_kaon, pdg.mass(PID_K_SHORT)))
    return make_topology(slots, x_pid)


def _prepare(spec: _BToKstar, name: str) -> Callable[[RunCard], Prepared]:
    def prepare(card: RunCard) -> Prepared:
        m_b, m_v = pdg.mass(spec.parent), pdg.mass(spec.kstar)
        m_kaon, m_pion = pdg.mass(spec.kaon), pdg.mass(spec.pion)
        narrow_kstar = card.model.narrow_kstar
        if not spec.sm:
            threshold = m_b - m_v if narrow_kstar else m_b - m_kaon - m_pion
            text = (
                f"m_{pdg.name(spec.parent)} - m_{pdg.name(spec.kstar)}"
                if narrow_kstar
                else f"m_{pdg.name(spec.parent)} - m_K - m_pi"
            )
            problems = check_x_model(card, name, "g_bs", threshold, text)
            if problems:
                raise CardError(problems)
        to_br = pdg.lifetime_over_hbar(spec.parent)
        common = {
            "m_parent": m_b,
            "m_kstar": m_v,
            "m_kaon": m_kaon,
            "m_pion": m_pion,
            "width_kstar": pdg.width(spec.kstar),
            "br_kpi": spec.br_kpi,
            "lifetime_over_hbar": to_br,
            "daughter_decay": spec.daughter_decay,
            "kstar_breit_wigner": not narrow_kstar,
        }
        topology = _topology(spec, not spec.sm, card.model.x_pid)
        info: dict[str, Any] = {
            "m_parent": m_b,
            "m_kstar": m_v,
            "br_kstar_to_kpi": spec.br_kpi,
            "tau_parent_s": to_br * pdg.HBAR_GEV_S,
            "narrow_kstar": narrow_kstar,
        }
        if spec.sm:
            params = b_to_kstar.make_params(coupling2=sm.coupling2_b_to_k(), **common)
            if narrow_kstar:
                info["mean_f_l"] = b_to_kstar.mean_f_l(params)
        else:
            couplings = couplings_of(card)
            params = b_to_kstar.make_params(
                coupling2=coupling_squared(card, "g_bs") * couplings.g_nu_squared_sum,
                m_x=couplings.m_x,
                width_x=couplings.total_width,
                narrow_width=couplings.narrow_width,
                flavour_fractions=couplings.flavour_fractions,
                **common,
            )
            topology.ctau_mm[2] = couplings.ctau_x_mm
            br_narrow = b_to_kstar.rate_narrow(params)
            info.update(x_model_info(couplings))
            info.update(
                {
                    "f_l": b_to_kstar.f_l(couplings.m_x**2, params),
                    "br_parent_to_kstar_X": br_narrow / couplings.br_invisible / spec.br_kpi,
                    "br_narrow_width": br_narrow,
                }
            )
        return Prepared(
            process=REGISTRY[name],
            params=params,
            n_dim=b_to_kstar.n_dim(params),
            topology=topology,
            analytic_rate=b_to_kstar.rate(params),
            rate_unit="BR",
            conjugate_fraction=conjugate_fraction(card),
            info=info,
        )

    return prepare


_MODES = [
    ("B0 -> K*0(K+ pi-)", 301, _BToKstar(511, 313, 321, -211, 2.0 / 3.0, b_to_kstar.DECAY_NONE)),
    (
        "B+ -> K*+(K0S pi+)",
        302,
        _BToKstar(521, 323, PID_K0, 211, 2.0 / 3.0 * 0.5, b_to_kstar.DECAY_K0_SHORT),
    ),
    (
        "B+ -> K*+(K+ pi0)",
        303,
        _BToKstar(521, 323, 321, PID_PI0, 1.0 / 3.0, b_to_kstar.DECAY_PI0_GAMMA_GAMMA),
    ),
]

for _mode, _code, _spec in _MODES:
    register(
        Process(
            name=f"{_mode} X",
            code=_code,
            parent=_spec.parent,
            family=b_to_kstar,
            prepare=_prepare(_spec, f"{_mode} X"),
            references=REF_MODEL + _REF_FF,
            description=f"{_mode} X(-> nu nu~), |g_bs|^2, full angular correlations (physics.md Eq. 22)",
            signature="b_meson",
            setups=("rest", "belle2"),
        )
    )
    _sm_spec = _BToKstar(**{**_spec.__dict__, "sm": True})
    register(
        Process(
            name=f"{_mode} nu nu~ (SM)",
            code=_code + 100,
            parent=_spec.parent,
            family=b_to_kstar,
            prepare=_prepare(_sm_spec, f"{_mode} nu nu~ (SM)"),
            references=_REF_SM + _REF_FF,
            description=f"SM {_mode} nu nu~ (physics.md Eq. 31 via Eq. 22)",
            is_sm=True,
            sm_model_keys=("narrow_kstar",),
            signature="b_meson",
            setups=("rest", "belle2"),
        )
    )
