"""HepMC3 ASCII written as text formatted in numba (design.md §8): the ``hepmc3`` format.

The file is the one HepMC3's WriterAscii writes: the ``hepmc3-pyhepmc`` format
(:class:`gen.output.hepmc3.HepMC3Writer`, one C++ ``write_event`` per event) is the
reference, and both give the same bytes. This writer is ~12× faster (K⁺→π⁺X end to end,
cards/k_pi_x.toml, 10⁶ events: ~4.7 × 10⁵ instead of ~4 × 10⁴ events/s on two cores).

- The version line, the run-info header (``W`` weight names, ``T`` tool, ``A`` run
  attributes, with HepMC3's escaping) and the end line are HepMC3's own: pyhepmc writes an
  empty event with the run info to memory, and the lines before its ``E`` line are kept.
- The topology (vertex ids, incoming particles, which slot gives each vertex its position)
  comes from the reference writer's ``_template_event``, so both formats number and order
  particles and vertices alike. As in HepMC3, a vertex has a ``V`` line (just before its
  first outgoing particle) only when it has several incoming particles or a nonzero
  position; otherwise its particles name their mother particle.
- Per event: ``E number n_vertices n_particles``, ``U GEV MM``, ``W weight`` (HepMC3 writes
  weights with min(3·precision, 22) digits), ``A 0 GenCrossSection value error n_accepted
  n_attempted`` (8 digits, as C++ ``std::scientific``; formatted once per batch),
  ``V -j 0 [in,…] @ x y z t`` (mm, ct) and ``P id parent pid px py pz e m status`` (GeV;
  ``m`` the generated mass). Only the event number, weight, pids and floats vary between
  events: every other piece of text is prepared per batch (``_Topology``).
- Events are formatted by :func:`gen.output._hepmc3_kernels.format_events` in
  blocks of ``EVENTS_PER_BLOCK``, shared out over the threads (``batch_kernel``), each block into its own stretch of a scratch
  buffer sized by an upper bound of bytes per event; the blocks go to the file as they lie
  (``writelines`` of memoryviews: no compaction copy). A batch is cut into chunks of at most
  ``CHUNK_BYTES`` of scratch, so memory stays bounded whatever the batch size. The kernels
  release the GIL: generation goes on in the main thread meanwhile.
- Floats are C's ``%.*e`` byte for byte wherever the kernels' arithmetic is exact
  (1e-39 ≤ |x| < 1e17 at precision 16: everything an event holds); elsewhere the last digit
  may differ at a decimal tie, and the value still reads back to the same double at
  precision ≥ 16 (see the kernels' module docstring).

Compression by suffix, as pyhepmc: ``.gz``, ``.bz2``, ``.xz``. Each block is compressed as its
own stream (a gzip file is a series of members, RFC 1952; bzip2 and xz streams concatenate
likewise; Python's gzip/bz2/lzma, zcat and zlib's gzread read them), in a thread pool since
zlib, bz2 and lzma release the GIL. ``.gz`` uses zlib level 1: files 3.5× smaller than the
text at ~1.5 × 10⁵ events/s end to end, a third of the plain file's rate (level 6 would give
4.1× at a quarter of that speed).
``.bz2`` and ``.xz`` are much slower still. ``.zst`` is refused (use ``hepmc3-pyhepmc``).

Compile ahead: the formatting kernels take ~6 s to compile, longer than the generation
kernels of a run. When their numba cache is empty, the writer starts a child process that
compiles them (writing a dummy batch to a scratch file, :func:`warm_cache`) while the run
compiles its generation kernels, and the first batch waits for the child and loads the
kernels from the cache: on two cores a first run takes the longer of the two compilations
instead of their sum.

Differences from the reference writer: a run with no events gives a file with the header and
end lines (pyhepmc leaves an empty file), which HepMC3 readers read as zero events.
"""

from __future__ import annotations

import bz2
import io
import lzma
import math
import os
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyhepmc

from gen.cards import OutputSection
from gen.events import EventBatch
from gen.output import RunInfo, temporary_path
from gen.output._hepmc3_kernels import (
    MAX_PRECISION,
    format_events,
)
from gen.output.hepmc3 import _run_info, _template_event

CHUNK_BYTES = 64 * 2**20
"""Scratch bytes per formatting pass (bounds the writer's memory)."""

GZIP_LEVEL = 1
"""zlib level of ``.gz`` files: 4× faster than gzip's default 6 for 15 % larger files."""

