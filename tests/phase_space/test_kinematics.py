"""Four-vector algebra: known answers and properties (hypothesis)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from phase_space import kinematics as kin

unit = st.floats(0.0, 1.0, exclude_max=True)
angle_cos = st.floats(-1.0, 1.0)


def test_kallen_known_values():
    assert kin.kallen(1.0, 0.0, 0.0) == 1.0
    assert kin.kallen(4.0, 1.0, 1.0) == 0.0  # threshold m0 = m1 + m2
    assert kin.kallen(25.0, 9.0, 4.0) == pytest.approx(25**2 + 81 + 16 - 2 * (225 + 100 + 36))


def test_two_body_momentum():
    assert kin.two_body_momentum(1.0, 0.0, 0.0) == 0.5
    assert kin.two_body_momentum(2.0, 1.0, 1.0) == 0.0
    m0, m1, m2 = 0.493677, 0.13957039, 0.1
    assert kin.two_body_momentum(m0, m1, m2) == pytest.approx(
        math.sqrt(kin.kallen(m0**2, m1**2, m2**2)) / (2 * m0), rel=1e-14
    )


@settings(deadline=None, max_examples=300)
@given(
    cos_t=angle_cos,
    u_phi=unit,
    cos_p=angle_cos,
    u_pphi=unit,
    p_abs=st.floats(0.0, 1e4),
    masses=st.tuples(st.floats(0.01, 10.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
)
def test_two_body_decay_conserves_and_is_on_shell(cos_t, u_phi, cos_p, u_pphi, p_abs, masses):
    m_parent, f1, f2 = masses
    m1 = m_parent * f1 * 0.5
    m2 = m_parent * f2 * 0.5
    s = math.sqrt(max(0.0, 1 - cos_p**2))
    phi = 2 * math.pi * u_pphi
    p_parent = (
        math.hypot(p_abs, m_parent),
        p_abs * s * math.cos(phi),
        p_abs * s * math.sin(phi),
        p_abs * cos_p,
    )
    p1, p2 = kin.two_body_decay(p_parent, m_parent, m1, m2, cos_t, u_phi)
    e_scale = p_parent[0]
    for a, b, c in zip(p1, p2, p_parent, strict=True):
        assert abs(a + b - c) <= 1e-12 * e_scale
    for p, m in ((p1, m1), (p2, m2)):
        assert p[0] > 0
        assert abs(kin.mass2(p) - m * m) <= 1e-9 * p[0] ** 2 + 1e-12 * m_parent**2


@settings(deadline=None, max_examples=200)
@given(cos_t=angle_cos, u_phi=unit, gamma=st.floats(1.0, 1e5))
def test_backward_massless_daughter_keeps_precision(cos_t, u_phi, gamma):
    """Light-cone boost: even E_daughter << E_parent stays on the mass shell."""
    m = 0.1
    p_parent = (gamma * m, 0.0, 0.0, m * math.sqrt(gamma * gamma - 1.0))
    p1, p2 = kin.two_body_decay(p_parent, m, 0.0, 0.0, cos_t, u_phi)
    for p in (p1, p2):
        assert abs(kin.mass2(p)) <= 1e-12 * p[0] ** 2


def test_helicity_angle_is_recovered():
    """Boosting daughter 1 back to the parent frame gives the generated angles."""
    p_parent = (5.0, 1.0, -2.0, 3.0)
    m = math.sqrt(kin.mass2(p_parent))
    cos_t, u_phi = 0.3, 0.2
    p1, _ = kin.two_body_decay(p_parent, m, 0.5, 0.0, cos_t, u_phi)
    rest = kin.boost_to_rest(p1, p_parent)
    e_x, e_y, e_z = kin.helicity_axes(p_parent)
    p_vec = np.array(rest[1:])
    assert p_vec @ np.array(e_z) / np.linalg.norm(p_vec) == pytest.approx(cos_t, abs=1e-12)
    phi = math.atan2(p_vec @ np.array(e_y), p_vec @ np.array(e_x)) % (2 * math.pi)
    assert phi == pytest.approx(2 * math.pi * u_phi, abs=1e-12)


@settings(deadline=None, max_examples=500)
@given(px=st.floats(-50, 50), py=st.floats(-50, 50), pz=st.floats(-50, 50))
@example(px=0.0, py=4.140891366482051e-162, pz=1.0)  # a tiny transverse part (found in CI)
@example(px=2.2250738585e-313, py=2.2250738585e-313, pz=2.2250738585e-313)
@example(px=5e-324, py=5e-324, pz=1.0)
def test_helicity_axes_are_orthonormal_and_right_handed(px, py, pz):
    e_x, e_y, e_z = (np.array(a) for a in kin.helicity_axes((100.0, px, py, pz)))
    basis = np.array([e_x, e_y, e_z])
    assert np.allclose(basis @ basis.T, np.eye(3), atol=1e-14)
    assert np.allclose(np.cross(e_x, e_y), e_z, atol=1e-14)


@settings(deadline=None)
@given(
    p=st.tuples(st.floats(-5, 5), st.floats(-5, 5), st.floats(-5, 5)),
    frame=st.tuples(st.floats(-50, 50), st.floats(-50, 50), st.floats(-50, 50)),
)
def test_boosts_are_inverse(p, frame):
    m, mf = 0.3, 1.2
    p4 = (math.sqrt(m * m + sum(c * c for c in p)), *p)
    f4 = (math.sqrt(mf * mf + sum(c * c for c in frame)), *frame)
    back = kin.boost_from_rest(kin.boost_to_rest(p4, f4), f4)
    assert np.allclose(back, p4, rtol=1e-9, atol=1e-9 * f4[0])
    assert kin.boost_to_rest(f4, f4)[1:] == pytest.approx((0.0, 0.0, 0.0), abs=1e-9 * f4[0])


def test_azimuth_cos_sin():
    for u in (0.0, 0.1, 0.25, 0.5, 0.7, 0.99):
        c, s = kin.azimuth_cos_sin(u)
        assert c == pytest.approx(math.cos(2 * math.pi * u), abs=1e-15)
        assert s == pytest.approx(math.sin(2 * math.pi * u), abs=1e-7)
        assert c * c + s * s == pytest.approx(1.0, abs=1e-15)


def _epsilon_upper():
    """ε^{μνρσ} with ε^{0123} = −1, built from permutation signs."""
    eps = np.zeros((4, 4, 4, 4))
    for perm in itertools.permutations(range(4)):
        sign = np.linalg.det(np.eye(4)[list(perm)])
        eps[perm] = -sign
    return eps


def test_levi_civita_against_the_explicit_tensor():
    eps = _epsilon_upper()
    metric = np.diag([1.0, -1.0, -1.0, -1.0])
    rng = np.random.default_rng(3)
    for _ in range(20):
        a, b, c, d = rng.normal(size=(4, 4))
        lower = [metric @ v for v in (a, b, c, d)]
        expected = np.einsum("ijkl,i,j,k,l", eps, *lower)
        assert kin.levi_civita(tuple(a), tuple(b), tuple(c), tuple(d)) == pytest.approx(
            expected, abs=1e-12
        )
        x = np.einsum("ijkl,j,k,l->i", eps, *lower[1:])
        np.testing.assert_allclose(
            kin.levi_civita_vector(tuple(b), tuple(c), tuple(d)), x, atol=1e-12
        )
    # ε^{0123} = −1 means ε^{μνρσ} e0_μ e1_ν e2_ρ e3_σ = −1 · (1)(−1)(−1)(−1) = +1
    e = np.eye(4)
    assert kin.levi_civita(*(tuple(v) for v in e)) == 1.0
