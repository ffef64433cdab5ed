"""The notebooks run top to bottom without error, at a coarse scale (``ECNY_NOTEBOOK_SCALE``) and with two
replications (``ECNY_NOTEBOOK_SEEDS``), writing under a temporary ``ECNY_NOTEBOOK_OUT`` (never into the
checkout's ``results/``), and are committed without outputs (reviewable diffs, no stale numbers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, require_module

nbformat = require_module("nbformat")
NotebookClient = require_module("nbclient").NotebookClient

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# ~3,000 citizen agents a run; notebook 04's Sobol design at its smallest (8 base samples)
SMALL = {"ECNY_NOTEBOOK_SCALE": "200000", "ECNY_NOTEBOOK_SEEDS": "2", "ECNY_NOTEBOOK_SAMPLES": "8"}


def snapshot(folder: Path) -> dict[str, int]:
    """Every file and folder under ``folder`` with its modification time (empty if it does not exist)."""
    return (
        {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}
        if folder.exists()
        else {}
    )


def test_the_three_jobs_and_the_analyses_have_notebooks():
    names = [p.name for p in NOTEBOOKS]
    assert names == [
        "01_run_and_plot.ipynb",
        "02_scenario_sweep.ipynb",
        "03_policy_what_if.ipynb",
        "04_sensitivity_and_discovery.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, monkeypatch, tmp_path):
    for name, value in SMALL.items():
        monkeypatch.setenv(name, value)  # the kernel inherits this process's environment
    monkeypatch.setenv("ECNY_NOTEBOOK_OUT", str(tmp_path))
    before = snapshot(ROOT / "results")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
    images = sum("image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))
    assert images >= 1, f"{path.name} drew no plot"
    assert snapshot(ROOT / "results") == before, f"{path.name} wrote into the checkout's results/"
