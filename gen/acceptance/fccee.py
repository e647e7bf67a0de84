"""FCC-ee Tera-Z single-photon selection (experiments.md §6).

The fast model of experiments.md §6 — |cosθ| < 0.95, Gaussian energy smearing with the
IDEA dual-readout calorimeter, 11 %/√E ⊕ 1 %, ≲ 1 mrad angular resolution, ε_γ ≈ 0.95 — all
tagged [M] there (detector concepts, not a published analysis).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gen.acceptance.monophoton import MonophotonAcceptance
from gen.options import fraction, non_negative, positive, switch


@dataclass(frozen=True)
class FCCeeCuts:
    """Cut values of the FCC-ee monophoton fast model."""

    cos_theta_max: float = fraction("experiments.md §6: fast model |cosθ| < 0.95 [M]", 0.95)
    e_min: float = non_negative("choice: above the soft radiative tail (not in experiments.md)", 5.0, "GeV")
    window_sigmas: float = positive("line window ±3σ_E (choice)", 3.0)
    energy_stochastic: float = non_negative("experiments.md §6: IDEA dual readout 11 %/√E [M]", 0.11, "√GeV")
    energy_constant: float = non_negative("experiments.md §6: ⊕ 1 % [M]", 0.01)
    angle_resolution: float = non_negative("experiments.md §6: ≲ 1 mrad [M]", 0.001, "rad")
    efficiency: float = fraction("experiments.md §6: ε_γ ≈ 0.95 [M]", 0.95)
    smear: float = switch("1: smear the photon; 0: cuts on the true photon (truth-level study)", 1.0)


@dataclass(frozen=True)
class FCCeeAcceptance(MonophotonAcceptance):
    """Wide-angle photon, above E_min, in a window around the line; efficiency factor."""

    cuts: FCCeeCuts = field(default_factory=FCCeeCuts)
    name: str = "fccee"
