"""Belle II B+ → K+ νν̄ recast likelihood (gen/recast/likelihood.py).

References: arXiv:2311.14647 and experiments.md §3.7 (μ̂ = 4.6 ± 1.0 (stat) ± 0.9 (syst),
"2.7σ above the SM"). The model with X is built once per module (about 20 s of jax
compilation); each point then takes about a second.
"""

from __future__ import annotations

import math

import numpy as np
import pyhf
import pytest

from gen.recast import likelihood
from gen.recast.likelihood import CHANNELS, N_SIGNAL_BINS

# pyhf 0.7 validates workspaces with jsonschema.RefResolver (deprecated in jsonschema 4.18)
ignore_pyhf_schema_warning = pytest.mark.filterwarnings(
    "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
)

PUBLISHED_MU_HAT = 4.6
PUBLISHED_Z_ABOVE_SM = 2.716  # √(2ΔNLL) of mu = 1 versus the best fit, unmodified workspace


@pytest.fixture(scope="module")
def recast() -> likelihood.RecastLikelihood:
    return likelihood.RecastLikelihood()


@pytest.fixture(scope="module")
def sm_shaped_x(recast: likelihood.RecastLikelihood) -> likelihood.PointResult:
    """X injected with exactly the SM signal templates: SM + X = (1 + mu_X) × SM."""
    return recast.fit(recast.sm_templates)


def test_channels_are_the_workspace_signal_channels() -> None:
    spec = likelihood.load_workspace()
    bins = {channel["name"]: len(channel["samples"][0]["data"]) for channel in spec["channels"]}
    assert [(name, bins[name]) for name, _ in CHANNELS] == list(CHANNELS)
    assert sum(n for _, n in CHANNELS) == N_SIGNAL_BINS == 18


def test_published_signal_strength_is_reproduced() -> None:
    mu_hat, error = likelihood.published_signal_strength()
    assert mu_hat == pytest.approx(PUBLISHED_MU_HAT, abs=0.05), f"mu_hat = {mu_hat:.4f}"
    # published ±1.0 (stat) ±0.9 (syst), each rounded to 0.1: the total lies in
    # [√(0.95² + 0.85²), √(1.05² + 0.95²)] = [1.275, 1.416]
    assert 1.275 <= error <= 1.416, f"total uncertainty on mu = {error:.4f}"


def test_the_pyhf_backend_is_left_as_found(
    recast: likelihood.RecastLikelihood,
) -> None:
    before = pyhf.get_backend()
    recast.expected_counts(recast.sm_templates)
    assert pyhf.get_backend() == before


@ignore_pyhf_schema_warning
def test_expected_counts_are_sm_plus_background_plus_x(
    recast: likelihood.RecastLikelihood,
) -> None:
    yields = np.random.default_rng(7).uniform(0.0, 30.0, N_SIGNAL_BINS)
    original = pyhf.Workspace(likelihood.load_workspace()).model()
    assert recast.model.config.channels == original.config.channels
    sm_and_background = np.asarray(
        original.expected_actualdata(original.config.suggested_init()), dtype=float
    )  # mu = 1, all nuisance parameters nominal
    x_per_bin = np.zeros_like(sm_and_background)
    ends = np.cumsum([0] + [n for _, n in CHANNELS])
    for (name, _), start, stop in zip(CHANNELS, ends[:-1], ends[1:], strict=True):
        x_per_bin[original.config.channel_slices[name]] = yields[start:stop]

    np.testing.assert_allclose(
        recast.expected_counts(yields), sm_and_background + x_per_bin, rtol=1e-9, atol=0.0
    )
    np.testing.assert_allclose(
        recast.expected_counts(yields, mu_x=0.0), sm_and_background, rtol=1e-9, atol=0.0
    )


def test_x_with_the_sm_shape_closes_on_the_published_fit(
    sm_shaped_x: likelihood.PointResult,
) -> None:
    # SM fixed at 1 plus X = SM templates is the published model with mu = 1 + mu_X
    assert sm_shaped_x.mu_hat == pytest.approx(PUBLISHED_MU_HAT - 1.0, abs=0.05), sm_shaped_x
    assert sm_shaped_x.significance == pytest.approx(PUBLISHED_Z_ABOVE_SM, abs=0.05), sm_shaped_x


def test_upper_limit_and_significance_are_consistent(
    sm_shaped_x: likelihood.PointResult,
) -> None:
    result = sm_shaped_x
    assert result.mu_upper_95 > result.mu_hat > 0.0
    assert result.nll_best <= result.nll_background
    assert result.significance == pytest.approx(
        math.sqrt(2.0 * (result.nll_background - result.nll_best)), rel=1e-9
    )


