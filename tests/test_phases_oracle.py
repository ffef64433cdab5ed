"""An independent oracle of the week: from the state before a step, the published rules and each agent's
draws, it predicts every citizen's and business's state after the step, and the step's metrics.

The engines run ``model/phases.py``; this file restates what the model is (who may decide, in which order,
what follows) directly from ``rules`` and ``draws``, recomputing every region-level input from last week's
published metrics, the banks' campaigns and the governments' programmes. Any mistake in the phases, the
step's view or the metrics (a lottery loser who never opens a wallet, an active window a week short,
dormant holders waking twice as fast) makes a prediction differ from the engine's state, and fails here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import scenario

from model import EcnyModel, draws, rules
from model.network import SmallWorld
from model.population import OUTLETS, PUBLIC_BODY, PUBLIC_SERVICES
from model.streams import region_stream

SCALE = 4e5


def _word(model, r, index, day):
    return draws.agent_day(draws.agent_key(draws.region_key(model.region_names[r]), index), day)


def _race(word, weights, keys):
    """The index of the smallest -ln(1 - u_j) / w_j over w_j > 0, or -1."""
    times = [
        -math.log1p(-draws.uniform(word, key)) / w if w > 0 else math.inf
        for w, key in zip(weights, keys, strict=True)
    ]
    return int(np.argmin(times)) if times and min(times) < math.inf else -1


def _on(day, when) -> bool:
    return day != "never" and day is not None and day <= when


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
        self.previous = None  # last step's metrics, as published
        self.banks_live = np.zeros(len(model.banks), bool)

    def shares(self):
        """Last week's acceptance, active, adopted, app and B2B shares per region (zero at the start)."""
        m = self.model
        regions = len(m.region_names)
        if self.previous is None:
            return [np.zeros(regions)] * 5
        rec, bz = self.previous, m.businesses
        points = np.asarray(m.config.population.points_by_size)[bz.size] * (bz.sector < OUTLETS)
        total = np.array([points[bz.region_slice(r)].sum() for r in range(regions)]) * bz.weight
        acceptance = np.where(total > 0, rec["acceptance_scenarios"] / np.where(total > 0, total, 1), 0)
        firms = m.populations * m.config.population.businesses_per_resident
        pop = m.populations
        return (
            acceptance,
            rec["active_users"] / pop,
            rec["citizens_with_wallet"] / pop,
            rec["app_wallets_opened"] / pop,
            rec["b2b_users"] / firms,
        )

    def predict(self):
        """The state after the next step, and the step's active users."""
        m, b, keys, s = self.model, self.model.behaviour, self.model.keys, self.model.config
        c, bz = m.citizens, m.businesses
        week_end = m.dates[m.steps]
        week_start = week_end.toordinal() - m.step_days + 1
        step, day, dt = m.steps + 1, draws.day_number(week_end), m.dt
        acceptance, active_share, adopted, app_share, b2b_share = self.shares()
        live = np.array([_on(g.pilot_start, week_end) for g in m.governments])
        full = np.array([_on(g.full_pilot, week_end) for g in m.governments])
        coverage = np.where(live, np.where(full, 1.0, [g.partial_coverage for g in m.governments]), 0.0)
        bank_live = np.array([bank.joins <= week_end for bank in m.banks])
        reach = np.array([bank.reach for bank in m.banks])
        days = sorted(s.banks.campaign)
        per_staff = np.interp(
            week_end.toordinal(), [d.toordinal() for d in days], [s.banks.campaign[d] for d in days]
        )
        push = np.array(
            [
                rules.allocate_budget(
                    bank.staff * per_staff * bank.target_intensity if on else 0.0,
                    m.populations,
                    adopted,
                    live,
                )
                / m.populations
                for bank, on in zip(m.banks, bank_live, strict=True)
            ]
        )
        campaign = push.sum(axis=0)
        programme = np.array(
            [
                sum(p.yuan_per_year for p in g.programmes if p.start <= week_end <= p.end) if live[r] else 0.0
                for r, g in enumerate(m.governments)
            ]
        )
        programme = programme / 1000.0 / (m.populations * s.population.businesses_per_resident)
        national = s.government.payroll_share if _on(s.government.payments_start, week_end) else 0.0
        payroll = np.array(
            [
                min(1.0, national + sum(w.share for w in g.wages if w.start <= week_end))
                if live[r]
                else national
                for r, g in enumerate(m.governments)
            ]
        )
        interop = _on(s.incumbents.interoperability_date, week_end)
        app_live = _on(s.app.launch, week_end)
        whitelist_on = m.whitelist_start is not None and m.whitelist_start <= week_end
        wallets, engaged = c.wallets.astype(np.int64).copy(), c.engaged.copy()
        app = c.app_wallet.copy()
        last_paid = c.last_paid.astype(np.int64).copy()
        held_before = wallets != 0
        bank_keys = [keys[f"bank_choice:{bid}"] for bid in m.bank_ids]

        def open_first(i, r, word):
            j = _race(word, [bank_live[j] * (reach[j] + push[j, r]) for j in range(len(m.banks))], bank_keys)
            if j < 0:
                return False
            wallets[i], engaged[i] = 1 << j, True
            return True

        for r in range(len(m.region_names)):
            for i in range(c.offsets[r], c.offsets[r + 1]):
                local = i - c.offsets[r]
                word = _word(m, r, local, day)
                u = {
                    d: draws.uniform(word, keys[d])
                    for d in ("adopt", "engage", "multihome", "dormancy", "app", "payment")
                }
                habit, public = float(c.habit[i]), bool(c.public_sector[i])
                if not live[r]:
                    if whitelist_on and c.whitelisted[i] and not held_before[i]:
                        if u["adopt"] < rules.probability(rules.whitelist_rate(habit, b), dt):
                            open_first(i, r, word)
                    continue
                nbrs = self.neighbours.get(r, [[]] * (c.offsets[r + 1] - c.offsets[r]))[local]
                share = sum(held_before[c.offsets[r] + j] for j in nbrs) / len(nbrs) if nbrs else 0.0
                if not held_before[i]:
                    rate = rules.open_wallet_rate(
                        habit, share, adopted[r], acceptance[r], campaign[r], public, payroll[r], b
                    )
                    if u["adopt"] < rules.probability(rate, dt) and open_first(i, r, word):
                        engaged[i] = u["engage"] < rules.opening_engagement(rate, habit, campaign[r], b)
                else:
                    held = int(wallets[i])
                    rates = {
                        j: b.multihoming_push * push[j, r]
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
                            rules.dormancy_rate(acceptance[r], 0.0, b), dt
                        )
                    else:
                        wake = rules.wake_rate(habit, share, adopted[r], acceptance[r], public, payroll[r], b)
                        engaged[i] = u["dormancy"] < rules.probability(wake, dt)
                if app_live and not app[i]:
                    rate = rules.app_wallet_rate(habit, app_share[r], interop, 0.0, b)
                    if u["app"] < rules.probability(rate, dt):
                        if wallets[i] != 0:
                            app[i] = True
                        elif open_first(i, r, word):
                            app[i] = True
                            engaged[i] = draws.uniform(word, keys["app_engage"]) < b.app_engagement
                if engaged[i] and acceptance[r] > 0:
                    share = rules.ecny_payment_share(acceptance[r], float(public), payroll[r], interop, b)
                    if u["payment"] < rules.pays_probability(share, m.step_days / 7, b):
                        last_paid[i] = step
        acquirer = bz.acquirer.copy()
        if not np.array_equal(bank_live, self.banks_live):
            pull = reach * bank_live
            acquirer_keys = [keys[f"acquirer:{bid}"] for bid in m.bank_ids]
            for r in range(len(m.region_names)):
                for i in range(bz.offsets[r], bz.offsets[r + 1]):
                    acquirer[i] = _race(_word(m, r, i - bz.offsets[r], 0), pull, acquirer_keys)
            self.banks_live = bank_live
        accepting, corporate, b2b = bz.accepting.copy(), bz.corporate_wallet.copy(), bz.b2b_active.copy()
        # a business feels its bank's campaign over the bank's share of businesses (its acquirer pull)
        business_share = reach * bank_live / max((reach * bank_live).sum(), 1e-300)
        felt = np.divide(
            push, business_share[:, None], out=np.zeros_like(push), where=business_share[:, None] > 0
        )
        for r in range(len(m.region_names)):
            for i in range(bz.offsets[r], bz.offsets[r + 1]):
                j = int(acquirer[i])
                if not live[r] or j < 0:
                    continue
                word = _word(m, r, i - bz.offsets[r], day)
                sector = int(bz.sector[i])
                opened_by_accepting = False
                if sector < OUTLETS and not accepting[i] and bz.coverage_rank[i] < coverage[r]:
                    rate = rules.merchant_accept_rate(
                        active_share[r],
                        s.incumbents.merchant_fee,
                        felt[j, r],
                        sector == PUBLIC_SERVICES,
                        s.government.public_service_acceptance,
                        interop,
                        b,
                    )
                    if draws.uniform(word, keys["merchant_accept"]) < rules.probability(rate, dt):
                        accepting[i] = True
                        opened_by_accepting = not corporate[i]
                        corporate[i] = True
                if opened_by_accepting:
                    continue
                if not corporate[i]:
                    rate = rules.corporate_wallet_rate(
                        felt[j, r],
                        programme[r],
                        sector == PUBLIC_BODY,
                        s.government.public_service_acceptance,
                        b,
                    )
                    corporate[i] = draws.uniform(word, keys["corporate"]) < rules.probability(rate, dt)
                elif not b2b[i]:
                    rate = rules.b2b_rate(b2b_share[r], programme[r], b)
                    b2b[i] = draws.uniform(word, keys["b2b"]) < rules.probability(rate, dt)
        active = np.array(
            [
                np.sum(step - last_paid[c.offsets[r] : c.offsets[r + 1]] < 4)
                for r in range(len(m.region_names))
            ]
        )
        assert week_start <= week_end.toordinal()
        return {
            "wallets": wallets,
            "engaged": engaged,
            "app_wallet": app,
            "last_paid": last_paid,
            "acquirer": acquirer,
            "accepting": accepting,
            "corporate_wallet": corporate,
            "b2b_active": b2b,
            "active": active * c.weight,
        }


