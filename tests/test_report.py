"""report.html for a run, a sweep and an analysis folder, opened in Debian's chromium (Playwright with
``executable_path``; never ``playwright install``): every image loads, from the folder alone, offline; the
caveats come from the calibration's identifiability table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from analysis_files import INPUTS, write
from conftest import BASELINE, SCENARIOS

from model.analysis import identifiability
from model.analysis.folder import Options
from model.analysis.sensitivity import run_sensitivity
from model.cli import main

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reports")
    out = root / "out"
    assert main([str(SCENARIOS / "no_expansion.toml"), "--scale", "1e6", "--out", str(out), "--quiet"]) == 0
    assert main(["sweep", str(SCENARIOS / "sweeps" / "smoke.toml"), "--out", str(out), "--workers", "2",
                 "--plot", "--quiet"]) == 0  # fmt: skip
    path = write(
        root,
        'name = "tiny"\noutcomes = ["active_users at 2021-12-31"]\n'
        + INPUTS
        + "[morris]\ntrajectories = 4\n",
    )
    analysis = run_sensitivity(path, out, Options(workers=2, progress=False))
    moved = root / "moved"  # a report works from wherever its folder is copied to
    shutil.copytree(out / "no_expansion", moved)
    return {"run": out / "no_expansion", "sweep": out / "smoke", "analysis": analysis, "moved": moved}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (apt-get install chromium): .ci/run installs it")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["run", "sweep", "analysis", "moved"])
def test_every_image_of_the_report_loads_offline(kind, folders, browser):
    report = folders[kind] / "report.html"
    assert report.is_file()
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.getAttribute('src'), i.naturalWidth])")
    assert len(sizes) >= 1
    assert all(width > 0 for _, width in sizes), sizes
    assert all(url.startswith("file://") for url in requests), requests  # nothing from the network
    text = page.inner_text("body")
    for section in ("Key table", "Levers that differ from the baseline", "Caveats", "Manifest"):
        assert section in text
    page.close()


@pytest.mark.slow
def test_caveats_come_from_the_identifiability_table(folders):
    page = (folders["run"] / "report.html").read_text()
    table = identifiability.load()
    for row in table.itertuples():
        assert row.parameter in page
    loose = ", ".join(table.loc[table["status"] == "loose", "parameter"])
    assert loose in page


@pytest.mark.slow
def test_a_run_report_lists_the_levers_that_differ_from_the_baseline(folders):
    page = (folders["run"] / "report.html").read_text()
    for key in ("pilot.waves.3", "pilot.waves.4", "run.scale"):
        assert key in page
    sweep = (folders["sweep"] / "report.html").read_text()
    assert "banks.target_intensity" in sweep


def test_identifiability_csv_is_the_one_derived_from_the_calibration_report():
    derived = identifiability.from_report(identifiability.REPORT)
    shipped = identifiability.load()
    pd.testing.assert_frame_equal(derived, shipped, check_dtype=False)
    report = identifiability.REPORT.read_text()
    pinned = ", ".join(derived.loc[derived["status"] == "pinned", "parameter"])
    assert f"**Pinned** by the targets: {pinned}." in report


def test_a_bad_identifiability_table_is_named(tmp_path):
    from model.cli import InputError

    path = tmp_path / "identifiability.csv"
    path.write_text("parameter,status,low,high,reason\ninnovation,fuzzy,0,1,r\n")
    with pytest.raises(InputError, match="row 1: status = 'fuzzy'"):
        identifiability.load(path)


def test_report_command_refuses_a_folder_that_is_not_a_result(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a run, sweep or analysis folder" in capsys.readouterr().err
    assert BASELINE.is_file()
