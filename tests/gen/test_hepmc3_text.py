"""The numba HepMC3 writer (format ``hepmc3``) against pyhepmc's (``hepmc3-pyhepmc``).

Both formats write the same run; the files read back with ``pyhepmc.open`` give the same
events, and their text is the same token for token (the floats byte for byte in practice).
The kernels' float and integer formatting is checked against Python's printf.
"""

from __future__ import annotations

import gzip
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyhepmc
import pytest
from axgen_testing import card_dict
from hypothesis import example, given
from hypothesis import strategies as st

import gen
from gen.cards import OutputSection
from gen.output import RunInfo, hepmc3_text
from gen.output._hepmc3_kernels import format_floats, format_ints
from gen.output.hepmc3_text import HepMC3TextWriter
from phase_space._jit import set_event_threads

# K+ at rest, NA62 beam and selection, Belle II Υ(4S) → BB̄ (second mother), a 7-slot K*
# record, and a collision (two incoming beams at one vertex)
PROCESSES = [
    "K+ -> pi+ X",
    "K+ -> pi+ X @na62",
    "B+ -> K+ X @belle2",
    "B0 -> K*0(K+ pi-) X",
    "e+ e- -> gamma X",
]


def _write_both(directory: Path, process: str, events: int = 300, **output) -> tuple[Path, Path]:
    """One run written by both writers; ``process`` may end in " @setup"."""
    process, _, setup = process.partition(" @")
    raw = card_dict(process, events=events, run={"conjugate": "both", "batch_size": 1000})
    if setup:
        raw["production"] = {"setup": setup}
        raw["acceptance"] = {"experiment": setup}
    raw["output"] = [
        {"format": "hepmc3", "path": "fast.hepmc", **output},
        {"format": "hepmc3-pyhepmc", "path": "reference.hepmc", **output},
    ]
    gen.generate(raw, output_dir=directory)
    return directory / "fast.hepmc", directory / "reference.hepmc"


@pytest.fixture(scope="module", params=PROCESSES)
def written(request, tmp_path_factory):
    return _write_both(tmp_path_factory.mktemp("hepmc3"), request.param)


def _read(path: Path) -> list[pyhepmc.GenEvent]:
    with pyhepmc.open(path) as f:
        return list(f)


def _close(a, b) -> None:
    # 1e-12 relative; the floor only lets exact zeros compare (no float is that small here)
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-12, atol=1e-300)


def _is_float(token: str) -> bool:
    return "e" in token and token.lstrip("-")[0].isdigit()


def test_events_read_back_equal(written):
    """Event numbers, particles (pid, status, momentum, generated mass), vertices (position,
    incoming and outgoing particles), weights and the cross section."""
    fast, reference = (_read(p) for p in written)
    assert len(fast) == len(reference) > 0
    for ef, er in zip(fast, reference, strict=True):
        assert ef.event_number == er.event_number
        assert (ef.momentum_unit, ef.length_unit) == (pyhepmc.Units.GEV, pyhepmc.Units.MM)
        _close(ef.weights, er.weights)
        assert len(ef.particles) == len(er.particles)
        for pf, pr in zip(ef.particles, er.particles, strict=True):
            assert (pf.id, pf.pid, pf.status) == (pr.id, pr.pid, pr.status)
            assert pf.is_generated_mass_set
            assert pr.is_generated_mass_set
            _close(
                [pf.momentum.px, pf.momentum.py, pf.momentum.pz, pf.momentum.e, pf.generated_mass],
                [pr.momentum.px, pr.momentum.py, pr.momentum.pz, pr.momentum.e, pr.generated_mass],
            )
            for attr in ("production_vertex", "end_vertex"):
                vf, vr = getattr(pf, attr), getattr(pr, attr)
                assert (vf.id if vf else None) == (vr.id if vr else None)
        assert len(ef.vertices) == len(er.vertices)
        for vf, vr in zip(ef.vertices, er.vertices, strict=True):
            assert vf.id == vr.id
            assert [q.id for q in vf.particles_in] == [q.id for q in vr.particles_in]
            assert [q.id for q in vf.particles_out] == [q.id for q in vr.particles_out]
            f, r = vf.position, vr.position
            _close([f.x, f.y, f.z, f.t], [r.x, r.y, r.z, r.t])
        xf, xr = ef.cross_section, er.cross_section
        _close([xf.xsec(), xf.xsec_err()], [xr.xsec(), xr.xsec_err()])
        assert (xf.accepted_events, xf.attempted_events) == (
            xr.accepted_events,
            xr.attempted_events,
        )


def test_run_info_equal(written):
    fast, reference = (_read(p)[0].run_info for p in written)
    assert fast.weight_names == reference.weight_names == ["default"]
    assert [(t.name, t.version, t.description) for t in fast.tools] == [
        (t.name, t.version, t.description) for t in reference.tools
    ]
    attributes = {k: str(v) for k, v in fast.attributes.items()}
    assert attributes == {k: str(v) for k, v in reference.attributes.items()}
    assert "card" in attributes
    assert "seed" in attributes


