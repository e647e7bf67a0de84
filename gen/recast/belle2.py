"""``axgen recast belle2``: B⁺ → K⁺X against Belle II's published B⁺ → K⁺νν̄ likelihood.

At every value of the scanned key (usually ``model.m_X``) the card's B⁺ → K⁺X events run
through the ``belle2`` production and acceptance; their expected events in the 18 analysis
bins (the folding through the published number densities, at the card's |g_bs|, for the
2 N_BB̄ f₊₋ B mesons of the publication whatever the card's normalisation keys) become the
X sample of the combined ITA + HTA likelihood, on top of the SM signal fixed at its
prediction (``gen.recast.likelihood``). The X yield scales with μ = BR/BR_card = |g_bs|²/
|g_bs,card|², so each point reports

- ``best_fit_br``: μ̂ × BR_card (BR(B⁺ → K⁺X) × BR(X → νν̄), what the events integrate);
- ``best_fit_g_bs``: √μ̂ × |g_bs,card|;
- ``br_upper_95``: the 95 % CL CLs upper limit on that BR (and ``g_bs_upper_95``);
- ``significance``: √q₀ of SM + X over SM alone.

Outputs (temporary names, renamed on success): ``recast.csv``, ``recast.json`` (rows, card,
the published-fit check) and ``recast.png`` (best fit with the limit, and the significance,
against the scanned value). A point whose events miss every analysis bin (q² above the map,
m_X ≳ 4.66 GeV) gets μ̂ = 0, Z = 0 and no limit (inf) without a fit.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from gen.acceptance.belle2 import ANALYSIS_BINS, BR_SM_PUBLISHED, N_SM_PUBLISHED
from gen.cards import CardError
from gen.scan import Point, plan, write_atomically
from gen.scan import run_scan as run_points

log = logging.getLogger("axgen")

PROCESS = "B+ -> K+ X"
COLUMNS = ("best_fit_br", "best_fit_g_bs", "br_upper_95", "significance")
N_B_PUBLISHED = N_SM_PUBLISHED / BR_SM_PUBLISHED  # 2 N_BB̄ f₊₋ = 3.99e8 B± (experiments.md §3.6)


def plan_recast(raw: dict[str, Any], source: str, param: str | None, values: Any) -> tuple[str, list[Point]]:
    """Every point validated (scan.plan), and the card checked to be a Belle II B⁺ → K⁺X run."""
    problems = []
    run = raw.get("run", {}) if isinstance(raw.get("run"), dict) else {}
    if run.get("process") != PROCESS:
        problems.append(f"{source}: run.process: expected {PROCESS!r} for axgen recast belle2, got {run.get('process')!r}")
    for section, key, wanted in (("production", "setup", "belle2"), ("acceptance", "experiment", "belle2")):
        table = raw.get(section, {}) if isinstance(raw.get(section), dict) else {}
        if table.get(key) != wanted:
            problems.append(
                f"{source}: {section}.{key}: expected {wanted!r} for axgen recast belle2, got {table.get(key)!r}"
            )
    if problems:
        raise CardError(problems)
    param, points, _ = plan(raw, source, param, values, sm_reference=False)
    return param, points


def x_yields(summary: dict[str, Any]) -> np.ndarray:
    """The 18 expected X events of a run summary, in the likelihood's bin order, for the B
    count the likelihood was built on (2 N_BB̄ f₊₋ of the publication, whatever the card's
    ``n_bb``, ``f_plus_minus`` or ``run.n_parents``): N_B × BR × acceptance[bin]."""
    rate = summary["rate"]["value"]
    return np.array([N_B_PUBLISHED * rate * summary["acceptance"][name]["value"] for name in ANALYSIS_BINS])


def _no_signal_row(column: str, value: Any) -> dict[str, Any]:
    """A point whose events fall outside every analysis bin (q² beyond the map): no fit."""
    return {column: value, "best_fit_br": 0.0, "best_fit_g_bs": 0.0, "br_upper_95": math.inf,
            "significance": 0.0, "g_bs_upper_95": math.inf, "mu_hat": 0.0, "mu_upper_95": math.inf}


def run_recast(
    param: str, points: list[Point], output_dir: Path | None, *, progress: bool = True, backend: str = "jax"
) -> dict[str, Any]:
    """Generate every point, fit it, and write recast.{csv,json,png} when ``output_dir`` is set."""
    from gen.recast.likelihood import RecastLikelihood, published_signal_strength

    t0 = time.perf_counter()
    scan_table = run_points(param, points, None, progress=progress)
    t_fit = time.perf_counter()
    likelihood = RecastLikelihood(backend=backend)
    column = param.rsplit(".", 1)[-1]
    rows = []
    for point, scan_row in zip(points, scan_table["rows"], strict=True):
        summary = point.summary
        yields = x_yields(summary)
        br_card = summary["rate"]["value"]
        g_card = abs(complex(point.card.model.g_bs))
        if yields.sum() > 0.0:
            result = likelihood.fit(yields)
            row = {
                column: point.value,
                "best_fit_br": result.mu_hat * br_card,
                "best_fit_g_bs": math.sqrt(result.mu_hat) * g_card,
                "br_upper_95": result.mu_upper_95 * br_card,
                "significance": result.significance,
                "g_bs_upper_95": math.sqrt(result.mu_upper_95) * g_card,
                "mu_hat": result.mu_hat,
                "mu_upper_95": result.mu_upper_95,
            }
        else:
            row = _no_signal_row(column, point.value)
        acceptance = summary["acceptance"]
        row.update({
            "br_card": br_card,
            "x_events_ITA": N_B_PUBLISHED * br_card * acceptance["ITA"]["value"],
            "x_events_HTA": N_B_PUBLISHED * br_card * acceptance["HTA"]["value"],
            "acceptance_ITA": scan_row["acceptance[ITA]"],
            "acceptance_HTA": scan_row["acceptance[HTA]"],
            # MC precision of the X yields (the fit takes them as exact)
            "x_events_ITA_rel_error": (acceptance["ITA"]["error"] / acceptance["ITA"]["value"]
                                       if acceptance["ITA"]["value"] > 0 else math.inf),
        })
        rows.append(row)
        if progress:
            log.info(
                "%s = %s: BR best fit %.3g, 95%% CL upper limit %.3g, significance %.2f σ",
                param, point.value, row["best_fit_br"], row["br_upper_95"], row["significance"],
            )
    best = max(rows, key=lambda r: r["significance"])
    mu_published, mu_published_error = published_signal_strength(backend=backend)
    table = {
        "param": param,
        "column": column,
        "process": PROCESS,
        "likelihood": "Belle II combined ITA + HTA B+ -> K+ nu nu~ (arXiv:2311.14647, HEPData ins2947386)",
        "published_fit": {"mu": mu_published, "mu_error": mu_published_error},
        "best": {column: best[column], "best_fit_br": best["best_fit_br"], "significance": best["significance"]},
        "columns": {
            "best_fit_br": "μ̂ × BR of the card: BR(B+ -> K+ X) × BR(X -> nu nu~) at the best fit",
            "best_fit_g_bs": "√μ̂ × |g_bs| of the card",
            "br_upper_95": "95 % CL (asymptotic CLs, q̃_μ) upper limit on that BR; g_bs_upper_95 on |g_bs|",
            "significance": "√q₀: SM + X over SM alone (the SM signal fixed at its prediction)",
            "x_events_*": "expected X events at the card's coupling (sum over the analysis bins) for the "
            "published 2 N_BB f+- = 3.99e8 B mesons; x_events_ITA_rel_error their MC precision",
        },
        "rows": rows,
        "events_per_point": points[0].summary["events"],
        "timing": {"generation_s": t_fit - t0, "fits_s": time.perf_counter() - t_fit},
        "card": points[0].summary.get("card"),
    }
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(output_dir / "recast.csv", lambda path: _write_csv(path, table))
        write_atomically(
            output_dir / "recast.json", lambda path: path.write_text(json.dumps(table, indent=2, default=str) + "\n")
        )
        write_atomically(output_dir / "recast.png", lambda path: plot(table, path))
    return table


def _write_csv(path: Path, table: dict[str, Any]) -> None:
    rows = table["rows"]
    columns = [table["column"], *COLUMNS, *(k for k in rows[0] if k not in COLUMNS and k != table["column"])]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})


def plot(table: dict[str, Any], path: Path) -> None:
    """Best-fit BR with the 95 % CL upper limit (top) and the significance (bottom)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = table["rows"]
    column = table["column"]
    x = [row[column] for row in rows]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True, constrained_layout=True)
    top.plot(x, [row["br_upper_95"] for row in rows], color="C3", marker="v", ms=4, label="95 % CL upper limit")
    fitted = [(xi, row["best_fit_br"]) for xi, row in zip(x, rows, strict=True) if row["best_fit_br"] > 0]
    if fitted:  # on a log axis: the points where the data want no X (μ̂ = 0) are left out
        top.plot(*zip(*fitted, strict=True), color="C0", marker="o", ms=4, ls="", label="best fit (μ̂ > 0)")
    top.set_ylabel("BR(B⁺ → K⁺X) × BR(X → νν̄)")
    top.set_yscale("log")
    top.legend(fontsize="small")
    top.set_title("Belle II B⁺ → K⁺νν̄ likelihood (ITA + HTA) with SM + X", fontsize="medium")
    bottom.plot(x, [row["significance"] for row in rows], color="C2", marker="o", ms=4)
    bottom.set_ylabel("significance of SM + X over SM [σ]")
    bottom.set_ylim(bottom=0.0)
    bottom.set_xlabel(table["param"] + (" [GeV]" if column == "m_X" else ""))
    fig.savefig(path, format="png", dpi=120)
    plt.close(fig)


def format_table(table: dict[str, Any]) -> str:
    """The printed recast table and the best point."""
    column = table["column"]
    lines = [f"{column:>10} {'BR best fit':>12} {'|g_bs| fit':>11} {'BR < (95%)':>12} {'Z [σ]':>7}"]
    for row in table["rows"]:
        lines.append(
            f"{row[column]:>10.4g} {row['best_fit_br']:>12.4e} {row['best_fit_g_bs']:>11.4e} "
            f"{row['br_upper_95']:>12.4e} {row['significance']:>7.2f}"
        )
    best = table["best"]
    lines.append(
        f"best: {column} = {best[column]:.4g}, BR = {best['best_fit_br']:.3e}, {best['significance']:.2f} σ "
        f"over the SM; published likelihood alone: μ = {table['published_fit']['mu']:.2f} "
        f"± {table['published_fit']['mu_error']:.2f}"
    )
    lines.append(
        f"({len(table['rows'])} points: generation {table['timing']['generation_s']:.1f} s, "
        f"fits {table['timing']['fits_s']:.1f} s)"
    )
    return "\n".join(lines)
