"""An independent oracle of the week: from the state before a step, the published rules and each agent's
draws, it predicts every citizen's and merchant's state after the step, and the step's metrics.

The engines run ``model/phases.py``; this file restates what the model is (who may decide, in which order,
what follows) directly from ``rules`` and ``draws``, recomputing every region-level input from last week's
published metrics and the banks' budgets. Any mistake in the phases, the step's view or the metrics (a
lottery loser who never opens a wallet, an active window a week short, dormant holders waking twice as
fast) makes a prediction differ from the engine's state, and fails here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import scenario

from model import EcnyModel, draws, rules
from model.network import SmallWorld
from model.population import PUBLIC_SERVICES
from model.streams import region_stream

SCALE = 4e5


def _word(model, r, index, day):
    return draws.agent_day(draws.agent_key(draws.region_key(model.region_names[r]), index), day)


class Oracle:
    """Predicts a step of ``model`` from its state before the step."""

    def __init__(self, model: EcnyModel) -> None:
        self.model = model
        b = model.behaviour
        self.neighbours = {}
        if b.word_of_mouth > 0 and b.wom_mixing < 1:
            for r, name in enumerate(model.region_names):
                sl = model.citizens.region_slice(r)
                if sl.stop > sl.start:
                    graph = SmallWorld.build(
                        sl.stop - sl.start,
                        b.network_degree,
                        b.network_rewiring,
                        region_stream(model.seed, "network", name),
                    )
                    self.neighbours[r] = graph.neighbour_lists()
        self.previous = None  # last step's national/regional metrics, as published

    def shares(self):
        """acceptance, active and adopted shares per region, from last week's metrics (zero at the start)."""
        m = self.model
        regions = len(m.region_names)
        if self.previous is None:
            return np.zeros(regions), np.zeros(regions), np.zeros(regions)
        rec = self.previous
        points = m.merchants.points.astype(np.float64)
        total_points = np.array([points[m.merchants.region_slice(r)].sum() for r in range(regions)])
        total_points = total_points * m.merchants.weight
        acceptance = np.where(
            total_points > 0, rec["acceptance_scenarios"] / np.where(total_points > 0, total_points, 1), 0
        )
        return acceptance, rec["active_users"] / m.populations, rec["citizens_with_wallet"] / m.populations

    def predict(self):
        """The state after the next step: (wallets, engaged, last_paid, accepting), and the active count."""
        m, b, keys = self.model, self.model.behaviour, self.model.keys
        c = m.citizens
        week_end = m.dates[m.steps]
        step, day, dt = m.steps + 1, draws.day_number(week_end), m.dt
        acceptance, active_share, adopted = self.shares()
        live = np.array([g.pilot_start is not None and g.pilot_start <= week_end for g in m.governments])
        full = np.array([g.full_pilot is not None and g.full_pilot <= week_end for g in m.governments])
        coverage = np.where(live, np.where(full, 1.0, [g.partial_coverage for g in m.governments]), 0.0)
        bank_live = np.array([bank.joins <= week_end for bank in m.banks])
        intensity = np.array([bank.target_intensity for bank in m.banks])
        reach = np.array([bank.reach for bank in m.banks])
        push = np.array(
            [
                rules.allocate_budget(
                    bank.budget_yuan_per_year if live_j else 0.0, m.populations, adopted, live
                )
                / m.populations
                for bank, live_j in zip(m.banks, bank_live, strict=True)
            ]
        )
        marketing = (intensity[:, None] * push).sum(axis=0)
        s = m.config
        starts = s.government.payments_start
        payroll = s.government.payroll_share if starts != "never" and starts <= week_end else 0.0
        interop = (
            s.incumbents.interoperability_date != "never" and s.incumbents.interoperability_date <= week_end
        )
        whitelist_on = m.whitelist_start is not None and m.whitelist_start <= week_end
        wallets, engaged = c.wallets.astype(np.int64).copy(), c.engaged.copy()
        last_paid = c.last_paid.astype(np.int64).copy()
        held_before = wallets != 0

        def open_first(i, r, word):
            pull = [bank_live[j] * (reach[j] + intensity[j] * push[j, r]) for j in range(len(m.banks))]
            times = [
                -math.log1p(-draws.uniform(word, keys[f"bank_choice:{m.bank_ids[j]}"])) / p
                if p > 0
                else math.inf
                for j, p in enumerate(pull)
            ]
            if not times or min(times) == math.inf:
                return False
            wallets[i] = 1 << int(np.argmin(times))
            engaged[i] = True
            return True

        for r in range(len(m.region_names)):
            for i in range(c.offsets[r], c.offsets[r + 1]):
                local = i - c.offsets[r]
                word = _word(m, r, local, day)
                u = {
                    d: draws.uniform(word, keys[d])
                    for d in ("adopt", "engage", "multihome", "dormancy", "payment")
                }
                habit, public = float(c.habit[i]), bool(c.public_sector[i])
                if not live[r]:
                    if whitelist_on and c.whitelisted[i] and not held_before[i]:
                        p = rules.probability(rules.whitelist_rate(habit, b), dt)
                        if u["adopt"] < p:
                            open_first(i, r, word)
                    continue
                if not held_before[i]:
                    nbrs = self.neighbours.get(r, [[]] * (c.offsets[r + 1] - c.offsets[r]))[local]
                    share = sum(held_before[c.offsets[r] + j] for j in nbrs) / len(nbrs) if nbrs else 0.0
                    rate = rules.open_wallet_rate(
                        habit, share, adopted[r], acceptance[r], marketing[r], public, payroll, b
                    )
                    if u["adopt"] < rules.probability(rate, dt) and open_first(i, r, word):
                        engaged[i] = u["engage"] < rules.opening_engagement(rate, habit, marketing[r], b)
                else:
                    held = int(wallets[i])
                    rates = {
                        j: b.multihoming_push * intensity[j] * push[j, r]
                        for j in range(len(m.banks))
                        if bank_live[j] and not (held >> j) & 1
                    }
                    total = sum(rates.values())
                    if total > 0 and u["multihome"] < rules.probability(total, dt):
                        times = {
                            j: -math.log1p(-draws.uniform(word, keys[f"multihome:{m.bank_ids[j]}"])) / rate
                            for j, rate in rates.items()
                            if rate > 0
                        }
                        wallets[i] = held | (1 << min(times, key=times.get))
                    if engaged[i]:
                        engaged[i] = not u["dormancy"] < rules.probability(
                            rules.dormancy_rate(acceptance[r], b), dt
                        )
                    else:
                        engaged[i] = u["dormancy"] < rules.probability(
                            rules.reactivation_rate(acceptance[r], b), dt
                        )
                if engaged[i] and acceptance[r] > 0:
                    share = rules.ecny_payment_share(acceptance[r], float(public), payroll, interop, b)
                    if u["payment"] < rules.pays_probability(share, m.step_days / 7, b):
                        last_paid[i] = step
        accepting = m.merchants.accepting.copy()
        mm = m.merchants
        for r in range(len(m.region_names)):
            for i in range(mm.offsets[r], mm.offsets[r + 1]):
                j = int(mm.acquirer[i])
                if (
                    accepting[i]
                    or not live[r]
                    or j < 0
                    or not bank_live[j]
                    or mm.coverage_rank[i] >= coverage[r]
                ):
                    continue
                rate = rules.merchant_accept_rate(
                    active_share[r],
                    s.incumbents.merchant_fee,
                    intensity[j] * push[j, r],
                    int(mm.sector[i]) == PUBLIC_SERVICES,
                    s.government.public_service_acceptance,
                    interop,
                    b,
                )
                word = _word(m, r, i - mm.offsets[r], day)
                if draws.uniform(word, keys["merchant_accept"]) < rules.probability(rate, dt):
                    accepting[i] = True
        window = 4  # weeks: "paid in the last 4 weeks"
        active = np.array(
            [
                np.sum(step - last_paid[c.offsets[r] : c.offsets[r + 1]] < window)
                for r in range(len(m.region_names))
            ]
        )
        return wallets, engaged, last_paid, accepting, active * c.weight


