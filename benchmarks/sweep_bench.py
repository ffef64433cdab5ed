"""Sweep benchmark: a sweep of N baseline runs on W workers, on a local process pool and on a Dask cluster,
against a plain loop. ``python -m benchmarks.sweep_bench`` (defaults: 200 runs, default scale, 2 workers);
writes ``benchmarks/SWEEP_RESULTS.md``. With ``--reference COMMIT`` the plain loop and the pool are also
measured by that commit's code (its own baseline and model, in a temporary git worktree, by the same
interpreter): before against after in the same run on the same machine.

Each measurement runs in a fresh child process, so the parent's peak memory (``ru_maxrss``) is the sweep
parent's own: it should not grow with the number of runs, and a sampler thread records the parent's
resident memory after 10% of the runs and at the end to show it. The Dask cluster is a real one started
as separate processes (``dask scheduler`` / ``dask worker``, loopback only, no dashboards), as a user would.

Where a run's time goes (``parts``): population and agents, word-of-mouth networks, steps and output
(the tidy table and its Parquet bytes), timed inside one process over the plain loop's runs.

Overhead per run of an executor = ``wall x workers / runs - plain-loop seconds per run``: the time a
worker slot spends on anything but the run itself (dispatch, pickling, transfer, writing, and contention
for the CPUs with the parent process).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "SWEEP_RESULTS.md"


def sweep_file(folder: Path, runs: int, scale: float | None, end: str | None) -> Path:
    overrides = []
    if scale:
        overrides.append(f"run.scale = {scale!r}")
    if end:
        overrides += [f"run.end = {end}", "incentives.lotteries = []"]
    text = "\n".join(
        [
            'name = "bench"',
            f'base = "{(ROOT / "scenarios" / "baseline.toml").as_posix()}"',
            f"replications = {runs}",
            "root_seed = 1",
            "[overrides]",
            *overrides,
            "",
        ]
    )
    path = folder / "bench.toml"
    path.write_text(text)
    return path


def load(begin: float) -> dict[str, float]:
    """1-minute load averages at the start and end of a measurement: the machine is shared."""
    return {"load_begin": round(begin, 2), "load_end": round(os.getloadavg()[0], 2)}


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Sampler(threading.Thread):
    """The parent's resident memory against the number of finished run files, once a second."""

    def __init__(self, runs_dir: Path) -> None:
        super().__init__(daemon=True)
        self.runs_dir, self.samples, self.stop = runs_dir, [], threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            done = len(list(self.runs_dir.glob("*.parquet"))) if self.runs_dir.is_dir() else 0
            self.samples.append((done, rss_mb()))


def parts(runs: list) -> dict:
    """Where a run's time goes, over ``runs`` (after a warm-up): population and agents (building the
    model), word-of-mouth networks (built in the step a region goes live, timed apart), steps (the rest of
    the run) and output (the tidy table and its Parquet bytes), in seconds per run."""
    from model import EcnyModel
    from model.engines.vectorized import VectorizedEngine
    from model.results import run_file_bytes
    from model.scenario import Scenario

    spent = {"population": 0.0, "networks": 0.0, "steps": 0.0, "output": 0.0}
    build = VectorizedEngine.build_networks

    def timed_build(self, regions):
        started = time.perf_counter()
        build(self, regions)
        spent["networks"] += time.perf_counter() - started

    VectorizedEngine.build_networks = timed_build
    for k, run in enumerate([runs[0], *runs]):
        if k == 1:  # the first was the warm-up
            spent = dict.fromkeys(spent, 0.0)
        scenario = Scenario.model_validate(run.scenario.resolved)
        started = time.perf_counter()
        model = EcnyModel(scenario, seed=run.seed)
        built = time.perf_counter()
        networks = spent["networks"]
        model.run()
        ran = time.perf_counter()
        run_file_bytes(model.timeseries(), run.run_id)
        spent["population"] += built - started
        spent["steps"] += ran - built - (spent["networks"] - networks)
        spent["output"] += time.perf_counter() - ran
    return {"mode": "parts", "runs": len(runs), **{k: v / len(runs) for k, v in spent.items()}}


