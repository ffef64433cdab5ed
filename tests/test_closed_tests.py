"""The first cities' closed tests (April to October 2020): until ``pilot.closed_tests_end`` only a share
``pilot.closed_merchant_coverage`` of their outlets can be reached; from then on every outlet, and no
other region is touched."""

from __future__ import annotations

import warnings
from datetime import date

import numpy as np
import pytest
from conftest import SCENARIOS, pivot

from model import EcnyModel, domain, load_scenario
from model.errors import ScenarioWarning
from model.population import OUTLETS

FIRST_CITIES = ["Shenzhen", "Suzhou", "Xiong'an", "Chengdu"]  # wave 1 (pilot_regions.csv)
END = date(2020, 10, 9)
SCALE = 20_000


def model(engine: str = "vectorized", **overrides) -> EcnyModel:
    """The baseline to March 2021 (the events after it do not matter here)."""
    changes = {"run.end": date(2021, 3, 31), "pilot.closed_tests_end": END, **overrides}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        scenario = load_scenario(SCENARIOS / "baseline.toml", changes)
    return EcnyModel(scenario, seed=3, scale=SCALE, engine=engine)


def test_the_first_cities_are_the_closed_tests_wave():
    regions = domain.regions()
    assert sorted(regions.loc[regions["wave"] == "1", "region"]) == sorted(FIRST_CITIES)


@pytest.mark.parametrize("engine", ["vectorized", "agents"])
def test_only_the_covered_outlets_accept_until_the_closed_tests_end(engine):
    m = model(engine, **{"pilot.closed_merchant_coverage": 0.3})
    b = m.businesses
    region = np.repeat(np.arange(len(m.region_names)), np.diff(b.offsets))
    first = np.isin(np.array(m.region_names)[region], FIRST_CITIES)
    olympic = set(domain.regions().query("wave == 'olympic'")["region"])
    outlet = b.sector < OUTLETS
    beyond = first & outlet & (b.coverage_rank >= 0.3)
    seen_inside = seen_beyond_after = False
    for week_end in m.dates:
        m.step()
        coverage = {g.region: g.coverage for g in m.governments}
        closed = week_end < END
        for name in FIRST_CITIES:
            assert coverage[name] == (0.3 if closed else 1.0), (name, week_end)
        others = [g for g in m.governments if g.region not in FIRST_CITIES and g.region not in olympic]
        assert all(g.coverage == float(g.live) for g in others), week_end
        if closed:
            assert not b.accepting[beyond].any(), week_end
            seen_inside |= bool(b.accepting[first & outlet].any())
        else:
            seen_beyond_after |= bool(b.accepting[beyond].any())
    assert seen_inside and seen_beyond_after  # neither check above is vacuous


def test_coverage_and_end_date_move_the_closed_pilots_acceptance():
    """Fewer reachable outlets, or a later end, give fewer acceptance points in August 2020."""

    def points(**overrides) -> float:
        frame = model(**overrides).run().timeseries()
        return float(pivot(frame, "acceptance_scenarios").loc["2020-08-26", "national"])

    full = points(**{"pilot.closed_merchant_coverage": 1.0})
    half = points(**{"pilot.closed_merchant_coverage": 0.5})
    assert 0 < half < full
    earlier = {"pilot.closed_merchant_coverage": 0.5, "pilot.closed_tests_end": date(2020, 6, 1)}
    assert points(**earlier) > half
    never = points(**{"pilot.closed_merchant_coverage": 0.5, "pilot.closed_tests_end": "never"})
    assert never == full  # without closed tests the coverage share is not read


def test_the_closed_tests_leave_the_other_regions_alone_without_the_banks_channel():
    def frame(coverage: float):
        m = model(**{"pilot.closed_merchant_coverage": coverage, "banks.allocation": "population"})
        return m.run().timeseries().set_index(["date", "region", "metric"])["value"]

    low, high = frame(0.2), frame(1.0)
    regions = low.index.get_level_values("region")
    first = regions.isin(FIRST_CITIES) | (regions == "national")
    assert low[~first].equals(high[~first])
    assert not low[first].equals(high[first])
