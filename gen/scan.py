"""``axgen scan``: one card run at a list of values of one card key.

Every point is validated before the first one runs (all problems at once, nothing
written). The points run in this process one after the other, so the numba kernels are
compiled (or loaded from the cache) once. For a P → P′ X card with an acceptance model
the SM continuum of the process (``gen.processes.sm_partner``) goes through the same
production and selection: once if the scanned key is in [model], else at every point.

Outputs, each written under a temporary name and renamed: ``scan.csv`` (one row per point:
the value, the MC and analytic rate, and per region the acceptance, its error and the
expected events, then the same for the SM reference), ``scan.json`` (the rows with units,
the card and the SM summary) and ``scan.png`` (acceptance and expected events or rate
against the value).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gen.cards import CardError, RunCard, apply_overrides, qualified_key, scan_values
from gen.driver import check, run
from gen.processes import Prepared, sm_partner

log = logging.getLogger("axgen")


@dataclass
class Point:
    """One scan point: the value, its card and, after the run, its summary."""

    value: Any
    card: RunCard
    prepared: Prepared
    summary: dict[str, Any] = field(default_factory=dict)
    sm_card: RunCard | None = None
    sm_prepared: Prepared | None = None
    sm_summary: dict[str, Any] | None = None


def _problem_free(raw: dict[str, Any], source: str) -> tuple[RunCard, Prepared] | list[str]:
    try:
        return check(raw, source)
    except CardError as err:
        return err.problems


def _sm_raw(raw: dict[str, Any], partner: str, keep_model: tuple[str, ...]) -> dict[str, Any]:
    """The card with the process replaced by its SM continuum (and [model] kept only where read)."""
    sm = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items() if k not in ("scan", "output")}
    sm["run"] = {**sm.get("run", {}), "process": partner}
    model = {k: v for k, v in raw.get("model", {}).items() if k in keep_model}
    sm.pop("model", None)
    if model:
        sm["model"] = model
    return sm


def plan(
    raw: dict[str, Any], source: str, param: str | None, values: Any, sm_reference: bool | None
) -> tuple[str, list[Point], bool]:
    """Validate every point (and its SM reference); CardError lists all problems at once."""
    scan = raw.get("scan", {}) if isinstance(raw.get("scan"), dict) else {}
    param = param or scan.get("param")
    problems: list[str] = []
    if not param:
        problems.append(f"{source}: scan.param: expected a card key to scan (or --param), got none")
    values = values if values is not None else scan.get("values")
    try:
        points_values = scan_values(values) if values is not None else None
    except Exception as err:  # noqa: BLE001 - cards._Bad carries what was expected
        problems.append(f"{source}: scan.values: expected {getattr(err, 'expected', err)}, got {values!r}")
        points_values = None
    if points_values is None and not any("scan.values" in p for p in problems):
        problems.append(f"{source}: scan.values: expected the values to scan (or --values), got none")
    if problems:
        raise CardError(problems)
    assert param is not None
    assert points_values is not None
    param = qualified_key(param)
    if param == "run.process":
        raise CardError([f"{source}: scan.param: expected a key other than run.process, got {param!r}"])

    points: list[Point] = []
    seen: set[str] = set()
    for value in points_values:
        try:
            point_raw = apply_overrides(raw, {param: value}, source)
        except CardError as err:
            raise CardError(err.problems) from None
        found = _problem_free(point_raw, source)
        if isinstance(found, list):
            for problem in found:
                if problem not in seen:
                    seen.add(problem)
                    problems.append(problem)
            continue
        points.append(Point(value=value, card=found[0], prepared=found[1]))
    if problems:
        raise CardError(problems)

    with_sm = bool(points) and (sm_reference if sm_reference is not None else points[0].card.scan.sm_reference)
    partner = sm_partner(points[0].prepared.process) if points else None
    with_sm = with_sm and partner is not None and points[0].card.acceptance.experiment != "none"
    if with_sm:
        assert partner is not None
        # the SM run depends on the scanned key unless it is a [model] key the SM ignores
        section, _, key = param.partition(".")
        per_point = section != "model" or key.split(".")[0] in partner.sm_model_keys
        for i, point in enumerate(points):
            if i > 0 and not per_point:
                point.sm_card, point.sm_prepared = points[0].sm_card, points[0].sm_prepared
                continue
            point_raw = apply_overrides(raw, {param: point.value}, source)
            found = _problem_free(_sm_raw(point_raw, partner.name, partner.sm_model_keys), f"{source} (SM reference)")
            if isinstance(found, list):
                problems.extend(p for p in found if p not in problems)
                continue
            point.sm_card, point.sm_prepared = found
    if problems:
        raise CardError(problems)
    return param, points, with_sm


def run_scan(
    param: str,
    points: list[Point],
    output_dir: Path | None,
    *,
    write_events: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Run every point; returns the scan table (and writes it when ``output_dir`` is set)."""
    t0 = time.perf_counter()
    sm_done: dict[int, dict[str, Any]] = {}
    for i, point in enumerate(points):
        t_point = time.perf_counter()
        events_dir = None
        if write_events and output_dir is not None:
            events_dir = output_dir / "points" / f"{i:03d}_{_slug(param)}={_format(point.value)}"
        point.summary = run(point.card, events_dir, progress=False, prepared=point.prepared).summary
        if point.sm_card is not None:
            key = id(point.sm_card)
            if key not in sm_done:
                assert point.sm_prepared is not None
                sm_done[key] = run(point.sm_card, None, progress=False, prepared=point.sm_prepared).summary
            point.sm_summary = sm_done[key]
        if progress:
            first = _first_signal_region(point.summary)
            acc = point.summary["acceptance"][first]
            log.info(
                "%s = %s: rate %.4e %s, acceptance[%s] %.4g +- %.1e (%.1f s)",
                param, _format(point.value), point.summary["rate"]["value"], point.summary["rate"]["unit"],
                first, acc["value"], acc["error"], time.perf_counter() - t_point,
            )
    table = _table(param, points)
    table["wall_s"] = time.perf_counter() - t0
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(output_dir / "scan.csv", lambda path: _write_csv(path, table))
        write_atomically(output_dir / "scan.json", lambda path: path.write_text(json.dumps(table, indent=2, default=str) + "\n"))
        write_atomically(output_dir / "scan.png", lambda path: plot(table, path))
    return table


