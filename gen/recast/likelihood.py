"""Belle II B+ → K+ νν̄ likelihood for a new invisible state X on top of the SM (arXiv:2311.14647).

The published combined (ITA + HTA) pyhf workspace (experiments.md §3.5–3.7, packaged in
``gen/data/belle2/combined_likelihood.json``) has one parameter of interest, the SM signal
strength ``mu`` (μ̂ = 4.6 ± 1.0 ± 0.9, "2.7σ above the SM"). The recast adds a sample ``X``
(e.g. B+ → K+ X with X invisible) whose expected events per analysis bin, ``x_yields``, come
from the generator folded with the published efficiency maps (experiments.md §3.6), and asks
how strongly the data want it.

Construction (the pyhf model is built and compiled ONCE; a mass point only changes values):

* A sample ``X`` with nominal 1 event in every bin of the three signal channels (ITA "A" and
  "B", HTA ``sgn1_had``), scaled by the POI ``mu_X`` (normfactor) and by one ``shapefactor``
  per channel (``x_yield_A``, ``x_yield_B``, ``x_yield_HTA``) whose per-bin values are held
  fixed at the point's yields. Rate of X in bin i = mu_X · yield_i · (detector systematics).
* The SM signal stays with ``mu`` fixed to 1: X comes on top of the known SM rate (the
  hypothesis test is "SM + X versus SM").
* X inherits the SM signal's detector systematics (PID, tracking, photon and unmatched-neutral
  energy, BDT, N_BB̄, K_L efficiency, HTA normalisations and extra-energy shape) as the SAME
  nuisance parameters, fully correlated with the SM signal. Because the X nominal is 1 and the
  yield enters multiplicatively, each histosys becomes a RELATIVE variation (hi_data_i /
  nominal_i, lo_data_i / nominal_i); normsys are relative already.
* The ``corr_ff_*`` histosys are dropped: they move the SM signal between bins according to
  the B → K form-factor uncertainty of the SM q² spectrum, which does not apply to X (a
  two-body decay at fixed q² = m_X²).
* The SM signal's MC-statistics ``staterror`` gammas also scale X (``share_signal_mc_stat``,
  default): the X yields are the same Belle II signal MC reweighted (the number densities of
  experiments.md §3.6, the method of arXiv:2507.12393), so they share its fluctuations. pyhf
  sizes a staterror from all samples that carry it, so X is given σ_X,i = σ_i √((1 + 1/n_i)² − 1),
  which keeps every constraint width at its published value σ_i / n_i. This matters: X injected
  with the SM shape (``x_yields`` = SM templates) must give μ̂_X = 4.6 − 1; it gives 3.58 with
  the sharing and 3.38 without, as the gammas then act on the SM part of the signal only.

Internally the yields are rescaled to the total SM signal (168 events in the 18 bins), so the
fitted X rate is in "SM-signal equivalents" (order 1 for any input; mu_X = rate × scale).

Statistics (asymptotic formulae of arXiv:1007.1727):

* Significance of SM + X over SM: Z = √q0, q0 = 2[NLL(mu_X = 0) − NLL(mu_X_hat)], 0 when
  mu_X_hat = 0. The mu_X = 0 fit does not depend on the X yields and is done once.
* 95 % CL upper limit on mu_X: CLs with q̃_μ, the formulae of
  ``pyhf.infer.hypotest(test_stat="qtilde", calctype="asymptotics")``. The background-only
  Asimov dataset and its minimum NLL are point independent and computed once; each CLs value
  costs two fixed-mu_X fits (data, Asimov). A Gaussian model of q̃ (widths from the Hessian,
  then calibrated on each evaluation) proposes rates, pushed slightly past its root until the
  root is bracketed; ``scipy.optimize.brentq`` finishes in the bracket (relative precision
  1e-3). Typically 3 CLs evaluations, i.e. 7 fits per point with the free fit; pyhf's
  ``hypotest`` at the limit found this way gives CLs = 0.0500 (tests).

Minimisation (backend "jax"): −2 ln L from pyhf, its gradient and Hessian compiled once with
jax; L-BFGS in coordinates where the Hessian at the mu_X = 0 fit (recomputed per point, 0.2 s)
is the identity converges in ~20–30 iterations (~0.05–0.1 s), where pyhf's own scipy fits
need hundreds (1–3 s). The free fit uses the mu_X ≥ 0 bound: if the profile likelihood rises
from mu_X = 0 (non-negative slope there) then mu_X_hat = 0 without a fit. Fits of the CLs
search start from the previous one on the same dataset (28 % fewer iterations); starting a
point from the previous point's best fit gained nothing measurable, so each point starts from
the mu_X = 0 fit. A fit that fails or leaves the parameter bounds is redone with
``pyhf.infer.mle.fit`` (SLSQP), the only minimiser for other backends (~30 s per fit with
"numpy").

Global state: pyhf's backend is switched to the requested one only while pyhf is used (model
building, jax tracing, pyhf fits) and restored on return; the compiled jax functions do not
depend on it afterwards (switching costs pyhf ~0.1–1 s per model, so the hot path avoids it).
jax is put in float64 mode, as pyhf's jax backend does on import.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pyhf
from scipy import optimize, special

__all__ = [
    "CHANNELS",
    "PointResult",
    "RecastLikelihood",
    "load_workspace",
    "published_signal_strength",
]

CHANNELS: tuple[tuple[str, int], ...] = (
    ("A__Bsig_H_reconstructed_q2_vs_BDT2_Bplus2Kplus_v42_signal_inefficiency_zoomSR_Y4S", 9),
    ("B__Bsig_H_reconstructed_q2_vs_BDT2_Bplus2Kplus_v42_signal_inefficiency_zoomCR_Y4S", 3),
    ("sgn1_had", 6),
)
"""(pyhf channel name, number of bins) of the channels with signal: ITA η(BDT2) > 0.94 (A),
ITA 0.92–0.94 (B), HTA. ``x_yields`` follow this order, each in the workspace's bin order."""

