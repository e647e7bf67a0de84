"""The numpy yardsticks of ``axgen bench``: K⁺ → π⁺ X(→ ν ν̄) in plain vectorised numpy.

Two chains, written the way a careful numpy user would (whole-batch array expressions, no
Python loop per event), each proved to compute the kernel's events before it is timed, so
that a ratio compares equal work:

- :func:`numpy_k_pi_x`, the decay at rest: the numba kernel ``matrix_elements.p_to_pprime.generate``
  — VEGAS map, Breit–Wigner q², P → P′X* and X* → νν̄ two-body decays, |M|² of physics.md
  Eq. 19 (momenta in GeV, K⁺ rest frame; :func:`check_numpy_yardstick`, :func:`time_numpy`);
- :func:`numpy_na62`, the whole NA62 run of a batch as the fused kernel makes it: that decay,
  the K⁺ beam (momentum from the decaying-K⁺ table, slopes, spot, decay law, boost to the
  lab), production vertices, the NA62 selection (smeared m²_miss, the π⁺ track through every
  plane, regions), weights and the run's sums (:func:`check_numpy_na62`, :func:`time_numpy_na62`).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from gen import acceptance as acceptance_models
from gen import cards, driver, pdg, pipeline, production
from gen.acceptance import na62
from gen.acceptance.na62 import NA62Cuts
from gen.events import vertex_table
from gen.production.kaon_beams import DecayingSpectrum, NA62Beam
from gen.production.vertices import FIRST_BEAM_COUNTER
from matrix_elements import p_to_pprime as fam
from phase_space.random import (
    STREAM_ACCEPTANCE,
    STREAM_PHASE_SPACE,
    STREAM_PRODUCTION,
    stream_key,
    uniforms,
)
from phase_space.sampler import adapt_map
from phase_space.vegas_map import FrozenMap


def numpy_k_pi_x(
    uniform: np.ndarray, frozen: FrozenMap, params: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`numpy_k_pi_x_q2` without q²."""
    p, fjac, _ = numpy_k_pi_x_q2(uniform, frozen, params)
    return p, fjac


