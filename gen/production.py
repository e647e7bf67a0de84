"""Production: where and when the parent is made, and where every particle is produced.

Design.md §7. The ``rest`` setup puts the parent at rest at the origin at t = 0. For every
setup, decay vertices follow from the momenta: a status-2 particle of proper decay length
cτ decays after a proper time drawn from an exponential, i.e. at its production vertex
plus (p/m)·cτ·(−ln u) in space and (E/m)·cτ·(−ln u) in ct; its daughters are produced
there. Positions are (x, y, z, ct) in mm. Beam setups of later issues only set the parent's
production vertex and boost the momenta before calling :func:`place_vertices`.
"""

from __future__ import annotations

import math

import numpy as np

from phase_space._jit import batch_kernel, prange
from phase_space.random import STREAM_PRODUCTION, STRIDE, stream_key, uniform

SETUPS = ("rest", "ee")


@batch_kernel
def _place_vertices(key, first_event, p, daughter_start, daughter_stop, ctau_mm, v):
    n = p.shape[1]
    k = p.shape[2]
    for i in prange(n):
        base = np.uint64(first_event + i) * np.uint64(STRIDE)
        for m in range(k):  # slots are topologically ordered: v[:, i, m] is already known
            start = daughter_start[m]
            stop = daughter_stop[m]
            if start == stop:
                continue
            x = v[0, i, m]
            y = v[1, i, m]
            z = v[2, i, m]
            t = v[3, i, m]
            ctau = ctau_mm[m]
            if ctau > 0.0:
                energy = p[0, i, m]
                px = p[1, i, m]
                py = p[2, i, m]
                pz = p[3, i, m]
                m2 = energy * energy - px * px - py * py - pz * pz
                if m2 > 0.0:
                    # proper decay length cτ·(−ln u); (p/m, E/m) carry it to the frame of p
                    length = -math.log1p(-uniform(key, base + np.uint64(m))) * ctau / math.sqrt(m2)
                    x += px * length
                    y += py * length
                    z += pz * length
                    t += energy * length
            for d in range(start, stop):
                v[0, i, d] = x
                v[1, i, d] = y
                v[2, i, d] = z
                v[3, i, d] = t


def daughter_ranges(mothers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[start, stop) of the daughters of every slot; daughters must be contiguous slots."""
    k = mothers.shape[0]
    start = np.zeros(k, dtype=np.int64)
    stop = np.zeros(k, dtype=np.int64)
    for m in range(k):
        daughters = np.flatnonzero(mothers == m)
        if daughters.size:
            if (
                not np.array_equal(daughters, np.arange(daughters[0], daughters[-1] + 1))
                or daughters[0] <= m
            ):
                raise ValueError(
                    f"daughters of slot {m} must be contiguous later slots, got {daughters}"
                )
            start[m], stop[m] = daughters[0], daughters[-1] + 1
    return start, stop


def place_vertices(
    seed: int,
    first_event: int,
    p: np.ndarray,
    mothers: np.ndarray,
    ctau_mm: np.ndarray,
    v: np.ndarray,
) -> None:
    """Fill production vertices ``v[4, n, k]`` (mm) of every slot with a mother, from those of
    the slots without one (the parent, or the beams).

    ``p[4, n, k]`` are lab momenta (GeV), ``mothers[k]`` the mother slots (topologically
    ordered, daughters contiguous), ``ctau_mm[k]`` proper decay lengths (0: decays in place).
    Each status-2 particle's decay point is drawn once, from its own counter.
    """
    key = stream_key(seed, STREAM_PRODUCTION)
    start, stop = daughter_ranges(mothers)
    _place_vertices(key, np.int64(first_event), p, start, stop, ctau_mm, v)


def produce(
    setup: str, seed: int, first_event: int, p: np.ndarray, mothers: np.ndarray, ctau_mm: np.ndarray
) -> np.ndarray:
    """Apply production ``setup`` to a batch: returns the vertex array ``v[4, n, k]`` (mm).

    ``rest``: parent at rest at the origin, produced at t = 0. ``ee``: the beams collide at
    the origin at t = 0 (the kernel has already put the momenta in the lab, boosted along z
    by the beam energies). ``p`` is left unchanged.
    """
    if setup not in SETUPS:
        raise ValueError(f"unknown production setup {setup!r}; expected one of {SETUPS}")
    v = np.empty_like(p)
    v[:, :, mothers < 0] = 0.0  # the parent, or both beams, start at the origin at t = 0
    place_vertices(seed, first_event, p, mothers, ctau_mm, v)
    return v
