"""Sensitivity on the sweep machinery: indices from SALib on real runs, an input with no effect gets exactly
zero, and a Sobol study interrupted by Ctrl-C resumes without repeating a finished run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from analysis_files import INPUTS, write
from conftest import ROOT

from model.analysis.folder import Options
from model.analysis.sensitivity import run_sensitivity
from model.cli import main

OUTCOMES = 'outcomes = ["citizens_with_wallet at 2021-12-31", "personal_wallets_opened at 2021-12-31"]\n'


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sensitivity")
    path = write(
        folder,
        'name = "tiny"\n' + OUTCOMES + INPUTS + "[morris]\ntrajectories = 4\n[sobol]\nbase_samples = 8\n",
    )
    return run_sensitivity(path, folder / "out", Options(workers=2, progress=False))


def test_indices_rank_the_lever_that_acts_and_zero_the_one_that_cannot(study):
    indices = pd.read_csv(study / "indices.csv")
    for outcome in ("citizens_with_wallet at 2021-12-31", "personal_wallets_opened at 2021-12-31"):
        rows = indices[indices["outcome"] == outcome].set_index(["method", "index", "input"])["value"]
        # interoperability is after the horizon: common random numbers make its effect exactly nil
        for index in (("morris", "mu_star"), ("sobol", "ST"), ("sobol", "S1")):
            assert rows[(*index, "interoperability_timing")] == 0.0
        assert rows[("morris", "mu_star", "banks.target_intensity")] > 1e6
        assert rows[("sobol", "ST", "banks.target_intensity")] > 0.5
    ranking = pd.read_csv(study / "ranking.csv")
    assert (ranking.loc[ranking["rank"] == 1, "input"] == "banks.target_intensity").all()


def test_a_sensitivity_folder_holds_its_tables_figures_and_report(study):
    names = {p.name for p in study.iterdir()}
    expected = {
        "indices.parquet",
        "indices.csv",
        "convergence.csv",
        "ranking.csv",
        "analysis.json",
        "report.html",
    }
    assert expected | {"morris_tornado.png", "sobol_indices.png", "convergence.png"} <= names
    manifest = json.loads((study / "analysis.json").read_text())
    assert manifest["sweeps"]["sobol"]["runs"] == 8 * (2 + 2) + 1  # N (k + 2) points and the base
    assert manifest["sweeps"]["morris"]["runs"] == 4 * (2 + 1) + 1
    convergence = pd.read_csv(study / "convergence.csv")
    assert sorted(convergence.loc[convergence["method"] == "sobol", "samples"].unique()) == [8]
    assert np.isfinite(pd.read_parquet(study / "indices.parquet")["value"]).all()


def test_an_existing_analysis_is_kept_without_resume_or_overwrite(study, capsys):
    path = study.parent.parent / "analysis.toml"
    assert main(["sensitivity", str(path), "--out", str(study.parent), "--quiet"]) == 2
    assert "already holds this analysis" in capsys.readouterr().err


@pytest.mark.slow
def test_a_sobol_study_resumes_after_ctrl_c_without_repeating_finished_runs(tmp_path):
    path = write(tmp_path, 'name = "resumable"\n' + OUTCOMES + INPUTS + "[sobol]\nbase_samples = 16\n")
    out = tmp_path / "out"
    runs = out / "resumable" / "sobol" / "runs"
    command = [
        sys.executable,
        "run.py",
        "sensitivity",
        str(path),
        "--out",
        str(out),
        "--workers",
        "2",
        "--quiet",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(runs.glob("*.parquet"))) < 10:
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    manifest = json.loads((out / "resumable" / "sobol" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    before = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.parquet")}
    total = 16 * (2 + 2) + 1
    assert 10 <= len(before) < total
    done = subprocess.run([*command, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "resumable" / "sobol" / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["done_before"] == len(before) and manifest["done"] == total - len(before)
    after = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.parquet")}
    assert len(after) == total
    assert all(after[name] == mtime for name, mtime in before.items())  # finished runs were not redone
    assert (out / "resumable" / "report.html").is_file()
    assert os.path.getsize(out / "resumable" / "indices.parquet") > 0


@pytest.mark.slow
def test_the_same_study_on_a_dask_cluster_gives_the_same_indices(study, tmp_path):
    distributed = pytest.importorskip("distributed")
    path = study.parent.parent / "analysis.toml"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as cluster:
        folder = run_sensitivity(path, tmp_path, Options(scheduler=cluster.scheduler_address, progress=False))
    pd.testing.assert_frame_equal(
        pd.read_parquet(folder / "indices.parquet"), pd.read_parquet(study / "indices.parquet")
    )
    manifest = json.loads((folder / "analysis.json").read_text())
    assert manifest["sweeps"]["sobol"]["executor"]["kind"] == "dask"