def _first_signal_region(summary: dict[str, Any]) -> str:
    regions = summary.get("signal_regions") or list(summary["acceptance"])
    return regions[0]


def _table(param: str, points: list[Point]) -> dict[str, Any]:
    """Rows (one per point) and the column meanings."""
    first = points[0].summary
    regions = list(first["acceptance"])
    rows = []
    for point in points:
        s = point.summary
        row: dict[str, Any] = {
            param: point.value,
            "rate": s["rate"]["value"],
            "rate_error": s["rate"]["error"],
            "rate_analytic": s["analytic_rate"]["value"],
        }
        if "decay_probability" in s.get("production", {}):
            row["decay_probability"] = s["production"]["decay_probability"]
        row.update(_region_columns(s, regions, ""))
        if point.sm_summary is not None:
            row["sm_rate"] = point.sm_summary["rate"]["value"]
            row.update(_region_columns(point.sm_summary, regions, "sm_"))
        rows.append(row)
    return {
        "param": param,
        "process": first["process"],
        "sm_process": points[0].sm_summary["process"] if points[0].sm_summary else None,
        "rate_unit": first["rate"]["unit"],
        "regions": regions,
        "signal_regions": first.get("signal_regions", regions),
        "acceptance_model": first.get("acceptance_model"),
        "production": first.get("production"),
        "events_per_point": first["events"],
        "columns": {
            "rate": f"MC rate of the process ({first['rate']['unit']}), rate_error its error",
            "rate_analytic": "the analytic rate (physics.md) of what the MC integrates",
            "decay_probability": "beams in flight: ⟨P⟩, the probability that a kaon entering the decay "
            "region decays in it",
            "acceptance[R]": "efficiency factor × Σw(selected in R)/Σw, acceptance_error[R] its MC error "
            "(beams in flight: per kaon decay in the region)",
            "expected_events[R]": "N × Σw(selected in R) × efficiency factor: L × σ × acceptance[R], "
            "N_parents × rate × ⟨P⟩ × acceptance[R], or N_decays × rate × acceptance[R]",
            "sm_*": "the same for the SM continuum through the same production and selection",
        },
        "rows": rows,
        "card": first.get("card"),
    }


def _region_columns(summary: dict[str, Any], regions: list[str], prefix: str) -> dict[str, float]:
    """acceptance[R], acceptance_error[R] and expected_events[R] of a run summary."""
    columns = {}
    for region in regions:
        columns[f"{prefix}acceptance[{region}]"] = summary["acceptance"][region]["value"]
        columns[f"{prefix}acceptance_error[{region}]"] = summary["acceptance"][region]["error"]
        if "expected_events" in summary:
            columns[f"{prefix}expected_events[{region}]"] = summary["expected_events"][region]
    return columns


