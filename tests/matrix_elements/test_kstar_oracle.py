"""Independent explicit-spinor / explicit-polarisation oracle for B → K*(→ Kπ) X(→ νν̄).

physics.md §1 (conventions), §3.4 (B̄ → K̄* current, Eq. 14, Eq. 15), §4.1 (Eq. 17),
§4.4 (Eq. 22, narrow K*, Eq. 23).

What is independent of what
---------------------------
* The **oracle** is built here from scratch in plain numpy and uses no generator code for
  amplitudes or kinematics: chiral-basis Dirac matrices, explicit massless spinors
  u(p, s) = (√(p·σ) ξ, √(p·σ̄) ξ), v(p, s) = (√(p·σ) η, −√(p·σ̄) η) with √(p·σ) = p·σ/√(2E),
  the neutrino currents J^μ = ū(p_ν) γ^μ P_L v(p_ν̄) for the 2×2 spin combinations, the
  Levi-Civita tensor with ε^{0123} = −1, explicit helicity polarisation vectors ε(±), ε(0),
  and the B̄ → K̄* current of §3.4 written with an explicit η*. The K* → Kπ decay is put in
  as the *coherent sum over the three K* helicities* Σ_λ ⟨…|η*_λ⟩ [η_λ·(p_K − p_π)] (the
  generator, per its docstring, uses the contracted vector Q instead; the two agree up to
  an overall sign, which is itself checked here). Its building blocks are self-checked
  (Clifford algebra, γ5, Tr[γγγγγ5] = +4iε, spinor completeness and Dirac equation,
  polarisation completeness and transversality).
* The **B (b̄-meson) amplitude** is obtained from the B̄ one by CP, implemented here from
  the physical statement only: the B decay at momenta (p_B, p_K, p_π, p_ν, p_ν̄) has the same
  spin-summed |M|² as the B̄ decay at the CP-image configuration — all 3-momenta reversed,
  the B's neutrino becomes the B̄'s antineutrino and vice versa, kaon ↔ kaon, pion ↔ pion.
  Separately, and without the CP argument, the *physical* consequence is tested: in the X
  rest frame ⟨cosθ_ν⟩ = (F₊ − F₋)/2 for B (physics.md Eq. 23 with F₊ ↔ F₋), with F_λ from
  the closed-form Eq. 15 (H₊ is the suppressed amplitude), while the unconjugated B̄
  formula gives (F₋ − F₊)/2.
* **Test of the current itself**: contracting the explicit current with explicit ε(X, λ)
  reproduces Eq. 15 and the reference numbers of physics.md §3.4/§12 (|H₊|, |H0|, |H₋| =
  0.267599, 5.141063, 3.796522 at m_X = 2.1 GeV), and Eq. 14 reproduces the §12 width.
* **Generator kernel** ``b_to_kstar._event`` (X Breit–Wigner, narrow K*): only the *momenta*
  and q² it returns are used; the spin-summed |M|² is recomputed with the oracle, and the
  unit-cube Jacobian and phase space are rebuilt from the documented maps (q² = m_X² +
  m_XΓ_X tan t, cos = 2u − 1, φ = 2πu, narrow-K* replacement g²|D_K*|²dk²/2π →
  3πBR m_V/p*³ δ(k² − m_V²), dΦ₄ = dΦ₂(B→K*X) dq²/2π dk²/2π dΦ₂(K*→Kπ) dΦ₂(X→νν̄)).
  Generator inputs used: the parameter array (masses, Γ_X, τ/ħ, BR, BW angle range and
  the coupling product — each cross-checked against card inputs / physics.md §9) and the
  form factors ``form_factors.b_kstar.v_a1_a2`` / ``a0`` (tested elsewhere against flavio).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from axgen_testing import HBAR, M_B_ZERO, M_K_PLUS, M_PI_PLUS, prepare, relative_offshell
from dirac_oracle import (
    EPS_UPPER,
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

from matrix_elements import b_to_kstar as bk
from matrix_elements.form_factors import b_kstar as ffk

PROCESS = "B0 -> K*0(K+ pi-) X"
M_KSTAR_ZERO = 0.89555  # physics.md §9
WIDTH_KSTAR_ZERO = 0.0473
G_NU_SUM2 = 3 * 1e-3**2  # card default g_ν = 1e-3 for each of the three flavours

# --------------------------------------------------------------------------------------
# The oracle: Dirac algebra, spinors, Levi-Civita, polarisation vectors (physics.md §1)
# --------------------------------------------------------------------------------------


def parity(a: np.ndarray) -> np.ndarray:
    """(E, p⃗) → (E, −p⃗)."""
    return np.array([a[0], -a[1], -a[2], -a[3]], dtype=float)


def u_spinor(p: np.ndarray, s: int) -> np.ndarray:
    """u(p, s) = (√(p·σ) ξ_s, √(p·σ̄) ξ_s); massless: √(p·σ) = p·σ/√(2E)."""
    ps, psb = p_sigma(p)
    n = math.sqrt(2.0 * p[0])
    return np.concatenate([ps @ XI[s], psb @ XI[s]]) / n


def v_spinor(p: np.ndarray, s: int) -> np.ndarray:
    """v(p, s) = (√(p·σ) η_s, −√(p·σ̄) η_s)."""
    ps, psb = p_sigma(p)
    n = math.sqrt(2.0 * p[0])
    return np.concatenate([ps @ XI[s], -psb @ XI[s]]) / n


def neutrino_currents(p_nu: np.ndarray, p_nubar: np.ndarray) -> np.ndarray:
    """J^μ_{s1 s2} = ū(p_ν, s1) γ^μ P_L v(p_ν̄, s2), shape (2, 2, 4), upper μ."""
    out = np.empty((2, 2, 4), dtype=complex)
    for s1 in range(2):
        ub = bar(u_spinor(p_nu, s1))
        for s2 in range(2):
            v = P_LEFT @ v_spinor(p_nubar, s2)
            out[s1, s2] = [ub @ GAMMA[m] @ v for m in range(4)]
    return out


def polarisation(lam: int, k: np.ndarray, mass: float) -> np.ndarray:
    """Helicity vector ε(λ) of a massive vector with momentum k (physics.md §1)."""
    kvec = np.asarray(k[1:], dtype=float)
    kabs = float(np.linalg.norm(kvec))
    cos_t = kvec[2] / kabs
    sin_t = math.hypot(kvec[0], kvec[1]) / kabs
    phi = math.atan2(kvec[1], kvec[0])
    cf, sf = math.cos(phi), math.sin(phi)
    if lam == 0:
        return np.array([kabs, *(k[0] * kvec / kabs)], dtype=complex) / mass
    s = 1.0 if lam == 1 else -1.0
    return np.array(
        [0.0, -s * cos_t * cf + 1j * sf, -s * cos_t * sf - 1j * cf, s * sin_t],
        dtype=complex,
    ) / math.sqrt(2.0)


HELICITIES = (1, 0, -1)


def form_factors(q2: float, ff: np.ndarray, m_b: float, m_v: float) -> tuple[float, ...]:
    """(V, A1, A2, A0, A3) at q²; A3 from 2m_V A3 = (m_B+m_V)A1 − (m_B−m_V)A2 (§3.4)."""
    v, a1, a2 = ffk.v_a1_a2(q2, ff, m_b, m_v)
    a0 = ffk.a0(q2, ff)
    a3 = ((m_b + m_v) * a1 - (m_b - m_v) * a2) / (2 * m_v)
    return float(v), float(a1), float(a2), float(a0), float(a3)


def kstar_current(
    p: np.ndarray,
    k: np.ndarray,
    eta_star: np.ndarray,
    ffs: tuple[float, ...],
    m_b: float,
    m_v: float,
    *,
    q_terms: bool = True,
) -> np.ndarray:
    """⟨K̄*(k, η)| s̄ γ^μ (1−γ5) b |B̄(p)⟩ of physics.md §3.4, upper μ, explicit η*.

    2V/(m_B+m_V) ε^{μνρσ} η*_ν p_ρ k_σ − i[(m_B+m_V) A1 η*^μ − A2/(m_B+m_V)(η*·q)(p+k)^μ
    − 2m_V/q² (η*·q)(A3 − A0) q^μ], q = p − k. ``q_terms=False`` drops the last (q^μ) term.
    """
    v, a1, a2, a0, a3 = ffs
    p = np.asarray(p, dtype=float)
    k = np.asarray(k, dtype=float)
    q = p - k
    msum = m_b + m_v
    vector = (
        2 * v / msum * np.einsum("mnrs,n,r,s->m", EPS_UPPER, lower(eta_star), lower(p), lower(k))
    )
    eq = mdot(eta_star, q)
    axial = msum * a1 * eta_star - a2 / msum * eq * (p + k)
    if q_terms:
        axial = axial - 2 * m_v / mdot(q, q) * eq * (a3 - a0) * q
    return vector - 1j * axial


def hadronic_helicity_sum(p_b, p_kaon, p_pion, ffs, m_b, m_v, *, q_terms=True) -> np.ndarray:
    """Σ_λ ⟨K̄*(k, λ)|current|B̄⟩ · [ε(k, λ)·(p_K − p_π)]: coherent sum over K* helicities.

    The polarisation vectors are those of a vector of mass √(k²), k = p_K + p_π.
    """
    k = np.asarray(p_kaon, dtype=float) + np.asarray(p_pion, dtype=float)
    mk = math.sqrt(float(mdot(k, k)))
    diff = np.asarray(p_kaon, dtype=float) - np.asarray(p_pion, dtype=float)
    out = np.zeros(4, dtype=complex)
    for lam in HELICITIES:
        eta = polarisation(lam, k, mk)
        out += kstar_current(p_b, k, eta.conj(), ffs, m_b, m_v, q_terms=q_terms) * mdot(eta, diff)
    return out


def spin_sum(hadronic: np.ndarray, p_nu: np.ndarray, p_nubar: np.ndarray) -> float:
    """Σ_{s1,s2} |H_μ J^μ_{s1 s2}|²."""
    j = neutrino_currents(p_nu, p_nubar)
    return float(np.sum(np.abs(np.einsum("m,abm->ab", lower(hadronic), j)) ** 2))


def bbar_reduced_m2(p_b, p_kaon, p_pion, p_nu, p_nubar, ffs, m_b, m_v, *, q_terms=True):
    """B̄ → K̄*(→ Kπ) νν̄: Σ_spins |H_μ J^μ|² with the coherent K* helicity sum.

    The full |M|² (Eq. 22) is this times |g_q g_ν|²/4 · g²_K*Kπ |D_X|² |D_K*|².
    """
    h = hadronic_helicity_sum(p_b, p_kaon, p_pion, ffs, m_b, m_v, q_terms=q_terms)
    return spin_sum(h, np.asarray(p_nu, dtype=float), np.asarray(p_nubar, dtype=float))


def b_reduced_m2(p_b, p_kaon, p_pion, p_nu, p_nubar, ffs, m_b, m_v, *, q_terms=True):
    """B → K*(→ Kπ) νν̄ by CP: the B̄ formula at the CP-image configuration.

    3-momenta reversed; the B's ν (momentum p_ν) is the B̄'s ν̄ and vice versa.
    """
    return bbar_reduced_m2(
        parity(p_b),
        parity(p_kaon),
        parity(p_pion),
        parity(p_nubar),  # neutrino of the B̄ decay = CP image of the B's antineutrino
        parity(p_nu),  # antineutrino of the B̄ decay = CP image of the B's neutrino
        ffs,
        m_b,
        m_v,
        q_terms=q_terms,
    )


# --------------------------------------------------------------------------------------
# Kinematics helpers built here
# --------------------------------------------------------------------------------------


def boost(p: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Active boost of p by velocity β⃗."""
    p = np.asarray(p, dtype=float)
    b2 = float(beta @ beta)
    if b2 == 0.0:
        return p.copy()
    gamma = 1.0 / math.sqrt(1.0 - b2)
    bp = float(beta @ p[1:])
    return np.concatenate(
        [[gamma * (p[0] + bp)], p[1:] + ((gamma - 1.0) * bp / b2 + gamma * p[0]) * beta]
    )


