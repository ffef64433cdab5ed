"""The behaviour rules: every input a rule reads moves its output, each docstring's "Reads:" is what the rule
reads, the stated equations and directions hold, and the compiled rule is the Python rule."""

from __future__ import annotations

import inspect
import math
import re

import numba
import numpy as np
import pytest
from conftest import scenario

from model import draws, phases, rules
from model.behaviour import Behaviour

DT = 7 / 365.25
# parameters at values where every input moves its rule (the shipped interop_share_boost of 0 switches
# the share's rise after interoperability off)
BASE = Behaviour(
    wom_mixing=0.3, habit_floor=0.2, pushed_engagement=0.4, acceptance_elasticity=0.7, interop_share_boost=0.5
)


class Reads:
    """Stands for the parameters ``b`` and records which of them a rule reads."""

    def __init__(self, b: Behaviour) -> None:
        self._b, self.names = b, set()

    def __getattr__(self, name: str):
        self.names.add(name)
        return getattr(self._b, name)


# rule -> a point where every input matters (interior shares, the cap of 1 not reached)
POINTS = {
    rules.open_wallet_rate: dict(
        habit=0.5,
        network_share=0.3,
        region_share=0.2,
        acceptance=0.1,
        campaign=2.0,
        public_sector=True,
        payroll_share=0.1,
    ),
    rules.organic_wallet_rate: dict(
        habit=0.5, network_share=0.3, region_share=0.2, acceptance=0.1, public_sector=True, payroll_share=0.1
    ),
    rules.wake_rate: dict(
        habit=0.5, network_share=0.3, region_share=0.2, acceptance=0.1, public_sector=True, payroll_share=0.1
    ),
    rules.opening_engagement: dict(rate=0.5, habit=0.5, campaign=2.0),
    rules.app_wallet_rate: dict(habit=0.5, app_share=0.2, interoperable=True, interest=0.01),
    rules.whitelist_rate: dict(habit=0.5),
    rules.habit_weight: dict(habit=0.5),
    rules.merchant_accept_rate: dict(
        customer_share=0.1,
        incumbent_fee=0.006,
        acquirer_campaign=2.0,
        public_service=True,
        public_service_acceptance=0.5,
        interoperable=True,
    ),
    rules.lottery_entry_probability: dict(habit=0.5, budget_yuan=1e7, residents=1.7e7),
    rules.corporate_wallet_rate: dict(acquirer_campaign=2.0, programme=3.0, public_body=True, mandate=0.5),
    rules.b2b_rate: dict(b2b_share=0.2, programme=3.0),
    rules.extra_wallet_rate: dict(campaign=2.0),
    rules.dormancy_rate: dict(acceptance=0.3, interest=0.01),
    rules.ecny_payment_share: dict(acceptance=0.3, public_sector=1.0, payroll_share=0.1, interoperable=True),
    rules.ecny_payments: dict(share=0.05, weeks=1.0),
    rules.pays_probability: dict(share=0.05, weeks=1.0),
    rules.personal_balances: dict(retail_yuan=1e6, wages_yuan=2e5, dormant=3e4, interest=0.01),
    rules.corporate_balances: dict(business_yuan_per_week=5e7, interest=0.01),
    rules.b2b_payments: dict(users=2e5, firms=1e6, weeks=1.0),
}
# inputs a rule's output does not fall with (a flag: True does not lower it)
NON_DECREASING = {
    rules.open_wallet_rate: set(POINTS[rules.open_wallet_rate]),
    rules.merchant_accept_rate: set(POINTS[rules.merchant_accept_rate]),
    rules.whitelist_rate: {"habit"},
    rules.app_wallet_rate: {"habit", "interoperable", "interest"},  # app_share: saturates at app_market
    rules.corporate_wallet_rate: set(POINTS[rules.corporate_wallet_rate]),
    rules.b2b_rate: set(POINTS[rules.b2b_rate]),
    rules.personal_balances: set(POINTS[rules.personal_balances]),
    rules.lottery_entry_probability: {"habit", "budget_yuan"},
    rules.organic_wallet_rate: set(POINTS[rules.organic_wallet_rate]),
    rules.wake_rate: set(POINTS[rules.wake_rate]),
    rules.ecny_payment_share: set(POINTS[rules.ecny_payment_share]),
    rules.ecny_payments: set(POINTS[rules.ecny_payments]),
    rules.pays_probability: set(POINTS[rules.pays_probability]),
    rules.b2b_payments: {"users", "weeks"},
}


