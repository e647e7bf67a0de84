"""Parquet through awkward and pyarrow: one row per event (design.md §12).

Each batch becomes an Arrow table with ``ak.to_arrow_table`` (awkward's parameters, such as
the ``Momentum4D`` record name, travel in the Arrow extension metadata) and is appended as a
row group with ``pyarrow.parquet.ParquetWriter``. Dictionary encoding is off (it only costs
time on floating-point columns); the run summary (without timings) goes into the footer
metadata under the key ``axgen`` when the file is closed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import awkward as ak
import pyarrow.parquet as pq

from gen.cards import OutputSection
from gen.events import EventBatch, to_awkward
from gen.output import RunInfo, temporary_path

METADATA_KEY = "axgen"


class ParquetWriter:
    """Append batches to a parquet file; summary in the footer metadata."""

    def __init__(self, path: Path, options: OutputSection, run_info: RunInfo) -> None:
        self.path = path
        self.tmp = temporary_path(path)
        self.options = options
        self.run_info = run_info
        self._writer: pq.ParquetWriter | None = None

    def write_batch(self, batch: EventBatch, rate: tuple[float, float, int, int]) -> None:  # noqa: ARG002
        table = ak.to_arrow_table(to_awkward(batch), extensionarray=True)
        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self.tmp,
                table.schema,
                compression=self.options.compression,
                use_dictionary=False,
                write_statistics=False,
            )
        self._writer.write_table(table)

    def finish(self, summary: dict[str, Any]) -> None:
        if self._writer is None:  # the driver hands over every batch, even an empty one
            raise RuntimeError(f"{self.path}: the writer received no batch")
        # timings vary from run to run: leaving them out keeps the file bit-identical for
        # the same card and seed (design.md §6); summary.json has them
        stored = {k: v for k, v in summary.items() if k != "timing"}
        self._writer.add_key_value_metadata({METADATA_KEY: json.dumps(stored)})
        self._writer.close()
        self._writer = None
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.tmp.unlink(missing_ok=True)


def read_summary(path: str | Path) -> dict[str, Any]:
    """The run summary stored in the footer of an axgen parquet file."""
    meta = pq.read_metadata(path).metadata or {}
    return json.loads(meta[METADATA_KEY.encode()])
