"""Engine benchmarks: ``python -m benchmarks`` (or ``make bench``) writes ``benchmarks/results.json`` and
``benchmarks/RESULTS.md``; ``--quick`` skips the slow parts and writes ``*-quick.*`` instead.

What is measured, each in a fresh Python process so that memory figures are the run's own:

1. Throughput: citizen-steps per second of both engines at 10k, 100k and 1M citizen agents on the baseline
   rules with word of mouth on the small-world network. Workload "all-live" is the baseline with every
   region live from the first week, so every citizen decides at every step (the heaviest case); workload
   "baseline" is the baseline scenario as it is (regions go live in waves). The scale is chosen so that
   the simulated regions hold the requested number of agents. The vectorized engine runs the whole horizon
   (300 weekly steps); the agent engine runs its first steps only (30 at 10k, 6 at 100k, 2 at 1M: the 1M
   figure and its whole-run time are extrapolated from those steps), and the speed-up compares both
   engines over the same first steps. Set-up (building the population, and the word-of-mouth graphs,
   which the vectorized engine otherwise builds in the step a region goes live) is timed apart from the
   steps. The vectorized engine's kernels are compiled by numba before anything is timed (item 5).
2. Peak memory per citizen: (peak resident memory - resident memory before the model was built) /
   citizen agents, the network, merchants, banks and every temporary of the steps included.
3. End to end: wall time of ``python run.py scenarios/baseline.toml`` at its default scale, from the
   interpreter's start to the last file written (Parquet, CSV, manifest, four plots).
4. Large run: ``python run.py benchmarks/footprint_2021.toml --scale 1``: the end-2021 pilot footprint
   (waves 1, 2 and olympic live, 3 and 4 never, no white lists), every one of its ~154 million residents an
   agent, April 2020 to December 2021; wall time and peak memory.
5. Old against new: the 1M-citizen all-live measurement of item 1, run alternately by this tree and by the
   reference (``--reference``, by default ``REFERENCE``, the engine before common random numbers, checked
   out in a temporary git worktree and run by the same interpreter), twice each; the best of each is
   compared. This tree's model has about 1.1 business agents per citizen (corporate wallets, B2B), the
   reference's about 0.05 merchant agents: the engines are judged on the same workload, this tree run with
   as many business agents as the reference had; the tree as it is is shown beside. Also the kernels' JIT
   compile time in a fresh numba cache, and the time to load them from the cache, each in a new process.

The machine may be shared (other work, other developers' test runs): the load average before and after is
recorded, step throughput is judged on the process's CPU time (wall time is shown beside it), and the end to
end time on the fastest of three runs (the median is shown too).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
FOOTPRINT = HERE / "footprint_2021.toml"
SIZES = (10_000, 100_000, 1_000_000)
AGENT_STEPS = {10_000: 30, 100_000: 10, 1_000_000: 2}
QUICK_AGENT_STEPS = {10_000: 10, 100_000: 3}
GIB = 2**30

REFERENCE = "e56b9c1"  # main before common random numbers: the numpy engine of the first build
TARGETS = {
    "speedup_100k": ("vectorized / agent engine citizen-steps per second at 100k citizens", ">=", 100.0),
    "ns_per_citizen_step_1m": (
        "ns per citizen-step at 1M citizens with word of mouth (all live)",
        "<=",
        50.0,
    ),
    "bytes_per_citizen": ("peak memory per citizen, network included (1M citizens, all live)", "<=", 64.0),
    "ns_vs_reference": (
        "ns per citizen-step at 1M citizens, this engine / the reference's, same citizen and business agents",
        "<=",
        1.2,
    ),
    "baseline_end_to_end_s": ("baseline at the default scale, end to end (s, fastest run)", "<", 5.0),
    "large_peak_gib": ("end-2021 footprint at scale 1, peak memory (GiB)", "<", 24.0),
}


# ---------------------------------------------------------------- in the child process


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def workload(name: str) -> dict[str, Any]:
    """Scenario overrides of a workload: "baseline" as it is, or "all-live" (every region live at once)."""
    if name == "baseline":
        return {}
    from model.domain import region_names
    from model.scenario import load_scenario

    start = load_scenario(BASELINE).run.start.isoformat()
    return {"pilot.region_start": dict.fromkeys(region_names(), start)}


def throughput(
    engine: str, citizens: int, name: str, steps: int | None, business_agents: int | None = None
) -> dict[str, Any]:
    """Build a model of about ``citizens`` agents, time set-up and each step (run in a child process).

    ``business_agents``: about that many business agents instead of the scenario's resolution, so that a
    tree whose model holds more businesses can be timed on the reference's workload (item 5). The
    resolution this takes (below the scenario's bound of 1) is set on the validated scenario directly.
    """
    import numpy as np

    from model import EcnyModel, load_scenario

    scenario = load_scenario(BASELINE, workload(name))
    probe = EcnyModel(scenario, scale=1e12)  # compiles (or loads) the kernels, if the engine has any
    probe.step()  # one agent per simulated region: which regions hold agents
    simulated = float(probe.populations[np.diff(probe.citizens.offsets) > 0].sum())
    del probe
    scale = simulated / citizens
    if business_agents:
        p = scenario.population
        businesses = simulated * p.businesses_per_resident
        resolution = scale * business_agents / businesses  # business agents = businesses * res / scale
        scenario = scenario.model_copy(
            update={"population": p.model_copy(update={"business_resolution": resolution})}
        )
    before = _rss()
    started = time.perf_counter()
    model = EcnyModel(scenario, scale=scale, engine=engine)
    build = time.perf_counter() - started
    network = 0.0
    if engine == "vectorized" and name == "all-live":
        started = time.perf_counter()
        model.engine.build_networks(np.ones(len(model.region_names), np.bool_))
        network = time.perf_counter() - started
    seconds, cpu = [], []
    for _ in range(steps or len(model.dates)):
        started, started_cpu = time.perf_counter(), time.process_time()
        model.step()
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return {
        "engine": engine,
        "workload": name,
        "citizens": len(model.citizens),
        "merchants": len(getattr(model, "businesses", None) or model.merchants),
        "scale": model.scale,
        "horizon_steps": len(model.dates),
        "build_seconds": build,
        "network_seconds": network,
        "step_seconds": seconds,
        "step_cpu_seconds": cpu,
        "rss_before_bytes": before,
        "peak_rss_bytes": _peak(),
        "engine_bytes": model.engine.memory_bytes() if engine == "vectorized" else None,
    }


# ---------------------------------------------------------------- in the parent process


def compile_times() -> dict[str, float]:
    """In a child: seconds to compile the kernels into an empty cache (``NUMBA_CACHE_DIR``) and run a step."""
    started = time.perf_counter()
    from model import EcnyModel, load_scenario

    imported = time.perf_counter()
    EcnyModel(load_scenario(BASELINE), scale=1e7).step()
    return {"import_seconds": imported - started, "first_step_seconds": time.perf_counter() - imported}


def child(spec: dict[str, Any], timeout: float = 7200, tree: Path = ROOT, env=None) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.engines", "--child", json.dumps(spec)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"benchmark child {spec} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def command(argv: list[str]) -> dict[str, Any]:
    """Run a command; its wall time, exit code, peak resident memory and output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # the child's own peak memory: RUSAGE_CHILDREN holds the largest child so far, so run big ones first
    return {
        "argv": argv,
        "seconds": wall,
        "cpu_seconds": cpu,
        "returncode": proc.returncode,
        "peak_rss_bytes": after.ru_maxrss * 1024,
        "stdout": out,
        "stderr": err[-2000:],
    }


def rates(result: dict[str, Any], steps: int | None = None) -> dict[str, float]:
    """Throughput over the first ``steps`` timed steps (all by default), by CPU time and by wall time.

    CPU time (``time.process_time``) is the figure judged: it does not count the time the process waits
    for a core, which on a shared machine can be most of the wall time.
    """
    cpu = result["step_cpu_seconds"][:steps] if steps else result["step_cpu_seconds"]
    wall = result["step_seconds"][: len(cpu)]
    citizen_steps = result["citizens"] * len(cpu)
    return {
        "steps": len(cpu),
        "seconds": sum(cpu),
        "wall_seconds": sum(wall),
        "citizen_steps_per_second": citizen_steps / sum(cpu),
        "ns_per_citizen_step": 1e9 * sum(cpu) / citizen_steps,
        "wall_ns_per_citizen_step": 1e9 * sum(wall) / citizen_steps,
        "bytes_per_citizen": (result["peak_rss_bytes"] - result["rss_before_bytes"]) / result["citizens"],
    }


def machine() -> dict[str, Any]:
    import matplotlib
    import mesa
    import numba
    import numpy
    import pandas
    import pyarrow

    info: dict[str, Any] = {"cpu_model": platform.processor() or "?", "cores": os.cpu_count()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in lscpu.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                info["cpu_model"] = value.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    with open("/proc/meminfo") as handle:
        total_kb = int(handle.readline().split()[1])
    info["ram_gib"] = round(total_kb / 2**20, 1)
    info.update(
        python=platform.python_version(),
        numpy=numpy.__version__,
        mesa=mesa.__version__,
        pandas=pandas.__version__,
        pyarrow=pyarrow.__version__,
        matplotlib=matplotlib.__version__,
        numba=numba.__version__,
        platform=platform.platform(),
    )
    return info


def end_to_end(repeats: int) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    try:
        runs = [
            command([sys.executable, "run.py", str(BASELINE.relative_to(ROOT)), "--quiet", "--out", str(out)])
            for _ in range(repeats)
        ]
    finally:
        shutil.rmtree(out, ignore_errors=True)
    for run in runs:
        if run["returncode"]:
            raise RuntimeError(f"run.py failed: {run['stderr']}")
    seconds = sorted(r["seconds"] for r in runs)
    return {
        "command": "python run.py scenarios/baseline.toml --quiet",
        "runs_seconds": [r["seconds"] for r in runs],
        "runs_cpu_seconds": [r["cpu_seconds"] for r in runs],
        "median_seconds": seconds[len(seconds) // 2],
        "min_seconds": seconds[0],
        "report": runs[-1]["stdout"].strip(),
    }


def large_run(scale: float) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="bench-large-"))
    try:
        argv = [
            sys.executable,
            "run.py",
            str(FOOTPRINT.relative_to(ROOT)),
            "--scale",
            f"{scale:g}",
            "--quiet",
        ]
        run = command([*argv, "--out", str(out)])
        if run["returncode"]:
            raise RuntimeError(f"large run failed: {run['stderr']}")
        info = json.loads((out / "footprint_2021" / "manifest.json").read_text())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {
        "command": " ".join(["python", *argv[1:]]),
        "scale": scale,
        "citizens": info["citizen_agents"],
        "merchants": info.get("business_agents", info.get("merchant_agents")),
        "steps": info["steps"],
        "seconds": run["seconds"],
        "cpu_seconds": run["cpu_seconds"],
        "simulate_seconds": info["wall_seconds"],
        "peak_rss_bytes": run["peak_rss_bytes"],
        "peak_gib": run["peak_rss_bytes"] / GIB,
        "bytes_per_citizen": run["peak_rss_bytes"] / info["citizen_agents"],
        "report": run["stdout"].strip(),
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "load_before": os.getloadavg(),
    }
    if not args.skip_large:
        # first: RUSAGE_CHILDREN reports the largest child so far, and this is the largest
        print(f"large run at scale {args.large_scale:g} ...", file=sys.stderr, flush=True)
        results["large"] = large_run(args.large_scale)
    print("end to end ...", file=sys.stderr, flush=True)
    results["end_to_end"] = end_to_end(1 if args.quick else args.repeats)
    agent_steps = QUICK_AGENT_STEPS if args.quick else AGENT_STEPS
    rows = []
    for n in SIZES:
        for engine, name, steps in (
            ("vectorized", "all-live", None),
            ("vectorized", "baseline", None),
            ("agents", "all-live", agent_steps.get(n)),
        ):
            if engine == "agents" and (args.skip_agents or steps is None):
                continue
            print(f"{engine} {name} {n:,} ...", file=sys.stderr, flush=True)
            result = child({"engine": engine, "citizens": n, "workload": name, "steps": steps})
            result.update(rates(result))
            rows.append(result)
    results["throughput"] = rows
    if not args.skip_reference:
        results["reference"] = against_reference(args.reference)
    results["jit"] = jit_times()
    results["load_after"] = os.getloadavg()
    results["targets"] = judge(results)
    return results


@contextmanager
def reference_tree(reference: str) -> Iterator[Path]:
    """A folder holding the reference's code: ``reference`` itself, or a temporary worktree of that commit."""
    if Path(reference).is_dir():
        yield Path(reference)
        return
    folder = Path(tempfile.mkdtemp(prefix="bench-reference-"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(folder), reference],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        yield folder
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, check=False, capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)


def against_reference(reference: str, repeats: int = 2) -> dict[str, Any]:
    """The 1M all-live measurement by the reference and by this tree, alternately, ``repeats`` times each.

    This tree is run twice per repeat: as it is ("this": its model has about 1.1 business agents per
    citizen, for the corporate wallets and B2B payments the reference lacks) and on the reference's
    workload ("same": as many business agents as the reference had merchant agents in that repeat), which
    is the engine comparison item 5 judges.
    """
    spec = {"engine": "vectorized", "citizens": 1_000_000, "workload": "all-live", "steps": None}
    runs: dict[str, list[dict[str, Any]]] = {"reference": [], "this": [], "same": []}
    with reference_tree(reference) as tree:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True, check=False
            ).stdout.strip()
            or reference
        )
        for k in range(repeats):
            for label, where in (("reference", tree), ("this", ROOT)):
                print(f"{label} 1M all-live, run {k + 1} ...", file=sys.stderr, flush=True)
                result = child(spec, tree=where)
                result.update(rates(result))
                runs[label].append(result)
            print(f"this tree on the reference's workload, run {k + 1} ...", file=sys.stderr, flush=True)
            result = child({**spec, "business_agents": runs["reference"][-1]["merchants"]})
            result.update(rates(result))
            runs["same"].append(result)
    best = {label: min(rows, key=lambda r: r["ns_per_citizen_step"]) for label, rows in runs.items()}
    return {"commit": commit, "runs": runs, "best": best}