def rest_frame_cos(daughter: np.ndarray, mother: np.ndarray) -> float:
    """cos of the daughter direction in the mother rest frame w.r.t. the mother's flight."""
    d = boost(daughter, -mother[1:] / mother[0])
    axis = mother[1:] / np.linalg.norm(mother[1:])
    return float(d[1:] @ axis / np.linalg.norm(d[1:]))


def two_body(m: float, m1: float, m2: float, n: np.ndarray):
    """Rest-frame decay m → m1 (along n) + m2."""
    p = math.sqrt(kallen(m * m, m1 * m1, m2 * m2)) / (2 * m)
    return (
        np.concatenate([[math.sqrt(m1 * m1 + p * p)], p * n]),
        np.concatenate([[math.sqrt(m2 * m2 + p * p)], -p * n]),
    )


def build_event(rng, m_b, m_v, m_k, m_pi, q2):
    """B̄(rest) → K*(m_V) X*(q²), K* → Kπ and X* → νν̄ isotropic (momenta built here)."""
    p_b = np.array([m_b, 0.0, 0.0, 0.0])
    k, q = two_body(m_b, m_v, math.sqrt(q2), random_direction(rng))
    kaon, pion = two_body(m_v, m_k, m_pi, random_direction(rng))
    nu, nubar = two_body(math.sqrt(q2), 0.0, 0.0, random_direction(rng))
    bk_ = k[1:] / k[0]
    bq = q[1:] / q[0]
    return p_b, boost(kaon, bk_), boost(pion, bk_), boost(nu, bq), boost(nubar, bq)


