"""Common random numbers: a run does not depend on its horizon, a lever moves only what it touches, and an
agent is the same person in every scenario."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from conftest import scenario

from model import EcnyModel, Scenario

SCALE = 2e5


def _frame(s: Scenario, seed: int = 3, engine: str = "vectorized") -> pd.DataFrame:
    return EcnyModel(s, seed=seed, scale=SCALE, engine=engine).run().timeseries()


def _edit(s: Scenario, edit) -> Scenario:
    document = s.dump()
    edit(document)
    return Scenario.model_validate(document)


@pytest.mark.parametrize("whitelist", [0.0, 0.02], ids=["no_whitelist", "whitelist"])
def test_a_run_cut_short_is_the_full_run_up_to_its_end(whitelist):
    full_s = scenario(pilot__whitelist_share=whitelist)
    before = [lot.model_dump() for lot in full_s.incentives.lotteries if lot.end <= date(2022, 1, 5)]
    full = _frame(full_s)
    short = _frame(
        scenario(pilot__whitelist_share=whitelist, run__end="2022-01-05", incentives__lotteries=before)
    )
    assert short["date"].max() == pd.Timestamp("2022-01-05")
    head = full[full["date"] <= short["date"].max()].reset_index(drop=True)
    pd.testing.assert_frame_equal(short, head, check_exact=True)


def test_agent_17_of_shenzhen_is_the_same_person_whatever_the_other_regions():
    everywhere = EcnyModel(scenario(), seed=9, scale=SCALE)
    frozen = EcnyModel(scenario("no_expansion", pilot__whitelist_share=0.0), seed=9, scale=SCALE)
    assert len(frozen.citizens) < len(everywhere.citizens)  # the frozen pilot simulates fewer regions
    for region in ("Shenzhen", "Suzhou", "Chengdu"):
        a, b = everywhere.citizens_frame(region), frozen.citizens_frame(region)
        attributes = ["age_group", "urban", "habit", "income", "public_sector"]
        pd.testing.assert_frame_equal(a[attributes], b[attributes], check_exact=True)


def test_a_lottery_in_one_region_leaves_every_other_region_unchanged():
    """No channel between regions once banks spend the same yuan per resident everywhere."""
    base = scenario(banks__allocation="population")

    def double_shenzhen(document):
        for lottery in document["incentives"]["lotteries"]:
            if lottery["region"] == "Shenzhen":
                lottery["budget_yuan"] *= 2

    a, b = _frame(base), _frame(_edit(base, double_shenzhen))
    others = a["region"].ne("Shenzhen") & a["region"].ne("national")
    pd.testing.assert_series_equal(a.loc[others, "value"], b.loc[others, "value"], check_exact=True)
    shenzhen = a["region"].eq("Shenzhen") & a["metric"].eq("citizens_with_wallet")
    assert not a.loc[shenzhen, "value"].equals(b.loc[shenzhen, "value"])


def test_wages_in_one_region_move_that_region_only_and_only_from_their_start():
    base = scenario(banks__allocation="population")

    def more_wages(document):
        document["government"]["wages"] = [{"region": "Suzhou", "start": "2021-03-01", "share": 0.5}]

    a, b = _frame(base), _frame(_edit(base, more_wages))
    others = a["region"].ne("Suzhou") & a["region"].ne("national")
    pd.testing.assert_series_equal(a.loc[others, "value"], b.loc[others, "value"], check_exact=True)
    suzhou = a["region"].eq("Suzhou") & a["metric"].eq("transaction_value_government_cumulative")
    before = suzhou & (a["date"] < pd.Timestamp("2020-05-01"))
    pd.testing.assert_series_equal(a.loc[before, "value"], b.loc[before, "value"], check_exact=True)
    assert b.loc[suzhou, "value"].iloc[-1] > 1.2 * a.loc[suzhou, "value"].iloc[-1]


def test_one_regions_go_live_date_leaves_every_other_region_unchanged():
    base = scenario(banks__allocation="population")
    later = scenario(banks__allocation="population", pilot__region_start__Dalian="2021-09-01")
    a, b = _frame(base), _frame(later)
    others = a["region"].ne("Dalian") & a["region"].ne("national")
    pd.testing.assert_series_equal(a.loc[others, "value"], b.loc[others, "value"], check_exact=True)
    dalian = a["region"].eq("Dalian") & a["metric"].eq("live")
    assert not a.loc[dalian, "value"].equals(b.loc[dalian, "value"])


def test_with_budgets_following_the_market_a_lottery_reaches_other_regions_through_the_banks():
    """The one channel between regions, named and switchable: banks move budget to where wallets are few."""
    base = scenario(banks__allocation="market_left")

    def no_shenzhen_lotteries(document):
        document["incentives"]["lotteries"] = [
            lot for lot in document["incentives"]["lotteries"] if lot["region"] != "Shenzhen"
        ]

    a, b = _frame(base), _frame(_edit(base, no_shenzhen_lotteries))
    tianjin = a["region"].eq("Tianjin") & a["metric"].eq("personal_wallets_opened")
    assert not a.loc[tianjin, "value"].equals(b.loc[tianjin, "value"])


def test_removing_a_bank_moves_only_the_businesses_it_acquired():
    """A business keeps its own ranking of banks, so without MYbank only MYbank's businesses move."""
    short = {"run__end": "2021-06-30", "incentives__lotteries": []}
    with_bank = EcnyModel(scenario(**short), seed=4, scale=SCALE).run()
    without_bank = EcnyModel(
        scenario(banks__operators__MYbank__joins="never", **short), seed=4, scale=SCALE
    ).run()
    banks_a, banks_b = with_bank.bank_ids, without_bank.bank_ids
    assert "MYbank" in banks_a and "MYbank" not in banks_b
    acquirer_a = np.array(banks_a + ["-"])[with_bank.businesses.acquirer]
    acquirer_b = np.array(banks_b + ["-"])[without_bank.businesses.acquirer]
    moved = acquirer_a != acquirer_b
    assert moved.any() and np.all(acquirer_a[moved] == "MYbank")