def jit_times() -> dict[str, float]:
    """Compile the kernels into an empty numba cache, then load them from it, each in a fresh process."""
    cache = Path(tempfile.mkdtemp(prefix="bench-numba-"))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    try:
        cold = child({"compile": True}, env=env)
        warm = child({"compile": True}, env=env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {
        "compile_seconds": cold["first_step_seconds"],
        "cached_seconds": warm["first_step_seconds"],
        "import_seconds": warm["import_seconds"],
    }


def _find(rows, engine: str, n: int, name: str = "all-live"):
    for row in rows:
        if row["engine"] == engine and row["workload"] == name and abs(row["citizens"] - n) < 0.01 * n:
            return row
    return None


def judge(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows = results["throughput"]
    measured: dict[str, float | None] = dict.fromkeys(TARGETS)
    vec, agents = _find(rows, "vectorized", 100_000), _find(rows, "agents", 100_000)
    if vec and agents:
        matched = rates(vec, agents["steps"])  # the same first steps for both engines
        measured["speedup_100k"] = matched["citizen_steps_per_second"] / agents["citizen_steps_per_second"]
    big = _find(rows, "vectorized", 1_000_000)
    if big:
        measured["ns_per_citizen_step_1m"] = big["ns_per_citizen_step"]
        measured["bytes_per_citizen"] = big["bytes_per_citizen"]
    if "reference" in results:
        best = results["reference"]["best"]
        measured["ns_vs_reference"] = (
            best["same"]["ns_per_citizen_step"] / best["reference"]["ns_per_citizen_step"]
        )
    measured["baseline_end_to_end_s"] = results["end_to_end"]["min_seconds"]
    if "large" in results:
        measured["large_peak_gib"] = results["large"]["peak_gib"]
    verdicts = {}
    for key, (what, op, limit) in TARGETS.items():
        value = measured[key]
        ok = None if value is None else {"<": value < limit, "<=": value <= limit, ">=": value >= limit}[op]
        verdicts[key] = {"what": what, "target": f"{op} {limit:g}", "measured": value, "met": ok}
    return verdicts


# ---------------------------------------------------------------- report


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Engine benchmarks",
        "",
        f"Written by `python -m benchmarks{' --quick' if results['quick'] else ''}` on {results['when']}.",
        "How each figure is measured: the docstring of `benchmarks/engines.py`.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu_model']}, {m['cores']} cores |",
        f"| RAM | {m['ram_gib']} GiB |",
        f"| Python | {m['python']} |",
        f"| numpy / mesa / pandas / pyarrow / matplotlib | {m['numpy']} / {m['mesa']} / {m['pandas']} / "
        f"{m['pyarrow']} / {m['matplotlib']} |",
        f"| numba | {m['numba']} |",
        f"| load average (1, 5, 15 min) before / after | {_load(results['load_before'])} / "
        f"{_load(results['load_after'])} |",
        "",
        "## Targets",
        "",
        "| target | required | measured | met |",
        "|---|---|---|---|",
    ]
    for verdict in results["targets"].values():
        value = verdict["measured"]
        shown = "not measured" if value is None else f"{value:,.3g}" if value < 1000 else f"{value:,.0f}"
        met = {True: "yes", False: "**no**", None: "-"}[verdict["met"]]
        lines.append(f"| {verdict['what']} | {verdict['target']} | {shown} | {met} |")
    lines += [
        "",
        "## Throughput",
        "",
        "Baseline rules, word of mouth on the small-world network (degree 8, rewiring 0.1). Set-up: "
        "population, agents and, for the vectorized engine under all-live, the word-of-mouth graphs (wall "
        "time). Per step: CPU time of the process (what the targets are judged on), and wall time, which "
        "also counts waiting for a core while other work shares the machine.",
        "",
        "| engine | workload | citizens | set-up s | steps timed | CPU s per step | citizen-steps/s "
        "| ns per citizen-step | wall ns per citizen-step | peak bytes per citizen |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["throughput"]:
        setup = row["build_seconds"] + row["network_seconds"]
        steps = f"{row['steps']} of {row['horizon_steps']}"
        lines.append(
            f"| {row['engine']} | {row['workload']} | {row['citizens']:,} | {setup:.2f} | {steps} "
            f"| {row['seconds'] / row['steps']:.4g} | {row['citizen_steps_per_second']:,.0f} "
            f"| {row['ns_per_citizen_step']:,.1f} | {row['wall_ns_per_citizen_step']:,.1f} "
            f"| {row['bytes_per_citizen']:,.0f} |"
        )
    lines += ["", "Speed-up of the vectorized engine over the agent engine, over the same first steps:", ""]
    lines += ["| citizens | steps | agents citizen-steps/s | vectorized citizen-steps/s | speed-up |"]
    lines += ["|---|---|---|---|---|"]
    for n in SIZES:
        vec, agents = _find(results["throughput"], "vectorized", n), _find(results["throughput"], "agents", n)
        if vec and agents:
            matched = rates(vec, agents["steps"])
            lines.append(
                f"| {n:,} | {agents['steps']} | {agents['citizen_steps_per_second']:,.0f} "
                f"| {matched['citizen_steps_per_second']:,.0f} "
                f"| {matched['citizen_steps_per_second'] / agents['citizen_steps_per_second']:,.0f}x |"
            )
    agents_1m = _find(results["throughput"], "agents", 1_000_000)
    if agents_1m:
        whole = agents_1m["wall_seconds"] / agents_1m["steps"] * agents_1m["horizon_steps"]
        lines += [
            "",
            f"The agent engine at 1M citizens is extrapolated from {agents_1m['steps']} steps: a whole "
            f"{agents_1m['horizon_steps']}-step run would take about {whole / 3600:.1f} hours "
            f"(set-up {agents_1m['build_seconds']:.0f} s).",
        ]
    if "reference" in results:
        ref = results["reference"]
        lines += [
            "",
            f"## Old against new (reference: `{ref['commit']}`)",
            "",
            "1M citizen agents, all live, word of mouth, 300 weekly steps; the trees run alternately, twice "
            "each, in the same benchmark run; the best of each is compared. This tree runs twice a repeat: "
            "as it is, with the business agents its corporate wallets and B2B payments need, and on the "
            "reference's workload, with as many business agents as the reference had merchant agents.",
            "",
            "| engine | run | citizen agents | business agents | ns per citizen-step (CPU) "
            "| wall ns per citizen-step | peak bytes per citizen | engine bytes per citizen |",
            "|---|---|---|---|---|---|---|---|",
        ]
        names = {
            "reference": f"reference ({ref['commit']})",
            "same": "this tree, reference's workload",
            "this": "this tree, as it is",
        }
        for label, name in names.items():
            for k, row in enumerate(ref["runs"].get(label, []), 1):
                engine_bytes = row.get("engine_bytes")
                per = f"{engine_bytes / row['citizens']:.1f}" if engine_bytes else "-"
                lines.append(
                    f"| {name} | {k} | {row['citizens']:,} | {row['merchants']:,} "
                    f"| {row['ns_per_citizen_step']:.2f} | {row['wall_ns_per_citizen_step']:.2f} "
                    f"| {row['bytes_per_citizen']:.0f} | {per} |"
                )
        best = ref["best"]
        same = best["same"]["ns_per_citizen_step"] / best["reference"]["ns_per_citizen_step"]
        whole = best["this"]["ns_per_citizen_step"] / best["reference"]["ns_per_citizen_step"]
        lines += [
            "",
            f"Best against best: on the reference's workload this tree takes {same:.2f}x the reference's "
            f"time per citizen-step; as it is, with its business agents, {whole:.2f}x.",
        ]
    if "jit" in results:
        jit = results["jit"]
        lines += [
            "",
            "## JIT compilation (numba)",
            "",
            "First step of a fresh process with an empty numba cache: "
            f"{jit['compile_seconds']:.1f} s (compiling the kernels); with the cache filled: "
            f"{jit['cached_seconds']:.2f} s (loading them); importing the package: "
            f"{jit['import_seconds']:.2f} s. The cache lives in `model/__pycache__/numba-<hash of the "
            "compiled sources>/`, so a change to any of them compiles afresh.",
        ]
    e2e = results["end_to_end"]
    lines += [
        "",
        "## End to end",
        "",
        f"`{e2e['command']}`: fastest {e2e['min_seconds']:.2f} s, median {e2e['median_seconds']:.2f} s over "
        f"{len(e2e['runs_seconds'])} runs (wall time from the interpreter's start to the last file: Parquet, "
        f"CSV, manifest, 4 plots); CPU time {min(e2e['runs_cpu_seconds']):.2f} s at the fastest.",
        "",
        f"    {e2e['report']}",
    ]
    if "large" in results:
        big = results["large"]
        lines += [
            "",
            "## Large run: the end-2021 pilot footprint",
            "",
            f"`{big['command']}`: {big['citizens']:,} citizen agents and {big['merchants']:,} merchant "
            f"agents (scale {big['scale']:g}), {big['steps']} weekly steps: "
            f"{big['seconds'] / 60:.1f} minutes end to end ({big['simulate_seconds']:.0f} s building and "
            f"simulating; {big['cpu_seconds'] / 60:.1f} CPU minutes), peak memory "
            f"{big['peak_gib']:.2f} GiB ({big['bytes_per_citizen']:.0f} bytes per citizen, interpreter and "
            "libraries included).",
            "",
            f"    {big['report']}",
        ]
    return "\n".join(lines) + "\n"


def _load(values) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats, no large run")
    parser.add_argument("--skip-agents", action="store_true", help="no agent-engine runs")
    parser.add_argument("--skip-large", action="store_true", help="no end-2021 footprint run")
    parser.add_argument("--large-scale", type=float, default=1.0, help="residents per agent (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="end-to-end runs (default 3)")
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write (default benchmarks/)")
    parser.add_argument(
        "--reference", default=REFERENCE, help=f"commit (or folder) to compare against (default {REFERENCE})"
    )
    parser.add_argument("--skip-reference", action="store_true", help="no old-against-new comparison")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        if spec.get("compile"):
            print(json.dumps(compile_times()))
            return 0
        work = (
            spec["engine"],
            spec["citizens"],
            spec["workload"],
            spec["steps"],
            spec.get("business_agents"),
        )
        print(json.dumps(throughput(*work)))
        return 0
    if args.quick:
        args.skip_large = True
    results = measure(args)
    suffix = "-quick" if args.quick else ""
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / f"results{suffix}.json").write_text(json.dumps(results, indent=2) + "\n")
    report = markdown(results)
    (args.out_dir / f"RESULTS{suffix}.md").write_text(report)
    print(report)
    return 0 if all(v["met"] is not False for v in results["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
