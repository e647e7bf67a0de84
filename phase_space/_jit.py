"""The single compile policy for every numba kernel of axgen, and how batches use the cores.

``kernel`` is for scalar building blocks and serial loops. ``batch_kernel`` is for the
loops over the events of a batch: the kernel is written as a serial loop over its events
``start .. stop`` (its last two parameters), compiled once, without numba's ``parallel``
machinery, and releasing the GIL; calling it with the other arguments runs it on all
threads, each on a contiguous range of events::

    @batch_kernel(events=2, axis=1)       # argument 2 has the event axis 1 (p[4, n, k])
    def _boost(key, first_event, p, start, stop):
        for i in range(start, stop):
            ...

    _boost(key, first_event, p)           # all events, on event_threads() threads

Why not numba's ``parallel=True``: the parfor passes doubled the compile time of every
kernel (5.2 s instead of 2.4 s for the K⁺ → π⁺X kernel), which is most of a first run; the
OpenMP workers spin between kernels and took a core from the writer thread; and the
explicit split keeps the number of threads a run uses in one place. Kernels are pure
functions of the event index (counter-based random numbers), so the split never changes a
result. A function whose last parameters are not ``start, stop`` keeps numba's
``parallel=True`` (``prange`` loops), for small helpers and tests.

Every kernel caches to disk, so a second run starts without recompiling, and uses numpy's
error model (no exceptions on 0/0: wrappers check ``isfinite`` instead). ``fastmath`` is
off on purpose: kinematic edges (sqrt of -1e-17) matter more than a few per cent of speed.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np

kernel = numba.njit(cache=True, error_model="numpy", forceinline=True)
# a block stage of the fused generation kernel (gen.pipeline): inlined into the kernel's numba
# IR, so it is compiled once, as part of the kernel, and not first on its own as well
stage = numba.njit(cache=True, error_model="numpy", inline="always")


def helper(signature: str) -> Callable[[Callable[..., Any]], Any]:
    """A small building block with one explicit signature (compiled when its module is first
    imported, cached), inlined by LLVM like :data:`kernel`. For helpers that callers pass
    constants (a scratch row, a slot): without a signature numba would compile one
    specialisation per combination of the constants' literal values (~0.1 s each)."""
    return numba.njit(signature, cache=True, error_model="numpy", forceinline=True)
_serial_batch = numba.njit(cache=True, error_model="numpy", nogil=True)
_parallel_batch = numba.njit(cache=True, error_model="numpy", parallel=True, nogil=True)
prange = numba.prange

MIN_EVENTS_PER_THREAD = 2048
"""Below this many events per thread a batch runs on the calling thread alone."""

_threads: int | None = None
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_pool_workers = 0


def _forget_pool_after_fork() -> None:
    # a forked child inherits the pool object but not its threads: it would wait forever
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def event_threads() -> int:
    """Threads a batch kernel uses: :func:`set_event_threads`, else ``NUMBA_NUM_THREADS``."""
    return _threads if _threads is not None else int(numba.config.NUMBA_NUM_THREADS)


def set_event_threads(n: int | None) -> None:
    """Use ``n`` threads for batch kernels from now on (None: back to ``NUMBA_NUM_THREADS``)."""
    global _threads
    if n is not None and n < 1:
        raise ValueError(f"expected at least one thread, got {n}")
    _threads = n


def _worker_pool(workers: int) -> ThreadPoolExecutor:
    """The shared pool with at least ``workers`` threads (the generation and the writer thread
    both submit to it; tasks never wait on each other, so sharing cannot deadlock)."""
    global _pool, _pool_workers
    with _pool_lock:
        if _pool is None or _pool_workers < workers:
            old = _pool
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="axgen-kernel")
            _pool_workers = workers
            if old is not None:
                old.shutdown(wait=False)  # its queued tasks still run; its threads then exit
        return _pool


