"""Running sweeps on the local process pool: streamed files, failures, resume, Ctrl-C and killed workers."""

from __future__ import annotations

import atexit
import dataclasses
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import BASELINE, ROOT, SCENARIOS, require_module

import model.sweep.execute as execute
from model.cli import InputError, main
from model.sweep import load_sweep, run_sweep
from model.sweep.store import SweepStore
from model.sweep.worker import RunTask, execute_run

SMOKE = SCENARIOS / "sweeps" / "smoke.toml"
# full horizon at a coarse scale: ~1.5 s a run, slow enough to interrupt mid-sweep
SLOW = f"""name = "slow"
base = "{BASELINE.as_posix()}"
replications = 2
root_seed = 5
[overrides]
run.scale = 1e6
[[vary]]
path = "banks.target_intensity"
values = [2.0]
"""
SLOW_RUNS = 4


def reference_bytes(run) -> bytes:
    """The run computed here, in this process, without any executor."""
    outcome = execute_run(RunTask(run.run_id, run.scenario.resolved, run.seed, run.key))
    assert outcome.ok, outcome.traceback
    return outcome.parquet


@functools.cache
def smoke_folder() -> Path:
    """The smoke sweep on 2 local worker processes, run once per session (other sweep tests read it)."""
    out = Path(tempfile.mkdtemp(prefix="sweep-smoke-"))
    atexit.register(shutil.rmtree, out, True)
    return run_sweep(SMOKE, out=out, workers=2, progress=False)


@pytest.fixture
def smoke() -> Path:
    return smoke_folder()


def test_every_run_is_streamed_to_its_own_file_byte_identical_to_a_plain_call(smoke):
    sweep = load_sweep(SMOKE)
    store = SweepStore(smoke)
    design = store.read_design()
    assert list(design["run_id"]) == [run.run_id for run in sweep.runs()]
    assert store.finished() == set(design["run_id"])
    for run in list(sweep.runs())[:: len(sweep.scenarios) + 1]:  # a few, across scenarios and seeds
        assert store.run_path(run.run_id).read_bytes() == reference_bytes(run)
    manifest = store.read_manifest()
    assert manifest["status"] == "complete" and manifest["done"] == sweep.size and manifest["failed"] == []
    assert manifest["executor"] == {"kind": "processes", "workers": 2}
    assert manifest["seeds"] == list(sweep.seeds)
    assert len(store.read_failures()) == 0
    assert not list(smoke.rglob("*.tmp"))


def test_paired_runs_differ_by_scenario_not_by_noise(smoke):
    """Same seed, same scenario gives the same run; another lever value changes it."""
    store = SweepStore(smoke)
    table = {
        r: pq.read_table(store.run_path(r)).to_pandas() for r in ("s000_r0000", "s001_r0000", "s000_r0001")
    }
    wallets = {
        r: t[(t["metric"] == "personal_wallets_opened") & (t["region"] == "national")]["value"].iloc[-1]
        for r, t in table.items()
    }
    assert wallets["s000_r0000"] != wallets["s001_r0000"]  # target intensity 0.5 vs 1
    assert wallets["s000_r0000"] != wallets["s000_r0001"]  # another replication


def test_an_existing_sweep_is_not_overwritten_without_resume_or_overwrite(smoke):
    with pytest.raises(InputError, match="--resume"):
        run_sweep(SMOKE, out=smoke.parent, workers=1, progress=False)


def test_resume_runs_only_what_is_missing(smoke, tmp_path):
    folder = tmp_path / "smoke"
    folder.mkdir()
    for item in ("design.parquet", "manifest.json"):
        (folder / item).write_bytes((smoke / item).read_bytes())
    (folder / "runs").mkdir()
    kept = ["s000_r0000", "s001_r0001", "s002_r0002"]
    for run_id in kept:
        (folder / "runs" / f"{run_id}.parquet").write_bytes(
            (smoke / "runs" / f"{run_id}.parquet").read_bytes()
        )
    stamps = {r: (folder / "runs" / f"{r}.parquet").stat().st_mtime_ns for r in kept}
    (folder / "runs" / ".s000_r0001.parquet.999.tmp").write_bytes(b"half a file")  # from a killed sweep
    run_sweep(SMOKE, out=tmp_path, workers=2, resume=True, progress=False)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["done_before"] == len(kept) and manifest["done"] == 9 - len(kept)
    assert {r: (folder / "runs" / f"{r}.parquet").stat().st_mtime_ns for r in kept} == stamps
    for path in (smoke / "runs").glob("*.parquet"):
        assert (folder / "runs" / path.name).read_bytes() == path.read_bytes()
    assert not list(folder.rglob("*.tmp"))


