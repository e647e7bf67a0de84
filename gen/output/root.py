"""ROOT TTree through uproot (design.md §8): a flat ntuple, one entry per event.

The tree ``events`` carries the parquet schema (design.md §8) flattened the way ROOT users
read it (``events->Draw("particles_E")``):

- ``event`` (Long64_t), ``weight`` (Double_t);
- ``nparticles`` (Int_t) and, per particle, ``particles_pid``, ``particles_status``,
  ``particles_mother`` (Int_t[nparticles]), ``particles_E``, ``particles_px``,
  ``particles_py``, ``particles_pz`` (GeV) and ``particles_vx``, ``particles_vy``,
  ``particles_vz``, ``particles_vt`` (mm; vt = c t) (Double_t[nparticles]);
- ``observables_<name>`` (Double_t) and ``selected_<region>`` (Bool_t pass flags, or
  Double_t selection probabilities where the experiment publishes efficiency maps).

Each batch is appended with ``WritableTree.extend`` (one basket per branch and batch), so
memory is bounded by the batch size. The run summary (without timings) is a TObjString
``axgen`` beside the tree, written when the file is closed. Compression: the output's
``compression``, ROOT's LZ4 or ZSTD at level 1, or none (ROOT has no snappy).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from gen.cards import OutputSection
from gen.events import EventBatch, to_awkward
from gen.output import RunInfo, temporary_path

TREE = "events"
SUMMARY_KEY = "axgen"
CODECS = ("lz4", "zstd", "none")
"""The output compressions a ROOT file can have (the card's choice)."""


def _compression(name: str) -> Any:
    import uproot

    return {"lz4": uproot.LZ4(1), "zstd": uproot.ZSTD(1), "none": None}[name]


class ROOTWriter:
    """Append batches to the TTree ``events`` of a ROOT file; summary as TObjString."""

    def __init__(self, path: Path, options: OutputSection, run_info: RunInfo) -> None:
        if options.compression not in CODECS:  # the card check refuses it first (driver.check)
            raise ValueError(f"ROOT files cannot be compressed with {options.compression!r}")
        self.path = path
        self.tmp = temporary_path(path)
        self.options = options
        self.run_info = run_info
        self._file: Any = None  # opened with the first batch: a run that fails before leaves nothing
        self._tree: Any = None

    def write_batch(self, batch: EventBatch, rate: tuple[float, float, int, int]) -> None:  # noqa: ARG002
        import awkward as ak
        import uproot

        events = to_awkward(batch)
        # vector's record name Momentum4D is for parquet and notebooks; ROOT branches are plain
        particles = events.particles.layout
        plain = particles.copy(content=particles.content.copy(parameters={}))
        branches = {
            "event": batch.event_number.astype(np.int64),
            "weight": np.ascontiguousarray(batch.weight),
            "particles": ak.Array(plain),
            "observables": events.observables,
            "selected": events.selected,
        }
        if self._tree is None:
            self._file = uproot.recreate(self.tmp, compression=_compression(self.options.compression))
            types = {name: value.dtype if isinstance(value, np.ndarray) else value.type
                     for name, value in branches.items()}
            self._tree = self._file.mktree(TREE, types, title=f"axgen {self.run_info.process}")
        if batch.n_events:  # no empty baskets (uproot5 #756: ROOT misreads them after hadd)
            self._tree.extend(branches)

    def finish(self, summary: dict[str, Any]) -> None:
        if self._tree is None:  # the driver hands over every batch, even an empty one
            raise RuntimeError(f"{self.path}: the writer received no batch")
        # timings vary from run to run: without them the stored summary is the same for the
        # same card and seed (design.md §6); summary.json has them
        self._file[SUMMARY_KEY] = json.dumps({k: v for k, v in summary.items() if k != "timing"})
        self._file.close()
        self._file = self._tree = None
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        try:
            if self._file is not None:
                self._file.close()
        finally:
            self._file = self._tree = None
            self.tmp.unlink(missing_ok=True)


def read_summary(path: str | Path) -> dict[str, Any]:
    """The run summary stored in an axgen ROOT file."""
    import uproot

    with uproot.open(path) as f:
        return json.loads(str(f[SUMMARY_KEY]))


def read_events(path: str | Path) -> Any:
    """The tree of an axgen ROOT file as an awkward Array in the parquet layout (``particles``
    as ``Momentum4D`` records, ``observables``, ``selected``), for comparisons and notebooks.
    Reads the whole tree into memory (``uproot.iterate`` reads it in steps)."""
    import awkward as ak
    import uproot

    with uproot.open(path) as f:
        flat = f[TREE].arrays()
    groups: dict[str, dict[str, Any]] = {"particles": {}, "observables": {}, "selected": {}}
    top: dict[str, Any] = {}
    for name in flat.fields:
        group, _, field = name.partition("_")
        if group in groups and field:
            groups[group][field] = flat[name]
        elif name != "nparticles":
            top[name] = flat[name]
    records = {group: ak.zip(fields) for group, fields in groups.items()}
    records["particles"] = ak.zip(groups["particles"], with_name="Momentum4D")
    return ak.zip({**top, **records}, depth_limit=1)
