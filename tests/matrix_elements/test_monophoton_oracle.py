"""Independent explicit-spinor / explicit-polarisation oracle for Z → γX(→ νν̄) and
e⁺e⁻ → Z* → γX(→ νν̄) (physics.md §1, §2 Eq. 2-3, §3.5 Eq. 16, §4.5 Eq. 24-28).

What is independent of what
---------------------------
* The **oracle** is built here from scratch in plain numpy and uses no generator code for
  amplitudes, spin sums or kinematics: chiral-basis Dirac matrices (γ5 = diag(−1,−1,1,1)),
  explicit massless spinors u(p, s) = (√(p·σ) ξ, √(p·σ̄) ξ), v(p, s) = (√(p·σ) η, −√(p·σ̄) η)
  with √(p·σ) = p·σ/√(2E), the Levi-Civita tensor with ε^{0123} = −1, the neutrino current
  J_ν^β = ū(p_ν) γ^β P_L v(p_ν̄) and the electron current J_e^α = v̄(p₊) γ^α (g_L P_L + g_R P_R)
  u(p₋) for every spin combination, the three Z polarisation vectors at rest and the two
  *transverse* photon polarisation vectors of physics.md §1, built explicitly. The amplitude

      Z:    M = C g_ν D_X(q²) ε^{βαρσ} J_νβ ε_Zα k_ρ ε*_σ(γ)
      e⁺e⁻: M = g_Z C g_ν D_Z(s) D_X(q²) ε^{βαρσ} J_νβ J_eα k_ρ ε*_σ(γ)

  is evaluated as a number for every helicity configuration and |M|² is summed (ν spins,
  photon polarisations) and averaged (3 Z polarisations, or ¼ over the beam spins) by hand.
  No trace formula, no tensor of the generator's docstring (Eq. 24/25 are only *tested*).
  The couplings are recomputed from the card inputs and physics.md §9 (α(M_Z) = 1/127.951,
  s_W² = 0.23153, g_L = −½ + s_W², g_R = s_W², Γ_X = Σg_ν² m_X/(24π), m_Z, Γ_Z) and only
  cross-checked against the generator's parameter array.
* **Self-checks** (section 1): Clifford algebra, γ5, Tr[γ^μγ^νγ^ργ^σγ5] = +4iε^{μνρσ},
  spinor completeness and Dirac equation, the photon polarisations (ε·k = 0, ε·ε* = −1,
  Σ ε^μ ε^ν* = −g^{μν} + (k^μ k̄^ν + k̄^μ k^ν)/(k·k̄)), the Z polarisation sum, gauge
  invariance of the ε-vertex, and the explicit currents vs the closed tensors Eq. 18 / Eq. 24.
* **Point kernel** (section 2): ``z_to_gamma._event`` is called at fixed-seed random points
  (with u_q² close to 0 and 1, i.e. q² far off the X peak). Only the *momenta* and q² it
  returns are used: the oracle recomputes |M|² from them, and the Jacobian of the unit cube
  and the phase space are rebuilt here from the documented maps (q² = m_X² + m_XΓ_X tan t,
  cos = 2u − 1, φ = 2πu) and dΦ₃ = dΦ₂(M → γX*) dq²/(2π) dΦ₂(X* → νν̄), dΦ₂ = p*/(4πM)
  dΩ/(4π). The kinematics (conservation, masses, E_γ = (M² − q²)/(2M), photon angles,
  θ_ν in the X helicity frame, φ_ν as a rotation about the X axis) are checked as well.
* **Angle-integrated checks** (section 3): at fixed q² the oracle is integrated over all
  four decay angles with Gauss-Legendre (cosθ) × uniform (φ) product rules, which are *exact*
  here (|M|² is a polynomial of degree 2 in the ν rest-frame direction, and after that
  integration of degree ≤ 2 in the photon direction): no Monte Carlo. The marginals are
  compared with physics.md Eq. 27 (photon polar angle, e⁺e⁻), Eq. 28 (photon isotropic for
  the Z at rest; ν angle with f_L = 1/(1 + q²/M²)) and the absolute rate at fixed q² with
  Eq. 16 / Eq. 26 × q²Σg_ν²/(24π²)|D_X|² — i.e. these test physics.md itself with the
  oracle. The same quadrature applied to the generator's kernel (at the nodes in its unit
  cube) must give the same marginals and the same rate.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pytest
from axgen_testing import card_dict, prepare, relative_offshell
from dirac_oracle import (
    EPS_UPPER,
    GAMMA,
    GAMMA5,
    METRIC,
    P_LEFT,
    P_RIGHT,
    XI,
    bar,
    lower,
    mdot,
    p_sigma,
    slash,
)

from gen import cards
from gen.driver import validate
from matrix_elements import z_to_gamma as zg
from phase_space.maps import Q2_BREIT_WIGNER

# physics.md §9 / §4.5 / §1 inputs (not read from the generator)
M_Z = 91.1880
WIDTH_Z = 2.4955
ALPHA_MZ = 1.0 / 127.951
SW2 = 0.23153
G_L = -0.5 + SW2
G_R = SW2
G_Z2 = 4.0 * math.pi * ALPHA_MZ / (SW2 * (1.0 - SW2))  # g_Z² = e²/(s_W² c_W²)
GEV2_TO_PB = 3.893793721e8
C_ZGAMMA = 1e-6  # card value used throughout
G_NU_SUM2 = 3 * 1e-3**2  # card default g_ν = 1e-3 for each of the three flavours

# --------------------------------------------------------------------------------------
# The oracle: Dirac algebra, spinors, Levi-Civita, polarisation vectors (physics.md §1)
# --------------------------------------------------------------------------------------


def u_spinor(p: np.ndarray, s: int) -> np.ndarray:
    """u(p, s) = (√(p·σ) ξ_s, √(p·σ̄) ξ_s); massless: √(p·σ) = p·σ/√(2E)."""
    ps, psb = p_sigma(p)
    return np.concatenate([ps @ XI[s], psb @ XI[s]]) / math.sqrt(2.0 * p[0])


def v_spinor(p: np.ndarray, s: int) -> np.ndarray:
    """v(p, s) = (√(p·σ) η_s, −√(p·σ̄) η_s)."""
    ps, psb = p_sigma(p)
    return np.concatenate([ps @ XI[s], -psb @ XI[s]]) / math.sqrt(2.0 * p[0])


def neutrino_currents(p_nu: np.ndarray, p_nubar: np.ndarray) -> np.ndarray:
    """J^β = ū(p_ν, s1) γ^β P_L v(p_ν̄, s2) for the 4 spin pairs: shape (4, 4), upper β."""
    out = []
    for s1, s2 in itertools.product(range(2), range(2)):
        ub = bar(u_spinor(p_nu, s1))
        v = P_LEFT @ v_spinor(p_nubar, s2)
        out.append([ub @ GAMMA[m] @ v for m in range(4)])
    return np.array(out)


def electron_currents(p_minus: np.ndarray, p_plus: np.ndarray, g_l: float, g_r: float):
    """J_e^α = v̄(p₊, s2) γ^α (g_L P_L + g_R P_R) u(p₋, s1), 4 spin pairs: shape (4, 4)."""
    chiral = g_l * P_LEFT + g_r * P_RIGHT
    out = []
    for s1, s2 in itertools.product(range(2), range(2)):
        vb = bar(v_spinor(p_plus, s2))
        u = chiral @ u_spinor(p_minus, s1)
        out.append([vb @ GAMMA[m] @ u for m in range(4)])
    return np.array(out)


def photon_polarisations(k: np.ndarray) -> np.ndarray:
    """The two transverse helicity vectors ε(±) of physics.md §1 for the direction of k."""
    kvec = np.asarray(k[1:], dtype=float)
    kabs = float(np.linalg.norm(kvec))
    cos_t = kvec[2] / kabs
    sin_t = math.hypot(kvec[0], kvec[1]) / kabs
    phi = math.atan2(kvec[1], kvec[0])
    cf, sf = math.cos(phi), math.sin(phi)
    return np.array(
        [
            [0.0, -s * cos_t * cf + 1j * sf, -s * cos_t * sf - 1j * cf, s * sin_t]
            for s in (1.0, -1.0)
        ],
        dtype=complex,
    ) / math.sqrt(2.0)


# Z at rest, helicity basis along z: ε(±) = (0, ∓1, −i, 0)/√2, ε(0) = (0, 0, 0, 1)
Z_POLARISATIONS_AT_REST = np.array(
    [
        [0.0, -1.0, -1j, 0.0],
        [0.0, 0.0, 0.0, math.sqrt(2.0)],
        [0.0, 1.0, -1j, 0.0],
    ],
    dtype=complex,
) / math.sqrt(2.0)


def eps_vertex(j_nu: np.ndarray, a: np.ndarray, k: np.ndarray, eps_g: np.ndarray) -> np.ndarray:
    """ε^{βαρσ} J_β a_α k_ρ ε*_σ for all rows of j_nu (i), a (j), eps_g (l): shape (i, j, l)."""
    t = np.einsum("bars,r,ls->lba", EPS_UPPER, lower(k), lower(eps_g.conj()))
    return np.einsum("lba,ib,ja->ijl", t, lower(j_nu), lower(a))


def reduced_z(k, p_nu, p_nubar) -> float:
    """(1/3) Σ_{Z pol} Σ_{γ pol} Σ_{ν spins} |ε^{βαρσ} J_β ε_Zα k_ρ ε*_σ|² (C = g_ν = D_X = 1)."""
    amps = eps_vertex(
        neutrino_currents(p_nu, p_nubar), Z_POLARISATIONS_AT_REST, k, photon_polarisations(k)
    )
    return float(np.sum(np.abs(amps) ** 2)) / 3.0


def reduced_ee(k, p_nu, p_nubar, j_e) -> float:
    """(1/4) Σ_{beam spins} Σ_{γ pol} Σ_{ν spins} |ε^{βαρσ} J_νβ J_eα k_ρ ε*_σ|² (couplings,
    propagators = 1; g_L, g_R inside J_e)."""
    amps = eps_vertex(neutrino_currents(p_nu, p_nubar), j_e, k, photon_polarisations(k))
    return float(np.sum(np.abs(amps) ** 2)) / 4.0


def beams(sqrt_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(p₋, p₊), massless, e⁻ along +z."""
    e = 0.5 * sqrt_s
    return np.array([e, 0.0, 0.0, e]), np.array([e, 0.0, 0.0, -e])


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


