"""Kaon beams in flight: NA62 (K⁺ at 75 GeV/c) and KOTO (K_L pencil beam), experiments.md §1.1, §2.1.

Each event's kaon gets a momentum (and, for NA62, slopes and a position at the reference
plane), decays at a point drawn from the decay law restricted to the decay region
[z_min, z_max], and the whole record is carried from the kaon rest frame to the lab. The
kaon momenta are drawn from the spectrum of the kaons that *decay* in the region,
f(p) P(p)/⟨P⟩ with P = 1 − exp(−(z_max − z_min)/λ_z), λ_z = (p_z/m) cτ, and every weight is
multiplied by ⟨P⟩ = ∫f P/∫f: Σw is "per kaon entering the decay region" (expected events =
N(kaons entering the region) × Σw(selected)), the acceptances are per kaon decay in the
region, and unweighted events keep equal weights (NA62: to 1e-7, the per-event correction
of P for the kaon's own slopes).

Coordinates: NA62 — mm from the T10 target along the beam line (z), x horizontal; the K⁺
starts at GTK3 (z_reference) at t = 0. KOTO — mm from the upstream edge of the front barrel
("detector front"), beam along z; the K_L starts at the T1 target (z_target) at t = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from gen.options import non_negative, option, positive, record
from gen.production.vertices import FIRST_BEAM_COUNTER
from phase_space._jit import batch_kernel, kernel, stage
from phase_space.block import (
    BLOCK,
    BOOST_FACTORS,
    P_ROWS,
    ROOT_DECAY,
    TMP,
    V_ROWS,
    WEIGHT_FACTOR,
    boost_slots,
    load_rows,
    put,
    scratch,
    store_rows,
)
from phase_space.kinematics import boost_factors
from phase_space.maps import tabulated
from phase_space.random import (
    GAUSSIAN_PAIR_COUNTERS,
    STREAM_PRODUCTION,
    STRIDE,
    gaussian_pair,
    stream_key,
    uniform,
)
from phase_space.simd_math import expm1, log1p, sqrt


@dataclass(frozen=True)
class NA62Beam:
    """[production] setup = "na62": the K⁺ beam and the decay region (experiments.md §1.1, §1.2)."""

    ORDERED: ClassVar = (("z_reference", "z_min"), ("z_min", "z_max"))

    momentum: float = positive("central K⁺ momentum [V, arXiv:2312.17188]", 75.0, "GeV")
    momentum_spread: float = option(
        0.01, "relative rms momentum spread [V, 2312.17188]", check=lambda x: 0 <= x < 0.1,
        expected="a number >= 0 and < 0.1")
    slope_x: float = option(1.2e-3, "mean dx/dz of the beam [C, BeamParameters.cc]", unit="rad",
                            check=lambda x: abs(x) < 0.1, expected="a slope below 0.1 in size")
    slope_y: float = option(0.0, "mean dy/dz of the beam [C, BeamParameters.cc]", unit="rad",
                            check=lambda x: abs(x) < 0.1, expected="a slope below 0.1 in size")
    slope_spread: float = option(1.0e-4, "rms beam divergence per plane [M, ≲ 100 µrad]", unit="rad",
                                 check=lambda x: 0 <= x < 0.01, expected="a number >= 0 and < 0.01")
    z_reference: float = option(
        102_400.0, "reference plane (GTK3), where the K⁺ starts at t = 0 [C, BeamParameters.cc]", unit="mm")
    x_reference: float = option(0.0, "beam centre x at the reference plane", unit="mm")
    y_reference: float = option(0.0, "beam centre y at the reference plane", unit="mm")
    spot_x: float = non_negative("rms beam size x at GTK3 [M, 60 mm full width as ±2σ]", 15.0, "mm")
    spot_y: float = non_negative("rms beam size y at GTK3 [M, 27 mm full width as ±2σ]", 6.75, "mm")
    z_min: float = option(102_425.0, "decay region start [C, NA62MC StandardRun.mac]", unit="mm")
    z_max: float = option(180_000.0, "decay region end [C, NA62MC StandardRun.mac]", unit="mm")


@dataclass(frozen=True)
class KOTOBeam:
    """[production] setup = "koto": the K_L spectrum and the decay region (experiments.md §2.1, §2.2).

    The default spectrum is the asymmetric Gaussian of §2.1 (f(p) ∝ exp(−(p−μ)²/2σ(p)²),
    σ(p) = σ₀(1 − (A + S p)(p − μ))) with μ, σ₀ as quoted there [M, unverified] and A chosen
    so that the peak is 1.4 GeV/c and the mean 2.1 GeV/c over 0.5–5 GeV/c, as §2.1 describes;
    ``momentum_table`` replaces it by a measured spectrum (CSV: p [GeV], density).
    """

    ORDERED: ClassVar = (("p_min", "p_max"), ("z_target", "z_min"), ("z_min", "z_max"))

    mu: float = positive("spectrum peak μ [M, experiments.md §2.1]", 1.4, "GeV")
    sigma0: float = positive("spectrum width σ₀ [M, §2.1]", 0.8, "GeV")
    asymmetry_a: float = option(-0.3154, "A of σ(p) (mean 2.1 GeV/c; [M] choice)")
    asymmetry_s: float = option(0.0, "S of σ(p) [M]", unit="1/GeV")
    p_min: float = positive("lowest K_L momentum [M, §2.1]", 0.5, "GeV")
    p_max: float = positive("highest K_L momentum [M, §2.1]", 5.0, "GeV")
    momentum_table: str = option("", "CSV file (p [GeV], density) replacing the shape; empty: the shape",
                                 kind=str, expected="a file name")
    z_target: float = option(
        -21_000.0, "T1 target, where the K_L starts at t = 0 [C, ALPINIST: detector front 21 m from T1]", unit="mm")
    z_min: float = option(0.0, "decay region start (detector front)", unit="mm")
    z_max: float = option(6_000.0, "decay region end: the CsI face [C, ALPINIST ZECal 27 m − 21 m]", unit="mm")


def spectrum(beam: KOTOBeam, points: int) -> tuple[np.ndarray, np.ndarray]:
    """(p [GeV], f(p)) of the K_L spectrum at the beam-line exit on ``points`` equidistant
    momenta: the shape, or the card's table interpolated linearly (f piecewise linear between
    the table's points, so that P(p) is resolved within its bins too)."""
    if beam.momentum_table:
        data = np.loadtxt(Path(beam.momentum_table), delimiter=",", comments="#", ndmin=2)
        if data.shape[1] < 2 or data.shape[0] < 2:
            raise ValueError("needs at least two rows of two columns")
        table_p, table_f = data[:, 0], data[:, 1]
        if not (np.all(np.isfinite(data[:, :2])) and np.all(np.diff(table_p) > 0) and table_p[0] > 0):
            raise ValueError("momenta must be finite, positive and increasing")
        if np.any(table_f < 0) or not table_f.sum() > 0:
            raise ValueError("densities must be >= 0 and not all 0")
        p = np.linspace(table_p[0], table_p[-1], points)
        return p, np.interp(p, table_p, table_f)
    p = np.linspace(beam.p_min, beam.p_max, points)
    sigma = beam.sigma0 * (1.0 - (beam.asymmetry_a + beam.asymmetry_s * p) * (p - beam.mu))
    sigma = np.maximum(sigma, 1e-3 * beam.sigma0)
    return p, np.exp(-((p - beam.mu) ** 2) / (2.0 * sigma**2))


