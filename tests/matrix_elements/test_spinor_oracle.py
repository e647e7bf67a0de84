"""Independent explicit-spinor oracle for P → P′ X(→ νν̄) (physics.md §1, §4.1, §4.2).

What is independent of what
---------------------------
* The **oracle** below is built here from scratch in plain numpy: 4×4 complex Dirac matrices
  in the chiral basis of physics.md §1, explicit massless 4-spinors u(p, s), v(p, s) from
  √(p·σ), √(p·σ̄), the neutrino current J^μ = ū(p_ν) γ^μ P_L v(p_ν̄) evaluated for each of
  the 2×2 helicity combinations, and the amplitude M = (g_q/2) g_ν D_X H_μ J^μ with
  H^μ = f₊ P^μ (+ q^μ terms), summed over spins as Σ|M|². It uses neither the generator's
  kinematics helpers nor any trace formula. Its building blocks are self-checked first
  (Clifford algebra, γ5, completeness Σ u ū = Σ v v̄ = p̸, Dirac equation).
* **Test 1** checks physics.md Eq. 19 (a trace-based closed form) against the oracle at
  momenta generated in this file (not by axgen), with complex couplings, random f₊, m_X,
  Γ_X and a random overall Lorentz frame.
* **Test 2** checks the generator's point kernel ``p_to_pprime._event`` (VEGAS pair
  (u_q², u_cosθ_ν), flat cosθ_P′, u_φ_P′, u_φ_ν): it takes only the
  *momenta* and q² returned by the kernel, recomputes |M|² with the spinor oracle, rebuilds
  the unit-cube Jacobian from the documented map (q² = m_X² + m_XΓ_X tan t, cos = 2u − 1,
  φ = 2πu) and the phase-space factors dΦ₃ = dΦ₂ (dq²/2π) dΦ₂ with Φ₂ = p*/(4πM), and
  compares with the kernel's dBR/du. The only generator inputs used are the parameter array
  (masses, Γ_X, τ/ħ, BW angle range, coupling product — the latter cross-checked against the
  card inputs) and ``p_to_pprime.f_plus`` (the form factor is not what is under test here).
* **Test 3** checks that the q^μ terms of H^μ (the f₀ part and the −(m_P² − m_P′²)/q² q^μ
  part of f₊) drop out: q_μ J^μ = 0 helicity by helicity, and |M|² is unchanged.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from axgen_testing import HBAR, M_B_PLUS, M_K_PLUS, M_PI_PLUS, prepare, relative_offshell
from dirac_oracle import (
    GAMMA,
    GAMMA5,
    METRIC,
    P_LEFT,
    XI,
    bar,
    kallen,
    lower,
    mdot,
    p_sigma,
    random_direction,
    slash,
)

from matrix_elements import p_to_pprime as pp
from phase_space.maps import Q2_BREIT_WIGNER

# --------------------------------------------------------------------------------------
# The oracle: Dirac algebra and explicit spinors (physics.md §1 conventions)
# --------------------------------------------------------------------------------------


def _sqrt_massless(a: np.ndarray, energy: float) -> np.ndarray:
    """√(p·σ) or √(p·σ̄) for a massless p (eigenvalues 2E and 0).

    For a 2×2 positive semi-definite A, √A = (A + √det A)/√(tr A + 2√det A); with det = p² = 0
    this is A/√(2E). Using the exact mass 0 (not the rounded p²) avoids the √(rounding) ~ 1e-8
    that an eigen-decomposition would leave in the null direction.
    """
    return a / math.sqrt(2.0 * energy)


def u_spinor(p: np.ndarray, s: int) -> np.ndarray:
    """u(p, s) = (√(p·σ) ξ_s, √(p·σ̄) ξ_s)."""
    ps, psb = p_sigma(p)
    return np.concatenate([_sqrt_massless(ps, p[0]) @ XI[s], _sqrt_massless(psb, p[0]) @ XI[s]])


def v_spinor(p: np.ndarray, s: int) -> np.ndarray:
    """v(p, s) = (√(p·σ) η_s, −√(p·σ̄) η_s)."""
    ps, psb = p_sigma(p)
    return np.concatenate([_sqrt_massless(ps, p[0]) @ XI[s], -_sqrt_massless(psb, p[0]) @ XI[s]])


def neutrino_currents(p_nu: np.ndarray, p_nubar: np.ndarray) -> np.ndarray:
    """J^μ_{s1 s2} = ū(p_ν, s1) γ^μ P_L v(p_ν̄, s2), shape (2, 2, 4), upper index μ."""
    out = np.empty((2, 2, 4), dtype=complex)
    for s1 in range(2):
        ub = bar(u_spinor(p_nu, s1))
        for s2 in range(2):
            v = v_spinor(p_nubar, s2)
            out[s1, s2] = [ub @ GAMMA[m] @ P_LEFT @ v for m in range(4)]
    return out


def amplitude_sum_sq(
    hadronic: np.ndarray, p_nu: np.ndarray, p_nubar: np.ndarray, prefactor: complex
) -> float:
    """Σ_{s1,s2} |prefactor · H_μ J^μ_{s1 s2}|² for a (complex) hadronic 4-vector H^μ."""
    j = neutrino_currents(p_nu, p_nubar)
    h_low = lower(hadronic)
    amps = prefactor * np.einsum("m,abm->ab", h_low, j)
    return float(np.sum(np.abs(amps) ** 2))


def oracle_m2(
    p_parent, p_daughter, p_nu, p_nubar, *, g_q: complex, g_nu: float, d_x: complex, f_plus: float
) -> float:
    """Spin-summed |M|² of M = (g_q/2) g_ν D_X H_μ J^μ with H^μ = f₊ (p + k)^μ (one flavour)."""
    big_p = np.asarray(p_parent, dtype=float) + np.asarray(p_daughter, dtype=float)
    return amplitude_sum_sq(f_plus * big_p.astype(complex), p_nu, p_nubar, g_q / 2 * g_nu * d_x)


def eq19(
    p_parent, p_daughter, p_nu, p_nubar, *, g_q: complex, g_nu: float, d_x: complex, f_plus: float
) -> float:
    """physics.md Eq. 19: |g_q g_ν|² |D_X|² f₊² [(P·p_ν)(P·p_ν̄) − P² q²/4], P = p + k."""
    big_p = np.asarray(p_parent, dtype=float) + np.asarray(p_daughter, dtype=float)
    q = np.asarray(p_nu, dtype=float) + np.asarray(p_nubar, dtype=float)
    bracket = mdot(big_p, p_nu) * mdot(big_p, p_nubar) - mdot(big_p, big_p) * mdot(q, q) / 4
    return abs(g_q * g_nu) ** 2 * abs(d_x) ** 2 * f_plus**2 * bracket


# --------------------------------------------------------------------------------------
# Kinematics built here (no axgen code)
# --------------------------------------------------------------------------------------


def boost(p: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Active boost of the 4-vector p by velocity β⃗ (|β| < 1)."""
    b2 = float(beta @ beta)
    if b2 == 0.0:
        return np.array(p, dtype=float)
    gamma = 1.0 / math.sqrt(1.0 - b2)
    bp = float(beta @ p[1:])
    e = gamma * (p[0] + bp)
    vec = p[1:] + ((gamma - 1.0) * bp / b2 + gamma * p[0]) * beta
    return np.concatenate([[e], vec])


