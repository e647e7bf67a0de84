"""HepMC3, parquet and ROOT files read back with the same events (pyhepmc, awkward, vector,
uproot)."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pyhepmc
import pytest
import vector
from axgen_testing import card_dict

import gen
from gen.output import root
from gen.output.parquet import read_summary


def _run(tmp_path, process, events=200, **model):
    """``process`` may end in " @setup" (a beam in flight, with its experiment's selection)."""
    process, _, setup = process.partition(" @")
    raw = card_dict(process, events=events, run={"conjugate": "both", "batch_size": 1000}, **model)
    if setup:
        raw["production"] = {"setup": setup}
        raw["acceptance"] = {"experiment": setup}
    raw["output"] = [
        {"format": "hepmc3", "path": "events.hepmc"},
        {"format": "hepmc3", "path": "events.hepmc.gz", "precision": 17},
        {"format": "parquet", "path": "events.parquet"},
    ]
    events, summary = gen.generate(raw, output_dir=tmp_path)
    return events, summary


@pytest.mark.parametrize(
    "process",
    [
        "K+ -> pi+ X",
        "KL -> pi0 X",
        "B0 -> K0 nu nu~ (SM)",
        "B0 -> K*0(K+ pi-) X",
        "B+ -> K*+(K+ pi0) X",
        "Z -> gamma X",
        "e+ e- -> gamma X",
        "K+ -> pi+ X @na62",
        "KL -> pi0 X @koto",
        "B+ -> K+ nu nu~ (SM) @belle2",
        "B0 -> K*0(K+ pi-) X @belle2",
    ],
)
@pytest.mark.parametrize("name", ["events.hepmc", "events.hepmc.gz"])
def test_hepmc3_round_trip(tmp_path, process, name):
    """Every particle, momentum and production vertex (experiment coordinates for beams in
    flight); the cross section is the normalisation of the weights (× ⟨P⟩ in flight)."""
    events, summary = _run(tmp_path, process)
    process = process.partition(" @")[0]
    parts = events.particles
    with pyhepmc.open(tmp_path / name) as f:
        read = list(f)
    assert len(read) == len(events)
    run_info = read[0].run_info
    assert run_info.weight_names == ["default"]
    attrs = {k: str(v) for k, v in run_info.attributes.items()}
    assert attrs["process"] == process
    assert int(attrs["seed"]) == summary["seed"]
    assert int(attrs["pdg_edition"]) == 2024
    assert json.loads(attrs["card"])["run"]["process"] == process
    for i, event in enumerate(read):
        assert event.event_number == events.event[i]
        assert event.weights[0] == events.weight[i]
        assert event.momentum_unit == pyhepmc.Units.GEV
        assert event.length_unit == pyhepmc.Units.MM
        record = event.particles
        assert [p.pid for p in record] == ak.to_list(parts.pid[i])
        assert [p.status for p in record] == ak.to_list(parts.status[i])
        momenta = np.array(
            [[p.momentum.e, p.momentum.px, p.momentum.py, p.momentum.pz] for p in record]
        )
        expected = np.stack([ak.to_numpy(parts[i][c]) for c in ("E", "px", "py", "pz")], axis=-1)
        np.testing.assert_array_equal(momenta, expected)
        # mothers: each particle's production vertex has its mother as incoming particle (and,
        # for a collision, the other beam); beams have status 4
        mothers = ak.to_list(parts.mother[i])
        beams = [j + 1 for j, s in enumerate(ak.to_list(parts.status[i])) if s == 4]
        for j, particle in enumerate(record):
            vertex = particle.production_vertex
            if mothers[j] < 0:
                assert vertex is None or vertex.id == 0
            else:
                incoming = [q.id for q in vertex.particles_in]
                assert incoming == ([mothers[j] + 1] if mothers[j] + 1 not in beams else beams)
                pos = vertex.position
                np.testing.assert_array_equal(
                    [pos.x, pos.y, pos.z, pos.t],
                    [parts.vx[i][j], parts.vy[i][j], parts.vz[i][j], parts.vt[i][j]],
                )
        for vertex in event.vertices:
            assert len(vertex.particles_in) >= 1
    # the last event carries the final rate estimate
    xs = read[-1].cross_section
    scale = summary["production"].get("decay_probability", 1.0)
    assert xs.xsec() == pytest.approx(summary["rate"]["value"] * scale, rel=1e-8)
    assert xs.xsec_err() == pytest.approx(summary["rate"]["error"] * scale, rel=1e-8)
    assert summary["sum_of_weights"] == pytest.approx(summary["rate"]["value"] * scale, rel=1e-6)


@pytest.mark.parametrize(
    ("process", "slot", "mass"),
    [
        ("B+ -> K+ X", 1, 0.493677),
        ("B0 -> K*0(K+ pi-) X", 1, 0.89555),
        ("B0 -> K*0(K+ pi-) X", 5, 0.493677),
        ("e+ e- -> gamma X", None, None),  # E/m ~ 1e5 beams: their mass from (E, p) is not exact
        ("Z -> gamma X", 0, 91.188),
    ],
)
def test_parquet_round_trip(tmp_path, process, slot, mass):
    """5- and 7-particle records read back; vector masses of a fixed slot and of X are right."""
    events, summary = _run(tmp_path, process, m_X=2.1)
    read = ak.from_parquet(tmp_path / "events.parquet")
    assert ak.array_equal(read, events)
    assert read.fields == ["event", "weight", "particles", "observables", "selected"]
    assert read.particles.fields == [
        "pid",
        "status",
        "mother",
        "E",
        "px",
        "py",
        "pz",
        "vx",
        "vy",
        "vz",
        "vt",
    ]
    vector.register_awkward()
    masses = read.particles.mass
    if slot is not None:
        np.testing.assert_allclose(ak.to_numpy(masses[:, slot]), mass, rtol=1e-9)
    x = ak.to_list(read.particles.pid[0]).index(32)
    np.testing.assert_allclose(
        ak.to_numpy(masses[:, x]) ** 2, ak.to_numpy(read.observables.q2), rtol=1e-9
    )
    assert set(np.unique(ak.to_numpy(np.abs(read.particles.pid[:, 0])))) == {
        abs(ak.to_list(read.particles.pid[0])[0])
    }
    # the summary is in the footer
    stored = read_summary(tmp_path / "events.parquet")
    assert stored["rate"] == summary["rate"]
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert stored == {k: v for k, v in on_disk.items() if k != "timing"}
    assert np.sum(read.weight) == pytest.approx(summary["rate"]["value"], rel=1e-12)


def test_failed_run_leaves_no_files(tmp_path, monkeypatch):
    from gen.output import parquet

    def boom(self, batch, rate):  # noqa: ARG001
        raise OSError("disk full")

    monkeypatch.setattr(parquet.ParquetWriter, "write_batch", boom)
    with pytest.raises(OSError, match="disk full"):
        _run(tmp_path, "K+ -> pi+ X", events=3000)
    assert not any(p.suffix in (".parquet", ".hepmc", ".gz", ".json") for p in tmp_path.iterdir())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("process", "compression", "run"),
    [
        ("K+ -> pi+ X @na62", "lz4", {}),  # pass flags
        ("B+ -> K+ X @belle2", "zstd", {}),  # selection probabilities (float regions)
        ("B0 -> K*0(K+ pi-) X @belle2", "lz4", {}),  # 11 particles
        ("KL -> pi0 X @koto", "lz4", {"mode": "unweighted", "keep": "selected"}),  # NaN observables
        ("e+ e- -> gamma X", "none", {}),
    ],
)
def test_root_round_trip(tmp_path, process, compression, run):
    """The ROOT tree holds the parquet file's events exactly (every particle field, weight,
    observable and selection, their types), one basket per non-empty batch, and the same
    stored summary."""
    process, _, setup = process.partition(" @")
    raw = card_dict(process, events=2500, run={"conjugate": "both", "batch_size": 1000, **run})
    if setup:
        raw["production"] = {"setup": setup}
        raw["acceptance"] = {"experiment": setup}
    raw["output"] = [
        {"format": "root", "path": "events.root", "compression": compression},
        {"format": "parquet", "path": "events.parquet"},
    ]
    events, summary = gen.generate(raw, output_dir=tmp_path)
    read = root.read_events(tmp_path / "events.root")
    parquet = ak.from_parquet(tmp_path / "events.parquet")
    assert len(read) == len(parquet) == len(events) > 0
    assert str(read.type) == str(parquet.type)  # fields, order, dtypes and the Momentum4D name
    assert ak.array_equal(read, parquet, equal_nan=True)  # bit for bit, every field
    if setup == "belle2" and process.startswith("B+"):
        assert str(read.selected.type).count("float64") > 1
    vector.register_awkward()
    np.testing.assert_array_equal(ak.to_numpy(ak.flatten(read.particles.mass)),
                                  ak.to_numpy(ak.flatten(parquet.particles.mass)))
    import uproot

    with uproot.open(tmp_path / "events.root") as f:
        tree = f[root.TREE]
        per_batch = [n for n in np.diff(tree["weight"].member("fBasketEntry")[: tree["weight"].num_baskets + 1]) if n]
        assert tree["weight"].num_baskets == len(per_batch) >= 2  # streamed, no empty basket
        assert ak.all(tree["nparticles"].array() == len(events.particles[0]))
    assert root.read_summary(tmp_path / "events.root") == read_summary(tmp_path / "events.parquet")
    assert root.read_summary(tmp_path / "events.root")["rate"] == summary["rate"]
    assert not list(tmp_path.glob(".*")), "no temporary files left"


