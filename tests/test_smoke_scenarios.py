"""Integration: every shipped scenario runs with each engine and yields the documented tidy table."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from conftest import SHIPPED, scenario

from model import EcnyModel, domain, horizon
from model.population import GROUP_NAMES

SMOKE_SCALE = {"vectorized": 1e6, "agents": 2e6}
FLOWS = {
    f"{what}{part}_{when}"
    for what in ("transactions", "transaction_value")
    for part in ("", "_retail", "_corporate", "_government")
    for when in ("weekly", "cumulative")
} | {
    f"{what}_{when}"
    for what in ("payments_all", "fiscal_cost", "merchant_fee_savings")
    for when in ("weekly", "cumulative")
}
GROUPS = {f"{what}:{group}" for what in ("citizens_with_wallet", "active_users") for group in GROUP_NAMES}
REGION_METRICS = (
    {
        "population",
        "live",
        "citizens_with_wallet",
        "personal_wallets_opened",
        "app_wallets_opened",
        "active_users",
        "engaged_holders",
        "merchants_accepting",
        "acceptance_scenarios",
        "corporate_wallets_opened",
        "b2b_users",
        "ecny_held_personal",
        "ecny_held_corporate",
        "ecny_in_circulation",
        "ecny_share_of_m0",
        "ecny_share_of_retail",
    }
    | FLOWS
    | GROUPS
)
LOTTERY_METRICS = {
    "lottery_registrations",
    "lottery_winners",
    "lottery_redeemed",
    "lottery_redemption_rate",
    "lottery_wallets_opened",
}


@pytest.fixture(
    scope="module", params=[(n, e) for n in SHIPPED for e in SMOKE_SCALE], ids=lambda p: f"{p[0]}-{p[1]}"
)
def finished(request):
    name, engine = request.param
    s = scenario(name)
    model = EcnyModel(s, scale=SMOKE_SCALE[engine], engine=engine).run()
    return s, model, model.timeseries()


def test_columns_and_values(finished):
    _, _, ts = finished
    assert list(ts.columns) == ["date", "region", "metric", "value"]
    values = ts["value"].to_numpy(np.float64)
    assert np.isfinite(values).all()
    assert (values >= 0).all()
    assert not ts.duplicated(["date", "region", "metric"]).any()


def test_column_types(finished):
    _, _, ts = finished
    assert pd.api.types.is_datetime64_any_dtype(ts["date"])
    assert ts["value"].dtype == np.float64


def test_citizens_frame_of_an_empty_region_has_the_same_columns_in_both_engines():
    s = scenario("no_expansion", pilot__whitelist_share=0.0)
    frames = {e: EcnyModel(s, scale=SMOKE_SCALE[e], engine=e).citizens_frame("Beijing") for e in SMOKE_SCALE}
    assert len(frames["vectorized"]) == len(frames["agents"]) == 0  # Beijing never goes live here
    assert list(frames["agents"].columns) == list(frames["vectorized"].columns)


def test_dates_span_the_horizon(finished):
    s, model, ts = finished
    dates = pd.DatetimeIndex(sorted(ts["date"].unique()))
    step = timedelta(days=s.run.step_days)
    assert dates[0] == pd.Timestamp(s.run.start + step)
    assert s.run.end - step < dates[-1].date() <= s.run.end
    assert (np.diff(dates.values).astype("timedelta64[D]").astype(int) == s.run.step_days).all()
    assert len(dates) == len(model.dates) == model.steps


def test_expected_metrics(finished):
    s, model, ts = finished
    national = set(ts.loc[ts["region"] == "national", "metric"])
    banks = model.bank_ids
    assert banks and set(banks) <= set(s.banks.operators)
    expected = REGION_METRICS | {f"wallets_at:{b}" for b in banks} | {f"wallet_share:{b}" for b in banks}
    assert expected <= national
    assert national - expected <= set()  # lottery rows are per region only
    regional = ts[ts["region"] != "national"]
    # the pilot regions, and any other that goes live in the scenario (pilot.nationwide)
    regions = domain.regions()
    starts = horizon.region_starts(s)
    live = {
        r
        for r, start in zip(regions["region"], starts, strict=True)
        if start is not None and start <= s.run.end
    }
    assert set(regional["region"]) == set(regions.loc[regions["wave"] != domain.NO_WAVE, "region"]) | live
    per_region = regional.groupby("region")["metric"].apply(set)
    for region, metrics in per_region.items():
        assert REGION_METRICS <= metrics, region
        assert metrics - REGION_METRICS <= LOTTERY_METRICS, region  # wallets by bank: national only


def test_lottery_rows_appear_exactly_when_there_are_lotteries(finished):
    s, _, ts = finished
    lottery = ts[ts["metric"].isin(LOTTERY_METRICS)]
    if not s.incentives.lotteries:
        assert lottery.empty
        return
    assert not lottery.empty
    assert set(lottery["region"]) <= {lot.region for lot in s.incentives.lotteries}
    rate = lottery.loc[lottery["metric"] == "lottery_redemption_rate", "value"]
    assert ((rate >= 0) & (rate <= 1)).all()


def test_adoption_happens(finished):
    s, model, ts = finished
    last = ts[(ts["date"] == ts["date"].max()) & (ts["region"] == "national")].set_index("metric")["value"]
    assert 0 < last["citizens_with_wallet"] <= last["population"]
    assert last["personal_wallets_opened"] >= last["citizens_with_wallet"]
    assert last["merchants_accepting"] > 0
    assert last["transactions_cumulative"] > 0
    live_regions = [g.region for g in model.governments if g.live]
    assert last["live"] == len(live_regions) > 0
    if s.banks.operator_count == 1:
        assert len(model.bank_ids) == 1
        assert last[f"wallet_share:{model.bank_ids[0]}"] == pytest.approx(1.0)
