"""Detector-acceptance mimics, one module per experiment (design.md §7).

An acceptance model turns a batch of generated events into observables (record of float64
columns) and pass flags per signal region (record of bool columns). ``none`` keeps every
event and records the generator-level q².
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NoAcceptance:
    """Every event is selected in the single region ``all``; no cuts to override."""

    regions: tuple[str, ...] = ("all",)
    cut_names: tuple[str, ...] = ()

    def apply(self, q2: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Observables ``{"q2": q²}`` (GeV², generator level) and ``{"all": True}``."""
        return {"q2": q2}, {"all": np.ones(q2.shape[0], dtype=bool)}


ACCEPTANCE: Mapping[str, type[NoAcceptance]] = {"none": NoAcceptance}


def get(experiment: str, cuts: Mapping[str, float]) -> NoAcceptance:
    """The acceptance model named ``experiment`` with cut overrides ``cuts`` applied."""
    model = ACCEPTANCE[experiment]()
    unknown = set(cuts) - set(model.cut_names)
    if unknown:
        raise ValueError(f"unknown cuts for {experiment!r}: {sorted(unknown)}")
    return model
