"""Production: where and how the parent is made, and where every particle is produced.

design.md §7. A setup turns events generated in the parent rest frame (or the collision
c.m. frame) into the lab: momenta, the production vertex of every particle ((x, y, z, ct) in
mm) and, for a decay volume, a per-event weight factor — as block stages of the fused
generation kernel (:meth:`Producer.stage`, ``gen.pipeline``). Each setup has its options in a
frozen dataclass (``[production]`` keys next to ``setup``):

- ``rest``: the parent at rest at the origin, produced at t = 0;
- ``ee``: e⁺e⁻ beams along z colliding at the origin (the kernel already boosted the event
  by the beam energies);
- ``na62``: the K⁺ beam of NA62 decaying in its decay region (``kaon_beams``);
- ``koto``: the K_L beam of KOTO decaying in its decay region (``kaon_beams``);
- ``belle2``: SuperKEKB e⁻e⁺ → Υ(4S) → BB̄, the signal B decaying (``upsilon4s``); the record
  grows by the beams, the Υ(4S) and the other B.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gen import options as opt
from gen import pdg
from gen.options import record
from gen.processes import Topology
from gen.production import kaon_beams, upsilon4s, vertices
from gen.production.vertices import daughter_ranges, roots_at_rest_block
from phase_space.random import STREAM_PRODUCTION, stream_key

__all__ = ["SETUPS", "Producer", "daughter_ranges"]


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
    "belle2": upsilon4s.Belle2Beams,
}


def problems(setup: str, values: dict[str, Any], parent: int | None = None) -> list[str]:
    """Pass-2 problems of ``[production]`` (dotted keys, no file prefix); ``parent`` is the PDG
    id of the process's parent, when known."""
    if setup not in SETUPS:
        return [f"production.setup: expected one of {', '.join(SETUPS)}, got {setup!r}"]
    found = opt.problems(SETUPS[setup], values, "production", f"setup {setup!r}")
    if setup == "belle2" and not found and parent is not None:
        threshold = 2.0 * pdg.mass(parent)
        sqrt_s = options_of(setup, values).sqrt_s
        if sqrt_s < threshold:
            found.append(
                f"production.sqrt_s: expected at least 2 m_{pdg.name(parent)} = {threshold:.5f} GeV "
                f"(Υ(4S) → BB̄), got {sqrt_s:g}"
            )
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
    """Applies one setup to every batch of a run (tables computed once).

    ``topology`` is the record the run writes: the process's own, or (``belle2``) the grown one
    with the beams, the Υ(4S) and the other B in front.
    """

    def __init__(self, setup: str, values: dict[str, Any], process_topology: Topology) -> None:
        self.setup = setup
        self.options = options_of(setup, values)
        self.parent_mass = float(process_topology.masses[0])
        self.parent_ctau_mm = float(process_topology.ctau_mm[0])
        self.parent_pid = int(process_topology.pids[0, 0])
        self.topology = process_topology
        self._grid = None
        self._upsilon = None
        if setup == "na62":
            self._grid = kaon_beams.na62_grid(self.options, self.parent_mass, self.parent_ctau_mm)
        elif setup == "koto":
            self._grid = kaon_beams.koto_grid(self.options, self.parent_mass, self.parent_ctau_mm)
        elif setup == "belle2":
            self._upsilon = upsilon4s.upsilon_decay(self.options, self.parent_mass)
            self.topology = upsilon4s.grow_topology(process_topology, self.options.sqrt_s)

    @property
    def moves_the_parent(self) -> bool:
        """True for beams in flight: the weight carries the decay-in-region probability."""
        return self._grid is not None

    @property
    def decaying_spectrum(self) -> kaon_beams.DecayingSpectrum | None:
        """The momentum table of the kaons that decay in the region (beams in flight), or None."""
        return self._grid

    @property
    def mean_decay_probability(self) -> float | None:
        """⟨P⟩: the probability that a kaon entering the decay region decays in it."""
        return None if self._grid is None else self._grid.mean_probability

    @property
    def n_parents(self) -> float | None:
        """Parents the setup's data set holds (Belle II: B mesons from N_BB̄), or None."""
        if self.setup == "belle2":
            return upsilon4s.n_parents(self.options, self.parent_pid)
        return None

    def summary(self) -> dict[str, Any]:
        """Derived production quantities for summary.json."""
        return upsilon4s.summary(self._upsilon) if self._upsilon is not None else {}

    def stage(self, seed: int) -> tuple[Any, tuple]:
        """The setup's block stage and its arguments after ``(s, first)`` (``gen.pipeline``):
        the beam in flight, Υ(4S) → BB̄, or the roots (the parent, or both beams) at rest at
        the origin at t = 0."""
        key = stream_key(seed, STREAM_PRODUCTION)
        k = np.int64(self.topology.n_slots)
        if self._grid is not None:
            beam = record(self.options, mean_probability=self._grid.mean_probability)
            block = kaon_beams.na62_block if self.setup == "na62" else kaon_beams.koto_block
            grid = self._grid
            return block, (key, grid.p, grid.cdf, grid.guide, beam, self.parent_mass, self.parent_ctau_mm, k)
        if self._upsilon is not None:
            return upsilon4s.block, (key, self._upsilon.record(self.options), k - upsilon4s.N_EXTRA_SLOTS)
        return roots_at_rest_block, (np.flatnonzero(self.topology.mothers < 0).astype(np.int64),)

    def vertex_stage(self, seed: int) -> tuple[Any, tuple]:
        """The production-vertex stage (``vertices.block``) of the record and its arguments."""
        start, stop = daughter_ranges(self.topology.mothers)
        return vertices.block, (stream_key(seed, STREAM_PRODUCTION), start, stop,
                                np.ascontiguousarray(self.topology.ctau_mm), self.moves_the_parent)