def _moved(value):
    if isinstance(value, bool):
        return not value
    return value + 0.3 * (1.0 - value) if 0.0 <= value < 1.0 else value * 1.3  # up, shares stay in [0, 1]


def _documented_reads(rule) -> set[str]:
    found = re.search(r"Reads:(.*?)(?:\.\s|\.$)", inspect.getdoc(rule) or "", re.S)
    return {name.strip() for name in found.group(1).replace("\n", " ").split(",")} if found else set()


def _call(rule, point, b):
    return float(np.asarray(rule(**point, b=b)))


@pytest.mark.parametrize("rule", list(POINTS), ids=lambda r: r.__name__)
def test_every_input_of_a_rule_moves_its_output(rule):
    point = POINTS[rule]
    base = _call(rule, point, BASE)
    assert math.isfinite(base)
    for name, value in point.items():
        moved = _call(rule, {**point, name: _moved(value)}, BASE)
        assert moved != base, f"{rule.__name__} ignores its input {name}"
        if name in NON_DECREASING.get(rule, ()):
            rises = moved > base if not isinstance(value, bool) else (base > moved) == value
            assert rises, f"{rule.__name__} falls as {name} rises"
    recorder = Reads(BASE)
    _call(rule, point, recorder)
    for name in recorder.names:
        moved = _call(rule, point, BASE.model_copy(update={name: _moved(getattr(BASE, name))}))
        assert moved != base, f"{rule.__name__} reads {name} but does not use it"


@pytest.mark.parametrize("rule", list(POINTS), ids=lambda r: r.__name__)
def test_a_rule_reads_the_parameters_its_docstring_names(rule):
    recorder = Reads(BASE)
    _call(rule, POINTS[rule], recorder)
    documented = _documented_reads(rule)
    assert recorder.names == documented, f"{rule.__name__}: reads {recorder.names}, says {documented}"


PER_AGENT = [
    rules.open_wallet_rate,
    rules.opening_engagement,
    rules.whitelist_rate,
    rules.app_wallet_rate,
    rules.merchant_accept_rate,
    rules.corporate_wallet_rate,
    rules.b2b_rate,
    rules.lottery_entry_probability,
]


@pytest.mark.parametrize("rule", PER_AGENT, ids=lambda r: r.__name__)
def test_the_compiled_rule_is_the_python_rule(rule):
    compiled = numba.njit(rule)
    rng = np.random.default_rng(7)
    b = scenario().behaviour.params()
    for _ in range(200):
        point = {
            k: (bool(rng.random() < 0.5) if isinstance(v, bool) else float(v * rng.uniform(0, 3)))
            for k, v in POINTS[rule].items()
        }
        assert compiled(*point.values(), b) == rule(**point, b=b)


def test_probability_is_the_constant_hazard_and_occurs_is_exactly_u_below_it():
    rate = np.concatenate([[0.0], np.logspace(-6, 4, 200)])
    for dt in (1 / 365.25, DT, 1.0):
        p = rules.probability(rate, dt)
        np.testing.assert_allclose(p, 1 - np.exp(-rate * dt), rtol=1e-12, atol=1e-15)
        assert np.all(np.diff(p) >= 0) and np.all((p >= 0) & (p <= 1))
    assert rules.probability(1e-20, 1.0) == pytest.approx(1e-20, rel=1e-12)  # expm1 keeps tiny rates
    rng = np.random.default_rng(1)
    u, r = rng.random(20000), np.exp(rng.uniform(-8, 4, 20000))
    expected = u < rules.probability(r, DT)
    assert [rules.occurs(float(a), float(b), DT) for a, b in zip(u, r, strict=True)] == expected.tolist()
    assert 0 < expected.mean() < 1


