"""Helpers shared by the tests (imported through pytest's ``pythonpath = ["tests"]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gen import cards
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
COUPLING_KEY = {
    "K+ -> pi+ X": "g_sd",
    "KL -> pi0 X": "g_sd",
    "B+ -> K+ X": "g_bs",
    "B0 -> K0 X": "g_bs",
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
    if process in X_PROCESSES:
        default_m = 0.1 if process.startswith("K") else 2.1
        key = COUPLING_KEY[process]
        coupling = {"re": 1e-12, "im": -1e-12} if process.startswith("KL") else 1e-12
        raw["model"] = {"m_X": default_m, key: coupling, **model}
    elif model:
        raw["model"] = model
    if sampler:
        raw["sampler"] = sampler
    return raw


def prepare(process: str, **model: Any) -> Prepared:
    """Pass-1 and pass-2 validation of :func:`card_dict`; the prepared process."""
    return validate(cards.parse(card_dict(process, **model), "<test>"))


def relative_offshell(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """|p² − m²| / E² for momenta p[..., 4] = (E, px, py, pz) and masses m[...]."""
    m2 = p[..., 0] ** 2 - p[..., 1] ** 2 - p[..., 2] ** 2 - p[..., 3] ** 2
    return np.abs(m2 - m * m) / np.maximum(p[..., 0] ** 2, 1e-300)