def numpy_k_pi_x_q2(
    uniform: np.ndarray, frozen: FrozenMap, params: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """K⁺→π⁺X(→νν̄) in plain numpy: VEGAS map, Breit–Wigner q², two decays, Eq. 19.

    ``uniform[n, 5]``: the two VEGAS dimensions (u_q², u_cosθ_ν) then the flat u_cosθ_π,
    u_φ_π, u_φ_ν — the kernel's layout. Returns (p[4, n, 5], f·jac[n], q²[n]), the quantities
    the numba kernel computes (same conventions, same formulas).
    """
    n = uniform.shape[0]
    y = uniform[:, :2]
    # VEGAS map
    t = y * frozen.ninc
    i = np.minimum(t.astype(np.int64), frozen.ninc - 1)
    d = np.arange(frozen.dim)
    width = frozen.inc[d, i]
    x = frozen.grid[d, i] + width * (t - i)
    jac = np.prod(width * frozen.ninc, axis=1)
    m_p, m_d = params[fam.I_M_PARENT], params[fam.I_M_DAUGHTER]
    m_x, g_x = params[fam.I_M_X], params[fam.I_WIDTH_X]
    t_min, t_max = params[fam.I_T_MIN], params[fam.I_T_MAX]
    q2 = m_x * m_x + m_x * g_x * np.tan(t_min + (t_max - t_min) * x[:, 0])
    q2_factor = (t_max - t_min) / (m_x * g_x) / (2 * math.pi)  # (dq²/du)|D_X|²/(2π)
    m_star = np.sqrt(q2)
    lam = (m_p**2 - (m_d + m_star) ** 2) * (m_p**2 - (m_d - m_star) ** 2)
    p_star = np.sqrt(np.maximum(lam, 0.0)) / (2 * m_p)
    # P → P′ X* at rest
    c1 = 2 * uniform[:, 2] - 1
    s1 = np.sqrt(np.maximum((1 - c1) * (1 + c1), 0.0))
    phi1 = 2 * math.pi * uniform[:, 3]
    n_d = np.stack([s1 * np.cos(phi1), s1 * np.sin(phi1), c1])
    e_d = np.sqrt(p_star**2 + m_d**2)
    p = np.empty((4, n, 5))
    p[0, :, 0], p[1:, :, 0] = m_p, 0.0
    p[0, :, 1], p[1:, :, 1] = e_d, p_star * n_d
    p[0, :, 2], p[1:, :, 2] = m_p - e_d, -p_star * n_d
    # X* → ν ν̄ in the X helicity frame (axes e_x, −e_y, −n_d), boosted along −n_d
    c2 = 2 * x[:, 1] - 1
    s2 = np.sqrt(np.maximum((1 - c2) * (1 + c2), 0.0))
    phi2 = 2 * math.pi * uniform[:, 4]
    e_x = np.stack([c1 * np.cos(phi1), c1 * np.sin(phi1), -s1])
    e_y = -np.stack([-np.sin(phi1), np.cos(phi1), np.zeros(n)])
    e_z = -n_d
    e = m_star / 2
    gamma = p[0, :, 2] / m_star
    beta_gamma = p_star / m_star
    p_par = gamma * e * c2 + beta_gamma * e
    p[0, :, 3] = gamma * e + beta_gamma * e * c2
    p[1:, :, 3] = e * s2 * (np.cos(phi2) * e_x + np.sin(phi2) * e_y) + p_par * e_z
    p[:, :, 4] = p[:, :, 2] - p[:, :, 3]

    def mdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]

    big_p = p[:, :, 0] + p[:, :, 1]
    tensor = mdot(big_p, p[:, :, 3]) * mdot(big_p, p[:, :, 4]) - 0.25 * mdot(big_p, big_p) * q2
    ff = params[fam.I_FF : fam.I_FF + 8]
    xk = q2 * ff[5]
    f_plus = ff[0] * np.exp(q2 * ff[4] * (ff[1] + ff[2] * xk + ff[3] * xk * xk))
    me2 = params[fam.I_COUPLING2] * f_plus**2 * tensor
    phase_space = p_star / (4 * math.pi * m_p) * q2_factor / (8 * math.pi)
    f = params[fam.I_TO_BR] * me2 * phase_space / (2 * m_p)
    return p, f * jac, q2


