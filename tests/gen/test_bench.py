"""The benchmark runs, and its numpy yardstick computes the same events as the kernel."""

from __future__ import annotations

import json

from gen.bench import K_PI_X, _prepare, check_numpy_yardstick
from gen.cli import main


def test_numpy_yardstick_agrees_with_the_kernel():
    prepared, frozen = _prepare(K_PI_X)
    assert check_numpy_yardstick(prepared, frozen, n=20_000) < 1e-9


def test_bench_runs(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert (
        main(
            [
                "bench",
                "--events",
                "300000",
                "--write-events",
                "20000",
                "--memory-events",
                "30000",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    results = json.loads(out.read_text())
    assert results["generation_ev_per_s"]["K+ -> pi+ X"] > 0
    assert results["end_to_end_ev_per_s"]["hepmc3"] > 0
    assert results["beam_and_selection_ev_per_s"]["KOTO KL -> pi0 X"] > 0
    assert results["memory"]["max_rss_mb"] > 0
    assert "numba/numpy" in capsys.readouterr().out
