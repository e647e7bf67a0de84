"""The Python entry point gen.generate, weighted and unweighted modes, expected events."""

from __future__ import annotations

import json
import math

import awkward as ak
import numpy as np
import pytest
from axgen_testing import CARDS, card_dict

import gen
from gen import driver, pipeline
from gen.cards import CardError
from phase_space import block


def test_generate_from_a_card_file_with_overrides():
    events, summary = gen.generate(CARDS / "k_pi_x.toml", events=3000, m_X=0.2, seed=4)
    assert len(events) == 3000
    assert summary["card"]["model"]["m_X"] == 0.2
    assert summary["model"]["m_X"] == 0.2
    assert summary["seed"] == 4
    # Σw is the MC estimate of BR(K+ -> pi+ X)·BR(X -> nu nu~)
    assert float(np.sum(events.weight)) == pytest.approx(summary["rate"]["value"], rel=1e-12)
    assert (
        abs(summary["rate"]["value"] - summary["analytic_rate"]["value"])
        < 5 * summary["rate"]["error"]
    )


def test_generate_reports_card_problems():
    with pytest.raises(CardError, match=r"model\.m_X: expected a mass"):
        gen.generate(card_dict("B+ -> K+ X", m_X=5.0))


def test_weighted_sum_and_running_rate_agree():
    _, summary = gen.generate(
        card_dict("B+ -> K+ nu nu~ (SM)", events=20_000, run={"batch_size": 3000})
    )
    assert summary["sum_of_weights"] == pytest.approx(summary["rate"]["value"], rel=1e-12)


def test_unweighted_mode_keeps_exactly_the_asked_events():
    n_kept = 40_000
    raw = card_dict(
        "K+ -> pi+ nu nu~ (SM)",
        events=n_kept,
        run={"mode": "unweighted", "batch_size": 7000},
        sampler={"pilot_events": 50_000},
    )
    events, summary = gen.generate(raw)
    assert len(events) == n_kept
    u = summary["unweighting"]
    assert 0.0 < u["efficiency"] <= 1.0
    assert u["events_tried"] == pytest.approx(n_kept / u["efficiency"])
    assert 0.0 <= u["overweight_fraction"] < 0.01
    weights = ak.to_numpy(events.weight)
    common = u["w_max"] / u["events_tried"]
    # all events carry the common weight except the (rare) overweight ones, which carry more
    assert np.all(weights >= common * (1 - 1e-12))
    assert np.mean(np.isclose(weights, common, rtol=1e-12)) > 0.99
    # Σw of the kept events estimates the branching ratio: Var(Σw) ≈ (Σw)² (1 − ε)/N_kept
    # (binomial thinning at efficiency ε), plus the error of the rate itself
    total = float(weights.sum())
    sigma = total * np.sqrt((1 - u["efficiency"]) / n_kept) + summary["rate"]["error"]
    assert abs(total - summary["analytic_rate"]["value"]) < 5 * sigma
    assert sigma / total < 5e-3  # so a 2.5 % normalisation error would fail
    assert (
        abs(summary["rate"]["value"] - summary["analytic_rate"]["value"])
        < 5 * summary["rate"]["error"]
    )


def test_unweighted_generation_is_reproducible():
    raw = card_dict(
        "B+ -> K+ X",
        events=1000,
        run={"mode": "unweighted", "batch_size": 1000},
        sampler={"pilot_events": 5000},
    )
    a, _ = gen.generate(raw)
    b, _ = gen.generate(raw)
    assert ak.array_equal(a, b)


def test_expected_events_and_keep_selected(tmp_path):
    raw = card_dict("B+ -> K+ X", events=2000, run={"n_parents": 1e9, "keep": "selected"})
    raw["output"] = [{"format": "parquet", "path": "e.parquet"}]
    events, summary = gen.generate(raw, output_dir=tmp_path)
    assert summary["expected_events"]["all"] == pytest.approx(
        1e9 * summary["rate"]["value"], rel=1e-12
    )
    assert summary["acceptance"]["all"]["value"] == 1.0
    assert (
        json.loads((tmp_path / "summary.json").read_text())["expected_events"]
        == summary["expected_events"]
    )
    assert len(events) == 2000


def test_conjugate_choices():
    for choice, signs in (("particle", {1}), ("antiparticle", {-1}), ("both", {-1, 1})):
        events, _ = gen.generate(card_dict("K+ -> pi+ X", events=500, run={"conjugate": choice}))
        assert set(np.sign(ak.to_numpy(events.particles.pid[:, 0]))) == signs


def _without_timing(summary):
    return {key: value for key, value in summary.items() if key != "timing"}


@pytest.mark.parametrize(
    "raw",
    [
        {**card_dict("K+ -> pi+ X", events=20_000, m_X=0.2), "production": {"setup": "na62"},
         "acceptance": {"experiment": "na62"}},
        {**card_dict("B+ -> K+ X", events=5_000, run={"mode": "unweighted", "batch_size": 1500}),
         "production": {"setup": "belle2"}, "acceptance": {"experiment": "belle2"}},
    ],
    ids=["na62-weighted", "belle2-unweighted"],
)
def test_a_run_without_readers_skips_the_record_and_gives_the_same_summary(raw):
    """No writer and no collect: the kernel keeps the events in cache for the sums only; the
    summary is the one of the same run filling the event record, bit for bit."""
    card, prepared = driver.check(raw, "<test>")
    made = []
    new_batch = pipeline.FusedKernel.new_batch

    def spy(self, n, record=True):
        made.append(record)
        return new_batch(self, n, record)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline.FusedKernel, "new_batch", spy)
        auto = driver.run(card, None, progress=False, prepared=prepared).summary
        assert made
        assert not any(made)
        made.clear()
        recorded = driver.run(card, None, progress=False, prepared=prepared, record=True).summary
        assert made
        assert all(made)
    assert json.dumps(_without_timing(auto), sort_keys=True) == json.dumps(_without_timing(recorded), sort_keys=True)


def test_a_run_without_readers_still_names_a_non_finite_weight(monkeypatch):
    """The summary-only run regenerates a batch with a non-finite sum, with the record, to name
    the event: here event 2007, in the third batch of 1000."""
    call = pipeline.FusedKernel.__call__
    calls = []

    def nan_at_1007(self, first_event, batch):
        call(self, first_event, batch)
        calls.append((first_event, batch.record))
        if first_event == 2000:  # what the kernel makes of a NaN weight at event 2007
            batch.block_sums[7 // block.BLOCK, pipeline.SUM_W] = math.nan
            if batch.record:
                batch.weight[7] = math.nan

    monkeypatch.setattr(pipeline.FusedKernel, "__call__", nan_at_1007)
    card, prepared = driver.check(card_dict("K+ -> pi+ X", events=4_000, run={"batch_size": 1000}), "<test>")
    with pytest.raises(FloatingPointError, match=r"non-finite weight .* at event 2007 "):
        driver.run(card, None, progress=False, prepared=prepared)
    assert calls == [(0, False), (1000, False), (2000, False), (2000, True)]


def test_record_false_with_readers_is_refused(tmp_path):
    raw = card_dict("K+ -> pi+ X", events=1_000)
    raw["output"] = [{"format": "parquet", "path": "x.parquet"}]
    card, prepared = driver.check(raw, "<test>", tmp_path)
    with pytest.raises(ValueError, match="record=False"):
        driver.run(card, tmp_path, progress=False, prepared=prepared, record=False)
    assert not (tmp_path / "x.parquet").exists()