def direction(cos_t: float, phi: float) -> np.ndarray:
    s = math.sqrt(max(0.0, 1.0 - cos_t * cos_t))
    return np.array([s * math.cos(phi), s * math.sin(phi), cos_t])


def build_event(big_m: float, q2: float, n_gamma: np.ndarray, cos_nu: float, phi_nu: float):
    """M (rest) → γ X*(q²), X* → ν ν̄ with ν at (θ_ν, φ_ν) in the X helicity frame."""
    e_gamma = (big_m**2 - q2) / (2 * big_m)
    k = np.concatenate([[e_gamma], e_gamma * n_gamma])
    p_x = np.array([big_m, 0.0, 0.0, 0.0]) - k
    z_axis = -n_gamma
    trial = np.array([1.0, 0.0, 0.0]) if abs(z_axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x_axis = trial - (trial @ z_axis) * z_axis
    x_axis /= np.linalg.norm(x_axis)
    y_axis = np.cross(z_axis, x_axis)
    sin_nu = math.sqrt(max(0.0, 1.0 - cos_nu * cos_nu))
    n_nu = cos_nu * z_axis + sin_nu * (math.cos(phi_nu) * x_axis + math.sin(phi_nu) * y_axis)
    e = 0.5 * math.sqrt(q2)
    beta = p_x[1:] / p_x[0]
    p_nu = boost(np.concatenate([[e], e * n_nu]), beta)
    p_nubar = boost(np.concatenate([[e], -e * n_nu]), beta)
    return k, p_x, p_nu, p_nubar


def random_null(rng: np.random.Generator) -> np.ndarray:
    e = rng.uniform(0.1, 50.0)
    return np.concatenate([[e], e * direction(rng.uniform(-1, 1), rng.uniform(0, 2 * math.pi))])


# --------------------------------------------------------------------------------------
# The two processes: independent normalisation and the kernel's argument layout
# --------------------------------------------------------------------------------------


@dataclass
class Setup:
    mode: str  # "Z" or "ee"
    params: np.ndarray
    m_x: float
    width_x: float
    big_m: float  # m_Z (Z at rest) or √s (e⁺e⁻)
    t_min: float
    t_max: float
    coupling2: float  # |C|²Σg_ν² (Z), g_Z²|C|²Σg_ν² (e⁺e⁻), from the card inputs

    @property
    def s(self) -> float:
        return self.big_m**2

    def flux_norm(self) -> float:
        """Z: 1/(2m_Z Γ_Z) (→ dBR); e⁺e⁻: |D_Z(s)|²/(2s) in pb (→ dσ)."""
        if self.mode == "Z":
            return 1.0 / (2.0 * self.big_m * WIDTH_Z)
        d_z2 = 1.0 / ((self.s - M_Z**2) ** 2 + (M_Z * WIDTH_Z) ** 2)
        return d_z2 / (2.0 * self.s) * GEV2_TO_PB

    def bw_jacobian(self) -> float:
        """(dq²/du_q²)|D_X(q²)|² = (t_max − t_min)/(m_XΓ_X) for the tan map."""
        return (self.t_max - self.t_min) / (self.m_x * self.width_x)

    def dphi3_per_du_over_dq2(self, q2: float) -> float:
        """dΦ₂(M → γX*)/du² · (1/2π) · dΦ₂(X* → νν̄)/du²; dq²/du is in bw_jacobian.

        dΦ₂ = p*/(4πM) dcosθ dφ/(4π), dcosθ/du = 2, dφ/du = 2π.
        """
        angles = 2.0 * 2.0 * math.pi / (4.0 * math.pi)
        pstar = (self.big_m**2 - q2) / (2.0 * self.big_m)
        dphi2_parent = pstar / (4.0 * math.pi * self.big_m) * angles
        dphi2_x = math.sqrt(q2) / 2 / (4.0 * math.pi * math.sqrt(q2)) * angles  # = 1/(8π)
        return dphi2_parent / (2.0 * math.pi) * dphi2_x

    def electron_currents(self) -> np.ndarray:
        p_minus, p_plus = beams(self.big_m)
        return electron_currents(p_minus, p_plus, G_L, G_R)

    def reduced(self, k, p_nu, p_nubar, j_e=None) -> float:
        if self.mode == "Z":
            return reduced_z(k, p_nu, p_nubar)
        return reduced_ee(k, p_nu, p_nubar, self.electron_currents() if j_e is None else j_e)

    def expected_weight(self, q2: float, reduced: float) -> float:
        """Z: dBR/du; e⁺e⁻: dσ/du in pb, from the oracle |M|² (Σ flavours via coupling2)."""
        return (
            self.coupling2
            * reduced
            * self.bw_jacobian()
            * self.flux_norm()
            * self.dphi3_per_du_over_dq2(q2)
        )

    def analytic_per_dq2_over_dx2(self, q2: float) -> float:
        """physics.md: dRate/dq² / |D_X(q²)|² = Rate₂(m_X² → q²) · q²Σg_ν²/(24π²).

        Rate₂ = Γ(Z → γX*)/Γ_Z (Eq. 16) or σ(e⁺e⁻ → γX*) (Eq. 26, pb); Γ(X* → νν̄) =
        Σg_ν² √q²/(24π) (§3.1) and dq²/π · √q² Γ_{νν̄}(q²) |D_X|² gives the last factor.
        """
        c2 = C_ZGAMMA**2

        def width_gamma_x(big_m: float) -> float:  # Eq. 16 with m_X² → q²
            return c2 * (big_m**2 - q2) ** 3 * (big_m**2 + q2) / (96 * math.pi * big_m**5 * q2)

        x_factor = q2 * G_NU_SUM2 / (24 * math.pi**2)
        if self.mode == "Z":
            return width_gamma_x(M_Z) / WIDTH_Z * x_factor
        root_s = self.big_m
        width_ee = G_Z2 * root_s * (G_L**2 + G_R**2) / (24 * math.pi)
        sigma = (
            12
            * math.pi
            * width_ee
            * width_gamma_x(root_s)
            / ((self.s - M_Z**2) ** 2 + (M_Z * WIDTH_Z) ** 2)
        )
        return sigma * GEV2_TO_PB * x_factor

    def kernel(self, u_q2, u_cos_g, u_phi_g, u_cos_nu, u_phi_nu):
        """z_to_gamma._event with all angles given as unit-cube variables."""
        out = zg._event(u_q2, u_cos_g, u_cos_nu, u_phi_nu, u_phi_g, self.big_m, self.params)
        w, q2, *moms = out
        return (float(w), float(q2), *(np.array(p, dtype=float) for p in moms))


def _bw_t(q2: float, m_x: float, width_x: float) -> float:
    return math.atan((q2 - m_x**2) / (m_x * width_x))


def make_setup(mode: str, m_x: float, sqrt_s: float | None = None) -> Setup:
    if mode == "Z":
        prepared = prepare("Z -> gamma X", m_X=m_x, C_Zgamma=C_ZGAMMA)
        big_m, coupling2 = M_Z, C_ZGAMMA**2 * G_NU_SUM2
    else:
        raw = card_dict("e+ e- -> gamma X", m_X=m_x, C_Zgamma=C_ZGAMMA)
        raw["production"]["sqrt_s"] = sqrt_s
        prepared = validate(cards.parse(raw, "<test>"))
        big_m, coupling2 = sqrt_s, G_Z2 * C_ZGAMMA**2 * G_NU_SUM2
        assert prepared.info["sqrt_s"] == pytest.approx(sqrt_s, rel=1e-15)
        assert prepared.info["g_Z2"] == pytest.approx(G_Z2, rel=1e-12)
    params = prepared.params
    width_x = G_NU_SUM2 * m_x / (24 * math.pi)  # physics.md §3.1, invisible only
    setup = Setup(
        mode=mode,
        params=params,
        m_x=m_x,
        width_x=width_x,
        big_m=big_m,
        t_min=_bw_t(0.0, m_x, width_x),
        t_max=_bw_t(big_m**2, m_x, width_x),
        coupling2=coupling2,
    )
    # the generator's parameter array, cross-checked against the independent inputs
    assert int(params[zg.I_MODE]) == (zg.MODE_Z_DECAY if mode == "Z" else zg.MODE_EE)
    assert int(params[zg.I_Q2_MODE]) == Q2_BREIT_WIGNER
    assert zg.n_dim(params) == (2 if mode == "Z" else 4)
    assert params[zg.I_M_Z] == pytest.approx(M_Z, rel=1e-15)
    assert params[zg.I_WIDTH_Z] == pytest.approx(WIDTH_Z, rel=1e-15)
    assert params[zg.I_M_X] == pytest.approx(m_x, rel=1e-15)
    assert params[zg.I_WIDTH_X] == pytest.approx(width_x, rel=1e-12)
    assert prepared.info["width_X"] == pytest.approx(width_x, rel=1e-12)
    assert params[zg.I_COUPLING2] == pytest.approx(coupling2, rel=1e-12)
    assert params[zg.I_T_MIN] == pytest.approx(setup.t_min, rel=1e-14)
    assert params[zg.I_T_MAX] == pytest.approx(setup.t_max, rel=1e-14)
    if mode == "ee":
        assert params[zg.I_SQRT_S] == pytest.approx(sqrt_s, rel=1e-15)
        assert params[zg.I_G_L2] == pytest.approx(G_L**2, rel=1e-12)
        assert params[zg.I_G_R2] == pytest.approx(G_R**2, rel=1e-12)
    return setup


Z_CASES = [("Z", 2.1, None), ("Z", 30.0, None)]
EE_CASES = [("ee", m_x, rs) for m_x in (2.1, 30.0) for rs in (M_Z, M_Z + 1.0)]
ALL_CASES = Z_CASES + EE_CASES


def _case_id(case) -> str:
    mode, m_x, rs = case
    return f"{mode}-mX{m_x}" + ("" if rs is None else f"-sqrts{rs:.3f}")


_SETUPS: dict[tuple, Setup] = {}


def get_setup(case) -> Setup:
    if case not in _SETUPS:
        _SETUPS[case] = make_setup(*case)
    return _SETUPS[case]


# --------------------------------------------------------------------------------------
# 1. Self-checks of the oracle's building blocks
# --------------------------------------------------------------------------------------


def test_dirac_algebra_and_trace_convention():
    """Clifford algebra, γ5 = diag(−1,−1,1,1), Tr[γ^μγ^νγ^ργ^σγ5] = +4iε^{μνρσ} (ε^{0123} = −1)."""
    for m in range(4):
        for n in range(4):
            anti = GAMMA[m] @ GAMMA[n] + GAMMA[n] @ GAMMA[m]
            np.testing.assert_allclose(anti, 2 * METRIC[m, n] * np.eye(4), atol=1e-15)
    np.testing.assert_allclose(GAMMA5, np.diag([-1, -1, 1, 1]), atol=1e-15)
    assert EPS_UPPER[0, 1, 2, 3] == -1.0
    for idx in itertools.product(range(4), repeat=4):
        tr = np.trace(GAMMA[idx[0]] @ GAMMA[idx[1]] @ GAMMA[idx[2]] @ GAMMA[idx[3]] @ GAMMA5)
        assert abs(tr - 4j * EPS_UPPER[idx]) < 1e-13


def test_spinor_completeness_and_dirac_equation():
    rng = np.random.default_rng(11)
    for _ in range(6):
        p = random_null(rng)
        e = p[0]
        ps = slash(p)
        su = sum(np.outer(u_spinor(p, s), bar(u_spinor(p, s))) for s in range(2))
        sv = sum(np.outer(v_spinor(p, s), bar(v_spinor(p, s))) for s in range(2))
        np.testing.assert_allclose(su, ps, atol=1e-13 * e)
        np.testing.assert_allclose(sv, ps, atol=1e-13 * e)
        for s in range(2):
            np.testing.assert_allclose(ps @ u_spinor(p, s), 0, atol=1e-13 * e)
            np.testing.assert_allclose(ps @ v_spinor(p, s), 0, atol=1e-13 * e)
    # the beam spinors (momenta exactly along ±z) too
    for p in beams(91.0):
        su = sum(np.outer(u_spinor(p, s), bar(u_spinor(p, s))) for s in range(2))
        sv = sum(np.outer(v_spinor(p, s), bar(v_spinor(p, s))) for s in range(2))
        np.testing.assert_allclose(su, slash(p), atol=1e-13 * p[0])
        np.testing.assert_allclose(sv, slash(p), atol=1e-13 * p[0])


def test_photon_polarisations_transverse_and_complete():
    """ε·k = 0, ε⁰ = 0, ε_λ·ε_λ′* = −δ, Σ ε^μ ε^ν* = −g^{μν} + (k^μk̄^ν + k̄^μk^ν)/(k·k̄)."""
    rng = np.random.default_rng(5)
    g_upper = np.linalg.inv(METRIC)
    ks = [random_null(rng) for _ in range(6)]
    ks += [np.array([3.0, 0, 0, 3.0]), np.array([3.0, 0, 0, -3.0]), np.array([2.0, 0, 2.0, 0])]
    for k in ks:
        eps = photon_polarisations(k)
        kbar = np.array([k[0], -k[1], -k[2], -k[3]])
        for a in range(2):
            assert abs(mdot(eps[a], k)) < 1e-14 * k[0]
            assert eps[a][0] == 0
            for b in range(2):
                assert mdot(eps[a], eps[b].conj()) == pytest.approx(
                    -1.0 if a == b else 0.0, abs=1e-14
                )
        completeness = np.einsum("lm,ln->mn", eps, eps.conj())
        gauge = (np.outer(k, kbar) + np.outer(kbar, k)) / mdot(k, kbar)
        np.testing.assert_allclose(completeness, -g_upper + gauge, atol=1e-14)


def test_z_polarisations_at_rest():
    """Σ_λ ε_Z^μ ε_Z^ν* = −g^{μν} + P^μP^ν/m_Z² = diag(0, 1, 1, 1), ε·P = 0, ε·ε* = −1."""
    eps = Z_POLARISATIONS_AT_REST
    p = np.array([M_Z, 0.0, 0.0, 0.0])
    completeness = np.einsum("lm,ln->mn", eps, eps.conj())
    np.testing.assert_allclose(
        completeness, -np.linalg.inv(METRIC) + np.outer(p, p) / M_Z**2, atol=1e-15
    )
    for a in range(3):
        assert abs(mdot(eps[a], p)) < 1e-15
        assert mdot(eps[a], eps[a].conj()) == pytest.approx(-1.0, abs=1e-15)


def test_vertex_gauge_invariance_and_polarisation_sum():
    """ε*_γ → k gives 0; the 2-polarisation sum equals the −g contraction (gauge terms drop)."""
    rng = np.random.default_rng(9)
    for _ in range(5):
        j = rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))
        a = rng.normal(size=(2, 4)) + 1j * rng.normal(size=(2, 4))
        k = random_null(rng)
        scale = np.max(np.abs(j)) * np.max(np.abs(a)) * k[0] ** 2
        assert np.max(np.abs(eps_vertex(j, a, k, k[None, :].astype(complex)))) < 1e-13 * scale
        two_pol = np.sum(np.abs(eps_vertex(j, a, k, photon_polarisations(k))) ** 2, axis=-1)
        m_sigma = np.einsum("bars,ib,ja,r->ijs", EPS_UPPER, lower(j), lower(a), lower(k))
        minus_g = -np.real(np.einsum("ijs,ijs->ij", lower(m_sigma), m_sigma.conj()))
        np.testing.assert_allclose(two_pol, minus_g, rtol=1e-12)


