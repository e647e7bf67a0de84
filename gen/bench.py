"""``axgen bench``: the reference benchmark — speed and memory, measured in one run.

Everything is measured in one process run on the same machine, so the ratios mean something
even on a noisy machine (absolute rates move with the machine's other tenants):

For K⁺→π⁺X (NA62 beam and selection), B⁺→K⁺X and B⁰→K*⁰(K⁺π⁻)X (Belle II Υ(4S) production
and selection) and e⁺e⁻→γX (FCC-ee beams and monophoton selection):

- ``kernel``: the process kernel alone (uniforms, VEGAS map, |M|², momenta in the parent
  frame) into reused buffers;
- ``in memory``: a whole run without files — kernel, production (beam, vertices),
  acceptance (regions, observables), the running sums and the event record filled in the
  batch arrays (what the writers get);
- ``sums only``: the same run as the driver runs it when nothing reads the events (no
  output, a scan point): rates and acceptances from the events in cache, no record;
- ``parquet``, ``ROOT``, ``HepMC3``, ``HepMC3 (pyhepmc)``: whole runs writing one file each
  (deleted right after its run).

Run rates are events per second of the event loop (the VEGAS warm-up, ~0.1 s, is not
included; kernels are compiled before timing). In-memory rates are the best of ``REPEATS``.

Yardsticks, in the same run: K⁺→π⁺X at rest in plain numpy, and the whole NA62 run of the
in-memory row (beam, vertices, selection, weights, sums) in plain numpy — each checked event
by event against the kernel first (:mod:`gen.yardstick_numpy`) — and, with the ``bench``
extra, Pythia 8 driven from Python (:mod:`gen.yardstick_pythia`). Then: the thread speed-up
of the NA62 in-memory and sums-only runs, the in-memory cost per event from 10⁵ to
``--scaling-events``, the unweighting efficiency for a narrow X, the wall time of a first run
(empty numba cache) and a second run of the README card, and the peak memory of a long run
to parquet (child processes).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from gen import cards, driver
from gen import yardstick_numpy as numpy_yardstick
from gen import yardstick_pythia as pythia_yardstick
from phase_space._jit import batch_kernel, event_threads, set_event_threads
from phase_space.random import STREAM_PHASE_SPACE, stream_key
from phase_space.sampler import adapt_map
from phase_space.vegas_map import FrozenMap

REPEATS = 5
"""In-memory rates are the best of this many repetitions (other tenants of a shared machine only
slow a run down; a repetition of an NA62 run in memory takes 0.2 s)."""

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
EE_GAMMA_X = {
    "run": {"process": "e+ e- -> gamma X", "events": 1000, "seed": 1},
    "model": {"m_X": 2.1, "C_Zgamma": 1.0e-6},
}
NA62 = {"production": {"setup": "na62"}, "acceptance": {"experiment": "na62"}}
BELLE2 = {"production": {"setup": "belle2"}, "acceptance": {"experiment": "belle2"}}
FCCEE = {"production": {"setup": "ee", "beam_energy_spread": 1.0e-3}, "acceptance": {"experiment": "fccee"}}

CASES: dict[str, dict[str, Any]] = {
    "K+ -> pi+ X (NA62)": {**K_PI_X, **NA62},
    "B+ -> K+ X (Belle II)": {**B_K_X, **BELLE2},
    "B0 -> K*0(K+ pi-) X (Belle II)": {**B_KSTAR_X, **BELLE2},
    "e+ e- -> gamma X (FCC-ee)": {**EE_GAMMA_X, **FCCEE},
}
NA62_CASE = "K+ -> pi+ X (NA62)"
# the start-up run: the README card's process, model point and outputs (cards/k_pi_x.toml is not
# installed with the package, so the bench carries its own copy of what matters)
STARTUP_OUTPUTS = (("parquet", "k_pi_x.parquet"), ("hepmc3", "k_pi_x.hepmc"))


@batch_kernel(events=0)
def _pure_compute(out, start, stop):
    """A loop with no memory traffic and no serial part: the machine's own thread scaling."""
    for i in range(start, stop):
        s = 0.0
        for j in range(40):
            s += math.sin(i * 1e-3 + j)
        out[i] = s


def machine_speed_up(threads: int) -> float:
    """Speed-up of :func:`_pure_compute` on ``threads`` threads over one (best of REPEATS):
    the ceiling any kernel can reach here (virtual cores may share a physical one)."""
    out = np.empty(400_000)
    _pure_compute(out)  # compile, or load from the cache
    times = {}
    for n in (1, threads):
        set_event_threads(n)
        try:
            best = math.inf
            for _ in range(REPEATS):
                start = time.perf_counter()
                _pure_compute(out)
                best = min(best, time.perf_counter() - start)
            times[n] = best
        finally:
            set_event_threads(None)
    return times[1] / times[threads]


