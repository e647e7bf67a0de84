"""Running sums of a run: the rate and every region's acceptance.

Each event has a weight w and, per region, a selection ``s`` — a pass flag (s = 0 or 1) or a
selection probability s ∈ [0, 1] from a published efficiency map. The sums Σw, Σw², and per
region Σws, Σw²s, Σw²s² and the count of events with s > 0 give the acceptance
A = Σws / Σw and its error (:meth:`RunningSums.acceptance`). The fused generation kernel
forms them per block of events (``gen.pipeline.block_sums``); the driver adds each batch's
totals here.
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


class RunningSums:
    """Σw, Σw² and, per region, Σws, Σw²s, Σw²s² and the selected count of a run."""

    def __init__(self, regions: tuple[str, ...], efficiency: dict[str, float]) -> None:
        self.regions = tuple(regions)
        self.efficiency = efficiency
        self.n = 0
        self.w = 0.0
        self.w2 = 0.0
        self._per_region = np.zeros((len(self.regions), 4))

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
