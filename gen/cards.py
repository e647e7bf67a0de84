"""Run cards: TOML → frozen dataclasses, validated in two passes (design.md §9, §11).

Pass 1 (structure) checks every key against the schema below: unknown keys (with "did you
mean"), missing required keys, types and ranges. Pass 2 (physics, in ``gen.processes``)
checks what needs the process: thresholds, couplings, output formats and paths. All
problems of both passes are collected and reported together, one line each, as

    cards/k_pi_x.toml: model.m_X: expected a number in (0, 0.35411) GeV ..., got 0.4

The schema lives in the field metadata of the section dataclasses (type, default, unit,
meaning), so the README's card table is generated from it and cannot drift.
"""

from __future__ import annotations

import copy
import difflib
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any


class CardError(ValueError):
    """One or more problems with a card; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _Bad(Exception):
    """Raised by a converter: ``expected`` says what was expected."""

    def __init__(self, expected: str) -> None:
        self.expected = expected
        super().__init__(expected)


# --- converters -------------------------------------------------------------------------


def _type_name(value: object) -> str:
    text = repr(value)
    if isinstance(value, (dict, list)) and len(text) > 60:
        return f"a {type(value).__name__} of length {len(value)}"
    return text


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _float(lo: float | None = None, hi: float | None = None, *, lo_open: bool = True):
    def convert(value: Any) -> float:
        expected = "a number"
        if lo is not None:
            expected += f" {'>' if lo_open else '>='} {lo:g}"
        if hi is not None:
            expected += f" and < {hi:g}" if lo is not None else f" < {hi:g}"
        if not _is_number(value) or not math.isfinite(float(value)):
            raise _Bad(expected)
        x = float(value)
        if lo is not None and (x <= lo if lo_open else x < lo):
            raise _Bad(expected)
        if hi is not None and x >= hi:
            raise _Bad(expected)
        return x

    return convert


def _int(lo: int, hi: int | None = None):
    def convert(value: Any) -> int:
        expected = f"an integer >= {lo}" + (f" and <= {hi}" if hi is not None else "")
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(expected)
        if value < lo or (hi is not None and value > hi):
            raise _Bad(expected)
        return value

    return convert


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad("true or false")
    return value


def _choice(*choices: str):
    def convert(value: Any) -> str:
        if value not in choices:
            expected = "one of " + ", ".join(repr(c) for c in choices)
            if isinstance(value, str):
                close = difflib.get_close_matches(value, choices, n=1)
                if close:
                    expected += f" (did you mean {close[0]!r}?)"
            raise _Bad(expected)
        return str(value)

    return convert


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _Bad("a non-empty string")
    return value


def _complex(value: Any) -> complex:
    expected = "a real number or a table { re = ..., im = ... }"
    if _is_number(value) and math.isfinite(float(value)):
        return complex(float(value), 0.0)
    if isinstance(value, dict) and set(value) <= {"re", "im"} and value:
        parts = [value.get("re", 0.0), value.get("im", 0.0)]
        if all(_is_number(p) and math.isfinite(float(p)) for p in parts):
            return complex(float(parts[0]), float(parts[1]))
    raise _Bad(expected)


def _g_nu(value: Any) -> tuple[float, float, float]:
    expected = "a list of 3 real numbers [g_nu_e, g_nu_mu, g_nu_tau]"
    if not isinstance(value, list) or len(value) != 3:
        raise _Bad(expected)
    if not all(_is_number(v) and math.isfinite(float(v)) for v in value):
        raise _Bad(expected)
    return (float(value[0]), float(value[1]), float(value[2]))


def _width(value: Any) -> float | None:
    if value == "auto":
        return None
    if _is_number(value) and math.isfinite(float(value)) and float(value) > 0.0:
        return float(value)
    raise _Bad('"auto" or a width > 0 in GeV')


def _cuts(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise _Bad("a table of cut values")
    return dict(value)


def scan_values(value: Any) -> tuple[Any, ...]:
    """Scan points: "start:stop:n" (n linear steps, ends included), "start:stop:n:log"
    (logarithmic), "v1,v2,..." or a TOML array."""
    expected = '"start:stop:n", "start:stop:n:log", "v1,v2,..." or a non-empty array'
    if isinstance(value, list) and value:
        return tuple(value)
    if not isinstance(value, str) or not value.strip():
        raise _Bad(expected)
    text = value.strip()
    if ":" in text:
        parts = text.split(":")
        log = len(parts) == 4 and parts[3].strip() == "log"
        if len(parts) not in (3, 4) or (len(parts) == 4 and not log):
            raise _Bad(expected)
        try:
            start, stop, n = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise _Bad(expected) from None
        if n < 1 or not (math.isfinite(start) and math.isfinite(stop)):
            raise _Bad(expected + " with n >= 1")
        if log and not (start > 0 and stop > 0):
            raise _Bad("positive start and stop for a log scan")
        if n == 1:
            return (start,)
        if log:
            ratio = math.log(stop / start) / (n - 1)
            inner = [start * math.exp(ratio * i) for i in range(n - 1)]
        else:
            inner = [start + (stop - start) / (n - 1) * i for i in range(n - 1)]
        # 12 significant digits: 0.025, not 0.024999999999999998
        return (*(float(f"{v:.12g}") for v in inner), stop)
    return tuple(_parse_override_value(v.strip()) for v in text.split(",") if v.strip()) or _raise(expected)


def _raise(expected: str) -> Any:
    raise _Bad(expected)


# --- schema -----------------------------------------------------------------------------


def spec(
    convert: Callable[[Any], Any],
    doc: str,
    *,
    default: Any = MISSING,
    unit: str = "",
    shown_default: str | None = None,
) -> Any:
    """A card key: converter, meaning, unit and default (MISSING = required)."""
    meta = {"convert": convert, "doc": doc, "unit": unit, "shown_default": shown_default}
    if default is MISSING:
        return field(metadata=meta)
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class RunSection:
    """[run]: what to generate and how many."""

    process: str = spec(_string, "process name from `axgen list`")
    events: int = spec(_int(1), "weighted: events generated; unweighted: events kept")
    seed: int = spec(
        _int(0, 2**63 - 1),
        "random seed (the same card and seed give the same events)",
        default=12345,
    )
    mode: str = spec(
        _choice("weighted", "unweighted"), '"weighted" or "unweighted"', default="weighted"
    )
    batch_size: int = spec(
        _int(1000, 10_000_000),
        "events per batch; fixed by the card so results do not depend on the machine",
        default=100_000,
    )
    keep: str = spec(
        _choice("all", "selected"),
        'write "all" events (with selection flags) or only "selected" ones',
        default="all",
    )
    conjugate: str = spec(
        _choice("particle", "antiparticle", "both"),
        "generate the named process, its charge conjugate, or both (50/50)",
        default="particle",
    )
    n_parents: float | None = spec(
        _float(0.0),
        "number of parents (e.g. N_Z), or of kaons entering the decay region of a beam in flight, "
        "for expected event counts",
        default=None,
        shown_default="none",
    )
    n_decays: float | None = spec(
        _float(0.0),
        "number of parent decays in the production decay region, instead of n_parents (NA62's N_K "
        "when the region is its normalisation volume, as in the NA62 cards)",
        default=None,
        shown_default="none",
    )
    luminosity: float | None = spec(
        _float(0.0),
        "integrated luminosity (scattering processes), for expected event counts",
        unit="pb⁻¹",
        default=None,
        shown_default="none",
    )


@dataclass(frozen=True)
class ModelSection:
    """[model]: the X model point (physics.md §2)."""

    m_X: float | None = spec(
        _float(0.0), "X mass", unit="GeV", default=None, shown_default="required for X processes"
    )
    g_sd: complex = spec(
        _complex, "s → d coupling of Eq. 1 (real or {re, im})", default=0j, shown_default="0"
    )
    g_bs: complex = spec(
        _complex, "b → s coupling of Eq. 1 (real or {re, im})", default=0j, shown_default="0"
    )
    C_Zgamma: float = spec(_float(), "Z–γ–X coupling C_ZγX of Eq. 2", default=0.0)
    g_nu: tuple[float, float, float] = spec(
        _g_nu,
        "X ν_i ν̄_i couplings (e, μ, τ) of Eq. 3",
        default=(1e-3, 1e-3, 1e-3),
        shown_default="[1e-3, 1e-3, 1e-3]",
    )
    width_X: float | None = spec(
        _width,
        '"auto" = Eq. 10 from g_nu, or Γ_X',
        unit="GeV",
        default=None,
        shown_default='"auto"',
    )
    narrow_width: bool = spec(_bool, "q² = m_X² exactly (physics.md §4.3)", default=False)
    narrow_kstar: bool = spec(
        _bool,
        "K* on its mass shell; false: constant-width Breit–Wigner normalised with Eq. 22",
        default=True,
    )
    x_pid: int = spec(_int(1, 9_999_999), "PDG id written for X", default=32)


@dataclass(frozen=True)
class SamplerSection:
    """[sampler]: VEGAS warm-up and unweighting."""

    warmup_iterations: int = spec(_int(1, 1000), "VEGAS adaptation iterations", default=10)
    warmup_evaluations: int = spec(
        _int(1000), "integrand evaluations per iteration", default=20_000
    )
    alpha: float = spec(_float(0.0, 2.0), "VEGAS damping of the map adaptation", default=0.5)
    pilot_events: int = spec(
        _int(1000), "frozen-map pilot events that find w_max (unweighted mode)", default=1_000_000
    )
    w_max_safety: float = spec(
        _float(1.0, None, lo_open=False), "w_max = safety × pilot maximum", default=1.0
    )


@dataclass(frozen=True)
class ProductionSection:
    """[production]: where the parent is made; every other key belongs to the setup."""

    setup: str = spec(
        _string,
        'production setup: "rest", "ee", "na62" or "koto" (its keys: see "Production setups")',
        default="rest",
    )
    options: dict[str, Any] = field(default_factory=dict, metadata={"internal": True})


@dataclass(frozen=True)
class AcceptanceSection:
    """[acceptance]: detector-acceptance mimic and cut overrides."""

    experiment: str = spec(
        _string, 'acceptance model: "none" (keeps every event), "lep", "fccee", "na62" or "koto"', default="none"
    )
    cuts: dict[str, float] = spec(  # noqa: RUF009
        _cuts, "overrides of the experiment's cut values, by name", default={}, shown_default="{}"
    )


@dataclass(frozen=True)
class OutputSection:
    """[[output]]: one file per table."""

    format: str = spec(
        _string, '"parquet", "hepmc3", "hepmc3-pyhepmc" (the same file through pyhepmc, slower) or "root"'
    )
    path: str = spec(
        _string, "file name, relative to the output directory (.gz, .bz2, .xz compress HepMC3)"
    )
    compression: str = spec(
        _choice("lz4", "zstd", "snappy", "none"), "parquet and ROOT compression (ROOT: not snappy)", default="lz4"
    )
    precision: int = spec(
        _int(6, 17),
        "HepMC3 digits after the decimal point (printf precision; 16 reads back every float64)",
        default=16,
    )


@dataclass(frozen=True)
class ScanSection:
    """[scan]: read by ``axgen scan`` only (its --param and --values take precedence)."""

    param: str | None = spec(_string, "card key to scan, e.g. model.m_X or acceptance.cuts.p_max",
                             default=None, shown_default="none")
    values: tuple[Any, ...] | None = spec(
        scan_values, '"start:stop:n", "start:stop:n:log", "v1,v2,..." or an array', default=None,
        shown_default="none")
    sm_reference: bool = spec(
        _bool, "also pass the process's SM continuum through the same production and acceptance",
        default=True)


SECTIONS: dict[str, type] = {
    "run": RunSection,
    "model": ModelSection,
    "sampler": SamplerSection,
    "production": ProductionSection,
    "acceptance": AcceptanceSection,
    "scan": ScanSection,
}


@dataclass(frozen=True)
class RunCard:
    """A validated card. ``source`` is the file it came from; ``raw`` the resolved TOML dict."""

    run: RunSection
    model: ModelSection
    sampler: SamplerSection
    production: ProductionSection
    acceptance: AcceptanceSection
    scan: ScanSection
    output: tuple[OutputSection, ...]
    source: str
    raw: Mapping[str, Any]


# --- parsing ----------------------------------------------------------------------------


def _unknown(where: str, key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(known)}"
    return f"{where}{key}: unknown key{hint}"


_PLACEHOLDERS = {"process": "", "events": 1, "format": "", "path": ""}
"""Stand-ins for bad or missing required values, so that pass 2 still checks the rest."""


def _parse_section(cls: type, table: Any, prefix: str, problems: list[str]) -> Any:
    """Build one section; bad values are reported and replaced by their default (or a
    placeholder for required keys) so that pass 2 can still look at the rest."""
    if not isinstance(table, dict):
        problems.append(f"{prefix}: expected a table, got {_type_name(table)}")
        table = {}
    names = [f.name for f in fields(cls)]
    for key in table:
        if key not in names:
            problems.append(_unknown(f"{prefix}.", key, names))
    values: dict[str, Any] = {}
    for f in fields(cls):
        required = f.default is MISSING and f.default_factory is MISSING
        if f.name in table:
            try:
                values[f.name] = f.metadata["convert"](table[f.name])
            except _Bad as bad:
                problems.append(
                    f"{prefix}.{f.name}: expected {bad.expected}, got {_type_name(table[f.name])}"
                )
                if required:
                    values[f.name] = _PLACEHOLDERS[f.name]
        elif required:
            problems.append(f"{prefix}.{f.name}: required key missing ({f.metadata['doc']})")
            values[f.name] = _PLACEHOLDERS[f.name]
    return cls(**values)


def parse_lenient(raw: Mapping[str, Any], source: str = "<card>") -> tuple[RunCard, list[str]]:
    """Pass 1 (structure): the card and the problems (prefixed with ``source``).

    Bad values are replaced by defaults or placeholders, so a card is always returned and
    pass 2 can report its own problems in the same go; it must not be run if there are
    problems.
    """
    problems: list[str] = []
    known = [*SECTIONS, "output"]
    for key in raw:
        if key not in known:
            problems.append(_unknown("", key, known))
    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        if name == "production" and isinstance(raw.get(name), dict):
            # the setup's own keys are checked in pass 2 against its option dataclass
            table = dict(raw[name])
            options = {k: table.pop(k) for k in list(table) if k != "setup"}
            table_file = options.get("momentum_table")
            if isinstance(table_file, str) and table_file and not Path(table_file).is_absolute():
                # data files named in a card are relative to the card
                options["momentum_table"] = str(Path(source).parent / table_file)
            section = _parse_section(cls, table, name, problems)
            sections[name] = ProductionSection(setup=section.setup, options=options)
            continue
        if name == "run" and name not in raw:
            problems.append("run: required table missing (needs at least process and events)")
            sections[name] = cls(**{k: _PLACEHOLDERS[k] for k in ("process", "events")})
            continue
        sections[name] = _parse_section(cls, raw.get(name, {}), name, problems)

    outputs: list[OutputSection] = []
    raw_outputs = raw.get("output", [])
    if not isinstance(raw_outputs, list):
        problems.append(
            f"output: expected an array of tables [[output]], got {_type_name(raw_outputs)}"
        )
        raw_outputs = []
    for i, table in enumerate(raw_outputs):
        outputs.append(_parse_section(OutputSection, table, f"output[{i}]", problems))

    problems = [f"{source}: {p}" for p in problems]
    card = RunCard(output=tuple(outputs), source=source, raw=raw, **sections)
    return card, problems


def parse(raw: Mapping[str, Any], source: str = "<card>") -> RunCard:
    """Pass 1 (structure); raises CardError listing every problem."""
    card, problems = parse_lenient(raw, source)
    if problems:
        raise CardError(problems)
    return card


def resolved(card: RunCard) -> dict[str, Any]:
    """The card with every default filled in, as plain TOML-like data (for metadata)."""

    def section(obj: Any) -> dict[str, Any]:
        out = {}
        for f in fields(obj):
            value = getattr(obj, f.name)
            if isinstance(value, complex):
                value = {"re": value.real, "im": value.imag}
            elif isinstance(value, tuple):
                value = list(value)
            elif value is None:
                value = "auto" if f.name == "width_X" else None
            out[f.name] = value
        return {k: v for k, v in out.items() if v is not None}

    data = {name: section(getattr(card, name)) for name in SECTIONS}
    data["production"] = {"setup": card.production.setup, **card.production.options}
    data["output"] = [section(o) for o in card.output]
    return data


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a card file; an unreadable or malformed file is a CardError."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise CardError([f"{path}: file not found"]) from None
    except tomllib.TOMLDecodeError as err:
        raise CardError([f"{path}: not valid TOML: {err}"]) from None
    except OSError as err:
        raise CardError([f"{path}: cannot read: {err.strerror}"]) from None


def _parse_override_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # bare words such as unweighted are strings


def qualified_key(key: str) -> str:
    """``section.key`` for a bare key that exists in exactly one section (else ``key``)."""
    if "." in key:
        return key
    owners = [s for s, cls in SECTIONS.items() if key in {f.name for f in fields(cls)}]
    return f"{owners[0]}.{key}" if len(owners) == 1 else key


def apply_overrides(
    raw: Mapping[str, Any], overrides: Mapping[str, Any], source: str
) -> dict[str, Any]:
    """Return a copy of ``raw`` with dotted-key overrides applied.

    Keys are dotted paths (``model.m_X``), a field name that exists in exactly one
    section (``events``, ``m_X``), or ``output`` for the whole [[output]] array. String
    values from the command line are parsed as TOML values (``0.2``, ``[1e-3, 0, 0]``,
    ``{re = 1e-12, im = 0}``), falling back to a string.
    """
    resolved: dict[str, Any] = copy.deepcopy(dict(raw))
    problems = []
    for key, value in overrides.items():
        path = key.split(".")
        if key == "output":  # the whole [[output]] array, e.g. --set 'output=[]'
            resolved["output"] = _parse_override_value(value) if isinstance(value, str) else value
            continue
        if len(path) == 1:
            owners = [s for s, cls in SECTIONS.items() if key in {f.name for f in fields(cls)}]
            if len(owners) != 1:
                all_keys = sorted({f"{s}.{f.name}" for s, c in SECTIONS.items() for f in fields(c)})
                close = difflib.get_close_matches(key, [k.split(".")[1] for k in all_keys], n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(f"{source}: {key}: unknown override key{hint}")
                continue
            path = [owners[0], key]
        if len(path) < 2 or path[0] not in SECTIONS or not all(path):
            problems.append(
                f"{source}: {key}: overrides must name section.key (or section.table.key) with a "
                f"section of {', '.join(SECTIONS)}"
            )
            continue
        if isinstance(value, str):
            value = _parse_override_value(value)
        table = resolved
        for depth, name in enumerate(path[:-1]):
            inner = table.setdefault(name, {})
            if not isinstance(inner, dict):
                problems.append(f"{source}: {'.'.join(path[: depth + 1])}: expected a table, got {_type_name(inner)}")
                break
            table = inner
        else:
            table[path[-1]] = value
    if problems:
        raise CardError(problems)
    return resolved


def load_raw(path: str | Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read a card file and apply overrides (no validation yet)."""
    raw = read_toml(path)
    if overrides:
        raw = apply_overrides(raw, overrides, str(path))
    return raw


