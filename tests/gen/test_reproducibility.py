"""The same card and seed give identical events and files on 1 and on 2 threads."""

from __future__ import annotations

import os
import subprocess
import sys

import awkward as ak
from axgen_testing import CARDS


def _run(tmp_path, threads):
    out = tmp_path / f"threads{threads}"
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    cmd = [
        sys.executable,
        "-m",
        "gen",
        "run",
        str(CARDS / "kl_pi0_x.toml"),
        "--events",
        "30000",
        "--output-dir",
        str(out),
        "--quiet",
        "--set",
        "run.batch_size=7000",
        "--set",
        "run.conjugate=both",
        "--set",
        'output=[{format = "parquet", path = "e.parquet"}, {format = "hepmc3", path = "e.hepmc"}]',
    ]
    subprocess.run(cmd, env=env, check=True)
    return out


def test_identical_parquet_content_on_one_and_two_threads(tmp_path):
    one = _run(tmp_path, 1)
    two = _run(tmp_path, 2)
    events = ak.from_parquet(one / "e.parquet")
    assert len(events) == 30000
    assert ak.array_equal(events, ak.from_parquet(two / "e.parquet"))  # every field, every event
    # and the files themselves, byte for byte (no timing or thread count inside)
    for name in ("e.parquet", "e.hepmc"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
