"""Processes P → P′ X(→ νν̄) and P → P′ νν̄ (SM): K⁺→π⁺, K_L→π⁰, B⁺→K⁺, B⁰→K⁰.

physics.md §3.2, §3.3, §4.2, §7; kernels in ``matrix_elements.p_to_pprime``.
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
from matrix_elements import p_to_pprime, sm
from matrix_elements.form_factors import FF_B_TO_K, FF_K_TO_PI
from matrix_elements.form_factors import b_k as ff_b_k
from matrix_elements.form_factors import k_pi as ff_k_pi


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


def _topology(spec: _PToPPrime, has_x: bool, x_pid: int) -> Topology:
    """P, P′, [X], ν, ν̄, then γ γ (π⁰ → γγ) or K_S/K_L (K⁰ → K_S/K_L)."""
    decays = spec.daughter_decay != p_to_pprime.DECAY_NONE
    slots = [
        Slot(
            pdg.name(spec.parent),
            spec.parent,
            STATUS_DECAYED,
            -1,
            pdg.mass(spec.parent),
            ctau_mm(spec.parent),
        ),
        Slot(
            pdg.name(spec.daughter),
            spec.daughter,
            STATUS_DECAYED if decays else STATUS_FINAL,
            0,
            pdg.mass(spec.daughter),
            ctau_mm(PID_PI0) if spec.daughter_decay == p_to_pprime.DECAY_PI0_GAMMA_GAMMA else 0.0,
        ),
    ]
    nu_mother = 0
    if has_x:
        slots.append(Slot("X", x_pid, STATUS_DECAYED, 0, np.nan))  # cτ set from Γ_X
        nu_mother = 2
    slots += [
        Slot("nu", 12, STATUS_FINAL, nu_mother, 0.0),
        Slot("nu~", -12, STATUS_FINAL, nu_mother, 0.0),
    ]
    if spec.daughter_decay == p_to_pprime.DECAY_PI0_GAMMA_GAMMA:
        slots += [Slot("gamma", PID_GAMMA, STATUS_FINAL, 1, 0.0)] * 2
    elif spec.daughter_decay == p_to_pprime.DECAY_K0_MIXING:
        slots.append(Slot("K_S/K_L", PID_K_SHORT, STATUS_FINAL, 1, pdg.mass(PID_K_SHORT)))
    return make_topology(slots, x_pid)


def _prepare_p_to_pprime(spec: _PToPPrime, name: str) -> Callable[[RunCard], Prepared]:
    def prepare(card: RunCard) -> Prepared:
        is_sm = spec.coupling is None
        if not is_sm:
            threshold_text = f"m_{pdg.name(spec.parent)} - m_{pdg.name(spec.daughter)}"
            problems = check_x_model(
                card,
                name,
                spec.coupling or "",
                pdg.mass(spec.parent) - pdg.mass(spec.daughter),
                threshold_text,
            )
            if problems:
                raise CardError(problems)
        m_parent, m_daughter = pdg.mass(spec.parent), pdg.mass(spec.daughter)
        to_br = pdg.lifetime_over_hbar(spec.parent)
        topology = _topology(spec, not is_sm, card.model.x_pid)
        info: dict[str, Any] = {
            "m_parent": m_parent,
            "m_daughter": m_daughter,
            "tau_parent_s": to_br * pdg.HBAR_GEV_S,
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
            couplings = couplings_of(card)
            g2 = coupling_squared(card, spec.coupling or "")
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
            info.update(x_model_info(couplings))
            info.update(
                {
                    "width_parent_to_daughter_X": br_narrow / couplings.br_invisible / to_br,
                    "br_parent_to_daughter_X": br_narrow / couplings.br_invisible,
                    "br_narrow_width": br_narrow,
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
_REF_SM_K = ("arXiv:0705.2025",)
_REF_SM_B = ("arXiv:1409.4557",)

_P_TO_PPRIME: list[tuple[str, int, _PToPPrime, tuple[str, ...], str]] = [
    (
        "K+ -> pi+ X",
        101,
        _PToPPrime(321, 211, "g_sd", FF_K_TO_PI, p_to_pprime.DECAY_NONE),
        REF_MODEL + _REF_K_PI_FF,
        "K+ -> pi+ X(-> nu nu~), |g_sd|^2 (physics.md Eq. 12, 19)",
    ),
    (
        "KL -> pi0 X",
        102,
        _PToPPrime(130, 111, "im_g_sd", FF_K_TO_PI, p_to_pprime.DECAY_PI0_GAMMA_GAMMA),
        REF_MODEL + _REF_K_PI_FF,
        "K_L -> pi0(-> gamma gamma) X(-> nu nu~), (Im g_sd)^2 (physics.md Eq. 13, 19)",
    ),
    (
        "B+ -> K+ X",
        103,
        _PToPPrime(521, 321, "g_bs", FF_B_TO_K, p_to_pprime.DECAY_NONE),
        REF_MODEL + _REF_B_K_FF,
        "B+ -> K+ X(-> nu nu~), |g_bs|^2 (physics.md Eq. 12, 19)",
    ),
    (
        "B0 -> K0 X",
        104,
        _PToPPrime(511, 311, "g_bs", FF_B_TO_K, p_to_pprime.DECAY_K0_MIXING),
        REF_MODEL + _REF_B_K_FF,
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
            setups={321: ("rest", "na62"), 130: ("rest", "koto")}.get(_spec.parent, ("rest", "belle2")),
            signature={321: "k_plus", 130: "k_long"}.get(_spec.parent, "b_meson"),
        )
    )