def _assert_stocks_are_counts_of_states(model: EcnyModel) -> None:
    """The running counts behind the metrics equal a recount of every agent's state."""
    c, bz, rec = model.citizens, model.businesses, model.records[-1]
    regions = len(model.region_names)
    region = c.region_of(np.arange(len(c)))
    firm_region = bz.region_of(np.arange(len(bz)))

    def count(where, flags):
        return np.bincount(where, weights=flags, minlength=regions)

    np.testing.assert_array_equal(rec["citizens_with_wallet"], count(region, c.wallets != 0) * c.weight)
    np.testing.assert_array_equal(
        rec["personal_wallets_opened"], count(region, np.bitwise_count(c.wallets)) * c.weight
    )
    np.testing.assert_array_equal(rec["app_wallets_opened"], count(region, c.app_wallet) * c.weight)
    np.testing.assert_array_equal(rec["merchants_accepting"], count(firm_region, bz.accepting) * bz.weight)
    np.testing.assert_array_equal(
        rec["corporate_wallets_opened"], count(firm_region, bz.corporate_wallet) * bz.weight
    )
    np.testing.assert_array_equal(rec["b2b_users"], count(firm_region, bz.b2b_active) * bz.weight)


@pytest.mark.parametrize(
    "name, overrides",
    [
        ("baseline", {"pilot__whitelist_share": 0.05, "behaviour__pushed_engagement": 0.3}),
        ("open_competition", {"behaviour__reactivation_rate": 2.0, "behaviour__b2b_imitation": 5.0}),
    ],
    ids=["whitelist_pushed", "open_competition"],
)
def test_every_step_is_what_the_rules_and_draws_say(name, overrides):
    s = scenario(name, incentives__lotteries=[], run__end="2023-03-01", **overrides)
    model = EcnyModel(s, seed=13, scale=SCALE, engine="vectorized")
    oracle = Oracle(model)
    states = ("wallets", "engaged", "app_wallet", "last_paid")
    firm_states = ("acquirer", "accepting", "corporate_wallet", "b2b_active")
    changed = dict.fromkeys([*states, *firm_states], 0)
    for _ in model.dates:
        before = {k: getattr(model.citizens, k).copy() for k in states}
        before |= {k: getattr(model.businesses, k).copy() for k in firm_states}
        expected = oracle.predict()
        model.step()
        for k in states:
            np.testing.assert_array_equal(
                getattr(model.citizens, k), expected[k], err_msg=f"{k} at step {model.steps}"
            )
        for k in firm_states:
            np.testing.assert_array_equal(
                getattr(model.businesses, k), expected[k], err_msg=f"{k} at step {model.steps}"
            )
        np.testing.assert_array_equal(model.records[-1]["active_users"], expected["active"])
        _assert_stocks_are_counts_of_states(model)
        oracle.previous = model.records[-1]
        for k in states:
            changed[k] += int(np.sum(getattr(model.citizens, k) != before[k]))
        for k in firm_states:
            changed[k] += int(np.sum(getattr(model.businesses, k) != before[k]))
    assert all(n > 0 for n in changed.values()), changed  # every state changed at some step