def _write_csv(path: Path, table: dict[str, Any]) -> None:
    rows = table["rows"]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})


def write_atomically(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.axgen-tmp-{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def plot(table: dict[str, Any], path: Path) -> None:
    """Acceptance of the signal regions (SM dashed) and expected events (or rate) vs the value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = table["rows"]
    param = table["param"]
    x_values = [row[param] for row in rows]
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in x_values)
    x = x_values if numeric else list(range(len(rows)))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True, constrained_layout=True)
    # the first signal region may be the union of the others: drawn wide underneath
    style = [{"lw": 4.0, "alpha": 0.35}] + [{"lw": 1.5}] * len(table["signal_regions"])
    for k, region in enumerate(table["signal_regions"]):
        colour = f"C{k}"
        top.errorbar(
            x, [row[f"acceptance[{region}]"] for row in rows],
            yerr=[row[f"acceptance_error[{region}]"] for row in rows],
            marker="o", ms=3, color=colour, label=region, **style[k],
        )
        if f"sm_acceptance[{region}]" in rows[0]:
            top.plot(x, [row[f"sm_acceptance[{region}]"] for row in rows], ls="--", color=colour,
                     label=f"{region}, SM νν̄")
    top.set_ylabel("acceptance")
    top.set_ylim(bottom=0.0)
    top.legend(fontsize="small")
    top.set_title(f"{table['process']}: {table['acceptance_model']['experiment']} selection", fontsize="medium")
    if any(k.startswith("expected_events[") for k in rows[0]):
        for k, region in enumerate(table["signal_regions"]):
            values = [row[f"expected_events[{region}]"] for row in rows]
            bottom.plot(x, values, marker="o", ms=3, color=f"C{k}", label=region, **style[k])
        bottom.set_ylabel("expected events")
    else:
        bottom.plot(x, [row["rate"] for row in rows], marker="o", ms=3, label="MC")
        bottom.plot(x, [row["rate_analytic"] for row in rows], ls=":", label="analytic")
        bottom.set_ylabel(f"rate [{table['rate_unit']}]")
    if any(isinstance(v, float) and v > 0 for row in rows for k, v in row.items()
           if k.startswith(("expected_events[", "rate"))):
        bottom.set_yscale("log")
    bottom.legend(fontsize="small")
    bottom.set_xlabel(param)
    if not numeric:
        bottom.set_xticks(x, [str(v) for v in x_values], rotation=30)
    fig.savefig(path, format="png", dpi=120)
    plt.close(fig)


def _format(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _slug(param: str) -> str:
    return param.replace(".", "_")


def format_table(table: dict[str, Any]) -> str:
    """The printed scan table: value, rate and the signal regions' acceptance (SM alongside)."""
    param = table["param"]
    regions = table["signal_regions"]
    head = f"{param:>14} {'rate':>12}" + "".join(f" {'A[' + r + ']':>11}" for r in regions)
    has_n = any(k.startswith("expected_events[") for k in table["rows"][0])
    if has_n:
        head += "".join(f" {'N[' + r + ']':>11}" for r in regions)
    lines = [head]
    for row in table["rows"]:
        line = f"{_format(row[param]):>14} {row['rate']:>12.4e}"
        line += "".join(f" {row[f'acceptance[{r}]']:>11.4g}" for r in regions)
        if has_n:
            line += "".join(f" {row[f'expected_events[{r}]']:>11.4g}" for r in regions)
        lines.append(line)
    sm_rows = [row for row in table["rows"] if "sm_rate" in row]
    if sm_rows:
        row = sm_rows[0]
        varies = len({row_[f"sm_acceptance[{regions[0]}]"] for row_ in sm_rows}) > 1
        line = f"{'SM' + (' (1st)' if varies else ''):>14} {row['sm_rate']:>12.4e}"
        line += "".join(f" {row[f'sm_acceptance[{r}]']:>11.4g}" for r in regions)
        if has_n and f"sm_expected_events[{regions[0]}]" in row:
            line += "".join(f" {row[f'sm_expected_events[{r}]']:>11.4g}" for r in regions)
        lines.append(line)
    lines.append(f"({len(table['rows'])} points, {table['wall_s']:.1f} s)")
    return "\n".join(lines)

