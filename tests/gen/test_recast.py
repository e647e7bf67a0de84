"""``axgen recast belle2``: card checks, the point loop and its outputs."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from axgen_testing import CARDS

from gen.acceptance.belle2 import ANALYSIS_BINS
from gen.cli import main
from gen.recast import likelihood
from gen.recast.belle2 import COLUMNS

CARD = CARDS / "belle2_recast.toml"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("run.process=B0 -> K0 X", "run.process: expected 'B+ -> K+ X' for axgen recast belle2"),
        ("production.setup=rest", "production.setup: expected 'belle2' for axgen recast belle2"),
        ("acceptance.experiment=none", "acceptance.experiment: expected 'belle2' for axgen recast belle2"),
    ],
)
def test_recast_needs_a_belle2_b_to_k_x_card(tmp_path, capsys, override, message):
    out = tmp_path / "out"
    assert main(["recast", "belle2", str(CARD), "--set", override, "--output-dir", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_point_is_reported_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["recast", "belle2", str(CARD), "--values", "2.0,5.5", "--output-dir", str(out)]) == 2
    assert "model.m_X: expected a mass in (0, 4.78573) GeV" in capsys.readouterr().err
    assert not out.exists()


def test_recast_scan_writes_the_table(tmp_path, capsys):
    """2.1 GeV and 4.75 GeV (narrow X): recast.csv has the contract's columns first, BR = μ̂ ×
    BR_card and |g_bs| = √μ̂ × |g_bs,card|, the limit lies above the best fit, the yields use the
    published B count whatever the card says (``n_bb`` changed here), and a mass whose q² lies
    beyond the published map gets no fit (μ̂ = 0, no limit) instead of stopping the scan."""
    out = tmp_path / "out"
    code = main(["recast", "belle2", str(CARD), "--values", "2.1,4.75", "--events", "20000",
                 "--set", "model.narrow_width=true", "--set", "production.n_bb=1e6", "--output-dir", str(out)])
    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "best: m_X = 2.1" in printed
    with (out / "recast.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:5] == ["m_X", *COLUMNS]
    assert [float(r["m_X"]) for r in rows] == [2.1, 4.75]
    signal, beyond = rows
    mu_hat = float(signal["mu_hat"])
    assert float(signal["best_fit_br"]) == pytest.approx(mu_hat * float(signal["br_card"]), rel=1e-12)
    assert float(signal["best_fit_g_bs"]) == pytest.approx(np.sqrt(mu_hat) * 1.45e-8, rel=1e-12)
    assert float(signal["br_upper_95"]) > float(signal["best_fit_br"])
    n_b = 2 * 387e6 * 0.516
    assert float(signal["x_events_ITA"]) == pytest.approx(
        n_b * float(signal["br_card"]) * float(signal["acceptance_ITA"]), rel=1e-12)
    # at 2.1 GeV the data want X: a clear excess over the SM (the published 2.7σ tension)
    assert float(signal["significance"]) > 2.0
    assert 3e-6 < float(signal["best_fit_br"]) < 2e-5
    assert float(beyond["acceptance_ITA"]) == 0.0
    assert (float(beyond["mu_hat"]), float(beyond["significance"])) == (0.0, 0.0)
    assert float(beyond["br_upper_95"]) == np.inf
    table = json.loads((out / "recast.json").read_text())
    assert table["published_fit"]["mu"] == pytest.approx(4.6, abs=0.05)
    assert (out / "recast.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(ANALYSIS_BINS) == sum(n for _, n in likelihood.CHANNELS)
