"""``run.py sweep FILE`` and ``run.py plot FOLDER``: the command-line faces of ``run_sweep`` and
``plot_sweep``. Exit codes (``model.cli``): 0 all runs finished, 1 some runs failed (named in the
summary), 2 bad input (``ScenarioError`` / ``InputError``), 3 the environment (disk, memory, a lost
scheduler), 130 interrupted.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..cli import positive_int
from ..errors import InputError
from ..paths import check_out


def _address(text: str) -> str:
    if "://" not in text:
        text = f"tcp://{text}"
    scheme, _, rest = text.partition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in ("tcp", "tls", "ucx", "inproc", "ws", "wss") or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: a Dask scheduler address such as tcp://127.0.0.1:8786")
    return text


def sweep_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py sweep",
        description="Run a sweep file (scenarios/sweeps/*.toml): every scenario x every replication.",
    )
    parser.add_argument("sweep", type=Path, help="sweep file, e.g. scenarios/sweeps/smoke.toml")
    parser.add_argument(
        "--workers", type=positive_int, help="local worker processes (default: CPU count, max 8)"
    )
    parser.add_argument("--scheduler", type=_address, help="run on the Dask cluster at tcp://HOST:PORT")
    parser.add_argument("--resume", action="store_true", help="skip the runs already finished in --out")
    parser.add_argument("--overwrite", action="store_true", help="discard an earlier sweep's runs in --out")
    parser.add_argument("--out", type=Path, default=Path("results"), help="parent folder (results)")
    parser.add_argument("--plot", action="store_true", help="write the plots and summary.csv afterwards")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def sweep_command(argv: list[str]) -> int:
    """Run a sweep; 0 when every run finished, 1 when some failed (they are listed), 2 bad input."""
    from .design import load_sweep
    from .execute import run_sweep
    from .store import SweepStore

    args = sweep_parser().parse_args(argv)
    if args.resume and args.overwrite:
        raise InputError("--resume and --overwrite: choose one")
    sweep = load_sweep(args.sweep, progress=not args.quiet)
    check_out(args.out)
    local = f"{args.workers or 'default'} local workers"
    where = f"Dask cluster {args.scheduler}" if args.scheduler else local
    aliases = "".join(f"\n  {a!r} is the same scenario as {b!r}: run once" for a, b in sweep.aliases.items())
    print(
        f"sweep {sweep.name}: {len(sweep.scenarios)} scenarios x {len(sweep.seeds)} replications "
        f"= {sweep.size} runs on {where}{aliases}"
    )
    started = time.perf_counter()
    folder = run_sweep(
        sweep,
        out=args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        resume=args.resume,
        progress=not args.quiet,
        overwrite=args.overwrite,
    )
    store = SweepStore(folder)
    manifest = store.read_manifest()
    failures = store.read_failures()
    elapsed = time.perf_counter() - started
    print(
        f"sweep {sweep.name}: {manifest['done']} runs done now, {manifest['done_before']} before, "
        f"{len(failures)} failed, in {elapsed:.1f} s ({manifest['runs_per_minute'] or 0:g} runs/min, "
        f"parent peak {manifest['parent_peak_rss_mb']:g} MiB) -> {folder}"
    )
    if args.plot and manifest["done"] + manifest["done_before"]:
        from .fanplots import plot_sweep

        for path in plot_sweep(folder):
            print(f"  wrote {path}")
    if manifest["done"] + manifest["done_before"]:
        from ..analysis.report import write_report

        print(f"  wrote {write_report(folder)}")
    if manifest["pool_restarts"]:
        print(
            f"  the process pool broke {manifest['pool_restarts']} times; runs retried: {manifest['retried']}"
        )
    if manifest["status"] == "stopped":
        print(
            f"stopped: the process pool kept breaking before any run finished; {manifest['remaining']} runs "
            "remain (finished runs are kept: add --resume to go on)"
        )
        return 1
    if len(failures):
        print(f"{len(failures)} of {sweep.size} runs failed (details in {store.failures_path}):")
        for row in failures.head(20).itertuples():
            print(f"  {row.run_id} ({row.scenario}, replication {row.replication}): {row.error}")
        if len(failures) > 20:
            print(f"  ... and {len(failures) - 20} more")
        print("fix the cause and add --resume to run only those again")
        return 1
    return 0


def plot_command(argv: list[str]) -> int:
    """Fan charts, paired differences, regional small multiples and summary.csv of a sweep folder."""
    from .fanplots import plot_sweep

    parser = argparse.ArgumentParser(
        prog="run.py plot",
        description="Plot a sweep: fan charts, differences from the baseline, regions, summary.csv.",
    )
    parser.add_argument("folder", type=Path, help="a sweep results folder, e.g. results/smoke")
    parser.add_argument("--out", type=Path, help="where to write (default: the sweep folder)")
    parser.add_argument("--baseline", default="baseline", help="scenario the differences are taken from")
    parser.add_argument("--svg", action="store_true", help="SVG copies of the figures")
    args = parser.parse_args(argv)
    if (args.folder / "timeseries.parquet").is_file():
        raise InputError(f"{args.folder}: a single run (its plots are beside it); plot takes a sweep folder")
    check_out(args.out or args.folder)
    for path in plot_sweep(args.folder, out=args.out, baseline=args.baseline, svg=args.svg):
        print(f"wrote {path}")
    if args.out is None:  # the report sits beside the figures it shows
        from ..analysis.report import write_report

        print(f"wrote {write_report(args.folder)}")
    return 0
