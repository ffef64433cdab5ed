"""``run.py``: the command line. ``python run.py SCENARIO.toml`` runs one scenario; other verbs
(``sweep``, ``plot``, ...) are registered in ``COMMANDS`` and imported only when used.

Exit codes (the same for every command):

* 0 success;
* 1 a run or part of a sweep failed (or a plot did; the data are kept);
* 2 bad input: a scenario or sweep file, an option, a path that holds something else;
* 3 the environment: a full disk, a folder that cannot be written, not enough memory, a Dask scheduler
  that cannot be reached or was lost;
* 130 interrupted (Ctrl-C or SIGTERM); a second Ctrl-C while shutting down leaves at once.

Every error is one line on stderr, and bad input is refused before anything is written.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

from .errors import EnvironmentFault, InputError, ScenarioError, os_reason

__all__ = ["COMMANDS", "EXIT", "InputError", "main", "positive_int"]

EXIT = {"ok": 0, "failed": 1, "input": 2, "environment": 3, "interrupted": 130}

# verb -> "module:function"; each function takes the remaining argv and returns an exit code
COMMANDS: dict[str, str] = {
    "sweep": ".sweep.cli:sweep_command",
    "plot": ".sweep.cli:plot_command",
    "calibrate": ".calibration.cli:calibrate_command",
    "validate": ".calibration.cli:validate_command",
    "ensemble": ".calibration.cli:ensemble_command",
    "dashboard": ".dashboard.cli:dashboard_command",
    "sensitivity": ".analysis.cli:sensitivity_command",
    "discover": ".analysis.cli:discover_command",
    "attribute": ".analysis.cli:attribute_command",
    "compare": ".analysis.cli:compare_command",
    "diff": ".analysis.cli:diff_command",
    "report": ".analysis.cli:report_command",
}


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a finite number > 0")
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
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier result of another seed, scale or scenario",
    )
    parser.add_argument("--no-plots", action="store_true", help="write the data only")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run_scenario(argv: list[str]) -> int:
    from . import footprint, paths
    from .atomic import parent_lock, recover
    from .model import EcnyModel
    from .plots import plot_run
    from .results import replace_check, run_identity, write_run
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
    paths.check_out(args.out)
    target = paths.inside(args.out, scenario.name)
    run = scenario.run
    check = replace_check(
        run_identity(
            {"scenario": scenario.dump(), "seed": run.seed, "scale": run.scale, "engine": run.engine}
        ),
        args.overwrite,
    )
    if run.engine == "vectorized":
        footprint.check_fits(scenario, what="--scale" if args.scale else "run.scale")
    if args.out.is_dir():  # refuse now what the write would refuse after the simulation
        with parent_lock(args.out):
            recover(target)
            check(target)
    started = time.perf_counter()
    model = EcnyModel(scenario)
    model.run(progress=not args.quiet, description=f"{scenario.name} ({model.engine_name})")
    elapsed = time.perf_counter() - started

    def plots(frame, folder):
        return [] if args.no_plots else plot_run(frame, folder, scenario.description or scenario.name)

    write_run(model, target, elapsed, plots, overwrite=args.overwrite)
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
    """Run a command; every failure becomes one line on stderr and its exit code (module docstring)."""
    from .results import PlotFailed

    argv = list(sys.argv[1:] if argv is None else argv)
    import matplotlib

    matplotlib.use("Agg")  # files only; chosen here, by the command line, never on import of the library
    with _one_line_warnings(), _interrupts():
        try:
            if argv and argv[0] in COMMANDS:
                module, function = COMMANDS[argv[0]].split(":")
                command = getattr(importlib.import_module(module, __package__), function)
                return int(command(argv[1:]) or 0)
            return run_scenario(argv)
        except (ScenarioError, InputError) as exc:
            return _fail(str(exc), EXIT["input"])
        except EnvironmentFault as exc:
            return _fail(str(exc), EXIT["environment"])
        except PlotFailed as exc:
            return _fail(str(exc), EXIT["failed"])
        except ModuleNotFoundError as exc:
            if not exc.name or exc.name.split(".")[0] == __package__:
                raise
            verb = argv[0] if argv and argv[0] in COMMANDS else "a run"
            message = (
                f"{verb} needs the package {exc.name}, which is not installed: `make test` installs every "
                "extra (or .venv/bin/pip install -e '.[all]')"
            )
            return _fail(message, EXIT["environment"])
        except MemoryError:
            return _fail(
                "out of memory; try a coarser --scale (earlier results are intact)", EXIT["environment"]
            )
        except OSError as exc:
            where = exc.filename or "a file"
            message = f"{where}: {os_reason(exc)}; nothing was half-written (earlier results are intact)"
            return _fail(message, EXIT["environment"])
        except KeyboardInterrupt:
            return _fail(
                "interrupted: finished work is kept and nothing was half-written", EXIT["interrupted"]
            )


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return code


@contextmanager
def _one_line_warnings():
    """The library's warnings (``UserWarning`` subclasses from ``model``) as ``warning: ...`` lines."""
    from .errors import Notice

    original = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, Notice):
            print(f"warning: {message}", file=sys.stderr, flush=True)
        else:
            original(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original


@contextmanager
def _interrupts():
    """SIGTERM is handled like Ctrl-C (the same clean stop: the command saves what it has and kills its
    workers), then the process exits with 130 at once, waiting on no thread; a second signal during that
    stop exits at once too. Whatever finished is already on disk: every write is atomic."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    state = {"signalled": False}

    def handler(signum, frame):
        if state["signalled"]:
            os._exit(EXIT["interrupted"])
        state["signalled"] = True
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        if state["signalled"]:  # stopped by a real signal: leave now, without waiting on any thread
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT["interrupted"])
        for sig, old in previous.items():
            signal.signal(sig, old)
