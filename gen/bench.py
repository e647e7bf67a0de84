"""``axgen bench``: speed and memory of the generator, measured in one run.

What is measured (all on the same machine, in one process run, so ratios are meaningful
even on a noisy machine):

- generation in memory — counter-based uniforms, VEGAS map, |M|², kinematics — for
  K⁺→π⁺X, B⁺→K⁺X and B⁰→K*⁰(K⁺π⁻)X, into reused batch buffers and with fresh buffers per batch as the
  driver allocates them (best of three repetitions);
- the same chain for K⁺→π⁺X written in plain numpy (vectorised over the batch) as the
  yardstick, checked event by event against the numba kernel before it is timed;
- end to end (generation, production, acceptance, writing) to parquet and to HepMC3;
- peak memory (max RSS) of a long parquet run in a child process;
- the wall time of a second small run in a child process (numba's on-disk cache warm).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from gen import cards, driver
from matrix_elements import p_to_pprime as fam
from phase_space.random import STREAM_PHASE_SPACE, stream_key, uniforms
from phase_space.sampler import adapt_map
from phase_space.vegas_map import FrozenMap

REPEATS = 3
"""In-memory rates are the best of this many repetitions."""

K_PI_X = {
    "run": {"process": "K+ -> pi+ X", "events": 1000, "seed": 1},
    "model": {"m_X": 0.1, "g_sd": 3.7e-13},
}
B_K_X = {
    "run": {"process": "B+ -> K+ X", "events": 1000, "seed": 1},
    "model": {"m_X": 2.1, "g_bs": 1.45e-8, "g_nu": [0.0, 0.0, 1.8e-2]},
}
B_KSTAR_X = {
    "run": {"process": "B0 -> K*0(K+ pi-) X", "events": 1000, "seed": 1},
    "model": {"m_X": 2.1, "g_bs": 1.45e-8, "g_nu": [0.0, 0.0, 1.8e-2]},
}
NA62_K_PI_X = {**K_PI_X, "production": {"setup": "na62"}, "acceptance": {"experiment": "na62"}}
KOTO_KL_PI0_X = {
    "run": {"process": "KL -> pi0 X", "events": 1000, "seed": 1},
    "model": {"m_X": 0.135, "g_sd": {"re": 1.9e-12, "im": -8.1e-13}},
    "production": {"setup": "koto"},
    "acceptance": {"experiment": "koto"},
}


def _prepare(raw: dict[str, Any]) -> tuple[driver.Prepared, FrozenMap]:
    card, prepared = driver.check(raw, "<bench>")
    frozen, _ = adapt_map(
        prepared.process.family.integrand,
        prepared.params,
        prepared.n_dim,
        iterations=card.sampler.warmup_iterations,
        evaluations=card.sampler.warmup_evaluations,
        seed=1,
    )
    return prepared, frozen


def _time_numba(
    prepared: driver.Prepared, frozen: FrozenMap, n_events: int, batch: int
) -> tuple[float, float]:
    """(ev/s writing into reused batch buffers, ev/s with fresh buffers per batch as the driver)."""
    key = stream_key(1, STREAM_PHASE_SPACE)
    driver._generate(prepared, frozen, key, 0, 1000)  # compile / load from cache
    k = prepared.topology.n_slots
    p = np.empty((4, batch, k))
    pid = np.empty((batch, k), dtype=np.int32)
    fjac = np.empty(batch)
    q2 = np.empty(batch)
    generate = prepared.process.family.generate
    per_rep = max(n_events // REPEATS, batch)
    reused = fresh = 0.0
    for _ in range(REPEATS):  # best of REPEATS: other tenants of the machine only slow us down
        start = time.perf_counter()
        for first in range(0, per_rep, batch):
            generate(
                key,
                np.int64(first),
                frozen.grid,
                frozen.inc,
                frozen.ninc,
                prepared.params,
                prepared.topology.pids,
                0.0,
                p,
                pid,
                fjac,
                q2,
            )
        reused = max(reused, per_rep / (time.perf_counter() - start))
        start = time.perf_counter()
        for first in range(0, per_rep, batch):
            driver._generate(prepared, frozen, key, first, min(batch, per_rep - first))
        fresh = max(fresh, per_rep / (time.perf_counter() - start))
    return reused, fresh


# --- the numpy yardstick ----------------------------------------------------------------


def numpy_k_pi_x(
    uniform: np.ndarray, frozen: FrozenMap, params: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """K⁺→π⁺X(→νν̄) in plain numpy: VEGAS map, Breit–Wigner q², two decays, Eq. 19.

    ``uniform[n, 5]``: the two VEGAS dimensions (u_q², u_cosθ_ν) then the flat u_cosθ_π,
    u_φ_π, u_φ_ν — the kernel's layout. Returns (p[4, n, 5], f·jac[n]), the quantities the
    numba kernel computes (same conventions, same formulas).
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
    return p, f * jac