def test_explicit_currents_vs_tensors_eq18_eq24():
    """Σ J_ν J_ν* = Eq. 18 and Σ J_e J_e* = Eq. 24 (with their ε-terms), q·J_ν = 0."""
    rng = np.random.default_rng(3)
    g_upper = np.linalg.inv(METRIC)
    for _ in range(5):
        p1, p2 = random_null(rng), random_null(rng)
        h = rng.normal(size=4) + 1j * rng.normal(size=4)
        hl = lower(h)
        eps_term = np.einsum("mnab,a,b->mn", EPS_UPPER, lower(p1), lower(p2))
        sym = np.outer(p1, p2) + np.outer(p2, p1) - g_upper * mdot(p1, p2)
        j = neutrino_currents(p1, p2)
        explicit = np.sum(np.abs(j @ hl) ** 2)
        tensor18 = 2 * (sym + 1j * eps_term)
        assert explicit == pytest.approx(np.real(hl @ tensor18 @ hl.conj()), rel=1e-11)
        qj = j @ lower(p1 + p2)
        assert np.max(np.abs(qj)) < 1e-12 * np.max(np.abs(j)) * (p1[0] + p2[0])
        # electron current: barred spinor v̄(p₊) → a = p₊, b = p₋
        p_minus, p_plus = p1, p2
        je = electron_currents(p_minus, p_plus, G_L, G_R)
        explicit_e = np.sum(np.abs(je @ hl) ** 2)
        eps_e = np.einsum("mnab,a,b->mn", EPS_UPPER, lower(p_plus), lower(p_minus))
        tensor24 = 2 * (G_L**2 + G_R**2) * sym + 2j * (G_L**2 - G_R**2) * eps_e
        assert explicit_e == pytest.approx(np.real(hl @ tensor24 @ hl.conj()), rel=1e-11)


