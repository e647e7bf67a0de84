"""Processes Z → γX(→ νν̄) (Z at rest) and e⁺e⁻ → γX(→ νν̄) at the Z pole.

physics.md §3.5, §4.5; kernels in ``matrix_elements.z_to_gamma``. Z–e couplings with
sin²θ_eff = 0.23153 and e² = 4πα(M_Z) (physics.md §4.5, §9).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gen import pdg, production
from gen.cards import CardError, RunCard
from gen.processes import (
    PID_GAMMA,
    REF_MODEL,
    REGISTRY,
    STATUS_BEAM,
    STATUS_DECAYED,
    STATUS_FINAL,
    Prepared,
    Process,
    Slot,
    check_x_model,
    couplings_of,
    ctau_mm,
    make_topology,
    register,
    x_model_info,
)
from matrix_elements import z_to_gamma
from matrix_elements.constants import ALPHA_EM_MZ, SIN2_THETA_EFF

PID_Z = 23
PID_ELECTRON = 11


def _g_z2() -> float:
    """g_Z² = e²/(s_W² c_W²) with e² = 4πα(M_Z), s_W² = sin²θ_eff (physics.md §4.5)."""
    return 4.0 * math.pi * ALPHA_EM_MZ / (SIN2_THETA_EFF * (1.0 - SIN2_THETA_EFF))


def _prepare(scattering: bool, name: str) -> Callable[[RunCard], Prepared]:
    def prepare(card: RunCard) -> Prepared:
        m_z, width_z = pdg.mass(PID_Z), pdg.width(PID_Z)
        ee = production.options_of("ee", card.production.options) if scattering else None
        sqrt_s = ee.sqrt_s if ee is not None and ee.sqrt_s is not None else m_z
        threshold = sqrt_s if scattering else m_z
        problems = check_x_model(
            card, name, "C_Zgamma", threshold, "sqrt(s)" if scattering else "m_Z"
        )
        if problems:
            raise CardError(problems)
        couplings = couplings_of(card)
        c2 = card.model.C_Zgamma**2 * couplings.g_nu_squared_sum
        g_l, g_r = z_to_gamma.z_electron_couplings(SIN2_THETA_EFF)
        x_pid = card.model.x_pid
        common = {
            "m_z": m_z,
            "width_z": width_z,
            "m_x": couplings.m_x,
            "width_x": couplings.total_width,
            "narrow_width": couplings.narrow_width,
            "flavour_fractions": couplings.flavour_fractions,
        }
        if scattering:
            params = z_to_gamma.make_params(
                mode=z_to_gamma.MODE_EE,
                coupling2=_g_z2() * c2,
                g_l=g_l,
                g_r=g_r,
                sqrt_s=sqrt_s,
                beam_energy_spread=ee.beam_energy_spread,
                m_e=pdg.mass(PID_ELECTRON),
                **common,
            )
            slots = [
                Slot("e-", PID_ELECTRON, STATUS_BEAM, -1, pdg.mass(PID_ELECTRON)),
                Slot("e+", -PID_ELECTRON, STATUS_BEAM, -1, pdg.mass(PID_ELECTRON)),
                Slot("gamma", PID_GAMMA, STATUS_FINAL, 0, 0.0, mother2=1),
                Slot("X", x_pid, STATUS_DECAYED, 0, np.nan, couplings.ctau_x_mm, mother2=1),
            ]
            nu_mother = 3
        else:
            params = z_to_gamma.make_params(mode=z_to_gamma.MODE_Z_DECAY, coupling2=c2, **common)
            slots = [
                Slot("Z", PID_Z, STATUS_DECAYED, -1, m_z, ctau_mm(PID_Z)),
                Slot("gamma", PID_GAMMA, STATUS_FINAL, 0, 0.0),
                Slot("X", x_pid, STATUS_DECAYED, 0, np.nan, couplings.ctau_x_mm),
            ]
            nu_mother = 2
        slots += [
            Slot("nu", 12, STATUS_FINAL, nu_mother, 0.0),
            Slot("nu~", -12, STATUS_FINAL, nu_mother, 0.0),
        ]
        info: dict[str, Any] = x_model_info(couplings)
        width_gamma_x = z_to_gamma.width_z_to_gamma_x(card.model.C_Zgamma**2, m_z, couplings.m_x)
        info.update(
            {
                "sqrt_s": sqrt_s,
                "photon_slot": 2 if scattering else 1,
                "width_Z_to_gamma_X": width_gamma_x,
                "br_Z_to_gamma_X": width_gamma_x / width_z,
                "f_L": z_to_gamma.longitudinal_fraction(couplings.m_x, sqrt_s**2),
                "E_gamma_line": (sqrt_s**2 - couplings.m_x**2) / (2.0 * sqrt_s),
                "g_Z2": _g_z2(),
                "width_Z_to_ee": z_to_gamma.width_z_to_ee(_g_z2(), g_l, g_r, m_z),
            }
        )
        if scattering:
            info["sigma_pb_narrow"] = (
                z_to_gamma.sigma_ee_to_gamma_x(
                    sqrt_s**2,
                    card.model.C_Zgamma**2,
                    _g_z2(),
                    g_l,
                    g_r,
                    m_z,
                    width_z,
                    couplings.m_x,
                )
                * couplings.br_invisible
            )
        return Prepared(
            process=REGISTRY[name],
            params=params,
            n_dim=z_to_gamma.n_dim(params),
            topology=make_topology(slots, x_pid),
            analytic_rate=z_to_gamma.rate(params),
            rate_unit="pb" if scattering else "BR",
            conjugate_fraction=0.0,
            info=info,
        )

    return prepare


register(
    Process(
        name="Z -> gamma X",
        code=501,
        parent=PID_Z,
        family=z_to_gamma,
        prepare=_prepare(False, "Z -> gamma X"),
        references=REF_MODEL,
        description="Z (at rest, unpolarised) -> gamma X(-> nu nu~), C_Zgamma^2 (physics.md Eq. 16, 28)",
        signature="monophoton",
        setups=("rest",),
    )
)
register(
    Process(
        name="e+ e- -> gamma X",
        code=502,
        parent=PID_ELECTRON,
        family=z_to_gamma,
        prepare=_prepare(True, "e+ e- -> gamma X"),
        references=REF_MODEL,
        description="e+ e- -> Z* -> gamma X(-> nu nu~) in pb (physics.md Eq. 24-27)",
        signature="monophoton",
        setups=("ee",),
    )
)