def eq15(q2: float, ff: np.ndarray, m_b: float, m_v: float) -> tuple[float, float, float]:
    """(H₊, H0, H₋) from physics.md Eq. 15."""
    v, a1, a2, _, _ = form_factors(q2, ff, m_b, m_v)
    lam = kallen(m_b**2, m_v**2, q2)
    msum = m_b + m_v
    h_plus = msum * a1 - math.sqrt(lam) * v / msum
    h_minus = msum * a1 + math.sqrt(lam) * v / msum
    h_zero = ((m_b**2 - m_v**2 - q2) * msum**2 * a1 - lam * a2) / (2 * m_v * msum * math.sqrt(q2))
    return h_plus, h_zero, h_minus


FF = ffk.BKstarFormFactors().to_array()

# --------------------------------------------------------------------------------------
# 1. Self-checks of the oracle's building blocks
# --------------------------------------------------------------------------------------


def test_dirac_algebra_and_levi_civita_conventions():
    for m in range(4):
        for n in range(4):
            anti = GAMMA[m] @ GAMMA[n] + GAMMA[n] @ GAMMA[m]
            np.testing.assert_allclose(anti, 2 * METRIC[m, n] * np.eye(4), atol=1e-15)
    np.testing.assert_allclose(GAMMA5, np.diag([-1, -1, 1, 1]), atol=1e-15)
    assert EPS_UPPER[0, 1, 2, 3] == -1.0
    assert EPS_UPPER[1, 0, 2, 3] == 1.0
    # physics.md §1: Tr[γ^μγ^νγ^ργ^σγ5] = +4i ε^{μνρσ} with these conventions
    for idx in itertools.product(range(4), repeat=4):
        tr = np.trace(GAMMA[idx[0]] @ GAMMA[idx[1]] @ GAMMA[idx[2]] @ GAMMA[idx[3]] @ GAMMA5)
        assert tr == pytest.approx(4j * EPS_UPPER[idx], abs=1e-14)


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


