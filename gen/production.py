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

SETUPS = ("rest",)


@batch_kernel
def _place_vertices(key, first_event, p, mothers, ctau_mm, v):
    n = p.shape[1]
    k = p.shape[2]
    for i in prange(n):
        base = np.uint64(first_event + i) * np.uint64(STRIDE)
        for s in range(1, k):
            m = mothers[s]
            # production vertex of s = decay vertex of its mother m (m < s)
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
                    # the same draw for all daughters of m: counter of the mother slot
                    length = -math.log1p(-uniform(key, base + np.uint64(m))) * ctau / math.sqrt(m2)
                    x += px * length
                    y += py * length
                    z += pz * length
                    t += energy * length
            v[0, i, s] = x
            v[1, i, s] = y
            v[2, i, s] = z
            v[3, i, s] = t


def place_vertices(
    seed: int, first_event: int, p: np.ndarray, mothers: np.ndarray, ctau_mm: np.ndarray, v: np.ndarray
) -> None:
    """Fill production vertices ``v[4, n, k]`` (mm) of slots 1.. from the parent's ``v[:, :, 0]``.

    ``p[4, n, k]`` are lab momenta (GeV), ``mothers[k]`` the mother slots (topologically
    ordered), ``ctau_mm[k]`` proper decay lengths (0: decays in place).
    """
    key = stream_key(seed, STREAM_PRODUCTION)
    _place_vertices(key, np.int64(first_event), p, mothers, ctau_mm, v)


def produce(setup: str, seed: int, first_event: int, p: np.ndarray, mothers: np.ndarray,
            ctau_mm: np.ndarray) -> np.ndarray:
    """Apply production ``setup`` to a batch: returns the vertex array ``v[4, n, k]`` (mm).

    ``rest``: parent at rest at the origin, produced at t = 0; ``p`` is left unchanged.
    """
    if setup != "rest":
        raise ValueError(f"unknown production setup {setup!r}; expected one of {SETUPS}")
    v = np.zeros_like(p)
    place_vertices(seed, first_event, p, mothers, ctau_mm, v)
    return v
