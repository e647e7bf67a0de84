"""Named option blocks: setup and acceptance parameters overridable from the card.

A production setup (``[production]``) or an acceptance model (``[acceptance.cuts]``) keeps
its parameters in a frozen dataclass whose fields are made with :func:`option`: default,
unit, meaning, source and a validity check. :func:`problems` reports unknown names (with
"did you mean"), non-numbers and out-of-range values as card problems; :func:`build` returns
the dataclass with the overrides applied.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np


def option(
    default: Any,
    doc: str,
    *,
    unit: str = "",
    check: Callable[[Any], bool] | None = None,
    expected: str = "a number",
    kind: type = float,
) -> Any:
    """A dataclass field with its meaning/source (``doc``), unit and validity check."""
    meta = {"doc": doc, "unit": unit, "check": check, "expected": expected, "kind": kind}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def positive(doc: str, default: Any, unit: str = "") -> Any:
    return option(default, doc, unit=unit, check=lambda x: x > 0, expected="a number > 0")


def non_negative(doc: str, default: Any, unit: str = "") -> Any:
    return option(default, doc, unit=unit, check=lambda x: x >= 0, expected="a number >= 0")


def fraction(doc: str, default: Any) -> Any:
    return option(default, doc, check=lambda x: 0 < x <= 1, expected="a number in (0, 1]")


def switch(doc: str, default: float) -> Any:
    """A 0/1 flag (cut records are all floats, so a switch is the number 0 or 1)."""
    return option(default, doc, check=lambda x: x in (0.0, 1.0), expected="0 or 1")


def problems(cls: type, values: Mapping[str, Any], prefix: str, owner: str, noun: str = "key") -> list[str]:
    """Card problems of ``values`` against the option dataclass ``cls`` (dotted keys): unknown
    names, wrong types, non-finite numbers, failed checks, and the pairs of ``cls.ORDERED``
    (lower, upper) out of order (with the defaults for keys the card leaves out)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    found = []
    good: dict[str, Any] = {}
    for key, value in values.items():
        f = fields.get(key)
        if f is None:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(fields) or 'none'}"
            found.append(f"{prefix}.{key}: unknown {noun} for {owner}{hint}")
            continue
        kind = f.metadata.get("kind", float)
        expected = f.metadata.get("expected") or "a number"
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                found.append(f"{prefix}.{key}: expected {expected}, got {value!r}")
                continue
            value = float(value)
        elif kind is str and not isinstance(value, str):
            found.append(f"{prefix}.{key}: expected {expected}, got {value!r}")
            continue
        check = f.metadata.get("check")
        if check is not None and not check(value):
            found.append(f"{prefix}.{key}: expected {expected}, got {value!r}")
            continue
        good[key] = value
    for lower, upper in getattr(cls, "ORDERED", ()):
        if lower in good or upper in good:
            lo = good.get(lower, _default(fields[lower]))
            hi = good.get(upper, _default(fields[upper]))
            bad_keys = {k for k in (lower, upper) if k in values and k not in good}
            if not bad_keys and not hi > lo:
                found.append(f"{prefix}.{upper}: expected a value above {lower} = {lo:g}, got {hi:g}")
    return found


def _default(f: dataclasses.Field) -> Any:
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]


def build(cls: type, values: Mapping[str, Any]) -> Any:
    """The option dataclass with ``values`` applied (call :func:`problems` first)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    converted = {
        k: (float(v) if fields[k].metadata.get("kind", float) is float else v) for k, v in values.items()
    }
    return cls(**converted)


def table(cls: type, prefix: str) -> list[str]:
    """Markdown rows (key, default, unit, meaning) of an option dataclass, for the README."""
    rows = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        shown = "none" if default is None else repr(default).replace("'", '"')
        doc = f.metadata["doc"].replace("|", "\\|")  # a literal | inside a markdown cell
        key = f"{prefix} `{f.name}`" if prefix else f"`{f.name}`"
        rows.append(f"| {key} | {shown} | {f.metadata['unit']} | {doc} |")
    return rows


def record(obj: Any, **extra: float | Sequence[float]) -> np.ndarray:
    """The float fields of the dataclass ``obj`` and ``extra`` as a one-element structured
    array: numba kernels read them by name (``c = rec[0]; c.p_min``), no positional layout."""
    values: dict[str, Any] = {
        f.name: float(getattr(obj, f.name))
        for f in dataclasses.fields(obj)
        if isinstance(getattr(obj, f.name), (int, float)) and not isinstance(getattr(obj, f.name), bool)
    }
    values.update(extra)
    dtype = [(name, "f8", (len(v),)) if isinstance(v, (tuple, list)) else (name, "f8") for name, v in values.items()]
    out = np.zeros(1, dtype=dtype)
    for name, value in values.items():
        out[0][name] = value
    return out