def test_polarisation_vectors():
    """ε·k = 0, ε(λ)·ε*(λ′) = −δ, Σ_λ ε_μ ε*_ν = −g_μν + k_μk_ν/m², helicity = λ."""
    rng = np.random.default_rng(5)
    directions = [random_direction(rng) for _ in range(6)]
    directions += [np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, -1.0])]
    for n in directions:
        m = rng.uniform(0.1, 3.0)
        kabs = rng.uniform(0.0 + 1e-3, 5.0)
        k = np.concatenate([[math.hypot(m, kabs)], kabs * n])
        eps = {lam: polarisation(lam, k, m) for lam in HELICITIES}
        for lam in HELICITIES:
            assert abs(mdot(eps[lam], k)) < 1e-13 * k[0]
            for lam2 in HELICITIES:
                ref = -1.0 if lam == lam2 else 0.0
                assert mdot(eps[lam], eps[lam2].conj()) == pytest.approx(ref, abs=1e-13 * k[0] ** 2)
        total = sum(np.outer(eps[lam], eps[lam].conj()) for lam in HELICITIES)
        expected = -np.linalg.inv(METRIC) + np.outer(k, k) / m**2  # upper indices
        np.testing.assert_allclose(total, expected, atol=1e-12 * (1 + (k[0] / m) ** 2))
        # helicity: (S⃗·k̂) ε⃗ = λ ε⃗ with (S_i)_{jl} = −i ε_{ijl}
        spin = np.zeros((3, 3, 3), dtype=complex)
        for i, j, c in itertools.permutations(range(3)):
            spin[i, j, c] = -1j * np.linalg.det(np.eye(3)[[i, j, c]])
        s_dot_n = np.einsum("ijl,i->jl", spin, n)
        for lam in HELICITIES:
            np.testing.assert_allclose(
                s_dot_n @ eps[lam][1:], lam * eps[lam][1:], atol=1e-13 * k[0] / m
            )


def test_helicity_sum_equals_contracted_q_vector_and_q_terms_drop_out():
    """Σ_λ η*_λ [η_λ·(p_K − p_π)] = −Q (Eq. 22); the q^μ part of the current drops out."""
    rng = np.random.default_rng(8)
    m_b, m_v = M_B_ZERO, M_KSTAR_ZERO
    for _ in range(6):
        q2 = rng.uniform(0.02, 0.98) * (m_b - m_v) ** 2
        p_b, kaon, pion, nu, nubar = build_event(rng, m_b, m_v, M_K_PLUS, M_PI_PLUS, q2)
        k = kaon + pion
        k2 = float(mdot(k, k))
        assert k2 == pytest.approx(m_v**2, rel=1e-12)
        big_q = (kaon - pion) - k * (M_K_PLUS**2 - M_PI_PLUS**2) / k2
        ffs = form_factors(q2, FF, m_b, m_v)
        summed = hadronic_helicity_sum(p_b, kaon, pion, ffs, m_b, m_v)
        direct = kstar_current(p_b, k, big_q.astype(complex), ffs, m_b, m_v)
        np.testing.assert_allclose(summed, -direct, rtol=0, atol=1e-12 * np.max(np.abs(direct)))
        full = bbar_reduced_m2(p_b, kaon, pion, nu, nubar, ffs, m_b, m_v)
        no_q = bbar_reduced_m2(p_b, kaon, pion, nu, nubar, ffs, m_b, m_v, q_terms=False)
        assert full == pytest.approx(no_q, rel=1e-10)
        # the B amplitude via CP is a different function of the same momenta
        assert b_reduced_m2(p_b, kaon, pion, nu, nubar, ffs, m_b, m_v) > 0


