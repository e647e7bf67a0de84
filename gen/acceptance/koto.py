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
from phase_space._jit import batch_kernel, kernel
from phase_space.random import (
    GAUSSIAN_PAIR_COUNTERS,
    STREAM_ACCEPTANCE,
    STRIDE,
    gaussian_pair,
    stream_key,
)
from phase_space.simd_math import sqrt

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
    p_T = |p| r_COE/√(r_COE² + d²), |p| = √((E₁+E₂)² − m_π0²).
    """
    ratio = m_pi0 * m_pi0 / (e1 * e2)
    if ratio > 4.0:
        return False, math.nan, math.nan, math.nan
    cos_t = 1.0 - 0.5 * ratio
    sin2 = (1.0 - cos_t) * (1.0 + cos_t)
    if sin2 <= 0.0:
        return False, math.nan, math.nan, math.nan
    r1s = x1 * x1 + y1 * y1
    r2s = x2 * x2 + y2 * y2
    dist2 = (x1 - x2) ** 2 + (y1 - y2) ** 2
    bracket = dist2 - sin2 * (r1s + r2s)
    det1 = bracket * bracket + sin2 * (4.0 * r1s * r2s * cos_t * cos_t - (r1s + r2s - dist2) ** 2)
    if det1 < 0.0:
        return False, math.nan, math.nan, math.nan
    det2 = bracket + sqrt(det1)
    if det2 <= 0.0:
        return False, math.nan, math.nan, math.nan
    d = sqrt(det2 / (2.0 * sin2))
    r_coe = math.hypot((e1 * x1 + e2 * x2) / (e1 + e2), (e1 * y1 + e2 * y2) / (e1 + e2))
    p_abs = sqrt(max((e1 + e2) ** 2 - m_pi0 * m_pi0, 0.0))
    return True, z_csi - d, p_abs * r_coe / sqrt(r_coe * r_coe + d * d), d


@kernel
def _hit(gamma, vertex, z_csi):
    """(ok, x, y) where photon ``gamma`` from ``vertex`` crosses the CsI plane [mm]."""
    dz = z_csi - vertex[2]
    if gamma[3] <= 0.0 or dz <= 0.0:
        return False, 0.0, 0.0
    return True, vertex[0] + gamma[1] / gamma[3] * dz, vertex[1] + gamma[2] / gamma[3] * dz


@kernel
def cluster_ok(x, y, e, c):
    """One cluster at (x, y) [mm] with E [GeV]: on the CsI, outside the beam hole and the inner
    region (see ``inner_square_only``), r < r_max, inside the energy window."""
    r2 = x * x + y * y
    if r2 >= c.csi_radius**2 or r2 >= c.cluster_r_max**2:
        return False
    if abs(x) < c.beam_hole_half and abs(y) < c.beam_hole_half:
        return False
    inner = max(abs(x), abs(y)) if c.inner_square_only > 0.0 else min(abs(x), abs(y))
    if inner <= c.inner_square_half:
        return False
    return c.e_min < e < c.e_max


@kernel
def photon_pair_cuts(e1, x1, y1, e2, x2, y2, d, c):
    """The two-cluster selection of §2.4 for clusters (E [GeV], x, y [mm]), vertex distance d [mm]."""
    if not (cluster_ok(x1, y1, e1, c) and cluster_ok(x2, y2, e2, c)):
        return False
    if math.hypot(x1 - x2, y1 - y2) <= c.cluster_distance_min:
        return False
    if e1 + e2 <= c.e_sum_min or min(e1, e2) / max(e1, e2) <= c.e_ratio_min:
        return False
    dphi = abs(math.atan2(y1, x1) - math.atan2(y2, x2))
    if dphi > math.pi:
        dphi = 2.0 * math.pi - dphi
    if math.degrees(dphi) >= c.delta_phi_max:
        return False
    r_coe = math.hypot((e1 * x1 + e2 * x2) / (e1 + e2), (e1 * y1 + e2 * y2) / (e1 + e2))
    if r_coe <= c.r_coe_min:
        return False
    # incident angle × energy: each photon's angle to the beam axis seen from the vertex
    theta1 = math.degrees(math.atan(math.hypot(x1, y1) / d))
    theta2 = math.degrees(math.atan(math.hypot(x2, y2) / d))
    return theta1 * e1 > c.theta_energy_min and theta2 * e2 > c.theta_energy_min


@kernel
def in_signal_box(z_vtx, pt, c):
    """The (Z_vtx [mm], p_T [GeV]) signal box of §2.5, with its rising lower p_T edge."""
    pt_low = c.pt_min
    if z_vtx > c.pt_slope_start:
        pt_low = c.pt_min + (z_vtx - c.pt_slope_start) * c.pt_slope
    return c.z_sr_min < z_vtx < c.z_sr_max and pt_low < pt < c.pt_max


@batch_kernel(events=2, axis=1)
def _select(key, first_event, g1, g2, vertex, cuts, out_e1, out_e2, out_z, out_pt, out_rcoe, presel, signal, start, stop):
    """Clusters from the two photons (smeared), the π⁰ reconstruction and the selection.

    ``g1[4, n]``, ``g2[4, n]`` photon lab momenta (GeV); ``vertex[3, n]`` their origin, the π⁰
    decay (mm); ``cuts`` the record of :func:`cut_record`. Outputs per event: cluster energies
    (GeV), Z_vtx (mm), p_T (GeV), r_COE (mm), NaN when not reconstructed; region flags.
    """
    smear = cuts[0].smear > 0.0
    for i in range(start, stop):
        c = cuts[0]
        base = np.uint64(first_event + i) * np.uint64(STRIDE)
        vtx = (vertex[0, i], vertex[1, i], vertex[2, i])
        ok1, x1, y1 = _hit((g1[0, i], g1[1, i], g1[2, i], g1[3, i]), vtx, c.z_csi)
        ok2, x2, y2 = _hit((g2[0, i], g2[1, i], g2[2, i], g2[3, i]), vtx, c.z_csi)
        e1 = g1[0, i]
        e2 = g2[0, i]
        if smear:
            a1, a2 = gaussian_pair(key, base)
            b1, b2 = gaussian_pair(key, base + np.uint64(GAUSSIAN_PAIR_COUNTERS))
            d1, d2 = gaussian_pair(key, base + np.uint64(2 * GAUSSIAN_PAIR_COUNTERS))
            e1 *= 1.0 + sqrt(c.energy_constant**2 + c.energy_stochastic**2 / e1) * a1
            e2 *= 1.0 + sqrt(c.energy_constant**2 + c.energy_stochastic**2 / e2) * a2
            x1 += c.position_resolution * b1
            y1 += c.position_resolution * b2
            x2 += c.position_resolution * d1
            y2 += c.position_resolution * d2
        out_e1[i] = e1
        out_e2[i] = e2
        presel[i] = False
        signal[i] = False
        good = ok1 and ok2 and e1 > 0.0 and e2 > 0.0
        z_vtx, pt, d = math.nan, math.nan, math.nan
        if good:
            good, z_vtx, pt, d = reconstruct(e1, x1, y1, e2, x2, y2, c.z_csi, c.m_pi0)
        out_z[i] = z_vtx  # NaN: not reconstructed
        out_pt[i] = pt
        out_rcoe[i] = math.hypot((e1 * x1 + e2 * x2) / (e1 + e2), (e1 * y1 + e2 * y2) / (e1 + e2)) if good else math.nan
        if good and photon_pair_cuts(e1, x1, y1, e2, x2, y2, d, c):
            presel[i] = c.z_presel_min < z_vtx < c.z_presel_max
            signal[i] = in_signal_box(z_vtx, pt, c)


@dataclass(frozen=True)
class KOTOAcceptance:
    """KOTO π⁰νν̄-style selection: regions ``SR`` (signal box) and ``presel``."""

    cuts: KOTOCuts = field(default_factory=KOTOCuts)
    name: str = "koto"
    regions: tuple[str, ...] = REGIONS
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

    def apply(
        self, p: np.ndarray, pid: np.ndarray, q2: np.ndarray, context: dict[str, Any], seed: int,  # noqa: ARG002
        first_event: int, v: np.ndarray | None = None,
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Observables and region flags of a batch: ``p[4, n, k]`` lab momenta (GeV), ``v[4, n, k]``
        production vertices (mm, KOTO coordinates); the two photons found by their PDG id."""
        assert v is not None, "the KOTO acceptance needs the decay vertices"
        s1, s2 = context["slots"][22][:2]
        g1 = np.ascontiguousarray(p[:, :, s1])
        g2 = np.ascontiguousarray(p[:, :, s2])
        vertex = np.ascontiguousarray(v[:3, :, s1])  # the photons start at the π⁰ decay
        n = p.shape[1]
        e1, e2, z, pt, rcoe = (np.empty(n) for _ in range(5))
        presel, signal = np.empty(n, dtype=np.bool_), np.empty(n, dtype=np.bool_)
        _select(stream_key(seed, STREAM_ACCEPTANCE), np.int64(first_event), g1, g2, vertex,
                cut_record(self.cuts), e1, e2, z, pt, rcoe, presel, signal)
        observables = {
            "E_gamma1": e1, "E_gamma2": e2, "z_vtx": z, "pt": pt, "r_coe": rcoe,
            "z_true": np.ascontiguousarray(v[2, :, s1]), "q2": q2,
        }
        return observables, {"SR": signal, "presel": presel}