def test_text_equal_token_by_token(written):
    """Same lines and tokens; a float may differ in its last digit only (the documented
    tolerance of the kernels' formatter)."""
    fast, reference = (p.read_text().splitlines() for p in written)
    assert len(fast) == len(reference)
    for line_f, line_r in zip(fast, reference, strict=True):
        tokens_f, tokens_r = line_f.split(" "), line_r.split(" ")
        assert len(tokens_f) == len(tokens_r), (line_f, line_r)
        for tf, tr in zip(tokens_f, tokens_r, strict=True):
            if tf != tr:
                assert _is_float(tf), (line_f, line_r)
                assert _is_float(tr), (line_f, line_r)
                mantissa_f, _, exponent_f = tf.partition("e")
                mantissa_r, _, exponent_r = tr.partition("e")
                assert exponent_f == exponent_r
                assert len(mantissa_f) == len(mantissa_r)
                ulp = 10.0 ** -(len(mantissa_r.partition(".")[2]))
                assert abs(float(mantissa_f) - float(mantissa_r)) <= 1.01 * ulp, (tf, tr)


def test_text_identical(written):
    """Stronger than the tolerance: with exact arithmetic the kernels write glibc's digits,
    so the files are the same bytes."""
    fast, reference = written
    assert fast.read_bytes() == reference.read_bytes()


@pytest.mark.parametrize("precision", [6, 17])
def test_precision_and_several_batches(tmp_path, precision, monkeypatch):
    """Three batches (the running cross section changes), cut into many small blocks and
    chunks of the scratch buffer, at the lowest and highest card precision."""
    monkeypatch.setattr(hepmc3_text, "EVENTS_PER_BLOCK", 7)
    monkeypatch.setattr(hepmc3_text, "CHUNK_BYTES", 40_000)
    fast, reference = _write_both(tmp_path, "B+ -> K+ X @belle2", events=2500, precision=precision)
    assert fast.read_bytes() == reference.read_bytes()
    events = _read(fast)
    assert [e.event_number for e in events] == list(range(2500))
    assert len({e.cross_section.xsec() for e in events}) == 3


def test_one_and_two_threads_write_the_same_file(tmp_path, monkeypatch):
    """Blocks shared out over two threads give the file of one thread (and of pyhepmc)."""
    monkeypatch.setattr(hepmc3_text, "EVENTS_PER_BLOCK", 5)  # 40 blocks: both threads work
    files = []
    for threads in (1, 2):
        set_event_threads(threads)
        try:
            fast, reference = _write_both(tmp_path / str(threads), "e+ e- -> gamma X", events=200)
        finally:
            set_event_threads(None)
        assert fast.read_bytes() == reference.read_bytes()
        files.append(fast.read_bytes())
    assert files[0] == files[1]


def test_gzip_members_read_back(tmp_path):
    """.gz: independent gzip members (one per block, compressed in parallel) that decompress
    to the plain file; pyhepmc reads them."""
    raw = card_dict("K+ -> pi+ X", events=1500, run={"batch_size": 1000})
    raw["output"] = [
        {"format": "hepmc3", "path": "e.hepmc"},
        {"format": "hepmc3", "path": "e.hepmc.gz"},
    ]
    gen.generate(raw, output_dir=tmp_path)
    plain = (tmp_path / "e.hepmc").read_bytes()
    packed = (tmp_path / "e.hepmc.gz").read_bytes()
    assert packed[:2] == b"\x1f\x8b"
    assert packed.count(b"\x1f\x8b\x08") > 2  # several members
    assert gzip.decompress(packed) == plain
    assert len(_read(tmp_path / "e.hepmc.gz")) == 1500


def _run_info() -> RunInfo:
    return RunInfo(
        process="K+ -> pi+ X",
        process_code=101,
        references=("arXiv:1", "PDG 2024"),
        seed=7,
        mode="weighted",
        card_json='{"text": "a\\nb | c"}',  # newline and bar: HepMC3 escapes them
        versions={"axgen": "0.1.0"},
        pdg_edition=2024,
        rate_unit="BR",
        labels=("K+", "pi+", "X", "nu", "nu~"),
    )


def test_no_events_gives_a_valid_file(tmp_path):
    path = tmp_path / "empty.hepmc"
    writer = HepMC3TextWriter(path, OutputSection(format="hepmc3", path=path.name), _run_info())
    writer.finish({})
    text = path.read_text()
    assert text.startswith("HepMC::Version 3")
    assert "A card {" in text
    assert text.endswith("HepMC::Asciiv3-END_EVENT_LISTING\n\n")
    assert _read(path) == []
    assert list(tmp_path.iterdir()) == [path]


def test_abort_leaves_no_file(tmp_path):
    path = tmp_path / "e.hepmc.gz"
    writer = HepMC3TextWriter(path, OutputSection(format="hepmc3", path=path.name), _run_info())
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_zstd_suffix_refused(tmp_path):
    path = tmp_path / "e.hepmc.zst"
    with pytest.raises(ValueError, match="hepmc3-pyhepmc"):
        HepMC3TextWriter(path, OutputSection(format="hepmc3", path=path.name), _run_info())