def _with(raw: dict[str, Any], **run: Any) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    out["run"].update(run)
    return out


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


def kernel_rate(prepared: driver.Prepared, frozen: FrozenMap, n_events: int, batch: int) -> float:
    """Events/s of the process kernel alone, into buffers reused from batch to batch."""
    key = stream_key(1, STREAM_PHASE_SPACE)
    driver._generate(prepared, frozen, key, 0, 1000)  # compile, or load from the cache
    k = prepared.topology.n_slots
    p = np.empty((4, batch, k))
    pid = np.empty((batch, k), dtype=np.int32)
    fjac = np.empty(batch)
    q2 = np.empty(batch)
    generate = prepared.process.family.generate
    batches = max(n_events // (REPEATS * batch), 1)
    best = 0.0
    for _ in range(REPEATS):
        start = time.perf_counter()
        for b in range(batches):
            generate(key, np.int64(b * batch), frozen.grid, frozen.inc, frozen.ninc, prepared.params,
                     prepared.topology.pids, 0.0, p, pid, fjac, q2)
        best = max(best, batches * batch / (time.perf_counter() - start))  # events actually made
    return best


def run_rate(raw: dict[str, Any], n_events: int, directory: Path | None = None, fmt: str | None = None,
             repeats: int = 1, record: bool = True) -> dict[str, Any]:
    """A whole run (``fmt``: one output file of that format, or None: no files, the event
    record filled unless not ``record``); returns the loop's events/s (best of ``repeats``)
    and the summary of the last run."""
    raw = _with(raw, events=n_events)
    if fmt is not None:
        suffix = {"parquet": "parquet", "root": "root"}.get(fmt, "hepmc")
        raw["output"] = [{"format": fmt, "path": f"bench.{suffix}"}]
    card, prepared = driver.check(raw, "<bench>", directory)
    # compile (or load) every kernel of the run first, the writer's too, in a scratch directory
    with tempfile.TemporaryDirectory(prefix="axgen-bench-warm-") as scratch:
        driver.run(_small(card), Path(scratch) if fmt else None, progress=False, prepared=prepared,
                   record=record or None)
    best = 0.0
    summary: dict[str, Any] = {}
    for _ in range(repeats):
        summary = driver.run(card, directory if fmt else None, progress=False, prepared=prepared,
                             record=record or None).summary
        best = max(best, float(summary["timing"]["events_per_s"]))
    return {"events_per_s": best, "summary": summary}


def _small(card: cards.RunCard) -> cards.RunCard:
    import dataclasses

    return dataclasses.replace(card, run=dataclasses.replace(card.run, events=min(card.run.events, 1000)))


# The child's own peak RSS: VmHWM, the high-water mark of its address space. Not ru_maxrss:
# Linux carries the replaced address space's high-water mark across exec, and a child starts
# in a copy of this process's address space (fork) or in this very one (vfork), so ru_maxrss
# reported this benchmark process's peak instead of the run's (718–925 MB against ~420 MB).
_RSS_PROBE = (
    "import resource, sys\n"
    "from gen.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "try:\n"
    "    peak_kb = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
    "except (OSError, StopIteration):  # no procfs: ru_maxrss (bytes on macOS, KiB elsewhere)\n"
    "    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == 'darwin' else 1)\n"
    "print('max_rss_kb', peak_kb)\n"
    "sys.exit(code)\n"
)


def _child(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run the ``axgen`` command with ARGS in a child process: (wall seconds, the child's own
    peak RSS in MiB — not this process's, nor that of earlier children or of the child's
    compile-ahead helper)."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _RSS_PROBE, *args], check=True, capture_output=True,
                            text=True, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - start
    rss_kb = float(result.stdout.split("max_rss_kb")[-1].split()[0])
    return wall, rss_kb / 1024.0


def _card_text(raw: dict[str, Any], outputs: tuple[tuple[str, str], ...] = ()) -> str:
    """A TOML card for the child processes (scalars, lists and one level of tables) writing
    ``outputs`` (format, path)."""
    lines: list[str] = []
    for section, table in raw.items():
        if section == "output":
            continue
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
        lines.append("")
    for fmt, path in outputs:
        lines += ["[[output]]", f'format = "{fmt}"', f'path = "{path}"', ""]
    return "\n".join(lines) + "\n"




def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3g}"


def measure(args: argparse.Namespace, say: Any = print) -> dict[str, Any]:
    """Every measurement of the benchmark; ``say`` prints progress lines."""
    batch = cards.RunSection.__dataclass_fields__["batch_size"].default
    threads = event_threads()
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "threads": threads,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "axgen": _version("axgen"),
            "numba": _version("numba"),
        },
        "batch_size": batch,
        "units": "events per second of the event loop unless named otherwise",
    }
    say(f"axgen bench: {os.cpu_count()} CPUs, {threads} threads (NUMBA_NUM_THREADS), batch {batch}")

    # the numpy NA62 yardstick computes the kernel's events, or the benchmark stops at once
    na62_check = numpy_yardstick.check_numpy_na62(CASES[NA62_CASE])
    problems = numpy_yardstick.na62_problems(na62_check)
    if problems:
        raise RuntimeError(f"numpy NA62 yardstick differs from the fused kernel: {', '.join(problems)}")

    processes: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="axgen-bench-") as tmp:
        tmp_path = Path(tmp)
        for j, (label, raw) in enumerate(CASES.items()):
            prepared, frozen = _prepare(raw)
            row: dict[str, Any] = {"kernel": kernel_rate(prepared, frozen, args.events, batch)}
            in_memory = run_rate(raw, args.events, repeats=REPEATS)
            row["in_memory"] = in_memory["events_per_s"]
            row["sums_only"] = run_rate(raw, args.events, repeats=REPEATS, record=False)["events_per_s"]
            hepmc_events = max(args.write_events // 4, 10_000)
            for key, fmt, n_events in (("parquet", "parquet", args.write_events),
                                       ("root", "root", args.write_events),
                                       ("hepmc3", "hepmc3", hepmc_events),
                                       ("hepmc3_pyhepmc", "hepmc3-pyhepmc", max(hepmc_events // 10, 5_000))):
                out = tmp_path / f"{key}{j}"
                row[key] = run_rate(raw, n_events, out, fmt)["events_per_s"]
                # deleted at once: the gigabytes of earlier files still in the page cache would
                # otherwise be written back to disk while the next run is timed
                shutil.rmtree(out)
            processes[label] = row
            say(f"  {label:32s} kernel {_fmt(row['kernel'])}  in memory {_fmt(row['in_memory'])}  "
                f"sums only {_fmt(row['sums_only'])}  "
                f"parquet {_fmt(row['parquet'])}  ROOT {_fmt(row['root'])}  HepMC3 {_fmt(row['hepmc3'])}  "
                f"HepMC3 (pyhepmc) {_fmt(row['hepmc3_pyhepmc'])} ev/s")
        results["processes"] = processes
        na62 = processes[NA62_CASE]

        # yardsticks: K+ -> pi+ X at rest, generation only
        k_prepared, k_map = _prepare(K_PI_X)
        deviation = numpy_yardstick.check_numpy_yardstick(k_prepared, k_map)
        if deviation > 1e-9:
            raise RuntimeError(f"numpy yardstick differs from the kernel by {deviation:.2e}")
        k_kernel = kernel_rate(k_prepared, k_map, args.events, batch)
        set_event_threads(1)  # numpy and Pythia run on one thread: compare like with like too
        try:
            k_kernel_1 = kernel_rate(k_prepared, k_map, args.events, batch)
        finally:
            set_event_threads(None)
        k_numpy = numpy_yardstick.time_numpy(k_prepared, k_map, min(args.events, 2_000_000), batch)
        # the whole NA62 run in numpy: equal work to the NA62 in-memory row (checked at the start)
        na62_numpy = numpy_yardstick.time_numpy_na62(CASES[NA62_CASE], min(args.events, 1_000_000), batch)
        yardsticks: dict[str, Any] = {
            "kernel_K+ -> pi+ X at rest": k_kernel,
            "kernel_K+ -> pi+ X at rest, 1 thread": k_kernel_1,
            "numpy": {"events_per_s": k_numpy, "max_relative_difference": deviation},
            "numpy_na62": {"events_per_s": na62_numpy, "check": na62_check},
        }
        if pythia_yardstick.available():
            pythia = pythia_yardstick.pythia_k_pi_x(args.pythia_events, float(K_PI_X["model"]["m_X"]))
            yardsticks["pythia"] = {k: pythia[k] for k in ("events_per_s", "events", "version", "init_s")}
        else:
            yardsticks["pythia"] = None
        results["yardsticks"] = yardsticks
        pythia_rate = yardsticks["pythia"]["events_per_s"] if yardsticks["pythia"] else None
        results["ratios"] = {
            "kernel / numpy (K+ at rest, all threads / 1)": k_kernel / k_numpy,
            "kernel / numpy (K+ at rest, 1 thread each)": k_kernel_1 / k_numpy,
            "NA62 in memory / numpy (K+ at rest, all threads / 1)": na62["in_memory"] / k_numpy,
            "NA62 in memory / numpy NA62 run (all threads / 1)": na62["in_memory"] / na62_numpy,
            "kernel / Pythia (K+ at rest, all threads / 1)": k_kernel / pythia_rate if pythia_rate else None,
            "kernel / Pythia (K+ at rest, 1 thread each)": k_kernel_1 / pythia_rate if pythia_rate else None,
            "NA62 in memory / Pythia": na62["in_memory"] / pythia_rate if pythia_rate else None,
            "HepMC3 fast / pyhepmc (NA62)": na62["hepmc3"] / na62["hepmc3_pyhepmc"],
        }
        say(f"  yardsticks (K+ -> pi+ X at rest): kernel {_fmt(k_kernel)} ({_fmt(k_kernel_1)} on 1 thread), "
            f"numpy {_fmt(k_numpy)}, Pythia {_fmt(pythia_rate)} ev/s (1 thread each); the NA62 run in numpy "
            f"{_fmt(na62_numpy)} ev/s")

        # thread scaling of the NA62 in-memory run
        if threads > 1:
            set_event_threads(1)
            try:
                one = run_rate(CASES[NA62_CASE], args.events, repeats=REPEATS)["events_per_s"]
                one_sums = run_rate(CASES[NA62_CASE], args.events, repeats=REPEATS, record=False)["events_per_s"]
            finally:
                set_event_threads(None)
            ceiling = machine_speed_up(threads)
            results["ratios"]["NA62 in memory / numpy NA62 run (1 thread each)"] = one / na62_numpy
            results["threads"] = {"1": one, str(threads): na62["in_memory"], "speed_up": na62["in_memory"] / one,
                                  "sums_only_1": one_sums, "speed_up_sums_only": na62["sums_only"] / one_sums,
                                  "machine_speed_up_pure_compute": ceiling}
            say(f"  threads: NA62 in memory 1 thread {_fmt(one)}, {threads} threads {_fmt(na62['in_memory'])} ev/s; "
                f"sums only {_fmt(one_sums)} -> {_fmt(na62['sums_only'])}; "
                f"a pure compute loop scales {ceiling:.2f}x on this machine")

        # cost per event against the number of events
        scaling = {}
        n = 100_000
        while n <= args.scaling_events:
            scaling[str(n)] = run_rate(CASES[NA62_CASE], n)["events_per_s"]
            n *= 10
        results["scaling_in_memory_na62"] = scaling
        say("  scaling: " + ", ".join(f"{int(k):.0e} events {_fmt(v)}" for k, v in scaling.items()))

        # unweighted events for a narrow X
        unweighted = run_rate(_with(CASES[NA62_CASE], mode="unweighted"), 100_000)
        results["unweighting"] = {
            "process": NA62_CASE,
            "efficiency": unweighted["summary"]["unweighting"]["efficiency"],
            "events_per_s": unweighted["events_per_s"],
        }
        say(f"  unweighting efficiency (narrow X): {results['unweighting']['efficiency']:.3f}")

        # start-up: the README card's run with 1000 events, first with an empty numba cache
        if args.startup:
            card = tmp_path / "startup.toml"
            card.write_text(_card_text(_with(K_PI_X, events=1000), STARTUP_OUTPUTS))
            cache = tmp_path / "numba-cache"
            startup: dict[str, Any] = {"card": "K+ -> pi+ X at rest, parquet + HepMC3"}
            for name in ("first_run", "second_run"):
                out = tmp_path / name
                # empty numba and PDG caches for the first run, as right after installing
                wall, _ = _child(["run", str(card), "--quiet", "--output-dir", str(out)],
                                 {"NUMBA_CACHE_DIR": str(cache), "AXGEN_CACHE_DIR": str(tmp_path / "pdg-cache")})
                timing = json.loads((out / driver.SUMMARY_FILE).read_text())["timing"]
                startup[name] = wall
                startup[f"{name}_first_batch_in_run_s"] = timing["first_batch_s"]
                # from the process's start: what the run did after its first events is not
                # counted (finishing the batch, the writers' last flush and rename)
                startup[f"{name}_first_events_s"] = wall - (timing["total_s"] - timing["first_batch_s"])
            results["startup_s"] = startup
            say(f"  start-up ({startup['card']}, 1000 events): first run {startup['first_run']:.2f} s "
                f"(empty numba cache; first events {startup['first_run_first_events_s']:.1f} s after the process "
                f"started), second run {startup['second_run']:.2f} s")

        if args.memory_events > 0:
            big = tmp_path / "big.toml"
            big.write_text(_card_text(_with(CASES[NA62_CASE], events=args.memory_events), (("parquet", "big.parquet"),)))
            wall, rss = _child(["run", str(big), "--quiet", "--output-dir", str(tmp_path / "big")])
            results["memory"] = {"events": args.memory_events, "max_rss_mb": rss, "wall_s": wall,
                                 "events_per_s_wall": args.memory_events / wall}
            say(f"  memory: {args.memory_events:.0e} NA62 events to parquet: peak RSS {rss:.0f} MiB, {wall:.1f} s")
    return results


def table(results: dict[str, Any]) -> str:
    """The results as the plain-text table the README quotes."""
    m = results["machine"]
    lines = [
        (f"axgen {m['axgen']} bench — {m['cpus']} CPUs, {m['threads']} threads, "
        f"batch {results['batch_size']}, numba {m['numba']}"),
        "",
        (f"{'events/s':32s} {'kernel':>9s} {'in memory':>10s} {'sums only':>10s} {'parquet':>9s} {'ROOT':>9s} "
         f"{'HepMC3':>9s} {'pyhepmc':>9s}"),
    ]
    for label, row in results["processes"].items():
        lines.append(
            f"{label:32s} {_fmt(row['kernel']):>9s} {_fmt(row['in_memory']):>10s} {_fmt(row['sums_only']):>10s} "
            f"{_fmt(row['parquet']):>9s} "
            f"{_fmt(row['root']):>9s} {_fmt(row['hepmc3']):>9s} {_fmt(row['hepmc3_pyhepmc']):>9s}"
        )
    y = results["yardsticks"]
    pythia = y["pythia"]
    lines += [
        "",
        f"yardsticks, K+ -> pi+ X at rest (ev/s):  kernel {_fmt(y['kernel_K+ -> pi+ X at rest'])} "
        f"({_fmt(y['kernel_K+ -> pi+ X at rest, 1 thread'])} on 1 thread)   "
        f"numpy {_fmt(y['numpy']['events_per_s'])}   "
        + (f"Pythia {pythia['version']} from Python {_fmt(pythia['events_per_s'])}" if pythia
           else "Pythia: not installed (pip install '.[bench]')"),
        (f"yardstick, the NA62 run (beam, vertices, selection, sums) in numpy: "
         f"{_fmt(y['numpy_na62']['events_per_s'])} ev/s (1 thread)"),
        "ratios:",
        *(f"  {k:53s} {v:8.1f}" for k, v in results["ratios"].items() if v is not None),
    ]
    if "threads" in results:
        t = results["threads"]
        lines.append(f"threads (NA62 in memory): speed-up {t['speed_up']:.2f} ({_fmt(t['1'])} -> "
                     f"{_fmt(t[str(m['threads'])])} ev/s); sums only {t['speed_up_sums_only']:.2f}; "
                     f"the machine's ceiling (pure compute loop): {t['machine_speed_up_pure_compute']:.2f}")
    lines.append("cost against N (NA62 in memory, ev/s): "
                 + ", ".join(f"{int(k):.0e}: {_fmt(v)}" for k, v in results["scaling_in_memory_na62"].items()))
    lines.append(f"unweighting efficiency (NA62, narrow X): {results['unweighting']['efficiency']:.3f}")
    if "startup_s" in results:
        s = results["startup_s"]
        lines.append(f"start-up ({s['card']}, 1000 events): first run {s['first_run']:.1f} s wall (empty numba "
                     f"cache; first events {s['first_run_first_events_s']:.1f} s after the start), "
                     f"later runs {s['second_run']:.2f} s")
    if "memory" in results:
        mem = results["memory"]
        lines.append(f"peak memory: {mem['events']:.0e} NA62 events to parquet, peak RSS {mem['max_rss_mb']:.0f} MiB "
                     f"({_fmt(mem['events_per_s_wall'])} ev/s wall)")
    return "\n".join(lines)


def run_bench(args: argparse.Namespace) -> int:
    """Run every measurement, print progress and the table, and write JSON with ``--json``."""
    results = measure(args, say=lambda line: print(line, flush=True))
    print()
    print(table(results), flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0
