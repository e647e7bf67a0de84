"""B → K* form factors V, A0, A1, A12 (and A2): BSZ 2015 (arXiv:1503.05534 v2).

physics.md §6.3, coefficients from flavio's data/arXiv-1503-05534v2/BKstar_LCSR-Lattice.json
("B->K* BSZ3", LCSR + lattice fit, three coefficients):

F(q²) = [1/(1 − q²/m_R²)] Σ_{k=0..2} a_k [z(q²) − z(0)]^k

with z, t₀ as for B → K (physics.md §6.2) and the fixed masses m_B = 5.27966, m_V = 0.89555
inside z. Only V, A1 and A12 enter X → νν̄ (A0 and A3 multiply q^μ, physics.md §3.4); A0
is kept for reference. A2 follows from A1 and A12:

A2 = [(m_B+m_V)²(m_B²−m_V²−q²)A1 − 16 m_B m_V²(m_B+m_V)A12] / λ(m_B², m_V², q²).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matrix_elements.form_factors.b_k import BSZFormFactor, bsz
from phase_space._jit import kernel
from phase_space.kinematics import kallen
from phase_space.simd_math import sqrt

M_B_Z = 5.27966
M_V_Z = 0.89555

_POLE_A0 = 5.367
_POLE_V = 5.415
_POLE_A1 = 5.830

A0 = BSZFormFactor(a0=0.369196, a1=-1.36584, a2=0.128191, m_pole=_POLE_A0, m_b=M_B_Z, m_k=M_V_Z)
A1 = BSZFormFactor(a0=0.29725, a1=0.392378, a2=1.18916, m_pole=_POLE_A1, m_b=M_B_Z, m_k=M_V_Z)
# a₀(A12) = a₀(A0)(m_B² − m_V²)/(8 m_B m_V): A12(0) and A0(0) tied by the kinematic constraint
A12 = BSZFormFactor(
    a0=0.369196 * (M_B_Z**2 - M_V_Z**2) / (8 * M_B_Z * M_V_Z),
    a1=0.533638,
    a2=0.483166,
    m_pole=_POLE_A1,
    m_b=M_B_Z,
    m_k=M_V_Z,
)
V = BSZFormFactor(a0=0.376313, a1=-1.16597, a2=2.42443, m_pole=_POLE_V, m_b=M_B_Z, m_k=M_V_Z)

BLOCK = 8  # entries of one packed BSZ form factor (b_k.BSZFormFactor.to_array)
I_V, I_A1, I_A12, I_A0 = 0, BLOCK, 2 * BLOCK, 3 * BLOCK
SIZE = 4 * BLOCK


@dataclass(frozen=True)
class BKstarFormFactors:
    """The four BSZ 2015 form factors, packed as [V | A1 | A12 | A0] blocks."""

    v: BSZFormFactor = V
    a1: BSZFormFactor = A1
    a12: BSZFormFactor = A12
    a0: BSZFormFactor = A0

    def to_array(self) -> np.ndarray:
        return np.concatenate([f.to_array() for f in (self.v, self.a1, self.a12, self.a0)])


@kernel
def v_a1_a2(q2, ff, m_b, m_v, at=0):
    """(V, A1, A2) at ``q2`` (GeV²) for a B of mass ``m_b`` and a K* of mass ``m_v``.

    ``ff[at:]`` is :meth:`BKstarFormFactors.to_array`; A2 from A1 and A12 (physics.md §6.3).
    """
    v = bsz(q2, ff, at + I_V)
    a1 = bsz(q2, ff, at + I_A1)
    a12 = bsz(q2, ff, at + I_A12)
    lam = kallen(m_b * m_b, m_v * m_v, q2)
    a2 = (
        (m_b + m_v) ** 2 * (m_b * m_b - m_v * m_v - q2) * a1
        - 16.0 * m_b * m_v * m_v * (m_b + m_v) * a12
    ) / lam
    return v, a1, a2


@kernel
def a0(q2, ff):
    """A0(q²) (reference only: it drops out for X → νν̄)."""
    return bsz(q2, ff, I_A0)


@kernel
def a12(q2, ff):
    """A12(q²)."""
    return bsz(q2, ff, I_A12)


@kernel
def helicity_amplitudes(q2, ff, m_b, m_v):
    """(H₊, H₀, H₋) of physics.md Eq. 15 (B̄ → K̄* convention; for B swap H₊ ↔ H₋).

    H± = (m_B+m_V) A1 ∓ λ^{1/2} V/(m_B+m_V),  H₀ = 8 m_B m_V A12/√q²,
    λ = λ(m_B², m_V², q²); real for real form factors.
    """
    v = bsz(q2, ff, I_V)
    a1_ = bsz(q2, ff, I_A1)
    a12_ = bsz(q2, ff, I_A12)
    sqrt_lam = sqrt(max(kallen(m_b * m_b, m_v * m_v, q2), 0.0))
    h_plus = (m_b + m_v) * a1_ - sqrt_lam * v / (m_b + m_v)
    h_minus = (m_b + m_v) * a1_ + sqrt_lam * v / (m_b + m_v)
    h_zero = 8.0 * m_b * m_v * a12_ / sqrt(q2)
    return h_plus, h_zero, h_minus