def build_event(rng: np.random.Generator, m_p: float, m_d: float, q2: float):
    """P(rest) → P′ X*(q²), X* → ν ν̄ isotropic in the X* frame; then a random overall boost."""
    pstar = math.sqrt(kallen(m_p**2, m_d**2, q2)) / (2 * m_p)
    n1 = random_direction(rng)
    p_parent = np.array([m_p, 0.0, 0.0, 0.0])
    p_daughter = np.concatenate([[math.sqrt(m_d**2 + pstar**2)], pstar * n1])
    p_x = p_parent - p_daughter
    n2 = random_direction(rng)
    e = math.sqrt(q2) / 2
    beta_x = p_x[1:] / p_x[0]
    p_nu = boost(np.concatenate([[e], e * n2]), beta_x)
    p_nubar = boost(np.concatenate([[e], -e * n2]), beta_x)
    beta_lab = 0.9 * rng.random() * random_direction(rng)
    return tuple(boost(v, beta_lab) for v in (p_parent, p_daughter, p_nu, p_nubar))


# --------------------------------------------------------------------------------------
# 0. Self-checks of the oracle's building blocks
# --------------------------------------------------------------------------------------


def test_dirac_algebra_conventions():
    for m in range(4):
        for n in range(4):
            anti = GAMMA[m] @ GAMMA[n] + GAMMA[n] @ GAMMA[m]
            np.testing.assert_allclose(anti, 2 * METRIC[m, n] * np.eye(4), atol=1e-15)
    np.testing.assert_allclose(GAMMA5, np.diag([-1, -1, 1, 1]), atol=1e-15)


