"""Detector-acceptance mimics, one module per experiment (design.md §7).

An acceptance model turns a batch of generated events into observables (float64 columns)
and pass flags per signal region (bool columns); each region may carry a published
efficiency factor that multiplies its selected weights. Cut values live in a frozen
dataclass per experiment, each with its source in experiments.md, and a card may override
any of them by name (``[acceptance.cuts]``); unknown names are card errors.

``none`` keeps every event and records the generator-level q².
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gen import options
from phase_space._jit import stage
from phase_space.block import BLOCK, OBSERVABLE, Q2, SELECTED, fill


@dataclass(frozen=True)
class NoCuts:
    """The ``none`` model has no cuts."""


@dataclass(frozen=True)
class NoAcceptance:
    """Every event is selected in the single region ``all``."""

    cuts: NoCuts = field(default_factory=NoCuts)
    name: str = "none"
    regions: tuple[str, ...] = ("all",)
    observables: tuple[str, ...] = ("q2",)
    signal_regions: tuple[str, ...] = ("all",)  # what scans plot
    signatures: tuple[str, ...] = ("b_meson", "monophoton", "k_plus", "k_long")
    setups: tuple[str, ...] = ("rest", "ee", "na62", "koto", "belle2")

    @property
    def efficiency(self) -> dict[str, float]:
        return {"all": 1.0}

    def stage(self, context: dict[str, Any], seed: int) -> tuple[Any, tuple]:  # noqa: ARG002
        """The block stage of the fused kernel (``gen.pipeline``) and its arguments."""
        return no_acceptance_block, ()

    def apply(
        self,
        p: np.ndarray,  # noqa: ARG002
        pid: np.ndarray,  # noqa: ARG002
        q2: np.ndarray,
        context: dict[str, Any],  # noqa: ARG002
        seed: int,  # noqa: ARG002
        first_event: int,  # noqa: ARG002
        v: np.ndarray | None = None,  # noqa: ARG002
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Observables ``{"q2": q²}`` (GeV², generator level) and ``{"all": True}``."""
        return {"q2": q2}, {"all": np.ones(q2.shape[0], dtype=bool)}


@stage
def no_acceptance_block(s, first):  # noqa: ARG001 - the stages' common signature
    """Acceptance ``none``: observable q², and every event in region ``all``."""
    for lane in range(BLOCK):
        s[OBSERVABLE, lane] = s[Q2, lane]
    fill(s, SELECTED, 1.0)


# name → "module:class"; imported on first use
ACCEPTANCE: dict[str, str | type] = {
    "none": NoAcceptance,
    "lep": "gen.acceptance.lep:LEPAcceptance",
    "fccee": "gen.acceptance.fccee:FCCeeAcceptance",
    "na62": "gen.acceptance.na62:NA62Acceptance",
    "koto": "gen.acceptance.koto:KOTOAcceptance",
    "belle2": "gen.acceptance.belle2:Belle2Acceptance",
}


def model_class(name: str) -> type:
    entry = ACCEPTANCE[name]
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        entry = getattr(importlib.import_module(module), attr)
        ACCEPTANCE[name] = entry
    return entry


def problems(
    name: str, cuts: Mapping[str, Any], signature: str, process: str, setup: str = "rest"
) -> list[str]:
    """Pass-2 problems of ``[acceptance]`` (dotted keys, no file prefix)."""
    if name not in ACCEPTANCE:
        close = difflib.get_close_matches(name, list(ACCEPTANCE), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return [
            f"acceptance.experiment: expected one of {', '.join(ACCEPTANCE)}{hint}, got {name!r}"
        ]
    cls = model_class(name)
    found = []
    if signature not in cls.signatures:
        found.append(
            f"acceptance.experiment: {name!r} applies to {', '.join(cls.signatures)} processes, "
            f"not to {process!r}"
        )
    elif setup not in cls.setups:
        found.append(
            f"acceptance.experiment: {name!r} needs production setup "
            f"{' or '.join(repr(s) for s in cls.setups)}, got {setup!r}"
        )
    cut_class = type(cls.__dataclass_fields__["cuts"].default_factory())
    found += options.problems(cut_class, cuts, "acceptance.cuts", repr(name), noun="cut")
    return found


def get(name: str, cuts: Mapping[str, float]) -> Any:
    """The acceptance model ``name`` with its cut values overridden by ``cuts``."""
    cls = model_class(name)
    defaults = cls.__dataclass_fields__["cuts"].default_factory()
    return cls(cuts=dataclasses.replace(defaults, **{k: float(v) for k, v in cuts.items()}))


def cuts_table(name: str) -> str:
    """The cut names of an acceptance model built from ``gen.options`` fields, as a markdown
    table (generated into the README)."""
    cls = model_class(name)
    rows = ["| cut | default | unit | meaning and source |", "|---|---|---|---|"]
    rows += options.table(cls.__dataclass_fields__["cuts"].default_factory, "")
    return "\n".join(rows)