def decay_probability(p_z: np.ndarray | float, mass: float, ctau_mm: float, length_mm: float) -> np.ndarray:
    """P(decay within ``length_mm`` of z) = 1 − exp(−L m/(p_z cτ)) for a kaon of p_z [GeV]."""
    return -np.expm1(-length_mm * mass / (np.asarray(p_z, dtype=float) * ctau_mm))


@dataclass(frozen=True)
class DecayingSpectrum:
    """Momenta of the kaons that decay in the region, f(p) P(p)/⟨P⟩, as sampling tables
    (``phase_space.maps.tabulated``), and ⟨P⟩ = ∫ f P dp / ∫ f dp: the probability that a
    kaon entering the region decays in it."""

    p: np.ndarray
    cdf: np.ndarray
    guide: np.ndarray
    mean_probability: float


def decaying_spectrum(p: np.ndarray, density: np.ndarray, probability: np.ndarray) -> DecayingSpectrum:
    """f (``density``) and P tabulated on ``p`` [GeV], both taken piecewise linear."""
    fp = density * probability
    decaying = np.sum(0.5 * (fp[1:] + fp[:-1]) * np.diff(p))
    entering = np.sum(0.5 * (density[1:] + density[:-1]) * np.diff(p))
    return DecayingSpectrum(*tabulated(p, fp), mean_probability=float(decaying / entering))


