"""The running sums the fused kernel forms per block against the direct formulas on the events."""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest
from axgen_testing import card_dict

import gen
from gen import acceptance as acceptance_models
from gen.running_sums import RunningSums, sum_and_sum_of_squares


def _direct(weights: np.ndarray, selection: np.ndarray) -> tuple[float, float, int]:
    """A = Σws/Σw, its error √(Σw²(s − A)²)/Σw and the count of s > 0."""
    a = float((weights * selection).sum() / weights.sum())
    error = math.sqrt(float((weights**2 * (selection - a) ** 2).sum())) / float(weights.sum())
    return a, error, int(np.count_nonzero(selection))


@pytest.mark.parametrize(
    ("process", "production", "acceptance"),
    [
        ("K+ -> pi+ X", {"setup": "na62"}, {"experiment": "na62"}),  # pass flags
        ("B+ -> K+ X", {"setup": "belle2"}, {"experiment": "belle2"}),  # selection probabilities
    ],
)
def test_summary_acceptances_are_the_direct_formulas_on_the_events(process, production, acceptance):
    """Batches of 7000 events (so the last block of each batch is partial) summed per block
    in the kernel give every region's acceptance, error and count as numpy does on the
    returned events."""
    raw = card_dict(process, events=25_000, seed=3, run={"batch_size": 7000})
    raw["production"] = production
    raw["acceptance"] = acceptance
    events, summary = gen.generate(raw)
    efficiency = acceptance_models.get(acceptance["experiment"], {}).efficiency
    w = ak.to_numpy(events.weight)
    assert summary["sum_of_weights"] == pytest.approx(w.sum(), rel=1e-12)
    for region, result in summary["acceptance"].items():
        s = ak.to_numpy(events.selected[region]).astype(float)
        a, error, count = _direct(w, s)
        factor = efficiency.get(region, 1.0)  # the region's efficiency factor (1 for Belle II)
        assert result["value"] == pytest.approx(factor * a, rel=1e-12)
        # the one-pass variance cancels to ~1e-12 of A where every event is selected
        assert result["error"] == pytest.approx(factor * error, rel=1e-9, abs=1e-9 * factor * a)
        assert summary["selected_events"][region] == count
    assert any(summary["selected_events"][r] > 0 for r in summary["acceptance"])


def test_efficiency_factor_and_totals():
    sums = RunningSums(("flag", "p"), {"flag": 0.5})
    # two batches' totals: n, Σw, Σw², then (Σws, Σw²s, Σw²s², count) per region
    sums.add_totals(np.array([3.0, 6.0, 14.0, 3.0, 5.0, 5.0, 1.0, 2.0, 4.0, 1.0, 1.0]))
    sums.add_totals(np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 1.0]))
    assert (sums.n, sums.w, sums.w2) == (4, 7.0, 15.0)
    acceptance = sums.acceptance()
    a = 4.0 / 7.0
    assert acceptance["flag"]["value"] == pytest.approx(0.5 * a)
    assert acceptance["flag"]["error"] == pytest.approx(0.5 * math.sqrt(6.0 - 2 * a * 6.0 + a * a * 15.0) / 7.0)
    assert acceptance["flag"]["events"] == 2
    assert acceptance["p"]["value"] == pytest.approx(2.5 / 7.0)
    assert sums.selected_rate("flag") == pytest.approx(0.5 * 4.0)
    assert type(acceptance["p"]["value"]) is float


def test_sum_and_sum_of_squares():
    x = np.random.default_rng(1).normal(size=10_001)
    total, total2 = sum_and_sum_of_squares(x)
    assert total == pytest.approx(x.sum(), rel=1e-12)
    assert total2 == pytest.approx((x * x).sum(), rel=1e-12)