# --------------------------------------------------------------------------------------
# 2. The explicit current reproduces Eq. 15 / §12 helicity amplitudes and Eq. 14
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("m_x", "reference"),
    [(2.1, (0.267599, 5.141063, 3.796522)), (0.1, (0.185912, 99.969109, 3.486051))],
)
def test_explicit_current_gives_eq15_helicity_amplitudes(m_x, reference):
    m_b, m_v = M_B_ZERO, M_KSTAR_ZERO
    q2 = m_x**2
    ffs = form_factors(q2, FF, m_b, m_v)
    closed = eq15(q2, FF, m_b, m_v)
    rng = np.random.default_rng(21)
    for n in [np.array([0.0, 0.0, 1.0]), random_direction(rng), random_direction(rng)]:
        p_b = np.array([m_b, 0.0, 0.0, 0.0])
        k, q = two_body(m_b, m_v, m_x, n)  # K* along n, X along −n (B̄ at rest)
        amp = np.empty((3, 3), dtype=complex)
        for a, lam_k in enumerate(HELICITIES):
            eta_star = polarisation(lam_k, k, m_v).conj()
            current = kstar_current(p_b, k, eta_star, ffs, m_b, m_v)
            for b, lam_x in enumerate(HELICITIES):
                eps_x_star = polarisation(lam_x, q, m_x).conj()
                amp[a, b] = mdot(eps_x_star, current)
        diag = np.abs(np.diag(amp))  # λ_K* = λ_X = +1, 0, −1
        scale = float(np.max(diag))
        # angular momentum along the decay axis: only λ_K* = λ_X survives
        off = amp[~np.eye(3, dtype=bool)]
        assert np.max(np.abs(off)) < 1e-12 * scale
        np.testing.assert_allclose(diag, np.abs(closed), rtol=1e-10)
        np.testing.assert_allclose(diag, reference, rtol=0, atol=1.5e-6)
        assert diag[0] < 0.1 * diag[2]  # H₊ is the power-suppressed one
    if m_x == 2.1:
        # Eq. 14 with |g_bs| = 1 vs physics.md §12: Γ(B⁰ → K*⁰X) = 3.0902e-02 GeV, F_L = 0.64597
        lam = kallen(m_b**2, m_v**2, q2)
        h2 = sum(h * h for h in closed)
        assert math.sqrt(lam) * h2 / (64 * math.pi * m_b**3) == pytest.approx(3.0902e-02, rel=2e-5)
        assert closed[1] ** 2 / h2 == pytest.approx(0.64597, abs=6e-6)


# --------------------------------------------------------------------------------------
# 3. The generator's point kernel vs the oracle
# --------------------------------------------------------------------------------------


def _unit_points(seed: int) -> np.ndarray:
    """Random 7-d points (4 VEGAS dims + cosθ_K* (as u), u_φK*, u_φK), u_q² near the ends."""
    rng = np.random.default_rng(seed)
    u = rng.random((12, 7))
    u[6:, 0] = [1e-9, 1.5e-8, 4e-8, 1 - 1e-9, 1 - 2e-8, 1 - 1e-7]
    return u


def _prepared(m_x: float):
    prepared = prepare(PROCESS, m_X=m_x, g_bs=1e-8)
    params = prepared.params
    # the generator inputs used below, checked against the card / physics.md §9
    assert int(params[bk.I_Q2_MODE]) == bk.Q2_BREIT_WIGNER
    assert int(params[bk.I_KSTAR_BW]) == 0  # narrow K* (default)
    assert bk.n_dim(params) == 4
    assert params[bk.I_M_PARENT] == pytest.approx(M_B_ZERO, rel=1e-12)
    assert params[bk.I_M_KSTAR] == pytest.approx(M_KSTAR_ZERO, rel=1e-12)
    assert params[bk.I_M_KAON] == pytest.approx(M_K_PLUS, rel=1e-12)
    assert params[bk.I_M_PION] == pytest.approx(M_PI_PLUS, rel=1e-12)
    assert params[bk.I_WIDTH_KSTAR] == pytest.approx(WIDTH_KSTAR_ZERO, rel=1e-12)
    assert params[bk.I_M_X] == m_x
    assert params[bk.I_COUPLING2] == pytest.approx(1e-16 * G_NU_SUM2, rel=1e-12)
    assert params[bk.I_TO_BR] == pytest.approx(1.517e-12 / HBAR, rel=1e-12)
    assert params[bk.I_BR_KPI] == pytest.approx(2.0 / 3.0, rel=1e-12)
    # Γ_X = Σ g_ν² m_X/(24π) (physics.md §3.1, invisible only)
    assert params[bk.I_WIDTH_X] == pytest.approx(G_NU_SUM2 * m_x / (24 * math.pi), rel=1e-10)
    m_b, m_v = params[bk.I_M_PARENT], params[bk.I_M_KSTAR]
    m_gamma = m_x * params[bk.I_WIDTH_X]
    q2_max = (m_b - m_v) ** 2
    assert params[bk.I_T_MIN] == pytest.approx(math.atan(-(m_x**2) / m_gamma), rel=1e-14)
    assert params[bk.I_T_MAX] == pytest.approx(math.atan((q2_max - m_x**2) / m_gamma), rel=1e-14)
    np.testing.assert_array_equal(params[bk.I_FF : bk.I_FF + ffk.SIZE], FF)
    return params