def test_a_bank_that_joins_without_pull_moves_no_business():
    """A bank of reach 0 takes no business when it joins, and none loses the bank it had."""
    short = {"run__end": "2021-06-30", "incentives__lotteries": []}
    never = EcnyModel(scenario(banks__operators__MYbank__joins="never", **short), seed=4, scale=SCALE).run()
    unpulled = EcnyModel(scenario(banks__operators__MYbank__reach=0.0, **short), seed=4, scale=SCALE).run()
    assert "MYbank" in unpulled.bank_ids and "MYbank" not in never.bank_ids
    named = np.array(unpulled.bank_ids + ["-"])[unpulled.businesses.acquirer]
    assert (named != "-").any()
    assert np.array_equal(named, np.array(never.bank_ids + ["-"])[never.businesses.acquirer])


def test_a_lever_that_only_raises_a_probability_only_adds_adopters():
    """Per-agent draws make adoption monotone in a pull, agent by agent (a Bass-type comparison)."""
    low = EcnyModel(scenario(run__end="2021-06-30", incentives__lotteries=[]), seed=2, scale=SCALE).run()
    high_s = scenario(
        run__end="2021-06-30",
        incentives__lotteries=[],
        behaviour__innovation=scenario().behaviour.innovation * 3,
    )
    high = EcnyModel(high_s, seed=2, scale=SCALE)
    for _ in range(len(high.dates)):
        high.step()
    held_low = low.citizens.wallets != 0
    held_high = high.citizens.wallets != 0
    assert held_high.sum() > held_low.sum() >= 20  # enough adopters to compare
    # most earlier adopters keep adopting (a later wave of word of mouth can reorder a few)
    assert (held_low & held_high).sum() >= 0.95 * held_low.sum()
    assert date(2021, 6, 30) == low.dates[-1]