N_SIGNAL_BINS = sum(n_bins for _, n_bins in CHANNELS)

SM_SIGNAL_SAMPLES = ("signal", "sgn_1_had")  # the SM B+ → K+ νν̄ templates (ITA, HTA)
SM_POI = "mu"
X_SAMPLE = "X"
X_POI = "mu_X"
X_YIELD_PARAMETERS = ("x_yield_A", "x_yield_B", "x_yield_HTA")  # shapefactors, per CHANNELS
FORM_FACTOR_PREFIX = "corr_ff_"  # SM form-factor shape systematics, not applied to X

CLS_LEVEL = 0.05  # 95 % CL
X_RATE_MAX = 1000.0  # upper bound of the internal X rate, in units of the total SM signal
LIMIT_RTOL = 1e-3  # relative precision of the upper limit
_MAX_CLS_EVALUATIONS = 12  # to bracket the CLs = 0.05 root
_PYHF_FIT_OPTIONS: dict[str, Any] = {"method": "SLSQP", "do_stitch": True}  # pyhf's default
# convergence of the compiled minimiser: max |∂(−2 ln L)/∂z| in whitened coordinates z, where
# −2 ln L is ≈ |z − z_min|²/2, so the residual −2ΔlnL is ≲ n_free · gtol² / 2 ~ 1e-6
_WHITENED_GTOL = 1e-5


def load_workspace() -> dict[str, Any]:
    """The published Belle II combined B+ → K+ νν̄ pyhf workspace (JSON spec, arXiv:2311.14647)."""
    path = resources.files("gen") / "data" / "belle2" / "combined_likelihood.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _model_and_data(spec: dict[str, Any]) -> tuple[pyhf.pdf.Model, np.ndarray]:
    """The pyhf model of a workspace spec and its observed data (incl. auxdata)."""
    with warnings.catch_warnings():
        # pyhf 0.7's schema validation uses jsonschema.RefResolver, deprecated in jsonschema 4.18
        warnings.filterwarnings(
            "ignore", message="jsonschema.RefResolver is deprecated", category=DeprecationWarning
        )
        workspace = pyhf.Workspace(spec)
        model = workspace.model()
    return model, np.asarray(workspace.data(model), dtype=float)


@contextlib.contextmanager
def _pyhf_backend(name: str) -> Iterator[None]:
    """Use pyhf backend ``name`` with the scipy optimizer; restore the previous backend after."""
    previous = pyhf.get_backend()
    if previous[0].name == name and previous[1].name == "scipy":
        yield
        return
    pyhf.set_backend(name, "scipy")
    try:
        yield
    finally:
        pyhf.set_backend(*previous)


