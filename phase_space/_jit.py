"""The single compile policy for every numba kernel of axgen.

``kernel`` is for scalar building blocks and serial loops, ``batch_kernel`` for the
loops over events (``prange``), which release the GIL so a writer thread can run beside
them. Both cache to disk, so a second run starts without recompiling, and use numpy's
error model (no exceptions on 0/0: wrappers check ``isfinite`` instead). ``fastmath`` is
off on purpose: kinematic edges (sqrt of -1e-17) matter more than a few per cent of speed.
"""

from __future__ import annotations

import numba

kernel = numba.njit(cache=True, error_model="numpy")
batch_kernel = numba.njit(cache=True, error_model="numpy", parallel=True, nogil=True)
prange = numba.prange
