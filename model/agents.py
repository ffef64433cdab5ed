"""Mesa agents: Bank and LocalGovernment (both engines), Citizen and Merchant (the agent engine).

Every decision is a call into ``rules``; an agent only gathers its inputs and draws its random numbers from
the run's named streams. ``AgentEngine`` steps Citizen and Merchant objects one by one: the readable
reference that the vectorized engine is tested against.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import mesa
import numpy as np
import pandas as pd

from . import rules
from .context import LotteryOutcome, StepContext
from .network import SmallWorld
from .population import PUBLIC_SERVICES, SECTORS, Citizens, Merchants

if TYPE_CHECKING:
    from .model import EcnyModel


def _on(day: date | None, when: date) -> bool:
    return day is not None and day <= when


class Bank(mesa.Agent):
    """An operating institution: opens wallets once it has joined, spends its budget where pilots are live."""

    def __init__(self, model, index: int, bank_id: str, joins, budget, intensity, reach) -> None:
        super().__init__(model)
        self.index, self.bank_id = index, bank_id
        self.joins: date | None = joins
        self.budget_yuan_per_year, self.target_intensity, self.reach = budget, intensity, reach
        self.live = False
        self.push = np.zeros(len(model.region_names))  # yuan per resident per year, by region

    def step(self) -> None:
        model = self.model
        self.live = _on(self.joins, model.week_end)
        live_regions = np.array([g.live for g in model.governments])
        budget = self.budget_yuan_per_year if self.live else 0.0
        spend = rules.allocate_budget(budget, model.populations, model.adopted_share, live_regions)
        self.push = spend / model.populations


class LocalGovernment(mesa.Agent):
    """One per region: when its pilot goes live, how far merchants are reached, and its lotteries."""

    def __init__(self, model, index: int, region: str, starts, full_pilot, coverage, lotteries):
        super().__init__(model)
        self.index, self.region = index, region
        self.pilot_start: date | None = starts
        self.full_pilot: date | None = full_pilot
        self.partial_coverage = coverage
        self.lotteries = lotteries
        self.live = False
        self.coverage = 0.0
        self.outcomes: list[tuple[date, LotteryOutcome]] = []

    def step(self) -> None:
        when = self.model.week_end
        self.live = _on(self.pilot_start, when)
        full = _on(self.full_pilot, when)
        self.coverage = 1.0 if self.live and full else (self.partial_coverage if self.live else 0.0)

    def run_lotteries(self, ctx: StepContext, engine, multiplier: float) -> LotteryOutcome:
        """Draw every lottery that starts in this step's week (only in a live region)."""
        total = LotteryOutcome()
        for lottery in self.lotteries:
            if not (ctx.week_start <= lottery.start <= ctx.week_end) or not self.live:
                continue
            outcome = engine.run_lottery(
                ctx, self.index, lottery.budget_yuan * multiplier, lottery.envelope_yuan
            )
            self.outcomes.append((lottery.start, outcome))
            for field in vars(total):
                setattr(total, field, getattr(total, field) + getattr(outcome, field))
        return total