def koto_grid(beam: KOTOBeam, mass: float, ctau_mm: float, points: int = 4001) -> DecayingSpectrum:
    """The decaying-K_L spectrum (K_L along the axis: p_z = p)."""
    p, density = spectrum(beam, points)
    return decaying_spectrum(p, density, decay_probability(p, mass, ctau_mm, beam.z_max - beam.z_min))


KAON_P = TMP  # scratch row of the kaon momentum
TABLE_U = TMP + 1  # scratch rows of the table lookup: the uniform, the bin (as a float)
TABLE_BIN = TMP + 2

NA62_SIGMAS = 7.0  # the K⁺ momentum Gaussian is truncated at ±7σ (a 2.6e-12 tail)


def na62_grid(beam: NA62Beam, mass: float, ctau_mm: float, points: int = 4001) -> DecayingSpectrum:
    """The decaying-K⁺ spectrum for the Gaussian momentum spread, with p_z = p/√(1 + x′₀² + y′₀²)
    at the nominal slopes (the kernel corrects P for each event's own slopes)."""
    sigma = beam.momentum * beam.momentum_spread
    monochromatic = beam.momentum_spread < 1e-9  # below: a grid of equal momenta
    if monochromatic:
        p = np.array([beam.momentum, beam.momentum])
        density = np.ones(2)
    else:
        p = np.linspace(beam.momentum - NA62_SIGMAS * sigma, beam.momentum + NA62_SIGMAS * sigma, points)
        density = np.exp(-0.5 * ((p - beam.momentum) / sigma) ** 2)
    norm = math.sqrt(1.0 + beam.slope_x**2 + beam.slope_y**2)
    probability = decay_probability(p / norm, mass, ctau_mm, beam.z_max - beam.z_min)
    if monochromatic:
        return DecayingSpectrum(p, np.array([0.0, 1.0]), np.zeros(2, dtype=np.int32), float(probability[0]))
    return decaying_spectrum(p, density, probability)


@kernel
def _decay_law(u, z_min, exponent, lam):
    """(z, P): the decay z from the law exp(−(z − z_min)/λ) truncated to the region, whose
    length is ``exponent``·λ, and P = 1 − exp(−exponent), the probability of decaying in it."""
    probability = -expm1(-exponent)
    return z_min - lam * log1p(-u * probability), probability


@kernel
def _checked_factor(factor, decay):
    """The weight factor, or NaN when the decay point is not finite (the driver reports a
    non-finite weight: a beam that puts a kaon nowhere is a bug, never silent)."""
    finite = math.isfinite(decay[0]) & math.isfinite(decay[1]) & math.isfinite(decay[2]) & math.isfinite(decay[3])
    return factor if finite else math.nan


@kernel
def _momenta(s, first, key, p_grid, cdf, guide):
    """Row KAON_P: each lane's kaon momentum from the decaying-kaon table, the numbers of
    :func:`phase_space.maps.from_table`. The uniform, the guide table's bin and the
    interpolation run as vector loops (gathers); only a lane whose bin is not the guide's
    (the CDF rises within a guide step: rare with ~16 guide entries per bin) steps on in a
    scalar loop of its own."""
    last_bin = p_grid.size - 2
    for lane in range(BLOCK):
        base = np.uint64(first + lane) * np.uint64(STRIDE) + np.uint64(FIRST_BEAM_COUNTER)
        u = uniform(key, base)
        s[TABLE_U, lane] = u
        s[TABLE_BIN, lane] = guide[int(u * (guide.size - 1))]
    for lane in range(BLOCK):  # the rare lanes that step on: from_table's search
        i = int(s[TABLE_BIN, lane])
        u = s[TABLE_U, lane]
        if i < last_bin and cdf[i + 1] <= u:
            while i < last_bin and cdf[i + 1] <= u:
                i += 1
            s[TABLE_BIN, lane] = i
    for lane in range(BLOCK):
        i = int(s[TABLE_BIN, lane])
        u = s[TABLE_U, lane]
        width = cdf[i + 1] - cdf[i]
        t = (u - cdf[i]) / width if width > 0.0 else 0.0
        s[KAON_P, lane] = p_grid[i] + t * (p_grid[i + 1] - p_grid[i])


