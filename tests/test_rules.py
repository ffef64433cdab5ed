"""The behaviour rules: bounds, monotonicity over grids, conservation, sampling, scalar/array agreement."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import scenario

from model import rules
from model.behaviour import Behaviour

DT = 7 / 365.25
GRID = np.linspace(0.0, 1.0, 11)

BEHAVIOURS = {
    "defaults": Behaviour(),
    "calibrated": scenario().behaviour,
    "no_floor_mixed": Behaviour(habit_floor=0.0, wom_mixing=0.5),
    "region_wide": Behaviour(wom_mixing=1.0, word_of_mouth=3.0, habit_floor=1.0),
    "zero_pulls": Behaviour(innovation=0, word_of_mouth=0, acceptance_pull=0, marketing_pull=0),
}
if "acceptance_elasticity" in Behaviour.model_fields:  # concave use in acceptance
    BEHAVIOURS["concave_use"] = Behaviour(
        acceptance_elasticity=0.4, ecny_share_max=0.9, interop_share_boost=2.0
    )


@pytest.fixture(params=list(BEHAVIOURS), ids=list(BEHAVIOURS))
def b(request) -> Behaviour:
    return BEHAVIOURS[request.param]


def non_decreasing(values: np.ndarray, axis: int) -> bool:
    return bool(np.all(np.diff(values, axis=axis) >= -1e-15))


def open_rate_grid(b: Behaviour) -> np.ndarray:
    """open_wallet_rate over a 6-d grid: habit, network, region, acceptance, marketing, public sector."""
    habit, network, region, acceptance = np.meshgrid(GRID, GRID, GRID, GRID, indexing="ij", sparse=True)
    marketing = np.array([0.0, 0.5, 2.0, 10.0]).reshape(1, 1, 1, 1, 4, 1)
    public = np.array([False, True]).reshape(1, 1, 1, 1, 1, 2)
    return rules.open_wallet_rate(
        habit[..., None, None],
        network[..., None, None],
        region[..., None, None],
        acceptance[..., None, None],
        marketing,
        public,
        0.05,
        b,
    )


# ---------------------------------------------------------------- probabilities


def test_probability_matches_constant_hazard_and_is_bounded():
    rate = np.concatenate([[0.0], np.logspace(-6, 4, 200), [np.inf]])
    for dt in (1 / 365.25, DT, 1.0):
        p = rules.probability(rate, dt)
        assert np.all((p >= 0) & (p <= 1))
        np.testing.assert_allclose(p[:-1], 1 - np.exp(-rate[:-1] * dt), rtol=1e-12, atol=1e-15)
        assert p[-1] == 1.0
        assert non_decreasing(p, 0)
    # tiny rates keep their precision (expm1): 1 - exp(-x) would round to 0
    assert rules.probability(1e-20, 1.0) == pytest.approx(1e-20, rel=1e-12)


def test_every_rule_output_is_a_probability_or_a_nonnegative_rate(b):
    rate = open_rate_grid(b)
    assert np.all(rate >= 0)
    p = rules.probability(rate, DT)
    assert np.all((p >= 0) & (p <= 1))
    habit = rules.habit_weight(GRID, b)
    assert np.all((habit >= b.habit_floor - 1e-12) & (habit <= 1 + 1e-12))
    share = rules.ecny_payment_share(GRID[:, None], GRID[None, :], 1.0, True, b)
    assert np.all((share >= 0) & (share <= 1))
    pays = rules.pays_probability(share, 1.0, b)
    assert np.all((pays >= 0) & (pays <= 1))
    entry = rules.lottery_entry_probability(GRID, 1e9, 1e3, b)
    assert np.all((entry >= 0) & (entry <= 1))


# ---------------------------------------------------------------- monotonicity


def test_more_acceptance_never_lowers_the_first_wallet_rate_or_probability(b):
    rate = open_rate_grid(b)
    assert non_decreasing(rate, axis=3)
    assert non_decreasing(rules.probability(rate, DT), axis=3)


def test_more_word_of_mouth_never_lowers_adoption(b):
    rate = open_rate_grid(b)
    for axis in (1, 2):  # network share, region share
        assert non_decreasing(rate, axis)
        assert non_decreasing(rules.probability(rate, DT), axis)
    # and a stronger word-of-mouth coefficient never lowers it either
    q = np.linspace(0, 5, 21)
    stronger = [
        rules.open_wallet_rate(
            GRID, 0.3, 0.2, 0.1, 1.0, False, 0.0, b.model_copy(update={"word_of_mouth": v})
        )
        for v in q
    ]
    assert non_decreasing(np.array(stronger), axis=0)


def test_more_marketing_habit_and_public_pay_never_lower_the_first_wallet_rate(b):
    rate = open_rate_grid(b)
    for axis in (0, 4, 5):  # habit, marketing, public sector
        assert non_decreasing(rate, axis)


def test_acceptance_raises_the_first_wallet_rate_when_it_pulls():
    b = Behaviour(acceptance_pull=0.5)
    low, high = rules.open_wallet_rate(0.5, 0.1, 0.1, np.array([0.1, 0.9]), 0.0, False, 0.0, b)
    assert high > low


def test_bigger_lottery_budget_never_lowers_entry_or_expected_entrants(b):
    habit = np.random.default_rng(3).beta(6, 2, size=500)
    budgets = np.concatenate([[-1e6, 0.0], np.logspace(3, 10, 40)])
    p = rules.lottery_entry_probability(habit[None, :], budgets[:, None], 17.6e6, b)
    assert p.shape == (budgets.size, habit.size)
    assert non_decreasing(p, axis=0)
    assert np.all(p[:2] == 0)  # no money, no entrants
    entrants = p.sum(axis=1) * 17.6e6 / habit.size
    assert non_decreasing(entrants, axis=0)
    if b.lottery_entry > 0:
        assert entrants[-1] > entrants[2] > 0


def test_lottery_without_residents_draws_nobody():
    b = Behaviour()
    assert rules.lottery_entry_probability(0.9, 1e7, 0.0, b) == 0.0
    p = rules.lottery_entry_probability(0.9, 1e7, np.array([0.0, 1e6]), b)
    assert p[0] == 0.0 and p[1] > 0


def test_higher_incumbent_fee_never_lowers_merchant_acceptance(b):
    fee = np.linspace(0.0, 0.05, 26).reshape(-1, 1, 1, 1)
    customers = GRID.reshape(1, -1, 1, 1)
    marketing = np.array([0.0, 1.0, 10.0]).reshape(1, 1, -1, 1)
    public = np.array([False, True]).reshape(1, 1, 1, -1)
    for interoperable in (False, True):
        rate = rules.merchant_accept_rate(customers, fee, marketing, public, 0.5, interoperable, b)
        assert rate.shape == (26, 11, 3, 2)
        assert np.all(rate >= 0)
        for axis in range(4):  # fee, customers, acquirer marketing, public service
            assert non_decreasing(rate, axis)
            assert non_decreasing(rules.probability(rate, DT), axis)


def test_acceptance_lowers_dormancy_and_raises_reactivation(b):
    assert non_decreasing(-rules.dormancy_rate(GRID, b), 0)
    assert non_decreasing(rules.reactivation_rate(GRID, b), 0)
    assert non_decreasing(rules.ecny_payment_share(GRID, 0.0, 0.0, False, b), 0)


# ---------------------------------------------------------------- budget allocation


@pytest.mark.parametrize("seed", range(20))
def test_allocate_budget_conserves_the_budget_and_skips_regions_not_live(seed):
    rng = np.random.default_rng(seed)
    regions = 32
    population = rng.uniform(1e6, 1e8, regions)
    adopted = rng.uniform(0, 0.99, regions)
    live = rng.random(regions) < 0.5
    live[rng.integers(regions)] = True
    budget = rng.uniform(1e6, 1e9)
    spend = rules.allocate_budget(budget, population, adopted, live)
    assert spend.shape == (regions,)
    assert np.all(spend >= 0)
    assert np.all(spend[~live] == 0)
    assert spend.sum() == pytest.approx(budget, rel=1e-12)
    assert np.all(spend[live] > 0)


def test_allocate_budget_spends_nothing_when_no_region_is_live_or_left_to_win():
    population = np.array([1e6, 2e6, 3e6])
    none_live = rules.allocate_budget(1e8, population, np.zeros(3), np.zeros(3, bool))
    np.testing.assert_array_equal(none_live, 0.0)
    saturated = rules.allocate_budget(1e8, population, np.ones(3), np.ones(3, bool))
    np.testing.assert_array_equal(saturated, 0.0)
    # more market left to win draws more of the budget
    spend = rules.allocate_budget(1e8, np.full(3, 1e6), np.array([0.9, 0.5, 0.1]), np.ones(3, bool))
    assert spend[0] < spend[1] < spend[2]


# ---------------------------------------------------------------- random choices


def test_choose_bank_frequencies_match_attractiveness():
    attractiveness = np.array([1.2, 0.0, 0.9, 3.0, 0.1, 0.0, 0.6])
    draws = 100_000
    u = np.random.default_rng(20200401).random(draws)
    chosen = rules.choose_bank(u, attractiveness)
    counts = np.bincount(chosen, minlength=attractiveness.size)
    p = attractiveness / attractiveness.sum()
    # each count is binomial(draws, p_j): within 5 standard deviations (false alarm < 1e-5 per bank)
    sd = np.sqrt(draws * p * (1 - p))
    assert np.all(np.abs(counts - draws * p) <= 5 * sd + 1e-9), (counts, draws * p)
    assert np.all(counts[attractiveness == 0] == 0)
    # and jointly: Pearson's chi-square over the banks that can be chosen, 4 d.o.f., P(X > 23.5) < 1e-4
    k = attractiveness > 0
    chi2 = np.sum((counts[k] - draws * p[k]) ** 2 / (draws * p[k]))
    assert chi2 < 23.5


def test_choose_bank_edges():
    attractiveness = np.array([0.0, 2.0, 0.0, 1.0, 0.0])
    edges = np.array([0.0, np.nextafter(2 / 3, 0), 2 / 3, np.nextafter(1.0, 0)])
    np.testing.assert_array_equal(rules.choose_bank(edges, attractiveness), [1, 1, 3, 3])
    assert rules.choose_bank(0.5, np.zeros(4)) == -1
    assert rules.choose_bank(0.5, np.zeros(0)) == -1
    np.testing.assert_array_equal(rules.choose_bank(np.array([0.1, 0.9]), np.zeros(3)), [-1, -1])


def test_draw_winners_are_unique_entrants():
    rng = np.random.default_rng(7)
    entrants = np.sort(rng.choice(100_000, size=5_000, replace=False)).astype(np.intp)
    for winners in (0, 1, 10, 4_999, 5_000, 6_000):
        drawn = rules.draw_winners(rng, entrants, winners)
        assert drawn.size == min(winners, entrants.size)
        assert np.unique(drawn).size == drawn.size
        assert np.all(np.isin(drawn, entrants))
    assert rules.draw_winners(rng, np.zeros(0, np.intp), 3).size == 0


def test_draw_winners_is_uniform_over_entrants():
    rng = np.random.default_rng(11)
    entrants = np.arange(10, dtype=np.intp)
    hits = np.zeros(10)
    for _ in range(4_000):
        hits[rules.draw_winners(rng, entrants, 3)] += 1
    # each entrant wins with probability 0.3: 1,200 expected, binomial sd ~29
    assert np.all(np.abs(hits - 1_200) < 5 * np.sqrt(4_000 * 0.3 * 0.7))


def test_stochastic_round_is_unbiased_and_adjacent():
    rng = np.random.default_rng(5)
    for x in (0.0, 0.25, 3.5, 7.9, 12.0):
        values = np.array([rules.stochastic_round(rng, x) for _ in range(20_000)])
        assert set(np.unique(values)) <= {int(np.floor(x)), int(np.ceil(x))}
        assert values.mean() == pytest.approx(x, abs=5 * 0.5 / np.sqrt(20_000))


# ---------------------------------------------------------------- scalars and arrays agree


def test_scalars_and_arrays_give_the_same_results(b):
    rng = np.random.default_rng(42)
    n = 25
    habit, network, region, acceptance = rng.random((4, n))
    marketing = rng.uniform(0, 5, n)
    public = rng.random(n) < 0.3
    customers, intensity = rng.random(n), rng.uniform(0, 2, n)
    budgets, residents = rng.uniform(-1e6, 1e8, n), rng.uniform(0, 1e7, n)
    vector = {
        "open": rules.open_wallet_rate(habit, network, region, acceptance, marketing, public, 0.05, b),
        "whitelist": rules.whitelist_rate(habit, b),
        "extra": rules.extra_wallet_rate(intensity, marketing, b),
        "dormancy": rules.dormancy_rate(acceptance, b),
        "wake": rules.reactivation_rate(acceptance, b),
        "share": rules.ecny_payment_share(acceptance, public, 0.05, True, b),
        "pays": rules.pays_probability(acceptance, 1.0, b),
        "merchant": rules.merchant_accept_rate(customers, 0.006, marketing, public, 0.5, True, b),
        "lottery": rules.lottery_entry_probability(habit, budgets, residents, b),
        "probability": rules.probability(marketing, DT),
    }
    for i in range(n):
        scalar = {
            "open": rules.open_wallet_rate(
                float(habit[i]),
                float(network[i]),
                float(region[i]),
                float(acceptance[i]),
                float(marketing[i]),
                bool(public[i]),
                0.05,
                b,
            ),
            "whitelist": rules.whitelist_rate(float(habit[i]), b),
            "extra": rules.extra_wallet_rate(float(intensity[i]), float(marketing[i]), b),
            "dormancy": rules.dormancy_rate(float(acceptance[i]), b),
            "wake": rules.reactivation_rate(float(acceptance[i]), b),
            "share": rules.ecny_payment_share(float(acceptance[i]), bool(public[i]), 0.05, True, b),
            "pays": rules.pays_probability(float(acceptance[i]), 1.0, b),
            "merchant": rules.merchant_accept_rate(
                float(customers[i]), 0.006, float(marketing[i]), bool(public[i]), 0.5, True, b
            ),
            "lottery": rules.lottery_entry_probability(
                float(habit[i]), float(budgets[i]), float(residents[i]), b
            ),
            "probability": rules.probability(float(marketing[i]), DT),
        }
        for name, value in scalar.items():
            assert np.ndim(value) == 0, name
            assert float(value) == pytest.approx(float(vector[name][i]), rel=1e-12, abs=1e-300), name
    attractiveness = rng.uniform(0, 1, 6)
    u = rng.random(n)
    chosen = rules.choose_bank(u, attractiveness)
    assert [int(rules.choose_bank(float(x), attractiveness)) for x in u] == chosen.tolist()
