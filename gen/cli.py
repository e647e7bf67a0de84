"""The ``axgen`` command line (design.md §12).

    axgen run CARD [--events N] [--seed S] [--output-dir DIR] [--set key=value ...]
    axgen scan CARD --param KEY --values START:STOP:N [--no-sm] [--write-events]
    axgen recast belle2 CARD [--param model.m_X --values 1.5:2.7:13]
    axgen list | axgen validate CARD | axgen info CARD | axgen bench

Exit codes: 0 success, 2 bad card or usage (one line per problem on stderr, no traceback,
nothing written), 1 runtime failure.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gen.cards import CardError, RunCard, load_raw

if TYPE_CHECKING:
    from gen.processes import Prepared

log = logging.getLogger("axgen")

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_CARD = 2


def _parser() -> argparse.ArgumentParser:
    from gen import __version__

    parser = argparse.ArgumentParser(
        prog="axgen",
        description="Monte Carlo events for light anomalous vectors X -> nu nu~ (arXiv:2603.04394).",
    )
    parser.add_argument("--version", action="version", version=f"axgen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="generate the events of a card")
    run.add_argument("card", type=Path)
    run.add_argument("--events", type=int, help="override run.events")
    run.add_argument("--seed", type=int, help="override run.seed")
    run.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="directory for the outputs and summary.json (default: axgen_output/<card name>)",
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any card key, e.g. --set model.m_X=0.2 (repeatable)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")

    scan = sub.add_parser(
        "scan", help="run a card at several values of one key: CSV table and plot of rates and acceptances"
    )
    scan.add_argument("card", type=Path)
    _point_arguments(scan, "scan")
    scan.add_argument("--no-sm", action="store_true", help="skip the SM reference runs")
    scan.add_argument(
        "--write-events", action="store_true", help="also write each point's [[output]] files under points/"
    )

    recast = sub.add_parser(
        "recast", help="fit B+ -> K+ X to Belle II's published B+ -> K+ nu nu~ likelihood, point by point"
    )
    recast.add_argument("experiment", choices=["belle2"], help="the likelihood (Belle II ITA + HTA)")
    recast.add_argument("card", type=Path, help="a B+ -> K+ X card with setup and acceptance belle2")
    _point_arguments(recast, "recast")

    sub.add_parser("list", help="list the processes")

    validate = sub.add_parser("validate", help="check a card and print it with its defaults")
    validate.add_argument("card", type=Path)
    validate.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")

    info = sub.add_parser(
        "info", help="analytic widths, BRs, Gamma_X and c tau_X of a card's model"
    )
    info.add_argument("card", type=Path)
    info.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")

    bench = sub.add_parser("bench", help="the reference benchmark: speed, yardsticks, memory, start-up")
    bench.add_argument("--events", type=int, default=3_000_000,
                       help="events of each in-memory measurement (kernel, whole run without files)")
    bench.add_argument("--write-events", type=int, default=1_000_000,
                       help="events of the parquet runs (HepMC3: a quarter, pyhepmc: a fortieth)")
    bench.add_argument("--pythia-events", type=int, default=100_000, help="events of the Pythia 8 yardstick")
    bench.add_argument("--scaling-events", type=int, default=10_000_000,
                       help="largest run of the cost-per-event scaling (from 1e5 in steps of 10)")
    bench.add_argument("--memory-events", type=int, default=10_000_000,
                       help="events of the peak-memory run to parquet (0 skips it)")
    bench.add_argument("--no-startup", dest="startup", action="store_false",
                       help="skip the first-run (empty numba cache) and second-run timings")
    bench.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    return parser


def _point_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """The options of a command that runs a card at several values of one key."""
    parser.add_argument("--param", default=None, help="card key to scan, e.g. model.m_X (default: [scan] param)")
    parser.add_argument(
        "--values", default=None, help='"start:stop:n", "start:stop:n:log" or "v1,v2,..." (default: [scan] values)'
    )
    parser.add_argument("--events", type=int, help="override run.events at every point")
    parser.add_argument("--seed", type=int, help="override run.seed")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override any card key")
    parser.add_argument(
        "--output-dir", type=Path, default=None,
        help=f"directory for {name}.csv, {name}.json, {name}.png (default: axgen_output/<card name>_{name})",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-point lines and no table")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CardError([f"--set {item!r}: expected KEY=VALUE, e.g. model.m_X=0.2"])
        overrides[key.strip()] = value.strip()
    if getattr(args, "events", None) is not None:
        overrides["run.events"] = args.events
    if getattr(args, "seed", None) is not None:
        overrides["run.seed"] = args.seed
    return overrides


def _skip_foreign_numba_extensions() -> None:
    """Do not load other packages' numba extensions in the ``axgen`` process.

    numba imports every installed ``numba_extensions`` entry point (here awkward's and
    vector's, ~0.6 s) before its first compilation or cache load. axgen's kernels use none
    of them, so the command marks the extensions as loaded; the library (``import gen``)
    leaves numba alone.
    """
    try:
        from numba.core import entrypoints

        entrypoints._already_initialized = True
    except (ImportError, AttributeError):  # a numba without this hook: nothing to skip
        pass


class _Terminated(Exception):
    """SIGTERM (a batch system ending the job): clean up like for Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:  # noqa: ARG001
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = _parser().parse_args(argv)
    _skip_foreign_numba_extensions()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    # axgen reports at INFO; other libraries (pyhf, jax) only warnings
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)
    try:
        if args.command == "list":
            return _list()
        if args.command == "bench":
            from gen.bench import run_bench

            return run_bench(args)
        if args.command == "scan":
            return _scan(args)
        if args.command == "recast":
            return _recast(args)
        from gen.driver import check

        raw = load_raw(args.card, _overrides(args))
        output_dir = None
        if args.command == "run":
            output_dir = args.output_dir or Path("axgen_output") / args.card.stem
        card, prepared = check(raw, str(args.card), output_dir)
        if args.command == "validate":
            return _validate(card)
        if args.command == "info":
            return _info(prepared)
        return _run(card, prepared, output_dir, args)
    except CardError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return EXIT_CARD
    except (KeyboardInterrupt, _Terminated):
        print("axgen: interrupted; no output was written", file=sys.stderr)
        return EXIT_RUNTIME
    except BrokenPipeError:  # `axgen list | head`
        sys.stderr.close()
        return EXIT_OK
    except Exception as err:  # noqa: BLE001 - a runtime failure: one line, no traceback
        print(f"axgen: error: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_RUNTIME


def _scan(args: argparse.Namespace) -> int:
    from gen.scan import format_table, plan, run_scan

    raw = load_raw(args.card, _overrides(args))
    param, points, _ = plan(raw, str(args.card), args.param, args.values, False if args.no_sm else None)
    output_dir = args.output_dir or Path("axgen_output") / f"{args.card.stem}_scan"
    from gen.driver import why_unwritable

    problem = why_unwritable(output_dir)
    if problem:
        raise CardError([f"output directory: expected a writable directory, got {str(output_dir)!r} ({problem})"])
    table = run_scan(param, points, output_dir, write_events=args.write_events, progress=not args.quiet)
    if not args.quiet:
        print(format_table(table))
        print("  wrote     " + ", ".join(str(output_dir / n) for n in ("scan.csv", "scan.json", "scan.png")))
    return EXIT_OK


def _recast(args: argparse.Namespace) -> int:
    from gen.driver import why_unwritable
    from gen.recast.belle2 import format_table, plan_recast, run_recast

    try:  # the likelihood needs the recast extra; say so before anything runs
        import jax  # noqa: F401
        import pyhf  # noqa: F401
    except ImportError as err:
        print(f"axgen recast needs pyhf and jax ({err}): pip install 'axgen[recast]'", file=sys.stderr)
        return EXIT_RUNTIME

    raw = load_raw(args.card, _overrides(args))
    param, points = plan_recast(raw, str(args.card), args.param, args.values)
    output_dir = args.output_dir or Path("axgen_output") / f"{args.card.stem}_recast"
    problem = why_unwritable(output_dir)
    if problem:
        raise CardError([f"output directory: expected a writable directory, got {str(output_dir)!r} ({problem})"])
    table = run_recast(param, points, output_dir, progress=not args.quiet)
    if not args.quiet:
        print(format_table(table))
        print("  wrote     " + ", ".join(str(output_dir / n) for n in ("recast.csv", "recast.json", "recast.png")))
    return EXIT_OK


def _list() -> int:
    """Every process: name, record (PDG ids in slot order), VEGAS dimension, references."""
    from gen.processes import REGISTRY, record_of

    for process in REGISTRY.values():
        labels, pids, dims = record_of(process)
        print(f"{process.name}")
        print(f"    {process.description}")
        print(
            "    record: "
            + "  ".join(f"{label}({pid})" for label, pid in zip(labels, pids, strict=True))
        )
        print(f"    VEGAS dimensions: {dims}   references: {', '.join(process.references)}")
    return EXIT_OK


def _validate(card: RunCard) -> int:
    from gen.cards import resolved

    print(json.dumps(resolved(card), indent=2))
    print(f"{card.source}: ok", file=sys.stderr)
    return EXIT_OK


_INFO_LINES = (
    # key of Prepared.info, label, format, unit / note
    ("m_X", "m_X", ".6g", "GeV"),
    ("width_X", "Gamma_X", ".6e", "GeV"),
    ("width_X_invisible", "Gamma(X->nunu)", ".6e", "GeV (Eq. 10)"),
    ("br_invisible", "BR(X -> nu nu~)", ".6f", ""),
    ("ctau_X_mm", "c tau_X", ".6e", "mm"),
    ("width_parent_to_daughter_X", "Gamma(P -> P' X)", ".6e", "GeV (Eq. 12/13)"),
    ("br_parent_to_daughter_X", "BR(P -> P' X)", ".6e", ""),
    ("br_parent_to_kstar_X", "BR(B -> K* X)", ".6e", "(Eq. 14)"),
    ("f_l", "F_L(m_X^2)", ".5f", "(Eq. 15)"),
    ("br_kstar_to_kpi", "BR(K* -> K pi mode)", ".6f", "(isospin)"),
    ("br_narrow_width", "BR x BR(X->nunu)", ".6e", "(narrow width, Eq. 21)"),
    ("br_eq33_direct", "BR from Eq. 33", ".6e", "(before the Eq. 32 normalisation)"),
    ("mean_f_l", "<F_L>", ".5f", "(rate-weighted)"),
    ("tau_parent_s", "parent lifetime", ".6e", "s (PDG 2024)"),
)


def _info(prepared: Prepared) -> int:
    info = prepared.info
    lines = [
        f"process               {prepared.process.name}",
        f"references            {', '.join(prepared.process.references)}",
        f"record                {' '.join(prepared.topology.labels)}",
        f"generated rate        {prepared.analytic_rate:.6e} {prepared.rate_unit}  (what the MC integrates)",
    ]
    if "m_X" in info:
        lines.append(f"Gamma_X / m_X         {info['width_X'] / info['m_X']:.3e}")
        lines.append(
            "nu flavours           "
            + ", ".join(f"{f:.3f}" for f in info["flavour_fractions"])
            + " (e, mu, tau)"
        )
    for key, label, fmt, unit in _INFO_LINES:
        if key in info:
            lines.append(f"{label:<21} {info[key]:{fmt}} {unit}".rstrip())
    print("\n".join(lines))
    return EXIT_OK


def _run(card: RunCard, prepared: Prepared, output_dir: Path, args: argparse.Namespace) -> int:
    from gen.driver import run

    result = run(card, output_dir, progress=not args.quiet, prepared=prepared)
    if not args.quiet:
        print(format_summary(result.summary, output_dir, card))
    return EXIT_OK


def format_summary(summary: dict[str, Any], output_dir: Path, card: RunCard) -> str:
    """The printed summary table of a run."""
    rate = summary["rate"]
    analytic = summary["analytic_rate"]["value"]
    t = summary["timing"]
    lines = [
        f"{summary['process']}: {summary['events']} {summary['mode']} events, seed {summary['seed']}",
        (
            f"  rate      {rate['value']:.6e} +- {rate['error']:.2e} {rate['unit']} "
            f"(analytic {analytic:.6e}, pull {summary['rate_pull']:+.2f})"
        ),
    ]
    if "unweighting" in summary:
        u = summary["unweighting"]
        lines.append(
            f"  unweighting efficiency {u['efficiency']:.4f}, overweight fraction {u['overweight_fraction']:.2e}"
        )
    for region, acc in summary["acceptance"].items():
        line = f"  acceptance[{region}] {acc['value']:.6f} +- {acc['error']:.2e}"
        if "expected_events" in summary:
            line += f", expected events {summary['expected_events'][region]:.4g}"
        lines.append(line)
    lines.append(
        f"  timing    warm-up {t['warmup_s']:.2f} s, loop {t['loop_s']:.2f} s "
        f"({t['events_per_s']:.3g} ev/s), writing {t['write_s']:.2f} s"
    )
    files = [str(output_dir / o.path) for o in card.output] + [str(output_dir / "summary.json")]
    lines.append("  wrote     " + ", ".join(files))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