class Citizen(mesa.Agent):
    """``scale`` residents of one region who may hold e-CNY wallets at several operating institutions."""

    def __init__(self, model, region: int, row: int, c: Citizens) -> None:
        super().__init__(model)
        self.region, self.row = region, row
        self.age_group = int(c.age_group[row])
        self.urban = bool(c.urban[row])
        self.habit = float(c.habit[row])
        self.income_quintile = int(c.income[row])
        self.public_sector = bool(c.public_sector[row])
        self.whitelisted = bool(c.whitelisted[row])
        self.wallets = 0  # bitmask over the scenario's operators
        self.engaged = False
        self.last_paid = -30000
        self.neighbours: list[Citizen] = []
        self.network_share = 0.0

    @property
    def holds_wallet(self) -> bool:
        return self.wallets != 0

    def observe(self) -> None:
        """Share of neighbours holding a wallet, read before anyone moves (synchronous update)."""
        if self.neighbours:
            held = sum(n.wallets != 0 for n in self.neighbours)
            self.network_share = held / len(self.neighbours)

    def open_first_wallet(self, ctx: StepContext) -> bool:
        u = self.model.streams["bank_choice"].random()
        bank = int(rules.choose_bank(u, ctx.attractiveness(self.region)))
        if bank < 0:
            return False
        self.wallets, self.engaged = 1 << bank, True
        return True

    def step(self) -> None:
        ctx, b, streams = self.model.context, self.model.behaviour, self.model.streams
        r = self.region
        if not ctx.live[r]:
            if ctx.whitelist_active and self.whitelisted and not self.wallets:
                p = rules.probability(rules.whitelist_rate(self.habit, b), ctx.dt)
                if streams["adopt"].random() < p:
                    self.open_first_wallet(ctx)
            return
        if not self.wallets:
            rate = rules.open_wallet_rate(
                self.habit,
                self.network_share,
                ctx.adopted_share[r],
                ctx.acceptance[r],
                ctx.marketing[r],
                self.public_sector,
                ctx.payroll_share,
                b,
            )
            if streams["adopt"].random() < rules.probability(rate, ctx.dt) and self.open_first_wallet(ctx):
                if b.pushed_engagement < 1:  # a pushed first wallet may start dormant
                    p = rules.opening_engagement(rate, self.habit, ctx.marketing[r], b)
                    self.engaged = bool(streams["engage"].random() < p)
        else:
            for j in np.flatnonzero(ctx.bank_live):
                if self.wallets & (1 << int(j)):
                    continue
                rate = rules.extra_wallet_rate(ctx.intensity[j], ctx.bank_push[j, r], b)
                if streams["multihome"].random() < rules.probability(rate, ctx.dt):
                    self.wallets |= 1 << int(j)
            if self.engaged:
                rate = rules.dormancy_rate(ctx.acceptance[r], b)
                self.engaged = not streams["dormancy"].random() < rules.probability(rate, ctx.dt)
            else:
                rate = rules.reactivation_rate(ctx.acceptance[r], b)
                self.engaged = streams["dormancy"].random() < rules.probability(rate, ctx.dt)
        if self.engaged and ctx.acceptance[r] > 0:
            share = rules.ecny_payment_share(
                ctx.acceptance[r], self.public_sector, ctx.payroll_share, ctx.interoperable, b
            )
            if streams["payment"].random() < rules.pays_probability(share, ctx.weeks, b):
                self.last_paid = ctx.step
            self.model.engine.transactions[r] += float(rules.ecny_payments(share, ctx.weeks, b))


class Merchant(mesa.Agent):
    """``scale`` shops of one sector and size, signed up with an acquiring bank; accepts e-CNY or not."""

    def __init__(self, model, region: int, row: int, m: Merchants) -> None:
        super().__init__(model)
        self.region, self.row = region, row
        self.sector = SECTORS[int(m.sector[row])]
        self.size = int(m.size[row])
        self.points = float(m.points[row])
        self.acquirer = int(m.acquirer[row])
        self.coverage_rank = float(m.coverage_rank[row])
        self.accepting = False

    def step(self) -> None:
        ctx, b = self.model.context, self.model.behaviour
        r, j = self.region, self.acquirer
        if self.accepting or not ctx.live[r] or j < 0 or not ctx.bank_live[j]:
            return
        if self.coverage_rank >= ctx.coverage[r]:
            return
        rate = rules.merchant_accept_rate(
            ctx.active_share[r],
            ctx.incumbent_fee,
            ctx.intensity[j] * ctx.bank_push[j, r],
            self.sector == SECTORS[PUBLIC_SERVICES],
            ctx.public_service_acceptance,
            ctx.interoperable,
            b,
        )
        if self.model.streams["merchant_accept"].random() < rules.probability(rate, ctx.dt):
            self.accepting = True


CITIZEN_COLUMNS = [
    "age_group",
    "urban",
    "habit",
    "income_quintile",
    "public_sector",
    "whitelisted",
    "wallets",
    "wallet_mask",
    "engaged",
    "last_paid_step",
]