def _assert_stocks_are_counts_of_states(model: EcnyModel) -> None:
    """The running counts behind the metrics equal a recount of every agent's state."""
    c, m, rec = model.citizens, model.merchants, model.records[-1]
    region = c.region_of(np.arange(len(c)))
    holders = np.bincount(region, weights=c.wallets != 0, minlength=len(model.region_names))
    wallets = np.bincount(region, weights=np.bitwise_count(c.wallets), minlength=len(model.region_names))
    shops = np.bincount(
        m.region_of(np.arange(len(m))), weights=m.accepting, minlength=len(model.region_names)
    )
    np.testing.assert_array_equal(rec["citizens_with_wallet"], holders * c.weight)
    np.testing.assert_array_equal(rec["personal_wallets_opened"], wallets * c.weight)
    np.testing.assert_array_equal(rec["merchants_accepting"], shops * m.weight)


@pytest.mark.parametrize(
    "name, overrides",
    [
        ("baseline", {"pilot__whitelist_share": 0.05, "behaviour__pushed_engagement": 0.3}),
        ("open_competition", {"behaviour__reactivation_rate": 2.0}),
    ],
    ids=["whitelist_pushed", "open_competition"],
)
def test_every_step_is_what_the_rules_and_draws_say(name, overrides):
    s = scenario(name, incentives__lotteries=[], run__end="2023-03-01", **overrides)
    model = EcnyModel(s, seed=13, scale=SCALE, engine="vectorized")
    oracle = Oracle(model)
    changes = {"opened": 0, "multihomed": 0, "dormant": 0, "woke": 0, "paid": 0, "accepted": 0}
    for _ in model.dates:
        before = (
            model.citizens.wallets.copy(),
            model.citizens.engaged.copy(),
            model.merchants.accepting.copy(),
        )
        wallets, engaged, last_paid, accepting, active = oracle.predict()
        model.step()
        c = model.citizens
        np.testing.assert_array_equal(c.wallets, wallets, err_msg=f"wallets at step {model.steps}")
        np.testing.assert_array_equal(c.engaged, engaged, err_msg=f"engaged at step {model.steps}")
        np.testing.assert_array_equal(c.last_paid, last_paid, err_msg=f"last payment at step {model.steps}")
        np.testing.assert_array_equal(
            model.merchants.accepting, accepting, err_msg=f"merchants at {model.steps}"
        )
        np.testing.assert_array_equal(model.records[-1]["active_users"], active)
        _assert_stocks_are_counts_of_states(model)
        oracle.previous = model.records[-1]
        held = before[0] != 0
        changes["opened"] += int(np.sum(~held & (c.wallets != 0)))
        changes["multihomed"] += int(np.sum(held & (c.wallets != before[0])))
        changes["dormant"] += int(np.sum(held & before[1] & ~c.engaged))
        changes["woke"] += int(np.sum(held & ~before[1] & c.engaged))
        changes["paid"] += int(np.sum(c.last_paid == model.steps))
        changes["accepted"] += int(np.sum(~before[2] & model.merchants.accepting))
    assert all(n > 0 for n in changes.values()), changes  # every transition was exercised


