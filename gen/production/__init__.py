"""Production: where and how the parent is made, and where every particle is produced.

design.md §7. A setup turns a batch generated in the parent rest frame (or the collision
c.m. frame) into the lab: momenta, the production vertex of every particle ((x, y, z, ct) in
mm) and, for a decay volume, a per-event weight factor. Each setup has its options in a
frozen dataclass (``[production]`` keys next to ``setup``):

- ``rest``: the parent at rest at the origin, produced at t = 0;
- ``ee``: e⁺e⁻ beams along z colliding at the origin (the kernel already boosted the event
  by the beam energies);
- ``na62``: the K⁺ beam of NA62 decaying in its decay region (``kaon_beams``);
- ``koto``: the K_L beam of KOTO decaying in its decay region (``kaon_beams``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gen import options as opt
from gen.production import kaon_beams
from gen.production.vertices import daughter_ranges, place_vertices

__all__ = ["SETUPS", "Producer", "daughter_ranges", "place_vertices"]


@dataclass(frozen=True)
class RestSetup:
    """[production] setup = "rest": no options."""


@dataclass(frozen=True)
class EESetup:
    """[production] setup = "ee": symmetric e⁺e⁻ beams along z (LEP, FCC-ee)."""

    sqrt_s: float | None = opt.option(
        None, "c.m. energy of the nominal beams (none: m_Z)", unit="GeV", check=lambda x: x > 0,
        expected="a number > 0",
    )
    beam_energy_spread: float = opt.option(
        0.0, "relative Gaussian spread σ_E/E of each beam energy", check=lambda x: 0 <= x < 0.05,
        expected="a number >= 0 and < 0.05",
    )


SETUPS: dict[str, type] = {
    "rest": RestSetup,
    "ee": EESetup,
    "na62": kaon_beams.NA62Beam,
    "koto": kaon_beams.KOTOBeam,
}


def problems(setup: str, values: dict[str, Any]) -> list[str]:
    """Pass-2 problems of ``[production]`` (dotted keys, no file prefix)."""
    if setup not in SETUPS:
        return [f"production.setup: expected one of {', '.join(SETUPS)}, got {setup!r}"]
    found = opt.problems(SETUPS[setup], values, "production", f"setup {setup!r}")
    table_file = values.get("momentum_table")
    if setup == "koto" and isinstance(table_file, str) and table_file:
        try:
            kaon_beams.spectrum(kaon_beams.KOTOBeam(momentum_table=table_file), 3)
        except (OSError, ValueError) as err:
            found.append(
                f"production.momentum_table: expected a readable CSV (p, density), got {table_file!r} ({err})"
            )
    return found


def table() -> str:
    """Every setup's ``[production]`` keys as a markdown table (generated into the README)."""
    rows = ["| setup | key | default | unit | meaning |", "|---|---|---|---|---|"]
    for name, cls in SETUPS.items():
        keys = opt.table(cls, "")
        if not keys:
            rows.append(f"| `{name}` | — | | | no options |")
        rows.extend(f"| `{name}` {row}" for row in keys)
    return "\n".join(rows)


def options_of(setup: str, values: dict[str, Any]) -> Any:
    """The setup's option dataclass with the card's values."""
    return opt.build(SETUPS[setup], values)


class Producer:
    """Applies one setup to every batch of a run (tables computed once)."""

    def __init__(self, setup: str, values: dict[str, Any], parent_mass: float, parent_ctau_mm: float) -> None:
        self.setup = setup
        self.options = options_of(setup, values)
        self.parent_mass = parent_mass
        self.parent_ctau_mm = parent_ctau_mm
        self._grid = None
        if setup == "na62":
            self._grid = kaon_beams.na62_grid(self.options, parent_mass, parent_ctau_mm)
        elif setup == "koto":
            self._grid = kaon_beams.koto_grid(self.options, parent_mass, parent_ctau_mm)

    @property
    def moves_the_parent(self) -> bool:
        """True for beams in flight: the weight carries the decay-in-region probability."""
        return self._grid is not None

    @property
    def mean_decay_probability(self) -> float | None:
        """⟨P⟩: the probability that a kaon entering the decay region decays in it."""
        return None if self._grid is None else self._grid.mean_probability

    def __call__(
        self, seed: int, first_event: int, p: np.ndarray, mothers: np.ndarray, ctau_mm: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Lab momenta (``p`` updated in place), vertices ``v[4, n, k]`` and the weight factor."""
        if self.setup == "na62":
            assert self._grid is not None
            v, root_decay, factor = kaon_beams.na62(
                self.options, self._grid, seed, first_event, p, self.parent_mass, self.parent_ctau_mm
            )
        elif self.setup == "koto":
            assert self._grid is not None
            v, root_decay, factor = kaon_beams.koto(
                self.options, self._grid, seed, first_event, p, self.parent_mass, self.parent_ctau_mm
            )
        else:
            v = np.empty_like(p)
            v[:, :, mothers < 0] = 0.0  # the parent, or both beams, start at the origin at t = 0
            place_vertices(seed, first_event, p, mothers, ctau_mm, v)
            return v, None
        place_vertices(seed, first_event, p, mothers, ctau_mm, v, root_decay)
        return v, factor
