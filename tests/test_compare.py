"""compare and diff: pairs share their seed (a scenario against itself differs by exactly nothing), the
levers that differ are listed, and an ensemble gives each pair one drawn parameter set."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import BASELINE, SCENARIOS

from model.analysis.compare import load_compare, run_compare
from model.analysis.folder import Options
from model.cli import main
from model.ensemble import load_ensemble
from model.errors import ScenarioError

SMALL = {"run.scale": 1e6, "run.end": "2022-01-05", "incentives.lotteries": []}
DATES = [pd.Timestamp("2021-12-31").date()]


def test_a_scenario_against_a_renamed_copy_differs_by_exactly_nothing(tmp_path):
    copy = tmp_path / "copy.toml"
    copy.write_text(f'extends = "{BASELINE.as_posix()}"\nname = "copy"\n')
    spec = load_compare(BASELINE, copy, seeds=3, dates=DATES, overrides=SMALL)
    assert spec.levers.empty
    folder = run_compare(spec, tmp_path / "out", Options(workers=2, progress=False))
    table = pd.read_csv(folder / "differences_at_dates.csv")
    assert (table["difference mean"] == 0).all() and (table["pairs"] == 3).all()


def test_compare_lists_the_levers_and_pairs_the_difference(tmp_path, capsys):
    other = tmp_path / "push.toml"
    other.write_text(f'extends = "{BASELINE.as_posix()}"\nname = "push"\n[banks]\ntarget_intensity = 3.0\n')
    options = ["--seeds", "3", "--dates", "2021-12-31", "--scale", "1e6", "--workers", "2", "--quiet"]
    code = main(["compare", str(BASELINE), str(other), *options, "--out", str(tmp_path / "out")])
    assert code == 0
    folder = tmp_path / "out" / "compare_baseline_vs_push"
    assert pd.read_csv(folder / "levers_differ.csv")["key"].tolist() == ["banks.target_intensity"]
    table = pd.read_csv(folder / "differences_at_dates.csv").set_index(["metric", "date"])
    assert table.loc[("personal_wallets_opened", "2021-12-31"), "difference p05"] > 0
    for name in ("compare_levels.png", "compare_paired_differences.png", "report.html"):
        assert (folder / name).is_file()
    assert main(["diff", str(BASELINE), str(other)]) == 0
    assert "banks.target_intensity  1.0  ->  3.0" in capsys.readouterr().out


def test_compare_over_an_ensemble_draws_one_member_per_pair(tmp_path):
    ensemble = tmp_path / "ensemble.csv"
    ensemble.write_text(
        "behaviour.innovation,behaviour.word_of_mouth,weight\n0.05,0.01,1\n0.1,0.02,3\n0.5,0.5,0\n"
    )
    other = SCENARIOS / "no_incentives.toml"
    spec = load_compare(BASELINE, other, seeds=4, dates=DATES, ensemble=ensemble, overrides=SMALL)
    assert spec.members == tuple(load_ensemble(ensemble, BASELINE).overrides(4, spec.root_seed))
    assert {"behaviour.innovation": 0.5, "behaviour.word_of_mouth": 0.5} not in spec.members  # weight 0
    folder = run_compare(spec, tmp_path / "out", Options(workers=2, progress=False))
    design = pd.read_parquet(folder / "runs" / "design.parquet")
    assert len(design) == 8 and design.groupby("replication")["seed"].nunique().eq(1).all()
    assert design.groupby("replication")["behaviour.innovation"].nunique().eq(1).all()  # one member per pair
    assert json.loads((folder / "analysis.json").read_text())["ensemble"] == str(ensemble)


def test_compare_refuses_an_unknown_metric_and_a_missing_ensemble(tmp_path, capsys):
    argv = ["compare", str(BASELINE), str(SCENARIOS / "no_incentives.toml"), "--out", str(tmp_path / "o")]
    assert main([*argv, "--metrics", "app_wallets_galore"]) == 2
    assert "app_wallets_galore" in capsys.readouterr().err
    assert main([*argv, "--ensemble", str(tmp_path / "none.csv")]) == 2
    assert "no such ensemble file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("behaviour.charisma,weight\n1,1\n", ["line 2: behaviour.charisma", "unknown key"]),
        (
            "behaviour.innovation,weight\n99,1\n",
            ["line 2: behaviour.innovation", "99", "at most 5"],
        ),
        ("behaviour.innovation,weight\n0.1,-1\n", ["line 2: weight", "a number >= 0"]),
        ("behaviour.innovation\n0.1\n", ["(header)", "a 'weight' column"]),
        ("behaviour.innovation,weight\n0.1,0\n", ["weight", "not all zero"]),
    ],
)
def test_a_bad_ensemble_names_the_line_key_value_and_what_is_allowed(text, expected, tmp_path):
    from model import ScenarioError

    path = tmp_path / "ensemble.csv"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_ensemble(path, BASELINE)
    assert str(info.value).startswith(str(path))
    for part in expected:
        assert part in str(info.value)


def test_ensemble_draws_are_reproducible_and_follow_the_weights(tmp_path):
    path = tmp_path / "ensemble.csv"
    path.write_text("behaviour.innovation,weight\n0.05,1\n0.1,3\n0.2,0\n")
    ensemble = load_ensemble(path, BASELINE)
    draws = ensemble.draw(4000, seed=11)
    assert draws == ensemble.draw(4000, seed=11) and draws != ensemble.draw(4000, seed=12)
    assert 2 not in draws
    assert draws.count(1) / len(draws) == pytest.approx(0.75, abs=0.03)
    assert ensemble.overrides(1, seed=11)[0] == {"behaviour.innovation": [0.05, 0.1][draws[0]]}


def test_a_scenario_name_never_becomes_a_path(tmp_path):
    odd = tmp_path / "odd.toml"
    odd.write_text(f'extends = "{BASELINE.as_posix()}"\nname = "../../escape me"\n')
    with pytest.raises(ScenarioError, match="a folder name of letters"):  # refused as it is loaded
        load_compare(BASELINE, odd, seeds=1, dates=DATES, overrides=SMALL)
    fine = tmp_path / "fine.toml"
    fine.write_text(f'extends = "{BASELINE.as_posix()}"\nname = "what-if.v2"\n')
    spec = load_compare(BASELINE, fine, seeds=1, dates=DATES, overrides=SMALL)
    assert spec.name == "compare_baseline_vs_what-if_v2"


def test_compare_writes_the_cost_per_additional_wallet_and_user(tmp_path):
    more = tmp_path / "more_lotteries.toml"
    more.write_text(
        f'extends = "{BASELINE.as_posix()}"\nname = "more"\n[incentives]\nlottery_budget_multiplier = 3.0\n'
    )
    day = pd.Timestamp("2022-09-30").date()
    metrics = ["fiscal_cost_cumulative", "app_wallets_opened", "active_users"]
    # fine enough that the lotteries move both counts (active users were about 5 m in 2022: 5 agents at 1e6)
    overrides = {"run.scale": 1e5, "run.end": "2022-10-05"}
    spec = load_compare(BASELINE, more, seeds=2, dates=[day], metrics=metrics, overrides=overrides)
    folder = run_compare(spec, tmp_path / "out", Options(workers=2, progress=False))
    costs = pd.read_csv(folder / "cost_per_additional.csv").set_index("per additional")
    diffs = pd.read_csv(folder / "differences_at_dates.csv").set_index("metric")["difference mean"]
    assert diffs["fiscal_cost_cumulative"] > 0  # three times the lotteries cost more
    for metric in ("app_wallets_opened", "active_users"):
        assert diffs[metric] != 0, metric
        assert costs.loc[metric, "yuan per additional"] == pytest.approx(
            diffs["fiscal_cost_cumulative"] / diffs[metric]
        )
    # the same scenario twice: no extra cost, nothing to divide
    spec = load_compare(BASELINE, BASELINE, seeds=2, dates=[day], overrides=overrides)
    folder = run_compare(spec, tmp_path / "out2", Options(workers=2, progress=False))
    assert pd.read_csv(folder / "cost_per_additional.csv")["yuan per additional"].isna().all()
