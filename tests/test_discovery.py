"""Scenario discovery on real runs: PRIM restricts the lever that decides the goal, not the one that cannot
act; CART's leaves separate the points that meet it."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from analysis_files import INPUTS, write
from conftest import scenario

from model import EcnyModel
from model.analysis.discovery import load_discovery, run_discovery
from model.analysis.folder import Options


@pytest.fixture(scope="module")
def discovery(tmp_path_factory):
    folder = tmp_path_factory.mktemp("discovery")
    # the baseline's own figure, about the median over the sampled range of bank target intensity (log,
    # centred on 1): some points meet it, some do not, whatever the calibrated behaviour
    tiny = scenario(run__scale=1e6, run__end=date(2022, 1, 5), incentives__lotteries=[])
    wallets = (
        EcnyModel(tiny)
        .run()
        .timeseries()
        .query("region == 'national' and metric == 'personal_wallets_opened'")
    )
    goal = wallets.loc[wallets["date"] <= "2021-12-31", "value"].iloc[-1]
    body = (
        f'name = "goal"\ngoal = "personal_wallets_opened at 2021-12-31 >= {goal:.0f}"\n[sample]\nsize = 64\n'
    )
    path = write(folder, body + INPUTS + "[prim]\nmass_min = 0.1\nthreshold = 0.9\n")
    return load_discovery(path), run_discovery(path, folder / "out", Options(workers=2, progress=False))


@pytest.mark.slow
def test_prim_box_restricts_the_deciding_lever(discovery):
    spec, folder = discovery
    sample = pd.read_csv(folder / "sample.csv")
    met = sample["meets_goal"].to_numpy()
    assert 0 < met.sum() < len(met)
    assert "interoperability_timing" not in pd.read_csv(folder / "box_limits.csv")["input"].tolist()
    limits = pd.read_csv(folder / "box_limits.csv").set_index("input")
    assert "banks.target_intensity" in limits.index
    low = limits.loc["banks.target_intensity", "min"]
    assert low > sample["banks.target_intensity"].min()  # the box cuts off the low intensities
    inside = sample["banks.target_intensity"] >= low
    manifest = json.loads((folder / "analysis.json").read_text())
    box = manifest["box"]
    assert box["density"] >= spec.threshold
    assert box["coverage"] == pytest.approx(met[inside].sum() / met.sum(), abs=0.1)
    trajectory = pd.read_csv(folder / "peeling_trajectory.csv")
    assert np.all(
        (trajectory[["coverage", "density", "mass"]] >= 0)
        & (trajectory[["coverage", "density", "mass"]] <= 1)
    )


@pytest.mark.slow
def test_cart_leaves_split_the_sample(discovery):
    _, folder = discovery
    leaves = pd.read_csv(folder / "cart_leaves.csv")
    assert leaves["points"].sum() == 64
    assert leaves["share_meeting_goal"].max() > 0.9 and leaves["share_meeting_goal"].min() < 0.1
    assert "banks.target_intensity" in leaves.loc[0, "rule"]
    for name in ("prim_peeling_trajectory.png", "cart_tree.png", "report.html"):
        assert (folder / name).is_file()
