"""``axgen scan``: values, the table and plot, the SM reference, bad points."""

from __future__ import annotations

import csv
import json

import pytest

from gen.cards import CardError, scan_values
from gen.cli import main

CARD = """
[run]
process = "K+ -> pi+ X"
events = 4000
seed = 9
n_decays = 1.0e13

[model]
m_X = 0.1
g_sd = 3.7e-13

[production]
setup = "na62"

[acceptance]
experiment = "na62"

[scan]
param = "model.m_X"
values = "0.05:0.25:3"

[[output]]
format = "parquet"
path = "events.parquet"
"""


def test_scan_values():
    assert scan_values("0.005:0.345:35")[:3] == (0.005, 0.015, 0.025)
    assert len(scan_values("0.005:0.345:35")) == 35
    assert scan_values("1e-3:1:4:log") == (0.001, 0.01, 0.1, 1.0)
    assert scan_values("0.1, 0.2,0.3") == (0.1, 0.2, 0.3)
    assert scan_values([1, 2]) == (1, 2)
    assert scan_values("2:2:1") == (2.0,)
    for bad in ("0:1", "0:1:0", "a:b:3", "0:1:3:lin", "0:1:3:log", "", []):
        with pytest.raises(Exception, match=r"start:stop:n|log scan"):
            scan_values(bad)


def _read_csv(path):
    with path.open() as f:
        return list(csv.DictReader(f))


def test_scan_writes_table_json_and_plot(tmp_path, capsys):
    card = tmp_path / "scan.toml"
    card.write_text(CARD)
    out = tmp_path / "out"
    assert main(["scan", str(card), "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "A[SR]" in printed
    assert "SM" in printed
    assert sorted(p.name for p in out.iterdir()) == ["scan.csv", "scan.json", "scan.png"]
    rows = _read_csv(out / "scan.csv")
    assert [float(r["model.m_X"]) for r in rows] == [0.05, 0.15, 0.25]
    for row in rows:
        rate = float(row["rate"])
        assert abs(rate - float(row["rate_analytic"])) < 5 * float(row["rate_error"])
        # n_decays: N = N_decays × rate × acceptance (acceptances per decay in the region)
        for region in ("SR", "R1", "R2", "FV"):
            expected = 1.0e13 * rate * float(row[f"acceptance[{region}]"])
            assert float(row[f"expected_events[{region}]"]) == pytest.approx(expected, rel=1e-6)  # NA62 slope term
        assert 0 < float(row["decay_probability"]) < 1
    # m_X = 0.05 in R1, 0.15 in the π⁰ gap, 0.25 in R2
    assert float(rows[0]["acceptance[R1]"]) > 0
    assert float(rows[0]["acceptance[R2]"]) == 0
    assert float(rows[1]["acceptance[SR]"]) == 0
    assert float(rows[2]["acceptance[R2]"]) > 0
    # the SM continuum ran once (the scanned key is in [model])
    assert len({r["sm_acceptance[SR]"] for r in rows}) == 1
    assert float(rows[0]["sm_acceptance[SR]"]) > 0
    table = json.loads((out / "scan.json").read_text())
    assert table["sm_process"] == "K+ -> pi+ nu nu~ (SM)"
    assert table["rate_unit"] == "BR"
    assert table["signal_regions"] == ["SR", "R1", "R2"]
    assert (out / "scan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_scan_of_a_cut_reruns_the_sm_and_can_write_events(tmp_path):
    card = tmp_path / "scan.toml"
    card.write_text(CARD)
    out = tmp_path / "out"
    code = main(["scan", str(card), "--param", "acceptance.cuts.p_max", "--values", "25,45",
                 "--output-dir", str(out), "--write-events", "--quiet"])
    assert code == 0
    rows = _read_csv(out / "scan.csv")
    assert float(rows[0]["sm_acceptance[SR]"]) < float(rows[1]["sm_acceptance[SR]"])
    assert float(rows[0]["acceptance[SR]"]) < float(rows[1]["acceptance[SR]"])
    points = sorted(p.name for p in (out / "points").iterdir())
    assert points == ["000_acceptance_cuts_p_max=25", "001_acceptance_cuts_p_max=45"]
    assert (out / "points" / points[0] / "events.parquet").exists()


def test_bad_points_are_reported_at_once_and_nothing_is_written(tmp_path, capsys):
    card = tmp_path / "scan.toml"
    card.write_text(CARD)
    out = tmp_path / "out"
    code = main(["scan", str(card), "--values", "0.1,0.4,0.5", "--output-dir", str(out)])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2  # one line per bad point
    assert all(line.startswith(f"{card}: model.m_X: expected") for line in err)
    assert not out.exists()
    code = main(["scan", str(card), "--param", "model.m_x", "--values", "0.1", "--output-dir", str(out)])
    assert code == 2
    assert "did you mean 'm_X'" in capsys.readouterr().err
    assert not out.exists()


def test_scan_needs_a_param_and_values(tmp_path, capsys):
    card = tmp_path / "scan.toml"
    card.write_text(CARD.replace('[scan]\nparam = "model.m_X"\nvalues = "0.05:0.25:3"\n', ""))
    assert main(["scan", str(card)]) == 2
    err = capsys.readouterr().err
    assert "scan.param: expected a card key to scan" in err
    assert "scan.values: expected the values to scan" in err
    assert main(["scan", str(card), "--param", "m_X", "--values", "1:2"]) == 2
    assert "scan.values: expected" in capsys.readouterr().err


def test_plan_rejects_scanning_the_process():
    from gen.scan import plan

    with pytest.raises(CardError, match=r"other than run\.process"):
        plan({"run": {"process": "K+ -> pi+ X", "events": 1}}, "<t>", "run.process", "a,b", None)