def test_the_bass_model_is_the_first_wallet_rate_with_other_pulls_off():
    b = Behaviour(innovation=0.03, word_of_mouth=0.38, wom_mixing=1.0, habit_floor=1.0)
    for share in (0.0, 0.2, 0.9):
        rate = rules.open_wallet_rate(0.1, 0.7, share, 0.0, 0.0, False, 0.0, b)
        assert rate == pytest.approx(0.03 + 0.38 * share)


def test_the_organic_rate_is_its_equation():
    """w(habit) (p + q w + acceptance_pull a + government_pull g public), each pull at its own weight."""
    b = BASE.model_copy(update={"habit_floor": 1.0, "wom_mixing": 0.25})
    habit, network, region, acceptance, payroll = 0.6, 0.3, 0.1, 0.4, 0.5
    mix = 0.75 * network + 0.25 * region
    private = b.innovation + b.word_of_mouth * mix + b.acceptance_pull * acceptance
    for public in (False, True):
        rate = rules.organic_wallet_rate(habit, network, region, acceptance, public, payroll, b)
        expected = private + (b.government_pull * payroll if public else 0.0)
        assert rate == pytest.approx(expected, rel=1e-12)


def test_opening_engagement_limits():
    b = BASE.model_copy(update={"habit_floor": 1.0, "campaign_pull": 0.01})
    pushed_only = rules.opening_engagement(b.campaign_pull * 5.0, 0.5, 5.0, b)
    assert pushed_only == pytest.approx(b.pushed_engagement)  # every opening was pushed
    assert rules.opening_engagement(0.3, 0.5, 0.0, b) == 1.0  # nothing pushed
    assert rules.opening_engagement(0.0, 0.5, 5.0, b) == 1.0  # no hazard at all
    assert rules.opening_engagement(0.3, 0.5, 5.0, BASE.model_copy(update={"pushed_engagement": 1.0})) == 1.0


def test_payment_share_is_capped_and_zero_without_acceptance():
    b = BASE.model_copy(update={"ecny_share_max": 0.9, "interop_share_boost": 5.0})
    assert rules.ecny_payment_share(1.0, 1.0, 1.0, True, b) == 1.0
    assert rules.ecny_payment_share(0.0, 1.0, 1.0, True, b) == 0.0
    assert 0 < rules.pays_probability(0.05, 1.0, b) < rules.ecny_payments(0.05, 1.0, b)


def test_luohu_lottery_entry_is_about_its_published_eleven_percent():
    b = scenario().behaviour
    habit = np.random.default_rng(2).beta(0.85 * 8, 0.15 * 8, 20000)  # habits like an urban region's
    entry = np.mean([rules.lottery_entry_probability(h, 1e7, 17.56e6, b) for h in habit])
    assert 1.913847e6 / 17.56e6 * 0.75 < entry < 1.913847e6 / 17.56e6 * 1.25
    assert rules.lottery_entry_probability(0.5, 1e7, 0.0, b) == 0.0
    assert rules.lottery_entry_probability(0.5, -5.0, 1e6, b) == 0.0
    assert rules.lottery_entry_probability(0.5, 100.0, 1.0, b) > 0.0  # one resident is a region too
    assert rules.lottery_entry_probability(0.5, 0.5, 1.0, b) > 0.0  # and half a yuan a prize budget


@pytest.mark.parametrize("seed", range(5))
def test_budgets_are_conserved_and_spent_only_where_live(seed):
    rng = np.random.default_rng(seed)
    pop, adopted, live = rng.uniform(1e5, 2e7, 12), rng.uniform(0, 0.9, 12), rng.random(12) < 0.6
    live[0] = True
    spend = rules.allocate_budget(3e8, pop, adopted, live)
    assert spend.sum() == pytest.approx(3e8) and np.all(spend[~live] == 0)
    # more left to win, more budget per resident
    per_resident = spend[live] / pop[live]
    left = 1 - adopted[live]
    assert np.all(np.diff(per_resident[np.argsort(left)]) >= -1e-12)
    flat = rules.allocate_by_population(3e8, pop, live, pop.sum())
    assert np.allclose(flat[live] / pop[live], 3e8 / pop.sum()) and np.all(flat[~live] == 0)
    assert not rules.allocate_budget(3e8, pop, adopted, np.zeros(12, bool)).any()
    assert not rules.allocate_budget(3e8, pop, np.ones(12), live).any()


