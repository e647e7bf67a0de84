"""Every process on every production setup it accepts, with every acceptance model that
applies: the run integrates to the analytic rate (5σ), its events conserve four-momentum and
sit on their mass shells, its weights are finite and positive, its acceptances in [0, 1].

Each combination is its own fused kernel (gen.pipeline): the record, the stage functions and
the block rows differ, so a layout that does not fit one of them shows here.
"""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest
from axgen_testing import card_dict, check_events

import gen
from gen import acceptance as acceptance_models
from gen import driver, production
from gen.processes import REGISTRY

pytestmark = pytest.mark.slow


def _combinations() -> list[tuple[str, str, str]]:
    out = []
    for name, process in REGISTRY.items():
        for setup in process.setups + (("ee",) if "e+ e-" in name else ()):
            for experiment in acceptance_models.ACCEPTANCE:
                if not acceptance_models.problems(experiment, {}, process.signature, name, setup):
                    out.append((name, setup, experiment))
    return sorted(set(out))


COMBINATIONS = _combinations()


def test_the_combinations_cover_every_setup_and_model():
    setups = {setup for _, setup, _ in COMBINATIONS}
    models = {experiment for *_, experiment in COMBINATIONS}
    assert setups == {"rest", "ee", "na62", "koto", "belle2"}
    assert models == set(acceptance_models.ACCEPTANCE)
    assert {name for name, *_ in COMBINATIONS} == set(REGISTRY)


@pytest.mark.parametrize(("process", "setup", "experiment"), COMBINATIONS)
def test_every_combination_integrates_and_conserves(process, setup, experiment):
    raw = card_dict(process, events=6000, seed=11, run={"conjugate": "both"})
    raw["production"] = {"setup": setup}
    raw["acceptance"] = {"experiment": experiment}
    events, summary = gen.generate(raw)
    weights = ak.to_numpy(events.weight)
    assert np.all(np.isfinite(weights))
    assert np.all(weights >= 0.0)
    assert weights.sum() > 0.0
    card, prepared = driver.check(raw, "<test>")
    record = production.Producer(setup, card.production.options, prepared.topology).topology
    check_events(events, record.mothers2)  # a collision's products have the e⁺ as second mother
    rate, error = summary["rate"]["value"], summary["rate"]["error"]  # BR or σ, as the analytic one
    analytic = summary["analytic_rate"]["value"]
    assert 0.0 < error < 0.2 * rate
    assert abs(rate - analytic) < 5.0 * error + 1e-6 * analytic, (rate, error, analytic)
    for region, acceptance in summary["acceptance"].items():
        assert 0.0 <= acceptance["value"] <= 1.0 + 1e-12, region
        assert math.isfinite(acceptance["error"]), region