def test_spinor_completeness_and_dirac_equation():
    rng = np.random.default_rng(11)
    for _ in range(5):
        e = rng.uniform(0.01, 3.0)
        p = np.concatenate([[e], e * random_direction(rng)])
        ps = slash(p)
        su = sum(np.outer(u_spinor(p, s), bar(u_spinor(p, s))) for s in range(2))
        sv = sum(np.outer(v_spinor(p, s), bar(v_spinor(p, s))) for s in range(2))
        np.testing.assert_allclose(su, ps, atol=1e-13 * e)
        np.testing.assert_allclose(sv, ps, atol=1e-13 * e)
        for s in range(2):
            np.testing.assert_allclose(ps @ u_spinor(p, s), 0, atol=1e-13 * e)
            np.testing.assert_allclose(ps @ v_spinor(p, s), 0, atol=1e-13 * e)


# --------------------------------------------------------------------------------------
# 1. Explicit spinors vs Eq. 19 at phase-space points built here
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("m_p", "m_d"), [(M_K_PLUS, M_PI_PLUS), (M_B_PLUS, M_K_PLUS)])
def test_spinor_sum_equals_eq19(m_p, m_d):
    rng = np.random.default_rng(20240611)
    q2_max = (m_p - m_d) ** 2
    for _ in range(20):
        q2 = rng.uniform(0.01, 0.99) * q2_max
        p_parent, p_daughter, p_nu, p_nubar = build_event(rng, m_p, m_d, q2)
        # the construction itself: conservation and on-shell
        np.testing.assert_allclose(p_parent, p_daughter + p_nu + p_nubar, atol=1e-12 * p_parent[0])
        q = p_nu + p_nubar
        assert mdot(q, q) == pytest.approx(q2, rel=1e-10)
        m_x = math.sqrt(q2_max) * rng.uniform(0.05, 0.95)
        width_x = m_x * 10 ** rng.uniform(-6, -1)
        d_x = 1.0 / (q2 - m_x**2 + 1j * m_x * width_x)
        g_q = complex(rng.normal(), rng.normal()) * 1e-9
        g_nu = rng.normal() * 1e-3
        f_plus = rng.uniform(0.2, 2.0)
        kw = {"g_q": g_q, "g_nu": g_nu, "d_x": d_x, "f_plus": f_plus}
        explicit = oracle_m2(p_parent, p_daughter, p_nu, p_nubar, **kw)
        closed = eq19(p_parent, p_daughter, p_nu, p_nubar, **kw)
        assert closed > 0
        assert explicit == pytest.approx(closed, rel=1e-10)


def test_neutrino_tensor_eq18_with_complex_hadronic_current():
    """Σ J^μ J^ν* = 2[p₁^μp₂^ν + p₁^νp₂^μ − g^{μν} p₁·p₂ + i ε^{μναβ} p₁α p₂β], ε^{0123} = −1.

    Contracted with a random *complex* H (which also probes the antisymmetric ε term that a
    real H^μ = f₊P^μ cannot see).
    """
    rng = np.random.default_rng(7)
    eps = np.zeros((4, 4, 4, 4))
    for perm in itertools.permutations(range(4)):
        sign = np.linalg.det(np.eye(4)[list(perm)])
        eps[perm] = -sign  # ε^{0123} = −1
    for _ in range(5):
        _, _, p1, p2 = build_event(rng, M_B_PLUS, M_K_PLUS, 4.0)
        h = rng.normal(size=4) + 1j * rng.normal(size=4)
        p1l, p2l = lower(p1), lower(p2)
        tensor = 2 * (
            np.outer(p1, p2)
            + np.outer(p2, p1)
            - np.linalg.inv(METRIC) * mdot(p1, p2)
            + 1j * np.einsum("mnab,a,b->mn", eps, p1l, p2l)
        )
        hl = lower(h)
        closed = float(np.real(np.einsum("m,n,mn->", hl, hl.conj(), tensor)))
        assert amplitude_sum_sq(h, p1, p2, 1.0) == pytest.approx(closed, rel=1e-11)


# --------------------------------------------------------------------------------------
# 3. The q^μ terms of H^μ drop out
# --------------------------------------------------------------------------------------