def test_stochastic_round_is_unbiased_and_adjacent():
    u = np.random.default_rng(4).random(100000)
    counts = np.array([rules.stochastic_round(float(v), 7.3) for v in u])
    assert set(counts.tolist()) == {7, 8}
    assert counts.mean() == pytest.approx(7.3, abs=0.01)
    assert rules.stochastic_round(0.999, 4.0) == 4


def test_bank_attractiveness_reads_every_input():
    base = rules.bank_attractiveness(True, 1.0, 2.0)
    assert base == 3.0 and rules.bank_attractiveness(False, 1.0, 2.0) == 0.0
    for moved in ((True, 1.5, 2.0), (True, 1.0, 2.5)):
        assert rules.bank_attractiveness(*moved) > base


def test_business_campaign_is_a_banks_campaign_over_its_share_of_businesses():
    """m_j / s_j with s_j = pull_j / sum(pull): its businesses' average is the region's whole campaign,
    so one bank alone pushes a business no harder than all the banks together."""
    campaign = np.array([[2.0, 1.0], [1.0, 0.5], [3.0, 0.0]])  # banks x regions
    pull = np.array([1.0, 3.0, 0.0])  # the third bank has no businesses (not live)
    with np.errstate(all="raise"):  # a bank without businesses is not divided by its zero share
        felt = rules.business_campaign(campaign, pull)
    share = pull / pull.sum()
    np.testing.assert_allclose(felt[:2], campaign[:2] / share[:2, None])
    assert np.all(felt[2] == 0.0)
    np.testing.assert_allclose((share[:, None] * felt).sum(axis=0), campaign[:2].sum(axis=0))
    # each input moves it: a bank's own campaign, its pull (its share) and another bank's pull
    assert rules.business_campaign(campaign * [[2.0], [1.0], [1.0]], pull)[0, 0] > felt[0, 0]
    assert rules.business_campaign(campaign, pull * [2.0, 1.0, 1.0])[0, 0] < felt[0, 0]
    assert rules.business_campaign(campaign, pull * [1.0, 2.0, 1.0])[0, 0] > felt[0, 0]
    # one bank with every business feels its own campaign only
    alone = rules.business_campaign(campaign[:1], pull[:1])
    np.testing.assert_allclose(alone, campaign[:1])
    assert np.all(rules.business_campaign(campaign, np.zeros(3)) == 0.0)


def test_choose_bank_frequencies_match_the_pull_and_a_change_moves_only_its_bank():
    keys = draws.Keys(5)
    bank_keys = tuple(keys[f"bank_choice:{b}"] for b in ("A", "B", "C", "D"))
    pull = np.array([1.0, 0.0, 3.0, 6.0])
    words = [draws.agent_day(draws.agent_key(1, i), 738000) for i in range(40000)]
    chosen = np.array([phases.choose_bank(w, pull, bank_keys) for w in words])
    freq = np.bincount(chosen, minlength=4) / chosen.size
    np.testing.assert_allclose(freq, pull / pull.sum(), atol=0.01)
    more_c = pull * np.array([1.0, 1.0, 2.0, 1.0])
    again = np.array([phases.choose_bank(w, more_c, bank_keys) for w in words])
    moved = again != chosen
    assert moved.any() and np.all(again[moved] == 2)  # only towards the bank whose pull rose
    assert phases.choose_bank(words[0], np.zeros(4), bank_keys) == -1


