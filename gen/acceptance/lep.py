"""LEP-like (L3) single-photon selection at the Z pole (experiments.md §5).

Every number below is tagged [M] in experiments.md §5 — from memory, unverified against
L3, Phys. Lett. B 412 (1997) 201 — and is meant to be overridden from the card once checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gen.acceptance.monophoton import MonophotonAcceptance
from gen.options import fraction, non_negative, positive, switch


@dataclass(frozen=True)
class LEPCuts:
    """Cut values of the L3-like monophoton selection."""

    cos_theta_max: float = fraction("experiments.md §5: barrel BGO, 45° < θ < 135° [M]", 0.7)
    e_min: float = non_negative("experiments.md §5: E_γ > 15 GeV 'or so' [M]", 15.0, "GeV")
    window_sigmas: float = positive("line window ±3σ_E (choice)", 3.0)
    energy_stochastic: float = non_negative("BGO: resolution taken as constant [M]", 0.0)
    energy_constant: float = non_negative("experiments.md §5: σ_E/E ≈ 1–2 % (BGO) [M]", 0.015)
    angle_resolution: float = non_negative("not smeared (not given in experiments.md)", 0.0, "rad")
    efficiency: float = fraction("experiments.md §5: 70–80 % inside the acceptance [M]", 0.75)
    smear: float = switch("1: smear the photon; 0: cuts on the true photon (truth-level study)", 1.0)


@dataclass(frozen=True)
class LEPAcceptance(MonophotonAcceptance):
    """Photon in the barrel, above E_min, in a window around the line; efficiency factor."""

    cuts: LEPCuts = field(default_factory=LEPCuts)
    name: str = "lep"
