"""The fused generation kernel: the same events as the stages run one by one, ranges split on
block boundaries, and the stages' loops vectorise inside it."""

from __future__ import annotations

import platform
import re

import numba
import numpy as np
import pytest
from axgen_testing import card_dict

from gen import acceptance as acceptance_models
from gen import driver, pipeline, production
from gen.acceptance import na62
from gen.events import vertex_table
from gen.production import kaon_beams
from matrix_elements import p_to_pprime
from phase_space import block
from phase_space._jit import split
from phase_space.random import STREAM_PHASE_SPACE, stream_key
from phase_space.sampler import adapt_map


def _na62_run(n_events: int = 3000):
    raw = card_dict("K+ -> pi+ X", m_X=0.2)
    raw["production"] = {"setup": "na62"}
    raw["acceptance"] = {"experiment": "na62"}
    card, prepared = driver.check(raw, "<test>")
    frozen, _ = adapt_map(p_to_pprime.integrand, prepared.params, prepared.n_dim, iterations=3,
                          evaluations=2000, seed=1)
    producer = production.Producer("na62", card.production.options, prepared.topology)
    model = acceptance_models.get("na62", {})
    context = {"slots": {211: [1]}}
    key = stream_key(7, STREAM_PHASE_SPACE)
    fused = pipeline.fused_kernel(prepared, frozen, producer, model, context, 7, key)
    fused.weighting(1.0 / n_events)
    batch = fused.new_batch(n_events)
    fused(0, batch)
    return prepared, frozen, producer, model, context, key, batch


def test_fused_kernel_gives_the_events_of_the_stages_one_by_one():
    """Process kernel, then the NA62 beam, then the NA62 selection, each over the whole batch
    through its own batch kernel: the same momenta, decay point, weights and flags, bit for bit."""
    n = 3000
    prepared, frozen, producer, model, context, key, batch = _na62_run(n)
    p = np.empty((4, n, prepared.topology.n_slots))
    pid = np.empty((n, prepared.topology.n_slots), dtype=np.int32)
    fjac, q2 = np.empty(n), np.empty(n)
    p_to_pprime.generate(key, np.int64(0), frozen.grid, frozen.inc, frozen.ninc, prepared.params,
                         prepared.topology.pids, 0.0, p, pid, fjac, q2)
    v, root_decay, factor = kaon_beams.na62(producer.options, producer.decaying_spectrum, 7, 0, p, producer.parent_mass,
                                            producer.parent_ctau_mm)
    np.testing.assert_array_equal(batch.p, p)
    np.testing.assert_array_equal(batch.pid, pid)
    np.testing.assert_allclose(batch.weight, fjac * factor / n, rtol=4e-16, atol=0)
    vertex_of_slot, _ = vertex_table(prepared.topology.mothers)
    full_v = batch.vertices[:, :, vertex_of_slot]  # one vertex per particle again
    np.testing.assert_array_equal(full_v[:, :, 0], v[:, :, 0])  # the K⁺ at GTK3
    np.testing.assert_array_equal(full_v[:, :, 1], root_decay)  # the π⁺ from the K⁺ decay
    observables, selected = model.apply(p, pid, q2, context, 7, 0, v=full_v)
    for j, name in enumerate(na62.OBSERVABLES):
        np.testing.assert_array_equal(batch.observables[j], observables[name])
    for j, region in enumerate(na62.REGIONS):
        np.testing.assert_array_equal(batch.selected[j], selected[region])
    assert batch.selected[na62.REGIONS.index("FV")].any()


