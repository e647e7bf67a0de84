"""Hadronic form factors, one module per parametrisation (physics.md §6).

Each module holds a frozen dataclass of coefficients with their citation, a
``to_array()`` that packs them (and derived constants) into the float64 block the kernels
read, and ``@njit`` evaluators that take that block as an argument.
"""

from __future__ import annotations

FF_SIZE = 8
"""Length of the packed form-factor block inside every parameter array."""

FF_K_TO_PI = 0
FF_B_TO_K = 1
