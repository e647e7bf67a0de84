"""HepMC3 ASCII through pyhepmc's fastest path (design.md §8).

One template ``GenEvent`` is built per batch from the record topology (every vertex has its
incoming particle; the parent's production vertex is the event's root); its
``GenEventData`` exposes the particle and vertex tables as numpy views. For each event only
those views, the weight and the event number change before ``GenEvent.read_data`` and the
C++ writer. The per-batch parts of the tables are built with numpy beforehand, and every
generated mass is given (``is_mass_set``), which spares HepMC3 computing it — about twice as
fast. Units GeV and mm; run info carries the tool, weight names, card, seed, PDG edition and
references; the GenCrossSection attribute carries the running rate estimate (BR for decays),
so the last event has the final one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyhepmc

from gen.cards import OutputSection
from gen.events import EventBatch
from gen.output import RunInfo, temporary_path


def _template_event(batch: EventBatch) -> tuple[pyhepmc.GenEvent, list[int]]:
    """A GenEvent with the batch's topology, and for each vertex the slot it produces.

    Particles are added in slot order before any vertex, so HepMC3's particle table has the
    same order as the slots (its ids are slot + 1).
    """
    event = pyhepmc.GenEvent(pyhepmc.Units.GEV, pyhepmc.Units.MM)
    particles = []
    for s in range(batch.n_slots):
        particle = pyhepmc.GenParticle(
            (0.0, 0.0, 0.0, 0.0), int(batch.pid[0, s]), int(batch.status[s])
        )
        event.add_particle(particle)
        particles.append(particle)
    vertex_first_daughter = []
    mothers2 = batch.mothers2 if batch.mothers2 is not None else np.full(batch.n_slots, -1)
    for s in range(batch.n_slots):
        daughters = [d for d in range(batch.n_slots) if batch.mothers[d] == s]
        if not daughters:
            continue
        vertex = pyhepmc.GenVertex((0.0, 0.0, 0.0, 0.0))
        vertex.add_particle_in(particles[s])
        for other in sorted({int(mothers2[d]) for d in daughters if mothers2[d] >= 0}):
            vertex.add_particle_in(particles[other])  # the second beam of a collision
        for d in daughters:
            vertex.add_particle_out(particles[d])
        event.add_vertex(vertex)
        vertex_first_daughter.append(daughters[0])
    event.weights = [0.0]
    return event, vertex_first_daughter


class HepMC3Writer:
    """Write events with pyhepmc; ``.gz`` (and other suffixes pyhepmc knows) compress."""

    def __init__(self, path: Path, options: OutputSection, run_info: RunInfo) -> None:
        self.path = path
        self.tmp = temporary_path(path)
        self.options = options
        self.run_info = _run_info(run_info)
        self._file: Any = None

    def write_batch(self, batch: EventBatch, rate: tuple[float, float, int, int]) -> None:
        if batch.n_events == 0:
            return
        if self._file is None:
            self._file = pyhepmc.open(self.tmp, "w", precision=self.options.precision)
        event, vertex_slots = _template_event(batch)
        event.run_info = self.run_info
        xs = pyhepmc.GenCrossSection()
        xs.set_cross_section(rate[0], rate[1], rate[2], rate[3])
        event.cross_section = xs
        data = pyhepmc.GenEventData()
        event.write_data(data)
        particles = data.particles
        if not np.array_equal(particles["pid"], batch.pid[0]):
            raise RuntimeError("HepMC3 template particle order differs from the slot order")
        vertices = data.vertices
        weights = data.weights

        # the whole batch's tables, filled with numpy, then copied row by row
        table = np.zeros((batch.n_events, batch.n_slots), dtype=particles.dtype)
        table["pid"] = batch.pid
        table["status"] = batch.status
        table["is_mass_set"] = True
        table["mass"] = batch.generated_masses()
        table["px"] = batch.p[1]
        table["py"] = batch.p[2]
        table["pz"] = batch.p[3]
        table["e"] = batch.p[0]
        vtable = np.zeros((batch.n_events, len(vertex_slots)), dtype=vertices.dtype)
        for j, s in enumerate(vertex_slots):
            vtable["x"][:, j] = batch.v[0][:, s]
            vtable["y"][:, j] = batch.v[1][:, s]
            vtable["z"][:, j] = batch.v[2][:, s]
            vtable["t"][:, j] = batch.v[3][:, s]
        # raw byte views: a row copy is then one memcpy instead of numpy's field-by-field
        # structured assignment (0.4 µs instead of 3 µs per event)
        particle_bytes = particles.view(np.uint8)
        vertex_bytes = vertices.view(np.uint8)
        table_bytes = table.view(np.uint8).reshape(batch.n_events, -1)
        vtable_bytes = vtable.view(np.uint8).reshape(batch.n_events, -1)
        numbers = batch.event_number.tolist()
        weight_list = batch.weight.tolist()
        write = self._file.write
        read_data = event.read_data
        for i in range(batch.n_events):
            particle_bytes[:] = table_bytes[i]
            vertex_bytes[:] = vtable_bytes[i]
            weights[0] = weight_list[i]
            data.event_number = numbers[i]
            read_data(data)
            write(event)

    def finish(self, summary: dict[str, Any]) -> None:  # noqa: ARG002
        if self._file is None:
            self._file = pyhepmc.open(self.tmp, "w", precision=self.options.precision)
        self._file.close()
        self._file = None
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.tmp.unlink(missing_ok=True)


def _run_info(info: RunInfo) -> pyhepmc.GenRunInfo:
    run_info = pyhepmc.GenRunInfo()
    run_info.tools = [
        pyhepmc.GenRunInfo.ToolInfo(
            "axgen", info.versions.get("axgen", ""), f"{info.process} (arXiv:2603.04394)"
        )
    ]
    run_info.weight_names = list(info.weight_names)
    attributes = {
        "process": info.process,
        "process_code": info.process_code,
        "seed": info.seed,
        "mode": info.mode,
        "rate_unit": info.rate_unit,
        "pdg_edition": info.pdg_edition,
        "references": " ".join(r.replace(" ", "_") for r in info.references),
        "card": info.card_json,
        "slots": " ".join(info.labels),
    }
    for name, version in info.versions.items():
        attributes[f"version_{name}"] = version
    for key, value in attributes.items():
        run_info.attributes[key] = value
    return run_info