def test_block_sums_are_the_sums_of_the_stored_events():
    n = 3000
    *_, batch = _na62_run(n)
    totals = batch.totals()
    assert totals[pipeline.SUM_KEPT] == n  # weighted: every event kept
    assert totals[pipeline.SUM_W] == pytest.approx(batch.weight.sum(), rel=1e-13)
    assert totals[pipeline.SUM_W2] == pytest.approx((batch.weight**2).sum(), rel=1e-13)
    for r in range(len(na62.REGIONS)):
        ws = batch.weight * batch.selected[r]
        column = pipeline.SUM_REGIONS + 4 * r
        assert totals[column] == pytest.approx(ws.sum(), rel=1e-13, abs=1e-300)
        assert totals[column + 3] == np.count_nonzero(ws)


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_ranges_start_on_block_boundaries(threads):
    for n in (1, 63, 64, 65, 1000, 100_000):
        bounds = split(n, threads, block.BLOCK)
        assert bounds[0] == 0
        assert bounds[-1] == n
        assert np.all(np.diff(bounds) >= 0)
        starts = bounds[:-1][np.diff(bounds) > 0]  # of the ranges with events
        assert np.all(starts % block.BLOCK == 0)


def _ir_of_stage(stage, args):
    """Optimised LLVM IR of ``stage(s, 0, *args)`` on a scratch block of the caller's own (as in
    the fused kernel: the block's row stride is a constant there), compiled without the cache
    (cached code cannot be inspected)."""

    # the arguments spelt out: numba inlines a stage (inline="always") only without *args
    spelt = ", ".join(f"args[{j}]" for j in range(len(args)))
    source = f"def call(args):\n    s = scratch()\n    s[:] = 1.0\n    stage(s, 0, {spelt})\n    return s[0, 0]\n"
    namespace = {"scratch": block.scratch, "stage": stage}
    exec(source, namespace)  # noqa: S102
    call = numba.njit(error_model="numpy")(namespace["call"])
    call(args)
    return "".join(call.inspect_llvm().values())


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="vector widths of x86")
def test_the_stages_loops_over_the_block_vectorise():
    """What the block layout is for: the loops over the events of a block compile to vector
    instructions (square roots and divisions on <N x double>); a libm call or a store to a
    runtime row of the block would keep them scalar (phase_space.block docstring)."""
    prepared, frozen, producer, model, context, key, _ = _na62_run(100)
    stages = {
        "P -> P' X": (p_to_pprime.block, (key, frozen.grid, frozen.inc, frozen.ninc, prepared.params, 0.0)),
        "NA62 beam": producer.stage(7),
        "NA62 selection": model.stage(context, 7),
    }
    vector = re.compile(r"(fdiv|call) [^\n]*<(2|4|8|16) x double>")
    for name, (stage, args) in stages.items():
        ir = _ir_of_stage(stage, args)
        assert vector.search(ir), f"{name}: no vector arithmetic in its compiled loops"
        assert "@llvm.sqrt.v" in ir, f"{name}: no vector square root"


def test_a_batch_without_the_record_has_the_same_sums_and_no_events():
    """A run nobody reads the events of skips the store: the per-block sums stay bit for bit."""
    n = 3000
    *_, recorded = _na62_run(n)
    prepared, frozen, producer, model, context, key, _ = _na62_run(1)
    fused = pipeline.fused_kernel(prepared, frozen, producer, model, context, 7, key)
    fused.weighting(1.0 / n)
    sums_only = fused.new_batch(n, record=False)
    fused(0, sums_only)
    assert recorded.record
    assert not sums_only.record
    assert sums_only.n_events == n
    assert sums_only.p.shape[1] == 0
    assert sums_only.weight.shape == (0,)
    np.testing.assert_array_equal(sums_only.block_sums, recorded.block_sums)


def test_a_record_that_does_not_fit_the_block_is_refused():
    """Every limit of the scratch block is checked before a kernel indexes its rows unchecked."""
    from phase_space.block import MAX_DIM, MAX_SLOTS, N_OBSERVABLES, N_SELECTED

    pipeline.check_fits_block(MAX_SLOTS, MAX_DIM, N_OBSERVABLES, N_SELECTED)  # the limits themselves fit
    with pytest.raises(ValueError, match=r"particles per event: 17 > 16; selection regions: 25 > 24"):
        pipeline.check_fits_block(MAX_SLOTS + 1, 1, 1, N_SELECTED + 1)
    for too_many in ((1, MAX_DIM + 1, 1, 1), (1, 1, N_OBSERVABLES + 1, 1)):
        with pytest.raises(ValueError, match="does not fit a scratch block"):
            pipeline.check_fits_block(*too_many)
