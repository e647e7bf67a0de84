"""Z → γX and e⁺e⁻ → γX: analytic rates and the spin-sum factorisations (physics.md §3.5, §4.5)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from matrix_elements import z_to_gamma as zg
from phase_space import kinematics as kin

M_Z, WIDTH_Z = 91.188, 2.4955
SIN2 = 0.23153
G_Z2 = 4 * math.pi / 127.951 / (SIN2 * (1 - SIN2))


@pytest.mark.parametrize(
    ("m_x", "width"),
    [
        (0.01, 2.5142e07),
        (0.1, 2.5141e05),
        (0.2, 6.2853e04),
        (1.0, 2.5135e03),
        (2.1, 5.6950e02),
        (4.0, 1.5653e02),
    ],
)
def test_eq16_against_physics_table(m_x, width):
    assert zg.width_z_to_gamma_x(1.0, M_Z, m_x) == pytest.approx(width, rel=2e-4)


def test_eq16_longitudinal_and_transverse_split():
    # Γ_T/Γ_L = m_X²/m_Z² and Γ_L + Γ_T = Eq. 16 (physics.md §3.5)
    m_x = 30.0
    gamma_l = (M_Z**2 - m_x**2) ** 3 / (96 * math.pi * M_Z**3 * m_x**2)
    assert zg.width_z_to_gamma_x(1.0, M_Z, m_x) == pytest.approx(
        gamma_l * (1 + m_x**2 / M_Z**2), rel=1e-12
    )


def test_z_to_ee_width():
    g_l, g_r = zg.z_electron_couplings(SIN2)
    assert zg.width_z_to_ee(G_Z2, g_l, g_r, M_Z) == pytest.approx(0.08390, abs=1e-5)


@pytest.mark.parametrize(
    ("m_x", "sigma"), [(0.1, 5.97980e09), (1.0, 5.97838e07), (2.1, 1.35453e07), (10.0, 5.83601e05)]
)
def test_eq26_against_physics_table(m_x, sigma):
    g_l, g_r = zg.z_electron_couplings(SIN2)
    assert zg.sigma_ee_to_gamma_x(M_Z**2, 1.0, G_Z2, g_l, g_r, M_Z, WIDTH_Z, m_x) == pytest.approx(
        sigma, rel=2e-5
    )


def _epsilon():
    eps = np.zeros((4, 4, 4, 4))
    for perm in itertools.permutations(range(4)):
        eps[perm] = -np.linalg.det(np.eye(4)[list(perm)])  # ε^{0123} = −1
    return eps


EPS = _epsilon()
METRIC = np.diag([1.0, -1.0, -1.0, -1.0])


def _current_tensor(a, b, c_l2, c_r2):
    """Σ J J*: 2(c_L²+c_R²)[ab + ba − g a·b] + 2i(c_L²−c_R²) ε^{μναβ} a_α b_β (physics.md §4.1)."""
    sym = np.outer(a, b) + np.outer(b, a) - METRIC * (a @ METRIC @ b)
    anti = np.einsum("mnab,a,b->mn", EPS, METRIC @ a, METRIC @ b)
    return 2 * (c_l2 + c_r2) * sym + 2j * (c_l2 - c_r2) * anti


def test_electron_tensor_factorisation():
    """Eq. 24 with e⁻ along +z equals s[g_L² u₋u₋* + g_R² u₊u₊*], u± = (0, 1, ±i, 0)."""
    g_l, g_r = zg.z_electron_couplings(SIN2)
    e = 45.594
    p_minus, p_plus = np.array([e, 0, 0, e]), np.array([e, 0, 0, -e])
    tensor = _current_tensor(p_plus, p_minus, g_l**2, g_r**2)
    u_minus, u_plus = np.array([0, 1, -1j, 0]), np.array([0, 1, 1j, 0])
    s = 4 * e * e
    expected = s * (
        g_l**2 * np.outer(u_minus, u_minus.conj()) + g_r**2 * np.outer(u_plus, u_plus.conj())
    )
    np.testing.assert_allclose(tensor, expected, atol=1e-9 * s)


def test_neutrino_tensor_factorisation():
    """Eq. 18 equals q² V V* with V the boost of (0, e_x′ − i e_y′), e_z′ along the ν̄."""
    rng = np.random.default_rng(7)
    for _ in range(10):
        m_x = rng.uniform(0.5, 40.0)
        p_x = np.array([0.0, *rng.normal(size=3) * 20])
        p_x[0] = math.sqrt(m_x**2 + p_x[1:] @ p_x[1:])
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        cos_t = direction[2]
        phi = math.atan2(direction[1], direction[0]) % (2 * math.pi)
        p_nu, p_nubar = kin.two_body_decay(tuple(p_x), m_x, 0.0, 0.0, cos_t, phi / (2 * math.pi))
        vr, vi = zg._neutrino_polarisation(tuple(p_x), p_nubar, m_x)
        v = np.array(vr) + 1j * np.array(vi)
        tensor = _current_tensor(np.array(p_nu), np.array(p_nubar), 1.0, 0.0)
        np.testing.assert_allclose(tensor, m_x**2 * np.outer(v, v.conj()), atol=1e-9 * p_x[0] ** 2)


def test_longitudinal_fraction():
    assert zg.longitudinal_fraction(30.0, M_Z**2) == pytest.approx(1 / (1 + 900 / M_Z**2))