def load(path: str | Path, overrides: Mapping[str, Any] | None = None) -> RunCard:
    """Read, override and structurally validate a card file (pass 1 only)."""
    return parse(load_raw(path, overrides), str(path))


def schema_table() -> str:
    """The card keys as a markdown table (generated into the README)."""
    rows = ["| key | type | default | unit | meaning |", "|---|---|---|---|---|"]
    for name, cls in [*SECTIONS.items(), ("output", OutputSection)]:
        prefix = "[[output]]" if name == "output" else f"[{name}]"
        for f in fields(cls):
            meta = f.metadata
            if meta.get("internal"):
                continue
            if f.default is MISSING and f.default_factory is MISSING:
                default = "required"
            elif meta["shown_default"] is not None:
                default = meta["shown_default"]
            else:
                default = (
                    repr(f.default)
                    .replace("'", '"')
                    .replace("True", "true")
                    .replace("False", "false")
                )
            rows.append(
                f"| {prefix} `{f.name}` | {_type_label(f)} | {default} | {meta['unit']} | {meta['doc']} |"
            )
    return "\n".join(rows)


def _type_label(f: Any) -> str:
    label = str(f.type).replace("| None", "").strip()
    return label.replace("tuple[float, float, float]", "3 floats").replace(
        "dict[str, float]", "table"
    )