def _call_kernel(u: np.ndarray, params: np.ndarray):
    """u[:4] = VEGAS dims (u_q², u_cosθ_K, u_cosθ_ν, u_χ); u[4:7] = flat K* direction, φ_K
    (narrow K*: no u_k², its argument is unused)."""
    out = bk._event(u[0], 0.5, u[1], u[2], u[3], 2 * u[4] - 1, u[5], u[6], params)
    dbr_du, q2, k2 = float(out[0]), float(out[1]), float(out[2])
    moms = [np.array(v, dtype=float) for v in out[3:]]
    return dbr_du, q2, k2, moms


def expected_dbr_du(reduced: float, q2: float, params: np.ndarray) -> float:
    """dBR/du from Σ_spins |H_μ(η-sum) J^μ|² (couplings, BWs stripped) and the phase space.

    dBR = τ/ħ · Σ|M|²/(2m_B) · dΦ₂(B→K*X) dq²/(2π) dk²/(2π) dΦ₂(K*→Kπ) dΦ₂(X→νν̄),
    Σ|M|² = (Σ_i|g_bs g_νi|²/4) g² |D_X|² |D_K*|² × reduced (Eq. 22, summed over flavours),
    g²|D_K*|² dk²/(2π) → 3π BR m_V/p*³ (narrow K*), dq²/du |D_X|² = (t_max − t_min)/(m_XΓ_X),
    dΦ₂(M → 1 2) = p*/(4πM) · (dcosθ dφ)/(4π) = p*/(4πM) per unit-cube pair (cos = 2u − 1,
    φ = 2πu; the pair (φ_K, χ′ = φ_K + φ_ν) has unit Jacobian w.r.t. (φ_K, φ_ν)).
    """
    m_b, m_v = params[bk.I_M_PARENT], params[bk.I_M_KSTAR]
    m_k, m_pi = params[bk.I_M_KAON], params[bk.I_M_PION]
    m_x, width_x = params[bk.I_M_X], params[bk.I_WIDTH_X]
    p_star = math.sqrt(kallen(m_v**2, m_k**2, m_pi**2)) / (2 * m_v)
    p_b_star = math.sqrt(kallen(m_b**2, m_v**2, q2)) / (2 * m_b)
    couplings = params[bk.I_COUPLING2] / 4.0
    kstar_line = 3 * math.pi * params[bk.I_BR_KPI] * m_v / p_star**3
    q2_line = (params[bk.I_T_MAX] - params[bk.I_T_MIN]) / (m_x * width_x) / (2 * math.pi)
    phi_b = p_b_star / (4 * math.pi * m_b)
    phi_kstar = p_star / (4 * math.pi * m_v)
    phi_x = 1.0 / (8 * math.pi)
    return (
        params[bk.I_TO_BR]
        / (2 * m_b)
        * couplings
        * reduced
        * kstar_line
        * q2_line
        * phi_b
        * phi_kstar
        * phi_x
    )