def test_a_lottery_is_what_its_rules_and_draws_say():
    """Entrants draw against the entry probability; the lowest priorities win the envelopes; winners redeem
    (opening a wallet if need be, waking if dormant) and pay; losers open one with
    lottery_entrant_adoption."""
    # no dormancy: the week's later engagement phase may otherwise put a redeemer to sleep at once
    s = scenario(pilot__whitelist_share=0.0, behaviour__dormancy_rate=0.0)
    model = EcnyModel(s, seed=21, scale=1e4, engine="vectorized")
    b, keys, c = model.behaviour, model.keys, model.citizens
    r = model.region_names.index("Shenzhen")
    # June 2021's, when earlier lotteries have left holders to wake
    lottery = next(lot for lot in s.incentives.lotteries if lot.region == "Shenzhen" and lot.start.month == 6)
    while model.dates[model.steps] < lottery.start:
        model.step()
    weight, rows = c.weight[r], np.arange(c.offsets[r], c.offsets[r + 1])
    c.engaged[rows] = False  # every holder dormant: a redeeming winner must wake
    before = c.wallets.copy()
    week_end = model.dates[model.steps]
    day, name = draws.day_number(week_end), f"Shenzhen:{lottery.start.isoformat()}"
    residents = rows.size * weight
    words = {int(i): _word(model, r, i - c.offsets[r], day) for i in rows}
    entered = [
        int(i)
        for i in rows
        if draws.uniform(words[int(i)], keys[f"lottery_entry:{name}"])
        < rules.lottery_entry_probability(float(c.habit[i]), lottery.budget_yuan, residents, b)
    ]
    priority = {i: draws.uniform(words[i], keys[f"lottery_priority:{name}"]) for i in entered}
    region_word = draws.agent_day(draws.agent_key(draws.region_key("Shenzhen"), 0xFFFFFFFF), 0)
    envelopes = rules.stochastic_round(
        draws.uniform(region_word, keys[f"lottery_round:{name}"]),
        lottery.budget_yuan / lottery.envelope_yuan / weight,
    )
    winners = set(sorted(entered, key=priority.get)[:envelopes])
    redeemed = {
        i for i in winners if draws.uniform(words[i], keys[f"lottery_redeem:{name}"]) < b.lottery_redemption
    }
    curious = {
        i
        for i in set(entered) - winners
        if before[i] == 0
        and draws.uniform(words[i], keys[f"lottery_curious:{name}"]) < b.lottery_entrant_adoption
    }
    model.step()
    outcome = model.lottery_records[-1][2]
    assert outcome.registrations == pytest.approx(len(entered) * weight)
    assert outcome.winners == pytest.approx(len(winners) * weight)
    assert outcome.redeemed == pytest.approx(len(redeemed) * weight)  # every bank is live: all can open
    assert np.all(c.last_paid[sorted(redeemed)] == model.steps) and np.all(c.engaged[sorted(redeemed)])
    assert np.all(c.wallets[sorted(curious)] != 0)
    newly = {int(i) for i in np.flatnonzero((before == 0) & (c.wallets != 0))}
    assert {i for i in redeemed | curious if before[i] == 0} <= newly
    assert len(curious) > 0 and len(redeemed) > 0 and len(winners) < len(entered)
    assert any(before[i] != 0 for i in redeemed)  # some redeemers were dormant holders


