"""Couplings of the X model (physics.md §2) and the X width (physics.md §3.1, Eq. 10).

The generator's physics inputs are effective couplings: m_X, complex g_sd and g_bs, C_ZγX
and one real g_ν per neutrino flavour (e, μ, τ). Γ_X is Eq. 10 summed over flavours unless
given; a given Γ_X larger than the invisible width means X has other (visible) channels and
BR(X → νν̄) = Γ_inv/Γ_X < 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from matrix_elements.constants import HBARC_GEV_MM

NU_FLAVOURS = ("e", "mu", "tau")
NU_PDG_IDS = (12, 14, 16)


def width_x_to_nunu(g_nu: float, m_x: float) -> float:
    """Γ(X → ν_i ν̄_i) = g_νi² m_X/(24π) in GeV (physics.md Eq. 10)."""
    return g_nu * g_nu * m_x / (24.0 * math.pi)


@dataclass(frozen=True)
class Couplings:
    """Model point of physics.md §2 (masses and widths in GeV).

    Attributes
    ----------
    m_x : X mass.
    g_sd, g_bs : complex FCNC couplings of Eq. 1 (K⁺ → π⁺X uses g_sd*, B⁺ → K⁺X g_bs*).
    c_zgamma : C_ZγX of Eq. 2.
    g_nu : (g_νe, g_νμ, g_ντ) of Eq. 3.
    width_x : total Γ_X, or None for Eq. 10 summed over flavours.
    narrow_width : generate q² = m_X² exactly (physics.md §4.3).
    """

    m_x: float
    g_sd: complex = 0j
    g_bs: complex = 0j
    c_zgamma: float = 0.0
    g_nu: tuple[float, float, float] = (0.0, 0.0, 0.0)
    width_x: float | None = None
    narrow_width: bool = False

    @property
    def widths_invisible(self) -> tuple[float, float, float]:
        """Γ(X → ν_i ν̄_i) per flavour, Eq. 10."""
        e, mu, tau = (width_x_to_nunu(g, self.m_x) for g in self.g_nu)
        return (e, mu, tau)

    @property
    def width_invisible(self) -> float:
        """Σ_i Γ(X → ν_i ν̄_i)."""
        return sum(self.widths_invisible)

    @property
    def total_width(self) -> float:
        """Γ_X: the given width, or the invisible width (Eq. 10) when ``width_x`` is None."""
        return self.width_invisible if self.width_x is None else float(self.width_x)

    @property
    def br_invisible(self) -> float:
        """BR(X → νν̄) summed over flavours = Γ_inv/Γ_X."""
        total = self.total_width
        return self.width_invisible / total if total > 0.0 else 0.0

    @property
    def g_nu_squared_sum(self) -> float:
        """Σ_i g_νi² (the neutrino factor of every X-mediated |M|², physics.md Eq. 19)."""
        return sum(g * g for g in self.g_nu)

    @property
    def flavour_fractions(self) -> tuple[float, float, float]:
        """Probability of each ν flavour in an event, ∝ its partial width (design.md §11)."""
        s = self.g_nu_squared_sum
        if s == 0.0:
            return (0.0, 0.0, 0.0)
        e, mu, tau = (g * g / s for g in self.g_nu)
        return (e, mu, tau)

    @property
    def ctau_x_mm(self) -> float:
        """cτ of X in mm (ħc/Γ_X)."""
        total = self.total_width
        return HBARC_GEV_MM / total if total > 0.0 else math.inf
