"""Sweeps on Dask: an in-process LocalCluster and a scheduler and worker started as separate processes, both
on 127.0.0.1 only; the per-run files must be byte-identical to the process pool's."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, SCENARIOS, require_module
from test_sweep_run import smoke_folder

from model.sweep import load_sweep, run_sweep
from model.sweep.store import SweepStore

distributed = require_module("distributed")
pytestmark = pytest.mark.slow

SMOKE = SCENARIOS / "sweeps" / "smoke.toml"


def run_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "runs").glob("*.parquet"))}


@pytest.fixture(scope="module")
def pool_files() -> dict[str, bytes]:
    files = run_files(smoke_folder())  # the smoke sweep on the local process pool
    assert len(files) == load_sweep(SMOKE).size
    return files


def test_local_cluster_gives_the_same_bytes_as_the_process_pool(pool_files, tmp_path):
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        folder = run_sweep(SMOKE, out=tmp_path, scheduler=cluster.scheduler_address, progress=False)
    assert run_files(folder) == pool_files
    manifest = SweepStore(folder).read_manifest()
    assert manifest["executor"]["kind"] == "dask" and manifest["executor"]["threads"] == 2
    assert manifest["status"] == "complete"


def start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)


def test_command_line_against_a_separately_started_scheduler(pool_files, tmp_path):
    dask = str(Path(sys.executable).with_name("dask"))
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = start(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", str(scheduler_file)],
        tmp_path / "scheduler.log",
    )  # fmt: skip
    processes = [scheduler]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert scheduler.poll() is None, (tmp_path / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        processes.append(
            start(
                [
                    dask,
                    "worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                ],
                tmp_path / "worker.log",
            )  # fmt: skip
        )
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        out = tmp_path / "out"
        done = subprocess.run(
            [
                sys.executable,
                "run.py",
                "sweep",
                str(SMOKE),
                "--scheduler",
                address,
                "--out",
                str(out),
                "--quiet",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    assert done.returncode == 0, done.stderr
    assert f"on Dask cluster {address}" in done.stdout
    assert run_files(out / "smoke") == pool_files
    assert SweepStore(out / "smoke").read_manifest()["executor"] == {
        "kind": "dask",
        "scheduler": address,
        "threads": 1,
    }
