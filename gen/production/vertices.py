"""Decay vertices from momenta: every particle is produced where its mother decays.

A status-2 particle of proper decay length cτ decays after a proper time drawn from an
exponential, i.e. at its production vertex plus (p/m)·cτ·(−ln u) in space and (E/m)·cτ·(−ln u)
in ct (positions (x, y, z, ct) in mm). The slots without a mother (the parent, or the two
beams) start from the vertices the production setup gives them; a setup that places the
parent's decay itself (a decay-volume law) passes that decay point instead of a draw.
"""

from __future__ import annotations

import numpy as np

from phase_space._jit import stage
from phase_space.block import (
    BLOCK,
    ROOT_DECAY,
    TMP,
    WEIGHT_FACTOR,
    fill,
    get,
    move,
    p_row,
    rows,
    v_row,
)
from phase_space.random import STRIDE, uniform
from phase_space.simd_math import log1p, sqrt

# production-stream counters of an event: 0..31 for the vertex draws (one per slot), from 32 on
# for the beam (kaon momentum and decay point, or the Υ(4S) → BB̄ angles)
FIRST_BEAM_COUNTER = 32


DECAY_POINT = TMP  # four scratch rows: the decay point of the slot being placed


@stage
def block(s, first, key, daughter_start, daughter_stop, ctau_mm, fixed_root):
    """Production vertices of every slot with a mother, in the scratch block ``s``.

    Slots are topologically ordered, so a mother's vertex is known before its daughters'.
    A status-2 slot of proper decay length cτ > 0 decays after the proper length
    cτ·(−ln u) (its own counter of stream ``key``), carried to the frame of its momentum by
    (p/m, E/m); the parent decays at rows ROOT_DECAY instead when ``fixed_root`` (a
    decay-volume law placed it). The daughters of slot m are ``daughter_start[m] ..
    daughter_stop[m] − 1``.
    """
    for m in range(daughter_start.shape[0]):
        first_daughter = daughter_start[m]
        end_daughter = daughter_stop[m]
        if first_daughter == end_daughter:
            continue
        ctau = ctau_mm[m]
        if m == 0 and fixed_root:
            move(s, ROOT_DECAY, DECAY_POINT, 4)
        elif ctau > 0.0:
            # views of the slot's rows (block.rows): the loop stays vectorisable
            production = rows(s, v_row(m, 0), 4)
            momentum = rows(s, p_row(m, 0), 4)
            for lane in range(BLOCK):
                energy, px, py, pz = get(momentum, 0, 0, lane)
                m2 = energy * energy - px * px - py * py - pz * pz
                u = uniform(key, np.uint64(first + lane) * np.uint64(STRIDE) + np.uint64(m))
                # proper decay length cτ·(−ln u); (p/m, E/m) carry it to the frame of p
                length = -log1p(-u) * ctau / sqrt(m2) if m2 > 0.0 else 0.0
                s[DECAY_POINT, lane] = production[0, lane] + px * length
                s[DECAY_POINT + 1, lane] = production[1, lane] + py * length
                s[DECAY_POINT + 2, lane] = production[2, lane] + pz * length
                s[DECAY_POINT + 3, lane] = production[3, lane] + energy * length
        else:
            move(s, v_row(m, 0), DECAY_POINT, 4)
        for d in range(first_daughter, end_daughter):
            move(s, DECAY_POINT, v_row(d, 0), 4)


@stage
def roots_at_rest_block(s, first, root_slots):  # noqa: ARG001 - the stages' common signature
    """Setups ``rest`` and ``ee``: the parent (or the two beams) produced at the origin at
    t = 0; weight factor 1."""
    for j in range(root_slots.shape[0]):
        for c in range(4):
            fill(s, v_row(root_slots[j], c), 0.0)
    fill(s, WEIGHT_FACTOR, 1.0)


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