# --- the formatter ----------------------------------------------------------------------

SPECIAL = [0.0, -0.0, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, 0.5, 2.5, 1e23]


def _printf(value: float, precision: int) -> str:
    """C's ``%.{precision}e`` (Python's is the same, but for a NaN's sign)."""
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    return f"{value:.{precision}e}"


@pytest.mark.parametrize("precision", [0, 1, 6, 16, 17, 22])
def test_special_values(precision):
    values = [*SPECIAL, math.inf, -math.inf, math.nan, -math.nan]
    assert format_floats(np.array(values), precision) == [_printf(v, precision) for v in values]


@given(
    value=st.floats(allow_nan=False, allow_infinity=False),
    precision=st.integers(0, 22),
)
@example(value=1001 / 2**20, precision=15)  # a decimal tie at the 17th digit: to even
@example(value=12345675.0, precision=6)  # a tie above 10^n: the table's 10^-1 is inexact
@example(value=2.0**-1074, precision=22)
def test_float_round_trip(value, precision):
    """Parsed back, the kernel's text equals Python's (round trip to 1e-15 relative at
    precision ≥ 16); in the range where the kernel's arithmetic is exact the text is
    Python's byte for byte."""
    text = format_floats(np.array([value]), precision)[0]
    reference = _printf(value, precision)
    assert float(text) == pytest.approx(float(reference), rel=10.0**-precision, abs=0.0)
    if precision >= 16:
        assert float(text) == value
        assert abs(float(text) - value) <= 1e-15 * abs(value)
    n = precision + 1
    if value == 0.0 or 10.0 ** (n - 55) <= abs(value) < 10.0 ** (n - 1):
        assert text == reference


@given(st.integers(-(2**63), 2**63 - 1))
@example(-(2**63))
@example(0)
def test_int_text(value):
    assert format_ints(np.array([value])) == [str(value)]


def test_any_float_bits():
    """All exponents, both signs, subnormals: random bit patterns, at the writer's precisions."""
    rng = np.random.default_rng(5)
    values = rng.integers(0, 2**64, size=20_000, dtype=np.uint64).view(np.float64)
    for precision in (16, 22):
        texts = format_floats(values, precision)
        for value, text in zip(values.tolist(), texts, strict=True):
            if math.isnan(value):
                assert text == _printf(value, precision)
                continue
            assert float(text) == value, (value, text)
            if value == 0.0 or 10.0 ** (precision - 54) <= abs(value) < 10.0**precision:
                assert text == _printf(value, precision)


@pytest.mark.slow
def test_first_run_compiles_ahead_in_a_child(tmp_path):
    """With an empty numba cache the writer compiles its kernels in a child process beside
    the run (``warm_cache``); the run then loads them and writes the reference file."""
    card = tmp_path / "card.toml"
    card.write_text(
        '[run]\nprocess = "K+ -> pi+ X"\nevents = 300\nseed = 4\n[model]\nm_X = 0.1\ng_sd = 3.7e-13\n'
        '[[output]]\nformat = "hepmc3"\npath = "fast.hepmc"\n'
        '[[output]]\nformat = "hepmc3-pyhepmc"\npath = "reference.hepmc"\n'
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "gen", "run", str(card), "--quiet", "--output-dir", str(out)],
                   check=True, env=env, timeout=600)
    assert (out / "fast.hepmc").read_bytes() == (out / "reference.hepmc").read_bytes()
    assert not list(out.glob(".*")), "no temporary files left"


@pytest.mark.slow
def test_warm_cache_compiles_the_kernels_a_run_uses(tmp_path):
    """The dummy batch of ``warm_cache`` has the argument types of real runs: after it, a run
    (here Belle II, another record) loads the formatter from the cache without compiling."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    warm = "from gen.output.hepmc3_text import kernels_cold, warm_cache; assert kernels_cold(); warm_cache()"
    subprocess.run([sys.executable, "-c", warm], check=True, env=env, timeout=600)
    run = (
        "import sys; sys.path.insert(0, 'tests')\n"
        "import gen\n"
        "from axgen_testing import card_dict\n"
        "from gen.output._hepmc3_kernels import format_events\n"
        "from gen.output.hepmc3_text import kernels_cold\n"
        "assert not kernels_cold()\n"
        "raw = card_dict('B+ -> K+ X', events=50)\n"
        "raw['production'] = {'setup': 'belle2'}\n"
        f"raw['output'] = [{{'format': 'hepmc3', 'path': 'e.hepmc'}}]\n"
        f"gen.generate(raw, output_dir={str(tmp_path / 'out')!r})\n"
        "stats = format_events.dispatcher.stats\n"
        "print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))\n"
    )
    result = subprocess.run([sys.executable, "-c", run], check=True, env=env, timeout=600,
                            capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    hits, misses = map(int, result.stdout.split()[-2:])
    assert (hits, misses) == (1, 0)
