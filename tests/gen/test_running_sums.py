"""Running sums (gen.running_sums) against the direct numpy formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gen.running_sums import RunningSums, _rows, sum_and_sum_of_squares


def _direct(weights, selections):
    """A = Σws/Σw and var(A) = Σw²(s − A)²/(Σw)² over all batches, per region."""
    w = np.concatenate(weights)
    out = {}
    for region in selections[0]:
        s = np.concatenate([np.asarray(sel[region], dtype=float) for sel in selections])
        a = (w * s).sum() / w.sum()
        var = (w * w * (s - a) ** 2).sum() / w.sum() ** 2
        out[region] = (a, math.sqrt(var), int(np.count_nonzero(s)))
    return out


def test_flags_and_probabilities_over_batches():
    rng = np.random.default_rng(3)
    sums = RunningSums(("flag", "p1", "p2"), {"flag": 0.5})
    weights, selections = [], []
    for n in (1000, 0, 2500, 7):
        w = rng.exponential(size=n)
        probabilities = rng.random((2, n)) * (rng.random((2, n)) < 0.7)  # rows of one array
        selected = {"flag": rng.random(n) < 0.3, "p1": probabilities[0], "p2": probabilities[1]}
        sums.add(w, selected)
        weights.append(w)
        selections.append(selected)
    direct = _direct(weights, selections)
    acceptance = sums.acceptance()
    for region, (a, err, count) in direct.items():
        factor = 0.5 if region == "flag" else 1.0
        assert acceptance[region]["value"] == pytest.approx(factor * a, rel=1e-12)
        assert acceptance[region]["error"] == pytest.approx(factor * err, rel=1e-10)
        assert acceptance[region]["events"] == count
        assert type(acceptance[region]["value"]) is float
    w_all = np.concatenate(weights)
    assert sums.w == pytest.approx(w_all.sum(), rel=1e-13)
    assert sums.selected_rate("flag") == pytest.approx(0.5 * sums.selected_w["flag"])


def test_rows_of_one_array_are_used_in_place_only_in_order():
    matrix = np.arange(12.0).reshape(3, 4).copy()  # owns its data, as an acceptance's matrix
    assert _rows([matrix[0], matrix[1], matrix[2]], np.float64) is matrix
    swapped = _rows([matrix[1], matrix[0], matrix[2]], np.float64)
    assert swapped is not matrix
    assert np.array_equal(swapped, matrix[[1, 0, 2]])
    assert _rows([matrix[0], matrix[1]], np.float64) is not matrix  # not every row
    column_major = np.asfortranarray(matrix)
    assert np.array_equal(_rows([column_major[0], column_major[1], column_major[2]], np.float64), matrix)


def test_sum_and_sum_of_squares():
    x = np.random.default_rng(1).normal(size=10_001)
    total, total2 = sum_and_sum_of_squares(x)
    assert total == pytest.approx(x.sum(), rel=1e-12)
    assert total2 == pytest.approx((x * x).sum(), rel=1e-12)
