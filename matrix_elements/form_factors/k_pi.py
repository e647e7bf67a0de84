"""K → π vector form factor f₊, flavio "K->pi dispersive + pole" (physics.md §6.1).

f₊(q²) = f₊(0) exp[q²/m_π² (Λ₊ + H₁ x + H₂ x²)],  x = q²/(m_K − m_π)²

with m_K = m_KL and m_π = m_π⁺ for K⁺ and K_L alike (isospin limit). Sources as cited by
flavio: f₊(0) FLAG 2021 (N_f = 2+1+1); Λ₊ arXiv:1602.04113; H₁, H₂ arXiv:0903.1654 tab. 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matrix_elements.form_factors import FF_SIZE
from phase_space._jit import kernel
from phase_space.simd_math import exp

_F0, _LAMBDA, _H1, _H2, _INV_MPI2, _INV_DM2 = range(6)


@dataclass(frozen=True)
class KPiFormFactor:
    """Coefficients of physics.md §6.1 (dimensionless; masses in GeV)."""

    f_plus_0: float = 0.9698
    lambda_plus: float = 24.22e-3
    h1: float = 1.92e-3
    h2: float = 2.63e-4
    m_k: float = 0.497611
    m_pi: float = 0.13957039

    def to_array(self) -> np.ndarray:
        ff = np.zeros(FF_SIZE)
        ff[_F0] = self.f_plus_0
        ff[_LAMBDA] = self.lambda_plus
        ff[_H1] = self.h1
        ff[_H2] = self.h2
        ff[_INV_MPI2] = 1.0 / self.m_pi**2
        ff[_INV_DM2] = 1.0 / (self.m_k - self.m_pi) ** 2
        return ff


@kernel
def f_plus(q2, ff, at=0):
    """f₊(q²) of physics.md §6.1; ``q2`` in GeV², ``ff[at:]`` from ``KPiFormFactor.to_array``."""
    x = q2 * ff[at + _INV_DM2]
    exponent = q2 * ff[at + _INV_MPI2] * (ff[at + _LAMBDA] + ff[at + _H1] * x + ff[at + _H2] * x * x)
    return ff[at + _F0] * exp(exponent)
