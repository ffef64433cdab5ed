"""The command-line faces of the analyses: ``sensitivity``, ``discover``, ``attribute``, ``compare``,
``diff`` and ``report``. Each checks all its input before anything runs (``ScenarioError`` /
``InputError``: one line, exit code 2), runs on local workers or a Dask scheduler, resumes with
``--resume``, and exits 1 when runs failed (``AnalysisIncomplete``), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

from ..cli import InputError, positive_int
from ..sweep.cli import _address
from .folder import AnalysisIncomplete, Options


def _setting(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: KEY=VALUE, e.g. sobol.base_samples=16")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()  # a bare word: text
    return key.strip(), parsed


def _parser(prog: str, description: str, what: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"run.py {prog}", description=description)
    parser.add_argument("file", type=Path, help=what)
    return parser


def _execution(parser: argparse.ArgumentParser, settings: bool = True) -> None:
    parser.add_argument("--workers", type=positive_int, help="local worker processes (default: CPU count)")
    parser.add_argument("--scheduler", type=_address, help="run on the Dask cluster at tcp://HOST:PORT")
    parser.add_argument("--resume", action="store_true", help="keep the finished runs, run the rest")
    parser.add_argument("--overwrite", action="store_true", help="discard an earlier analysis of that name")
    parser.add_argument("--out", type=Path, default=Path("results"), help="parent folder (results)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    if settings:
        parser.add_argument(
            "--set", dest="changes", type=_setting, action="append", default=[], metavar="KEY=VALUE",
            help="replace an entry of the file, e.g. --set sobol.base_samples=16 (repeatable)",
        )  # fmt: skip


def _options(args: argparse.Namespace) -> Options:
    if args.resume and args.overwrite:
        raise InputError("--resume and --overwrite: choose one")
    return Options(args.workers, args.scheduler, args.resume, args.overwrite, not args.quiet)


def _finish(folder: Path) -> int:
    print(f"wrote {folder} (report: {folder / 'report.html'})")
    return 0


def _guarded(run) -> int:
    try:
        return _finish(run())
    except AnalysisIncomplete as exc:
        print(f"incomplete: {exc}")
        return 1


def sensitivity_command(argv: list[str]) -> int:
    from .sensitivity import load_sensitivity, run_sensitivity

    parser = _parser(
        "sensitivity",
        "Global sensitivity of outcomes to inputs: Morris screening and Sobol indices (SALib).",
        "sensitivity file, e.g. scenarios/analysis/levers.toml",
    )
    _execution(parser)
    args = parser.parse_args(argv)
    options = _options(args)
    spec = load_sensitivity(args.file, dict(args.changes))
    for method in spec.methods:
        print(
            f"{spec.common.name}: {method.name}, {len(spec.common.inputs)} inputs, {spec.runs(method)} runs"
        )
    return _guarded(lambda: run_sensitivity(spec, args.out, options))


def report_command(argv: list[str]) -> int:
    from .report import write_report

    parser = argparse.ArgumentParser(prog="run.py report", description="Write FOLDER/report.html.")
    parser.add_argument("folder", type=Path, help="a run, sweep or analysis folder")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        raise InputError(f"{args.folder}: no such folder")
    print(f"wrote {write_report(args.folder)}")
    return 0


def diff_command(argv: list[str]) -> int:
    from .diff import diff_files

    parser = argparse.ArgumentParser(
        prog="run.py diff", description="Levers that differ between two scenarios."
    )
    parser.add_argument("a", type=Path, help="scenario file A")
    parser.add_argument("b", type=Path, help="scenario file B")
    args = parser.parse_args(argv)
    table = diff_files(args.a, args.b)
    if table.empty:
        print(f"{args.a} and {args.b} resolve to the same scenario")
        return 0
    width = max(len(k) for k in table["key"])
    print(f"{'key':<{width}}  {args.a.name}  ->  {args.b.name}")
    for row in table.itertuples():
        print(f"{row.key:<{width}}  {row.a}  ->  {row.b}")
    return 0


def discover_command(argv: list[str]) -> int:
    from .discovery import load_discovery, run_discovery

    parser = _parser(
        "discover",
        "Scenario discovery: which lever combinations reach a goal (PRIM boxes, CART tree).",
        "discovery file, e.g. scenarios/analysis/discovery.toml",
    )
    _execution(parser)
    args = parser.parse_args(argv)
    options = _options(args)
    spec = load_discovery(args.file, dict(args.changes))
    print(f"{spec.common.name}: {spec.goal.label}; {len(spec.common.inputs)} levers, {spec.runs} runs")
    return _guarded(lambda: run_discovery(spec, args.out, options))


def _dates(text: str) -> list:
    from datetime import date

    try:
        return [date.fromisoformat(part.strip()) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: dates YYYY-MM-DD separated by commas") from None


def _metrics(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r}: metric names separated by commas")
    return names


def _outcome_options(parser: argparse.ArgumentParser, seeds: int) -> None:
    parser.add_argument("--seeds", type=positive_int, default=seeds, help=f"paired seeds (default {seeds})")
    parser.add_argument("--metrics", type=_metrics, help="metrics, comma-separated (default: outcomes.toml)")
    parser.add_argument("--dates", type=_dates, help="table dates, comma-separated (default: outcomes.toml)")
    parser.add_argument("--scale", type=float, help="residents per agent (run.scale) for every run")


def attribute_command(argv: list[str]) -> int:
    from .attribution import DRIVERS, load_attribution, run_attribution

    parser = _parser(
        "attribute",
        "Attribution: the share of each outcome due to each driver (Shapley values over paired runs).",
        "scenario file, e.g. scenarios/baseline.toml",
    )
    parser.add_argument(
        "--drivers", type=Path, default=DRIVERS, help="drivers file (scenarios/analysis/drivers.toml)"
    )
    parser.add_argument(
        "--permutations", type=positive_int, help="sample this many orders instead of all coalitions"
    )
    _outcome_options(parser, seeds=10)
    _execution(parser, settings=False)
    args = parser.parse_args(argv)
    options = _options(args)
    overrides = {} if args.scale is None else {"run.scale": args.scale}
    spec = load_attribution(
        args.file, args.drivers, args.metrics, args.dates, args.seeds, args.permutations, overrides
    )
    runs = len(spec.coalitions()) * spec.replications
    print(f"{spec.name}: {spec.method}, {spec.replications} paired seeds, up to {runs} runs")
    return _guarded(lambda: run_attribution(spec, args.out, options))


def compare_command(argv: list[str]) -> int:
    from .compare import ENSEMBLE, load_compare, run_compare

    parser = argparse.ArgumentParser(
        prog="run.py compare", description="B minus A for the main outcomes, paired by seed, on one page."
    )
    parser.add_argument("a", type=Path, help="scenario file A (the reference)")
    parser.add_argument("b", type=Path, help="scenario file B")
    parser.add_argument(
        "--ensemble", nargs="?", const=ENSEMBLE, type=Path, metavar="FILE",
        help="draw a parameter set per seed from an ensemble (default scenarios/ensemble.csv)",
    )  # fmt: skip
    _outcome_options(parser, seeds=10)
    _execution(parser, settings=False)
    args = parser.parse_args(argv)
    options = _options(args)
    overrides = {} if args.scale is None else {"run.scale": args.scale}
    spec = load_compare(args.a, args.b, args.seeds, args.metrics, args.dates, args.ensemble, overrides)
    print(f"{spec.name}: {len(spec.levers)} levers differ; {2 * spec.replications} runs")
    return _guarded(lambda: run_compare(spec, args.out, options))
