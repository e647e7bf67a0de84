"""Decay vertices from momenta: every particle is produced where its mother decays.

A status-2 particle of proper decay length cτ decays after a proper time drawn from an
exponential, i.e. at its production vertex plus (p/m)·cτ·(−ln u) in space and (E/m)·cτ·(−ln u)
in ct (positions (x, y, z, ct) in mm). The slots without a mother (the parent, or the two
beams) start from the vertices the production setup gives them; a setup that places the
parent's decay itself (a decay-volume law) passes that decay point instead of a draw.
"""

from __future__ import annotations

import math

import numpy as np

from phase_space._jit import batch_kernel
from phase_space.random import STREAM_PRODUCTION, STRIDE, stream_key, uniform

# production-stream counters of an event: 0..31 for the vertex draws (one per slot), from 32 on
# for the beam (kaon momentum and decay point, or the Υ(4S) → BB̄ angles)
FIRST_BEAM_COUNTER = 32


@batch_kernel(events=2, axis=1)
def _place_vertices(key, first_event, p, daughter_start, daughter_stop, ctau_mm, root_decay, v, start, stop):
    n = p.shape[1]
    k = p.shape[2]
    fixed_root = root_decay.shape[1] == n
    for i in range(start, stop):
        base = np.uint64(first_event + i) * np.uint64(STRIDE)
        for m in range(k):  # slots are topologically ordered: v[:, i, m] is already known
            first_daughter = daughter_start[m]
            end_daughter = daughter_stop[m]
            if first_daughter == end_daughter:
                continue
            x = v[0, i, m]
            y = v[1, i, m]
            z = v[2, i, m]
            t = v[3, i, m]
            ctau = ctau_mm[m]
            if m == 0 and fixed_root:
                # the setup placed the parent's decay (decay-volume law)
                x = root_decay[0, i]
                y = root_decay[1, i]
                z = root_decay[2, i]
                t = root_decay[3, i]
            elif ctau > 0.0:
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
            for d in range(first_daughter, end_daughter):
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
    root_decay: np.ndarray | None = None,
) -> None:
    """Fill production vertices ``v[4, n, k]`` (mm) of every slot with a mother, from those of
    the slots without one (the parent, or the beams).

    ``p[4, n, k]`` are lab momenta (GeV), ``mothers[k]`` the mother slots (topologically
    ordered, daughters contiguous), ``ctau_mm[k]`` proper decay lengths (0: decays in place).
    Each status-2 particle's decay point is drawn once, from its own counter, except the
    parent's when ``root_decay[4, n]`` gives it.
    """
    key = stream_key(seed, STREAM_PRODUCTION)
    start, stop = daughter_ranges(mothers)
    if root_decay is None:
        root_decay = np.zeros((4, 0))
    _place_vertices(key, np.int64(first_event), p, start, stop, ctau_mm, root_decay, v)