def time_numpy(prepared: driver.Prepared, frozen: FrozenMap, n_events: int, batch: int, repeats: int = 3) -> float:
    """Events/s of :func:`numpy_k_pi_x` on batches of ``batch`` (best of ``repeats``)."""
    rng = np.random.Generator(np.random.PCG64(1))
    per_rep = max(n_events // repeats, batch)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for first in range(0, per_rep, batch):
            n = min(batch, per_rep - first)
            u = rng.random((n, 7))  # 2 VEGAS dimensions, 3 flat angles, flavour, conjugate
            numpy_k_pi_x(u[:, :5], frozen, prepared.params)
        best = max(best, per_rep / (time.perf_counter() - start))
    return best


def check_numpy_yardstick(prepared: driver.Prepared, frozen: FrozenMap, n: int = 10_000) -> float:
    """Largest relative difference of the numpy chain and the numba kernel on the same uniforms."""
    key = stream_key(1, STREAM_PHASE_SPACE)
    u = uniforms(key, 0, n, frozen.dim + 3)
    p_ref, _, fjac_ref, _ = driver._generate(prepared, frozen, key, 0, n)
    p, fjac = numpy_k_pi_x(u, frozen, prepared.params)
    scale = p_ref[0, :, 0][None, :, None]
    return max(float(np.max(np.abs(p - p_ref) / scale)), float(np.max(np.abs(fjac / fjac_ref - 1))))


# ---------------------------------------------------------------------------------------------
# the whole NA62 run of a batch


@dataclass(frozen=True)
class NA62Chain:
    """What :func:`numpy_na62` reads: the process point and its frozen map, the record's
    topology, the beam and its decaying-K⁺ table, the selection's cuts, the weight scale."""

    params: np.ndarray
    frozen: FrozenMap
    pids: np.ndarray  # (2, k) PDG ids: process and conjugate rows
    mothers: np.ndarray  # (k,)
    ctau_mm: np.ndarray  # (k,) proper decay length of each slot (0: stable or prompt)
    source_slot: np.ndarray  # (m,) the first slot produced at each distinct vertex
    conjugate_fraction: float
    beam: NA62Beam
    grid: DecayingSpectrum
    kaon_mass: float  # GeV
    kaon_ctau: float  # mm
    cuts: NA62Cuts
    pion_slot: int
    scale: float  # weights are f × beam factor × scale


@dataclass
class NA62Draws:
    """The random numbers of n events: ``phase_space[n, dim + 5]`` (the VEGAS dimensions, then
    u_cosθ_π, u_φ_π, u_φ_ν, u_flavour, u_conjugate), ``beam[n, 3]`` (u_momentum, u_decay-z,
    u_vertex of the X), ``beam_gauss[n, 4]`` (slopes x, y, spot x, y), ``smear_gauss[n, 6]``
    (GTK: |p|, two slopes; STRAW: |p|, two slopes)."""

    phase_space: np.ndarray
    beam: np.ndarray
    beam_gauss: np.ndarray
    smear_gauss: np.ndarray


def na62_chain(prepared: driver.Prepared, frozen: FrozenMap, card: cards.RunCard, total: int) -> NA62Chain:
    """The chain of ``card`` (an NA62 K⁺ → π⁺X run) with ``total`` events to the run."""
    producer = production.Producer("na62", card.production.options, prepared.topology)
    topology = producer.topology
    _, source_slot = vertex_table(topology.mothers)
    # the draws carry the vertex uniform of one decaying daughter: the X in slot 2
    if np.any(np.delete(np.asarray(topology.ctau_mm), [0, 2]) > 0.0):
        raise ValueError("the numpy NA62 chain places the decay of the K⁺ and the X only")
    model = acceptance_models.get("na62", card.acceptance.cuts)
    return NA62Chain(
        prepared.params, frozen, topology.pids, topology.mothers, np.asarray(topology.ctau_mm, dtype=float),
        source_slot, float(prepared.conjugate_fraction), producer.options, producer.decaying_spectrum, producer.parent_mass,
        producer.parent_ctau_mm, model.cuts, int(np.flatnonzero(np.abs(topology.pids[0]) == 211)[0]), 1.0 / total,
    )


def numpy_na62(draws: NA62Draws, chain: NA62Chain) -> dict[str, np.ndarray]:
    """The events of ``draws`` as the fused kernel makes them for an NA62 run, in numpy.

    Returns the record and the sums: ``p[4, n, k]`` (GeV, lab), ``vertices[4, n, m]`` (mm,
    NA62 coordinates), ``pid[n, k]``, ``weight[n]``, ``observables[5, n]`` (m²_miss, p_π,
    z_vtx, R_STRAW1, q²), ``selected[9, n]`` (``gen.acceptance.na62.REGIONS``) and ``sums``
    (the columns of ``gen.pipeline.SUM_*``, as the run adds them up).
    """
    dim = chain.frozen.dim
    p, fjac, q2 = numpy_k_pi_x_q2(draws.phase_space[:, : dim + 3], chain.frozen, chain.params)
    n, k = p.shape[1], p.shape[2]
    # --- the K⁺ beam (gen.production.kaon_beams.na62_block)
    b, mass, ctau = chain.beam, chain.kaon_mass, chain.kaon_ctau
    momentum = np.interp(draws.beam[:, 0], chain.grid.cdf, chain.grid.p)
    g = draws.beam_gauss
    slope_x = b.slope_x + b.slope_spread * g[:, 0]
    slope_y = b.slope_y + b.slope_spread * g[:, 1]
    x0 = b.x_reference + b.spot_x * g[:, 2]
    y0 = b.y_reference + b.spot_y * g[:, 3]
    norm = np.sqrt(1.0 + slope_x**2 + slope_y**2)
    pz = momentum / norm
    energy = np.sqrt(momentum**2 + mass**2)
    reach = (b.z_max - b.z_min) * mass / ctau
    p_event = -np.expm1(-reach * norm / momentum)
    p_table = -np.expm1(-reach * math.sqrt(1.0 + b.slope_x**2 + b.slope_y**2) / momentum)
    z = b.z_min - pz * ctau / mass * np.log1p(-draws.beam[:, 1] * p_event)
    dz = z - b.z_reference
    decay = np.stack([x0 + slope_x * dz, y0 + slope_y * dz, z, dz * norm * energy / momentum])
    factor = chain.grid.mean_probability * p_event / p_table
    kaon = np.stack([energy, slope_x * pz, slope_y * pz, pz])
    # boost the decay products from the K⁺ rest frame (kinematics.boost_with)
    bg = kaon / mass
    for slot in range(1, k):
        q = p[:, :, slot]
        gp = bg[1] * q[1] + bg[2] * q[2] + bg[3] * q[3]
        coef = q[0] + gp / (bg[0] + 1.0)
        p[0, :, slot] = bg[0] * q[0] + gp
        p[1:, :, slot] = q[1:] + coef * bg[1:]
    p[:, :, 0] = kaon
    # --- production vertices (gen.production.vertices.block): the K⁺ at GTK3, its daughters at
    # its decay point, the daughters of a slot with cτ > 0 where it decays
    v = np.empty((4, n, k))
    v[:, :, 0] = np.stack([x0, y0, np.full(n, b.z_reference), np.zeros(n)])
    for m in range(k):
        daughters = np.flatnonzero(chain.mothers == m)
        if daughters.size == 0:
            continue
        if m == 0:
            point = decay
        elif chain.ctau_mm[m] > 0.0:
            mom = p[:, :, m]
            m2 = mom[0] ** 2 - mom[1] ** 2 - mom[2] ** 2 - mom[3] ** 2
            length = np.where(m2 > 0, -np.log1p(-draws.beam[:, 2]) * chain.ctau_mm[m] / np.sqrt(np.abs(m2)), 0.0)
            point = v[:, :, m] + mom[[1, 2, 3, 0]] * length  # (x, y, z, ct) += (p, E)·length
        else:
            point = v[:, :, m]
        v[:, :, daughters] = point[:, :, None]
    vertices = np.ascontiguousarray(v[:, :, chain.source_slot])
    # --- PDG ids: the template row, the drawn ν flavour (matrix_elements.record.store_pids)
    u_aux = draws.phase_space[:, dim + 3 :]
    conjugate = u_aux[:, 1] < chain.conjugate_fraction
    pid = chain.pids[conjugate.astype(np.intp)]
    nu_slot = int(np.flatnonzero(np.isin(np.abs(chain.pids[0]), (12, 14, 16)))[0])
    nu = np.where(u_aux[:, 0] < chain.params[fam.I_NU_CUM_E], 12,
                  np.where(u_aux[:, 0] < chain.params[fam.I_NU_CUM_MU], 14, 16)).astype(np.int32)
    pid[:, nu_slot] = np.where(conjugate, -nu, nu)
    pid[:, nu_slot + 1] = -pid[:, nu_slot]
    # --- the NA62 selection (gen.acceptance.na62.block)
    observables, selected = _na62_selection(p[:, :, 0], p[:, :, chain.pion_slot], decay, q2, draws.smear_gauss,
                                            chain.cuts)
    # --- weights and the run's sums (gen.pipeline.weigh, block_sums)
    weight = fjac * factor * chain.scale
    ws = weight * selected
    sums = np.concatenate([
        [fjac.sum(), (fjac * fjac).sum(), float(n), weight.sum(), (weight * weight).sum()],
        np.stack([ws.sum(axis=1), (weight * ws).sum(axis=1), (ws * ws).sum(axis=1),
                  np.count_nonzero(selected, axis=1).astype(float)], axis=1).reshape(-1),  # weighted: all kept
    ])
    return {"p": p, "vertices": vertices, "pid": pid, "weight": weight, "observables": observables,
            "selected": selected, "sums": sums}


def _track_at(vertex: np.ndarray, p: np.ndarray, c: NA62Cuts, z: float) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) [mm] of the π⁺ at plane z (``gen.acceptance.na62.track_at``)."""
    tx, ty = p[1] / p[3], p[2] / p[3]
    y = vertex[1] + ty * (z - vertex[2])
    if z <= na62.Z_MAGNET:
        return vertex[0] + tx * (z - vertex[2]), y
    x_magnet = vertex[0] + tx * (na62.Z_MAGNET - vertex[2])
    kicked = x_magnet + (p[1] + c.magnet_kick) / p[3] * (z - na62.Z_MAGNET)
    return np.where(vertex[2] >= na62.Z_MAGNET, vertex[0] + tx * (z - vertex[2]), kicked), y


def _measured(p: np.ndarray, mass: float, sigma_p: Any, sigma_angle: Any, g: np.ndarray) -> np.ndarray:
    p_abs = np.sqrt(p[1] ** 2 + p[2] ** 2 + p[3] ** 2) * (1.0 + sigma_p * g[0])
    tx = p[1] / p[3] + sigma_angle * g[1]
    ty = p[2] / p[3] + sigma_angle * g[2]
    pz = p_abs / np.sqrt(1.0 + tx**2 + ty**2)
    return np.stack([np.sqrt(p_abs**2 + mass**2), tx * pz, ty * pz, pz])


def _na62_selection(kaon: np.ndarray, pion: np.ndarray, vtx: np.ndarray, q2: np.ndarray, gauss: np.ndarray,
                    c: NA62Cuts) -> tuple[np.ndarray, np.ndarray]:
    """Observables[5, n] and region flags[9, n] of the NA62 mimic for lab K⁺ and π⁺ momenta
    [4, n] and the π⁺ production vertex [4, n] (``gen.acceptance.na62.block``)."""
    smear = 1.0 if c.smear > 0.0 else 0.0
    p_true = np.sqrt(pion[1] ** 2 + pion[2] ** 2 + pion[3] ** 2)
    sigma_p = smear * np.sqrt(c.straw_resolution_const**2 + (c.straw_resolution_slope * p_true) ** 2)
    sigma_angle = smear * np.sqrt((c.straw_angle_ms / p_true) ** 2 + c.straw_angle_const**2)
    k_meas = _measured(kaon, pdg.mass(321), smear * c.gtk_resolution, smear * c.gtk_angle_resolution, gauss.T[:3])
    pi_meas = _measured(pion, pdg.mass(211), sigma_p, sigma_angle, gauss.T[3:])
    diff = k_meas - pi_meas
    m2 = diff[0] ** 2 - diff[1] ** 2 - diff[2] ** 2 - diff[3] ** 2
    p_meas = np.sqrt(pi_meas[1] ** 2 + pi_meas[2] ** 2 + pi_meas[3] ** 2)
    forward = pion[3] > 0.0
    x1, y1 = _track_at(vtx, pion, c, na62.Z_STRAW[0])
    r1 = np.where(forward, np.sqrt((x1 - na62.X_STRAW_HOLE[0]) ** 2 + y1**2), np.nan)
    z_vtx = vtx[2]
    ok = forward & (z_vtx < na62.Z_STRAW[0])
    ok &= (c.p_min < p_meas) & (p_meas < c.p_max) & (c.z_fv_min < z_vtx) & (z_vtx < c.z_fv_max)
    ok &= r1 > c.box_a - c.box_b * z_vtx
    for z, hole in zip(na62.Z_STRAW, na62.X_STRAW_HOLE, strict=True):
        x, y = _track_at(vtx, pion, c, z)
        ok &= (x**2 + y**2 < c.straw_r_max**2) & ((x - hole) ** 2 + y**2 > c.straw_hole**2)
    x, y = _track_at(vtx, pion, c, na62.Z_RICH_FRONT)
    ok &= (x - na62.X_RICH_HOLE) ** 2 + y**2 > c.rich_r_min**2
    for z, r_min, r_max in ((na62.Z_NEWCHOD, c.newchod_r_min, c.newchod_r_max),
                            (na62.Z_CHOD[0], c.chod_r_min, c.chod_r_max), (na62.Z_CHOD[1], c.chod_r_min, c.chod_r_max)):
        x, y = _track_at(vtx, pion, c, z)
        r2 = x**2 + y**2
        ok &= (r2 > r_min**2) & (r2 < r_max**2)
    x, y = _track_at(vtx, pion, c, na62.Z_LKR)
    a = c.lkr_apothem
    ok &= (x**2 + y**2 > c.lkr_r_min**2) & (np.abs(x) < a) & (np.abs(y) < a) & (np.abs(x) + np.abs(y) < math.sqrt(2.0) * a)
    x, y = _track_at(vtx, pion, c, na62.Z_MUV3)
    h = c.muv3_half_side
    ok &= (x**2 + y**2 > c.muv3_r_min**2) & (np.abs(x) < h) & (np.abs(y) < h)
    selected = np.empty((len(na62.REGIONS), m2.size))
    for region, (lo, hi) in na62.M2_RANGES.items():
        selected[na62.REGIONS.index(region)] = ok & (lo < m2) & (m2 < hi)
    selected[na62.REGIONS.index("SR")] = np.maximum(selected[na62.REGIONS.index("R1")],
                                                   selected[na62.REGIONS.index("R2")])
    selected[na62.REGIONS.index("FV")] = (c.z_fv_min < z_vtx) & (z_vtx < c.z_fv_max)
    return np.stack([m2, p_meas, z_vtx, r1, q2]), selected


def _box_muller(u: np.ndarray) -> np.ndarray:
    """Gaussian pairs from uniform pairs (columns 2j, 2j + 1), as ``phase_space.random.gaussian_pair``."""
    radius = np.sqrt(-2.0 * np.log1p(-u[:, 0::2]))
    angle = 2.0 * math.pi * u[:, 1::2]
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=2).reshape(u.shape[0], -1)


def kernel_draws(seed: int, first: int, n: int, chain: NA62Chain) -> NA62Draws:
    """The random numbers the fused kernel draws for events ``first ..`` of a run with ``seed``
    (counter streams of ``phase_space.random``; Box–Muller as the kernel's, to an ulp or so)."""
    dim = chain.frozen.dim
    ps = uniforms(stream_key(seed, STREAM_PHASE_SPACE), first, n, dim + 5)
    production_u = uniforms(stream_key(seed, STREAM_PRODUCTION), first, n, FIRST_BEAM_COUNTER + 6)
    beam = production_u[:, [FIRST_BEAM_COUNTER, FIRST_BEAM_COUNTER + 1, 2]]  # u_p, u_z, the X's vertex (slot 2)
    beam_gauss = _box_muller(production_u[:, FIRST_BEAM_COUNTER + 2 :])
    smear_gauss = _box_muller(uniforms(stream_key(seed, STREAM_ACCEPTANCE), first, n, 6))
    return NA62Draws(ps, beam, beam_gauss, smear_gauss)


def numpy_draws(rng: np.random.Generator, n: int, dim: int) -> NA62Draws:
    """As many random numbers from numpy's own generator (what a numpy user would draw)."""
    return NA62Draws(rng.random((n, dim + 5)), rng.random((n, 3)), rng.standard_normal((n, 4)),
                     rng.standard_normal((n, 6)))


def check_numpy_na62(raw: dict[str, Any], n: int = 20_000, seed: int = 1) -> dict[str, float]:
    """Run the fused kernel on an NA62 card (``raw``) and :func:`numpy_na62` on the same draws:
    the largest relative differences of momenta, vertices, weights, observables and sums,
    the fraction of events whose flags differ (a cut met to an ulp) and whether the ids agree."""
    card, prepared, frozen, chain = _prepared(raw, n, seed)
    producer = production.Producer("na62", card.production.options, prepared.topology)
    model = acceptance_models.get("na62", card.acceptance.cuts)
    context = {"slots": {211: [chain.pion_slot]}}
    fused = pipeline.fused_kernel(prepared, frozen, producer, model, context, seed,
                                  stream_key(seed, STREAM_PHASE_SPACE))
    fused.weighting(chain.scale)
    batch = fused.new_batch(n)
    fused(0, batch)
    out = numpy_na62(kernel_draws(seed, 0, n, chain), chain)

    def rel(a: np.ndarray, b: np.ndarray, scale: np.ndarray | float) -> float:
        """Largest |a − b|/scale; infinite when NaN stands in one and not the other."""
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            return math.inf
        return float(np.nanmax(np.abs(a - b) / scale))

    energy = batch.p[0, :, :1][None]  # momenta relative to the kaon's energy
    return {
        "momenta": rel(out["p"], batch.p, energy),
        "vertices": rel(out["vertices"], batch.vertices, 1e5),  # mm, relative to the 100 m scale
        "weights": rel(out["weight"], batch.weight, np.abs(batch.weight)),
        "observables": rel(out["observables"], batch.observables,
                           np.array([1.0, 75.0, 1e5, 1e3, 1.0])[:, None]),  # GeV², GeV, mm, mm, GeV²
        "sums": rel(out["sums"], batch.totals(), np.maximum(np.abs(batch.totals()), 1e-300)),
        "flags_differ": float(np.mean(np.any(out["selected"] != batch.selected, axis=0))),
        "ids_equal": float(np.array_equal(out["pid"], batch.pid)),
        "selected": float(np.mean(batch.selected[na62.REGIONS.index("SR")])),
    }


NA62_TOLERANCES = {"momenta": 1e-9, "vertices": 1e-9, "weights": 1e-9, "observables": 1e-9, "sums": 1e-9,
                   "flags_differ": 0.0}
"""What :func:`check_numpy_na62` must find before the chain is timed: relative differences of
the numbers (the two codes' libm differ by ulps) and no flag that differs (a model point whose
m²_miss sits on a region's edge, unsmeared, would flip some: choose another)."""


def na62_problems(check: dict[str, float]) -> list[str]:
    """The quantities of a :func:`check_numpy_na62` result beyond :data:`NA62_TOLERANCES`."""
    problems = [f"{name} {check[name]:.2e} > {limit:.0e}" for name, limit in NA62_TOLERANCES.items()
                if not check[name] <= limit]
    if check["ids_equal"] != 1.0:
        problems.append("PDG ids differ")
    return problems


def _prepared(raw: dict[str, Any], n: int, seed: int
              ) -> tuple[cards.RunCard, driver.Prepared, FrozenMap, NA62Chain]:
    """The card ``raw`` with ``n`` events and ``seed``: checked, its VEGAS map adapted as a run
    adapts it, and its numpy chain."""
    raw = copy.deepcopy(raw)
    raw["run"].update(events=n, seed=seed)
    card, prepared = driver.check(raw, "<numpy yardstick>")
    frozen, _ = adapt_map(prepared.process.family.integrand, prepared.params, prepared.n_dim,
                          iterations=card.sampler.warmup_iterations, evaluations=card.sampler.warmup_evaluations,
                          seed=seed)
    return card, prepared, frozen, na62_chain(prepared, frozen, card, n)


def time_numpy_na62(raw: dict[str, Any], n_events: int, batch: int, repeats: int = 3) -> float:
    """Events/s of :func:`numpy_na62` on batches of ``batch`` (best of ``repeats``), the random
    numbers drawn by numpy's generator inside the timing (PCG64 and ziggurat normals: cheaper
    than the kernel's counter-based uniforms and Box–Muller, which its rate includes — and the
    kernel draws an unweighting uniform per event even when weighted)."""
    _, _, frozen, chain = _prepared(raw, n_events, 1)
    rng = np.random.Generator(np.random.PCG64(1))
    per_rep = max(n_events // repeats, batch)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        sums = np.zeros(pipeline.n_sums(len(na62.REGIONS)))
        for first in range(0, per_rep, batch):
            n = min(batch, per_rep - first)
            sums += numpy_na62(numpy_draws(rng, n, frozen.dim), chain)["sums"]
        best = max(best, per_rep / (time.perf_counter() - start))
    return best
