"""Attribution: Shapley values that match a game with known shares, parts that add up to the total on
real paired runs, and a driver that is already off getting exactly nothing."""

from __future__ import annotations

import json
from datetime import date
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE

from model.analysis.attribution import (
    NONE,
    AttributionSpec,
    Driver,
    load_attribution,
    run_attribution,
    shapley,
)
from model.analysis.folder import Options
from model.cli import main

SMALL = {"run.scale": 1e6, "run.end": "2022-01-05", "incentives.lotteries": []}


def _spec(n: int, permutations: int = 0) -> AttributionSpec:
    drivers = tuple(Driver(f"d{i}", "", {f"k{i}": 0}) for i in range(n))
    return AttributionSpec(BASELINE, "t", drivers, BASELINE, ("m",), (), 1, 5, {}, permutations, "")


def _game(spec: AttributionSpec, weights: list[float], pair: float) -> dict[str, np.ndarray]:
    """v(S) = 1 + sum of weights in S + pair if drivers 0 and 1 are both in S (arrays of one value)."""
    n = len(spec.drivers)
    v = {}
    for k in range(n + 1):
        for c in combinations(range(n), k):
            value = 1 + sum(weights[i] for i in c) + (pair if {0, 1} <= set(c) else 0)
            v[spec.label(frozenset(c))] = np.array([[value]])
    return v


def test_exact_shapley_splits_an_interaction_equally_and_adds_up():
    spec = _spec(3)
    parts = shapley(spec, _game(spec, [2.0, 3.0, 5.0], pair=4.0))
    assert parts["d0"].item() == pytest.approx(4.0) and parts["d1"].item() == pytest.approx(5.0)
    assert parts["d2"].item() == pytest.approx(5.0) and parts[NONE].item() == 1.0
    assert sum(p.item() for p in parts.values()) == pytest.approx(1 + 2 + 3 + 5 + 4)


def test_sampled_permutations_add_up_exactly_and_approach_the_exact_values():
    spec = _spec(9, permutations=400)
    weights = list(np.arange(1.0, 10.0))
    parts = shapley(spec, _game(spec, weights, pair=4.0))
    assert sum(p.item() for p in parts.values()) == pytest.approx(1 + sum(weights) + 4, rel=1e-12)
    assert parts["d5"].item() == pytest.approx(6.0)
    assert parts["d0"].item() == pytest.approx(3.0, abs=0.5)


@pytest.fixture(scope="module")
def attribution(tmp_path_factory):
    folder = tmp_path_factory.mktemp("attribution")
    drivers = folder / "drivers.toml"
    drivers.write_text(
        '[drivers.bank_campaigns]\ndescription = "banks"\noff = { "banks.target_intensity" = 0.0 }\n'
        '[drivers.lotteries]\ndescription = "none in this horizon"\n'
        'off = { "incentives.lottery_budget_multiplier" = 0.0 }\n'
        '[drivers.merchant_acceptance]\ndescription = "pull"\noff = { "behaviour.acceptance_pull" = 0.0 }\n'
    )
    spec = load_attribution(BASELINE, drivers, dates=[date(2021, 12, 31)], replications=2, overrides=SMALL)
    return spec, run_attribution(spec, folder / "out", Options(workers=2, progress=False))


@pytest.mark.slow
def test_parts_add_up_to_the_scenario_in_every_region_and_week(attribution):
    spec, folder = attribution
    tidy = pd.read_parquet(folder / "attribution.parquet")
    wide = tidy.pivot_table(index=["date", "region", "metric"], columns="part", values="mean")
    parts = wide[[NONE, *(d.name for d in spec.drivers)]].sum(axis=1)
    assert np.allclose(parts, wide["total"], rtol=1e-9, atol=1e-6)
    manifest = json.loads((folder / "analysis.json").read_text())
    assert manifest["additivity_max_relative_error"] < 1e-9
    assert manifest["sweeps"]["coalitions"]["runs"] == 2**3 * 2  # every coalition on both seeds


@pytest.mark.slow
def test_a_driver_with_nothing_to_do_gets_exactly_nothing(attribution):
    _, folder = attribution
    table = pd.read_csv(folder / "attribution_at_dates.csv")
    wallets = table[
        (table["metric"] == "personal_wallets_opened") & (table["date"] == "2021-12-31")
    ].set_index("part")
    assert wallets.loc["lotteries", "mean"] == 0.0
    assert wallets.loc["bank_campaigns", "share_of_total"] > 0.5
    assert (folder / "attribution_national.png").is_file() and (folder / "report.html").is_file()


def test_bad_drivers_are_refused_before_anything_runs(tmp_path, capsys):
    drivers = tmp_path / "drivers.toml"
    drivers.write_text('[drivers.a]\ndescription = "x"\noff = { "banks.flair" = 0 }\n')
    out = tmp_path / "out"
    argv = ["attribute", str(BASELINE), "--drivers", str(drivers), "--out", str(out), "--quiet"]
    assert main(argv) == 2
    message = capsys.readouterr().err
    assert f"{drivers}: drivers.a.off.banks.flair" in message and "unknown key" in message
    drivers.write_text(
        '[drivers.a]\ndescription = "x"\noff = { "behaviour.word_of_mouth" = 0 }\n'
        '[drivers.b]\ndescription = "y"\noff = { "behaviour.word_of_mouth" = 0.1 }\n'
    )
    assert main(argv) == 2
    assert "a key not also set by drivers.a" in capsys.readouterr().err
    assert main([*argv[:-1], "--metrics", "happiness", "--quiet"]) == 2
    assert "happiness" in capsys.readouterr().err
    assert not out.exists()