WARMER_TIMEOUT_S = 120.0
"""Longest wait for the compile-ahead child (it takes ~6 s)."""

EVENTS_PER_BLOCK = 256
"""Events formatted one after the other by one thread, and written with one ``write``."""

_END_MARK = b"HepMC::Asciiv3-END_EVENT_LISTING"
_REFUSED = (".zst", ".zstd")


def _gzip_member(data: Any) -> bytes:
    """``data`` as one gzip member (RFC 1952: a gzip file is a series of members)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip header
    return compressor.compress(data) + compressor.flush()


_COMPRESSORS: dict[str, Callable[[Any], bytes]] = {
    ".gz": _gzip_member,
    ".bz2": bz2.compress,  # level 9, as bz2.open (pyhepmc)
    ".xz": lzma.compress,  # preset 6, as lzma.open (pyhepmc)
}


def _c_scientific(value: float, digits: int) -> str:
    """``value`` as C's ``%.{digits}e`` (glibc writes a NaN with its sign: ``-nan``)."""
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    return f"{value:.{digits}e}"


def _header_and_footer(run_info: RunInfo) -> tuple[bytes, bytes]:
    """HepMC3's own text before the first event and after the last one."""
    stream = io.BytesIO()
    event = pyhepmc.GenEvent(pyhepmc.Units.GEV, pyhepmc.Units.MM)
    event.run_info = _run_info(run_info)
    with pyhepmc.open(stream, "w") as f:
        f.write(event)
    text = stream.getvalue()
    # attribute values are escaped (no raw newlines), so the first "\nE " is the event
    header = text[: text.index(b"\nE ") + 1]
    footer = text[text.rindex(_END_MARK) :]
    return header, footer


class _Topology:
    """The per-event constant structure of a batch's record, as kernel arrays and text."""

    def __init__(self, batch: EventBatch) -> None:
        event, vertex_first = _template_event(batch)
        k = batch.n_slots
        vertices = event.vertices
        self.production_vertex = np.full(k, -1, dtype=np.int64)
        self.vertex_first = np.asarray(vertex_first, dtype=np.int64)
        self.vertex_n_in = np.zeros(len(vertices), dtype=np.int64)
        single_in = np.zeros(len(vertices), dtype=np.int64)
        vertex_texts = []
        for j, vertex in enumerate(vertices):
            if vertex.id != -(j + 1):
                raise RuntimeError("HepMC3 template vertex ids are not −1, −2, … in order")
            incoming = sorted(q.id for q in vertex.particles_in)  # HepMC3 sorts them
            self.vertex_n_in[j] = len(incoming)
            single_in[j] = incoming[0] if len(incoming) == 1 else 0
            vertex_texts.append(f"V {vertex.id} 0 [{','.join(map(str, incoming))}]")
            for q in vertex.particles_out:
                self.production_vertex[q.id - 1] = j
        heads = []
        for s in range(k):
            j = int(self.production_vertex[s])
            heads.append(f"P {s + 1} {-(j + 1) if j >= 0 else 0} ")  # its vertex has a V line
            heads.append(f"P {s + 1} {single_in[j] if j >= 0 else 0} ")  # or not: its mother
        tails = [f" {int(status)}\n" for status in batch.status]
        # entries 0-2 (event head, middle, cross-section tail) are set per batch
        self.fixed = [t.encode() for t in (*vertex_texts, *heads, *tails)]
        self.middle = f" {len(vertices)} {k}\nU GEV MM\nW ".encode()
        self.longest = {
            "vertex": max((len(t) for t in vertex_texts), default=0),
            "head": max(len(t) for t in heads),
            "tail": max(len(t) for t in tails),
        }

    def texts(self, cross_section: bytes) -> tuple[np.ndarray, np.ndarray]:
        """The kernel's text table (``_hepmc3_kernels.format_events``) for one batch."""
        pieces = [b"E ", self.middle, cross_section, *self.fixed]
        offsets = np.cumsum([0] + [len(t) for t in pieces], dtype=np.int64)
        return np.frombuffer(b"".join(pieces), dtype=np.uint8), offsets

    def max_event_bytes(self, precision: int, weight_precision: int, cross_section: int) -> int:
        """Upper bound of one event's text in bytes."""
        number = 20  # an int64 with its sign
        real = precision + 8  # "-d." + precision digits + "e+ddd"
        head = 2 + number + len(self.middle) + weight_precision + 8 + cross_section
        vertex = self.longest["vertex"] + 2 + 4 * (1 + real) + 1
        particle = self.longest["head"] + number + 5 * (1 + real) + self.longest["tail"]
        return head + len(self.vertex_first) * vertex + len(self.production_vertex) * particle


