"""Belle II: e⁻e⁺ → Υ(4S) → B B̄ at SuperKEKB (experiments.md §3.1).

The e⁻ (HER) and e⁺ (LER) beams cross at a full angle θ_c in the x–z plane, each at θ_c/2
from the solenoid axis z, both tilted towards +x (the Belle II convention, so the c.m. moves
with βγ ≈ (0.043, 0, 0.284)). The nominal beam energies are scaled by one common factor so
that √s is the card's value (default: the Υ(4S) mass); the boost is the nominal one.

Per event: the Υ(4S) (at rest in the c.m.) decays to the signal B and the other B back to
back, with |p*_B| = √(s/4 − m_B²) and the direction drawn from (1 − cos²θ*) about the e⁻ beam
axis in the c.m. (a vector decaying to two spin-0 mesons from e⁺e⁻ → γ* with helicity ±1)
and φ* uniform. The signal B's decay, generated in its rest frame, is boosted to the lab; the
other B is written undecayed (status 1) for a downstream decay generator.

The record grows by four slots in front of the process record: e⁻, e⁺ (status 4), Υ(4S)
(status 2, mothers e⁻ and e⁺), then the signal B (the process's parent) and the other B (its
charge conjugate); the process's other slots follow in their order. Lab frame: z along the
solenoid axis, origin at the interaction point, where both beams collide at t = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gen import pdg
from gen.options import fraction, option, positive, record
from gen.processes import STATUS_BEAM, STATUS_DECAYED, STATUS_FINAL, Topology
from gen.production.vertices import FIRST_BEAM_COUNTER
from phase_space._jit import kernel, stage
from phase_space.block import (
    BLOCK,
    BOOST_FACTORS,
    P_ROWS,
    V_ROWS,
    WEIGHT_FACTOR,
    boost_slots,
    fill,
    move,
    p_row,
    put,
)
from phase_space.kinematics import (
    azimuth_cos_sin,
    boost_factors,
    boost_to_rest,
    boost_with,
)
from phase_space.random import STRIDE, uniform
from phase_space.simd_math import asin, sincos, sqrt

PID_ELECTRON = 11
PID_UPSILON_4S = 300553
N_EXTRA_SLOTS = 4  # e⁻, e⁺, Υ(4S) before the signal B; the other B after it
SIGNAL_B_SLOT = 3
OTHER_B_SLOT = 4


@dataclass(frozen=True)
class Belle2Beams:
    """[production] setup = "belle2": SuperKEKB beams, Υ(4S) → BB̄ and the B-pair count."""

    her_energy: float = positive("e⁻ (HER) beam energy before scaling to sqrt_s [V, arXiv:1802.01366]", 7.0, "GeV")
    ler_energy: float = positive("e⁺ (LER) beam energy before scaling to sqrt_s [V, arXiv:1802.01366]", 4.0, "GeV")
    crossing_angle: float = option(
        0.083, "full crossing angle of the beams [M, 83 mrad]", unit="rad",
        check=lambda x: 0 <= x < 0.5, expected="a number >= 0 and < 0.5")
    sqrt_s: float = positive("c.m. energy; the beams are scaled to it [PDG Υ(4S) mass]", 10.5794, "GeV")
    n_bb: float = positive("number of BB̄ pairs in the data set [M, 387e6 for 362 fb⁻¹, §3.1]", 387.0e6)
    f_plus_minus: float = fraction("Υ(4S) → B⁺B⁻ fraction; B⁰B̄⁰ is 1 − f₊₋ [M, PDG, §3.1]", 0.516)


def beam_momenta(beams: Belle2Beams) -> tuple[np.ndarray, np.ndarray]:
    """Lab 4-momenta (E, px, py, pz in GeV) of the e⁻ and e⁺ beams, scaled to ``sqrt_s``."""
    m_e = pdg.mass(PID_ELECTRON)
    half = 0.5 * beams.crossing_angle
    directions = (
        np.array([math.sin(half), 0.0, math.cos(half)]),  # e⁻ towards +z
        np.array([math.sin(half), 0.0, -math.cos(half)]),  # e⁺ towards −z, also tilted to +x
    )

    def beams_at(scale: float) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for energy, direction in zip((beams.her_energy, beams.ler_energy), directions, strict=True):
            momentum = scale * math.sqrt(energy * energy - m_e * m_e)
            out.append(np.array([math.hypot(momentum, m_e), *(momentum * direction)]))
        return out[0], out[1]

    scale = 1.0
    for _ in range(60):  # s ≈ scale² s₀: a fixed point that converges to rounding in a few steps
        electron, positron = beams_at(scale)
        total = electron + positron
        sqrt_s = math.sqrt(total[0] ** 2 - total[1:] @ total[1:])
        if abs(sqrt_s - beams.sqrt_s) <= 1e-15 * beams.sqrt_s:
            break
        scale *= beams.sqrt_s / sqrt_s
    return beams_at(scale)


def cm_axes(electron: np.ndarray, upsilon: np.ndarray) -> np.ndarray:
    """Rows (x̂, ŷ, ẑ) of the c.m. frame in lab components: ẑ along the e⁻ in the c.m., ŷ the
    lab y axis (normal to the crossing plane), x̂ = ŷ × ẑ."""
    e_cm = np.array(boost_to_rest(tuple(electron), tuple(upsilon)))
    z_axis = e_cm[1:] / np.linalg.norm(e_cm[1:])
    y_axis = np.array([0.0, 1.0, 0.0])
    y_axis -= (y_axis @ z_axis) * z_axis
    y_axis /= np.linalg.norm(y_axis)
    return np.array([np.cross(y_axis, z_axis), y_axis, z_axis])


@dataclass(frozen=True)
class UpsilonDecay:
    """What every event shares: beams, the Υ(4S) in the lab, c.m. axes and the B momentum."""

    electron: np.ndarray  # (4,) GeV
    positron: np.ndarray  # (4,) GeV
    upsilon: np.ndarray  # (4,) GeV, lab
    axes: np.ndarray  # (3, 3) rows x̂, ŷ, ẑ of the c.m. frame (lab components)
    m_b: float  # GeV
    p_star: float  # |p*_B| in the c.m., GeV

    def record(self, beams: Belle2Beams) -> np.ndarray:
        return record(
            beams, electron=tuple(self.electron), positron=tuple(self.positron),
            upsilon=tuple(self.upsilon), axis_x=tuple(self.axes[0]), axis_y=tuple(self.axes[1]),
            axis_z=tuple(self.axes[2]), m_b=self.m_b, p_star=self.p_star,
        )


def upsilon_decay(beams: Belle2Beams, m_b: float) -> UpsilonDecay:
    """The per-run constants for B mesons of mass ``m_b`` (GeV); ValueError below threshold."""
    electron, positron = beam_momenta(beams)
    upsilon = electron + positron
    p_star2 = beams.sqrt_s**2 / 4.0 - m_b * m_b
    if p_star2 < -1e-12 * m_b * m_b:
        raise ValueError(f"sqrt_s = {beams.sqrt_s} GeV is below the BB̄ threshold 2 m_B = {2 * m_b:.5f} GeV")
    return UpsilonDecay(electron, positron, upsilon, cm_axes(electron, upsilon), m_b, math.sqrt(max(p_star2, 0.0)))


@kernel
def cos_theta_one_minus_cos2(u):
    """cos θ from the density (3/4)(1 − cos²θ) on [−1, 1] by its exact inverse CDF.

    F(c) = (2 + 3c − c³)/4 = u is the cubic c³ − 3c + 2(2u − 1) = 0, whose root in [−1, 1]
    is c = 2 sin(asin(2u − 1)/3) (from sin 3φ = 3 sin φ − 4 sin³φ with c = 2 sin φ).
    """
    return 2.0 * sincos(asin(2.0 * u - 1.0) / 3.0)[1]


@stage
def block(s, first, key, run, n_process_slots):
    """Υ(4S) → BB̄ for every lane of the scratch block ``s`` (:mod:`phase_space.block`).

    The process record (slots 0 .. n_process_slots − 1, signal-B rest frame) grows into the
    Belle II record: its slots j ≥ 1 move to j + 4 and are boosted to the lab; slots 0–4
    become e⁻, e⁺, Υ(4S), the signal B and the other B; the beams start at the origin at
    t = 0. ``run`` is the record of :class:`UpsilonDecay` with the beam options.
    """
    r = run[0]
    electron = (r.electron[0], r.electron[1], r.electron[2], r.electron[3])
    positron = (r.positron[0], r.positron[1], r.positron[2], r.positron[3])
    upsilon = (r.upsilon[0], r.upsilon[1], r.upsilon[2], r.upsilon[3])
    ax = (r.axis_x[0], r.axis_x[1], r.axis_x[2])
    ay = (r.axis_y[0], r.axis_y[1], r.axis_y[2])
    az = (r.axis_z[0], r.axis_z[1], r.axis_z[2])
    p_star = r.p_star
    e_star = sqrt(p_star * p_star + r.m_b * r.m_b)
    upsilon_frame = boost_factors(upsilon)
    move(s, p_row(1, 0), p_row(1 + N_EXTRA_SLOTS, 0), 4 * (n_process_slots - 1))
    for lane in range(BLOCK):
        base = np.uint64(first + lane) * np.uint64(STRIDE) + np.uint64(FIRST_BEAM_COUNTER)
        cos_t = cos_theta_one_minus_cos2(uniform(key, base))
        sin_t = sqrt(max(0.0, (1.0 - cos_t) * (1.0 + cos_t)))
        cos_phi, sin_phi = azimuth_cos_sin(uniform(key, base + np.uint64(1)))
        dx = cos_t * az[0] + sin_t * (cos_phi * ax[0] + sin_phi * ay[0])
        dy = cos_t * az[1] + sin_t * (cos_phi * ax[1] + sin_phi * ay[1])
        dz = cos_t * az[2] + sin_t * (cos_phi * ax[2] + sin_phi * ay[2])
        signal = boost_with((e_star, p_star * dx, p_star * dy, p_star * dz), upsilon_frame)
        other = boost_with((e_star, -p_star * dx, -p_star * dy, -p_star * dz), upsilon_frame)
        put(s, 0, P_ROWS, lane, electron)
        put(s, 1, P_ROWS, lane, positron)
        put(s, 2, P_ROWS, lane, upsilon)
        put(s, SIGNAL_B_SLOT, P_ROWS, lane, signal)
        put(s, OTHER_B_SLOT, P_ROWS, lane, other)
        put(s, 0, V_ROWS, lane, (0.0, 0.0, 0.0, 0.0))
        put(s, 1, V_ROWS, lane, (0.0, 0.0, 0.0, 0.0))
        put(s, 0, BOOST_FACTORS, lane, boost_factors(signal))  # once per event, not per slot
    boost_slots(s, 1 + N_EXTRA_SLOTS, n_process_slots + N_EXTRA_SLOTS)
    fill(s, WEIGHT_FACTOR, 1.0)


def grown_slot(slot: int) -> int:
    """The slot of process-record slot ``slot`` in the Belle II record (−1 stays −1)."""
    if slot < 0:
        return slot
    return SIGNAL_B_SLOT if slot == 0 else slot + N_EXTRA_SLOTS


def grow_topology(process: Topology, sqrt_s: float) -> Topology:
    """The Belle II record: e⁻, e⁺, Υ(4S), the signal B, the other B, then the process's decay."""
    m_e = pdg.mass(PID_ELECTRON)
    b_pid = process.pids[:, 0]
    rest = slice(1, None)
    regrown = np.vectorize(grown_slot, otypes=[np.int32])
    return Topology(
        labels=("e-", "e+", "Upsilon(4S)", process.labels[0], pdg.name(-int(b_pid[0])), *process.labels[1:]),
        pids=np.concatenate(
            [np.array([[PID_ELECTRON, -PID_ELECTRON, PID_UPSILON_4S]] * 2, dtype=np.int32),
             b_pid[:, None], -b_pid[:, None], process.pids[:, rest]], axis=1).astype(np.int32),
        status=np.concatenate([[STATUS_BEAM, STATUS_BEAM, STATUS_DECAYED, process.status[0], STATUS_FINAL],
                               process.status[rest]]).astype(np.int32),
        mothers=np.concatenate([[-1, -1, 0, 2, 2], regrown(process.mothers[rest])]).astype(np.int32),
        masses=np.concatenate([[m_e, m_e, sqrt_s, process.masses[0], process.masses[0]], process.masses[rest]]),
        ctau_mm=np.concatenate([[0.0, 0.0, 0.0, process.ctau_mm[0], 0.0], process.ctau_mm[rest]]),
        mothers2=np.concatenate([[-1, -1, 1, -1, -1], regrown(process.mothers2[rest])]).astype(np.int32),
    )


def n_parents(beams: Belle2Beams, b_pid: int) -> float:
    """Signal-B candidates (B and B̄ counted): 2 N_BB̄ f₊₋ for B±, 2 N_BB̄ (1 − f₊₋) for B⁰/B̄⁰."""
    fraction_of_pairs = beams.f_plus_minus if abs(b_pid) == 521 else 1.0 - beams.f_plus_minus
    return 2.0 * beams.n_bb * fraction_of_pairs


def summary(run: UpsilonDecay) -> dict[str, Any]:
    """Derived beam quantities for summary.json."""
    beta_gamma = run.upsilon[1:] / math.sqrt(run.upsilon[0] ** 2 - run.upsilon[1:] @ run.upsilon[1:])
    return {
        "e_minus": run.electron.tolist(),
        "e_plus": run.positron.tolist(),
        "beta_gamma": beta_gamma.tolist(),
        "p_star_B": run.p_star,
    }
