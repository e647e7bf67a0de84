"""NA62 K⁺ → π⁺ + invisible acceptance mimic (experiments.md §1.2–§1.6).

The π⁺ from the K⁺ decay vertex is followed as a straight line through the STRAW chambers,
with a horizontal p_T kick at the spectrometer magnet between STRAW 2 and 3, to RICH,
NewCHOD, CHOD, LKr and MUV3; each plane's radial (and beam-hole) acceptance of
``GeometricAcceptance.cc`` applies. The selection adds the fiducial decay volume and the
(z_vtx, R_STRAW1) box cut of ``KaonDecaySelection.cc``, and the π⁺ momentum window.
m²_miss = (P_K − P_π)² uses the K⁺ measured by GTK and the π⁺ by STRAW (π mass
hypothesis), both smeared with the resolutions of §1.3 [M]. Regions in m²_miss (§1.5):
SR = R1 ∪ R2 (signal), R1, R2, and CR_kmu2, CR1, pipi0, CR2, K3pi (control); ``FV`` flags
decays in the fiducial volume (no other cut). The vertex z is the true one (the resolution
of NA62's track–beam vertex is not modelled). The trigger, random-veto and "selection"
efficiencies multiply every selected region except FV.

Coordinates: mm from the T10 target, z along the beam; ``setup = "na62"`` production.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from gen import pdg
from gen.options import fraction, non_negative, option, positive, record, switch
from phase_space._jit import batch_kernel, kernel, stage
from phase_space.block import (
    BLOCK,
    OBSERVABLE,
    P_ROWS,
    Q2,
    SELECTED,
    TMP,
    V_ROWS,
    get,
    load_rows,
    move,
    p_row,
    scratch,
    v_row,
)
from phase_space.random import (
    GAUSSIAN_PAIR_COUNTERS,
    STREAM_ACCEPTANCE,
    STRIDE,
    gaussian_pair,
    stream_key,
)
from phase_space.simd_math import sqrt

# geometry [C, NA62fw GeometricAcceptance.cc], mm
Z_STRAW = (183_508.0, 194_066.0, 204_459.0, 218_885.0)
X_STRAW_HOLE = (101.2, 114.4, 92.4, 52.8)
Z_RICH_FRONT = 219_445.0
X_RICH_HOLE = 34.0
Z_NEWCHOD = 238_131.5
Z_CHOD = (239_009.0, 239_389.0)
Z_LKR = 241_093.0
Z_MUV3 = 246_800.0
# the MNP33 spectrometer magnet as a thin lens at its centre, 196.35–197.65 m
# [C, ALPINIST ExpParameters.C]; the STRAW beam-hole centres above bend by −4.0 mrad around
# z ≈ 195.7 m [D], the same direction as the kick
Z_MAGNET = 197_000.0


REGIONS = ("SR", "R1", "R2", "CR_kmu2", "CR1", "pipi0", "CR2", "K3pi", "FV")
# m²_miss ranges in GeV² [C, KinematicTails.cc]
M2_RANGES = {
    "CR_kmu2": (-0.05, 0.0),
    "R1": (0.0, 0.010),
    "CR1": (0.010, 0.015),
    "pipi0": (0.015, 0.021),
    "CR2": (0.021, 0.026),
    "R2": (0.026, 0.068),
    "K3pi": (0.068, 1.0),
}


@dataclass(frozen=True)
class NA62Cuts:
    """Cut values and resolutions (experiments.md §1; tags as there)."""

    ORDERED: ClassVar = (("p_min", "p_max"), ("z_fv_min", "z_fv_max"), ("newchod_r_min", "newchod_r_max"),
                         ("chod_r_min", "chod_r_max"))

    p_min: float = positive("π⁺ momentum lower edge [C, K2pi.cc]", 15.0, "GeV")
    p_max: float = positive("π⁺ momentum upper edge [C 2016–18: 35; M 2021–22: 45]", 35.0, "GeV")
    z_fv_min: float = option(115_000.0, "fiducial decay volume start [C, KaonDecaySelection.cc]", unit="mm")
    z_fv_max: float = option(165_000.0, "fiducial decay volume end [C, KaonDecaySelection.cc]", unit="mm")
    box_a: float = option(830.0, "box cut R_STRAW1 > a − b z_vtx: a [C, KaonDecaySelection.cc]", unit="mm")
    box_b: float = option(0.00436, "box cut slope b [C, KaonDecaySelection.cc]")
    straw_r_max: float = positive("STRAW outer radius [C, GeometricAcceptance.cc]", 1000.0, "mm")
    straw_hole: float = positive("STRAW beam-hole radius about the hole centres [C: half size 63.8]", 63.8, "mm")
    rich_r_min: float = positive("RICH inner radius about x = 34 mm [C]", 100.0, "mm")
    newchod_r_min: float = positive("NewCHOD inner radius [C]", 140.0, "mm")
    newchod_r_max: float = positive("NewCHOD outer radius [C]", 1070.0, "mm")
    chod_r_min: float = positive("CHOD inner radius [C]", 130.0, "mm")
    chod_r_max: float = positive("CHOD outer radius [C]", 1100.0, "mm")
    lkr_r_min: float = positive("LKr inner radius [C]", 150.0, "mm")
    lkr_apothem: float = positive("LKr octagon apothem [C]", 1130.0, "mm")
    muv3_r_min: float = positive("MUV3 inner radius [C]", 103.0, "mm")
    muv3_half_side: float = positive("MUV3 square half side [C]", 1320.0, "mm")
    magnet_kick: float = option(
        -0.270, "horizontal p_T kick on a π⁺ [M §1.2; C ALPINIST: 0.6928 T × 1.3 m; sign D: the beam holes]",
        unit="GeV")
    straw_resolution_const: float = non_negative("STRAW σ_p/p constant term [M]", 0.0030)
    straw_resolution_slope: float = non_negative("STRAW σ_p/p term ∝ p [M: 0.005 %/GeV]", 5.0e-5, "1/GeV")
    straw_angle_ms: float = non_negative(
        "STRAW angular resolution per plane, multiple-scattering term a/p [M: ≈ 60 µrad at 10 GeV/c]", 6.0e-4,
        "rad GeV")
    straw_angle_const: float = non_negative(
        "STRAW angular resolution per plane, constant term [M; with a/p gives σ(m²_miss) ≈ 1e-3 GeV² at K2π]",
        1.6e-5, "rad")
    gtk_resolution: float = non_negative("GTK σ_p/p [M]", 0.002)
    gtk_angle_resolution: float = non_negative("GTK angular resolution per plane [M]", 16e-6, "rad")
    trigger_efficiency: float = fraction("trigger efficiency factor (card) [M: 0.87 in 2016]", 1.0)
    selection_efficiency: float = fraction(
        "losses the mimic does not model (π⁺ PID, K⁺–π⁺ matching, track quality) as one factor (card)", 1.0)
    random_veto_efficiency: float = fraction("random-veto efficiency ε_RV [M: 0.6–0.7]", 0.65)
    smear: float = switch("1: smear GTK and STRAW; 0: true momenta (truth-level study)", 1.0)


def cut_record(cuts: NA62Cuts) -> np.ndarray:
    """Cuts, geometry and PDG masses as the record the kernels read (``c[0].name``)."""
    return record(
        cuts,
        z_straw=Z_STRAW, x_straw_hole=X_STRAW_HOLE, z_rich_front=Z_RICH_FRONT, x_rich_hole=X_RICH_HOLE,
        z_newchod=Z_NEWCHOD, z_chod=Z_CHOD, z_lkr=Z_LKR, z_muv3=Z_MUV3, z_magnet=Z_MAGNET,
        m_kaon=pdg.mass(321), m_pion=pdg.mass(211),
    )


@kernel
def track_at(vertex, p, c, z):
    """(x, y) [mm] of the π⁺ from ``vertex`` along ``p`` at plane z: straight up to the
    magnet, then with p_x + kick (the kick applies only to tracks born before the magnet).
    Both branches are computed and one is selected, so that loops over events vectorise."""
    inverse_pz = 1.0 / p[3]
    tx = p[1] * inverse_pz
    ty = p[2] * inverse_pz
    y = vertex[1] + ty * (z - vertex[2])
    x_straight = vertex[0] + tx * (z - vertex[2])
    x_magnet = vertex[0] + tx * (c.z_magnet - vertex[2])
    x_kicked = x_magnet + (p[1] + c.magnet_kick) * inverse_pz * (z - c.z_magnet)
    straight = z <= c.z_magnet or vertex[2] >= c.z_magnet
    return (x_straight if straight else x_kicked), y


@kernel
def in_geometry(vertex, p, c):
    """True if the π⁺ passes every plane of ``GeometricAcceptance.cc`` (§1.2). Every plane is
    tested and the answers combined with ``&`` (no early return: loops over events vectorise)."""
    ok = (p[3] > 0.0) & (vertex[2] < c.z_straw[0])  # a decay behind STRAW 1 has no track
    for j in range(4):
        x, y = track_at(vertex, p, c, c.z_straw[j])
        ok &= x * x + y * y < c.straw_r_max**2
        ok &= (x - c.x_straw_hole[j]) ** 2 + y * y > c.straw_hole**2
    x, y = track_at(vertex, p, c, c.z_rich_front)
    ok &= (x - c.x_rich_hole) ** 2 + y * y > c.rich_r_min**2
    x, y = track_at(vertex, p, c, c.z_newchod)
    r2 = x * x + y * y
    ok &= (r2 > c.newchod_r_min**2) & (r2 < c.newchod_r_max**2)
    for j in range(2):
        x, y = track_at(vertex, p, c, c.z_chod[j])
        r2 = x * x + y * y
        ok &= (r2 > c.chod_r_min**2) & (r2 < c.chod_r_max**2)
    x, y = track_at(vertex, p, c, c.z_lkr)
    apothem = c.lkr_apothem
    ok &= (x * x + y * y > c.lkr_r_min**2) & (abs(x) < apothem) & (abs(y) < apothem)
    ok &= abs(x) + abs(y) < math.sqrt(2.0) * apothem  # the octagon's diagonal sides
    x, y = track_at(vertex, p, c, c.z_muv3)
    ok &= (x * x + y * y > c.muv3_r_min**2) & (abs(x) < c.muv3_half_side) & (abs(y) < c.muv3_half_side)
    return ok


@kernel
def kinematic_cuts(p_pi, z_vtx, r_straw1, c):
    """π⁺ momentum window [GeV], fiducial volume and (z_vtx, R_STRAW1) box cut [mm] (§1.2, §1.4)."""
    return (
        (c.p_min < p_pi) & (p_pi < c.p_max) & (c.z_fv_min < z_vtx) & (z_vtx < c.z_fv_max)
        & (r_straw1 > c.box_a - c.box_b * z_vtx)
    )


@kernel
def _measured(p, mass, sigma_p, sigma_angle, g1, g2, g3):
    """(E, px, py, pz) with |p| × (1 + σ_p g1) and slopes dx/dz, dy/dz + σ_θ (g2, g3)."""
    p_abs = sqrt(p[1] * p[1] + p[2] * p[2] + p[3] * p[3]) * (1.0 + sigma_p * g1)
    inverse_pz = 1.0 / p[3]
    tx = p[1] * inverse_pz + sigma_angle * g2
    ty = p[2] * inverse_pz + sigma_angle * g3
    pz = p_abs / sqrt(1.0 + tx * tx + ty * ty)
    return (sqrt(p_abs * p_abs + mass * mass), tx * pz, ty * pz, pz)


# the m²_miss regions in the order of REGIONS rows (compile-time constants of the kernel)
_M2_LO = tuple(M2_RANGES[r][0] for r in M2_RANGES)
_M2_HI = tuple(M2_RANGES[r][1] for r in M2_RANGES)
_M2_ROWS = tuple(REGIONS.index(r) for r in M2_RANGES)
_N_M2 = len(M2_RANGES)
_SR, _R1, _R2, _FV = (REGIONS.index(r) for r in ("SR", "R1", "R2", "FV"))
OBSERVABLES = ("m2_miss", "p_pi", "z_vtx", "r_straw1", "q2")
PION_P = TMP  # scratch rows of the π⁺ momentum and production vertex
PION_V = TMP + 4


@stage
def block(s, first, key, cuts, pion_slot):
    """The NA62 selection of every lane of the scratch block ``s`` (:mod:`phase_space.block`).

    Reads the K⁺ (slot 0) and the π⁺ (``pion_slot``) lab momenta and the π⁺ production
    vertex; fills rows OBSERVABLE + j with :data:`OBSERVABLES` (m²_miss from the measured K⁺
    (GTK) and π⁺ (STRAW) in GeV², the measured π⁺ momentum in GeV, z_vtx and R_STRAW1 about the
    STRAW-1 hole centre in mm, and q² from row Q2) and rows SELECTED + j with the pass flag
    (0 or 1) of region :data:`REGIONS` [j]. Smearing uses counters 0..5 of stream ``key``.
    """
    c = cuts[0]
    smear = 1.0 if c.smear > 0.0 else 0.0
    gtk_resolution = smear * c.gtk_resolution
    gtk_angle = smear * c.gtk_angle_resolution
    const2 = c.straw_resolution_const**2
    slope = c.straw_resolution_slope
    ms = c.straw_angle_ms
    angle2 = c.straw_angle_const**2
    m_kaon, m_pion = c.m_kaon, c.m_pion
    z_fv_min, z_fv_max = c.z_fv_min, c.z_fv_max
    move(s, p_row(pion_slot, 0), PION_P, 4)
    move(s, v_row(pion_slot, 0), PION_V, 4)
    for lane in range(BLOCK):
        base = np.uint64(first + lane) * np.uint64(STRIDE)
        k = get(s, 0, P_ROWS, lane)
        pi = get(s, 0, PION_P, lane)
        vtx = (s[PION_V, lane], s[PION_V + 1, lane], s[PION_V + 2, lane])
        p_true = sqrt(pi[1] * pi[1] + pi[2] * pi[2] + pi[3] * pi[3])
        g1, g2 = gaussian_pair(key, base)
        g3, g4 = gaussian_pair(key, base + np.uint64(GAUSSIAN_PAIR_COUNTERS))
        g5, g6 = gaussian_pair(key, base + np.uint64(2 * GAUSSIAN_PAIR_COUNTERS))
        slope_term = slope * p_true
        ms_term = ms / p_true
        sigma_p = smear * sqrt(const2 + slope_term * slope_term)
        sigma_angle = smear * sqrt(ms_term * ms_term + angle2)
        k_meas = _measured(k, m_kaon, gtk_resolution, gtk_angle, g1, g2, g3)
        pi_meas = _measured(pi, m_pion, sigma_p, sigma_angle, g4, g5, g6)
        m2 = (
            (k_meas[0] - pi_meas[0]) ** 2 - (k_meas[1] - pi_meas[1]) ** 2
            - (k_meas[2] - pi_meas[2]) ** 2 - (k_meas[3] - pi_meas[3]) ** 2
        )
        p_meas = sqrt(pi_meas[1] ** 2 + pi_meas[2] ** 2 + pi_meas[3] ** 2)
        forward = pi[3] > 0.0
        x1, y1 = track_at(vtx, pi, c, c.z_straw[0])
        r1 = sqrt((x1 - c.x_straw_hole[0]) ** 2 + y1 * y1) if forward else math.nan
        passed = forward & kinematic_cuts(p_meas, vtx[2], r1, c) & in_geometry(vtx, pi, c)
        s[OBSERVABLE, lane] = m2
        s[OBSERVABLE + 1, lane] = p_meas
        s[OBSERVABLE + 2, lane] = vtx[2]
        s[OBSERVABLE + 3, lane] = r1
        s[OBSERVABLE + 4, lane] = s[Q2, lane]
        for j in range(_N_M2):
            inside = passed & (_M2_LO[j] < m2) & (m2 < _M2_HI[j])
            s[SELECTED + _M2_ROWS[j], lane] = 1.0 if inside else 0.0
        s[SELECTED + _SR, lane] = max(s[SELECTED + _R1, lane], s[SELECTED + _R2, lane])
        s[SELECTED + _FV, lane] = 1.0 if (z_fv_min < vtx[2]) & (vtx[2] < z_fv_max) else 0.0


@batch_kernel(events=2, axis=1, min_per_thread=BLOCK)
def _select(key, first_event, p, v, q2, cuts, pion_slot, observables, flags, start, stop):
    """Batch form of :func:`block` on lab momenta ``p[4, n, k]`` and vertices ``v[4, n, k]``:
    ``observables[len(OBSERVABLES), n]`` and ``flags[len(REGIONS), n]``."""
    s = scratch()
    for i0 in range(start, stop, BLOCK):
        n = min(BLOCK, stop - i0)
        load_rows(s, P_ROWS, p, i0, n)
        load_rows(s, V_ROWS, v, i0, n)
        for lane in range(BLOCK):
            s[Q2, lane] = q2[i0 + min(lane, n - 1)]
        block(s, first_event + i0, key, cuts, pion_slot)
        for lane in range(n):
            for j in range(observables.shape[0]):
                observables[j, i0 + lane] = s[OBSERVABLE + j, lane]
            for j in range(flags.shape[0]):
                flags[j, i0 + lane] = s[SELECTED + j, lane] > 0.0


@dataclass(frozen=True)
class NA62Acceptance:
    """NA62 π⁺νν̄-style selection; regions in m²_miss (module docstring)."""

    cuts: NA62Cuts = field(default_factory=NA62Cuts)
    name: str = "na62"
    regions: tuple[str, ...] = REGIONS
    observables: tuple[str, ...] = OBSERVABLES
    signal_regions: tuple[str, ...] = ("SR", "R1", "R2")  # what scans plot
    signatures: tuple[str, ...] = ("k_plus",)
    setups: tuple[str, ...] = ("na62",)

    @property
    def efficiency(self) -> dict[str, float]:
        """ε_trig × ε_RV × selection efficiency on every region except ``FV``."""
        factor = self.cuts.trigger_efficiency * self.cuts.random_veto_efficiency * self.cuts.selection_efficiency
        return {region: (1.0 if region == "FV" else factor) for region in self.regions}

    def stage(self, context: dict[str, Any], seed: int) -> tuple[Any, tuple]:
        """The block stage of the fused kernel (``gen.pipeline``) and its arguments."""
        return block, (stream_key(seed, STREAM_ACCEPTANCE), cut_record(self.cuts), np.int64(context["slots"][211][0]))

    def apply(
        self, p: np.ndarray, pid: np.ndarray, q2: np.ndarray, context: dict[str, Any], seed: int,  # noqa: ARG002
        first_event: int, v: np.ndarray | None = None,
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Observables and region flags of a batch: ``p[4, n, k]`` lab momenta (GeV), ``v[4, n, k]``
        production vertices (mm, NA62 coordinates); the K⁺ in slot 0, the π⁺ found by its PDG id."""
        assert v is not None, "the NA62 acceptance needs the decay vertices"
        pion_slot = context["slots"][211][0]
        n = p.shape[1]
        observables = np.empty((len(OBSERVABLES), n))
        flags = np.empty((len(REGIONS), n), dtype=np.bool_)
        _select(stream_key(seed, STREAM_ACCEPTANCE), np.int64(first_event), p, v,
                np.ascontiguousarray(q2, dtype=np.float64), cut_record(self.cuts), np.int64(pion_slot), observables,
                flags)
        return dict(zip(OBSERVABLES, observables, strict=True)), dict(zip(REGIONS, flags, strict=True))
