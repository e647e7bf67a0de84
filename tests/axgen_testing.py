"""Helpers shared by the tests (imported through pytest's ``pythonpath = ["tests"]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gen import cards, pdg
from gen.driver import validate
from gen.processes import Prepared

REPO = Path(__file__).resolve().parents[1]
CARDS = REPO / "cards"

# physics.md §9 (PDG 2024)
M_K_PLUS = 0.493677
M_PI_PLUS = 0.13957039
M_PI_ZERO = 0.1349768
M_K_ZERO = 0.497611
M_B_PLUS = 5.27941
M_B_ZERO = 5.27972
HBAR = 6.582119569e-25
MEAN_LIFE = {321: 1.2380e-8, 130: 5.116e-8, 521: 1.638e-12, 511: 1.517e-12}  # s
MASS = {
    321: M_K_PLUS,
    211: M_PI_PLUS,
    130: M_K_ZERO,
    111: M_PI_ZERO,
    311: M_K_ZERO,
    521: M_B_PLUS,
    511: M_B_ZERO,
}

X_PROCESSES = ("K+ -> pi+ X", "KL -> pi0 X", "B+ -> K+ X", "B0 -> K0 X")
SM_PROCESSES = (
    "K+ -> pi+ nu nu~ (SM)",
    "KL -> pi0 nu nu~ (SM)",
    "B+ -> K+ nu nu~ (SM)",
    "B0 -> K0 nu nu~ (SM)",
)
KSTAR_X_PROCESSES = ("B0 -> K*0(K+ pi-) X", "B+ -> K*+(K0S pi+) X", "B+ -> K*+(K+ pi0) X")
KSTAR_SM_PROCESSES = (
    "B0 -> K*0(K+ pi-) nu nu~ (SM)",
    "B+ -> K*+(K0S pi+) nu nu~ (SM)",
    "B+ -> K*+(K+ pi0) nu nu~ (SM)",
)
MONOPHOTON_PROCESSES = ("Z -> gamma X", "e+ e- -> gamma X")
ALL_PROCESSES = (
    X_PROCESSES + SM_PROCESSES + KSTAR_X_PROCESSES + KSTAR_SM_PROCESSES + MONOPHOTON_PROCESSES
)
COUPLING_KEY = {
    "K+ -> pi+ X": "g_sd",
    "KL -> pi0 X": "g_sd",
    "B+ -> K+ X": "g_bs",
    "B0 -> K0 X": "g_bs",
    **dict.fromkeys(KSTAR_X_PROCESSES, "g_bs"),
    **dict.fromkeys(MONOPHOTON_PROCESSES, "C_Zgamma"),
}


def card_dict(
    process: str,
    *,
    events: int = 10_000,
    seed: int = 1,
    run: dict[str, Any] | None = None,
    sampler: dict[str, Any] | None = None,
    **model: Any,
) -> dict[str, Any]:
    """A card as a TOML-like dict; X processes get a default model at m_X = 0.1 / 2.1."""
    raw: dict[str, Any] = {
        "run": {"process": process, "events": events, "seed": seed, **(run or {})}
    }
    if process in COUPLING_KEY:
        default_m = 0.1 if process.startswith("K") else 2.1
        key = COUPLING_KEY[process]
        coupling = {"re": 1e-12, "im": -1e-12} if process.startswith("KL") else 1e-12
        if key == "C_Zgamma":
            coupling = 1e-6
        raw["model"] = {"m_X": default_m, key: coupling, **model}
        if process.startswith("e+ e-"):
            raw["production"] = {"setup": "ee"}
    elif model:
        raw["model"] = model
    if sampler:
        raw["sampler"] = sampler
    return raw


def prepare(process: str, **model: Any) -> Prepared:
    """Pass-1 and pass-2 validation of :func:`card_dict`; the prepared process."""
    return validate(cards.parse(card_dict(process, **model), "<test>"))


def momenta(events) -> np.ndarray:
    """(n, k, 4) array of (E, px, py, pz) from an axgen awkward event array."""
    import awkward as ak

    return np.stack([ak.to_numpy(events.particles[c]) for c in ("E", "px", "py", "pz")], axis=-1)


def boost_to_rest(p: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """p[..., 4] in the rest frame of frame[..., 4] (plain numpy, independent of the code)."""
    beta = frame[..., 1:] / frame[..., :1]
    b2 = np.sum(beta**2, axis=-1)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p[..., 1:], axis=-1)
    coef = np.where(b2 > 0, (gamma - 1.0) * bp / np.where(b2 > 0, b2, 1.0), 0.0) - gamma * p[..., 0]
    return np.concatenate(
        [(gamma * (p[..., 0] - bp))[..., None], p[..., 1:] + coef[..., None] * beta], axis=-1
    )


def helicity_cos(p_daughter: np.ndarray, p_mother: np.ndarray) -> np.ndarray:
    """cosθ of a daughter in its mother's rest frame w.r.t. the mother's flight direction."""
    rest = boost_to_rest(p_daughter, p_mother)[..., 1:]
    direction = p_mother[..., 1:]
    return np.sum(rest * direction, axis=-1) / (
        np.linalg.norm(rest, axis=-1) * np.linalg.norm(direction, axis=-1)
    )


def weighted_mean(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and its error (events independent, weights fluctuating)."""
    mean = float(np.sum(w * x) / np.sum(w))
    error = float(np.sqrt(np.sum(w**2 * (x - mean) ** 2)) / np.sum(w))
    return mean, error


