"""LEP-like (L3) single-photon selection at the Z pole (experiments.md §5).

Every number below is tagged [M] in experiments.md §5 — from memory, unverified against
L3, Phys. Lett. B 412 (1997) 201 — and is meant to be overridden from the card once checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gen.acceptance import cut
from gen.acceptance.monophoton import REGIONS, select

_POSITIVE = {"expected": "a number > 0", "check": lambda x: x > 0}
_FRACTION = {"expected": "a number in (0, 1]", "check": lambda x: 0 < x <= 1}


@dataclass(frozen=True)
class LEPCuts:
    """Cut values of the L3-like monophoton selection."""

    cos_theta_max: float = cut(
        0.7, "experiments.md §5: barrel BGO, 45° < θ < 135° [M]", **_FRACTION
    )
    e_min: float = cut(
        15.0,
        "experiments.md §5: E_γ > 15 GeV 'or so' [M]",
        unit="GeV",
        expected="a number >= 0",
        check=lambda x: x >= 0,
    )
    window_sigmas: float = cut(3.0, "line window ±3σ_E (choice)", **_POSITIVE)
    energy_stochastic: float = cut(
        0.0,
        "BGO: resolution taken as constant [M]",
        expected="a number >= 0",
        check=lambda x: x >= 0,
    )
    energy_constant: float = cut(
        0.015,
        "experiments.md §5: σ_E/E ≈ 1–2 % (BGO) [M]",
        expected="a number >= 0",
        check=lambda x: x >= 0,
    )
    angle_resolution: float = cut(
        0.0,
        "not smeared (not given in experiments.md)",
        unit="rad",
        expected="a number >= 0",
        check=lambda x: x >= 0,
    )
    efficiency: float = cut(
        0.75, "experiments.md §5: 70–80 % inside the acceptance [M]", **_FRACTION
    )
    smear: float = cut(
        1.0,
        "1: smear the photon; 0: cuts on the true photon (truth-level study)",
        expected="0 or 1",
        check=lambda x: x in (0.0, 1.0),
    )


@dataclass(frozen=True)
class LEPAcceptance:
    """Photon in the barrel, above E_min, in a window around the line; efficiency factor."""

    cuts: LEPCuts = field(default_factory=LEPCuts)
    name: str = "lep"
    regions: tuple[str, ...] = REGIONS
    signal_regions: tuple[str, ...] = ("SR",)  # what scans plot
    signatures: tuple[str, ...] = ("monophoton",)
    setups: tuple[str, ...] = ("rest", "ee")

    @property
    def efficiency(self) -> dict[str, float]:
        return dict.fromkeys(self.regions, self.cuts.efficiency)

    def apply(
        self,
        p: np.ndarray,
        pid: np.ndarray,
        q2: np.ndarray,
        context: dict[str, Any],
        seed: int,
        first_event: int,
        v: np.ndarray | None = None,  # noqa: ARG002
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        return select(self.cuts, p, pid, q2, context, seed, first_event)