# --------------------------------------------------------------------------------------
# 2. The generator's point kernel vs the oracle
# --------------------------------------------------------------------------------------


def _unit_points(seed: int) -> np.ndarray:
    """Random points (u_q², u_cosθ_γ, u_φ_γ, u_cosθ_ν, u_φ_ν), u_q² also close to 0 and 1."""
    rng = np.random.default_rng(seed)
    u = rng.random((12, 5))
    u[6:, 0] = [1e-9, 1.5e-8, 4e-8, 1 - 1e-9, 1 - 2e-8, 1 - 1e-7]
    return u


def _rest_direction(p_nu: np.ndarray, p_x: np.ndarray) -> np.ndarray:
    rest = boost(p_nu, -p_x[1:] / p_x[0])[1:]
    return rest / np.linalg.norm(rest)


@pytest.mark.parametrize("case", ALL_CASES, ids=_case_id)
def test_event_kernel_matches_oracle(case):
    setup = get_setup(case)
    big_m, m_x, m_gamma = setup.big_m, setup.m_x, setup.m_x * setup.width_x
    j_e = setup.electron_currents() if setup.mode == "ee" else None
    n_off_peak = 0
    for u in _unit_points(20260611):
        w, q2, k, p_x, p_nu, p_nubar = setup.kernel(*u)

        # ---- kinematics -----------------------------------------------------------------
        total = np.array([big_m, 0.0, 0.0, 0.0])
        np.testing.assert_allclose(k + p_nu + p_nubar, total, rtol=0, atol=1e-12 * big_m)
        np.testing.assert_allclose(p_nu + p_nubar, p_x, rtol=0, atol=1e-12 * big_m)
        moms = np.array([k, p_nu, p_nubar])
        assert np.all(relative_offshell(moms, np.zeros(3)) < 1e-12)
        assert mdot(p_x, p_x) == pytest.approx(q2, abs=1e-12 * big_m**2, rel=1e-10)
        t = setup.t_min + (setup.t_max - setup.t_min) * u[0]
        delta = m_gamma * math.tan(t)
        tol_q2 = 8 * np.spacing(abs(t) + 2.0) * m_gamma * (1 + math.tan(t) ** 2) + 1e-15 * big_m**2
        assert abs(q2 - (m_x**2 + delta)) <= tol_q2
        if abs(delta) > 100 * m_gamma:
            n_off_peak += 1
        e_gamma = (big_m**2 - q2) / (2 * big_m)
        assert k[0] == pytest.approx(e_gamma, rel=1e-12)
        # photon direction: θ_γ w.r.t. +z (the e⁻ beam), φ_γ = 2πu
        assert k[3] / k[0] == pytest.approx(2 * u[1] - 1, abs=1e-12)
        phi_g = math.atan2(k[2], k[1])
        assert math.cos(phi_g - 2 * math.pi * u[2]) == pytest.approx(1.0, abs=1e-12)
        # ν in the X helicity frame: cosθ_ν, and φ_ν as a rotation about the X axis
        x_hat = p_x[1:] / np.linalg.norm(p_x[1:])
        n_nu = _rest_direction(p_nu, p_x)
        assert float(n_nu @ x_hat) == pytest.approx(2 * u[3] - 1, abs=1e-9)
        assert _rest_direction(p_nubar, p_x) == pytest.approx(-n_nu, abs=1e-9)
        shift = 0.1
        u_rot = u.copy()
        u_rot[4] = (u[4] + shift) % 1.0
        *_, p_x2, p_nu2, _ = setup.kernel(*u_rot)
        np.testing.assert_allclose(p_x2, p_x, rtol=0, atol=1e-12 * big_m)
        n_nu2 = _rest_direction(p_nu2, p_x)
        tr1 = n_nu - (n_nu @ x_hat) * x_hat
        tr2 = n_nu2 - (n_nu2 @ x_hat) * x_hat
        sin2 = 1 - (2 * u[3] - 1) ** 2
        assert float(tr1 @ tr2) == pytest.approx(sin2 * math.cos(2 * math.pi * shift), abs=1e-8)
        assert abs(float(np.cross(tr1, tr2) @ x_hat)) == pytest.approx(
            sin2 * math.sin(2 * math.pi * shift), abs=1e-8
        )

        # ---- oracle ---------------------------------------------------------------------
        reduced = setup.reduced(k, p_nu, p_nubar, j_e)
        expected = setup.expected_weight(q2, reduced)
        assert w > 0
        assert w == pytest.approx(expected, rel=1e-8), (
            f"u={u.tolist()}: kernel {w!r} vs oracle {expected!r} (ratio {w / expected!r})"
        )
    assert n_off_peak >= 4


