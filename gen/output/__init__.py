"""Event writers: a small protocol and a registry (design.md §8).

A writer is created with its final path, the card's ``[[output]]`` options and the run
information; it receives batches with ``write_batch`` and is closed with ``finish`` (the
final summary is known then) or ``abort``. Every writer writes to a temporary name in the
destination directory and renames on ``finish``, so an interrupted run never leaves a
truncated file under the final name.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gen.cards import OutputSection
from gen.events import EventBatch


@dataclass(frozen=True)
class RunInfo:
    """What every output file records about its run."""

    process: str
    process_code: int
    references: tuple[str, ...]
    seed: int
    mode: str
    card_json: str
    versions: dict[str, str]
    pdg_edition: int
    rate_unit: str
    labels: tuple[str, ...]
    weight_names: tuple[str, ...] = ("default",)
    extra: dict[str, Any] = field(default_factory=dict)


class EventWriter(Protocol):
    """What the driver needs from a writer."""

    def write_batch(self, batch: EventBatch, rate: tuple[float, float, int, int]) -> None:
        """Write one batch; ``rate`` is the running (value, error, n_accepted, n_attempted)."""

    def finish(self, summary: dict[str, Any]) -> None:
        """Close the file with the run summary and move it to its final name."""

    def abort(self) -> None:
        """Close and delete the temporary file."""


WRITERS: dict[str, type | str] = {
    # built-in writers are imported on first use: pyhepmc and pyarrow cost import time
    "hepmc3": "gen.output.hepmc3_text:HepMC3TextWriter",
    # the reference: every event through pyhepmc's C++ writer (slower; also writes .zst)
    "hepmc3-pyhepmc": "gen.output.hepmc3:HepMC3Writer",
    "parquet": "gen.output.parquet:ParquetWriter",
    "root": "gen.output.root:ROOTWriter",
}


def register_writer(name: str):
    """Class decorator: register a writer under its card ``format`` name."""

    def deco(cls: type) -> type:
        WRITERS[name] = cls
        return cls

    return deco


def writer_class(name: str) -> type:
    """The writer class registered as ``name`` (imports a built-in one on first use)."""
    entry = WRITERS[name]
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        entry = getattr(importlib.import_module(module), attr)
        WRITERS[name] = entry
    return entry


def temporary_path(path: Path) -> Path:
    """Hidden sibling of ``path`` that keeps its suffixes (compression is chosen by suffix)."""
    suffixes = "".join(path.suffixes)
    stem = path.name[: len(path.name) - len(suffixes)] if suffixes else path.name
    return path.with_name(f".{stem}.axgen-tmp-{os.getpid()}{suffixes}")


def open_writer(output: OutputSection, path: Path, run_info: RunInfo) -> EventWriter:
    """Create the writer for one ``[[output]]`` table."""
    return writer_class(output.format)(path, output, run_info)