def split(n: int, threads: int, align: int = 1) -> np.ndarray:
    """Bounds of ``threads`` contiguous, near-equal ranges of ``n`` events, each range but the
    last starting at a multiple of ``align``."""
    bounds = np.linspace(0, n, threads + 1) / align
    bounds = bounds.round().astype(np.int64) * align
    bounds[-1] = n
    return np.minimum(bounds, n)


class BatchKernel:
    """A serial event-range kernel run over all events on several threads (module docstring)."""

    def __init__(self, function: Callable[..., Any], events: int, axis: int, min_per_thread: int) -> None:
        self.dispatcher = _serial_batch(function)
        self.events = events
        self.axis = axis
        self.min_per_thread = min_per_thread
        functools.update_wrapper(self, function)

    @property
    def py_func(self) -> Callable[..., Any]:
        return self.dispatcher.py_func

    def __call__(self, *args: Any) -> None:
        n = int(np.shape(args[self.events])[self.axis])
        run_ranges(self.dispatcher, args, n, self.min_per_thread)


CHUNKS_PER_THREAD = 4
"""A batch is cut into this many ranges per thread, which the threads take in turn: a thread
slowed by another tenant of the machine takes fewer of them instead of holding the batch up."""


def run_ranges(function: Callable[..., Any], args: tuple, n: int, min_per_thread: int, align: int = 1) -> None:
    """``function(*args, start, stop)`` over contiguous ranges covering ``0 .. n − 1`` on
    :func:`event_threads` threads (fewer when a thread would get under ``min_per_thread``
    items): up to ``CHUNKS_PER_THREAD`` ranges per thread, each starting at a multiple of
    ``align``, taken in turn by the calling thread and the pool's. Which thread runs a range never
    changes a result (kernels are pure functions of the item index). Every range finishes
    before an error is re-raised."""
    threads = min(event_threads(), max(1, n // min_per_thread))
    if threads == 1:
        function(*args, np.int64(0), np.int64(n))
        return
    chunks = min(threads * CHUNKS_PER_THREAD, max(threads, n // min_per_thread))
    bounds = split(n, chunks, align)
    next_range = itertools.count()  # next() on it is atomic under the GIL
    stop_early = threading.Event()

    def take_ranges() -> None:
        while not stop_early.is_set():
            j = next(next_range)
            if j >= chunks:
                return
            try:
                function(*args, np.int64(bounds[j]), np.int64(bounds[j + 1]))
            except BaseException:
                stop_early.set()  # the others finish their range and stop
                raise

    pool = _worker_pool(threads - 1)
    futures = [pool.submit(take_ranges) for _ in range(1, threads)]
    errors: list[BaseException] = []
    try:
        take_ranges()
    except BaseException as err:  # noqa: BLE001 - re-raised once every range has stopped
        errors.append(err)
    for future in futures:  # all of them: none may still write into the caller's arrays
        error = future.exception()
        if error is not None:
            errors.append(error)
    if errors:
        raise errors[0]


def batch_kernel(
    function: Callable[..., Any] | None = None, *, events: int = 0, axis: int = 0,
    min_per_thread: int = MIN_EVENTS_PER_THREAD,
) -> Any:
    """Decorator for loops over events; ``events``/``axis``: which positional argument, and
    which of its axes, counts the events (or other work items: ``min_per_thread`` of them
    are worth a thread) (module docstring)."""

    def decorate(fn: Callable[..., Any]) -> Any:
        names = list(inspect.signature(fn).parameters)
        if names[-2:] == ["start", "stop"]:
            if not 0 <= events < len(names) - 2:
                raise ValueError(f"{fn.__name__}: events={events} is not one of its array arguments")
            return BatchKernel(fn, events, axis, min_per_thread)
        if function is None:  # options given: the caller meant an event-range kernel
            raise TypeError(f"{fn.__name__}: a batch kernel with options must end in (start, stop)")
        return _parallel_batch(fn)

    return decorate(function) if function is not None else decorate
