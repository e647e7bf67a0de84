"""The same card and seed give identical events on 1 and on 2 threads."""

from __future__ import annotations

import os
import subprocess
import sys

import awkward as ak
from axgen_testing import CARDS


def _run(tmp_path, threads):
    out = tmp_path / f"threads{threads}"
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "gen", "run", str(CARDS / "kl_pi0_x.toml"), "--events", "30000",
           "--output-dir", str(out), "--quiet", "--set", "run.batch_size=7000",
           "--set", "run.conjugate=both"]
    subprocess.run(cmd, env=env, check=True)
    return ak.from_parquet(out / "kl_pi0_x.parquet")


def test_identical_parquet_content_on_one_and_two_threads(tmp_path):
    one = _run(tmp_path, 1)
    two = _run(tmp_path, 2)
    assert len(one) == 30000
    assert ak.array_equal(one, two)  # bit for bit: every field of every event
