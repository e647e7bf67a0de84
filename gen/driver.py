"""One run, from a validated card to events and a summary (design.md §2).

card → pass-2 validation → VEGAS warm-up → [pilot for w_max] → batches:
kernel (map + |M|² + kinematics) → production (vertices) → acceptance → writers, with
running sums for the rate and the acceptances. Batches have a fixed size and a fixed place in
the counter-based random stream, so the same card and seed give the same events on any
number of threads. Writers run in one background thread while the next batch is generated
(numba kernels release the GIL), and at most two batches wait for them, so memory is set by
the batch size, not by the number of events.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from gen import acceptance as acceptance_models
from gen import pdg, pipeline, production
from gen.cards import CardError, RunCard, parse_lenient, resolved
from gen.events import EventBatch, to_awkward
from gen.output import WRITERS, EventWriter, RunInfo, open_writer
from gen.output.root import CODECS as ROOT_CODECS
from gen.processes import REGISTRY, Prepared, suggest
from gen.running_sums import RunningSums, sum_and_sum_of_squares
from phase_space.random import (
    STREAM_PHASE_SPACE,
    STREAM_PILOT,
    STREAM_UNWEIGHT,
    stream_key,
    uniforms,
)
from phase_space.sampler import WarmupResult, adapt_map
from phase_space.vegas_map import FrozenMap

if TYPE_CHECKING:
    import awkward as ak

SUMMARY_FILE = "summary.json"

log = logging.getLogger("axgen")


# --- pass 2 -----------------------------------------------------------------------------


def check(
    raw: dict[str, Any], source: str, output_dir: Path | None = None
) -> tuple[RunCard, Prepared]:
    """Both validation passes on a card dict; CardError lists the problems of both at once."""
    card, problems = parse_lenient(raw, source)
    try:
        prepared = validate(card, output_dir)
    except CardError as err:
        # a key already reported by pass 1 was replaced by its default: do not report it twice
        reported = {_problem_key(p) for p in problems}

        def new(problem: str) -> bool:
            key = _problem_key(problem)
            return not any(key == r or key.startswith(r + ".") for r in reported)

        raise CardError(problems + [p for p in err.problems if new(p)]) from None
    if problems:
        raise CardError(problems)
    return card, prepared


def _problem_key(problem: str) -> str:
    parts = problem.split(": ", 2)
    return parts[1] if len(parts) > 2 else problem


def validate(card: RunCard, output_dir: Path | None = None) -> Prepared:
    """Pass 2 (physics and outputs): the prepared process, or CardError with every problem."""
    problems: list[str] = []
    prepared = None
    process = REGISTRY.get(card.run.process)
    if process is None:
        problems.append(
            f"run.process: unknown process {card.run.process!r}; {suggest(card.run.process)}"
        )
    else:
        try:
            prepared = process.prepare(card)
        except CardError as err:
            problems.extend(err.problems)
    setup_problems = production.problems(
        card.production.setup, card.production.options, process.parent if process is not None else None
    )
    problems.extend(setup_problems)
    if not setup_problems and process is not None and card.production.setup not in process.setups:
        problems.append(
            f"production.setup: expected {' or '.join(repr(s) for s in process.setups)} for "
            f"{process.name!r}, got {card.production.setup!r}"
        )
    acceptance_problems = acceptance_models.problems(
        card.acceptance.experiment,
        card.acceptance.cuts,
        process.signature if process is not None else "b_meson",
        card.run.process,
        card.production.setup,
    )
    problems.extend(acceptance_problems)
    if not setup_problems and not acceptance_problems:
        # cross-checks between the beam and the detector (e.g. no decays behind the CsI)
        model = acceptance_models.get(card.acceptance.experiment, card.acceptance.cuts)
        check = getattr(model, "production_problems", None)
        if check is not None:
            problems.extend(check(production.options_of(card.production.setup, card.production.options)))
    if process is not None:
        scattering = prepared is not None and prepared.rate_unit == "pb"
        for key in ("n_parents", "n_decays"):
            if scattering and getattr(card.run, key) is not None:
                problems.append(
                    f"run.{key}: {process.name!r} is a cross section; give run.luminosity (pb⁻¹)"
                )
        if card.run.n_parents is not None and card.run.n_decays is not None:
            problems.append("run.n_decays: expected either n_parents or n_decays, got both")
        if not scattering and prepared is not None and card.run.luminosity is not None:
            problems.append(f"run.luminosity: {process.name!r} is a decay; give run.n_parents")
    seen: dict[str, int] = {}
    for i, out in enumerate(card.output):
        if out.format not in WRITERS:
            problems.append(
                f"output[{i}].format: expected one of {', '.join(sorted(WRITERS))}, got {out.format!r}"
            )
        elif out.format == "hepmc3" and Path(out.path).suffix in (".zst", ".zstd"):
            problems.append(
                f"output[{i}].path: expected .hepmc, .gz, .bz2 or .xz for format 'hepmc3', got {out.path!r} "
                "(format 'hepmc3-pyhepmc' writes .zst)"
            )
        elif out.format == "root":
            if Path(out.path).suffix != ".root":
                problems.append(f"output[{i}].path: expected a .root file for format 'root', got {out.path!r}")
            if out.compression not in ROOT_CODECS:
                problems.append(
                    f"output[{i}].compression: expected one of {', '.join(ROOT_CODECS)} for format 'root', "
                    f"got {out.compression!r}"
                )
        path = Path(out.path)
        if path.is_absolute() or ".." in path.parts:
            problems.append(
                f"output[{i}].path: expected a path inside the output directory, got {out.path!r}"
            )
        if path.name == SUMMARY_FILE:
            problems.append(f"output[{i}].path: {SUMMARY_FILE!r} is reserved for the run summary")
        if out.path in seen:
            problems.append(
                f"output[{i}].path: expected a unique path, got {out.path!r} (also output[{seen[out.path]}])"
            )
        seen[out.path] = i
    if output_dir is not None:
        problem = why_unwritable(output_dir)
        if problem:
            problems.append(
                f"output directory: expected a writable directory, got {str(output_dir)!r} ({problem})"
            )
    if problems:
        raise CardError([f"{card.source}: {p}" for p in problems])
    assert prepared is not None
    if prepared.process.is_sm and "model" in card.raw:
        log.warning(
            "%s: model: ignored by the Standard-Model process %r",
            card.source,
            prepared.process.name,
        )
    return prepared


def why_unwritable(directory: Path) -> str | None:
    """Why files cannot be created in ``directory`` (which may not exist yet), or None."""
    path = directory.resolve()
    while not path.exists():
        path = path.parent
    if not path.is_dir():
        return f"{path} is not a directory"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"{path} is not writable"
    return None


# --- the run ----------------------------------------------------------------------------


@dataclass
class RunResult:
    """What a run returns: the summary and, when asked for, all events as awkward."""

    summary: dict[str, Any]
    events: ak.Array | None


class _BatchPool:
    """Arrays of the fused kernel reused from batch to batch: a fresh 40 MB batch costs its
    page faults (~1/5 of an NA62 batch's time), a reused one is already mapped. A batch goes
    back to the pool when nothing refers to its arrays any more: right after the running sums
    when the events were copied or are not kept, after the writers when they write them, and
    never when the run returns its events (they are views of the arrays). A run without the
    event record pools batches of the sums alone (``record`` False)."""

    def __init__(self, fused: pipeline.FusedKernel, size: int, record: bool = True) -> None:
        self.fused = fused
        self.size = size
        self.record = record  # False: batches for the sums only
        self.free: queue.SimpleQueue[pipeline.Batch] = queue.SimpleQueue()

    def get(self, n: int) -> pipeline.Batch:
        if n == self.size:
            try:
                return self.free.get_nowait()
            except queue.Empty:
                pass
        return self.fused.new_batch(n, self.record)

    def put(self, batch: pipeline.Batch | None) -> None:
        if batch is not None and batch.n_events == self.size:
            self.free.put(batch)


class _WriterThread:
    """Feeds batches to the writers in one background thread (bounded queue)."""

    def __init__(self, writers: list[EventWriter], pool: _BatchPool | None = None) -> None:
        self.writers = writers
        self.pool = pool
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.busy_s = 0.0
        self.thread = threading.Thread(target=self._work, name="axgen-writer", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            start = time.perf_counter()
            batch, rate, arrays = item
            try:
                for writer in self.writers:
                    writer.write_batch(batch, rate)
            except BaseException as err:  # noqa: BLE001 - re-raised in the main thread
                self.error = err
            self.busy_s += time.perf_counter() - start
            del batch, item
            if self.pool is not None:
                self.pool.put(arrays)

    def submit(self, batch: EventBatch, rate: tuple[float, float, int, int],
               arrays: pipeline.Batch | None = None) -> None:
        """Queue ``batch`` for the writers; ``arrays`` (the kernel's, which it views) go back to
        the pool once written."""
        if self.error is not None:
            raise self.error
        self.queue.put((batch, rate, arrays))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _generate(
    prepared: Prepared, frozen: FrozenMap, key: np.uint64, first: int, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run the process kernel for events first .. first+n−1: (p, pid, fjac, q2)."""
    k = prepared.topology.n_slots
    p = np.empty((4, n, k))
    pid = np.empty((n, k), dtype=np.int32)
    fjac = np.empty(n)
    q2 = np.empty(n)
    prepared.process.family.generate(
        key,
        np.int64(first),
        frozen.grid,
        frozen.inc,
        frozen.ninc,
        prepared.params,
        prepared.topology.pids,
        float(prepared.conjugate_fraction),
        p,
        pid,
        fjac,
        q2,
    )
    _check_weights(fjac, first)
    return p, pid, fjac, q2


def _event_batch(fused: pipeline.FusedKernel, fused_batch: pipeline.Batch, first: int, topology: Any,
                 unweighted: bool, keep: str) -> EventBatch:
    """The events of a recorded kernel batch (views of its arrays) as an EventBatch: those the
    unweighting kept and, with ``keep = "selected"``, those in some selected region (copies)."""
    observables, selected = fused.observables_and_selected(fused_batch)
    n = fused_batch.n_events
    batch = EventBatch(
        first_event=first,
        p=fused_batch.p,
        vertices=fused_batch.vertices,
        vertex_of_slot=fused.vertex_of_slot,
        pid=fused_batch.pid,
        status=topology.status,
        mothers=topology.mothers,
        masses=topology.masses,
        weight=fused_batch.weight,
        event_number=np.arange(first, first + n, dtype=np.int64),
        observables=observables,
        selected=selected,
        mothers2=topology.mothers2,
    )
    if unweighted:
        batch = batch.take(fused_batch.keep)
    if keep == "selected":
        batch = batch.take(np.logical_or.reduce(list(batch.selected.values())))
    return batch


def _check_weights(weight: np.ndarray, first: int) -> None:
    """FloatingPointError naming the first event of the batch with a non-finite weight (a beam
    stage also makes the weight NaN when it places a decay at a non-finite point)."""
    if not np.all(np.isfinite(weight)):
        bad = int(np.flatnonzero(~np.isfinite(weight))[0])
        raise FloatingPointError(
            f"non-finite weight (or decay vertex) at event {first + bad} (regenerate it alone with the same seed)"
        )


def _batches(total: int, size: int, start: int = 0) -> Iterator[tuple[int, int]]:
    for first in range(start, start + total, size):
        yield first, min(size, start + total - first)


def _accept(seed: int, first: int, n: int, fjac: np.ndarray, w_max: float) -> np.ndarray:
    """The unweighting decisions of :func:`gen.pipeline.weigh` (u·w_max < f, u the counter 0 of
    the unweighting stream) for the plan, which runs the process kernel alone: the same rule on
    the same numbers, so the generation keeps exactly the planned events (tested:
    ``test_unweighted_mode_keeps_exactly_the_asked_events``)."""
    u = uniforms(stream_key(seed, STREAM_UNWEIGHT), first, n, 1)[:, 0]
    return u * w_max < fjac


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for dist in (
        "axgen",
        "numpy",
        "numba",
        "vegas",
        "pyhepmc",
        "awkward",
        "pyarrow",
        "uproot",
        "vector",
        "particle",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


def _json_card(card: RunCard) -> dict[str, Any]:
    """The resolved card (defaults included), so a file always says how it was made."""
    return json.loads(json.dumps(resolved(card), default=str))


def run(
    card: RunCard,
    output_dir: Path | None = None,
    *,
    progress: bool = True,
    collect: bool = False,
    prepared: Prepared | None = None,
    record: bool | None = None,
) -> RunResult:
    """Generate the events of ``card``.

    Parameters
    ----------
    card : a structurally valid card (``gen.cards.load``); pass 2 runs here.
    output_dir : where the ``[[output]]`` files and summary.json go; None writes nothing.
    progress : show a progress bar on stderr for runs longer than ~2 s.
    collect : also return all events as one awkward Array (memory grows with events).
    record : fill the batches' event record (momenta, vertices, ids, weights, observables,
        flags). None: when something reads it (writers, ``collect``); a run without either
        computes the summary's rates and acceptances from the events in cache, ~1.5× faster
        for NA62 (False with writers or ``collect`` is an error). True: the benchmark's
        "in memory" row, the cost of the record the writers get.
    """
    t_start = time.perf_counter()
    readers = (output_dir is not None and bool(card.output)) or collect
    if record is None:
        record = readers
    elif readers and not record:
        raise ValueError("record=False with outputs or collect: they read the event record")
    if prepared is None:
        prepared = validate(card, output_dir)
    process = prepared.process
    seed = card.run.seed
    producer = production.Producer(card.production.setup, card.production.options, prepared.topology)
    topology = producer.topology  # the record written: the process's, grown by the setup
    acceptance_context = dict(prepared.info)
    template = topology.pids[0]
    acceptance_context["slots"] = {
        int(abs(pid)): [int(s) for s in np.flatnonzero(np.abs(template) == abs(pid))] for pid in set(template.tolist())
    }
    acceptance_context["topology"] = topology
    acceptance = acceptance_models.get(card.acceptance.experiment, card.acceptance.cuts)
    acceptance = acceptance.for_record(acceptance_context) if hasattr(acceptance, "for_record") else acceptance

    t0 = time.perf_counter()
    frozen, warmup = adapt_map(
        process.family.integrand,
        prepared.params,
        prepared.n_dim,
        iterations=card.sampler.warmup_iterations,
        evaluations=card.sampler.warmup_evaluations,
        seed=seed,
        alpha=card.sampler.alpha,
    )
    warmup_s = time.perf_counter() - t0
    if not warmup.mean > 0.0:
        raise RuntimeError(
            f"{card.source}: the integrand of {process.name!r} vanishes (warm-up gave {warmup.mean})"
        )

    key = stream_key(seed, STREAM_PHASE_SPACE)
    batch_size = card.run.batch_size
    unweighted = card.run.mode == "unweighted"
    t0 = time.perf_counter()
    unweighting: dict[str, Any] | None = None
    if unweighted:
        w_max, n_tried, sum_f, sum_f2, n_over = _plan_unweighting(card, prepared, frozen, key)
        rate_value = sum_f / n_tried
        rate_error = math.sqrt(max(sum_f2 / n_tried - rate_value**2, 0.0) / max(n_tried - 1, 1))
        unweighting = {
            "efficiency": card.run.events / n_tried,
            "overweight_fraction": n_over / n_tried,
            "w_max": w_max,
            "pilot_events": card.sampler.pilot_events,
            "events_tried": n_tried,
        }
        total = n_tried
    else:
        total = card.run.events
        w_max = 0.0
        rate_value = rate_error = float("nan")
    plan_s = time.perf_counter() - t0

    writers: list[EventWriter] = []
    run_info = RunInfo(
        process=process.name,
        process_code=process.code,
        references=process.references,
        seed=seed,
        mode=card.run.mode,
        card_json=json.dumps(_json_card(card)),
        versions=versions(),
        pdg_edition=pdg.PDG_EDITION,
        # HepMC3's cross section is the normalisation of the weights: for a beam in flight,
        # the rate per kaon entering the decay region (BR × ⟨P⟩)
        rate_unit=prepared.rate_unit if not producer.moves_the_parent else f"{prepared.rate_unit} x P(decay in region)",
        labels=topology.labels,
    )
    finished: list[Path] = []
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        writers = [open_writer(out, output_dir / out.path, run_info) for out in card.output]

    fused = pipeline.fused_kernel(prepared, frozen, producer, acceptance, acceptance_context, seed, key)
    # nobody reads the events (no writer, not collected: a rate and acceptance run, a scan
    # point): the kernel keeps them in cache for the sums and never stores the record
    pool = _BatchPool(fused, batch_size, record)
    writer_thread = _WriterThread(writers, pool if not collect else None) if writers else None
    # weights: f × (beam factor) / (events tried); unweighted: kept with probability f/w_max
    fused.weighting(1.0 / total, w_max, stream_key(seed, STREAM_UNWEIGHT))
    sums = RunningSums(acceptance.regions, acceptance.efficiency)
    running_f = 0.0
    running_f2 = 0.0
    collected: list[ak.Array] = []
    bar = tqdm(
        total=card.run.events,
        unit="ev",
        unit_scale=True,
        delay=2.0,
        disable=not progress,
        file=sys.stderr,
        desc=process.name,
        leave=False,
    )
    t_loop = time.perf_counter()
    first_batch_s: float | None = None
    generation_s = 0.0
    weight_scale = producer.mean_decay_probability or 1.0  # Σw per generated rate
    try:
        for first, n in _batches(total, batch_size):
            t_batch = time.perf_counter()
            fused_batch = pool.get(n)
            fused(first, fused_batch)
            totals = fused_batch.totals()
            if not (math.isfinite(totals[pipeline.SUM_F]) and math.isfinite(totals[pipeline.SUM_W])):
                recorded = fused_batch
                if not record:  # the weights to name the event by: the same events, recorded
                    recorded = fused.new_batch(n)  # (not pooled: the pool holds sums-only batches)
                    fused(first, recorded)
                _check_weights(recorded.weight, first)
            if not unweighted:
                running_f += float(totals[pipeline.SUM_F])  # plain floats: the summary is JSON
                running_f2 += float(totals[pipeline.SUM_F2])
            sums.add_totals(totals[pipeline.SUM_KEPT:])
            # the record as the writers take it: the kept (and selected) events of the batch
            batch = _event_batch(fused, fused_batch, first, topology, unweighted, card.run.keep) if record else None
            generation_s += time.perf_counter() - t_batch
            if first_batch_s is None:  # the first events exist (kernels compiled or loaded)
                first_batch_s = time.perf_counter() - t_start
            bar.update(int(totals[pipeline.SUM_KEPT]) if unweighted else n)  # kept (before keep = "selected")
            if batch is None:  # nobody reads the events: the sums were all
                pool.put(fused_batch)
                continue
            if unweighted:
                running = (rate_value * weight_scale, rate_error * weight_scale, card.run.events, total)
            else:
                done = first + n
                mean = running_f / done
                err = math.sqrt(max(running_f2 / done - mean**2, 0.0) / max(done - 1, 1))
                running = (mean * weight_scale, err * weight_scale, done, done)
            # the kernel's arrays back to the pool unless the batch (or a collected view) uses them
            copied = batch.p is not fused_batch.p
            if collect:
                collected.append(to_awkward(batch))
            if writer_thread is not None:
                writer_thread.submit(batch, running, None if copied or collect else fused_batch)
            if copied or (writer_thread is None and not collect):
                pool.put(fused_batch)
        if writer_thread is not None:
            writer_thread.close()
        loop_s = time.perf_counter() - t_loop
        bar.close()

        if not unweighted:
            rate_value = running_f / total
            rate_error = math.sqrt(max(running_f2 / total - rate_value**2, 0.0) / max(total - 1, 1))
        decay_probability_mean = producer.mean_decay_probability
        summary = _summary(
            card,
            acceptance.cuts,
            prepared,
            warmup,
            frozen,
            rate_value,
            rate_error,
            sums,
            unweighting,
            production_options=producer.options,
            signal_regions=acceptance.signal_regions,
            decay_probability=decay_probability_mean,
            producer=producer,
            timing={
                "warmup_s": warmup_s,
                "unweighting_plan_s": plan_s,
                "generation_s": generation_s,
                "write_s": writer_thread.busy_s if writer_thread is not None else 0.0,
                "loop_s": loop_s,
                "first_batch_s": first_batch_s,
                "total_s": time.perf_counter() - t_start,
                "events_per_s": card.run.events / loop_s if loop_s > 0 else float("inf"),
            },
            versions=run_info.versions,
        )
        for writer in writers:
            writer.finish(summary)
            finished.append(writer.path)  # type: ignore[attr-defined]
        if output_dir is not None:
            _write_json_atomically(output_dir / SUMMARY_FILE, summary)
    except BaseException:
        bar.close()
        if writer_thread is not None and writer_thread.thread.is_alive():
            writer_thread.queue.put(None)
            writer_thread.thread.join()
        for writer in writers:
            if getattr(writer, "path", None) not in finished:
                writer.abort()
        raise
    events = None
    if collect and collected:
        import awkward as ak

        events = ak.concatenate(collected)
    return RunResult(summary=summary, events=events)


def _plan_unweighting(
    card: RunCard, prepared: Prepared, frozen: FrozenMap, key: np.uint64
) -> tuple[float, int, float, float, int]:
    """w_max from a frozen-map pilot, then the number of events to try for ``events`` kept.

    Returns (w_max, n_tried, Σ f·jac, Σ (f·jac)², n_overweight) over the tried events. The
    acceptance test uses its own counter-based stream, so the generation pass reproduces
    exactly these decisions.
    """
    pilot_key = stream_key(card.run.seed, STREAM_PILOT)
    w_peak = 0.0
    for first, n in _batches(card.sampler.pilot_events, card.run.batch_size):
        fjac = _generate(prepared, frozen, pilot_key, first, n)[2]
        w_peak = max(w_peak, float(fjac.max()))
    if not w_peak > 0.0:
        raise RuntimeError("the pilot found no event with a positive weight")
    w_max = w_peak * card.sampler.w_max_safety
    target = card.run.events
    kept = 0
    sum_f = sum_f2 = 0.0
    n_over = 0
    first = 0
    while True:
        n = card.run.batch_size
        fjac = _generate(prepared, frozen, key, first, n)[2]
        accepted = _accept(card.run.seed, first, n, fjac, w_max)
        cumulative = kept + np.cumsum(accepted)
        if cumulative[-1] >= target:
            last = int(np.searchsorted(cumulative, target))  # index of the target-th kept event
            fjac = fjac[: last + 1]
            f, f2 = sum_and_sum_of_squares(fjac)
            sum_f += f
            sum_f2 += f2
            n_over += int((fjac > w_max).sum())
            return w_max, first + last + 1, sum_f, sum_f2, n_over
        kept = int(cumulative[-1])
        f, f2 = sum_and_sum_of_squares(fjac)
        sum_f += f
        sum_f2 += f2
        n_over += int((fjac > w_max).sum())
        first += n


def _summary(
    card: RunCard,
    acceptance_cuts: Any,
    prepared: Prepared,
    warmup: WarmupResult,
    frozen: FrozenMap,
    rate_value: float,
    rate_error: float,
    sums: RunningSums,
    unweighting: dict[str, Any] | None,
    *,
    timing: dict[str, float],
    versions: dict[str, str],
    production_options: Any = None,
    decay_probability: float | None = None,
    producer: production.Producer | None = None,
    signal_regions: tuple[str, ...] = (),
) -> dict[str, Any]:
    acceptance = sums.acceptance()
    summary: dict[str, Any] = {
        "process": prepared.process.name,
        "events": card.run.events,
        "seed": card.run.seed,
        "mode": card.run.mode,
        "rate": {"value": rate_value, "error": rate_error, "unit": prepared.rate_unit},
        "analytic_rate": {"value": prepared.analytic_rate, "unit": prepared.rate_unit},
        "rate_pull": (rate_value - prepared.analytic_rate) / rate_error if rate_error > 0 else 0.0,
        "sum_of_weights": sums.w,
        "warmup": {
            "mean": warmup.mean,
            "error": warmup.sdev,
            "chi2_dof": warmup.chi2_dof,
            "Q": warmup.q_value,
            "iterations": warmup.iterations,
            "evaluations": warmup.evaluations,
            "increments": frozen.ninc.tolist(),
        },
        "acceptance": {
            k: {"value": v["value"], "error": v["error"]} for k, v in acceptance.items()
        },
        "selected_events": {k: v["events"] for k, v in acceptance.items()},
        "model": dict(prepared.info),
        "record": list(producer.topology.labels if producer is not None else prepared.topology.labels),
        "references": list(prepared.process.references),
        "timing": timing,
        "versions": {**versions, "pdg_edition": pdg.PDG_EDITION},
        "card": _json_card(card),
    }
    if unweighting is not None:
        summary["unweighting"] = unweighting
    scale = card.run.n_parents if card.run.n_parents is not None else card.run.luminosity
    if scale is None and card.run.n_decays is None and producer is not None:
        scale = producer.n_parents  # e.g. Belle II: 2 N_BB̄ f₊₋ from [production]
    if card.run.n_decays is not None:
        # N_decays = N_entering × ⟨P⟩ (⟨P⟩ = 1 without a decay region)
        scale = card.run.n_decays / (decay_probability if decay_probability is not None else 1.0)
    if scale is not None:
        # N_parents × Σw·ε (BR × acceptance), or L [pb⁻¹] × Σw·ε (σ [pb] × acceptance)
        summary["expected_events"] = {
            region: scale * sums.selected_rate(region) for region in sums.selected_w
        }
    summary["production"] = {
        "setup": card.production.setup,
        "options": dataclasses.asdict(production_options) if dataclasses.is_dataclass(production_options) else {},
    }
    if producer is not None:
        summary["production"].update(producer.summary())
        if producer.n_parents is not None:
            summary["production"]["n_parents"] = producer.n_parents
    if decay_probability is not None:
        # weights are per kaon entering the decay region: Σw = BR × ⟨P(decay in region)⟩
        summary["production"]["decay_probability"] = decay_probability
    summary["signal_regions"] = list(signal_regions) or list(acceptance)
    summary["acceptance_model"] = {
        "experiment": card.acceptance.experiment,
        "cuts": dataclasses.asdict(acceptance_cuts)
        if dataclasses.is_dataclass(acceptance_cuts)
        else {},
    }
    return summary


def _write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.axgen-tmp-{os.getpid()}")
    with tmp.open("w") as f:
        json.dump(data, f, indent=2, default=str)
        f.write("\n")
    os.replace(tmp, path)
