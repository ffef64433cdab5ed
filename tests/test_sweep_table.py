"""Sweeps from an explicit table: every point validated before anything runs, explicit runs (not every
scenario on every seed), kept metrics only, and resume keyed on what a run stores."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import BASELINE

from model import ScenarioError
from model.sweep import Keep, Point, load_results, run_sweep, table_sweep

SMALL = {"run.scale": 1e6, "run.end": "2021-01-06", "incentives.lotteries": []}


def _sweep(**kw):
    points = [Point("push", {"banks.target_intensity": 2.0}, {"banks.target_intensity": 2.0})]
    args = dict(method="test", overrides=SMALL) | kw
    return table_sweep("table", BASELINE, BASELINE, points, 3, 5, **args)


def test_a_bad_point_names_the_design_file_and_the_point(tmp_path):
    points = [Point("bad", {"banks.target_intensity": -1.0})]
    with pytest.raises(ScenarioError) as info:
        table_sweep("t", tmp_path / "design.toml", BASELINE, points, 1, 5, method="test", overrides=SMALL)
    assert info.value.file == str(tmp_path / "design.toml") and "banks.target_intensity" in info.value.key


def test_explicit_runs_and_kept_metrics(tmp_path):
    sweep = _sweep(
        runs=[("baseline", 0), ("push", 0), ("push", 2)], keep=Keep(("active_users",), ("national",))
    )
    assert sweep.size == 3
    design = sweep.design()
    assert list(zip(design["scenario"], design["replication"], strict=True)) == [
        ("baseline", 0), ("push", 0), ("push", 2)
    ]  # fmt: skip
    assert design.loc[0, "banks.target_intensity"] == 1.0  # the base's own value of the lever
    folder = run_sweep(sweep, out=tmp_path, workers=2, progress=False)
    _, runs = load_results(folder)
    assert set(runs["metric"]) == {"active_users"} and set(runs["region"]) == {"national"}
    unfiltered = _sweep(runs=[("baseline", 0), ("push", 0), ("push", 2)])
    assert unfiltered.design()["run_key"].tolist() != design["run_key"].tolist()  # resume cannot mix them
    with pytest.raises(Exception, match="different sweep design"):
        run_sweep(unfiltered, out=tmp_path, workers=2, progress=False, resume=True)


def test_dedupe_runs_an_equal_point_once_and_keeps_its_name_as_an_alias():
    points = [Point("same", {"banks.target_intensity": 1.0}), Point("push", {"banks.target_intensity": 2.0})]
    sweep = table_sweep("t", BASELINE, BASELINE, points, 2, 5, method="test", overrides=SMALL, dedupe=True,
                        runs=[("same", 0), ("push", 1)])  # fmt: skip
    assert sweep.aliases == {"same": "baseline"} and [s.name for s in sweep.scenarios] == ["baseline", "push"]
    assert pd.DataFrame(sweep.design())["scenario"].tolist() == ["baseline", "push"]