class AgentEngine:
    """Citizens and merchants as Mesa agents, stepped one by one."""

    name = "agents"

    def __init__(
        self, model: EcnyModel, citizens: Citizens, merchants: Merchants, active_window: int
    ) -> None:
        self.model, self.c, self.m, self.active_window = model, citizens, merchants, active_window
        regions = len(citizens.weight)
        self.by_region: list[list[Citizen]] = []
        self.merchants_by_region: list[list[Merchant]] = []
        for r in range(regions):
            sl = citizens.region_slice(r)
            people = [Citizen(model, r, row, citizens) for row in range(sl.start, sl.stop)]
            graph = SmallWorld.build(
                len(people),
                model.behaviour.network_degree,
                model.behaviour.network_rewiring,
                model.streams[f"network:{r}"],
            )
            for person, neighbours in zip(people, graph.neighbour_lists(), strict=True):
                person.neighbours = [people[k] for k in neighbours]
            self.by_region.append(people)
            msl = merchants.region_slice(r)
            self.merchants_by_region.append(
                [Merchant(model, r, row, merchants) for row in range(msl.start, msl.stop)]
            )
        self.transactions = np.zeros(regions)

    def step(self, ctx: StepContext) -> dict[str, np.ndarray]:
        model = self.model
        self.transactions[:] = 0.0
        citizens = model.agents_by_type.get(Citizen)
        merchants = model.agents_by_type.get(Merchant)
        if citizens is not None:
            citizens.do("observe")
            citizens.do("step")
        if merchants is not None:
            merchants.do("step")
        return self.totals(ctx)

    def totals(self, ctx: StepContext) -> dict[str, np.ndarray]:
        regions = len(self.by_region)
        n_banks = len(ctx.bank_live)
        holders, wallets, active = np.zeros(regions), np.zeros(regions), np.zeros(regions)
        at = np.zeros((n_banks, regions))
        for r, people in enumerate(self.by_region):
            for p in people:
                if p.wallets:
                    holders[r] += 1
                    for j in range(n_banks):
                        if p.wallets & (1 << j):
                            at[j, r] += 1
                active[r] += ctx.step - p.last_paid < self.active_window
        wallets = at.sum(axis=0)
        count, points = np.zeros(regions), np.zeros(regions)
        for r, shops in enumerate(self.merchants_by_region):
            for shop in shops:
                if shop.accepting:
                    count[r] += 1
                    points[r] += shop.points
        cw, mw = self.c.weight, self.m.weight
        return {
            "citizens_with_wallet": holders * cw,
            "personal_wallets_opened": wallets * cw,
            "active_users": active * cw,
            "merchants_accepting": count * mw,
            "acceptance_scenarios": points * mw,
            "transactions_weekly": self.transactions * cw,
            "transaction_value_weekly": self.transactions * cw * self.model.behaviour.ticket_yuan,
            "wallets_at": at * cw,
        }

    def run_lottery(self, ctx: StepContext, r: int, budget: float, envelope_yuan: float) -> LotteryOutcome:
        """The same lottery as the vectorized engine's, one Citizen object at a time."""
        people, b = self.by_region[r], self.model.behaviour
        if not people or budget <= 0:
            return LotteryOutcome()
        w = self.c.weight[r]
        entry, draws = self.model.streams["lottery_entry"], self.model.streams["lottery_draw"]
        residents = len(people) * w
        entrants = [
            i
            for i, p in enumerate(people)
            if entry.random() < rules.lottery_entry_probability(p.habit, budget, residents, b)
        ]
        winners = rules.draw_winners(
            draws,
            np.array(entrants, dtype=np.intp),
            rules.stochastic_round(draws, budget / envelope_yuan / w),
        ).tolist()
        redeemed = [i for i in winners if draws.random() < b.lottery_redemption]
        winner_set = set(winners)
        curious = [i for i in entrants if i not in winner_set and draws.random() < b.lottery_entrant_adoption]
        opened = 0
        for i in redeemed + curious:
            if not people[i].wallets:
                opened += people[i].open_first_wallet(ctx)
        spenders = [i for i in redeemed if people[i].wallets]
        for i in spenders:
            people[i].engaged, people[i].last_paid = True, ctx.step
        return LotteryOutcome(
            registrations=len(entrants) * w,
            winners=len(winners) * w,
            redeemed=len(spenders) * w,
            wallets_opened=opened * w,
            transactions=len(spenders) * w,
            value=len(spenders) * w * envelope_yuan,
        )

    def citizens_frame(self, r: int) -> pd.DataFrame:
        rows = [
            {
                "age_group": p.age_group,
                "urban": p.urban,
                "habit": p.habit,
                "income_quintile": p.income_quintile,
                "public_sector": p.public_sector,
                "whitelisted": p.whitelisted,
                "wallets": bin(p.wallets).count("1"),
                "wallet_mask": p.wallets,
                "engaged": p.engaged,
                "last_paid_step": p.last_paid,
            }
            for p in self.by_region[r]
        ]
        frame = pd.DataFrame(rows, columns=CITIZEN_COLUMNS)
        frame.index.name = "citizen"
        return frame