# --------------------------------------------------------------------------------------
# 3. Angle-integrated distributions at fixed q² (exact quadrature, no Monte Carlo)
# --------------------------------------------------------------------------------------

N_COS = 4  # Gauss-Legendre: exact to degree 7 in cosθ
N_PHI = 4  # uniform φ rule: exact for e^{imφ}, |m| ≤ 3
X_GL, W_GL = np.polynomial.legendre.leggauss(N_COS)  # weights sum to 2
PHI_NODES = (np.arange(N_PHI) + 0.5) / N_PHI  # in units of 2π


def eq27(cos_g: np.ndarray, r: float) -> np.ndarray:
    """(1/σ) dσ/dcosθ_γ = 3/(8(1+r)) [(1+2r) + (1−2r) cos²θ_γ], r = q²/s."""
    return 3 / (8 * (1 + r)) * ((1 + 2 * r) + (1 - 2 * r) * cos_g**2)


def eq28_nu(cos_nu: np.ndarray, f_l: float) -> np.ndarray:
    """(1/Γ) dΓ/dcosθ_ν = (3/4) f_L sin²θ_ν + (3/8)(1 − f_L)(1 + cos²θ_ν)."""
    return 0.75 * f_l * (1 - cos_nu**2) + 0.375 * (1 - f_l) * (1 + cos_nu**2)


