"""Cards: every example validates and runs; bad cards fail with one clear line per problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from axgen_testing import CARDS

from gen import cards
from gen.cli import main

ALL_CARDS = sorted(CARDS.glob("*.toml"))


def test_there_are_cards_for_every_issue_2_process():
    processes = {cards.load(c).run.process for c in ALL_CARDS}
    assert {
        "K+ -> pi+ X",
        "KL -> pi0 X",
        "B+ -> K+ X",
        "B0 -> K0 X",
        "K+ -> pi+ nu nu~ (SM)",
        "KL -> pi0 nu nu~ (SM)",
        "B+ -> K+ nu nu~ (SM)",
        "B0 -> K0 nu nu~ (SM)",
        "B0 -> K*0(K+ pi-) X",
        "B+ -> K*+(K0S pi+) X",
        "B+ -> K*+(K+ pi0) X",
        "B0 -> K*0(K+ pi-) nu nu~ (SM)",
        "B+ -> K*+(K0S pi+) nu nu~ (SM)",
        "B+ -> K*+(K+ pi0) nu nu~ (SM)",
        "Z -> gamma X",
        "e+ e- -> gamma X",
    } <= processes
    excess = cards.load(CARDS / "b0_kstar0_x.toml").model
    assert (excess.m_X, abs(excess.g_bs)) == (2.1, 1.45e-8)


@pytest.mark.parametrize("card", ALL_CARDS, ids=lambda p: p.stem)
def test_every_card_runs(card, tmp_path, capsys):
    assert main(["validate", str(card)]) == 0
    out = tmp_path / "out"
    assert main(["run", str(card), "--events", "2000", "--output-dir", str(out), "--quiet"]) == 0
    written = {p.name for p in out.iterdir()}
    expected = {o.path for o in cards.load(card).output} | {"summary.json"}
    assert written == expected  # and no temporary file left behind
    capsys.readouterr()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


GOOD_RUN = '[run]\nprocess = "K+ -> pi+ X"\nevents = 1000\n'
GOOD_MODEL = "[model]\nm_X = 0.1\ng_sd = 1e-12\n"
OUTPUT = '[[output]]\nformat = "parquet"\npath = "e.parquet"\n'

BAD_CARDS = {
    "m_X above threshold": (
        GOOD_RUN + "[model]\nm_X = 0.4\ng_sd = 1e-12\n" + OUTPUT,
        [
            "model.m_X: expected a mass in (0, 0.35411) GeV (K+ -> pi+ X threshold m_K+ - m_pi+), got 0.4"
        ],
    ),
    "unknown process": (
        '[run]\nprocess = "K+ -> pi X"\nevents = 10\n' + GOOD_MODEL + OUTPUT,
        ["run.process: unknown process 'K+ -> pi X'; did you mean 'K+ -> pi+ X'?"],
    ),
    "unknown key": (
        GOOD_RUN + "evnets = 3\n" + GOOD_MODEL + "[sampler]\nwarmup_iteration = 3\n" + OUTPUT,
        [
            "run.evnets: unknown key; did you mean 'events'?",
            "sampler.warmup_iteration: unknown key; did you mean 'warmup_iterations'?",
        ],
    ),
    "negative events": (
        '[run]\nprocess = "K+ -> pi+ X"\nevents = -5\n' + GOOD_MODEL + OUTPUT,
        ["run.events: expected an integer >= 1, got -5"],
    ),
    "wrong types": (
        GOOD_RUN + 'seed = "abc"\nmode = "unweigted"\n[model]\nm_X = "heavy"\ng_sd = 1e-12\n'
        'g_nu = [1, 2]\nnarrow_width = "yes"\n' + OUTPUT,
        [
            "run.seed: expected an integer >= 0 and <= 9223372036854775807, got 'abc'",
            "run.mode: expected one of 'weighted', 'unweighted' (did you mean 'unweighted'?), got 'unweigted'",
            "model.m_X: expected a number > 0, got 'heavy'",
            "model.g_nu: expected a list of 3 real numbers [g_nu_e, g_nu_mu, g_nu_tau], got [1, 2]",
            "model.narrow_width: expected true or false, got 'yes'",
        ],
    ),
    "physics and structure together": (
        GOOD_RUN
        + "bacth_size = 10\n[model]\nm_X = 0.5\n"
        + OUTPUT
        + '[[output]]\nformat = "hepmc"\npath = "e.parquet"\n',
        [
            "run.bacth_size: unknown key; did you mean 'batch_size'?",
            "model.m_X: expected a mass in (0, 0.35411) GeV",
            "model.g_sd: expected a nonzero coupling for 'K+ -> pi+ X'",
            "output[1].format: expected one of hepmc3, hepmc3-pyhepmc, parquet, root, got 'hepmc'",
            "output[1].path: expected a unique path, got 'e.parquet' (also output[0])",
        ],
    ),
    "bad required run values do not hide the rest": (
        '[run]\nprocess = "K+ -> pi+ Y"\nevents = -5\n[model]\nm_X = 0.5\ng_sd = 1e-12\n' + OUTPUT,
        [
            "run.events: expected an integer >= 1, got -5",
            "run.process: unknown process 'K+ -> pi+ Y'; did you mean 'K+ -> pi+ X'?",
        ],
    ),
    "missing run table": (
        GOOD_MODEL + OUTPUT,
        ["run: required table missing"],
    ),
    "n_parents and n_decays together, bad cut values and cut order": (
        GOOD_RUN.replace("events = 1000", "events = 1000\nn_parents = 1e12\nn_decays = 1e11") + GOOD_MODEL
        + '[production]\nsetup = "na62"\n[acceptance]\nexperiment = "na62"\n'
        + "[acceptance.cuts]\np_max = 10.0\nsmear = 0.5\ngtk_resolution = nan\n" + OUTPUT,
        [
            "acceptance.cuts.smear: expected 0 or 1, got 0.5",
            "acceptance.cuts.gtk_resolution: expected a number >= 0, got nan",
            "acceptance.cuts.p_max: expected a value above p_min = 15, got 10",
            "run.n_decays: expected either n_parents or n_decays, got both",
        ],
    ),
    "hepmc3 cannot write zstd": (
        GOOD_RUN + GOOD_MODEL + '[[output]]\nformat = "hepmc3"\npath = "e.hepmc.zst"\n',
        ["output[0].path: expected .hepmc, .gz, .bz2 or .xz for format 'hepmc3', got 'e.hepmc.zst'"],
    ),
    "root has no snappy and wants .root": (
        GOOD_RUN + GOOD_MODEL + '[[output]]\nformat = "root"\npath = "e.root"\ncompression = "snappy"\n'
        + '[[output]]\nformat = "root"\npath = "e.root.gz"\n',
        [
            "output[0].compression: expected one of lz4, zstd, none for format 'root', got 'snappy'",
            "output[1].path: expected a .root file for format 'root', got 'e.root.gz'",
        ],
    ),
    "kl needs an imaginary coupling": (
        '[run]\nprocess = "KL -> pi0 X"\nevents = 10\n[model]\nm_X = 0.1\ng_sd = 1e-12\n' + OUTPUT,
        ["model.g_sd: expected a nonzero imaginary part for 'KL -> pi0 X'"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CARDS))
def test_bad_cards(case, tmp_path, capsys):
    text, fragments = BAD_CARDS[case]
    card = _write(tmp_path, text)
    out = tmp_path / "out"
    assert main(["run", str(card), "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == len(fragments), err
    for line, fragment in zip(err, fragments, strict=True):
        assert line.startswith(f"{card}: ")
        assert fragment in line, line
    assert "Traceback" not in "\n".join(err)
    assert not out.exists()


def test_unwritable_output_directory(tmp_path, capsys):
    card = _write(tmp_path, GOOD_RUN + GOOD_MODEL + OUTPUT)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    assert main(["run", str(card), "--output-dir", str(blocker / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "output directory: expected a writable directory" in err[0]
    assert blocker.read_text() == "not a directory"


def test_missing_and_malformed_files(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert "file not found" in capsys.readouterr().err
    bad = _write(tmp_path, "[run\nprocess = 1")
    assert main(["validate", str(bad)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_overrides():
    raw = cards.apply_overrides(
        {"run": {"process": "K+ -> pi+ X", "events": 5}},
        {
            "events": "100",
            "model.m_X": "0.2",
            "g_sd": "{re = 1e-12, im = 2e-12}",
            "mode": "unweighted",
        },
        "<t>",
    )
    card = cards.parse(raw, "<t>")
    assert card.run.events == 100
    assert card.run.mode == "unweighted"
    assert card.model.m_X == 0.2
    assert card.model.g_sd == complex(1e-12, 2e-12)
    with pytest.raises(cards.CardError, match="did you mean 'events'"):
        cards.apply_overrides({}, {"evnts": 1}, "<t>")
    no_files = cards.apply_overrides(
        {"output": [{"format": "parquet", "path": "a"}]}, {"output": "[]"}, "<t>"
    )
    assert no_files["output"] == []


def test_cli_subprocess_exit_codes(tmp_path):
    """One real process per subcommand (as a user runs them)."""
    good = CARDS / "k_pi_x.toml"
    run = [sys.executable, "-m", "gen"]
    assert subprocess.run([*run, "list"], capture_output=True, check=False).returncode == 0
    assert (
        subprocess.run([*run, "validate", str(good)], capture_output=True, check=False).returncode
        == 0
    )
    info = subprocess.run([*run, "info", str(good)], capture_output=True, text=True, check=False)
    assert info.returncode == 0
    assert "Gamma_X" in info.stdout
    assert "c tau_X" in info.stdout
    bad = _write(tmp_path, '[run]\nprocess = "K+ -> pi+ X"\nevents = 0\n')
    result = subprocess.run(
        [*run, "run", str(bad), "--output-dir", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert subprocess.run([*run], capture_output=True, check=False).returncode == 2


def test_schema_table_lists_every_key():
    table = cards.schema_table()
    for key in ("`process`", "`m_X`", "`g_nu`", "`warmup_iterations`", "`setup`", "`format`"):
        assert key in table