@pytest.mark.parametrize("m_x", [2.1, 0.2])
def test_event_kernel_matches_oracle(m_x):
    params = _prepared(m_x)
    m_b, m_v = params[bk.I_M_PARENT], params[bk.I_M_KSTAR]
    m_k, m_pi = params[bk.I_M_KAON], params[bk.I_M_PION]
    m_gamma = m_x * params[bk.I_WIDTH_X]
    t_min, t_max = params[bk.I_T_MIN], params[bk.I_T_MAX]
    ratios_bbar = []
    n_off_peak = 0
    for u in _unit_points(2024 + int(10 * m_x)):
        dbr_du, q2, k2, moms = _call_kernel(u, params)
        p_b, p_kstar, p_x, p_nu, p_nubar, p_kaon, p_pion = moms

        # ---- kinematics ----------------------------------------------------------------
        np.testing.assert_array_equal(p_b, [m_b, 0.0, 0.0, 0.0])
        atol = 1e-13 * m_b
        np.testing.assert_allclose(p_kstar + p_x, p_b, rtol=0, atol=atol)
        np.testing.assert_allclose(p_kaon + p_pion, p_kstar, rtol=0, atol=atol)
        np.testing.assert_allclose(p_nu + p_nubar, p_x, rtol=0, atol=atol)
        np.testing.assert_allclose(p_kaon + p_pion + p_nu + p_nubar, p_b, rtol=0, atol=atol)
        stack = np.array([p_kaon, p_pion, p_nu, p_nubar, p_kstar])
        assert np.all(relative_offshell(stack, np.array([m_k, m_pi, 0.0, 0.0, m_v])) < 1e-12)
        assert k2 == pytest.approx(m_v**2, rel=1e-13)  # narrow K*: Kπ mass = m_V
        assert relative_offshell(p_x, np.sqrt(q2)) < 1e-12
        t = t_min + (t_max - t_min) * u[0]
        delta = m_gamma * math.tan(t)
        tol_q2 = 8 * np.spacing(abs(t) + 2.0) * m_gamma * (1 + math.tan(t) ** 2) + 1e-15 * q2
        assert abs(q2 - (m_x**2 + delta)) <= tol_q2
        n_off_peak += abs(delta) > 100 * m_gamma
        # K* direction in the B frame = the flat auxiliary inputs
        kdir = p_kstar[1:] / np.linalg.norm(p_kstar[1:])
        assert kdir[2] == pytest.approx(2 * u[4] - 1, abs=1e-12)
        phi_k = math.atan2(kdir[1], kdir[0])
        assert math.cos(phi_k - 2 * math.pi * u[5]) == pytest.approx(1.0, abs=1e-12)
        # helicity angles (physics.md §1): kaon in the K* frame, ν in the X frame
        assert rest_frame_cos(p_kaon, p_kstar) == pytest.approx(2 * u[1] - 1, abs=1e-9)
        assert rest_frame_cos(p_nu, p_x) == pytest.approx(2 * u[2] - 1, abs=1e-9)

        # ---- oracle ------------------------------------------------------------------
        ffs = form_factors(q2, params[bk.I_FF : bk.I_FF + ffk.SIZE], m_b, m_v)
        reduced_b = b_reduced_m2(p_b, p_kaon, p_pion, p_nu, p_nubar, ffs, m_b, m_v)
        reduced_bbar = bbar_reduced_m2(p_b, p_kaon, p_pion, p_nu, p_nubar, ffs, m_b, m_v)
        expected = expected_dbr_du(reduced_b, q2, params)
        assert dbr_du > 0
        assert dbr_du == pytest.approx(expected, rel=1e-8), (
            f"u={u.tolist()}: kernel {dbr_du!r} vs oracle {expected!r} (ratio {dbr_du / expected!r})"
        )
        ratios_bbar.append(reduced_bbar / reduced_b)
        # with real form factors and no strong phases the spin-summed B̄ |M|² has no T-odd
        # (ε(p_K, p_π, p_ν, p_ν̄)) term, so the parity flip alone is invisible: what tells B
        # from B̄ is the exchange of the ν and ν̄ roles
        mirrored = bbar_reduced_m2(
            parity(p_b),
            parity(p_kaon),
            parity(p_pion),
            parity(p_nu),
            parity(p_nubar),
            ffs,
            m_b,
            m_v,
        )
        assert mirrored == pytest.approx(reduced_bbar, rel=1e-10)
    assert n_off_peak >= 4
    # 4. the CP treatment matters: the unconjugated B̄ formula at the same momenta differs
    ratios_bbar = np.array(ratios_bbar)
    assert np.max(np.abs(ratios_bbar - 1.0)) > 0.1, ratios_bbar


def test_kernel_weight_independent_of_flat_auxiliaries():
    """Rotations of the whole event (K* direction, φ_K at fixed χ′) leave dBR/du unchanged."""
    params = _prepared(2.1)
    rng = np.random.default_rng(99)
    for _ in range(4):
        u = rng.random(7)
        ref = _call_kernel(u, params)[0]
        for _ in range(3):
            u2 = u.copy()
            u2[4:] = rng.random(3)
            assert _call_kernel(u2, params)[0] == pytest.approx(ref, rel=1e-10)


# --------------------------------------------------------------------------------------
# 4. CP, physically: the neutrino forward–backward asymmetry (Eq. 23 with F₊ ↔ F₋)
# --------------------------------------------------------------------------------------


