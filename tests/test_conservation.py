"""Invariants of every step of a run, for both engines.

Nobody outside a live pilot holds a wallet unless white-listed; wallets are never closed; a citizen holds at
most one wallet per operator; regions add up to the national figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import pivot, traced_run

from model import rules
from model.metrics import RATIOS

ENGINES = ["vectorized", "agents"]
NO_WHITELIST = (("pilot.whitelist_share", 0.0),)
WIDE_WHITELIST = (("pilot.whitelist_share", 0.2),)


def reported(model) -> list[str]:
    """The regions the tidy table shows (pilot regions, and any other that goes live in the scenario)."""
    return [name for name, shown in zip(model.region_names, model.reported, strict=True) if shown]


def region_of(model) -> np.ndarray:
    """Region index of every citizen agent."""
    return np.repeat(np.arange(len(model.region_names)), np.diff(model.citizens.offsets))


def residents(model, per_agent) -> np.ndarray:
    """Residents per region that ``per_agent`` (a count or flag for every citizen agent) stands for."""
    every = len(model.region_names)
    return np.bincount(region_of(model), weights=per_agent, minlength=every) * model.citizens.weight


@pytest.mark.parametrize("engine", ENGINES)
def test_no_wallets_outside_live_regions_without_a_white_list(engine):
    trace = traced_run("baseline", engine, overrides=NO_WHITELIST)
    model = trace.model
    assert not model.citizens.whitelisted.any()
    outside = ~trace.live[:, region_of(model)]  # [step, citizen]: the citizen's region is not live
    assert outside[0].any() and not outside[-1].any()  # the run sees regions before and after going live
    assert not (trace.wallets[outside] != 0).any()
    # and the regions that were live hold wallets (the check above is not vacuous)
    assert (trace.wallets[~outside] != 0).any()
    # the recorded totals agree
    holders = pivot(trace.timeseries, "citizens_with_wallet")[reported(model)].to_numpy()
    assert np.all(holders[~trace.live[:, model.reported]] == 0)


@pytest.mark.parametrize("engine", ENGINES)
def test_only_white_listed_citizens_hold_wallets_outside_live_regions(engine):
    trace = traced_run("baseline", engine, overrides=WIDE_WHITELIST)
    model = trace.model
    whitelisted = model.citizens.whitelisted
    outside = ~trace.live[:, region_of(model)]
    holding = trace.wallets != 0
    assert not (holding & outside & ~whitelisted[None, :]).any()
    # white lists did open wallets before the pilot reached those regions
    assert (holding & outside & whitelisted[None, :]).any()
    # but none before the white lists opened
    opened = np.array(model.dates) >= model.config.pilot.whitelist_start
    assert not (holding & outside)[~opened].any()


@pytest.mark.parametrize(
    ("engine", "overrides"),
    [("vectorized", ()), ("agents", ()), ("vectorized", WIDE_WHITELIST)],
    ids=["vectorized", "agents", "vectorized-wide-white-list"],
)
def test_wallets_are_never_closed_and_one_per_operator(engine, overrides):
    trace = traced_run("baseline", engine, overrides=overrides)
    wallets = trace.wallets
    n_banks = len(trace.model.bank_ids)
    assert np.all(wallets < (1 << n_banks))  # only the scenario's operators
    # a bit once set stays set: every step's mask contains the previous one
    assert np.all((wallets[1:] & wallets[:-1]) == wallets[:-1])
    # and only operators that had joined by then hold wallets
    joined = np.array(
        [[b.joins is not None and b.joins <= d for b in trace.model.banks] for d in trace.model.dates]
    )
    allowed = (joined * (1 << np.arange(n_banks))).sum(axis=1)
    assert np.all((wallets & ~allowed[:, None]) == 0)


@pytest.mark.parametrize("engine", ENGINES)
def test_recorded_totals_are_consistent(engine):
    trace = traced_run("baseline", engine)
    model, ts = trace.model, trace.timeseries
    regions = reported(model)
    opened = pivot(ts, "personal_wallets_opened")
    holders = pivot(ts, "citizens_with_wallet")
    population = pivot(ts, "population")
    active = pivot(ts, "active_users")
    tol = 1e-9 * population["national"].iloc[0]
    # personal wallets opened never falls, per region and nationally
    assert (opened.diff().iloc[1:] >= -tol).all().all()
    assert opened["national"].iloc[-1] > 0
    # holders never exceed the population, wallets never fall below the holders
    assert (holders <= population + tol).all().all()
    assert (opened >= holders - tol).all().all()
    assert (opened <= len(model.bank_ids) * holders + tol).all().all()
    assert (active <= holders + tol).all().all()
    # wallets per bank (reported nationally) add up to the wallets opened
    at = sum(pivot(ts, f"wallets_at:{bank}")["national"] for bank in model.bank_ids)
    pd.testing.assert_series_equal(at, opened["national"], check_exact=False, rtol=1e-9, check_names=False)
    shares = sum(pivot(ts, f"wallet_share:{bank}")["national"] for bank in model.bank_ids)
    assert np.allclose(shares[opened["national"] > 0], 1.0)
    # merchants: acceptance never falls and never exceeds the merchants there are
    merchants = pivot(ts, "merchants_accepting")
    assert (merchants.diff().iloc[1:] >= -tol).all().all()
    points = pivot(ts, "acceptance_scenarios")[regions].iloc[-1].to_numpy()
    assert np.all(points <= model.merchant_points_total[model.reported] * (1 + 1e-9))
    # the per-step totals agree with the wallets held by the agents themselves
    last = trace.wallets[-1]
    per_region = residents(model, last != 0)
    np.testing.assert_allclose(holders[regions].iloc[-1].to_numpy(), per_region[model.reported], rtol=1e-12)
    counts = np.bitwise_count(last.astype(np.uint64)).astype(np.float64)
    per_region = residents(model, counts)
    np.testing.assert_allclose(opened[regions].iloc[-1].to_numpy(), per_region[model.reported], rtol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_national_is_the_sum_of_regions(engine):
    trace = traced_run("baseline", engine)
    ts, model = trace.timeseries, trace.model
    lottery = ts["metric"].str.startswith("lottery_")
    share = ts["metric"].str.startswith(("wallet_share:", "wallets_at:"))  # national only
    # nationally every resident of the mainland, and all their payments
    population = ts["metric"].isin(["population", "payments_all_weekly", "payments_all_cumulative"])
    national_population = ts.loc[ts["metric"].eq("population") & ts["region"].eq("national"), "value"]
    assert national_population.eq(1_409_778_724).all()
    ratio = ts["metric"].isin(RATIOS)  # nationally the ratio of the national sums
    summed = ts[~lottery & ~share & ~population & ~ratio]
    regional = summed[summed["region"] != "national"].groupby(["date", "metric"])["value"].sum()
    national = summed[summed["region"] == "national"].set_index(["date", "metric"])["value"]
    pd.testing.assert_series_equal(
        regional.sort_index(), national.sort_index(), check_exact=False, rtol=1e-12, check_names=False
    )
    nation = ts[ts["region"].eq("national")].pivot(index="date", columns="metric", values="value")
    for name, (numerator, denominator) in RATIOS.items():
        np.testing.assert_allclose(nation[name], nation[numerator] / nation[denominator], rtol=1e-12)
    # every region and the nation appear at every date, for every metric
    assert set(summed["region"]) == {*reported(model), "national"}
    assert summed.groupby("metric")["date"].nunique().eq(len(model.dates)).all()
    assert ts[share]["region"].eq("national").all()
    # the live count is the number of live local governments (those not reported never go live)
    live = pivot(ts, "live")
    np.testing.assert_array_equal(
        live[reported(model)].to_numpy(), trace.live[:, model.reported].astype(float)
    )
    assert not trace.live[:, ~model.reported].any()


@pytest.mark.parametrize("engine", ENGINES)
def test_cumulative_metrics_are_running_sums(engine):
    ts = traced_run("baseline", engine).timeseries
    for weekly, cumulative in (
        ("transactions_weekly", "transactions_cumulative"),
        ("transaction_value_weekly", "transaction_value_cumulative"),
    ):
        w, c = pivot(ts, weekly), pivot(ts, cumulative)
        assert (w >= 0).all().all()
        pd.testing.assert_frame_equal(w.cumsum(), c, check_exact=False, rtol=1e-9)
        assert c["national"].iloc[-1] > 0


def test_citizens_frame_matches_the_engine_state(baseline_trace):
    model = baseline_trace.model
    for r in (0, len(model.region_names) - 1):
        frame = model.citizens_frame(r)
        sl = model.citizens.region_slice(r)
        np.testing.assert_array_equal(frame["wallets"].to_numpy(), baseline_trace.wallets[-1][sl])
        np.testing.assert_array_equal(frame["whitelisted"].to_numpy(), model.citizens.whitelisted[sl])
        np.testing.assert_array_equal(
            frame["wallet_count"].to_numpy(), np.bitwise_count(frame["wallets"].to_numpy())
        )
        holders = frame["wallets"].to_numpy() != 0
        assert (frame["holder_state"] == "no wallet").to_numpy().tolist() == (~holders).tolist()


# every pull towards a first wallet off but the lotteries (no app, no white lists, no campaigns, no
# organic, social or public-pay pull), to the end of 2021: the holders are exactly the lotteries' wallets
LOTTERY_ONLY = (
    ("behaviour.innovation", 0.0),
    ("behaviour.word_of_mouth", 0.0),
    ("behaviour.acceptance_pull", 0.0),
    ("behaviour.government_pull", 0.0),
    ("banks.target_intensity", 0.0),
    ("pilot.whitelist_share", 0.0),
    ("behaviour.dormancy_rate", 0.0),  # redeemed winners stay engaged: the engaged count is not zero
    ("run.end", "2021-12-31"),
)


@pytest.mark.parametrize("engine", ENGINES)
def test_holders_and_engaged_holders_are_counted_from_the_agents(engine):
    """The last step's holders, engaged holders and lottery wallets agree with the agents' own state."""
    trace = traced_run("baseline", engine, overrides=LOTTERY_ONLY)
    ts, model = trace.timeseries, trace.model
    regions = reported(model)
    c = model.citizens
    engaged = np.asarray(c.engaged, dtype=bool) & (np.asarray(c.wallets) != 0)
    per_region = residents(model, engaged)
    last = pivot(ts, "engaged_holders")[regions].iloc[-1].to_numpy()
    assert last.sum() > 0
    np.testing.assert_allclose(last, per_region[model.reported], rtol=1e-12)
    holders = pivot(ts, "citizens_with_wallet")["national"].iloc[-1]
    opened = ts.loc[ts["metric"].eq("lottery_wallets_opened"), "value"].sum()
    assert holders > 0 and opened == pytest.approx(holders, rel=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_steps_own_counts_are_this_steps(engine):
    """Active users are the holders who paid within the window at the last step, counted from the agents'
    last payment, and engaged payers never exceed engaged holders: the per-step counts start from zero
    every step instead of carrying on."""
    trace = traced_run("baseline", engine, overrides=LOTTERY_ONLY)
    ts, model = trace.timeseries, trace.model
    every, regions = len(model.region_names), reported(model)
    c = model.citizens
    paid = model.steps - np.asarray(c.last_paid, dtype=np.int64) < model.active_window
    active = np.bincount(region_of(model), weights=paid & (np.asarray(c.wallets) != 0), minlength=every)
    last = pivot(ts, "active_users")[regions].iloc[-1].to_numpy()
    assert last.sum() > 0
    np.testing.assert_allclose(last, (active * c.weight)[model.reported], rtol=1e-12)
    for prefix in ("age_", "income_q"):  # each partition of the residents adds up to the whole
        groups = ts["metric"].str.startswith(f"active_users:{prefix}") & ts["region"].eq("national")
        at_end = ts[groups & ts["date"].eq(ts["date"].max())]["value"]
        assert at_end.sum() == pytest.approx(last.sum(), rel=1e-12)
    payers = model.tally.payers.sum(axis=1)
    assert payers.sum() > 0 and (payers <= model.tally.engaged).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_holders_by_group_are_counted_from_the_agents(engine):
    """Residents with a wallet by age group and urban, at the last step, are the holders of that group among
    the agents; and each partition (age, urban or rural, income quintile) adds up to all holders."""
    trace = traced_run("baseline", engine)
    ts, model = trace.timeseries, trace.model
    c, end = model.citizens, ts["date"].max()
    national = ts[ts["region"].eq("national") & ts["date"].eq(end)].set_index("metric")["value"]
    held = trace.wallets[-1] != 0
    age, urban = np.asarray(c.age_group), np.asarray(c.urban, dtype=bool)
    groups = {"age_15_34": age == 0, "age_35_59": age == 1, "age_60_plus": age == 2, "urban": urban}
    for group, members in groups.items():
        mine = held & members
        agents = residents(model, mine).sum()
        assert national[f"citizens_with_wallet:{group}"] == pytest.approx(agents, rel=1e-12)
    holders = national["citizens_with_wallet"]
    for partition in (("age_",), ("urban", "rural"), ("income_q",)):
        parts = national[
            [m for m in national.index if m.startswith(tuple(f"citizens_with_wallet:{p}" for p in partition))]
        ]
        assert len(parts) >= 2 and parts.sum() == pytest.approx(holders, rel=1e-12)


def test_no_app_wallet_before_the_app_and_every_business_banks_with_a_live_operator(baseline_trace):
    """App wallets start with the public app (2022-01-04), lotteries before it included; and at the end
    every business, in every region, has an acquiring bank that has joined."""
    ts, model = baseline_trace.timeseries, baseline_trace.model
    app = pivot(ts, "app_wallets_opened")["national"]
    launch = pd.Timestamp(model.config.app.launch)
    assert (app[app.index < launch] == 0).all() and app.iloc[-1] > 0
    acquirer = np.asarray(model.businesses.acquirer)
    live = np.array([bank.live for bank in model.banks])
    assert (acquirer >= 0).all() and live[acquirer].all()


def test_lottery_wallets_opened_are_new_holders(baseline_trace):
    """A lottery's wallets opened are residents who held none: at every draw, in its region, no more than
    the rise in residents with a wallet over that step (after the app too, where entering is registering)."""
    ts = baseline_trace.timeseries
    opened = ts[ts["metric"].eq("lottery_wallets_opened")]
    holders = pivot(ts, "citizens_with_wallet")
    rise = holders.diff()
    assert (opened["date"] > pd.Timestamp("2022-01-04")).any()  # a draw after the public app
    for _, row in opened.iterrows():
        assert row["value"] <= rise.loc[row["date"], row["region"]] + 1e-6 * max(1.0, row["value"])


def test_business_payments_are_the_b2b_users_rule_of_each_step(baseline_trace):
    """Each region's B2B value of a step is rules.b2b_payments of its B2B users and businesses that step
    (quadratic in the users: a B2B user pays in e-CNY only the businesses that use it), and it is nil
    before any business pays another in e-CNY."""
    ts, model = baseline_trace.timeseries, baseline_trace.model
    regions = reported(model)
    users = pivot(ts, "b2b_users")[regions]
    value = pivot(ts, "transaction_value_corporate_weekly")[regions]
    firms = model.business_total[model.reported]
    expected = rules.b2b_payments(users.to_numpy(), firms[None, :], model.step_days / 7.0, model.behaviour)
    assert (users.to_numpy() > 0).any() and (users.to_numpy() == 0).any()
    np.testing.assert_allclose(value.to_numpy(), expected, rtol=1e-12, atol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_public_sector_holders_and_payers_are_counted_from_the_agents(engine):
    """The running count of holders paid from public funds (what e-CNY wages are paid to) is the number of
    public-sector agents with a wallet, region by region; and the last step's engaged payers are split by
    that attribute: each column counts the engaged holders of its own kind, in every region that accepts.
    Half the residents work in the public sector here, so that both kinds pay at the agents' scale."""
    trace = traced_run("baseline", engine, overrides=(("population.public_sector_share", 0.5),))
    model, tally = trace.model, trace.model.tally
    c, every = model.citizens, len(model.region_names)
    held = trace.wallets[-1] != 0
    public = np.asarray(c.public_sector, dtype=bool)
    per_region = np.bincount(region_of(model), weights=held & public, minlength=every)
    assert per_region.sum() > 0
    np.testing.assert_array_equal(tally.public_holders, per_region)
    engaged = held & np.asarray(c.engaged, dtype=bool)
    paying = tally.payers.sum(axis=1) > 0
    assert paying.any()
    for kind, members in ((0, ~public), (1, public)):
        mine = np.bincount(region_of(model), weights=engaged & members, minlength=every)
        assert mine[paying].sum() > 0
        np.testing.assert_array_equal(tally.payers[paying, kind], mine[paying])
