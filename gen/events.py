"""Events as structure of arrays, and their awkward form (design.md §8, §12).

An :class:`EventBatch` holds one batch: momenta ``p[4, n, k]`` (E, px, py, pz in GeV) and
production vertices ``v[4, n, k]`` ((x, y, z, ct) in mm) with one contiguous array per
component, PDG ids ``pid[n, k]``, weights, observables and selection flags. The awkward
view is built from these buffers without copying the momenta.

Particle record fields: ``pid, status, mother, E, px, py, pz, vx, vy, vz, vt``. The record is
named ``Momentum4D``, so after ``vector.register_awkward()`` ``events.particles.mass`` works.
(design.md §12 names the vertex fields x, y, z, t; vector refuses a Momentum4D with both px
and x, so the vertex fields take their HEPEVT names vx, vy, vz, vt.)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import awkward as ak

PARTICLE_FIELDS = ("pid", "status", "mother", "E", "px", "py", "pz", "vx", "vy", "vz", "vt")


def vertex_table(mothers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct production vertices of a record: (``vertex_of_slot[k]``, ``source_slot[m]``).

    Daughters of one mother share their production vertex (the mother's decay point), and
    each slot without a mother (the parent, or a beam) has its own: m vertices for k slots
    (NA62 K⁺ → π⁺X(→ νν̄): 3 for 5). ``vertex_of_slot[s]`` is the vertex slot s is produced
    at, ``source_slot[j]`` the first slot produced at vertex j.
    """
    vertex_of_slot = np.empty(mothers.shape[0], dtype=np.int64)
    group: dict[int, int] = {}
    for s, mother in enumerate(mothers.tolist()):
        key = -1 - s if mother < 0 else mother  # a root is a group of its own
        vertex_of_slot[s] = group.setdefault(key, len(group))
    source_slot = np.array([int(np.flatnonzero(vertex_of_slot == j)[0]) for j in range(len(group))], dtype=np.int64)
    return vertex_of_slot, source_slot


@dataclass
class EventBatch:
    """One batch of events (all arrays share the event axis).

    Production vertices are stored once per vertex (``vertices[4, n, m]``, :func:`vertex_table`):
    the daughters of a decay share theirs, so an NA62 event carries 3 vertices, not 5.
    :attr:`v` is the per-particle view (4, n, k) the writers use, made when first asked for.
    """

    first_event: int
    p: np.ndarray  # float64 (4, n, k)
    vertices: np.ndarray  # float64 (4, n, m): x, y, z, ct in mm of each distinct vertex
    vertex_of_slot: np.ndarray  # int64 (k,): the vertex each slot is produced at
    pid: np.ndarray  # int32 (n, k)
    status: np.ndarray  # int32 (k,)
    mothers: np.ndarray  # int32 (k,)
    masses: np.ndarray  # float64 (k,), NaN: from the momentum
    weight: np.ndarray  # float64 (n,)
    event_number: np.ndarray  # int64 (n,)
    observables: dict[str, np.ndarray]
    selected: dict[str, np.ndarray]
    mothers2: np.ndarray | None = None  # int32 (k,), second mothers (−1: none)

    @property
    def n_events(self) -> int:
        return int(self.weight.shape[0])

    @property
    def n_slots(self) -> int:
        return int(self.status.shape[0])

    @functools.cached_property
    def v(self) -> np.ndarray:
        """Production vertex of every particle, float64 (4, n, k) in mm (x, y, z, ct)."""
        return np.ascontiguousarray(np.take(self.vertices, self.vertex_of_slot, axis=2))

    def take(self, mask: np.ndarray) -> EventBatch:
        """The events where ``mask`` is true (copies)."""
        return EventBatch(
            first_event=self.first_event,
            p=np.ascontiguousarray(self.p[:, mask, :]),
            vertices=np.ascontiguousarray(self.vertices[:, mask, :]),
            vertex_of_slot=self.vertex_of_slot,
            pid=self.pid[mask],
            status=self.status,
            mothers=self.mothers,
            masses=self.masses,
            weight=self.weight[mask],
            event_number=self.event_number[mask],
            observables={k: a[mask] for k, a in self.observables.items()},
            selected={k: a[mask] for k, a in self.selected.items()},
            mothers2=self.mothers2,
        )

    def generated_masses(self) -> np.ndarray:
        """Generated mass of every particle, (n, k) in GeV (nominal, or from the momentum)."""
        masses = np.broadcast_to(self.masses, (self.n_events, self.n_slots)).copy()
        free = np.isnan(self.masses)
        if free.any():
            e, px, py, pz = (self.p[c][:, free] for c in range(4))
            masses[:, free] = np.sqrt(np.maximum(e * e - px * px - py * py - pz * pz, 0.0))
        return masses


def to_awkward(batch: EventBatch) -> ak.Array:
    """The batch as an awkward Array, one record per event (design.md §12 schema)."""
    import awkward as ak

    n, k = batch.n_events, batch.n_slots
    offsets = ak.index.Index64(np.arange(0, n * k + 1, k, dtype=np.int64))
    columns = {
        "pid": batch.pid.reshape(-1),
        "status": np.broadcast_to(batch.status, (n, k)).reshape(-1),
        "mother": np.broadcast_to(batch.mothers, (n, k)).reshape(-1),
        "E": batch.p[0].reshape(-1),
        "px": batch.p[1].reshape(-1),
        "py": batch.p[2].reshape(-1),
        "pz": batch.p[3].reshape(-1),
        "vx": batch.v[0].reshape(-1),
        "vy": batch.v[1].reshape(-1),
        "vz": batch.v[2].reshape(-1),
        "vt": batch.v[3].reshape(-1),
    }
    particles = ak.contents.ListOffsetArray(
        offsets,
        ak.contents.RecordArray(
            [ak.contents.NumpyArray(np.ascontiguousarray(columns[f])) for f in PARTICLE_FIELDS],
            list(PARTICLE_FIELDS),
            parameters={"__record__": "Momentum4D"},
        ),
    )
    observables = ak.contents.RecordArray(
        [
            ak.contents.NumpyArray(np.ascontiguousarray(a, dtype=np.float64))
            for a in batch.observables.values()
        ],
        list(batch.observables),
        length=n,
    )
    selected = ak.contents.RecordArray(
        [
            # pass flags (bool), or selection probabilities (float64) from published maps
            ak.contents.NumpyArray(
                np.ascontiguousarray(a, dtype=np.float64 if np.issubdtype(a.dtype, np.floating) else np.bool_)
            )
            for a in batch.selected.values()
        ],
        list(batch.selected),
        length=n,
    )
    record = ak.contents.RecordArray(
        [
            ak.contents.NumpyArray(batch.event_number.astype(np.int64)),
            ak.contents.NumpyArray(np.ascontiguousarray(batch.weight)),
            particles,
            observables,
            selected,
        ],
        ["event", "weight", "particles", "observables", "selected"],
    )
    return ak.Array(record)
