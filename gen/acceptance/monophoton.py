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

from dataclasses import dataclass
from typing import Any

import numpy as np

from phase_space._jit import batch_kernel, stage
from phase_space.block import (
    BLOCK,
    OBSERVABLE,
    P_ROWS,
    Q2,
    SELECTED,
    TMP,
    get,
    load_rows,
    move,
    p_row,
    scratch,
)
from phase_space.random import STREAM_ACCEPTANCE, STRIDE, gaussian_pair, stream_key
from phase_space.simd_math import acos, sincos, sqrt

REGIONS = ("SR", "SR_inclusive")


OBSERVABLES = ("E_gamma", "cos_theta_gamma", "m2_rec", "q2")
PHOTON = TMP  # scratch rows of the photon's momentum


@stage
def block(s, first, key, photon_slot, sqrt_s, e_line, cuts):
    """The monophoton selection of every lane of the scratch block ``s``.

    The photon in slot ``photon_slot`` (GeV) is smeared (counters 0 and 1 of stream ``key``);
    rows OBSERVABLE + j: :data:`OBSERVABLES` (E_γ in GeV, cosθ_γ, m²_rec = s − 2√s E_γ in GeV²
    with the nominal √s, q²); rows SELECTED, SELECTED + 1: the flags of :data:`REGIONS`.
    ``cuts`` = [cos_theta_max, e_min, window_sigmas, stochastic, constant, angle_resolution,
    smear]; ``e_line`` the photon energy of the X line (GeV).
    """
    cos_max, e_min, n_sigma, a, b, sigma_angle = cuts[0], cuts[1], cuts[2], cuts[3], cuts[4], cuts[5]
    smear = cuts[6] > 0.0
    smear_angle = smear and sigma_angle > 0.0
    smear_factor = 1.0 if smear else 0.0
    s_nominal = sqrt_s * sqrt_s
    res_line = sqrt(a * a / e_line + b * b) * e_line if e_line > 0.0 else 0.0
    move(s, p_row(photon_slot, 0), PHOTON, 4)
    for lane in range(BLOCK):
        base = np.uint64(first + lane) * np.uint64(STRIDE)
        energy, px, py, pz = get(s, 0, PHOTON, lane)
        p_abs = sqrt(px * px + py * py + pz * pz)
        cos_t = pz / p_abs if p_abs > 0.0 else 1.0
        sigma_e = sqrt(a * a / energy + b * b) * energy if energy > 0.0 else 0.0
        g1, g2 = gaussian_pair(key, base)  # for the energy and the polar angle
        e_meas = energy + smear_factor * sigma_e * g1
        theta = acos(max(-1.0, min(1.0, cos_t))) + sigma_angle * g2
        cos_t = sincos(theta)[0] if smear_angle else cos_t
        inside = (abs(cos_t) < cos_max) & (e_meas > e_min)
        s[OBSERVABLE, lane] = e_meas
        s[OBSERVABLE + 1, lane] = cos_t
        s[OBSERVABLE + 2, lane] = s_nominal - 2.0 * sqrt_s * e_meas
        s[OBSERVABLE + 3, lane] = s[Q2, lane]
        s[SELECTED, lane] = 1.0 if inside & (abs(e_meas - e_line) < n_sigma * res_line) else 0.0
        s[SELECTED + 1, lane] = 1.0 if inside else 0.0


@batch_kernel(events=2, axis=1, min_per_thread=BLOCK)
def _smear_and_select(key, first_event, p, q2, photon_slot, sqrt_s, e_line, cuts, observables, flags,
                      start, stop):
    """Batch form of :func:`block` on lab momenta ``p[4, n, k]``."""
    s = scratch()
    for i0 in range(start, stop, BLOCK):
        n = min(BLOCK, stop - i0)
        load_rows(s, P_ROWS, p, i0, n)
        for lane in range(BLOCK):
            s[Q2, lane] = q2[i0 + min(lane, n - 1)]
        block(s, first_event + i0, key, photon_slot, sqrt_s, e_line, cuts)
        for lane in range(n):
            for j in range(observables.shape[0]):
                observables[j, i0 + lane] = s[OBSERVABLE + j, lane]
            for j in range(flags.shape[0]):
                flags[j, i0 + lane] = s[SELECTED + j, lane] > 0.0


def cut_values(cuts: Any) -> np.ndarray:
    """The cut array :func:`block` reads."""
    return np.array([cuts.cos_theta_max, cuts.e_min, cuts.window_sigmas, cuts.energy_stochastic,
                     cuts.energy_constant, cuts.angle_resolution, cuts.smear])


def line_energy(context: dict[str, Any]) -> float:
    """E_γ of the X line, (s − m_X²)/(2√s) in GeV, for the run's √s and m_X."""
    sqrt_s = context["sqrt_s"]
    return (sqrt_s * sqrt_s - context["m_X"] ** 2) / (2.0 * sqrt_s)


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
    n = p.shape[1]
    observables = np.empty((len(OBSERVABLES), n))
    flags = np.empty((len(REGIONS), n), dtype=np.bool_)
    _smear_and_select(stream_key(seed, STREAM_ACCEPTANCE), np.int64(first_event), p,
                      np.ascontiguousarray(q2, dtype=np.float64), np.int64(context["photon_slot"]),
                      float(context["sqrt_s"]), float(line_energy(context)), cut_values(cuts), observables, flags)
    return dict(zip(OBSERVABLES, observables, strict=True)), dict(zip(REGIONS, flags, strict=True))


@dataclass(frozen=True)
class MonophotonAcceptance:
    """The monophoton model; ``lep`` and ``fccee`` subclass it with their cut values."""

    cuts: Any = None
    name: str = ""
    regions: tuple[str, ...] = REGIONS
    observables: tuple[str, ...] = OBSERVABLES
    signal_regions: tuple[str, ...] = ("SR",)  # what scans plot
    signatures: tuple[str, ...] = ("monophoton",)
    setups: tuple[str, ...] = ("rest", "ee")

    @property
    def efficiency(self) -> dict[str, float]:
        """The photon efficiency, a factor on both regions."""
        return dict.fromkeys(self.regions, self.cuts.efficiency)

    def stage(self, context: dict[str, Any], seed: int) -> tuple[Any, tuple]:
        """The block stage of the fused kernel (``gen.pipeline``) and its arguments."""
        return block, (stream_key(seed, STREAM_ACCEPTANCE), np.int64(context["photon_slot"]),
                       float(context["sqrt_s"]), float(line_energy(context)), cut_values(self.cuts))

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