def test_resume_refuses_results_of_another_design(smoke, tmp_path):
    changed = tmp_path / "changed.toml"
    changed.write_text(
        SMOKE.read_text().replace("root_seed = 20240101", "root_seed = 1").replace('"../', f'"{SCENARIOS}/')
    )
    with pytest.raises(InputError, match="different sweep design"):
        run_sweep(changed, out=smoke.parent, workers=1, resume=True, progress=False)


@pytest.mark.slow
def test_a_failing_run_is_recorded_the_sweep_goes_on_and_exit_code_is_1(tmp_path, monkeypatch, capsys):
    sweep = load_sweep(SMOKE)
    broken = sweep.scenarios[1]
    bad = {**broken.resolved, "run": {**broken.resolved["run"], "scale": -1.0}}  # fails in the worker
    sweep = dataclasses.replace(
        sweep, scenarios=(sweep.scenarios[0], dataclasses.replace(broken, resolved=bad), *sweep.scenarios[2:])
    )
    monkeypatch.setattr("model.sweep.design.load_sweep", lambda path, progress=False: sweep)
    code = main(["sweep", str(SMOKE), "--out", str(tmp_path), "--workers", "2", "--quiet"])
    assert code == 1
    output = capsys.readouterr().out
    failed = [run.run_id for run in sweep.runs() if run.scenario.index == 1]
    store = SweepStore(tmp_path / "smoke")
    failures = store.read_failures()
    assert sorted(failures["run_id"]) == sorted(failed)
    assert failures["error"].str.contains("ValidationError").all()
    assert failures["traceback"].str.contains("Traceback").all()
    assert all(run_id in output for run_id in failed)
    assert store.finished() == {run.run_id for run in sweep.runs()} - set(failed)
    assert store.read_manifest()["status"] == "failed"
    # fixed: --resume runs the failed ones only, and the record of failures is cleared
    monkeypatch.undo()
    assert main(["sweep", str(SMOKE), "--out", str(tmp_path), "--workers", "2", "--quiet", "--resume"]) == 0
    assert store.finished() == {run.run_id for run in load_sweep(SMOKE).runs()}
    assert len(store.read_failures()) == 0
    assert store.read_manifest()["done"] == len(failed)


class CountingExecutor(ThreadPoolExecutor):
    """Threads instead of processes, counting how many submitted runs are not yet collected."""

    def __init__(self, poison: set[str] = frozenset()) -> None:
        super().__init__(max_workers=2)
        self.poison, self.outstanding, self.peak, self.lock = poison, 0, 0, threading.Lock()

    def submit(self, fn, task, *args, **kwargs):
        with self.lock:
            self.outstanding += 1
            self.peak = max(self.peak, self.outstanding)
        if task.run_id in self.poison:  # as if this run killed its worker process
            future: Future = Future()
            future.set_exception(BrokenProcessPool("a child process terminated abruptly"))
        else:
            future = super().submit(fn, task, *args, **kwargs)
        future.add_done_callback(lambda _: self._collected())
        return future

    def _collected(self) -> None:
        with self.lock:
            self.outstanding -= 1


def fake_pool(executors: list, poison: set[str] = frozenset()):
    @contextmanager
    def open_executor(workers=None, scheduler=None):
        executor = CountingExecutor(poison)
        executors.append(executor)
        with executor:
            yield executor

    return open_executor


def test_the_parent_keeps_a_bounded_window_of_runs_in_flight(tmp_path, monkeypatch):
    executors: list[CountingExecutor] = []
    monkeypatch.setattr(execute, "open_executor", fake_pool(executors))
    run_sweep(SMOKE, out=tmp_path, workers=1, progress=False)  # window = 2 x 1 worker
    assert len(executors) == 1
    assert executors[0].peak == 2
    assert len(SweepStore(tmp_path / "smoke").finished()) == 9


def test_a_run_that_keeps_killing_its_worker_is_isolated_and_recorded(tmp_path, monkeypatch):
    executors: list[CountingExecutor] = []
    monkeypatch.setattr(execute, "open_executor", fake_pool(executors, poison={"s001_r0000"}))
    monkeypatch.setattr("model.executors.default_workers", lambda: 2)
    folder = run_sweep(SMOKE, out=tmp_path, progress=False)
    store = SweepStore(folder)
    manifest = store.read_manifest()
    assert manifest["failed"] == ["s001_r0000"]
    assert "died" in store.read_failures()["error"].iloc[0]
    assert store.finished() == {run.run_id for run in load_sweep(SMOKE).runs()} - {"s001_r0000"}
    # one break with company, then MAX_STRIKES breaks alone: a new pool after each
    assert manifest["pool_restarts"] == len(executors) - 1 == execute.MAX_STRIKES + 1
    assert "s001_r0000" in manifest["retried"]