@stage
def na62_block(s, first, key, p_grid, cdf, guide, beam, mass, ctau, n_slots):
    """The K⁺ of every lane in flight (scratch block ``s``, :mod:`phase_space.block`).

    Momentum from the decaying-K⁺ table (GeV), slopes and GTK3 position, decay z; the record
    in slots 1 .. n_slots − 1, generated in the K⁺ rest frame, is boosted to the lab, slot 0
    becomes the K⁺ with its vertex at GTK3 (t = 0), rows ROOT_DECAY get the decay point
    (x, y, z, ct in mm) and WEIGHT_FACTOR = ⟨P⟩ × the slope correction of P. ``beam``: the
    record of :class:`NA62Beam` with ``mean_probability``; ``mass`` [GeV], ``ctau`` [mm].
    """
    b = beam[0]
    slope_x0, slope_y0, slope_spread = b.slope_x, b.slope_y, b.slope_spread
    x_reference, y_reference, z_reference = b.x_reference, b.y_reference, b.z_reference
    spot_x, spot_y = b.spot_x, b.spot_y
    z_min, z_max, mean_probability = b.z_min, b.z_max, b.mean_probability
    nominal_norm = sqrt(1.0 + slope_x0 * slope_x0 + slope_y0 * slope_y0)
    length = z_max - z_min
    # the decay law's exponent L/λ = L m/(p_z cτ) = reach/p_z; λ = p_z × cτ/m
    reach = length * mass / ctau
    ctau_over_mass = ctau / mass
    _momenta(s, first, key, p_grid, cdf, guide)
    for lane in range(BLOCK):
        base = np.uint64(first + lane) * np.uint64(STRIDE) + np.uint64(FIRST_BEAM_COUNTER)
        momentum = s[KAON_P, lane]
        inverse_momentum = 1.0 / momentum
        g1, g2 = gaussian_pair(key, base + np.uint64(2))
        g3, g4 = gaussian_pair(key, base + np.uint64(2 + GAUSSIAN_PAIR_COUNTERS))
        slope_x = slope_x0 + slope_spread * g1
        slope_y = slope_y0 + slope_spread * g2
        x0 = x_reference + spot_x * g3
        y0 = y_reference + spot_y * g4
        norm = sqrt(1.0 + slope_x * slope_x + slope_y * slope_y)
        pz = momentum / norm
        energy = sqrt(momentum * momentum + mass * mass)
        kaon = (energy, slope_x * pz, slope_y * pz, pz)
        # P(decay in [z_min, z_max]) and the decay z from the law truncated to it
        z, p_event = _decay_law(uniform(key, base + np.uint64(1)), z_min, reach * norm * inverse_momentum,
                                pz * ctau_over_mass)
        # the table used the nominal slopes; the event's own slopes change P by a relative
        # O(x'₀ δx') ≈ 1e-7 at the NA62 defaults, corrected here
        p_table = -expm1(-reach * nominal_norm * inverse_momentum)
        dz = z - z_reference
        # ct = path × E/|p|
        decay = (x0 + slope_x * dz, y0 + slope_y * dz, z, dz * norm * energy * inverse_momentum)
        s[WEIGHT_FACTOR, lane] = _checked_factor(mean_probability * p_event / p_table, decay)
        put(s, 0, ROOT_DECAY, lane, decay)
        put(s, 0, V_ROWS, lane, (x0, y0, z_reference, 0.0))
        put(s, 0, P_ROWS, lane, kaon)
        put(s, 0, BOOST_FACTORS, lane, boost_factors(kaon))
    boost_slots(s, 1, n_slots)