class HepMC3TextWriter:
    """Write HepMC3 ASCII from numba-formatted text; ``.gz``, ``.bz2``, ``.xz`` compress."""

    def __init__(
        self, path: Path, options: OutputSection, run_info: RunInfo, *, compile_ahead: bool = True
    ) -> None:
        self.path = path
        self.tmp = temporary_path(path)
        self.options = options
        if path.suffix in _REFUSED:
            raise ValueError(
                f"{path.name}: the hepmc3 format compresses .gz, .bz2 and .xz; for "
                f"{path.suffix} use the hepmc3-pyhepmc format"
            )
        if not 0 <= options.precision <= MAX_PRECISION:
            raise ValueError(f"precision: expected 0 … {MAX_PRECISION}, got {options.precision}")
        self.precision = options.precision
        self.weight_precision = min(3 * options.precision, MAX_PRECISION)  # as HepMC3
        self.header, self.footer = _header_and_footer(run_info)
        self._compress = _COMPRESSORS.get(path.suffix)
        self._pool: ThreadPoolExecutor | None = None
        self._file: BinaryIO | None = None
        self._topology: tuple[Any, _Topology] | None = None
        self._scratch = np.empty(0, dtype=np.uint8)
        self._format = format_events
        # the warm-up child itself passes compile_ahead=False (it must not start another)
        self._warmer = _start_warmer() if compile_ahead and kernels_cold() else None

    def _write(self, pieces: Iterable[Any]) -> None:
        """Append byte buffers to the file, each as its own compressed stream if the suffix
        asks for compression (in parallel: zlib, bz2 and lzma release the GIL)."""
        assert self._file is not None
        if self._compress is None:
            self._file.writelines(pieces)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(os.cpu_count() or 1, "axgen-hepmc3-compress")
        self._file.writelines(self._pool.map(self._compress, pieces))

    def _wait_for_warmer(self) -> None:
        if self._warmer is not None:
            try:
                self._warmer.wait(timeout=WARMER_TIMEOUT_S)
            except subprocess.TimeoutExpired:  # never block a run: compile in-process instead
                self._warmer.kill()
                self._warmer.wait()
            self._warmer = None

    def _topology_of(self, batch: EventBatch) -> _Topology:
        mothers2 = None if batch.mothers2 is None else batch.mothers2.tobytes()
        key = (batch.mothers.tobytes(), mothers2, batch.status.tobytes())
        if self._topology is None or self._topology[0] != key:
            self._topology = (key, _Topology(batch))
            if len(self._topology[1].vertex_first) > 62:
                raise ValueError("the hepmc3 format writes records of at most 62 vertices")
        return self._topology[1]

    def write_batch(self, batch: EventBatch, rate: tuple[float, float, int, int]) -> None:
        """Append the batch's events; ``rate`` is the running (value, error, n_accepted,
        n_attempted), written as every event's GenCrossSection (BR for decays)."""
        if batch.n_events == 0:
            return
        if self._file is None:
            self._file = open(self.tmp, "wb")  # noqa: SIM115 - closed in finish/abort
            self._write([self.header])
        self._wait_for_warmer()
        topology = self._topology_of(batch)
        cross_section = (
            f"\nA 0 GenCrossSection {_c_scientific(rate[0], 8)} {_c_scientific(rate[1], 8)} "
            f"{int(rate[2])} {int(rate[3])}\n"
        ).encode()
        texts, text_offsets = topology.texts(cross_section)
        per_event = topology.max_event_bytes(
            self.precision, self.weight_precision, len(cross_section)
        )
        block_stride = EVENTS_PER_BLOCK * per_event
        blocks_per_chunk = max(1, CHUNK_BYTES // block_stride)
        chunk = blocks_per_chunk * EVENTS_PER_BLOCK
        size = min(-(-batch.n_events // EVENTS_PER_BLOCK), blocks_per_chunk) * block_stride
        if self._scratch.shape[0] < size:
            self._scratch = np.empty(size, dtype=np.uint8)
        # the kernels read floats as their bit patterns
        p = np.ascontiguousarray(batch.p, dtype=np.float64).view(np.uint64)
        v = np.ascontiguousarray(batch.vertices, dtype=np.float64).view(np.uint64)  # distinct vertices
        v_column = np.ascontiguousarray(batch.vertex_of_slot, dtype=np.int64)
        mass = np.ascontiguousarray(batch.generated_masses(), dtype=np.float64).view(np.uint64)
        pid = np.ascontiguousarray(batch.pid, dtype=np.int32)
        weight = np.ascontiguousarray(batch.weight, dtype=np.float64).view(np.uint64)
        numbers = np.ascontiguousarray(batch.event_number, dtype=np.int64)
        scratch = memoryview(self._scratch)
        for first in range(0, batch.n_events, chunk):
            count = min(chunk, batch.n_events - first)
            lengths = np.empty(-(-count // EVENTS_PER_BLOCK), dtype=np.int64)
            self._format(
                first, count, EVENTS_PER_BLOCK, block_stride, self._scratch, lengths,
                p, v, v_column, mass, pid, weight, numbers, topology.production_vertex,
                topology.vertex_first, topology.vertex_n_in, texts, text_offsets,
                self.precision, self.weight_precision,
            )  # fmt: skip
            # the blocks as they lie in the scratch buffer: large writes bypass the file's
            # buffer, so the text is copied once more only into the page cache
            starts = range(0, len(lengths) * block_stride, block_stride)
            self._write(
                scratch[start : start + n]
                for start, n in zip(starts, lengths.tolist(), strict=True)
            )

    def _close(self) -> None:
        if self._warmer is not None and self._warmer.poll() is None:
            self._warmer.kill()  # an aborted run: the cache is filled by a later one
        self._wait_for_warmer()
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def finish(self, summary: dict[str, Any]) -> None:  # noqa: ARG002
        """Write the end line and move the file to its final name."""
        if self._file is None:
            self._file = open(self.tmp, "wb")  # noqa: SIM115 - closed in _close
            self._write([self.header])
        self._write([self.footer])
        self._close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Close and delete the temporary file."""
        self._close()
        self.tmp.unlink(missing_ok=True)


def kernels_cold() -> bool:
    """True when numba's disk cache has no compiled formatter yet (first run after install).

    Reads numba's cache index path (a private attribute); if that ever moves, the answer is
    False and the writer compiles in-process as any kernel does."""
    if numba_disabled():
        return False
    try:
        return not os.path.exists(format_events.dispatcher._cache._cache_file._index_path)
    except AttributeError:
        return False


def numba_disabled() -> bool:
    import numba

    return bool(numba.config.DISABLE_JIT)


_warmer_started = False


def _start_warmer() -> subprocess.Popen[bytes] | None:
    """The compile-ahead child, once per process (a second hepmc3 output waits for the first
    writer's child through the cache: numba compiles a kernel once per process anyway)."""
    global _warmer_started
    if _warmer_started:
        return None
    _warmer_started = True
    try:
        # the child's own errors do not matter: if it fails, the run compiles in-process
        return subprocess.Popen(
            [sys.executable, "-c", "from gen.output.hepmc3_text import warm_cache; warm_cache()"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None  # no child process: compile in-process on the first batch


def warm_cache() -> None:
    """Compile the formatting kernels into numba's disk cache by writing one dummy batch of
    the dtypes every run uses (the kernels' types do not depend on the record)."""
    n, k = 2, 2
    p = np.zeros((4, n, k))
    p[0] = 1.0
    batch = EventBatch(
        first_event=0, p=p, vertices=np.zeros((4, n, k)), vertex_of_slot=np.arange(k),
        pid=np.full((n, k), 22, dtype=np.int32),
        status=np.array([2, 1], dtype=np.int32), mothers=np.array([-1, 0], dtype=np.int32),
        masses=np.zeros(k), weight=np.ones(n), event_number=np.arange(n, dtype=np.int64),
        observables={}, selected={},
    )
    run_info = RunInfo(process="warm-up", process_code=0, references=(), seed=0, mode="weighted",
                       card_json="{}", versions={}, pdg_edition=0, rate_unit="", labels=("a", "b"))
    with tempfile.TemporaryDirectory(prefix="axgen-warm-") as tmp:
        writer = HepMC3TextWriter(Path(tmp) / "warm.hepmc", OutputSection(format="hepmc3", path="warm.hepmc"),
                                  run_info, compile_ahead=False)
        writer.write_batch(batch, (1.0, 0.0, n, n))
        writer.abort()
