"""Reading a sweep back: tidy runs, bands, paired differences, the summary table and the plots.

Every expected value is recomputed here from the raw run files, independently of the analysis code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from test_sweep_run import smoke_folder

from model.cli import main
from model.sweep import load_results, paired_differences, plot_sweep, quantile_bands, run_matrix, summarize
from model.sweep.store import SweepStore


def raw(run_id: str) -> pd.DataFrame:
    frame = pq.read_table(SweepStore(smoke_folder()).run_path(run_id)).to_pandas()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def national(run_id: str, metric: str) -> pd.Series:
    frame = raw(run_id)
    rows = frame[(frame["metric"] == metric) & (frame["region"] == "national")]
    return rows.set_index("date")["value"].sort_index()


@pytest.fixture(scope="module")
def results():
    return load_results(
        smoke_folder(), metrics=["personal_wallets_opened", "active_users"], regions=["national"]
    )


def test_load_results_adds_each_runs_identity(results):
    design, runs = results
    assert list(runs.columns[:4]) == ["run_id", "scenario", "replication", "seed"]
    assert set(runs["metric"]) == {"personal_wallets_opened", "active_users"}
    assert set(runs["region"]) == {"national"}
    assert set(runs["run_id"]) == set(design["run_id"])
    identity = design.set_index("run_id")
    for run_id, group in runs.groupby("run_id", observed=True):
        assert (group["scenario"].astype(str) == identity.loc[run_id, "scenario"]).all()
        assert (group["seed"] == identity.loc[run_id, "seed"]).all()
    mine = runs[(runs["run_id"] == "s002_r0001") & (runs["metric"] == "active_users")]
    expected = national("s002_r0001", "active_users")
    assert np.array_equal(mine.set_index("date")["value"].sort_index().to_numpy(), expected.to_numpy())


def test_bands_are_ordered_and_the_median_is_the_median(results):
    design, runs = results
    matrix = run_matrix(runs, "personal_wallets_opened")
    assert matrix.shape[1] == len(design)
    bands = quantile_bands(matrix["baseline"])
    assert (bands["p05"] <= bands["p25"]).all() and (bands["p25"] <= bands["p50"]).all()
    assert (bands["p50"] <= bands["p75"]).all() and (bands["p75"] <= bands["p95"]).all()
    last = bands.index[-1]
    baseline_runs = design[design["scenario"] == "baseline"]["run_id"]
    finals = [national(r, "personal_wallets_opened").loc[last] for r in baseline_runs]
    assert bands.loc[last, "p50"] == pytest.approx(np.median(finals))


def test_paired_differences_subtract_the_baseline_of_the_same_seed(results):
    design, runs = results
    differences = paired_differences(run_matrix(runs, "personal_wallets_opened"))
    assert set(differences.columns.get_level_values("scenario")) == set(design["scenario"]) - {"baseline"}
    run = design[(design["scenario"] != "baseline") & (design["replication"] == 2)].iloc[0]
    base = design[(design["scenario"] == "baseline") & (design["replication"] == 2)].iloc[0]
    expected = national(run["run_id"], "personal_wallets_opened") - national(
        base["run_id"], "personal_wallets_opened"
    )
    assert np.array_equal(differences[(run["scenario"], 2)].to_numpy(), expected.to_numpy())


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return summarize(smoke_folder())


def test_summary_medians_intervals_and_paired_differences(summary):
    design = SweepStore(smoke_folder()).read_design()
    key = "personal_wallets_opened@2021-12-31"
    per_run = {r: national(r, "personal_wallets_opened") for r in design["run_id"]}
    value = {r: s[s.index <= "2021-12-31"].iloc[-1] for r, s in per_run.items()}
    design["value"] = design["run_id"].map(value)
    level = summary[(summary["kind"] == "level") & (summary["quantity"] == key)].set_index("scenario")
    for scenario, group in design.groupby("scenario"):
        assert level.loc[scenario, "median"] == pytest.approx(np.median(group["value"]))
        assert level.loc[scenario, "p05"] == pytest.approx(np.quantile(group["value"], 0.05))
        assert level.loc[scenario, "p95"] == pytest.approx(np.quantile(group["value"], 0.95))
        assert level.loc[scenario, "runs"] == len(group)
    wide = design.pivot(index="replication", columns="scenario", values="value")
    difference = summary[(summary["kind"] == "difference") & (summary["quantity"] == key)].set_index(
        "scenario"
    )
    assert "baseline" not in difference.index
    for scenario in difference.index:
        assert difference.loc[scenario, "median"] == pytest.approx(
            np.median(wide[scenario] - wide["baseline"])
        )


def test_summary_weeks_to_thresholds_per_region(summary):
    design = SweepStore(smoke_folder()).read_design()
    frame = raw("s000_r0000")
    shenzhen = frame[frame["region"] == "Shenzhen"].pivot(index="date", columns="metric", values="value")
    share = shenzhen["citizens_with_wallet"] / shenzhen["population"]
    live = shenzhen.index[shenzhen["live"] > 0][0]
    expected = {}
    for quantity, threshold in (("weeks_to_10pct", 0.1), ("weeks_to_50pct", 0.5)):
        reached = share.index[share >= threshold]
        expected[quantity] = (reached[0] - live).days / 7 if len(reached) else np.inf
    # with one replication's value known, check it lies within that scenario's reported interval
    rows = summary[(summary["kind"] == "level") & (summary["region"] == "Shenzhen")]
    rows = rows[rows["scenario"] == "baseline"].set_index("quantity")
    for quantity, weeks in expected.items():
        assert rows.loc[quantity, "p05"] <= weeks <= rows.loc[quantity, "p95"]
        assert 0 <= rows.loc[quantity, "reached"] <= 1
    assert set(summary["region"]) <= {"national", *set(frame["region"])}
    assert summary.loc[summary["quantity"].str.startswith("weeks"), "region"].ne("national").all()
    assert len(summary[summary["kind"] == "level"]["scenario"].unique()) == design["scenario"].nunique()


@pytest.mark.slow
def test_plot_writes_fan_charts_differences_regions_and_summary(tmp_path, summary):
    paths = plot_sweep(smoke_folder(), out=tmp_path)
    names = {p.name for p in paths}
    assert names == {"fan_charts.png", "differences.png", "regions_small_multiples.png", "summary.csv"}
    for path in paths:
        assert path.stat().st_size > 10_000 if path.suffix == ".png" else path.stat().st_size > 0
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = pd.read_csv(tmp_path / "summary.csv")
    assert len(written) == len(summary)
    assert np.allclose(written["median"], summary["median"], rtol=1e-5, equal_nan=True)


def test_plot_command_rejects_folders_that_are_not_sweeps(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "nothing")]) == 2
    assert "no such results folder" in capsys.readouterr().err
    (tmp_path / "single").mkdir()
    (tmp_path / "single" / "timeseries.parquet").write_bytes(b"")
    assert main(["plot", str(tmp_path / "single")]) == 2
    assert "single run" in capsys.readouterr().err
    (tmp_path / "other").mkdir()
    assert main(["plot", str(tmp_path / "other")]) == 2
    assert "design.parquet" in capsys.readouterr().err