def test_a_lottery_is_what_its_rules_and_draws_say():
    """Entrants draw against the entry probability; the lowest priorities win the envelopes; winners redeem
    (opening a wallet if need be) and pay; losers open one with lottery_entrant_adoption."""
    s = scenario(pilot__whitelist_share=0.0)
    model = EcnyModel(s, seed=21, scale=5e4, engine="vectorized")
    b, keys, c = model.behaviour, model.keys, model.citizens
    r = model.region_names.index("Shenzhen")
    lottery = next(lot for lot in s.incentives.lotteries if lot.region == "Shenzhen")
    while model.dates[model.steps] < lottery.start:
        model.step()
    before = c.wallets.copy()
    week_end = model.dates[model.steps]
    day, name = draws.day_number(week_end), f"Shenzhen:{lottery.start.isoformat()}"
    weight, rows = c.weight[r], np.arange(c.offsets[r], c.offsets[r + 1])
    residents = rows.size * weight
    words = [_word(model, r, i - c.offsets[r], day) for i in rows]
    entry = [draws.uniform(w, keys[f"lottery_entry:{name}"]) for w in words]
    entered = [
        i
        for i, w, u in zip(rows, words, entry, strict=True)
        if u < rules.lottery_entry_probability(float(c.habit[i]), lottery.budget_yuan, residents, b)
    ]
    priority = {i: draws.uniform(words[i - c.offsets[r]], keys[f"lottery_priority:{name}"]) for i in entered}
    region_word = draws.agent_day(draws.agent_key(draws.region_key("Shenzhen"), 0xFFFFFFFF), 0)
    envelopes = rules.stochastic_round(
        draws.uniform(region_word, keys[f"lottery_round:{name}"]),
        lottery.budget_yuan / lottery.envelope_yuan / weight,
    )
    winners = set(sorted(entered, key=priority.get)[:envelopes])
    word_of = {i: words[i - c.offsets[r]] for i in entered}
    redeemed = {
        i for i in winners if draws.uniform(word_of[i], keys[f"lottery_redeem:{name}"]) < b.lottery_redemption
    }
    curious = {
        i
        for i in set(entered) - winners
        if before[i] == 0
        and draws.uniform(word_of[i], keys[f"lottery_curious:{name}"]) < b.lottery_entrant_adoption
    }
    model.step()
    outcome = model.lottery_records[-1][2]
    assert outcome.registrations == pytest.approx(len(entered) * weight)
    assert outcome.winners == pytest.approx(len(winners) * weight)
    assert outcome.redeemed == pytest.approx(len(redeemed) * weight)  # every bank is live: all can open
    assert np.all(c.last_paid[sorted(redeemed)] == model.steps) and np.all(c.engaged[sorted(redeemed)])
    assert np.all(c.wallets[sorted(curious)] != 0)
    newly = {int(i) for i in np.flatnonzero((before == 0) & (c.wallets != 0))}
    assert {int(i) for i in redeemed | curious if before[i] == 0} <= newly
    assert len(curious) > 0 and len(redeemed) > 0 and len(winners) < len(entered)
