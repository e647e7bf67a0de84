"""KOTO K_L → π⁰ + invisible acceptance mimic (experiments.md §2.2–§2.6).

The two photons of π⁰ → γγ (decayed at the K_L vertex) are extrapolated to the CsI plane;
cluster energies and positions are smeared (§2.3 [M]); the vertex is reconstructed exactly
as KOTO does (and ALPINIST codes it): m_γγ = m_π⁰ fixes the opening angle,
cosθ₁₂ = 1 − m_π0²/(2E₁E₂), the vertex is put on the beam axis at the distance d from the CsI
where the two clusters subtend that angle (the larger root of the quadratic, as in
ALPINIST's closed form), Z_vtx = z_CsI − d, and the π⁰ p_T follows from the
centre-of-energy direction. The selection of §2.4 and the signal box of §2.5 ([C, ALPINIST
case 10]) follow; the veto efficiency multiplies the selected regions.

Coordinates: mm from the detector front (upstream edge of the front barrel), beam along z;
``setup = "koto"`` production.
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
from phase_space.simd_math import atan, atan2, hypot, sqrt

REGIONS = ("SR", "presel")


@dataclass(frozen=True)
class KOTOCuts:
    """Geometry, resolutions and the pnn selection (experiments.md §2; tags as there)."""

    ORDERED: ClassVar = (("e_min", "e_max"), ("z_presel_min", "z_presel_max"), ("z_sr_min", "z_sr_max"),
                         ("pt_min", "pt_max"))

    z_csi: float = option(6000.0, "CsI face [C, ALPINIST ZECal 27 m − 21 m]", unit="mm")
    csi_radius: float = positive("CsI radius [C]", 1000.0, "mm")
    beam_hole_half: float = positive("CsI beam hole half size, |x|,|y| < h [C]", 75.0, "mm")
    cluster_r_max: float = positive("cluster radius r < r_max [C]", 850.0, "mm")
    inner_square_half: float = non_negative("half size h of the inner region the clusters must avoid [C]", 150.0, "mm")
    inner_square_only: float = switch(
        "0: cluster needs min(|x|,|y|) > h, a cross, as ALPINIST codes it [C]; 1: max(|x|,|y|) > h, "
        "only the 30 × 30 cm² square, KOTO's cut as experiments.md §2.4 remembers it [M]", 0.0)
    cluster_distance_min: float = non_negative("distance between the clusters [C]", 300.0, "mm")
    e_min: float = non_negative("each photon E > e_min [C]", 0.1, "GeV")
    e_max: float = positive("each photon E < e_max [C]", 2.0, "GeV")
    e_sum_min: float = non_negative("E1 + E2 > e_sum_min [C]", 0.65, "GeV")
    e_ratio_min: float = non_negative("E_low/E_high > r [C]", 0.2)
    delta_phi_max: float = positive("azimuthal separation < Δφ_max [C]", 150.0, "deg")
    r_coe_min: float = non_negative("centre-of-energy radius > r_min [C]", 200.0, "mm")
    theta_energy_min: float = non_negative("θ_γ[deg] × E_γ[GeV] > m for each photon [C]", 2.5, "deg GeV")
    z_presel_min: float = option(2900.0, "pre-region Z_vtx start [C]", unit="mm")
    z_presel_max: float = option(6000.0, "pre-region Z_vtx end [C]", unit="mm")
    z_sr_min: float = option(3000.0, "signal box Z_vtx start [C]", unit="mm")
    z_sr_max: float = option(4700.0, "signal box Z_vtx end [C]", unit="mm")
    pt_min: float = non_negative("signal box p_T lower edge [C]", 0.13, "GeV")
    pt_max: float = positive("signal box p_T upper edge [C]", 0.25, "GeV")
    pt_slope_start: float = option(4000.0, "Z_vtx above which p_T,min rises [C]", unit="mm")
    pt_slope: float = non_negative("rise of p_T,min per mm: 0.2 GeV per 0.7 m [C]", 0.2 / 700.0, "GeV/mm")
    energy_constant: float = non_negative("CsI σ_E/E constant term [M]", 0.01)
    energy_stochastic: float = non_negative("CsI σ_E/E stochastic term [M]", 0.02, "√GeV")
    position_resolution: float = non_negative("cluster position resolution per coordinate [M: 1–5 mm]", 3.0, "mm")
    veto_efficiency: float = fraction("veto and other losses as one factor [C, ALPINIST Sigacceptance]", 0.52)
    smear: float = switch("1: smear the clusters; 0: true photons", 1.0)


def cut_record(cuts: KOTOCuts) -> np.ndarray:
    """Cuts and the PDG π⁰ mass as the record the kernels read (``c[0].name``)."""
    return record(cuts, m_pi0=pdg.mass(111))


@kernel
def reconstruct(e1, x1, y1, e2, x2, y2, z_csi, m_pi0):
    """KOTO's π⁰ reconstruction: (ok, Z_vtx, p_T, d) from two clusters on the CsI plane.

    Energies in GeV, positions and lengths in mm. cosθ₁₂ = 1 − m_π0²/(2E₁E₂); with D the
    cluster distance and b = D² − sin²θ(r₁² + r₂²),
    d² = [b + √(b² + sin²θ(4r₁²r₂²cos²θ − (r₁² + r₂² − D²)²))]/(2 sin²θ)
    (ALPINIST's closed form, the larger root); Z_vtx = z_CsI − d and
    p_T = |p| r_COE/√(r_COE² + d²), |p| = √((E₁+E₂)² − m_π0²). Not reconstructed: ok false
    and NaNs (every expression evaluated, the answer selected: loops vectorise).
    """
    ratio = m_pi0 * m_pi0 / (e1 * e2)
    cos_t = 1.0 - 0.5 * ratio
    sin2 = (1.0 - cos_t) * (1.0 + cos_t)
    r1s = x1 * x1 + y1 * y1
    r2s = x2 * x2 + y2 * y2
    dist2 = (x1 - x2) ** 2 + (y1 - y2) ** 2
    bracket = dist2 - sin2 * (r1s + r2s)
    det1 = bracket * bracket + sin2 * (4.0 * r1s * r2s * cos_t * cos_t - (r1s + r2s - dist2) ** 2)
    det2 = bracket + sqrt(det1)
    ok = (ratio <= 4.0) & (sin2 > 0.0) & (det1 >= 0.0) & (det2 > 0.0)
    d = sqrt(det2 / (2.0 * sin2))
    r_coe = _centre_of_energy(e1, x1, y1, e2, x2, y2)
    p_abs = sqrt(max((e1 + e2) ** 2 - m_pi0 * m_pi0, 0.0))
    z_vtx = z_csi - d if ok else math.nan
    pt = p_abs * r_coe / sqrt(r_coe * r_coe + d * d) if ok else math.nan
    return ok, z_vtx, pt, (d if ok else math.nan)


@kernel
def _centre_of_energy(e1, x1, y1, e2, x2, y2):
    """r_COE [mm]: the distance of the energy-weighted cluster centre from the beam axis."""
    return hypot((e1 * x1 + e2 * x2) / (e1 + e2), (e1 * y1 + e2 * y2) / (e1 + e2))


@kernel
def _hit(gamma, vertex, z_csi):
    """(ok, x, y) where photon ``gamma`` from ``vertex`` crosses the CsI plane [mm]."""
    dz = z_csi - vertex[2]
    ok = (gamma[3] > 0.0) & (dz > 0.0)
    return ok, vertex[0] + gamma[1] / gamma[3] * dz, vertex[1] + gamma[2] / gamma[3] * dz


@kernel
def cluster_ok(x, y, e, c):
    """One cluster at (x, y) [mm] with E [GeV]: on the CsI, outside the beam hole and the inner
    region (see ``inner_square_only``), r < r_max, inside the energy window."""
    r2 = x * x + y * y
    inner = max(abs(x), abs(y)) if c.inner_square_only > 0.0 else min(abs(x), abs(y))
    return (
        (r2 < c.csi_radius**2) & (r2 < c.cluster_r_max**2)
        & ~((abs(x) < c.beam_hole_half) & (abs(y) < c.beam_hole_half))
        & (inner > c.inner_square_half) & (c.e_min < e) & (e < c.e_max)
    )


_DEGREES = 180.0 / math.pi


@kernel
def photon_pair_cuts(e1, x1, y1, e2, x2, y2, d, c):
    """The two-cluster selection of §2.4 for clusters (E [GeV], x, y [mm]), vertex distance d [mm]."""
    ok = cluster_ok(x1, y1, e1, c) & cluster_ok(x2, y2, e2, c)
    ok &= hypot(x1 - x2, y1 - y2) > c.cluster_distance_min
    ok &= (e1 + e2 > c.e_sum_min) & (min(e1, e2) / max(e1, e2) > c.e_ratio_min)
    dphi = abs(atan2(y1, x1) - atan2(y2, x2))
    dphi = 2.0 * math.pi - dphi if dphi > math.pi else dphi
    ok &= dphi * _DEGREES < c.delta_phi_max
    ok &= _centre_of_energy(e1, x1, y1, e2, x2, y2) > c.r_coe_min
    # incident angle × energy: each photon's angle to the beam axis seen from the vertex
    theta1 = atan(hypot(x1, y1) / d) * _DEGREES
    theta2 = atan(hypot(x2, y2) / d) * _DEGREES
    return ok & (theta1 * e1 > c.theta_energy_min) & (theta2 * e2 > c.theta_energy_min)


@kernel
def in_signal_box(z_vtx, pt, c):
    """The (Z_vtx [mm], p_T [GeV]) signal box of §2.5, with its rising lower p_T edge."""
    pt_low = c.pt_min + (z_vtx - c.pt_slope_start) * c.pt_slope if z_vtx > c.pt_slope_start else c.pt_min
    return (c.z_sr_min < z_vtx) & (z_vtx < c.z_sr_max) & (pt_low < pt) & (pt < c.pt_max)


OBSERVABLES = ("E_gamma1", "E_gamma2", "z_vtx", "pt", "r_coe", "z_true", "q2")
GAMMA1 = TMP  # scratch rows of the two photons and of their production vertex
GAMMA2 = TMP + 4
GAMMA_V = TMP + 8


@stage
def block(s, first, key, cuts, gamma_slot):
    """The KOTO selection of every lane of the scratch block ``s`` (:mod:`phase_space.block`).

    The photons in slots ``gamma_slot`` and ``gamma_slot + 1`` (lab, GeV) from their vertex,
    the π⁰ decay (mm), make two clusters (smeared with counters 0..5 of stream ``key``); rows
    OBSERVABLE + j: :data:`OBSERVABLES` (cluster energies in GeV, Z_vtx in mm, p_T in GeV,
    r_COE in mm — NaN when not reconstructed —, the true decay z and q²); rows SELECTED and
    SELECTED + 1: the flags of :data:`REGIONS` (SR, presel).
    """
    c = cuts[0]
    smear = 1.0 if c.smear > 0.0 else 0.0
    z_csi = c.z_csi
    constant2 = c.energy_constant**2
    stochastic2 = c.energy_stochastic**2
    position = smear * c.position_resolution
    move(s, p_row(gamma_slot, 0), GAMMA1, 8)
    move(s, v_row(gamma_slot, 0), GAMMA_V, 4)
    for lane in range(BLOCK):
        base = np.uint64(first + lane) * np.uint64(STRIDE)
        vtx = (s[GAMMA_V, lane], s[GAMMA_V + 1, lane], s[GAMMA_V + 2, lane])
        g1 = get(s, 0, GAMMA1, lane)
        g2 = get(s, 0, GAMMA2, lane)
        ok1, x1, y1 = _hit(g1, vtx, z_csi)
        ok2, x2, y2 = _hit(g2, vtx, z_csi)
        a1, a2 = gaussian_pair(key, base)
        b1, b2 = gaussian_pair(key, base + np.uint64(GAUSSIAN_PAIR_COUNTERS))
        d1, d2 = gaussian_pair(key, base + np.uint64(2 * GAUSSIAN_PAIR_COUNTERS))
        e1 = g1[0] * (1.0 + smear * sqrt(constant2 + stochastic2 / g1[0]) * a1)
        e2 = g2[0] * (1.0 + smear * sqrt(constant2 + stochastic2 / g2[0]) * a2)
        x1 += position * b1
        y1 += position * b2
        x2 += position * d1
        y2 += position * d2
        good = ok1 & ok2 & (e1 > 0.0) & (e2 > 0.0)
        reconstructed, z_vtx, pt, d = reconstruct(e1, x1, y1, e2, x2, y2, z_csi, c.m_pi0)
        good &= reconstructed
        z_vtx = z_vtx if good else math.nan
        pt = pt if good else math.nan
        passed = good & photon_pair_cuts(e1, x1, y1, e2, x2, y2, d, c)
        s[OBSERVABLE, lane] = e1
        s[OBSERVABLE + 1, lane] = e2
        s[OBSERVABLE + 2, lane] = z_vtx  # NaN: not reconstructed
        s[OBSERVABLE + 3, lane] = pt
        s[OBSERVABLE + 4, lane] = _centre_of_energy(e1, x1, y1, e2, x2, y2) if good else math.nan
        s[OBSERVABLE + 5, lane] = vtx[2]
        s[OBSERVABLE + 6, lane] = s[Q2, lane]
        s[SELECTED, lane] = 1.0 if passed & in_signal_box(z_vtx, pt, c) else 0.0
        s[SELECTED + 1, lane] = 1.0 if passed & (c.z_presel_min < z_vtx) & (z_vtx < c.z_presel_max) else 0.0


@batch_kernel(events=2, axis=1, min_per_thread=BLOCK)
def _select(key, first_event, p, v, q2, cuts, gamma_slot, observables, flags, start, stop):
    """Batch form of :func:`block` on lab momenta ``p[4, n, k]`` and vertices ``v[4, n, k]``."""
    s = scratch()
    for i0 in range(start, stop, BLOCK):
        n = min(BLOCK, stop - i0)
        load_rows(s, P_ROWS, p, i0, n)
        load_rows(s, V_ROWS, v, i0, n)
        for lane in range(BLOCK):
            s[Q2, lane] = q2[i0 + min(lane, n - 1)]
        block(s, first_event + i0, key, cuts, gamma_slot)
        for lane in range(n):
            for j in range(observables.shape[0]):
                observables[j, i0 + lane] = s[OBSERVABLE + j, lane]
            for j in range(flags.shape[0]):
                flags[j, i0 + lane] = s[SELECTED + j, lane] > 0.0


@dataclass(frozen=True)
class KOTOAcceptance:
    """KOTO π⁰νν̄-style selection: regions ``SR`` (signal box) and ``presel``."""

    cuts: KOTOCuts = field(default_factory=KOTOCuts)
    name: str = "koto"
    regions: tuple[str, ...] = REGIONS
    observables: tuple[str, ...] = OBSERVABLES
    signal_regions: tuple[str, ...] = ("SR",)  # what scans plot
    signatures: tuple[str, ...] = ("k_long",)
    setups: tuple[str, ...] = ("koto",)

    @property
    def efficiency(self) -> dict[str, float]:
        """The veto efficiency, a factor on both regions."""
        return dict.fromkeys(self.regions, self.cuts.veto_efficiency)

    def production_problems(self, beam: Any) -> list[str]:
        """The decay region must end at or before the CsI face."""
        if beam.z_max > self.cuts.z_csi:
            expected = f"a value <= acceptance.cuts.z_csi = {self.cuts.z_csi:g} mm (no decays behind the CsI)"
            return [f"production.z_max: expected {expected}, got {beam.z_max:g}"]
        return []

    def stage(self, context: dict[str, Any], seed: int) -> tuple[Any, tuple]:
        """The block stage of the fused kernel (``gen.pipeline``) and its arguments."""
        s1, s2 = context["slots"][22][:2]
        if s2 != s1 + 1:
            raise ValueError(f"expected the two photons in adjacent slots, got {s1} and {s2}")
        return block, (stream_key(seed, STREAM_ACCEPTANCE), cut_record(self.cuts), np.int64(s1))

    def apply(
        self, p: np.ndarray, pid: np.ndarray, q2: np.ndarray, context: dict[str, Any], seed: int,  # noqa: ARG002
        first_event: int, v: np.ndarray | None = None,
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Observables and region flags of a batch: ``p[4, n, k]`` lab momenta (GeV), ``v[4, n, k]``
        production vertices (mm, KOTO coordinates); the two photons found by their PDG id."""
        assert v is not None, "the KOTO acceptance needs the decay vertices"
        _, (key, cuts, gamma_slot) = self.stage(context, seed)
        n = p.shape[1]
        observables = np.empty((len(OBSERVABLES), n))
        flags = np.empty((len(REGIONS), n), dtype=np.bool_)
        _select(key, np.int64(first_event), p, v, np.ascontiguousarray(q2, dtype=np.float64), cuts, gamma_slot,
                observables, flags)
        return dict(zip(OBSERVABLES, observables, strict=True)), dict(zip(REGIONS, flags, strict=True))
