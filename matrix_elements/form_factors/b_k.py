"""B → K form factors f₊, f₀: GRvDV 2023 (arXiv:2305.06301), BSZ expansion N = 2.

physics.md §6.2, coefficients from flavio's data/arXiv-2305-06301v1/BSZ-parameters-N2.yaml:

F(q²) = [1/(1 − q²/m_R²)] Σ_{k=0..2} a_k [z(q²) − z(0)]^k,
z(q²) = [√(t₊−q²) − √(t₊−t₀)] / [√(t₊−q²) + √(t₊−t₀)],
t± = (m_B ± m_K)²,  t₀ = t₊(1 − √(1 − t₋/t₊)),

with the fixed masses m_B = 5.27966, m_K = 0.497611 inside z (flavio), independent of the
charge of the decaying meson.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from matrix_elements.form_factors import FF_SIZE
from phase_space._jit import kernel
from phase_space.simd_math import sqrt

_A0, _A1, _A2, _INV_MR2, _T_PLUS, _T_0, _Z_0 = range(7)


def _z_parameters(m_b: float, m_k: float) -> tuple[float, float, float]:
    t_plus = (m_b + m_k) ** 2
    t_minus = (m_b - m_k) ** 2
    t_0 = t_plus * (1.0 - math.sqrt(1.0 - t_minus / t_plus))
    a = math.sqrt(t_plus)
    b = math.sqrt(t_plus - t_0)
    return t_plus, t_0, (a - b) / (a + b)


@dataclass(frozen=True)
class BSZFormFactor:
    """One BSZ form factor: coefficients a₀..a₂ and resonance pole mass m_R (GeV)."""

    a0: float
    a1: float
    a2: float
    m_pole: float
    m_b: float = 5.27966
    m_k: float = 0.497611

    def to_array(self) -> np.ndarray:
        t_plus, t_0, z_0 = _z_parameters(self.m_b, self.m_k)
        ff = np.zeros(FF_SIZE)
        ff[_A0], ff[_A1], ff[_A2] = self.a0, self.a1, self.a2
        ff[_INV_MR2] = 1.0 / self.m_pole**2
        ff[_T_PLUS], ff[_T_0], ff[_Z_0] = t_plus, t_0, z_0
        return ff


F_PLUS = BSZFormFactor(a0=0.33196382, a1=-0.96403506, a2=-0.30273752, m_pole=5.415)
"""f₊ of GRvDV 2023 (physics.md §6.2 table)."""

F_ZERO = BSZFormFactor(a0=0.33196382, a1=0.33478906, a2=0.00372445, m_pole=5.630)
"""f₀ of GRvDV 2023; a₀(f₀) = a₀(f₊) (kinematic constraint f₀(0) = f₊(0))."""


@kernel
def bsz(q2, ff, at=0):
    """Evaluate a BSZ form factor at ``q2`` (GeV²) from its packed block ``ff[at:]`` (an
    offset, not a slice: a slice inside a loop over events costs reference counting)."""
    a = sqrt(ff[at + _T_PLUS] - q2)
    b = sqrt(ff[at + _T_PLUS] - ff[at + _T_0])
    dz = (a - b) / (a + b) - ff[at + _Z_0]
    return (ff[at + _A0] + dz * (ff[at + _A1] + dz * ff[at + _A2])) / (1.0 - q2 * ff[at + _INV_MR2])