def relative_offshell(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """|p² − m²| / E² for momenta p[..., 4] = (E, px, py, pz) and masses m[...]."""
    m2 = p[..., 0] ** 2 - p[..., 1] ** 2 - p[..., 2] ** 2 - p[..., 3] ** 2
    return np.abs(m2 - m * m) / np.maximum(p[..., 0] ** 2, 1e-300)


def check_record(pid, status, mother, p, gen_mass, mother2=None):
    """Conservation at each vertex (a collision has two incoming beams) and the mass shell,
    relative 1e-9; status 2 for decayed particles, 4 for beams, 1 for final ones."""
    k = pid.shape[1]
    mother2 = np.full(k, -1) if mother2 is None else mother2
    for s in range(k):
        daughters = np.flatnonzero(mother == s)
        if daughters.size:
            incoming = p[:, s, :].copy()
            others = set(mother2[daughters].tolist()) - {-1}
            for other in others:
                incoming += p[:, other, :]
            assert status[s] == (4 if others else 2)
            total = p[:, daughters, :].sum(axis=1)
            scale = incoming[:, 0][:, None]
            assert np.all(np.abs(total - incoming) <= 1e-9 * scale), f"slot {s}"
        elif s not in mother2:
            assert status[s] == 1
    assert np.all(relative_offshell(p, gen_mass) <= 1e-9)


def nominal_masses(pid):
    masses = np.zeros(pid.shape)
    for value in np.unique(pid):
        if abs(value) in (12, 14, 16, 22):
            continue
        if value == 32:
            masses[pid == value] = np.nan
        else:
            masses[pid == value] = pdg.mass(abs(int(value)))
    return masses


def check_vertices(mother, p, v):
    """Each particle is produced where its mother decays, on the mother's straight flight
    from her own production vertex: Δx⃗ = Δ(ct) p⃗/E with Δ(ct) ≥ 0 (p[n, k, 4] in GeV,
    v[n, k, 4] = (x, y, z, ct) in mm; relative 1e-9 of the distances involved)."""
    for s in np.flatnonzero(mother >= 0):
        m = mother[s]
        step = v[:, s, :] - v[:, m, :]
        scale = 1e-9 * (np.abs(v[:, s, :]).max(axis=1) + np.abs(v[:, m, :]).max(axis=1) + 1e-6)
        assert np.all(step[:, 3] >= -scale), f"slot {s}: produced before its mother"
        along = step[:, 3:4] * p[:, m, 1:] / p[:, m, :1]
        assert np.all(np.abs(step[:, :3] - along).max(axis=1) <= scale), f"slot {s}: off the mother's path"


def check_events(events, mothers2=None):
    """:func:`check_record` and :func:`check_vertices` on an axgen awkward event array (X
    slots at √q² of their pair)."""
    import awkward as ak

    parts = events.particles
    pid = ak.to_numpy(parts.pid)
    p = np.stack([ak.to_numpy(parts[c]) for c in ("E", "px", "py", "pz")], axis=-1)
    masses = nominal_masses(pid)
    x_slots = np.isnan(masses)
    # X: off shell, its mass is √q² of the neutrino pair
    masses[x_slots] = np.sqrt(np.repeat(ak.to_numpy(events.observables.q2), x_slots.sum(axis=1)))
    mother = ak.to_numpy(parts.mother)[0]
    check_record(pid, ak.to_numpy(parts.status)[0], mother, p, masses, mothers2)
    check_vertices(mother, p, np.stack([ak.to_numpy(parts[c]) for c in ("vx", "vy", "vz", "vt")], axis=-1))
    return p