def test_interest_scales_each_rule_as_its_equation_says():
    """Interest i enters as (1 + k * 100 * i): at i = 1% the factor is 1 + k, exactly (k = interest_use
    for use and dormancy, interest_holding for balances)."""
    b, i, a = BASE, 0.01, 0.3
    use, hold = 1.0 + b.interest_use, 1.0 + b.interest_holding
    assert rules.dormancy_rate(a, i, b) * use == pytest.approx(rules.dormancy_rate(a, 0.0, b), rel=1e-12)
    app = rules.app_wallet_rate(0.5, 0.2, False, i, b) / rules.app_wallet_rate(0.5, 0.2, False, 0.0, b)
    assert app == pytest.approx(use, rel=1e-12)
    kept = rules.personal_balances(1e6, 2e5, 3e4, i, b) / rules.personal_balances(1e6, 2e5, 3e4, 0.0, b)
    assert kept == pytest.approx(hold, rel=1e-12)
    firms = rules.corporate_balances(5e7, i, b) / rules.corporate_balances(5e7, 0.0, b)
    assert firms == pytest.approx(hold, rel=1e-12)
    assert rules.corporate_balances(7e6, 0.0, b) == pytest.approx(b.corporate_float_days * 1e6, rel=1e-12)


def test_b2b_payments_grow_with_the_square_of_the_users_and_vanish_without_businesses():
    """users * b2b_yuan_per_week * weeks * users / firms: twice the users pay four times as much, and a
    region without businesses (or without B2B users) pays nothing."""
    b = BASE
    one = float(rules.b2b_payments(1e5, 1e6, 1.0, b))
    assert one == pytest.approx(1e5 * b.b2b_yuan_per_week * 0.1, rel=1e-12)
    assert float(rules.b2b_payments(2e5, 1e6, 1.0, b)) == pytest.approx(4.0 * one, rel=1e-12)
    assert float(rules.b2b_payments(1e6, 1e6, 2.0, b)) == pytest.approx(2e6 * b.b2b_yuan_per_week, rel=1e-12)
    both = rules.b2b_payments(np.array([1e5, 0.0, 3.0]), np.array([1e6, 1e6, 0.0]), 1.0, b)
    assert both[1] == 0.0 and both[2] == 0.0


def test_dormancy_rate_is_its_equation():
    """dormancy_rate * (1 - acceptance_retention * a) / (1 + interest_use * 100 * i): the fitted rate where
    no shop accepts and no interest is paid, and the documented form elsewhere."""
    b = BASE
    assert rules.dormancy_rate(0.0, 0.0, b) == pytest.approx(b.dormancy_rate)
    a, i = 0.4, 0.01
    expected = b.dormancy_rate * (1.0 - b.acceptance_retention * a) / (1.0 + b.interest_use * 100.0 * i)
    assert rules.dormancy_rate(a, i, b) == pytest.approx(expected)


def test_a_public_body_adds_the_mandate_to_its_corporate_wallet_hazard():
    """corporate_wallet_rate's public-body term is public_service_rate * mandate, no more."""
    point = dict(acquirer_campaign=2.0, programme=3.0, mandate=0.5)
    public, other = (rules.corporate_wallet_rate(**point, public_body=flag, b=BASE) for flag in (True, False))
    assert public - other == pytest.approx(BASE.public_service_rate * 0.5, rel=1e-12)


def test_app_registrations_follow_bass_with_a_market_potential():
    """(p + q A / m)(m - A) / (1 - A) per resident without an app wallet: at launch p m, none once A
    reaches m, and the region's registrations a year, (1 - A) times the hazard, are the Bass dN/dt."""
    b = BASE.model_copy(update={"habit_floor": 1.0})  # weight 1 whatever the habit: the Bass part alone
    p, q, m = b.app_innovation, b.app_imitation, b.app_market
    assert rules.app_wallet_rate(0.5, 0.0, False, 0.0, b) == pytest.approx(p * m, rel=1e-12)
    assert rules.app_wallet_rate(0.5, m, False, 0.0, b) == 0.0
    assert rules.app_wallet_rate(0.5, min(1.0, m + 0.1), False, 0.0, b) == 0.0
    a = m / 2
    flow = (1.0 - a) * rules.app_wallet_rate(0.5, a, False, 0.0, b)
    assert flow == pytest.approx((p + q * a / m) * (m - a), rel=1e-12)