def _time_numpy(prepared: driver.Prepared, frozen: FrozenMap, n_events: int, batch: int) -> float:
    rng = np.random.Generator(np.random.PCG64(1))
    per_rep = max(n_events // REPEATS, batch)
    best = 0.0
    for _ in range(REPEATS):
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


# --- end to end, memory, start-up ---------------------------------------------------------


def _end_to_end(raw: dict[str, Any], fmt: str, n_events: int, directory: Path) -> float:
    raw = {**raw, "run": {**raw["run"], "events": n_events}}
    suffix = "parquet" if fmt == "parquet" else "hepmc"
    raw["output"] = [{"format": fmt, "path": f"bench.{suffix}"}]
    card, prepared = driver.check(raw, "<bench>", directory)
    summary = driver.run(card, directory, progress=False, prepared=prepared).summary
    return float(summary["timing"]["events_per_s"])


def _in_flight(raw: dict[str, Any], n_events: int) -> float:
    """Events per second of a whole run without output files: generation, the kaon beam, the
    experiment's selection and the running sums (a second run: kernels compiled)."""
    raw = {**raw, "run": {**raw["run"], "events": n_events}}
    card, prepared = driver.check(raw, "<bench>")
    driver.run(card, None, progress=False, prepared=prepared)
    summary = driver.run(card, None, progress=False, prepared=prepared).summary
    return float(summary["timing"]["events_per_s"])


def _child(args: list[str]) -> tuple[float, float]:
    """Run ``python -m gen ARGS`` in a child; (wall seconds, max RSS in MB of the children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gen", *args], check=True, capture_output=True)
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(rss, before) / 1024.0


def _write_card(path: Path, raw: dict[str, Any], events: int, out: str | None) -> None:
    lines = [
        "[run]",
        f'process = "{raw["run"]["process"]}"',
        f"events = {events}",
        "seed = 1",
        "",
        "[model]",
    ]
    for key, value in raw["model"].items():
        lines.append(f"{key} = {json.dumps(value)}")
    if out:
        lines += ["", "[[output]]", 'format = "parquet"', f'path = "{out}"']
    path.write_text("\n".join(lines) + "\n")


def run_bench(args: argparse.Namespace) -> int:
    """Run every measurement and print a table (and JSON with ``--json``)."""
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "numba_threads": _numba_threads()}
    }
    batch = cards.RunSection.__dataclass_fields__["batch_size"].default
    print(
        f"axgen bench: {os.cpu_count()} CPUs, numba threads {results['machine']['numba_threads']}, "
        f"batch {batch}",
        flush=True,
    )

    k_prepared, k_map = _prepare(K_PI_X)
    b_prepared, b_map = _prepare(B_K_X)
    deviation = check_numpy_yardstick(k_prepared, k_map)
    if deviation > 1e-9:
        raise RuntimeError(f"numpy yardstick differs from the kernel by {deviation:.2e}")
    k_rate, k_fresh = _time_numba(k_prepared, k_map, args.events, batch)
    b_rate, b_fresh = _time_numba(b_prepared, b_map, args.events, batch)
    kstar_prepared, kstar_map = _prepare(B_KSTAR_X)
    kstar_rate, kstar_fresh = _time_numba(kstar_prepared, kstar_map, args.events, batch)
    np_rate = _time_numpy(k_prepared, k_map, min(args.events, 2_000_000), batch)
    results["generation_ev_per_s"] = {
        "K+ -> pi+ X": k_rate,
        "B+ -> K+ X": b_rate,
        "K+ -> pi+ X, fresh buffers per batch": k_fresh,
        "B+ -> K+ X, fresh buffers per batch": b_fresh,
        "B0 -> K*0(K+ pi-) X": kstar_rate,
        "B0 -> K*0(K+ pi-) X, fresh buffers per batch": kstar_fresh,
        "K+ -> pi+ X, numpy yardstick": np_rate,
    }
    results["numba_over_numpy"] = k_rate / np_rate
    results["numpy_yardstick_max_relative_difference"] = deviation
    print(
        f"generation in memory   K+ -> pi+ X {k_rate:.3e} ev/s   B+ -> K+ X {b_rate:.3e} ev/s",
        flush=True,
    )
    print(f"                       B0 -> K*0(K+ pi-) X {kstar_rate:.3e} ev/s", flush=True)
    print(
        f"  with fresh buffers   K+ -> pi+ X {k_fresh:.3e} ev/s   B+ -> K+ X {b_fresh:.3e} ev/s"
        f"   B0 -> K*0 X {kstar_fresh:.3e} ev/s   (allocation per batch, as the driver)",
        flush=True,
    )
    print(
        f"numpy yardstick        K+ -> pi+ X {np_rate:.3e} ev/s   numba/numpy = {k_rate / np_rate:.1f}"
        f"   (agree to {deviation:.1e})",
        flush=True,
    )

    na62_rate = _in_flight(NA62_K_PI_X, args.write_events)
    koto_rate = _in_flight(KOTO_KL_PI0_X, args.write_events)
    results["beam_and_selection_ev_per_s"] = {"NA62 K+ -> pi+ X": na62_rate, "KOTO KL -> pi0 X": koto_rate}
    print(
        f"beam and selection     NA62 K+ -> pi+ X {na62_rate:.3e} ev/s   KOTO KL -> pi0 X {koto_rate:.3e} ev/s"
        "   (whole run, no files)",
        flush=True,
    )

    with tempfile.TemporaryDirectory(prefix="axgen-bench-") as tmp:
        tmp_path = Path(tmp)
        parquet_rate = _end_to_end(K_PI_X, "parquet", args.write_events, tmp_path / "pq")
        hepmc_rate = _end_to_end(
            K_PI_X, "hepmc3", max(args.write_events // 10, 10_000), tmp_path / "hepmc"
        )
        results["end_to_end_ev_per_s"] = {"parquet": parquet_rate, "hepmc3": hepmc_rate}
        print(
            f"end to end             parquet {parquet_rate:.3e} ev/s   HepMC3 {hepmc_rate:.3e} ev/s",
            flush=True,
        )

        small = tmp_path / "small.toml"
        _write_card(small, K_PI_X, 1000, None)
        _child(["run", str(small), "--quiet", "--output-dir", str(tmp_path / "s1")])
        startup, _ = _child(["run", str(small), "--quiet", "--output-dir", str(tmp_path / "s2")])
        results["second_run_wall_s"] = startup
        print(
            f"second run             {startup:.2f} s wall for a 1000-event run (numba cache warm)",
            flush=True,
        )

        if args.memory_events > 0:
            big = tmp_path / "big.toml"
            _write_card(big, K_PI_X, args.memory_events, "big.parquet")
            wall, rss = _child(["run", str(big), "--quiet", "--output-dir", str(tmp_path / "big")])
            results["memory"] = {"events": args.memory_events, "max_rss_mb": rss, "wall_s": wall}
            print(
                f"peak memory            {rss:.0f} MB max RSS for {args.memory_events:.0e} events to "
                f"parquet ({wall:.1f} s)",
                flush=True,
            )

    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _numba_threads() -> int:
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)
