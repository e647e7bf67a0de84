"""VEGAS warm-up: adapt a map to a batch integrand on the unit cube, then freeze it.

The integrand is any numba batch kernel ``integrand(u[n, d], params, out[n])``; the
warm-up follows the vegas tutorial's recipe (batch integrand, adapt, then use the map with
``adapt=False`` semantics by freezing it). vegas draws its random numbers from a numpy
``Generator`` seeded by the run seed, so the adapted map is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import vegas

from phase_space.vegas_map import FrozenMap


@dataclass(frozen=True)
class WarmupResult:
    """Integral estimate of the warm-up iterations (weighted average over iterations)."""

    mean: float
    sdev: float
    chi2_dof: float
    q_value: float
    iterations: int
    evaluations: int


def adapt_map(
    integrand: Callable[[np.ndarray, np.ndarray, np.ndarray], None],
    params: np.ndarray,
    dim: int,
    *,
    iterations: int,
    evaluations: int,
    seed: int,
    alpha: float = 0.5,
) -> tuple[FrozenMap, WarmupResult]:
    """Adapt a VEGAS map to ``integrand`` on [0,1)^dim and return it frozen.

    Parameters
    ----------
    integrand : numba batch kernel filling ``out[j] = f(u[j])``.
    params : float64 parameter array passed through to the kernel.
    dim : dimension of the unit cube.
    iterations, evaluations : VEGAS iterations and integrand evaluations per iteration.
    seed : seeds the numpy Generator that vegas draws from.
    alpha : VEGAS damping of the map adaptation.
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0x7E6A5])))

    @vegas.lbatchintegrand
    def batch(u: np.ndarray) -> np.ndarray:
        u = np.ascontiguousarray(u, dtype=np.float64)
        out = np.empty(u.shape[0])
        integrand(u, params, out)
        return out

    integ = vegas.Integrator([[0.0, 1.0]] * dim, ran_array_generator=rng.random)
    result = integ(batch, nitn=iterations, neval=evaluations, alpha=alpha)
    warmup = WarmupResult(
        mean=float(result.mean),
        sdev=float(result.sdev),
        chi2_dof=float(result.chi2 / result.dof) if result.dof > 0 else 0.0,
        q_value=float(result.Q) if result.dof > 0 else 1.0,
        iterations=iterations,
        evaluations=evaluations,
    )
    return FrozenMap.from_vegas(integ.map), warmup
