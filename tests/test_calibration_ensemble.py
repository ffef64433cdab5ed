"""The ensemble of a finished study: pseudo-likelihood weights over its best trials, rows that load.

A real Optuna study in SQLite is filled by ask/tell with known losses (no model runs), so the weights can
be checked against the formula in ``model/calibration/members.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE

from model.calibration import members, objective, parameters, study
from model.calibration.targets import calibration_targets
from model.cli import main
from model.ensemble import load_ensemble


def test_weights_sum_to_one_and_fall_with_the_loss_at_the_estimated_variance():
    losses = np.array([1.0, 1.5, 3.0, 1.2])
    w = members.weights(losses, n_targets=12, n_params=2)  # tau^2 = 1.0 / 10
    assert w.sum() == pytest.approx(1.0)
    assert list(np.argsort(-w)) == [0, 3, 1, 2]  # lower loss, more weight
    assert w[0] / w[1] == pytest.approx(math.exp(0.5 / (2 * 0.1)))
    # fewer degrees of freedom left, larger tau^2, flatter weights
    assert members.weights(losses, 12, 10).max() < w.max()


def test_keep_mass_drops_the_negligible_members():
    w = np.array([0.5, 0.004, 0.3, 0.18, 0.016])  # 0.98 in three, 0.996 in four
    assert list(members.keep_mass(w, 0.99)) == [0, 2, 3, 4]
    assert list(members.keep_mass(np.array([1.0, 0.0]), 0.99)) == [0]


@pytest.fixture
def finished_study(tmp_path):
    """A study of two free parameters whose loss grows with the distance from a known point."""
    params = parameters.by_name(["innovation", "ecny_share_max"])
    targets = tuple(calibration_targets())
    problem = objective.Problem(BASELINE, params, targets, 50000.0, 1, 2)
    db = tmp_path / "study.db"
    s = study.open_study(db, resume=False, seed=1, startup_trials=5)
    study.record_problem(s, problem)
    for _ in range(40):
        trial = s.ask()
        u = [parameters.to_unit(p, trial.suggest_float(p.name, p.low, p.high, log=p.log)) for p in params]
        s.tell(trial, 0.5 + 20 * ((u[0] - 0.3) ** 2 + (u[1] - 0.6) ** 2))
    return db, s, params, targets


def test_rows_are_the_best_trials_as_scenario_keys_and_load_as_members(finished_study, tmp_path):
    db, s, params, targets = finished_study
    rows = members.from_study(s, params, len(targets))
    keys = [k for p in params for k in p.keys]
    assert list(rows.columns) == [*keys, "weight"]
    assert rows["weight"].sum() == pytest.approx(1.0)
    assert rows["weight"].is_monotonic_decreasing  # best first
    best = study.best_trials(s, 1)[0]
    assert rows.iloc[0][params[0].keys[0]] == pytest.approx(best.params[params[0].name])
    assert 1 <= len(rows) < 40  # the far trials carry no weight and are dropped
    path = members.write(tmp_path / "ensemble.csv", rows)
    loaded = load_ensemble(path, BASELINE)  # every member is a valid scenario
    assert len(loaded.members) == len(rows)
    assert np.allclose(loaded.weights, rows["weight"])


def test_ensemble_command_writes_once_and_refuses_bad_input(finished_study, tmp_path):
    db, *_ = finished_study
    out = tmp_path / "members.csv"
    assert main(["ensemble", str(db), "--out", str(out)]) == 0
    first = pd.read_csv(out)
    assert main(["ensemble", str(db), "--out", str(out)]) == 2  # exists: not overwritten
    assert main(["ensemble", str(db), "--out", str(out), "--overwrite", "--best", "3"]) == 0
    assert len(pd.read_csv(out)) <= 3 < len(first)
    assert main(["ensemble", str(tmp_path / "missing.db"), "--out", str(tmp_path / "x.csv")]) == 2
    junk = tmp_path / "junk.db"
    junk.write_text("not a study", encoding="utf-8")
    assert main(["ensemble", str(junk), "--out", str(tmp_path / "y.csv")]) == 2
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "y.csv").exists()