def test_q_terms_of_hadronic_current_drop_out():
    rng = np.random.default_rng(3)
    m_p, m_d = M_B_PLUS, M_K_PLUS
    for _ in range(10):
        q2 = rng.uniform(0.05, 0.95) * (m_p - m_d) ** 2
        p_parent, p_daughter, p_nu, p_nubar = build_event(rng, m_p, m_d, q2)
        big_p = p_parent + p_daughter
        q = p_nu + p_nubar
        j = neutrino_currents(p_nu, p_nubar)
        scale = max(abs(x) for x in big_p) * float(np.max(np.abs(j)))
        # q_μ J^μ = 0 for each helicity combination (massless neutrinos)
        qj = np.einsum("m,abm->ab", lower(q), j)
        assert np.max(np.abs(qj)) < 1e-13 * scale
        f_plus, f_zero = rng.uniform(0.2, 2.0), rng.uniform(0.2, 2.0)
        q2_inv = mdot(q, q)
        delta = (m_p**2 - m_d**2) / q2_inv
        h_plain = f_plus * big_p.astype(complex)
        h_full = f_plus * (big_p - delta * q) + f_zero * delta * q  # the full ⟨P′|V^μ|P⟩
        h_arbitrary = h_plain + complex(rng.normal(), rng.normal()) * 50.0 * q
        pref = complex(rng.normal(), rng.normal())
        ref = amplitude_sum_sq(h_plain, p_nu, p_nubar, pref)
        assert amplitude_sum_sq(h_full, p_nu, p_nubar, pref) == pytest.approx(ref, rel=1e-11)
        assert amplitude_sum_sq(h_arbitrary, p_nu, p_nubar, pref) == pytest.approx(ref, rel=1e-10)


# --------------------------------------------------------------------------------------
# 2. The generator's point kernel vs the oracle
# --------------------------------------------------------------------------------------

KERNEL_CASES = [
    # process, model, m_P, m_P′, |g_q|² Σ g_νi² from the card inputs (g_ν default 1e-3 × 3)
    ("K+ -> pi+ X", {"m_X": 0.1, "g_sd": 1e-12}, M_K_PLUS, M_PI_PLUS, 1e-24 * 3e-6),
    ("B+ -> K+ X", {"m_X": 2.1, "g_bs": 1e-8}, M_B_PLUS, M_K_PLUS, 1e-16 * 3e-6),
]


def _unit_points(seed: int) -> np.ndarray:
    """Random points of the 5-d cube, plus u_q² close to the ends (q² far off the X peak)."""
    rng = np.random.default_rng(seed)
    u = rng.random((12, 5))
    u[6:, 0] = [1e-9, 1.5e-8, 4e-8, 1 - 1e-9, 1 - 2e-8, 1 - 1e-7]
    return u


