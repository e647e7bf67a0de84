"""The benchmark runs every measurement, and its numpy yardstick computes the kernel's events."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from gen import bench, yardstick_numpy
from gen.bench import CASES, K_PI_X, NA62_CASE, _prepare
from gen.cli import main
from gen.yardstick_numpy import check_numpy_na62, check_numpy_yardstick, na62_problems, numpy_k_pi_x


def test_numpy_yardstick_agrees_with_the_kernel():
    prepared, frozen = _prepare(K_PI_X)
    assert check_numpy_yardstick(prepared, frozen, n=20_000) < 1e-9


def test_numpy_yardstick_check_can_fail(monkeypatch):
    """A yardstick that computes something else is caught before it is timed."""
    prepared, frozen = _prepare(K_PI_X)

    def wrong(uniform, frozen_map, params):
        p, fjac = numpy_k_pi_x(uniform, frozen_map, params)
        return p, fjac * (1.0 + 1e-6)

    monkeypatch.setattr("gen.yardstick_numpy.numpy_k_pi_x", wrong)
    assert check_numpy_yardstick(prepared, frozen, n=1000) > 1e-7


def test_numpy_na62_yardstick_computes_the_fused_kernels_run():
    """The whole NA62 run in numpy: the kernel's momenta, vertices, ids, weights, observables,
    flags and sums on the same random numbers, so that the ratio of their rates compares
    equal work."""
    check = check_numpy_na62(CASES[NA62_CASE], n=20_000)
    assert na62_problems(check) == []
    assert check["selected"] > 0.02  # the signal region is populated: the flags were compared


def test_numpy_na62_yardstick_with_other_cuts_no_smearing_and_both_charges():
    # m_X = 0.09 GeV: unsmeared, m²_miss = q² ≈ m_X² lies inside R1 (0.1 GeV would sit on its edge)
    raw = {**CASES[NA62_CASE], "model": {"m_X": 0.09, "g_sd": 3.7e-13},
           "run": {**CASES[NA62_CASE]["run"], "conjugate": "both"},
           "acceptance": {"experiment": "na62", "cuts": {"p_max": 45.0, "smear": 0.0}}}
    check = check_numpy_na62(raw, n=10_000, seed=3)
    assert na62_problems(check) == []
    assert check["selected"] > 0.02


def test_numpy_na62_check_can_fail(monkeypatch):
    """A numpy chain whose beam divergence is 1% off is caught before it is timed."""
    chain = yardstick_numpy.na62_chain

    def wrong(*args):
        right = chain(*args)
        beam = dataclasses.replace(right.beam, slope_spread=right.beam.slope_spread * 1.01)
        return dataclasses.replace(right, beam=beam)

    monkeypatch.setattr(yardstick_numpy, "na62_chain", wrong)
    problems = na62_problems(check_numpy_na62(CASES[NA62_CASE], n=2000))
    assert any(p.startswith("momenta") for p in problems)
    assert any(p.startswith("vertices") for p in problems)


def test_bench_cases_are_the_issue_processes():
    processes = {raw["run"]["process"] for raw in CASES.values()}
    assert processes == {"K+ -> pi+ X", "B+ -> K+ X", "B0 -> K*0(K+ pi-) X", "e+ e- -> gamma X"}
    assert all("production" in raw and "acceptance" in raw for raw in CASES.values())


def test_bench_runs_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    args = ["bench", "--events", "200000", "--write-events", "40000", "--pythia-events", "2000",
            "--scaling-events", "100000", "--memory-events", "20000", "--json", str(out)]
    assert main(args) == 0
    results = json.loads(out.read_text())
    assert set(results["processes"]) == set(CASES)
    for row in results["processes"].values():
        assert all(row[k] > 0 for k in ("kernel", "in_memory", "sums_only", "parquet", "root", "hepmc3",
                                        "hepmc3_pyhepmc"))
    assert results["yardsticks"]["numpy"]["max_relative_difference"] < 1e-9
    assert results["ratios"]["kernel / numpy (K+ at rest, 1 thread each)"] > 0
    assert na62_problems(results["yardsticks"]["numpy_na62"]["check"]) == []
    assert results["ratios"]["NA62 in memory / numpy NA62 run (1 thread each)"] > 0
    threads = results["threads"]
    assert threads["speed_up_sums_only"] == pytest.approx(
        results["processes"][NA62_CASE]["sums_only"] / threads["sums_only_1"], rel=1e-12)
    assert results["threads"]["machine_speed_up_pure_compute"] > 0
    assert 0.5 < results["unweighting"]["efficiency"] <= 1.0
    assert results["memory"]["max_rss_mb"] > 0
    assert results["startup_s"]["second_run"] > 0
    assert 0 < results["startup_s"]["first_run_first_batch_in_run_s"] < results["startup_s"]["first_run_first_events_s"]
    printed = capsys.readouterr().out
    assert bench.table(results) in printed
    assert "kernel / numpy" in printed


def test_child_peak_memory_is_the_childs_own():
    """A child started from a large process reports its own peak RSS, not the parent's
    (ru_maxrss would: Linux keeps the address space's high-water mark across exec)."""
    ballast = np.ones(200_000_000)  # 1.6 GB resident in this process while the child runs
    _, rss_mb = bench._child(["list"])
    assert float(ballast[-1]) == 1.0
    assert 10 < rss_mb < 1000
