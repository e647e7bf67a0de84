"""FCC-ee Tera-Z single-photon selection (experiments.md §6).

The fast model of experiments.md §6 — |cosθ| < 0.95, Gaussian energy smearing with the
IDEA dual-readout calorimeter, 11 %/√E ⊕ 1 %, ≲ 1 mrad angular resolution, ε_γ ≈ 0.95 — all
tagged [M] there (detector concepts, not a published analysis).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gen.acceptance import cut
from gen.acceptance.monophoton import REGIONS, select

_NON_NEGATIVE = {"expected": "a number >= 0", "check": lambda x: x >= 0}
_FRACTION = {"expected": "a number in (0, 1]", "check": lambda x: 0 < x <= 1}


@dataclass(frozen=True)
class FCCeeCuts:
    """Cut values of the FCC-ee monophoton fast model."""

    cos_theta_max: float = cut(0.95, "experiments.md §6: fast model |cosθ| < 0.95 [M]", **_FRACTION)
    e_min: float = cut(
        5.0,
        "choice: above the soft radiative tail (not in experiments.md)",
        unit="GeV",
        **_NON_NEGATIVE,
    )
    window_sigmas: float = cut(
        3.0, "line window ±3σ_E (choice)", expected="a number > 0", check=lambda x: x > 0
    )
    energy_stochastic: float = cut(
        0.11, "experiments.md §6: IDEA dual readout 11 %/√E [M]", unit="√GeV", **_NON_NEGATIVE
    )
    energy_constant: float = cut(0.01, "experiments.md §6: ⊕ 1 % [M]", **_NON_NEGATIVE)
    angle_resolution: float = cut(
        0.001, "experiments.md §6: ≲ 1 mrad [M]", unit="rad", **_NON_NEGATIVE
    )
    efficiency: float = cut(0.95, "experiments.md §6: ε_γ ≈ 0.95 [M]", **_FRACTION)
    smear: float = cut(
        1.0,
        "1: smear the photon; 0: cuts on the true photon (truth-level study)",
        expected="0 or 1",
        check=lambda x: x in (0.0, 1.0),
    )


@dataclass(frozen=True)
class FCCeeAcceptance:
    """Wide-angle photon, above E_min, in a window around the line; efficiency factor."""

    cuts: FCCeeCuts = field(default_factory=FCCeeCuts)
    name: str = "fccee"
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