def child(args: argparse.Namespace) -> dict:
    """One measurement in this (fresh) process; returns a JSON-ready dict."""
    from model.sweep import load_sweep, run_sweep
    from model.sweep.worker import RunTask, execute_run

    work = Path(args.work)
    begin = os.getloadavg()[0]
    sweep = load_sweep(sweep_file(work, args.runs, args.scale, args.end))
    if args.mode == "parts":
        return {**parts(list(sweep.runs())[: args.loop_runs]), **load(begin)}
    if args.mode == "loop":
        runs = list(sweep.runs())[: args.loop_runs]
        execute_run(RunTask(runs[0].run_id, runs[0].scenario.resolved, runs[0].seed))  # warm-up
        started = time.perf_counter()
        for run in runs:
            outcome = execute_run(RunTask(run.run_id, run.scenario.resolved, run.seed))
            (work / f"{run.run_id}.parquet").write_bytes(outcome.parquet)
        wall = time.perf_counter() - started
        return {"mode": "loop", "runs": len(runs), "wall": wall, "per_run": wall / len(runs), **load(begin)}
    sampler = Sampler(work / "out" / sweep.name / "runs")
    sampler.start()
    started, cpu = time.perf_counter(), time.process_time()
    folder = run_sweep(
        sweep, out=work / "out", workers=args.workers, scheduler=args.scheduler, progress=False
    )
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    sampler.stop.set()
    manifest = json.loads((folder / "manifest.json").read_text())
    early = [rss for done, rss in sampler.samples if done >= max(1, args.runs // 10)]
    return {
        "mode": args.mode,
        "runs": manifest["done"],
        "failed": len(manifest["failed"]),
        "wall": wall,
        "runs_per_minute": 60 * manifest["done"] / wall,
        "mean_run_seconds": manifest["mean_run_seconds"],
        "parent_cpu_per_run": cpu / max(manifest["done"], 1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_at_10pct_mb": early[0] if early else None,
        "rss_at_end_mb": rss_mb(),
        **load(begin),
    }


def start_cluster(workers: int, folder: Path) -> tuple[str, list[subprocess.Popen]]:
    """``dask scheduler`` and ``dask worker`` as separate processes on 127.0.0.1, dashboards off."""
    dask = Path(sys.executable).with_name("dask")
    scheduler_file = folder / "scheduler.json"
    log = open(folder / "cluster.log", "w")  # noqa: SIM115 - lives as long as the cluster
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
         scheduler_file],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not scheduler_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    address = json.loads(scheduler_file.read_text())["address"]
    worker = subprocess.Popen(
        [dask, "worker", address, "--host", "127.0.0.1", "--nworkers", str(workers), "--nthreads", "1",
         "--no-dashboard", "--memory-limit", "0"],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
    )  # fmt: skip
    from distributed import Client

    with Client(address, timeout="60s") as client:
        client.wait_for_workers(workers, timeout=120)
    return address, [worker, scheduler]


def measure(mode: str, args: argparse.Namespace, scheduler: str | None = None, tree: Path = ROOT) -> dict:
    """``mode`` measured in a fresh child process, by this tree's code or by ``tree`` (a reference)."""
    with tempfile.TemporaryDirectory(prefix=f"sweep-bench-{mode}-") as work:
        command = [sys.executable, "-m", "benchmarks.sweep_bench", "--child", mode, "--work", work]
        command += [
            "--runs",
            str(args.runs),
            "--workers",
            str(args.workers),
            "--loop-runs",
            str(args.loop_runs),
        ]
        if args.scale:
            command += ["--scale", str(args.scale)]
        if args.end:
            command += ["--end", args.end]
        if scheduler:
            command += ["--scheduler", scheduler]
        print(f"measuring {mode}{'' if tree == ROOT else ' by the reference'} ...", flush=True)
        env = {**os.environ, "PYTHONPATH": str(tree)}
        done = subprocess.run(command, cwd=tree, env=env, check=True, capture_output=True, text=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {json.dumps(result)}", flush=True)
        return result


def report(args: argparse.Namespace, results: dict[str, dict], command: str) -> str:
    loops = [results[k] for k in ("loop", "loop_end") if k in results]
    per_run = sum(r["per_run"] for r in loops) / len(loops) if loops else None
    lines = [
        "# Sweep benchmark",
        "",
        f"`{command}` -- {datetime.now(UTC).date()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average at start {args.load:.2f} (the machine is shared).",
        "",
        f"{args.runs} runs of the baseline (scale {args.scale or 'default (run.scale)'}"
        f"{', to ' + args.end if args.end else ''}), {args.workers} workers. The plain loop ran "
        f"{args.loop_runs} runs in one process (simulate + Parquet bytes + write, after one warm-up run). "
        "The 1-minute load average at the start and end of each measurement is in the raw results: with "
        "more than 2 on 2 CPUs, other work was competing for them.",
        "",
        "| executor | runs | wall (s) | runs/min | mean run in worker (s) | overhead/run vs loop (s) "
        "| of which executor (s) | parent CPU/run (ms) | parent peak RSS (MiB) "
        "| parent RSS at 10% / end (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def loop_row(label: str, loop: dict) -> str:
        return (
            f"| {label} | {loop['runs']} | {loop['wall']:.1f} | {60 / loop['per_run']:.1f} | "
            f"{loop['per_run']:.3f} | -- | -- | -- | -- | -- |"
        )

    for when, loop in zip(("first", "last"), loops, strict=False):
        lines.append(loop_row(f"plain loop (1 process), {when}", loop))
    before = results.get("reference_loop")
    if before:
        lines.append(loop_row(f"plain loop (1 process), before ({args.reference})", before))
    rows = (
        ("reference_pool", f"process pool, before ({args.reference})", before["per_run"] if before else None),
        ("pool", "process pool", per_run),
        ("dask", "Dask (scheduler + workers as processes)", per_run),
    )
    for mode, label, loop_seconds in rows:
        r = results.get(mode)
        if not r:
            continue
        slot = r["wall"] * args.workers / max(r["runs"], 1)
        overhead = f"{slot - loop_seconds:+.3f}" if loop_seconds else "--"
        executor = f"{slot - r['mean_run_seconds']:+.3f}"
        early = f"{r['rss_at_10pct_mb']:.0f}" if r["rss_at_10pct_mb"] else "--"
        memory = f"{r['peak_rss_mb']:.0f} | {early} / {r['rss_at_end_mb']:.0f}"
        lines.append(
            f"| {label} | {r['runs']} | {r['wall']:.1f} | {r['runs_per_minute']:.1f} | "
            f"{r['mean_run_seconds']:.3f} | {overhead} | {executor} | {1000 * r['parent_cpu_per_run']:.0f} | "
            f"{memory} |"
        )
    if "parts" in results:
        p = results["parts"]
        total = sum(p[k] for k in ("population", "networks", "steps", "output"))
        lines += [
            "",
            f"Where a run's time goes ({p['runs']} runs in one process after a warm-up, seconds per run):",
            "",
            "| population and agents | word-of-mouth networks | steps | output (table + Parquet) | total |",
            "|---|---|---|---|---|",
            f"| {p['population']:.3f} | {p['networks']:.3f} | {p['steps']:.3f} | {p['output']:.3f} "
            f"| {total:.3f} |",
        ]
    lines += [
        "",
        "Overhead per run = wall x workers / runs - loop seconds per run (the mean of the two loops): what "
        "a worker slot spends beyond "
        "a plain loop's run (dispatch, pickling, result transfer, the parent's atomic write, start-up, "
        "and contention for the CPUs). `mean run in worker` is the same run timed inside the worker; "
        "`of which executor` = wall x workers / runs - mean run in worker, the part that is not the run "
        "itself getting slower under contention. `parent CPU/run` is the sweep parent's CPU time (submit, "
        "collect, atomic write, progress) divided by the runs.",
        "",
        "Raw results:",
        "",
        "```json",
        json.dumps(results, indent=1),
        "```",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sweep_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--loop-runs", type=int, default=20, help="runs in the plain loop (default 20)")
    parser.add_argument("--scale", type=float, help="run.scale (default: the baseline's)")
    parser.add_argument("--end", help="run.end, e.g. 2021-12-31 (drops the lotteries)")
    parser.add_argument("--modes", default="parts,loop,pool,dask")
    parser.add_argument("--output", type=Path, default=RESULTS, help="markdown report (SWEEP_RESULTS.md)")
    parser.add_argument(
        "--reference",
        help="also measure the plain loop and the pool by this commit's code (a temporary git worktree), "
        "each just before this tree's, e.g. e56b9c1 (the engine before common random numbers)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--scheduler", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        args.mode = args.child
        print(json.dumps(child(args)))
        return 0
    args.load = os.getloadavg()[0]
    modes = args.modes.split(",")
    results = {}
    if "parts" in modes:
        results["parts"] = measure("parts", args)
    if "loop" in modes:
        results["loop"] = measure("loop", args)
    if args.reference:
        from benchmarks.engines import reference_tree

        with reference_tree(args.reference) as tree:
            if "loop" in modes:
                results["reference_loop"] = measure("loop", args, tree=tree)
            if "pool" in modes:
                results["reference_pool"] = measure("pool", args, tree=tree)
                results["pool"] = measure("pool", args)
    elif "pool" in modes:
        results["pool"] = measure("pool", args)
    if "dask" in modes:
        with tempfile.TemporaryDirectory(prefix="sweep-bench-cluster-") as folder:
            address, processes = start_cluster(args.workers, Path(folder))
            try:
                results["dask"] = measure("dask", args, scheduler=address)
            finally:
                for process in processes:
                    process.terminate()
                for process in processes:
                    process.wait(timeout=30)
    if "loop" in modes:  # again at the end: the load of a shared machine drifts
        results["loop_end"] = measure("loop", args)
    command = "python -m benchmarks.sweep_bench " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(args, results, command.strip())
    args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
