"""Dirac algebra for the independent matrix-element oracles of the tests (physics.md §1).

Plain numpy, nothing from the generator: the chiral basis, γ⁵ and the chiral projectors,
ε^{μνρσ} with ε^{0123} = −1, the Minkowski product and σ-matrix products the spinors of each
oracle are built from.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

METRIC = np.diag([1.0, -1.0, -1.0, -1.0])
I2 = np.eye(2, dtype=complex)
_Z2 = np.zeros((2, 2), dtype=complex)
PAULI = (
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)
GAMMA = np.array(
    [np.block([[_Z2, I2], [I2, _Z2]])] + [np.block([[_Z2, s], [-s, _Z2]]) for s in PAULI]
)  # γ^μ (upper index), chiral basis
GAMMA5 = 1j * GAMMA[0] @ GAMMA[1] @ GAMMA[2] @ GAMMA[3]
P_LEFT = (np.eye(4) - GAMMA5) / 2
P_RIGHT = (np.eye(4) + GAMMA5) / 2
XI = (np.array([1.0, 0.0], dtype=complex), np.array([0.0, 1.0], dtype=complex))  # ξ_s = η_s


def _levi_civita_upper() -> np.ndarray:
    """ε^{μνρσ} with ε^{0123} = −1."""
    eps = np.zeros((4, 4, 4, 4))
    for perm in itertools.permutations(range(4)):
        inversions = sum(1 for i in range(4) for j in range(i + 1, 4) if perm[i] > perm[j])
        eps[perm] = -((-1) ** inversions)
    return eps


EPS_UPPER = _levi_civita_upper()


def mdot(a, b):
    """a·b = a⁰b⁰ − a⃗·b⃗ (metric +,−,−,−; no complex conjugation)."""
    return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]


def lower(a: np.ndarray) -> np.ndarray:
    """a_μ = g_μν a^ν (on the last axis)."""
    return np.asarray(a) @ METRIC


def slash(p: np.ndarray) -> np.ndarray:
    """p̸ = γ^μ p_μ."""
    return np.einsum("mij,m->ij", GAMMA, lower(np.asarray(p, dtype=float)))


def p_sigma(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p·σ, p·σ̄) = (E − p⃗·σ⃗, E + p⃗·σ⃗) with σ^μ = (1, σ⃗), σ̄^μ = (1, −σ⃗)."""
    pdots = p[1] * PAULI[0] + p[2] * PAULI[1] + p[3] * PAULI[2]
    return p[0] * I2 - pdots, p[0] * I2 + pdots


def bar(w: np.ndarray) -> np.ndarray:
    """w̄ = w† γ⁰."""
    return w.conj() @ GAMMA[0]


def random_direction(rng: np.random.Generator) -> np.ndarray:
    """An isotropic unit 3-vector."""
    c = rng.uniform(-1, 1)
    phi = rng.uniform(0, 2 * math.pi)
    s = math.sqrt(1 - c * c)
    return np.array([s * math.cos(phi), s * math.sin(phi), c])


def kallen(a: float, b: float, c: float) -> float:
    """λ(a, b, c) = a² + b² + c² − 2ab − 2ac − 2bc."""
    return a * a + b * b + c * c - 2 * a * b - 2 * a * c - 2 * b * c