def test_a_lottery_in_the_last_region_of_the_data_draws_among_its_residents():
    """The last region's rows end the arrays: its lottery reads its own rows and no further, and its
    businesses choose their banks like any other's."""
    last = "Xinjiang"
    s = scenario(
        pilot__region_start={last: "2021-01-01"},
        incentives__lotteries=[
            {
                "region": last,
                "start": "2021-03-01",
                "end": "2021-03-07",
                "budget_yuan": 2e7,
                "envelope_yuan": 200,
            }
        ],
        run__end="2021-03-31",
    )
    model = EcnyModel(s, seed=5, scale=1e5, engine="vectorized").run()
    r = model.region_names.index(last)
    assert r == len(model.region_names) - 1
    (_, region, outcome), *others = model.lottery_records
    assert region == r and not others
    residents = model.citizens.counts[r] * model.citizens.weight[r]
    assert 0 < outcome.winners < outcome.registrations <= residents
    firms = model.businesses.region_slice(r)
    assert firms.stop > firms.start and (model.businesses.acquirer[firms] >= 0).all()


def test_with_no_bank_live_a_lottery_opens_no_wallet():
    """A wallet opens at a live operator: with none live, nobody opens one (winners who hold one redeem)."""
    s = scenario(pilot__whitelist_share=0.0)
    model = EcnyModel(s, seed=21, scale=1e4, engine="vectorized")
    lottery = next(lot for lot in s.incentives.lotteries if lot.region == "Shenzhen" and lot.start.month == 6)
    while model.dates[model.steps] < lottery.start:
        model.step()
    for bank in model.banks:  # every operator gone before the draw
        bank.joins = None
    before = model.citizens.wallets.copy()
    model.step()
    outcome = model.lottery_records[-1][2]
    assert outcome.winners > outcome.redeemed > 0 and outcome.wallets_opened == 0
    np.testing.assert_array_equal(model.citizens.wallets, before)


def test_once_the_app_is_out_every_lottery_entrant_sets_up_an_app_wallet():
    s = scenario(pilot__whitelist_share=0.0)
    model = EcnyModel(s, seed=22, scale=5e4, engine="vectorized")
    lottery = next(
        lot for lot in s.incentives.lotteries if lot.region == "Shenzhen" and lot.start.year == 2022
    )
    while model.dates[model.steps] < lottery.start:
        model.step()
    c, r = model.citizens, model.region_names.index("Shenzhen")
    app_before = c.app_wallet.copy()
    model.step()
    outcome = model.lottery_records[-1][2]
    sl = c.region_slice(r)
    registered = np.sum(c.app_wallet[sl] & ~app_before[sl]) * c.weight[r]
    assert outcome.registrations > 0
    assert outcome.wallets_opened > 0  # registering opened the first wallet of entrants who had none
    # every entrant without one registered (and the ordinary app hazard may add a few)
    assert registered >= outcome.registrations - np.sum(app_before[sl]) * c.weight[r]