def test_upper_limit_scales_inversely_with_the_yields(
    recast: likelihood.RecastLikelihood, sm_shaped_x: likelihood.PointResult
) -> None:
    """The yields are rescaled internally; the results must be scaled back exactly."""
    tiny = recast.fit(1e-3 * recast.sm_templates)
    tinier = recast.fit(0.5e-3 * recast.sm_templates)
    assert tinier.mu_upper_95 / tiny.mu_upper_95 == pytest.approx(2.0, rel=0.01)
    assert 1e-3 * tiny.mu_upper_95 == pytest.approx(sm_shaped_x.mu_upper_95, rel=0.01)
    assert 1e-3 * tiny.mu_hat == pytest.approx(sm_shaped_x.mu_hat, rel=0.01)


def test_x_the_data_do_not_want_has_zero_best_fit_and_significance(
    recast: likelihood.RecastLikelihood,
) -> None:
    yields = np.zeros(N_SIGNAL_BINS)
    yields[0] = 10.0  # ITA A, first bin: the SM-only fit predicts 1852 events, 1830 observed
    result = recast.fit(yields)
    assert result.mu_hat == 0.0
    assert result.significance == 0.0
    assert result.nll_best == result.nll_background
    assert 0.0 < result.mu_upper_95 < np.inf


@pytest.mark.parametrize(
    "x_yields",
    [
        pytest.param(np.ones(N_SIGNAL_BINS - 1), id="too-few-bins"),
        pytest.param(np.ones((2, N_SIGNAL_BINS)), id="two-dimensional"),
        pytest.param(np.r_[-1.0, np.ones(N_SIGNAL_BINS - 1)], id="negative"),
        pytest.param(np.r_[np.nan, np.ones(N_SIGNAL_BINS - 1)], id="nan"),
        pytest.param(np.r_[np.inf, np.ones(N_SIGNAL_BINS - 1)], id="infinite"),
        pytest.param(np.zeros(N_SIGNAL_BINS), id="all-zero"),
        pytest.param(["a"] * N_SIGNAL_BINS, id="not-numbers"),
    ],
)
def test_bad_yields_are_rejected(recast: likelihood.RecastLikelihood, x_yields: object) -> None:
    count = recast.fit_count
    with pytest.raises(ValueError, match="x_yields"):
        recast.fit(x_yields)  # type: ignore[arg-type]
    assert recast.fit_count == count


def _line_at_2_1_gev(recast: likelihood.RecastLikelihood) -> np.ndarray:
    """The bin shape of a narrow X at m_X = 2.1 GeV (the efficiency map's column at q² = 4.41
    GeV²), normalised to the SM total: a shape unlike the SM's (ITA low-q²_rec bins, flat HTA)."""
    from gen.acceptance import belle2

    table, _ = belle2.efficiency_table()
    shape = table[: N_SIGNAL_BINS, belle2.q2_gen_bin(np.array([2.1**2]))[0]]
    return shape * recast.sm_templates.sum() / shape.sum()


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["sm", "line_2.1"])
def test_limit_and_best_fit_agree_with_pyhf(recast: likelihood.RecastLikelihood, shape: str) -> None:
    """pyhf's own fits and hypotest (SLSQP, ~30 s each) for X with the SM shape and with the
    shape of a 2.1 GeV line, both normalised to the SM total so that the internal X rate
    equals mu_X."""
    yields = recast.sm_templates if shape == "sm" else _line_at_2_1_gev(recast)
    result = recast.fit(yields)
    config = recast.model.config
    init = np.asarray(config.suggested_init(), dtype=float)
    fixed = list(config.suggested_fixed())
    bounds = [tuple(bound) for bound in config.suggested_bounds()]
    init[config.par_slice(likelihood.SM_POI)] = 1.0
    fixed[config.par_slice(likelihood.SM_POI).start] = True
    start = 0
    for parameter in likelihood.X_YIELD_PARAMETERS:
        for index in range(config.par_slice(parameter).start, config.par_slice(parameter).stop):
            init[index] = yields[start]
            fixed[index] = True
            bounds[index] = (0.0, 100.0)
            start += 1
    options = {"init_pars": init.tolist(), "par_bounds": bounds, "fixed_params": fixed}
    previous = pyhf.get_backend()
    pyhf.set_backend("jax")
    try:
        pars, twice_nll = pyhf.infer.mle.fit(
            recast.data, recast.model, return_fitted_val=True, **options
        )
        cls = pyhf.infer.hypotest(
            result.mu_upper_95,
            recast.data,
            recast.model,
            test_stat="qtilde",
            calctype="asymptotics",
            **options,
        )
    finally:
        pyhf.set_backend(*previous)
    assert float(pars[config.poi_index]) == pytest.approx(result.mu_hat, abs=0.01)
    assert result.nll_best <= 0.5 * float(twice_nll) + 1e-6
    assert result.nll_best == pytest.approx(0.5 * float(twice_nll), abs=1e-4)
    assert float(cls) == pytest.approx(likelihood.CLS_LEVEL, abs=1e-3)
