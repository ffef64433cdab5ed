"""The two engines give the same run: every metric, every region, every date, exactly.

Both engines run the same phases (``model/phases.py``: interpreted for one Mesa agent, compiled for arrays)
on the same state with the same per-agent draws; every count is an integer and every sum is formed in the
same order, so equality is exact (no tolerance). What differs between them, and is checked here by that
equality, is the driver: which agents move and in which order, how word of mouth is counted (each agent
asking its neighbours, against counts kept up to date), and numba's compiled arithmetic against Python's.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SHIPPED, scenario

from model import EcnyModel
from model.network import RegionGraphs, SmallWorld
from model.results import read_timeseries
from model.streams import region_stream

AGENT_SCALE = 1e6  # ~600 citizen agents: the agent engine runs a whole scenario in a few seconds
ENGINES = ("agents", "vectorized")


def _run(name: str, engine: str, seed: int, **overrides) -> pd.DataFrame:
    s = scenario(name, **overrides)
    return EcnyModel(s, seed=seed, scale=AGENT_SCALE, engine=engine).run().timeseries()


def _assert_same_run(name: str, seed: int, **overrides) -> pd.DataFrame:
    agents, vectorized = (_run(name, e, seed, **overrides) for e in ENGINES)
    pd.testing.assert_frame_equal(agents, vectorized, check_exact=True)
    return vectorized


def test_the_baseline_is_the_same_run_in_both_engines():
    frame = _assert_same_run("baseline", seed=5)
    final = frame[(frame["region"] == "national") & (frame["date"] == frame["date"].max())]
    values = final.set_index("metric")["value"]
    for metric in (
        "personal_wallets_opened",
        "active_users",
        "merchants_accepting",
        "transactions_cumulative",
    ):
        assert values[metric] > 0, metric  # the run did something worth comparing


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in SHIPPED if n != "baseline"])
def test_every_shipped_scenario_is_the_same_run_in_both_engines(name):
    _assert_same_run(name, seed=7)


@pytest.mark.slow
@pytest.mark.parametrize(
    "overrides",
    [
        {"pilot__whitelist_share": 0.05, "run__end": "2023-06-30"},  # white lists, waves 3 and 4 mid-run
        {"behaviour__pushed_engagement": 0.3, "behaviour__wom_mixing": 0.5},  # dormant openings, mixing
        {"behaviour__word_of_mouth": 0.0},  # no network at all
        # a sparse, much rewired graph: many citizens with one neighbour, or none
        {"behaviour__network_degree": 2, "behaviour__network_rewiring": 0.6, "behaviour__word_of_mouth": 0.3},
    ],
    ids=["whitelist", "pushed_mixed", "no_network", "sparse_network"],
)
def test_variants_are_the_same_run_in_both_engines(overrides):
    _assert_same_run("baseline", seed=11, **overrides)


@pytest.mark.parametrize(
    "overrides",
    [{"behaviour__word_of_mouth": 0.0, "behaviour__wom_mixing": 0.5}, {"behaviour__wom_mixing": 1.0}],
    ids=["no_word_of_mouth", "all_region_wide"],
)
def test_no_network_is_built_when_no_one_reads_it(overrides):
    """A network is built only when word of mouth is on (word_of_mouth > 0) and some of it goes through
    neighbours (wom_mixing < 1): otherwise no citizen agent has neighbours and the vectorized engine holds
    nothing but the agents' arrays and the white-list index, even once every region is live."""
    s = scenario(**overrides)
    agents = EcnyModel(s, seed=2, scale=AGENT_SCALE, engine="agents").engine
    assert all(not person.neighbours for person in agents.people)
    model = EcnyModel(s, seed=2, scale=AGENT_SCALE, engine="vectorized")
    engine = model.engine
    engine.build_networks(np.ones(len(model.region_names), np.bool_))
    arrays = engine.citizens.nbytes() + engine.businesses.nbytes()
    index = engine.whitelisted_rows.nbytes + engine.whitelisted_region.nbytes
    assert not engine.uses_network and engine.memory_bytes() == arrays + index