@dataclass(frozen=True)
class _Fit:
    """One fit: parameters at the minimum (all of the model's) and −2 ln L there."""

    pars: np.ndarray
    twice_nll: float


def _pyhf_fit(
    model: pyhf.pdf.Model,
    data: np.ndarray,
    init: np.ndarray,
    fixed: list[bool],
    bounds: list[tuple[float, float]],
) -> _Fit:
    """``pyhf.infer.mle.fit`` (scipy SLSQP, fixed parameters stitched out), current backend."""
    pars, twice_nll = pyhf.infer.mle.fit(
        data,
        model,
        init_pars=init.tolist(),
        par_bounds=bounds,
        fixed_params=fixed,
        return_fitted_val=True,
        **_PYHF_FIT_OPTIONS,
    )
    return _Fit(np.asarray(pars, dtype=float), float(twice_nll))


def _whitening(curvature: np.ndarray) -> np.ndarray:
    """T with Tᵀ |H| T = 1 for the symmetric ``curvature`` H, |H| with the absolute values of
    its eigenvalues (H need not be positive far from the minimum), tiny ones raised."""
    eigenvalues, eigenvectors = np.linalg.eigh(0.5 * (curvature + curvature.T))
    magnitudes = np.abs(eigenvalues)
    magnitudes = np.maximum(magnitudes, 1e-6 * max(magnitudes.max(), 1.0))
    return eigenvectors / np.sqrt(magnitudes)