def oracle_grid(setup: Setup, q2: float) -> np.ndarray:
    """reduced |M|² on the (cosθ_γ, φ_γ, cosθ_ν, φ_ν) product grid, built with own kinematics."""
    j_e = setup.electron_currents() if setup.mode == "ee" else None
    grid = np.empty((N_COS, N_PHI, N_COS, N_PHI))
    for a, b, c, d in itertools.product(range(N_COS), range(N_PHI), range(N_COS), range(N_PHI)):
        n_gamma = direction(X_GL[a], 2 * math.pi * PHI_NODES[b])
        k, _, p_nu, p_nubar = build_event(
            setup.big_m, q2, n_gamma, X_GL[c], 2 * math.pi * PHI_NODES[d]
        )
        grid[a, b, c, d] = setup.reduced(k, p_nu, p_nubar, j_e)
    return grid


def kernel_grid(setup: Setup, u_q2: float) -> tuple[np.ndarray, float]:
    """The kernel's weight on the same nodes of its unit cube; also returns its q²."""
    grid = np.empty((N_COS, N_PHI, N_COS, N_PHI))
    q2s = set()
    for a, b, c, d in itertools.product(range(N_COS), range(N_PHI), range(N_COS), range(N_PHI)):
        u_cg, u_cn = (1 + X_GL[a]) / 2, (1 + X_GL[c]) / 2
        w, q2, *_ = setup.kernel(u_q2, u_cg, PHI_NODES[b], u_cn, PHI_NODES[d])
        grid[a, b, c, d] = w
        q2s.add(q2)
    assert len(q2s) == 1  # q² depends on u_q² only
    return grid, q2s.pop()