def _batch(n, first=0):
    """A small two-particle EventBatch of ``n`` events (writer-level tests)."""
    from gen.events import EventBatch

    rng = np.random.default_rng(first)
    return EventBatch(
        first_event=first, p=rng.random((4, n, 2)), vertices=rng.random((4, n, 2)),
        vertex_of_slot=np.arange(2), pid=np.full((n, 2), 22, dtype=np.int32),
        status=np.array([2, 1], dtype=np.int32), mothers=np.array([-1, 0], dtype=np.int32),
        masses=np.zeros(2), weight=rng.random(n), event_number=np.arange(first, first + n, dtype=np.int64),
        observables={"q2": rng.random(n)}, selected={"SR": rng.random(n) > 0.5},
    )


def test_root_writer_streams_batches_and_skips_empty_ones(tmp_path):
    """Empty batches (unweighted or keep = "selected" runs) make no basket; the others one
    each, with their events in order; nothing is on disk before the first batch."""
    import uproot

    from gen.cards import OutputSection
    from gen.output import RunInfo

    info = RunInfo(process="test", process_code=0, references=(), seed=0, mode="weighted", card_json="{}",
                   versions={}, pdg_edition=2024, rate_unit="BR", labels=("a", "b"))
    writer = root.ROOTWriter(tmp_path / "t.root", OutputSection(format="root", path="t.root"), info)
    assert list(tmp_path.iterdir()) == []  # opened with the first batch
    batches = [_batch(0), _batch(5, 0), _batch(0, 5), _batch(3, 5)]
    for batch in batches:
        writer.write_batch(batch, (0.0, 0.0, 0, 0))
    writer.finish({"rate": {"value": 1.0}})
    with uproot.open(tmp_path / "t.root") as f:
        branch = f[root.TREE]["weight"]
        assert branch.num_baskets == 2
        np.testing.assert_array_equal(branch.member("fBasketEntry")[:3], [0, 5, 8])
        np.testing.assert_array_equal(branch.array(library="np"), np.concatenate([b.weight for b in batches]))
    read = root.read_events(tmp_path / "t.root")
    np.testing.assert_array_equal(ak.to_numpy(read.particles.E), np.concatenate([b.p[0] for b in batches]))
    np.testing.assert_array_equal(ak.to_numpy(read.particles.vt), np.concatenate([b.v[3] for b in batches]))
    assert root.read_summary(tmp_path / "t.root") == {"rate": {"value": 1.0}}
    aborted = root.ROOTWriter(tmp_path / "u.root", OutputSection(format="root", path="u.root"), info)
    aborted.write_batch(_batch(4), (0.0, 0.0, 0, 0))
    aborted.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.root"]


def test_failed_root_run_leaves_no_files(tmp_path, monkeypatch):
    def boom(self, batch, rate):  # noqa: ARG001
        raise OSError("disk full")

    monkeypatch.setattr(root.ROOTWriter, "write_batch", boom)
    raw = card_dict("K+ -> pi+ X", events=3000, run={"batch_size": 1000})
    raw["output"] = [{"format": "root", "path": "events.root"}]
    with pytest.raises(OSError, match="disk full"):
        gen.generate(raw, output_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