def test_a_regions_network_is_built_when_it_goes_live():
    """The vectorized engine builds a region's graph as the region goes live, not before: a region that
    is not live yet (white-listed residents only) holds no graph, and every live region with citizens has
    one from its first live step."""
    model = EcnyModel(scenario(), seed=2, scale=AGENT_SCALE, engine="vectorized")
    engine, counts = model.engine, model.citizens.counts
    seen_idle = False
    for _ in range(60):
        model.step()
        live = np.array([g.live for g in model.governments])
        built = np.zeros(len(live), np.bool_)
        built[list(engine.network.regions)] = True
        seen_idle |= bool((~live & (counts > 0)).any())
        np.testing.assert_array_equal(built, live & (counts > 0))
    assert seen_idle


def _arrays_held(obj, seen: dict[int, np.ndarray]) -> None:
    """Every numpy array reachable from ``obj`` through the model package's own objects, namedtuples,
    lists, tuples and dicts (not through Mesa agents, which lead back to the whole model)."""
    if isinstance(obj, np.ndarray):
        seen.setdefault(id(obj), obj)
    elif isinstance(obj, list | tuple | set):
        for item in obj:
            _arrays_held(item, seen)
    elif isinstance(obj, dict):
        for item in obj.values():
            _arrays_held(item, seen)
    elif type(obj).__module__.startswith("model.") and hasattr(obj, "__dict__"):
        if not isinstance(obj, EcnyModel) and "mesa" not in str(type(obj).__mro__):
            for item in vars(obj).values():
                _arrays_held(item, seen)


@pytest.mark.parametrize("engine", ENGINES)
def test_an_engines_memory_is_the_arrays_it_holds(engine):
    """``memory_bytes`` (the benchmarks' bytes per citizen) counts every array of the engine that grows with
    the agents or the graph, and nothing it does not hold."""
    model = EcnyModel(scenario(), seed=2, scale=2e4, engine=engine)
    if engine == "vectorized":
        model.engine.build_networks(np.ones(len(model.region_names), np.bool_))
    seen: dict[int, np.ndarray] = {}
    _arrays_held(model.engine, seen)
    large = sum(a.nbytes for a in seen.values() if a.size >= 1000)
    assert large > 0 and large <= model.engine.memory_bytes() <= sum(a.nbytes for a in seen.values())


def test_neighbour_counts_kept_up_to_date_equal_a_recount():
    """The vectorized engine updates adopted-neighbour counts as wallets open; a full recount agrees."""
    model = EcnyModel(scenario(pilot__whitelist_share=0.05, run__end="2023-06-30"), seed=3, scale=2e5)
    engine = model.engine
    checked = 0
    for step in range(len(model.dates)):
        model.step()
        if step % 20:
            continue
        for r in sorted(engine.network.regions):
            sl = model.citizens.region_slice(r)
            graph = SmallWorld.build(
                sl.stop - sl.start,
                model.behaviour.network_degree,
                model.behaviour.network_rewiring,
                region_stream(model.seed, "network", model.region_names[r]),
            )
            # counts hold the holders as the step began: everyone but this step's first wallets
            held = (model.citizens.wallets[sl] != 0) & (model.citizens.first_wallet_step[sl] < model.steps)
            np.testing.assert_array_equal(engine.neighbour_count[sl], graph.adopted_neighbours(held))
            np.testing.assert_array_equal(engine.degree[sl], graph.degree)
            checked += int(held.sum())
    assert len(engine.network.regions) == int(model.records[-1]["live"].sum()) and checked > 0


def test_results_plots_and_command_line_are_the_same_whatever_the_engine(tmp_path):
    """``run.py --engine agents|vectorized`` writes the same files and the same data."""
    from model.cli import main

    written = {}
    for engine in ENGINES:
        out = tmp_path / engine
        argv = ["scenarios/baseline.toml", "--engine", engine, "--scale", "4e6", "--quiet", "--out", str(out)]
        assert main([str(ROOT / argv[0]), *argv[1:]]) == 0
        folder = out / "baseline"
        written[engine] = {p.name: p for p in folder.iterdir()}
        assert json.loads((folder / "manifest.json").read_text())["engine"] == engine
    assert set(written["agents"]) == set(written["vectorized"])
    assert {"national_s_curve.png", "regions_small_multiples.png", "timeseries.csv"} <= set(written["agents"])
    frames = {e: read_timeseries(written[e]["timeseries.parquet"]) for e in ENGINES}
    pd.testing.assert_frame_equal(frames["agents"], frames["vectorized"], check_exact=True)


@pytest.mark.parametrize("degree", [2, 8, 18, 20, 64])  # 18: 9 hops, a hop mask of 16 bits
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