class DeadExecutor(CountingExecutor):
    """A pool that is broken from the start, as when something kills every new worker."""

    def submit(self, fn, task, *args, **kwargs):
        raise BrokenProcessPool("a child process terminated abruptly")


def test_a_pool_that_keeps_breaking_stops_the_sweep_cleanly(tmp_path, monkeypatch, capsys):
    @contextmanager
    def open_executor(workers=None, scheduler=None):
        with DeadExecutor() as executor:
            yield executor

    monkeypatch.setattr(execute, "open_executor", open_executor)
    assert main(["sweep", str(SMOKE), "--out", str(tmp_path), "--workers", "1", "--quiet"]) == 1
    assert "--resume" in capsys.readouterr().out
    manifest = SweepStore(tmp_path / "smoke").read_manifest()
    assert manifest["status"] == "stopped"
    assert manifest["pool_restarts"] == execute.MAX_STALLS
    assert manifest["remaining"] == 9 and manifest["failed"] == []


# ---------------------------------------------------------------- real processes, real signals


def start_sweep(path: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "run.py",
            "sweep",
            str(path),
            "--workers",
            "2",
            "--out",
            str(out),
            "--quiet",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a terminal job
    )


def wait_for_runs(store: SweepStore, process: subprocess.Popen, count: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while len(store.finished()) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.05)


def pool_workers(pid: int) -> list:
    """The live pool workers under `pid`: a child that has exited (a zombie not yet reaped) is not one."""
    psutil = require_module("psutil")

    def is_worker(child) -> bool:
        try:
            return "spawn_main" in " ".join(child.cmdline())
        except psutil.NoSuchProcess:  # ZombieProcess is one
            return False

    return [c for c in psutil.Process(pid).children(recursive=True) if is_worker(c)]


@pytest.mark.slow
def test_a_killed_worker_loses_no_run_and_the_sweep_completes(tmp_path):
    path = tmp_path / "slow.toml"
    path.write_text(SLOW)
    store = SweepStore(tmp_path / "out" / "slow")
    process = start_sweep(path, tmp_path / "out")
    try:
        wait_for_runs(store, process, 1)
        workers = pool_workers(process.pid)
        assert workers, "no pool worker found"
        before = len(store.finished())
        os.kill(workers[0].pid, signal.SIGKILL)
        assert before < SLOW_RUNS and process.poll() is None  # killed mid-sweep
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, err
    manifest = store.read_manifest()
    assert manifest["status"] == "complete" and manifest["pool_restarts"] >= 1 and manifest["retried"]
    sweep = load_sweep(path)
    assert store.finished() == {run.run_id for run in sweep.runs()}
    runs = {run.run_id: run for run in sweep.runs()}
    retried = manifest["retried"][0]  # a run cut off by the kill, run again: the same bytes
    assert store.run_path(retried).read_bytes() == reference_bytes(runs[retried])


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_an_interrupted_sweep_keeps_its_runs_and_resume_completes_it(tmp_path, stop):
    path = tmp_path / "slow.toml"
    path.write_text(SLOW)
    store = SweepStore(tmp_path / "out" / "slow")
    process = start_sweep(path, tmp_path / "out")
    try:
        wait_for_runs(store, process, 1)
        os.killpg(process.pid, stop)  # Ctrl-C reaches the whole foreground group
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    kept = {r: store.run_path(r).stat().st_mtime_ns for r in store.finished()}
    assert 1 <= len(kept) < SLOW_RUNS
    if stop == signal.SIGINT:
        assert process.returncode == 130
        assert store.read_manifest()["status"] == "interrupted"
    for run_id in kept:  # every file present is a whole run
        assert pq.read_metadata(store.run_path(run_id)).num_rows > 0
    # the pool workers of a killed parent may linger; end them (they are in the killed group)
    if stop == signal.SIGKILL:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "2", "--quiet"]) == 2
    assert (
        main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "2", "--quiet", "--resume"])
        == 0
    )
    manifest = store.read_manifest()
    assert manifest["status"] == "complete"
    assert manifest["done_before"] == len(kept) and manifest["done"] == SLOW_RUNS - len(kept)
    assert {r: store.run_path(r).stat().st_mtime_ns for r in kept} == kept  # not run again
    assert store.finished() == {run.run_id for run in load_sweep(path).runs()}
    assert not list(store.folder.rglob("*.tmp"))
    frame = pd.read_parquet(store.run_path(sorted(store.finished())[-1]))
    assert set(frame.columns) == {"date", "region", "metric", "value"}
