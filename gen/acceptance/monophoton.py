"""Single-photon (monophoton) acceptance at the Z pole: the shared model of ``lep`` and ``fccee``.

The photon of Z → γX or e⁺e⁻ → γX is smeared in energy, σ_E/E = a/√E ⊕ b, and in angle
(Gaussian, per polar and azimuthal angle), and selected when it lies within |cosθ| < c_max,
has E_γ > E_min and — in region ``SR`` — falls within ±n σ_E(E_line) of the line
E_line = (s − m_X²)/(2√s) of the model's X. Region ``SR_inclusive`` has no line window.
``smear = 0`` applies the cuts to the true photon (truth-level acceptance; the line window
keeps its width from the resolution).
Observables: E_gamma, cos_theta_gamma (w.r.t. the e⁻ beam, +z), the recoil mass squared
m2_rec = s − 2√s E_γ with the nominal √s, and the generator-level q².
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from phase_space._jit import batch_kernel
from phase_space.random import STREAM_ACCEPTANCE, STRIDE, gaussian_pair, stream_key
from phase_space.simd_math import sqrt

REGIONS = ("SR", "SR_inclusive")


@batch_kernel(events=2, axis=1)
def _smear_and_select(
    key, first_event, p_gamma, sqrt_s, e_line, cuts, e_out, cos_out, m2_out, sr, sr_incl, start, stop
):
    """cuts = [cos_theta_max, e_min, window_sigmas, stochastic, constant, angle_resolution, smear]."""
    cos_max, e_min, n_sigma, a, b, sigma_angle = (
        cuts[0],
        cuts[1],
        cuts[2],
        cuts[3],
        cuts[4],
        cuts[5],
    )
    smear = cuts[6] > 0.0
    s = sqrt_s * sqrt_s
    res_line = sqrt(a * a / e_line + b * b) * e_line if e_line > 0.0 else 0.0
    for i in range(start, stop):
        base = np.uint64(first_event + i) * np.uint64(STRIDE)
        energy = p_gamma[0, i]
        px, py, pz = p_gamma[1, i], p_gamma[2, i], p_gamma[3, i]
        p_abs = sqrt(px * px + py * py + pz * pz)
        cos_t = pz / p_abs if p_abs > 0.0 else 1.0
        sigma_e = sqrt(a * a / energy + b * b) * energy if energy > 0.0 else 0.0
        g1, g2 = gaussian_pair(key, base)  # for the energy and the polar angle
        e_meas = energy + sigma_e * g1 if smear else energy
        if smear and sigma_angle > 0.0:
            theta = math.acos(max(-1.0, min(1.0, cos_t))) + sigma_angle * g2
            cos_t = math.cos(theta)
        e_out[i] = e_meas
        cos_out[i] = cos_t
        m2_out[i] = s - 2.0 * sqrt_s * e_meas
        inside = abs(cos_t) < cos_max and e_meas > e_min
        sr_incl[i] = inside
        sr[i] = inside and abs(e_meas - e_line) < n_sigma * res_line


def select(
    cuts: Any,
    p: np.ndarray,
    pid: np.ndarray,  # noqa: ARG001 - the acceptance interface
    q2: np.ndarray,
    context: dict[str, Any],
    seed: int,
    first_event: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Observables and region flags of a batch (the photon slot comes from the context)."""
    slot = context["photon_slot"]
    sqrt_s = context["sqrt_s"]
    m_x = context["m_X"]
    e_line = (sqrt_s * sqrt_s - m_x * m_x) / (2.0 * sqrt_s)
    p_gamma = np.ascontiguousarray(p[:, :, slot])
    n = p.shape[1]
    e_out, cos_out, m2_out = np.empty(n), np.empty(n), np.empty(n)
    sr, sr_incl = np.empty(n, dtype=np.bool_), np.empty(n, dtype=np.bool_)
    values = np.array(
        [
            cuts.cos_theta_max,
            cuts.e_min,
            cuts.window_sigmas,
            cuts.energy_stochastic,
            cuts.energy_constant,
            cuts.angle_resolution,
            cuts.smear,
        ]
    )
    _smear_and_select(
        stream_key(seed, STREAM_ACCEPTANCE),
        np.int64(first_event),
        p_gamma,
        float(sqrt_s),
        float(e_line),
        values,
        e_out,
        cos_out,
        m2_out,
        sr,
        sr_incl,
    )
    observables = {"E_gamma": e_out, "cos_theta_gamma": cos_out, "m2_rec": m2_out, "q2": q2}
    return observables, {"SR": sr, "SR_inclusive": sr_incl}


@dataclass(frozen=True)
class MonophotonAcceptance:
    """The monophoton model; ``lep`` and ``fccee`` subclass it with their cut values."""

    cuts: Any = None
    name: str = ""
    regions: tuple[str, ...] = REGIONS
    signal_regions: tuple[str, ...] = ("SR",)  # what scans plot
    signatures: tuple[str, ...] = ("monophoton",)
    setups: tuple[str, ...] = ("rest", "ee")

    @property
    def efficiency(self) -> dict[str, float]:
        """The photon efficiency, a factor on both regions."""
        return dict.fromkeys(self.regions, self.cuts.efficiency)

    def apply(
        self,
        p: np.ndarray,
        pid: np.ndarray,
        q2: np.ndarray,
        context: dict[str, Any],
        seed: int,
        first_event: int,
        v: np.ndarray | None = None,  # noqa: ARG002 - the photon needs no vertex
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Observables and region flags of a batch (see :func:`select`)."""
        return select(self.cuts, p, pid, q2, context, seed, first_event)