def marginals(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Angle averages: (f(cosθ_γ) at the nodes, f(cosθ_ν) at the nodes, total average),
    normalised so that the marginals are the densities (1/Γ) dΓ/dcosθ."""
    wc = W_GL / 2  # average over cosθ
    avg_g = np.einsum("abcd,c->a", grid, wc) / N_PHI**2  # average over φ_γ, cosθ_ν, φ_ν
    avg_nu = np.einsum("abcd,a->c", grid, wc) / N_PHI**2
    total = float(avg_g @ wc)
    return avg_g / total / 2, avg_nu / total / 2, total


def _q2_targets(setup: Setup) -> list[float]:
    return [setup.m_x**2, 0.3 * setup.s]


@pytest.mark.parametrize("case", ALL_CASES, ids=_case_id)
def test_oracle_angular_distributions_match_physics_md(case):
    """Oracle only (own kinematics) vs physics.md Eq. 27, Eq. 28 and Eq. 16/26 at fixed q²."""
    setup = get_setup(case)
    for q2 in _q2_targets(setup):
        grid = oracle_grid(setup, q2)
        dens_g, dens_nu, avg = marginals(grid)
        r = q2 / setup.s
        if setup.mode == "Z":
            # unpolarised Z at rest: the photon is isotropic (also in φ_γ)
            np.testing.assert_allclose(dens_g, 0.5, rtol=1e-10)
            per_photon_direction = np.einsum("abcd,c->ab", grid, W_GL / 2) / N_PHI
            np.testing.assert_allclose(per_photon_direction, avg, rtol=1e-10)
        else:
            np.testing.assert_allclose(dens_g, eq27(X_GL, r), rtol=1e-10)
        np.testing.assert_allclose(dens_nu, eq28_nu(X_GL, 1 / (1 + r)), rtol=1e-10)
        # absolute rate at fixed q²: ⟨reduced⟩ over 4π × 4π → dRate/dq² / |D_X|²
        per_dq2 = setup.coupling2 * avg * setup.flux_norm() * setup.dphi3_per_du_over_dq2(q2)
        assert per_dq2 == pytest.approx(setup.analytic_per_dq2_over_dx2(q2), rel=1e-10)


@pytest.mark.parametrize("case", ALL_CASES, ids=_case_id)
def test_kernel_angular_distributions(case):
    """The kernel integrated with the same exact rule: Eq. 27/28, the rate, and the oracle."""
    setup = get_setup(case)
    m_gamma = setup.m_x * setup.width_x
    for q2_target in _q2_targets(setup):
        t = _bw_t(q2_target, setup.m_x, setup.width_x)
        u_q2 = (t - setup.t_min) / (setup.t_max - setup.t_min)
        grid, q2 = kernel_grid(setup, u_q2)
        # far off the peak dq²/du_q² is huge: one ulp of u_q² moves q² by
        # (t_max − t_min)(δ² + m²Γ²)/(mΓ) · 2⁻⁵³; the predictions below use the kernel's q²
        delta = q2_target - setup.m_x**2
        tol = 4 * (setup.t_max - setup.t_min) * (delta**2 + m_gamma**2) / m_gamma * 2.0**-52
        assert abs(q2 - q2_target) < tol + 1e-12 * q2_target
        dens_g, dens_nu, avg = marginals(grid)
        r = q2 / setup.s
        if setup.mode == "Z":
            np.testing.assert_allclose(dens_g, 0.5, rtol=1e-9)
            # the weight does not depend on the photon direction at all (unpolarised Z)
            per_photon_direction = np.einsum("abcd,c->ab", grid, W_GL / 2) / N_PHI
            np.testing.assert_allclose(per_photon_direction, avg, rtol=1e-9)
        else:
            np.testing.assert_allclose(dens_g, eq27(X_GL, r), rtol=1e-9)
        np.testing.assert_allclose(dens_nu, eq28_nu(X_GL, 1 / (1 + r)), rtol=1e-9)
        # ∫ w du_angles = dRate/du_q² = dRate/dq² · dq²/du_q²
        expected = setup.analytic_per_dq2_over_dx2(q2) * setup.bw_jacobian()
        assert avg == pytest.approx(expected, rel=1e-9)
        # and the oracle at the kernel's q² (own kinematics) gives the same marginals
        o_g, o_nu, o_avg = marginals(oracle_grid(setup, q2))
        np.testing.assert_allclose(dens_g, o_g, rtol=1e-9)
        np.testing.assert_allclose(dens_nu, o_nu, rtol=1e-9)
        assert avg == pytest.approx(setup.expected_weight(q2, o_avg), rel=1e-9)