@stage
def koto_block(s, first, key, p_grid, cdf, guide, beam, mass, ctau, n_slots):
    """As :func:`na62_block` for the K_L: along +z from the T1 target (t = 0 there), momenta
    from the decaying-K_L table; ``beam`` a record of :class:`KOTOBeam` with
    ``mean_probability``."""
    b = beam[0]
    z_target, z_min, z_max, mean_probability = b.z_target, b.z_min, b.z_max, b.mean_probability
    reach = (z_max - z_min) * mass / ctau  # L/λ = reach/p
    _momenta(s, first, key, p_grid, cdf, guide)
    for lane in range(BLOCK):
        base = np.uint64(first + lane) * np.uint64(STRIDE) + np.uint64(FIRST_BEAM_COUNTER)
        momentum = s[KAON_P, lane]
        kaon = (sqrt(momentum * momentum + mass * mass), 0.0, 0.0, momentum)
        z, _ = _decay_law(uniform(key, base + np.uint64(1)), z_min, reach / momentum, momentum * ctau / mass)
        decay = (0.0, 0.0, z, (z - z_target) * kaon[0] / momentum)
        s[WEIGHT_FACTOR, lane] = _checked_factor(mean_probability, decay)
        put(s, 0, ROOT_DECAY, lane, decay)
        put(s, 0, V_ROWS, lane, (0.0, 0.0, z_target, 0.0))
        put(s, 0, P_ROWS, lane, kaon)
        put(s, 0, BOOST_FACTORS, lane, boost_factors(kaon))
    boost_slots(s, 1, n_slots)


@kernel
def _store_block(s, p, v, root_decay, weight_factor, i0, n):
    """The outputs of a beam block stage into the batch arrays (first ``n`` lanes)."""
    store_rows(s, P_ROWS, p, i0, n)
    store_rows(s, V_ROWS, v[:, :, :1], i0, n)
    for lane in range(n):
        weight_factor[i0 + lane] = s[WEIGHT_FACTOR, lane]
        for c in range(4):
            root_decay[c, i0 + lane] = s[ROOT_DECAY + c, lane]


@batch_kernel(events=8, axis=1, min_per_thread=BLOCK)
def _na62_batch(key, first_event, p_grid, cdf, guide, beam, mass, ctau, p, v, root_decay, weight_factor,
                start, stop):
    """Batch form of :func:`na62_block` on the record ``p[4, n, k]`` (kaon rest frame in, lab
    out), filling ``v[:, :, 0]``, ``root_decay[4, n]`` and ``weight_factor[n]``."""
    s = scratch()
    for i0 in range(start, stop, BLOCK):
        n = min(BLOCK, stop - i0)
        load_rows(s, P_ROWS, p, i0, n)
        na62_block(s, first_event + i0, key, p_grid, cdf, guide, beam, mass, ctau, p.shape[2])
        _store_block(s, p, v, root_decay, weight_factor, i0, n)


def _checked(name: str, v: np.ndarray, root_decay: np.ndarray, weight_factor: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernel's outputs, or RuntimeError naming the first non-finite event."""
    bad = ~(np.isfinite(root_decay).all(axis=0) & np.isfinite(weight_factor))
    if bad.any():
        raise RuntimeError(f"{name} beam: non-finite decay vertex or weight in batch event {int(np.argmax(bad))}")
    return v, root_decay, weight_factor


def na62(beam: NA62Beam, grid: DecayingSpectrum, seed: int, first_event: int,
         p: np.ndarray, mass: float, ctau_mm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boost ``p[4, n, k]`` (GeV, K⁺ rest frame) to the lab in place; returns (``v[4, n, k]`` with
    the parent's vertex set, the root decay ``[4, n]`` in mm, the weight factor ⟨P⟩ × the slope
    correction). ``grid`` from :func:`na62_grid`, ``mass`` in GeV, ``ctau_mm`` in mm. The block
    stage :func:`na62_block` batch by batch (the fused generation kernel runs it per block)."""
    n = p.shape[1]
    v = np.empty_like(p)
    root_decay = np.empty((4, n))
    weight_factor = np.empty(n)
    _na62_batch(stream_key(seed, STREAM_PRODUCTION), np.int64(first_event), grid.p, grid.cdf, grid.guide,
                record(beam, mean_probability=grid.mean_probability), float(mass), float(ctau_mm), p, v,
                root_decay, weight_factor)
    return _checked("na62", v, root_decay, weight_factor)
