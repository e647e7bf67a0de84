"""The adapted VEGAS map, frozen and applied inside numba.

VEGAS (Lepage, J. Comput. Phys. 27 (1978) 192; arXiv:2009.05112) adapts a
piecewise-linear map x(y) per dimension: for y in increment ``i = floor(y·ninc)``,
``x = grid[i] + inc[i]·(y·ninc − i)`` and ``dx/dy = inc[i]·ninc``. After the warm-up the
grid is frozen and applied here, map only (no stratification), so that every event is an
independent draw from the same density — what unweighting needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from phase_space._jit import batch_kernel, kernel


@kernel
def map_coordinate(y, grid, inc, d, n):
    """(x, dx/dy) of coordinate ``y`` in [0, 1) of dimension ``d`` with ``n`` increments."""
    t = y * n
    i = min(int(t), n - 1)
    width = inc[d, i]
    return grid[d, i] + width * (t - i), width * n


@kernel
def map_point(y, grid, inc, ninc, x):
    """Map one point ``y`` (1-d, in [0,1)^d) to ``x`` in place; return the Jacobian dx/dy."""
    jac = 1.0
    for d in range(y.shape[0]):
        x[d], dx_dy = map_coordinate(y[d], grid, inc, d, ninc[d])
        jac *= dx_dy
    return jac


@batch_kernel(events=0)
def _map_batch(y, grid, inc, ninc, x, jac, start, stop):
    for j in range(start, stop):
        jac[j] = map_point(y[j], grid, inc, ninc, x[j])


@dataclass(frozen=True, eq=False)
class FrozenMap:
    """A frozen VEGAS map on the unit cube.

    Attributes
    ----------
    grid : (dim, max_ninc + 1) float64 — increment edges per dimension (padded).
    inc : (dim, max_ninc) float64 — increment widths.
    ninc : (dim,) int64 — number of increments per dimension.
    """

    grid: np.ndarray
    inc: np.ndarray
    ninc: np.ndarray

    @property
    def dim(self) -> int:
        return int(self.ninc.shape[0])

    @classmethod
    def identity(cls, dim: int) -> FrozenMap:
        """The map x = y (one increment per dimension)."""
        grid = np.tile(np.array([0.0, 1.0]), (dim, 1))
        return cls(grid, np.ones((dim, 1)), np.ones(dim, dtype=np.int64))

    @classmethod
    def from_vegas(cls, adaptive_map) -> FrozenMap:
        """Copy the grid of a ``vegas.AdaptiveMap`` on the unit cube."""
        ninc = np.asarray(adaptive_map.ninc, dtype=np.int64).copy()
        dim = ninc.shape[0]
        width = int(ninc.max())
        grid = np.zeros((dim, width + 1))
        inc = np.zeros((dim, width))
        for d in range(dim):
            n = int(ninc[d])
            grid[d, : n + 1] = np.asarray(adaptive_map.grid[d])[: n + 1]
            inc[d, :n] = np.asarray(adaptive_map.inc[d])[:n]
        return cls(np.ascontiguousarray(grid), np.ascontiguousarray(inc), ninc)

    def map(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map points ``y[n, dim]`` in [0,1)^dim; returns ``(x[n, dim], jac[n])``."""
        y = np.ascontiguousarray(y, dtype=np.float64)
        if y.ndim != 2 or y.shape[1] != self.dim:
            raise ValueError(f"y must have shape (n, {self.dim}), got {y.shape}")
        x = np.empty_like(y)
        jac = np.empty(y.shape[0])
        _map_batch(y, self.grid, self.inc, self.ninc, x, jac)
        return x, jac
