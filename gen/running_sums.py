"""Running sums of a run: the rate and every region's acceptance, reduced in numba.

Per batch the driver adds the weights and each region's selection ``s`` — a pass flag
(s = 0 or 1) or a selection probability s ∈ [0, 1] from a published efficiency map. The sums
Σw, Σw², and per region Σws, Σw²s, Σw²s² and the count of events with s > 0 give the
acceptance A = Σws / Σw and its error (:meth:`RunningSums.acceptance`).

The reductions are serial numba kernels over all regions at once (cheap to compile; a
batch of 10⁵ events and ten regions takes ~1 ms), not numpy calls per region:
boolean indexing allocated a copy per region and ``np.dot`` went through BLAS, whose idle
threads spin and take the cores from the generation kernels (profiled: 37 % of a NA62 run).
"""

from __future__ import annotations

import math

import numpy as np

from phase_space._jit import kernel

# columns of the per-region output of the kernels
_WS, _W2S, _W2S2, _COUNT = range(4)


@kernel
def sum_and_sum_of_squares(x):
    """(Σx, Σx²) of a 1-d float64 array, without BLAS (serial: a batch takes ~0.1 ms)."""
    total = 0.0
    total2 = 0.0
    for i in range(x.shape[0]):
        total += x[i]
        total2 += x[i] * x[i]
    return total, total2


@kernel
def _flag_sums(weight, flags, out):
    """``out[r] += (Σ w s, Σ w² s, Σ w² s², count)`` for pass flags ``flags[r, n]`` (s = 0, 1)."""
    n = weight.shape[0]
    for r in range(flags.shape[0]):
        ws = 0.0
        w2s = 0.0
        count = 0
        for i in range(n):
            if flags[r, i]:
                w = weight[i]
                ws += w
                w2s += w * w
                count += 1
        out[r, _WS] += ws
        out[r, _W2S] += w2s
        out[r, _W2S2] += w2s
        out[r, _COUNT] += count


@kernel
def _probability_sums(weight, probability, out):
    """As :func:`_flag_sums` for selection probabilities ``probability[r, n]`` ∈ [0, 1]
    (branch-free inner loop: the published maps give most events a probability in most bins)."""
    n = weight.shape[0]
    for r in range(probability.shape[0]):
        ws = 0.0
        w2s = 0.0
        w2s2 = 0.0
        count = 0
        for i in range(n):
            s = probability[r, i]
            ws_i = weight[i] * s
            ws += ws_i
            w2s += weight[i] * ws_i
            w2s2 += ws_i * ws_i
            count += s != 0.0
        out[r, _WS] += ws
        out[r, _W2S] += w2s
        out[r, _W2S2] += w2s2
        out[r, _COUNT] += count


def _rows(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    """The arrays as the rows of one 2-d array: the array they already are rows of (an
    acceptance that fills all its regions in one matrix), else a stacked copy."""
    base = arrays[0].base
    if (
        isinstance(base, np.ndarray) and base.ndim == 2 and base.dtype == dtype
        and base.flags.c_contiguous and base.shape[0] == len(arrays)
        and all(a.base is base and a.shape == base[j].shape and a.strides == base[j].strides
                and a.__array_interface__["data"][0] == base[j].__array_interface__["data"][0]
                for j, a in enumerate(arrays))
    ):
        return base
    return np.stack([np.asarray(a, dtype=dtype) for a in arrays])


class RunningSums:
    """Σw, Σw² and, per region, Σws, Σw²s, Σw²s² and the selected count of a run."""

    def __init__(self, regions: tuple[str, ...], efficiency: dict[str, float]) -> None:
        self.regions = tuple(regions)
        self.efficiency = efficiency
        self.n = 0
        self.w = 0.0
        self.w2 = 0.0
        self._per_region = np.zeros((len(self.regions), 4))

    def add(self, weight: np.ndarray, selected: dict[str, np.ndarray]) -> None:
        """Add one batch: ``weight[n]`` and ``selected[region][n]`` (bool flags or float
        probabilities; the regions of one kind are reduced in one kernel call)."""
        weight = np.ascontiguousarray(weight, dtype=np.float64)
        self.n += weight.shape[0]
        w, w2 = sum_and_sum_of_squares(weight)
        self.w += w
        self.w2 += w2
        if weight.shape[0] == 0:
            return
        flags = [r for r in self.regions if not np.issubdtype(selected[r].dtype, np.floating)]
        probabilities = [r for r in self.regions if r not in flags]
        for names, reduce, dtype in ((flags, _flag_sums, np.bool_), (probabilities, _probability_sums, np.float64)):
            if not names:
                continue
            rows = [self.regions.index(r) for r in names]
            stacked = _rows([selected[r] for r in names], dtype)
            partial = np.zeros((len(names), 4))
            reduce(weight, stacked, partial)
            self._per_region[rows] += partial

    def add_totals(self, totals: np.ndarray) -> None:
        """Add one batch's totals from the fused kernel (``gen.pipeline`` columns from
        SUM_KEPT on): the number of events, Σw, Σw², then (Σws, Σw²s, Σw²s², count) per region."""
        self.n += round(float(totals[0]))
        self.w += float(totals[1])
        self.w2 += float(totals[2])
        self._per_region += np.asarray(totals[3:], dtype=np.float64).reshape(len(self.regions), 4)

    @property
    def selected_w(self) -> dict[str, float]:
        """Σ w s per region."""
        return {r: float(self._per_region[j, _WS]) for j, r in enumerate(self.regions)}

    def acceptance(self) -> dict[str, dict[str, float]]:
        """ε × Σ w s / Σ w per region (s: the pass flag or selection probability), with the
        error var(A) = Σ w² (s − A)² / (Σ w)² (ε: the region's efficiency factor, exact)."""
        out = {}
        for j, region in enumerate(self.regions):
            ws, w2s, w2s2, count = (float(x) for x in self._per_region[j])  # plain floats for JSON
            a = ws / self.w if self.w > 0 else 0.0
            var = (w2s2 - 2.0 * a * w2s + a * a * self.w2) / self.w**2 if self.w > 0 else 0.0
            eff = self.efficiency.get(region, 1.0)
            out[region] = {
                "value": eff * a,
                "error": eff * math.sqrt(max(var, 0.0)),
                "events": int(count),
                "efficiency_factor": eff,
            }
        return out

    def selected_rate(self, region: str) -> float:
        """ε × Σw(selected): BR (or σ) × acceptance."""
        return self.efficiency.get(region, 1.0) * float(self._per_region[self.regions.index(region), _WS])
