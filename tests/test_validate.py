"""``run.py validate``: the shipped baseline hits every published figure; a bad parameter set does not.

CI validates at scale ``CI_SCALE`` with ``CI_REPLICATIONS`` replications (a few seconds); the closing note
of issue 5 and ``docs/calibration/report.md`` give the default scale (5000, 20 replications).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE

from model import load_scenario
from model.calibration import objective, parameters, validate
from model.calibration.targets import BAND, SHARE_WITHIN, TOLERANCE, UNMATCHED, calibration_targets
from model.cli import main

CI_SCALE = "10000"
CI_REPLICATIONS = "16"


@pytest.mark.slow
def test_shipped_baseline_validation_at_ci_scale(tmp_path, capsys):
    """validate scores every target and its exit code is its verdict. The shipped fit does not meet issue
    10's aim yet (README, Calibration), so this asserts what holds: the fit beats the priors it started
    from, on the same paired seeds."""
    code = main(
        ["validate", str(BASELINE), "--replications", CI_REPLICATIONS, "--scale", CI_SCALE,
         "--workers", "2", "--out", str(tmp_path)]
    )  # fmt: skip
    printed = capsys.readouterr().out
    table = pd.read_csv(tmp_path / "baseline" / "validation.csv")
    assert len(table) == len(calibration_targets())
    assert code == (0 if validate.passes(table) else 1), printed
    errors = table.loc[table["scored"], "relative error"].abs()
    assert validate.passes(table) == ((errors <= BAND).all() and (errors <= TOLERANCE).mean() >= SHARE_WITHIN)
    for column in ("target", "published", "model median", "90% interval", "relative error"):
        assert column in printed
    assert (tmp_path / "baseline" / "validation.md").is_file()
    targets = tuple(calibration_targets())
    problem = objective.Problem(BASELINE, parameters.FREE, targets, float(CI_SCALE), 4, seed=3)
    as_shipped = objective.Problem(BASELINE, (), targets, float(CI_SCALE), 4, seed=3)
    fitted = objective.trial_scenario(as_shipped, {}).dump()  # calibrated.toml's values
    priors = objective.trial_scenario(problem, parameters.priors(parameters.FREE)).dump()
    losses = [
        objective.loss(objective.evaluate(s, problem.seeds, problem.scale, list(targets))["values"], problem)
        for s in (fitted, priors)
    ]
    assert losses[0] < losses[1] / 2, losses


@pytest.mark.slow
def test_validate_fails_on_a_bad_parameter_set(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'extends = "{BASELINE.as_posix()}"\nname = "bad"\n'
        "[behaviour]\ninnovation = 0.4\necny_share_max = 0.3\nlottery_entry = 0.05\n",
        encoding="utf-8",
    )
    code = main(["validate", str(bad), "--replications", "2", "--scale", "40000", "--out", str(tmp_path)])
    assert code == 1
    printed = capsys.readouterr()
    assert "FAIL" in printed.out
    assert "replications:" in printed.err and "0/2" in printed.err  # a bar over the replications
    table = pd.read_csv(tmp_path / "bad" / "validation.csv")
    assert not table["pass"].all()


def test_bad_input_exits_2(tmp_path):
    assert main(["validate", str(tmp_path / "missing.toml")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(BASELINE), "--replications", "0"])
    assert exc.value.code == 2


def test_table_uses_the_median_and_the_tolerance():
    targets = calibration_targets()[:2]
    a, b = targets
    values = {a.key: [a.value * 0.5, a.value * 1.1, a.value * 3.0], b.key: [b.value * 1.2] * 3}
    table = validate.table(values, targets).set_index("target")
    assert table.loc[a.key, "model median"] == pytest.approx(a.value * 1.1)
    assert table.loc[a.key, "pass"]
    assert not table.loc[b.key, "pass"]  # +20% misses +/-15%
    assert table.loc[b.key, "within band"]  # but lies within +/-25%
    assert table.loc[b.key, "relative error"] == pytest.approx(0.2)


def test_the_fit_passes_with_every_target_in_the_band_and_most_within_tolerance():
    targets = calibration_targets()[:10]
    exact = {t.key: [t.value] for t in targets}
    assert validate.passes(validate.table(exact, targets))
    two_near = {**exact, targets[0].key: [targets[0].value * 1.2], targets[1].key: [targets[1].value * 0.8]}
    assert validate.passes(validate.table(two_near, targets))  # 8 of 10 within 15%, all within 25%
    three_near = {**two_near, targets[2].key: [targets[2].value * 1.2]}
    assert not validate.passes(validate.table(three_near, targets))  # 7 of 10
    one_far = {**exact, targets[0].key: [targets[0].value * 1.3]}
    assert not validate.passes(validate.table(one_far, targets))  # outside +/-25%
    assert "outside +/-25%: " + targets[0].key in validate.verdict(validate.table(one_far, targets))


def test_a_figure_no_mechanism_reaches_is_shown_but_not_scored():
    targets = [t for t in calibration_targets() if not t.scored]
    assert targets and all(t.key in UNMATCHED and t.weight == 0 for t in targets)
    values = {t.key: [t.value] for t in calibration_targets()} | {t.key: [t.value * 0.5] for t in targets}
    table = validate.table(values, calibration_targets())
    assert validate.passes(table)  # the unmatched figure, 50% off, does not fail the fit
    assert "not scored (no mechanism reaches it): " + targets[0].key in validate.verdict(table)
    problem = objective.Problem(BASELINE, (), tuple(calibration_targets()), 1e5, 1, 0)
    assert objective.loss(values, problem) == 0.0  # nor does it count in the loss


def _two_members(tmp_path):
    path = tmp_path / "ensemble.csv"
    path.write_text("behaviour.innovation,weight\n0.0005,1\n0.02,1\n", encoding="utf-8")
    return path


def test_ensemble_replications_run_their_drawn_members_reproducibly(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from model.calibration import objective
    from model.ensemble import load_ensemble
    from model.streams import replication_seeds

    ensemble = load_ensemble(_two_members(tmp_path), BASELINE)
    targets = calibration_targets()[:3]
    with ThreadPoolExecutor(max_workers=2) as pool:
        values, _, root, drawn = validate.run_replications(
            BASELINE, targets, 4, 100000.0, pool, 9, None, ensemble
        )
        again = validate.run_replications(BASELINE, targets, 4, 100000.0, pool, 9, None, ensemble)
    assert again[0] == values and again[3] == drawn  # the run seed draws the same members again
    assert list(drawn) == [dict(ensemble.members[i]) for i in ensemble.draw(4, 9)]
    assert {m["behaviour.innovation"] for m in drawn} == {0.0005, 0.02}  # both members drawn (seed 9)
    for r, seed in enumerate(replication_seeds(root, 4)):  # replication r is member r on seed r
        problem = objective.Problem(BASELINE, (), tuple(targets), 100000.0, 1, 0, fixed=dict(drawn[r]))
        alone = objective.evaluate(objective.trial_scenario(problem, {}).dump(), [seed], 100000.0, targets)
        assert [values[t.key][r] for t in targets] == [alone["values"][t.key][0] for t in targets]


def test_validate_ensemble_writes_the_members_and_refuses_a_bad_file(tmp_path, capsys):
    code = main(
        ["validate", str(BASELINE), "--ensemble", str(_two_members(tmp_path)), "--replications", "2",
         "--scale", "100000", "--workers", "2", "--out", str(tmp_path / "v")]
    )  # fmt: skip
    assert code in (0, 1)
    drawn = pd.read_csv(tmp_path / "v" / "baseline_ensemble" / "members.csv")
    assert list(drawn.columns) == ["replication", "behaviour.innovation"] and len(drawn) == 2
    assert "parameters drawn from" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("behaviour.innovation,weight\n-3,1\n", encoding="utf-8")
    assert main(["validate", str(BASELINE), "--ensemble", str(bad), "--out", str(tmp_path / "w")]) == 2
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("day", ["2021-13-01", "yesterday", "1999-01-01", "2030-01-01"])
def test_fit_until_refuses_a_bad_day_in_one_line(day, tmp_path, capsys):
    assert main(["validate", str(BASELINE), "--fit-until", day, "--out", str(tmp_path / "v")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --fit-until") and "\n" not in err
    assert not (tmp_path / "v").exists()


@pytest.mark.slow
def test_fit_until_fits_the_early_targets_and_forecasts_the_later_ones(tmp_path, capsys):
    from datetime import date

    code = main(
        ["validate", str(BASELINE), "--fit-until", "2021-12-31", "--trials", "3", "--fit-scale", "100000",
         "--fit-replications", "1", "--replications", "2", "--scale", "100000", "--workers", "2",
         "--out", str(tmp_path)]
    )  # fmt: skip
    assert code in (0, 1)
    folder = tmp_path / "baseline_fit_until_2021-12-31"
    table = pd.read_csv(folder / "validation.csv")
    dates = {t.key: t.date for t in calibration_targets()}
    assert set(table["target"]) == set(dates)  # every target scored
    expected = ["in-sample" if dates[k] <= date(2021, 12, 31) else "out-of-sample" for k in table["target"]]
    assert table["sample"].tolist() == expected
    assert "out-of-sample" in expected and "in-sample" in expected
    assert table["relative error"].notna().all()
    trials = pd.read_csv(folder / "fit" / "trials.csv")
    assert not any(k in trials.columns for k, d in dates.items() if d > date(2021, 12, 31))  # early only
    # the search starts from the priors, never from the shipped fit, which has seen the later targets
    shipped = load_scenario(BASELINE).behaviour
    first = trials.sort_values("trial").iloc[0]
    assert all(first[p.name] == pytest.approx(p.prior) for p in parameters.FREE)
    assert not np.isclose(trials["innovation"], shipped.innovation, rtol=1e-6).any()
    assert (folder / "fit" / "fitted.json").is_file() and "out-of-sample" in (
        folder / "validation.md"
    ).read_text()
    printed = capsys.readouterr()
    assert "fitted on the" in printed.out
    assert "trials 3/3" in printed.out and "replications:" in printed.err  # both stages show progress
