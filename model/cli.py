"""``run.py``: the command line. ``python run.py SCENARIO.toml`` runs one scenario; other verbs
(``sweep``, ``plot``, ...) are registered in ``COMMANDS`` and imported only when used.

Exit codes: 0 success, 1 a run or part of a sweep failed, 2 bad input (scenario, sweep file, arguments).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from .scenario import ScenarioError

# verb -> "module:function"; each function takes the remaining argv and returns an exit code
COMMANDS: dict[str, str] = {
    "sweep": ".sweep.cli:sweep_command",
    "plot": ".sweep.cli:plot_command",
    "calibrate": ".calibration.cli:calibrate_command",
    "validate": ".calibration.cli:validate_command",
    "dashboard": ".dashboard.cli:dashboard_command",
    "sensitivity": ".analysis.cli:sensitivity_command",
    "discover": ".analysis.cli:discover_command",
    "attribute": ".analysis.cli:attribute_command",
    "compare": ".analysis.cli:compare_command",
    "diff": ".analysis.cli:diff_command",
    "report": ".analysis.cli:report_command",
}


class InputError(Exception):
    """Bad input that is not a scenario file (a path, an option); the message says what is allowed."""


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be > 0")
    return value


def positive_int(text: str) -> int:
    """argparse type for counts (workers, trials, replications): a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 1 or more")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r}: must be between 0 and 2**63 - 1")
    return value


def run_parser() -> argparse.ArgumentParser:
    verbs = ", ".join(sorted(COMMANDS)) or "none"
    parser = argparse.ArgumentParser(
        prog="run.py",
        description=f"Run one e-CNY adoption scenario. Other commands: {verbs} (run.py COMMAND -h).",
    )
    parser.add_argument("scenario", type=Path, help="scenario file, e.g. scenarios/baseline.toml")
    parser.add_argument("--seed", type=_seed, help="random seed (default: the scenario's run.seed)")
    parser.add_argument("--scale", type=_positive, help="residents per citizen agent (run.scale)")
    parser.add_argument("--engine", choices=("vectorized", "agents"), help="default: run.engine")
    parser.add_argument("--out", type=Path, default=Path("results"), help="parent folder (results)")
    parser.add_argument("--no-plots", action="store_true", help="write the data only")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run_scenario(argv: list[str]) -> int:
    from .model import EcnyModel
    from .plots import plot_run
    from .results import write_run
    from .scenario import load_scenario

    args = run_parser().parse_args(argv)
    overrides = {}
    if args.seed is not None:
        overrides["run.seed"] = args.seed
    if args.scale is not None:
        overrides["run.scale"] = args.scale
    if args.engine is not None:
        overrides["run.engine"] = args.engine
    scenario = load_scenario(args.scenario, overrides)
    started = time.perf_counter()
    model = EcnyModel(scenario)
    model.run(progress=not args.quiet, description=f"{scenario.name} ({model.engine_name})")
    elapsed = time.perf_counter() - started
    target = args.out / scenario.name

    def plots(frame, folder):
        return [] if args.no_plots else plot_run(frame, folder, scenario.description or scenario.name)

    write_run(model, target, elapsed, plots)
    from .analysis.report import write_report

    write_report(target)
    total = time.perf_counter() - started
    print(
        f"{scenario.name}: {len(model.dates)} weeks, {len(model.citizens):,} citizen agents "
        f"(scale {model.scale:g}), {model.engine_name} engine, {elapsed:.2f} s simulated, "
        f"{total:.2f} s with output -> {target}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in COMMANDS:
            module, function = COMMANDS[argv[0]].split(":")
            command = getattr(importlib.import_module(module, __package__), function)
            return int(command(argv[1:]) or 0)
        return run_scenario(argv)
    except (ScenarioError, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was overwritten", file=sys.stderr)
        return 130
