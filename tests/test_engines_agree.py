"""The two engines agree: the vectorized engine is the Mesa-object reference engine, only faster.

Both engines run two small scenarios over the same 20 seeds. For each scenario:

- at each yearly checkpoint (every 52 weekly steps, and the last step), the national personal wallets,
  active users and merchants accepting have means over the seeds that differ by at most 3 standard errors
  of the difference of means, ``|mean_a - mean_v| <= 3 * sqrt(var_a / n + var_v / n)``;
- at the end, the share of residents holding a wallet in each region agrees to within 0.05 (absolute, on a
  0..1 share) in every region with at least 20 citizen agents, and to within 3 standard errors of the
  difference everywhere.

Scenario "core": waves 1, 2 and olympic, no white lists, to December 2022 (12 regions, ~770 agents).
Scenario "whitelist": the baseline with white lists (5%) to June 2023, so waves 3 and 4 go live mid-run, the
Olympic regions become full pilots and the incumbents interoperate (32 regions, ~750 agents).
The seeds run in a pool of two worker processes: about a minute on two cores.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, scenario

from model import EcnyModel
from model.domain import region_names
from model.executors import open_executor
from model.network import RegionGraphs, SmallWorld
from model.results import read_timeseries
from model.runner import simulate
from model.streams import RandomStreams, replication_seeds

SEEDS = replication_seeds(20240601, 20)
ENGINES = ("agents", "vectorized")
NATIONAL = ("personal_wallets_opened", "active_users", "merchants_accepting")
SHARE_TOLERANCE = 0.05
MIN_AGENTS = 20
SCENARIOS = {
    "core": {
        "pilot.waves": {
            "1": "2020-04-01",
            "2": "2020-11-01",
            "olympic": "2021-02-01",
            "3": "never",
            "4": "never",
        },
        "pilot.whitelist_share": 0.0,
        "run.end": "2022-12-31",
        "run.scale": 2e5,
    },
    "whitelist": {"pilot.whitelist_share": 0.05, "run.end": "2023-06-30", "run.scale": 8e5},
}


def _load(name: str):
    return scenario(**{k.replace(".", "__"): v for k, v in SCENARIOS[name].items()})


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[tuple[str, int], pd.DataFrame]]:
    """Timeseries of every (engine, seed) of both scenarios, run two at a time."""
    out: dict[str, dict[tuple[str, int], pd.DataFrame]] = {}
    with open_executor(workers=2) as pool:
        futures = {
            name: {
                (engine, seed): pool.submit(simulate, _load(name).dump(), seed, None, engine)
                for engine in ENGINES
                for seed in SEEDS
            }
            for name in SCENARIOS
        }
        for name, jobs in futures.items():
            out[name] = {key: future.result() for key, future in jobs.items()}
    return out


def _national(frame: pd.DataFrame, metric: str) -> np.ndarray:
    rows = frame[(frame["region"] == "national") & (frame["metric"] == metric)]
    return rows.sort_values("date")["value"].to_numpy()


def _within(a: np.ndarray, v: np.ndarray, k: float = 3.0) -> tuple[bool, float, float]:
    """Whether the means of a and v (one value per seed) differ by at most k standard errors."""
    diff = abs(a.mean() - v.mean())
    se = np.sqrt(a.var(ddof=1) / a.size + v.var(ddof=1) / v.size)
    return bool(diff <= k * se), float(diff), float(se)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_national_totals_agree_at_yearly_checkpoints(runs, name):
    frames = runs[name]
    steps = len(_national(frames[(ENGINES[0], SEEDS[0])], NATIONAL[0]))
    checkpoints = [*range(51, steps - 1, 52), steps - 1]
    assert len(checkpoints) >= 3
    for metric in NATIONAL:
        series = {e: np.array([_national(frames[(e, s)], metric) for s in SEEDS]) for e in ENGINES}
        assert series["vectorized"][:, -1].mean() > 0, metric  # something happened
        for k in checkpoints:
            ok, diff, se = _within(series["agents"][:, k], series["vectorized"][:, k])
            assert ok, f"{name}: {metric} at step {k + 1}: means differ by {diff:.4g} > 3 x {se:.4g}"


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_final_region_shares_agree(runs, name):
    frames = runs[name]
    agents_per_region = np.diff(EcnyModel(_load(name), seed=SEEDS[0]).citizens.offsets)

    def shares(engine: str) -> pd.DataFrame:
        rows = []
        for seed in SEEDS:
            frame = frames[(engine, seed)]
            last = frame[(frame["date"] == frame["date"].max()) & (frame["region"] != "national")]
            values = last.pivot(index="region", columns="metric", values="value")
            rows.append(values["citizens_with_wallet"] / values["population"])
        return pd.DataFrame(rows)

    a, v = shares("agents"), shares("vectorized")
    for r, region in enumerate(region_names()):
        if agents_per_region[r] == 0:
            continue
        ok, diff, se = _within(a[region].to_numpy(), v[region].to_numpy())
        assert ok or diff == 0, f"{name}: {region}: shares differ by {diff:.3f} > 3 x {se:.3f}"
        if agents_per_region[r] >= MIN_AGENTS:
            assert diff <= SHARE_TOLERANCE, f"{name}: {region}: shares differ by {diff:.3f}"
    assert (v.mean() > 0).sum() >= 10  # adoption happened in most regions


def test_neighbour_counts_kept_up_to_date_equal_a_recount():
    """The vectorized engine updates adopted-neighbour counts as wallets open; a full recount agrees."""
    model = EcnyModel(_load("whitelist"), seed=3, scale=2e5)
    engine = model.engine
    for step in range(len(model.dates)):
        model.step()
        if step % 20 and step != len(model.dates) - 1:
            continue
        engine._update_network(np.zeros(len(model.region_names), np.bool_))  # add pending wallets
        for r in sorted(engine.network.regions):
            sl = model.citizens.region_slice(r)
            graph = SmallWorld.build(
                sl.stop - sl.start,
                model.behaviour.network_degree,
                model.behaviour.network_rewiring,
                RandomStreams(model.seed)[f"network:{r}"],  # the engine's stream, from its start
            )
            held = engine.wallets[sl] != 0
            np.testing.assert_array_equal(engine.neighbour_count[sl], graph.adopted_neighbours(held))
            np.testing.assert_array_equal(engine.degree[sl], graph.degree)
    assert len(engine.network.regions) == len(model.region_names)


def test_the_chunk_size_changes_nothing_but_speed():
    s = _load("whitelist")
    frames = []
    for chunk in (97, 1 << 16):
        model = EcnyModel(s, seed=11, scale=2e5)
        model.engine.chunk = chunk
        frames.append(model.run().timeseries())
    pd.testing.assert_frame_equal(frames[0], frames[1], check_exact=True)


def test_results_plots_and_command_line_are_the_same_whatever_the_engine(tmp_path):
    """``run.py --engine agents|vectorized`` writes the same files, with the same tidy schema and rows."""
    from model.cli import main

    written = {}
    for engine in ENGINES:
        out = tmp_path / engine
        argv = ["scenarios/baseline.toml", "--engine", engine, "--scale", "4e6", "--quiet", "--out", str(out)]
        assert main([str(ROOT / argv[0]), *argv[1:]]) == 0
        folder = out / "baseline"
        written[engine] = {p.name: p for p in folder.iterdir()}
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["engine"] == engine
    assert set(written["agents"]) == set(written["vectorized"])
    assert {"national_s_curve.png", "regions_small_multiples.png", "timeseries.csv"} <= set(written["agents"])
    frames = {e: read_timeseries(written[e]["timeseries.parquet"]) for e in ENGINES}
    keys = ["date", "region", "metric"]
    pd.testing.assert_frame_equal(frames["agents"][keys], frames["vectorized"][keys])
    csv = {e: pd.read_csv(written[e]["timeseries.csv"]) for e in ENGINES}
    assert list(csv["agents"].columns) == list(csv["vectorized"].columns) == [*keys, "value"]
    assert len(csv["agents"]) == len(frames["agents"])


@pytest.mark.parametrize("degree", [2, 8, 20, 64])
@pytest.mark.parametrize("rewiring", [0.0, 0.1, 1.0])
def test_region_graphs_list_the_same_neighbours_as_each_small_world(degree, rewiring):
    """The vectorized engine's one graph over many regions, tiny ones included, is their union."""
    sizes = [1, 2, 3, 5, 9, 40, 300]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    graphs = RegionGraphs(offsets, degree // 2)
    rng = np.random.default_rng([degree, int(100 * rewiring)])
    expected = []
    for r, n in enumerate(sizes):
        graph = SmallWorld.build(n, degree, rewiring, rng)
        graphs.add(r, graph)
        expected += [sorted(int(offsets[r]) + j for j in nbrs) for nbrs in graph.neighbour_lists()]
    for i, nbrs in enumerate(expected):
        assert sorted(graphs.neighbours(np.array([i])).tolist()) == nbrs, i
    everyone = graphs.neighbours(np.arange(offsets[-1]))
    assert everyone.size == sum(len(e) for e in expected) == int(graphs.degree.astype(np.int64).sum())
