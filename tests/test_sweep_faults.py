"""What a fault test of sweeps found, each fixed: run files that ``--resume`` must not trust, two sweeps on
one folder, a lost or empty Dask cluster, orphaned pool workers, SIGTERM and a second Ctrl-C, a missing
design, stale temporary files, unbounded designs and worker counts.

Real parts throughout: real process pools, a real ``dask scheduler`` and ``dask worker`` on 127.0.0.1,
real signals. Each test gets its own copy of the smoke sweep's finished runs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT, SCENARIOS, require_module
from test_sweep_run import SLOW, pool_workers, reference_bytes, smoke_folder, start_sweep, wait_for_runs

import model.executors as executors
from model.atomic import exclusive
from model.cli import main
from model.errors import EnvironmentFault, InputError
from model.sweep import load_sweep, run_sweep
from model.sweep.store import SweepStore

SMOKE = SCENARIOS / "sweeps" / "smoke.toml"


@pytest.fixture
def finished(tmp_path) -> Path:
    """A copy of the finished smoke sweep, ``tmp_path/smoke``."""
    folder = tmp_path / "smoke"
    shutil.copytree(smoke_folder(), folder)
    return folder


def resume(folder: Path, **kwargs) -> Path:
    return run_sweep(SMOKE, out=folder.parent, workers=2, resume=True, progress=False, **kwargs)


def reference(run_id: str) -> bytes:
    run = next(r for r in load_sweep(SMOKE).runs() if r.run_id == run_id)
    return reference_bytes(run)


# ---------------------------------------------------------------- run files --resume must not trust


def test_a_run_file_with_a_flipped_byte_is_set_aside_and_run_again(finished):
    path = finished / "runs" / "s001_r0001.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x40  # inside the data pages
    path.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="s001_r0001: (damaged|unreadable)"):
        resume(finished)
    assert path.read_bytes() == reference("s001_r0001")
    assert len(list((finished / "rejected").glob("s001_r0001.*.parquet"))) == 1
    assert SweepStore(finished).read_manifest()["done"] == 1


def test_another_runs_valid_file_is_set_aside(finished):
    (finished / "runs" / "s002_r0000.parquet").write_bytes(
        (finished / "runs" / "s000_r0000.parquet").read_bytes()
    )
    with pytest.warns(UserWarning, match="s002_r0000: another run's file"):
        resume(finished)
    assert (finished / "runs" / "s002_r0000.parquet").read_bytes() == reference("s002_r0000")


def test_a_valid_parquet_of_another_schema_is_set_aside(finished):
    pq.write_table(pa.table({"x": [1.0, 2.0]}), finished / "runs" / "s000_r0002.parquet")
    with pytest.warns(UserWarning, match="s000_r0002: not a run's table"):
        resume(finished)
    assert (finished / "runs" / "s000_r0002.parquet").read_bytes() == reference("s000_r0002")


@pytest.mark.slow
def test_a_missing_design_is_rebuilt_and_the_runs_checked_against_it(finished):
    (finished / "design.parquet").unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in (finished / "runs").glob("*.parquet")}
    resume(finished)
    assert (finished / "design.parquet").is_file()
    assert {p.name: p.stat().st_mtime_ns for p in (finished / "runs").glob("*.parquet")} == kept
    assert SweepStore(finished).read_manifest()["done_before"] == 9
    (finished / "design.parquet").unlink()
    run_sweep(SMOKE, out=finished.parent, workers=2, overwrite=True, progress=False)  # and overwrite works
    assert SweepStore(finished).read_manifest()["done"] == 9


def test_stale_temporary_files_of_a_killed_sweep_are_removed(finished):
    for name in (".design.parquet.123.tmp", ".manifest.json.123.tmp", "runs/.s000_r0000.parquet.9.tmp"):
        (finished / name).write_bytes(b"half")
    resume(finished)
    assert not list(finished.rglob("*.tmp"))


# ---------------------------------------------------------------- one sweep per folder


def test_a_second_sweep_on_a_folder_in_use_is_refused_naming_the_holder(finished, capsys):
    with exclusive(finished, {"sweep": "scenarios/sweeps/other.toml"}):
        with pytest.raises(
            InputError, match=rf"in use by pid {os.getpid()} on .* \(scenarios/sweeps/other.toml\)"
        ):
            resume(finished)
        argv = ["sweep", str(SMOKE), "--out", str(finished.parent), "--resume", "--quiet"]
        assert main(argv) == 2
        assert f"in use by pid {os.getpid()}" in capsys.readouterr().err
    resume(finished)  # released: the next sweep goes ahead


@pytest.mark.slow
def test_two_sweeps_started_at_once_do_not_both_run(tmp_path):
    path = tmp_path / "slow.toml"
    path.write_text(SLOW)
    first = start_sweep(path, tmp_path / "out")
    try:
        store = SweepStore(tmp_path / "out" / "slow")
        deadline = time.monotonic() + 60
        while not (store.folder / ".lock").exists() or "pid" not in (store.folder / ".lock").read_text():
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        second = subprocess.run(
            [
                sys.executable,
                "run.py",
                "sweep",
                str(path),
                "--out",
                str(tmp_path / "out"),
                "--resume",
                "--quiet",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 2 and f"in use by pid {first.pid}" in second.stderr
        assert first.wait(timeout=180) == 0
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)


# ---------------------------------------------------------------- limits


def test_more_workers_than_cpus_are_capped_with_a_warning(tmp_path, capsys, monkeypatch):
    seen = []
    real = executors.open_executor

    def spy(workers=None, scheduler=None):
        seen.append(workers)
        return real(workers=workers, scheduler=scheduler)

    monkeypatch.setattr("model.sweep.execute.open_executor", spy)
    assert main(["sweep", str(SMOKE), "--out", str(tmp_path), "--workers", "1000", "--quiet"]) == 0
    cpus = os.cpu_count()
    assert seen and set(seen) == {cpus}
    assert f"warning: --workers 1000: this machine has {cpus} CPUs; using {cpus}" in capsys.readouterr().err


# ---------------------------------------------------------------- Dask: a lost scheduler, no workers


class Cluster:
    """A ``dask scheduler`` (and optionally workers) started as separate processes on 127.0.0.1."""

    def __init__(self, folder: Path, workers: int) -> None:
        self.dask = str(Path(sys.executable).with_name("dask"))
        self.folder, self.processes = folder, []
        file = folder / "scheduler.json"
        self.scheduler = self._start(
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(file),
            ]
        )
        deadline = time.monotonic() + 60
        while not file.exists():
            assert self.scheduler.poll() is None and time.monotonic() < deadline, "no scheduler"
            time.sleep(0.1)
        self.address = json.loads(file.read_text())["address"]
        for _ in range(workers):
            self._start(["worker", self.address, "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard"])
        if workers:
            with require_module("distributed").Client(self.address, timeout="30s") as client:
                client.wait_for_workers(workers, timeout=60)

    def _start(self, args: list[str]) -> subprocess.Popen:
        log = (self.folder / f"{args[0]}{len(self.processes)}.log").open("w")
        process = subprocess.Popen([self.dask, *args], stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


@pytest.mark.slow
def test_a_scheduler_killed_mid_sweep_stops_it_in_bounded_time_keeping_the_runs(tmp_path):
    require_module("distributed")
    cluster = Cluster(tmp_path, workers=1)
    path = tmp_path / "slow.toml"
    path.write_text(SLOW)
    store = SweepStore(tmp_path / "out" / "slow")
    sweep = start_sweep(path, tmp_path / "out", "--scheduler", cluster.address)
    try:
        wait_for_runs(store, sweep, 1, timeout=120)
        cluster.scheduler.kill()
        killed = time.monotonic()
        out, err = sweep.communicate(timeout=60)
        stopped = time.monotonic() - killed
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
        cluster.stop()
    assert sweep.returncode == 3, err
    assert "lost the Dask scheduler" in err and "--resume" in err and stopped < 30
    manifest = store.read_manifest()
    assert manifest["status"] == "interrupted"
    assert len(store.finished()) >= 1 and manifest["failed"] == []  # the lost runs are not "failed"
    for run_id in store.finished():
        assert pq.read_metadata(store.run_path(run_id)).num_rows > 0


@pytest.mark.slow
def test_a_cluster_without_workers_is_warned_about_and_given_up_on(tmp_path, monkeypatch):
    require_module("distributed")
    monkeypatch.setattr(executors, "NO_WORKERS_SECONDS", 3.0)
    cluster = Cluster(tmp_path, workers=0)
    try:
        started = time.monotonic()
        with pytest.warns(UserWarning, match="has no workers"), pytest.raises(EnvironmentFault) as info:
            run_sweep(SMOKE, out=tmp_path / "out", scheduler=cluster.address, progress=False)
        assert time.monotonic() - started < 60
    finally:
        cluster.stop()
    assert "has had no workers for 3 s" in str(info.value) and "--resume" in str(info.value)
    assert SweepStore(tmp_path / "out" / "smoke").read_manifest()["status"] == "interrupted"


# ---------------------------------------------------------------- the parent's death, SIGTERM, Ctrl-C twice


def gone(pids: list[int], within: float) -> bool:
    psutil = require_module("psutil")
    deadline = time.monotonic() + within

    def alive(pid: int) -> bool:
        try:  # a worker may exit between the two questions
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def running_sweep(tmp_path: Path) -> tuple[subprocess.Popen, list[int]]:
    path = tmp_path / "slow.toml"
    path.write_text(SLOW)
    process = start_sweep(path, tmp_path / "out")
    store = SweepStore(tmp_path / "out" / "slow")
    deadline = time.monotonic() + 60
    while len(pool_workers(process.pid)) < 2 or not store.manifest_path.exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    return process, [w.pid for w in pool_workers(process.pid)]


@pytest.mark.slow
def test_pool_workers_die_with_a_killed_parent(tmp_path):
    process, workers = running_sweep(tmp_path)
    process.send_signal(signal.SIGKILL)  # the parent only, as the OOM killer would
    process.wait(timeout=10)
    try:
        assert gone(workers, within=10), "pool workers outlived their parent"
    finally:
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.mark.slow
def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    process, workers = running_sweep(tmp_path)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "interrupted" in err
    assert SweepStore(tmp_path / "out" / "slow").read_manifest()["status"] == "interrupted"
    assert gone(workers, within=10)


@pytest.mark.slow
def test_a_second_ctrl_c_during_shutdown_always_exits(tmp_path):
    for attempt in range(3):
        folder = tmp_path / f"try{attempt}"
        folder.mkdir()
        process, workers = running_sweep(folder)
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        time.sleep(0.05 * attempt)
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"attempt {attempt}: a second Ctrl-C left the sweep hanging")
        assert process.returncode == 130
        assert gone(workers, within=10)