def test_neutrino_forward_backward_asymmetry_sign():
    """At fixed q² ≈ m_X² (u_q² = ½), integrate over cosθ_K, cosθ_ν, χ′ by quadrature.

    The weight is a polynomial of degree ≤ 2 in cosθ_K and cosθ_ν once χ′ is integrated
    (the χ′ dependence is e^{±iχ′}, e^{±2iχ′}), so 4-point Gauss–Legendre in each cosine and
    a 5-point periodic grid in χ′ are exact. Checks, with F_λ = |H_λ|²/Σ from Eq. 15 at q²:
    kernel (B⁰) and CP-oracle: ⟨cosθ_ν⟩ = (F₊ − F₋)/2 < 0; unconjugated B̄ oracle:
    (F₋ − F₊)/2; ⟨cos²θ_K⟩ = (1 + 2F_L)/5 for all; and the angle-integrated kernel equals
    τ/ħ · BR(K*→Kπ) · dΓ/dq²·dq²/du from Eq. 14 form (physics.md §4.4 narrow-K* average).
    """
    params = _prepared(2.1)
    m_b, m_v = params[bk.I_M_PARENT], params[bk.I_M_KSTAR]
    m_x, width_x = params[bk.I_M_X], params[bk.I_WIDTH_X]
    x, w = np.polynomial.legendre.leggauss(4)
    u_cos, w_cos = (x + 1) / 2, w / 2
    n_chi = 5
    sums = {name: np.zeros(3) for name in ("kernel", "b", "bbar")}  # ∫w, ∫w cosν, ∫w cos²K
    q2_seen = set()
    ffs = None
    for (i, uk), (j, un), c in itertools.product(enumerate(u_cos), enumerate(u_cos), range(n_chi)):
        u = np.array([0.5, uk, un, (c + 0.5) / n_chi, 0.3, 0.7, 0.2])
        dbr_du, q2, _, moms = _call_kernel(u, params)
        q2_seen.add(q2)
        p_b, _, _, p_nu, p_nubar, p_kaon, p_pion = moms
        if ffs is None:
            ffs = form_factors(q2, params[bk.I_FF : bk.I_FF + ffk.SIZE], m_b, m_v)
        weight = w_cos[i] * w_cos[j] / n_chi
        cos_nu, cos_k = 2 * un - 1, 2 * uk - 1
        vals = {
            "kernel": dbr_du,
            "b": b_reduced_m2(p_b, p_kaon, p_pion, p_nu, p_nubar, ffs, m_b, m_v),
            "bbar": bbar_reduced_m2(p_b, p_kaon, p_pion, p_nu, p_nubar, ffs, m_b, m_v),
        }
        for name, val in vals.items():
            sums[name] += weight * val * np.array([1.0, cos_nu, cos_k**2])
    assert len(q2_seen) == 1
    (q2,) = q2_seen
    assert q2 == pytest.approx(m_x**2, rel=1e-6)
    h_plus, h_zero, h_minus = eq15(q2, params[bk.I_FF : bk.I_FF + ffk.SIZE], m_b, m_v)
    h2 = h_plus**2 + h_zero**2 + h_minus**2
    f_plus, f_long, f_minus = h_plus**2 / h2, h_zero**2 / h2, h_minus**2 / h2
    assert f_plus < f_minus
    fb_b = (f_plus - f_minus) / 2
    assert fb_b == pytest.approx(-0.1753, abs=2e-4)  # physics.md §4.4: B̄ +0.1753, B⁰ sign flipped
    for name, expected_fb in (("kernel", fb_b), ("b", fb_b), ("bbar", -fb_b)):
        total, m_cos_nu, m_cos2_k = sums[name]
        assert m_cos_nu / total == pytest.approx(expected_fb, rel=1e-9, abs=1e-12), name
        assert m_cos2_k / total == pytest.approx((1 + 2 * f_long) / 5, rel=1e-9), name
    # normalisation at fixed q²: ∫ dBR/du over the angles, from Eq. 15 and the §4.4 average
    # ⟨Σ|H·J|²⟩ = Σ|H_λ|² (4p*²/3)(2q²/3) (independent of both the kernel and the oracle)
    p_b_star = math.sqrt(kallen(m_b**2, m_v**2, q2)) / (2 * m_b)
    t_range = params[bk.I_T_MAX] - params[bk.I_T_MIN]
    expected_total = (
        params[bk.I_TO_BR]
        * params[bk.I_BR_KPI]
        * params[bk.I_COUPLING2]
        * h2
        * p_b_star
        * q2
        / (384 * math.pi**2 * m_b**2)
        * t_range
        / (2 * math.pi * m_x * width_x)
    )
    assert sums["kernel"][0] == pytest.approx(expected_total, rel=1e-9)
    # and the oracle's angular average is the same statement: ⟨reduced⟩ = Σ|H|² (4p*²/3)(2q²/3)
    m_k, m_pi = params[bk.I_M_KAON], params[bk.I_M_PION]
    p_star = math.sqrt(kallen(m_v**2, m_k**2, m_pi**2)) / (2 * m_v)
    avg = h2 * (4 * p_star**2 / 3) * (2 * q2 / 3)
    assert sums["b"][0] == pytest.approx(avg, rel=1e-9)
    assert sums["bbar"][0] == pytest.approx(avg, rel=1e-9)