@pytest.mark.parametrize(("process", "model", "m_p", "m_d", "coupling2"), KERNEL_CASES)
def test_event_kernel_matches_spinor_oracle(process, model, m_p, m_d, coupling2):
    prepared = prepare(process, **model)
    params = prepared.params
    assert int(params[pp.I_Q2_MODE]) == Q2_BREIT_WIGNER
    assert pp.n_dim(params) == 2  # VEGAS dimensions: u_q², u_cosθ_ν
    m_parent = params[pp.I_M_PARENT]
    m_daughter = params[pp.I_M_DAUGHTER]
    m_x = params[pp.I_M_X]
    width_x = params[pp.I_WIDTH_X]
    to_br = params[pp.I_TO_BR]
    t_min, t_max = params[pp.I_T_MIN], params[pp.I_T_MAX]
    # the generator inputs used below, checked against what the card said
    assert m_parent == pytest.approx(m_p, rel=1e-12)
    assert m_daughter == pytest.approx(m_d, rel=1e-12)
    assert m_x == model["m_X"]
    assert params[pp.I_COUPLING2] == pytest.approx(coupling2, rel=1e-12)
    assert to_br == pytest.approx(prepared.info["tau_parent_s"] / HBAR, rel=1e-12)
    # Γ_X = Σ g_ν² m_X/(24π) (physics.md §3.1, invisible only)
    assert width_x == pytest.approx(3e-6 * m_x / (24 * math.pi), rel=1e-10)
    m_gamma = m_x * width_x
    q2_max = (m_parent - m_daughter) ** 2
    assert t_min == pytest.approx(math.atan((0.0 - m_x**2) / m_gamma), rel=1e-14)
    assert t_max == pytest.approx(math.atan((q2_max - m_x**2) / m_gamma), rel=1e-14)

    n_checked_off_peak = 0
    for u in _unit_points(12345):
        # u = (u_q², u_cosθ_P′, u_φ_P′, u_cosθ_ν, u_φ_ν): the kernel takes the VEGAS pair
        # (u_q², u_cosθ_ν) and the flat P′ direction and φ_ν separately
        dbr_du, q2, p_parent, p_daughter, p_x, p_nu, p_nubar = pp._event(
            u[0], u[3], 2 * u[1] - 1, u[2], u[4], params
        )
        p_parent, p_daughter, p_x, p_nu, p_nubar = (
            np.array(v, dtype=float) for v in (p_parent, p_daughter, p_x, p_nu, p_nubar)
        )

        # ---- kinematics: parent at rest, conservation, on shell, q² from the BW map ------
        np.testing.assert_array_equal(p_parent, [m_parent, 0.0, 0.0, 0.0])
        np.testing.assert_allclose(
            p_daughter + p_nu + p_nubar, p_parent, rtol=0, atol=1e-13 * m_parent
        )
        np.testing.assert_allclose(p_nu + p_nubar, p_x, rtol=0, atol=1e-13 * m_parent)
        moms = np.array([p_parent, p_daughter, p_nu, p_nubar])
        masses = np.array([m_parent, m_daughter, 0.0, 0.0])
        assert np.all(relative_offshell(moms, masses) < 1e-12)
        assert relative_offshell(p_x, np.sqrt(q2)) < 1e-12
        t = t_min + (t_max - t_min) * u[0]
        delta = m_gamma * math.tan(t)  # q² − m_X², exact in the map's variable
        # tolerance: rounding of t (a few ulp) amplified by dq²/dt = mΓ (1 + tan² t)
        tol_q2 = 8 * np.spacing(abs(t) + 2.0) * m_gamma * (1 + math.tan(t) ** 2) + 1e-15 * q2_max
        assert abs(q2 - (m_x**2 + delta)) <= tol_q2
        if abs(delta) > 100 * m_gamma:
            n_checked_off_peak += 1
        # angles: P′ in the parent frame; ν in the X rest frame w.r.t. the X flight direction
        pd = p_daughter[1:]
        cos_d = pd[2] / np.linalg.norm(pd)
        assert cos_d == pytest.approx(2 * u[1] - 1, abs=1e-12)
        phi_d = math.atan2(pd[1], pd[0]) % (2 * math.pi)
        assert math.cos(phi_d - 2 * math.pi * u[2]) == pytest.approx(1.0, abs=1e-12)
        nu_rest = boost(p_nu, -p_x[1:] / p_x[0])
        x_hat = p_x[1:] / np.linalg.norm(p_x[1:])
        cos_nu = float(nu_rest[1:] @ x_hat) / np.linalg.norm(nu_rest[1:])
        assert cos_nu == pytest.approx(2 * u[3] - 1, abs=1e-9)

        # ---- oracle |M|², summed over neutrino spins and flavours ------------------------
        # Σ_i |g_q g_νi|² = coupling2; the explicit spinor sum is done with g_q g_ν = 1 and
        # D_X = 1 and the flavour/coupling/propagator factors multiplied afterwards.
        f_plus = pp.f_plus(q2, params)
        reduced = oracle_m2(
            p_parent, p_daughter, p_nu, p_nubar, g_q=1.0, g_nu=1.0, d_x=1.0, f_plus=f_plus
        )
        bw = delta**2 + m_gamma**2
        d_x_sq = 1.0 / bw  # |D_X(q²)|²
        m2 = coupling2 * d_x_sq * reduced

        # ---- unit-cube Jacobian and phase space ----------------------------------------
        dq2_du = (t_max - t_min) * bw / m_gamma
        dcos_du, dphi_du = 2.0, 2 * math.pi
        pstar = math.sqrt(kallen(m_parent**2, m_daughter**2, q2)) / (2 * m_parent)
        assert np.linalg.norm(pd) == pytest.approx(pstar, rel=1e-9)
        # dΦ₂ = p*/(4πM) dcosθ dφ/(4π); massless X* → νν̄: p*/(4πM) = 1/(8π)
        dphi2_parent = pstar / (4 * math.pi * m_parent) * dcos_du * dphi_du / (4 * math.pi)
        dphi2_x = 1.0 / (8 * math.pi) * dcos_du * dphi_du / (4 * math.pi)
        dphi3_du = dphi2_parent * dq2_du / (2 * math.pi) * dphi2_x
        expected = to_br * m2 / (2 * m_parent) * dphi3_du

        # the closed form gives the same (sanity of the oracle on generator momenta)
        closed = eq19(
            p_parent, p_daughter, p_nu, p_nubar, g_q=1.0, g_nu=1.0, d_x=1.0, f_plus=f_plus
        )
        assert reduced == pytest.approx(closed, rel=1e-9)

        assert dbr_du > 0
        assert dbr_du == pytest.approx(expected, rel=1e-9), (
            f"u={u.tolist()}: kernel {dbr_du!r} vs oracle {expected!r} "
            f"(ratio {dbr_du / expected!r})"
        )
    assert n_checked_off_peak >= 4