class _CompiledLikelihood:
    """−2 ln L of a pyhf model, its gradient and Hessian in all parameters, compiled with jax.

    The functions are traced once with the jax backend (set during tracing only); the compiled
    code does not depend on pyhf's global backend afterwards.
    """

    def __init__(self, model: pyhf.pdf.Model) -> None:
        import jax

        jax.config.update("jax_enable_x64", True)  # as pyhf's jax backend does on import

        def twice_nll(pars: Any, data: Any) -> Any:
            with _pyhf_backend("jax"):  # runs only while jax traces
                return pyhf.infer.mle.twice_nll(pars, data, model)[0]

        self._value_and_gradient = jax.jit(jax.value_and_grad(twice_nll))
        self._hessian = jax.jit(jax.hessian(twice_nll))

    def value_and_gradient(self, pars: np.ndarray, data: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = self._value_and_gradient(pars, data)
        return float(value), np.asarray(gradient, dtype=float)

    def hessian(self, pars: np.ndarray, data: np.ndarray) -> np.ndarray:
        return np.asarray(self._hessian(pars, data), dtype=float)

    def minimize(
        self, init: np.ndarray, data: np.ndarray, free: np.ndarray, curvature: np.ndarray
    ) -> _Fit | None:
        """Minimise over ``init[free]`` (others stay) by L-BFGS in coordinates z where the
        Hessian ``curvature`` (all parameters) is the identity; None if it did not converge."""
        transform = _whitening(curvature[np.ix_(free, free)])
        start = init[free]

        def parameters(z: np.ndarray) -> np.ndarray:
            pars = init.copy()
            pars[free] = start + transform @ z
            return pars

        def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
            value, gradient = self.value_and_gradient(parameters(z), data)
            return value, transform.T @ gradient[free]

        result = optimize.minimize(
            objective,
            np.zeros(free.size),
            jac=True,
            method="L-BFGS-B",
            options={"ftol": 1e-14, "gtol": _WHITENED_GTOL, "maxiter": 1000},
        )
        # near machine precision the line search may stop just short of gtol ("ABNORMAL")
        converged = result.success or np.max(np.abs(result.jac)) < 10.0 * _WHITENED_GTOL
        if not (converged and np.isfinite(result.fun)):
            return None
        return _Fit(parameters(result.x), float(result.fun))


def published_signal_strength(backend: str = "jax") -> tuple[float, float]:
    """Best-fit SM signal strength μ̂ and its total (stat + syst) uncertainty, of the UNMODIFIED
    published likelihood (arXiv:2311.14647: μ̂ = 4.6 ± 1.0 ± 0.9, experiments.md §3.7).

    With "jax" the uncertainty is the parabolic (Hessian) one, √V_μμ with V the inverse Hessian
    of −ln L in all free parameters at the minimum (jax autodiff; minuit is not installed). With
    another backend: pyhf fits and the profile, half the distance between the two values of μ
    where 2ΔNLL = 1. Dimensionless (units of the SM rate); takes ~15 s with "jax".
    """
    with _pyhf_backend(backend):
        model, data = _model_and_data(load_workspace())
        init = np.asarray(model.config.suggested_init(), dtype=float)
        fixed = list(model.config.suggested_fixed())
        bounds = [tuple(bound) for bound in model.config.suggested_bounds()]
    poi = model.config.poi_index
    free = np.flatnonzero(~np.asarray(fixed))
    if backend == "jax":
        likelihood = _CompiledLikelihood(model)
        fit = likelihood.minimize(init, data, free, likelihood.hessian(init, data))
        if fit is not None:
            curvature = likelihood.hessian(fit.pars, data)
            fit = likelihood.minimize(fit.pars, data, free, curvature)  # polish near the minimum
        if fit is not None:
            covariance = np.linalg.inv(0.5 * likelihood.hessian(fit.pars, data)[np.ix_(free, free)])
            position = int(np.searchsorted(free, poi))
            return float(fit.pars[poi]), float(np.sqrt(covariance[position, position]))
    with _pyhf_backend(backend):
        fit = _pyhf_fit(model, data, init, fixed, bounds)
        error = _profile_error(model, data, fit, fixed, bounds, poi)
    return float(fit.pars[poi]), error


def _profile_error(
    model: pyhf.pdf.Model,
    data: np.ndarray,
    best: _Fit,
    fixed: list[bool],
    bounds: list[tuple[float, float]],
    index: int,
) -> float:
    """Half the width of the interval where the profiled 2ΔNLL in parameter ``index`` is ≤ 1."""
    fixed_here = list(fixed)
    fixed_here[index] = True
    center = float(best.pars[index])

    def excess(value: float) -> float:
        init = best.pars.copy()
        init[index] = value
        return _pyhf_fit(model, data, init, fixed_here, bounds).twice_nll - best.twice_nll - 1.0

    ends = []
    for limit in bounds[index]:
        step = 0.25 * max(abs(center), 1.0) * math.copysign(1.0, limit - center)
        far = center + step
        while excess(far) < 0.0 and abs(far - center) < abs(limit - center):
            step *= 2.0
            far = center + step
        ends.append(optimize.brentq(excess, center, far, rtol=1e-4))
    return 0.5 * abs(ends[1] - ends[0])


@dataclass(frozen=True)
class PointResult:
    """Fit of SM + X to the Belle II data for one X hypothesis (one set of ``x_yields``).

    mu_hat: best-fit X signal strength (≥ 0), in units of the supplied yields.
    mu_upper_95: observed 95 % CL upper limit on mu_X (asymptotic CLs, q̃_μ), same units.
    significance: Z = √q0 of SM + X over SM alone, in Gaussian σ (0 if mu_hat = 0).
    nll_best: −ln L at mu_hat with profiled nuisances (pyhf's, incl. constraint terms).
    nll_background: −ln L at mu_X = 0 (SM only) with profiled nuisances.
    """

    mu_hat: float
    mu_upper_95: float
    significance: float
    nll_best: float
    nll_background: float


def _validated_yields(x_yields: Any) -> np.ndarray:
    try:
        yields = np.asarray(x_yields, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"x_yields must be an array of {N_SIGNAL_BINS} numbers: {error}") from None
    if yields.shape != (N_SIGNAL_BINS,):
        raise ValueError(
            f"x_yields must have shape ({N_SIGNAL_BINS},) (A 9, B 3, sgn1_had 6 bins), got {yields.shape}"
        )
    if not np.all(np.isfinite(yields)):
        raise ValueError(f"x_yields must be finite, got {yields}")
    if np.any(yields < 0.0):
        raise ValueError(f"x_yields must be non-negative, got {yields}")
    if not np.any(yields > 0.0):
        raise ValueError("x_yields are all zero: X gives no events, there is nothing to fit")
    return yields


def _cls_qtilde(sqrt_q: float, sqrt_q_asimov: float) -> float:
    """CLs from √q̃_μ (data) and √q̃_μ,A (background-only Asimov), as pyhf's asymptotics."""
    if sqrt_q <= sqrt_q_asimov:
        statistic = sqrt_q - sqrt_q_asimov
    else:
        statistic = (sqrt_q**2 - sqrt_q_asimov**2) / (2.0 * sqrt_q_asimov)
    log_cls = special.log_ndtr(-(statistic + sqrt_q_asimov)) - special.log_ndtr(-statistic)
    return float(np.exp(log_cls))


class RecastLikelihood:
    """The Belle II likelihood with an extra sample X: one model for all X hypotheses.

    ``backend``: pyhf backend. "jax" (recommended) uses the compiled minimiser (about 8 s of
    compilation here, then ~1–2 s per :meth:`fit`); other backends use pyhf's own fits
    (~30 s each with "numpy"). ``share_signal_mc_stat`` (default True) lets the SM signal's
    MC-statistics gammas scale X too (module docstring); False gives X no MC-statistics
    uncertainty.

    Attributes: ``model`` (the pyhf model with X), ``data`` (observed data incl. auxdata),
    ``sm_templates`` (SM signal events at mu = 1, 18 bins as :data:`CHANNELS`), ``fit_count``
    (likelihood minimisations done so far).
    """

    def __init__(self, backend: str = "jax", *, share_signal_mc_stat: bool = True) -> None:
        self.backend = backend
        self.fit_count = 0
        spec = load_workspace()
        # SM signal expected events (mu = 1), 18 bins in the order of CHANNELS
        self.sm_templates = _sm_signal_templates(spec)
        self._sm_total = float(self.sm_templates.sum())
        with _pyhf_backend(backend):
            self.model, self.data = _model_and_data(_spec_with_x(spec, share_signal_mc_stat))
            config = self.model.config
            self._bounds = [tuple(bound) for bound in config.suggested_bounds()]
            self._init = np.asarray(config.suggested_init(), dtype=float)
            fixed = np.asarray(config.suggested_fixed())
        self._poi = config.poi_index
        self._x_yield_index = np.concatenate(
            [np.arange(config.par_slice(name).start, config.par_slice(name).stop)
             for name in X_YIELD_PARAMETERS]
        )  # fmt: skip
        self._bounds[self._poi] = (0.0, X_RATE_MAX)
        self._init[config.par_slice(SM_POI)] = 1.0
        fixed[config.par_slice(SM_POI)] = True
        fixed[self._x_yield_index] = True
        self._fixed = fixed  # in every fit: mu = 1 and the X yields
        self._fixed_rate = fixed.copy()
        self._fixed_rate[self._poi] = True
        self._compiled = _CompiledLikelihood(self.model) if backend == "jax" else None

        placeholder = self._with_yields(self._init, self.sm_templates)  # X is off at rate 0
        placeholder[self._poi] = 0.0
        curvature = self._curvature(placeholder, self.data)
        background = self._minimize(self.data, placeholder, self._fixed_rate, curvature)
        curvature = self._curvature(background.pars, self.data)
        # SM-only fit (mu_X = 0) to the data: X is absent, so it holds for every point
        self._background = self._minimize(self.data, background.pars, self._fixed_rate, curvature)
        # background-only Asimov dataset (pyhf's generate_asimov_data at mu_X = 0) and its
        # minimum −2 ln L, exactly at the generating parameters (mu_X = 0 is the bound)
        with _pyhf_backend(backend):
            self._asimov_data = np.asarray(
                self.model.expected_data(self._background.pars), dtype=float
            )
        self._asimov_twice_nll = self._twice_nll(self._background.pars, self._asimov_data)

    # -- public ----------------------------------------------------------------------------

    def fit(self, x_yields: np.ndarray) -> PointResult:
        """Fit SM + X for X yields ``x_yields`` (18 expected events at mu_X = 1, ordered as
        :data:`CHANNELS`): best-fit mu_X, its 95 % CL upper limit and the significance."""
        yields = _validated_yields(x_yields)
        scale = self._sm_total / yields.sum()  # mu_X = internal X rate × scale
        start = self._with_yields(self._background.pars, yields * scale)
        curvature = self._curvature(start, self.data)
        best = self._fit_free(start, curvature)
        rate_hat = float(best.pars[self._poi])
        q0 = max(self._background.twice_nll - best.twice_nll, 0.0) if rate_hat > 0.0 else 0.0
        rate_upper = self._upper_limit(best, start, curvature)
        return PointResult(
            mu_hat=float(rate_hat * scale),
            mu_upper_95=float(rate_upper * scale),
            significance=math.sqrt(q0),
            nll_best=0.5 * best.twice_nll,
            nll_background=0.5 * self._background.twice_nll,
        )

    def expected_counts(self, x_yields: np.ndarray, mu_x: float = 1.0) -> np.ndarray:
        """Expected events in every bin of every channel (pyhf's channel order, no auxdata) at
        nominal nuisance parameters, SM signal strength 1 and X signal strength ``mu_x``."""
        pars = self._with_yields(self._init, _validated_yields(x_yields))
        pars[self._poi] = mu_x
        with _pyhf_backend(self.backend):
            return np.asarray(self.model.expected_actualdata(pars), dtype=float)

    # -- fits ------------------------------------------------------------------------------

    def _with_yields(self, pars: np.ndarray, shape_values: np.ndarray) -> np.ndarray:
        pars = pars.copy()
        pars[self._x_yield_index] = shape_values
        return pars

    def _curvature(self, pars: np.ndarray, data: np.ndarray) -> np.ndarray | None:
        """Hessian of −2 ln L (preconditioner of the compiled minimiser), None without one."""
        return None if self._compiled is None else self._compiled.hessian(pars, data)

    def _twice_nll(self, pars: np.ndarray, data: np.ndarray) -> float:
        if self._compiled is not None:
            return self._compiled.value_and_gradient(pars, data)[0]
        with _pyhf_backend(self.backend):
            return float(pyhf.infer.mle.twice_nll(pars, data, self.model)[0])

    def _within_bounds(self, pars: np.ndarray) -> bool:
        low, high = np.asarray(self._bounds, dtype=float).T
        free = ~self._fixed
        return bool(np.all((pars[free] >= low[free]) & (pars[free] <= high[free])))

    def _minimize(
        self, data: np.ndarray, init: np.ndarray, fixed: np.ndarray, curvature: np.ndarray | None
    ) -> _Fit:
        """Fit with ``fixed`` parameters held at ``init``: compiled minimiser, else pyhf's."""
        self.fit_count += 1
        if self._compiled is not None and curvature is not None:
            fit = self._compiled.minimize(init, data, np.flatnonzero(~fixed), curvature)
            if fit is not None and self._within_bounds(fit.pars):
                return fit
        bounds = list(self._bounds)  # pyhf checks fixed values against the bounds too
        for index in self._x_yield_index:
            bounds[index] = (0.0, max(bounds[index][1], init[index]))
        with _pyhf_backend(self.backend):
            return _pyhf_fit(self.model, data, init, fixed.tolist(), bounds)

    def _fit_free(self, start: np.ndarray, curvature: np.ndarray | None) -> _Fit:
        """Best fit with mu_X ≥ 0, from the mu_X = 0 fit ``start`` (with this point's yields)."""
        if self._compiled is not None:
            slope = self._compiled.value_and_gradient(start, self.data)[1][self._poi]
            if slope >= 0.0:  # the profile likelihood rises from the bound: mu_X_hat = 0
                return _Fit(start, self._background.twice_nll)
        return self._minimize(self.data, start, self._fixed, curvature)

    def _fit_fixed_rate(
        self, data: np.ndarray, init: np.ndarray, rate: float, curvature: np.ndarray | None
    ) -> _Fit:
        init = init.copy()
        init[self._poi] = rate
        return self._minimize(data, init, self._fixed_rate, curvature)

    # -- upper limit -----------------------------------------------------------------------

    def _upper_limit(self, best: _Fit, start: np.ndarray, curvature: np.ndarray | None) -> float:
        """Internal X rate where CLs(q̃) = 0.05; ``start``: the mu_X = 0 fit with the yields."""
        rate_hat = float(best.pars[self._poi])
        warm_start = {"data": best.pars, "asimov": start}  # the last fits, to start the next
        first_width = self._first_width(start, curvature)
        model = _GaussianCLs(rate_hat, [(0.0, first_width, first_width)])

        def excess_cls(rate: float) -> float:
            on_data = self._fit_fixed_rate(self.data, warm_start["data"], rate, curvature)
            on_asimov = self._fit_fixed_rate(
                self._asimov_data, warm_start["asimov"], rate, curvature
            )
            warm_start.update(data=on_data.pars, asimov=on_asimov.pars)
            q = max(on_data.twice_nll - best.twice_nll, 0.0) if rate > rate_hat else 0.0
            q_asimov = max(on_asimov.twice_nll - self._asimov_twice_nll, 1e-12)
            model.calibrate(rate, q, q_asimov)
            return _cls_qtilde(math.sqrt(q), math.sqrt(q_asimov)) - CLS_LEVEL

        return _solve_limit(excess_cls, model.limit)

    def _first_width(self, start: np.ndarray, curvature: np.ndarray | None) -> float:
        """σ of the X rate at rate 0 for a first guess of the limit: from the Hessian H of
        −2 ln L at ``start`` (σ² = 2 (H⁻¹)_rate,rate), or stat-only without one."""
        if curvature is None:
            return self._poisson_width(start)
        free = np.flatnonzero(~self._fixed)
        position = int(np.searchsorted(free, self._poi))
        variance = 2.0 * np.linalg.inv(curvature[np.ix_(free, free)])[position, position]
        return math.sqrt(variance) if variance > 0.0 else self._poisson_width(start)

    def _poisson_width(self, pars: np.ndarray) -> float:
        """Stat-only σ of the X rate, 1/√(Σ s²/b) over the signal bins."""
        with _pyhf_backend(self.backend):
            expected = np.asarray(self.model.expected_actualdata(pars), dtype=float)
        slices = self.model.config.channel_slices
        background = np.concatenate([expected[slices[name]] for name, _ in CHANNELS])
        signal = pars[self._x_yield_index]
        return 1.0 / math.sqrt(float(np.sum(signal**2 / background)))


class _GaussianCLs:
    """Asymptotic CLs if √q̃ = (rate − rate_hat)/σ_data and √q̃_A = rate/σ_A, with the widths σ
    linear in the rate through the last two calibration points (constant through one)."""

    def __init__(self, rate_hat: float, points: list[tuple[float, float, float]]) -> None:
        self.rate_hat = rate_hat
        self.points = points  # (rate, σ_data, σ_A)

    def calibrate(self, rate: float, q: float, q_asimov: float) -> None:
        """Add the widths implied by q̃ and q̃_A computed at ``rate``."""
        width_data = (rate - self.rate_hat) / math.sqrt(q) if q > 0.0 else self.points[-1][1]
        self.points.append((rate, width_data, rate / math.sqrt(q_asimov)))

    def _widths(self, rate: float) -> tuple[float, float]:
        rate_1, data_1, asimov_1 = self.points[-2] if len(self.points) > 1 else self.points[-1]
        rate_2, data_2, asimov_2 = self.points[-1]
        slope = 0.0 if rate_2 == rate_1 else (rate - rate_2) / (rate_2 - rate_1)
        floor = 0.1  # keep extrapolated widths positive (fraction of the last one)
        return (
            max(data_2 + slope * (data_2 - data_1), floor * data_2),
            max(asimov_2 + slope * (asimov_2 - asimov_1), floor * asimov_2),
        )

    def excess_cls(self, rate: float) -> float:
        width_data, width_asimov = self._widths(rate)
        sqrt_q = max(rate - self.rate_hat, 0.0) / width_data
        return _cls_qtilde(sqrt_q, rate / width_asimov) - CLS_LEVEL

    def limit(self) -> float:
        """The model's CLs = 0.05 rate."""
        width = max(self._widths(self.rate_hat + 1e-12))
        low = max(self.rate_hat, 1e-9 * width)
        high = low + width
        while self.excess_cls(high) > 0.0 and high < X_RATE_MAX:
            high = self.rate_hat + 2.0 * (high - self.rate_hat)
        return float(optimize.brentq(self.excess_cls, low, min(high, X_RATE_MAX), rtol=1e-8))


def _solve_limit(excess_cls: Callable[[float], float], predict: Callable[[], float]) -> float:
    """Root of the decreasing ``excess_cls`` (CLs − 0.05 of the internal X rate), few calls.

    ``predict`` is the root of a model recalibrated after every call. The first two calls are
    at its predictions (the first guess, then the calibrated one), later ones at the prediction
    pushed away from the previous call by a growing margin (LIMIT_RTOL/2, ×4 each time, at
    most 50 %), until some rate has CLs above 0.05 and another below; ``scipy.optimize.brentq``
    finishes inside the tightest bracket (at once when it is narrower than LIMIT_RTOL).
    """
    evaluated: dict[float, float] = {}
    margin = 0.5 * LIMIT_RTOL
    previous = 0.0
    for n_calls in range(_MAX_CLS_EVALUATIONS):
        rate = predict()
        if n_calls >= 2:
            rate *= 1.0 + margin if evaluated[previous] > 0.0 else 1.0 - margin
            margin = min(4.0 * margin, 0.5)
        previous = min(rate, X_RATE_MAX)
        evaluated[previous] = excess_cls(previous)
        too_low = [r for r, excess in evaluated.items() if excess > 0.0]
        too_high = [r for r, excess in evaluated.items() if excess < 0.0]
        if too_low and too_high:
            break
    else:
        raise RuntimeError(
            f"no 95% CL upper limit on the X rate below {X_RATE_MAX} × the SM signal "
            f"(CLs − 0.05 at the evaluated rates: {evaluated})"
        )

    def cached(rate: float) -> float:
        return evaluated[rate] if rate in evaluated else excess_cls(rate)

    return float(optimize.brentq(cached, max(too_low), min(too_high), rtol=LIMIT_RTOL))


def _sm_signal_templates(spec: dict[str, Any]) -> np.ndarray:
    """The SM signal's nominal expected events, 18 bins in the order of :data:`CHANNELS`."""
    by_name = {channel["name"]: channel for channel in spec["channels"]}
    return np.concatenate([
        np.asarray(_sm_signal_sample(by_name[name])["data"], dtype=float) for name, _ in CHANNELS
    ])  # fmt: skip


def _sm_signal_sample(channel: dict[str, Any]) -> dict[str, Any]:
    (sample,) = (s for s in channel["samples"] if s["name"] in SM_SIGNAL_SAMPLES)
    return sample


def _spec_with_x(spec: dict[str, Any], share_signal_mc_stat: bool) -> dict[str, Any]:
    """The workspace spec with the X sample added to the signal channels and POI ``mu_X``."""
    spec = copy.deepcopy(spec)
    by_name = {channel["name"]: channel for channel in spec["channels"]}
    for (name, n_bins), yield_parameter in zip(CHANNELS, X_YIELD_PARAMETERS, strict=True):
        channel = by_name[name]
        sm_signal = _sm_signal_sample(channel)
        nominal = np.asarray(sm_signal["data"], dtype=float)
        if nominal.shape != (n_bins,) or np.any(nominal <= 0.0):
            raise ValueError(f"unexpected SM signal template in channel {name}: {nominal}")
        modifiers = [
            {"name": X_POI, "type": "normfactor", "data": None},
            {"name": yield_parameter, "type": "shapefactor", "data": None},
        ]
        for sm_modifier in sm_signal["modifiers"]:
            modifier = _x_modifier(sm_modifier, nominal, share_signal_mc_stat)
            if modifier is not None:
                modifiers.append(modifier)
        channel["samples"].append(
            {"name": X_SAMPLE, "data": [1.0] * n_bins, "modifiers": modifiers}
        )
    for measurement in spec["measurements"]:
        measurement["config"]["poi"] = X_POI
    return spec


def _x_modifier(
    sm_modifier: dict[str, Any], nominal: np.ndarray, share_signal_mc_stat: bool
) -> dict[str, Any] | None:
    """The X sample's version of one SM-signal modifier (X nominal = 1 per bin), None to drop."""
    name, kind = sm_modifier["name"], sm_modifier["type"]
    if kind == "normfactor" and name == SM_POI:
        return None
    if kind == "histosys":
        if name.startswith(FORM_FACTOR_PREFIX):
            return None
        relative = {
            key: (np.asarray(sm_modifier["data"][key], dtype=float) / nominal).tolist()
            for key in ("hi_data", "lo_data")
        }
        return {"name": name, "type": "histosys", "data": relative}
    if kind == "normsys":
        return copy.deepcopy(sm_modifier)
    if kind == "staterror":
        if not share_signal_mc_stat:
            return None
        sigma = np.asarray(sm_modifier["data"], dtype=float)
        x_sigma = sigma * np.sqrt((1.0 + 1.0 / nominal) ** 2 - 1.0)
        return {"name": name, "type": "staterror", "data": x_sigma.tolist()}
    raise ValueError(f"no rule to carry the SM signal modifier {name!r} ({kind}) over to X")
