"""The institutions both engines share: operating banks and local governments, as Mesa agents.

They act once per step, before citizens and merchants: a government opens its region's pilot and draws its
lotteries; a bank, once it has joined, spreads its marketing budget over the live regions. What they decide
reaches citizens and merchants through the step's view (``context.step_view``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import TYPE_CHECKING

import mesa
import numpy as np

from . import draws, rules

if TYPE_CHECKING:
    from .model import EcnyModel

ALLOCATIONS = ("market_left", "population")


def on(day: date | None, when: date) -> bool:
    return day is not None and day <= when


class Bank(mesa.Agent):
    """An operating institution: opens wallets once it has joined, spends its budget where pilots are live.

    ``allocation`` says how: "market_left" (history) spreads the budget by residents still without a
    wallet (``rules.allocate_budget``), the model's one channel between regions; "population" spends the
    same yuan per resident in every live region (``rules.allocate_by_population``), no channel.
    """

    def __init__(self, model: EcnyModel, index, bank_id, joins, budget, intensity, reach, allocation):
        super().__init__(model)
        self.index, self.bank_id = index, bank_id
        self.joins: date | None = joins
        self.budget_yuan_per_year, self.target_intensity, self.reach = budget, intensity, reach
        self.allocation = allocation
        self.live = False
        self.push = np.zeros(len(model.region_names))  # yuan per resident per year, by region

    def step(self) -> None:
        model = self.model
        self.live = on(self.joins, model.week_end)
        live_regions = np.array([g.live for g in model.governments])
        budget = self.budget_yuan_per_year if self.live else 0.0
        if self.allocation == "population":
            spend = rules.allocate_by_population(
                budget, model.populations, live_regions, model.populations.sum()
            )
        else:
            spend = rules.allocate_budget(budget, model.populations, model.adopted_share, live_regions)
        self.push = spend / model.populations


@dataclass
class LotteryOutcome:
    registrations: float = 0.0  # residents who entered
    winners: float = 0.0
    redeemed: float = 0.0  # winners who held or opened a wallet and spent the envelope
    wallets_opened: float = 0.0  # first wallets opened because of the lottery
    transactions: float = 0.0
    value: float = 0.0

    def __iadd__(self, other: LotteryOutcome) -> LotteryOutcome:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))
        return self


class LocalGovernment(mesa.Agent):
    """One per region: when its pilot goes live, how far merchants are reached, and its lotteries."""

    def __init__(self, model: EcnyModel, index, region, starts, full_pilot, coverage, lotteries):
        super().__init__(model)
        self.index, self.region = index, region
        self.pilot_start: date | None = starts
        self.full_pilot: date | None = full_pilot
        self.partial_coverage = coverage
        self.lotteries = lotteries
        self.live = False
        self.coverage = 0.0

    def step(self) -> None:
        when = self.model.week_end
        self.live = on(self.pilot_start, when)
        full = on(self.full_pilot, when)
        self.coverage = 1.0 if self.live and full else (self.partial_coverage if self.live else 0.0)

    def run_lotteries(self, week_start: date, week_end: date, multiplier: float) -> LotteryOutcome:
        """Draw every lottery of this region that starts in this step's week (only once it is live)."""
        total = LotteryOutcome()
        if not self.live:
            return total
        for lottery in self.lotteries:
            if week_start <= lottery.start <= week_end:
                total += self.draw(lottery, lottery.budget_yuan * multiplier)
        return total

    def draw(self, lottery, budget: float) -> LotteryOutcome:
        """Residents enter; budget / envelope envelopes are won (in agents: divided by the weight)."""
        model = self.model
        r, weight = self.index, model.citizens.weight[self.index]
        agents = int(model.citizens.counts[r])
        if agents == 0 or budget <= 0:
            return LotteryOutcome()
        name = f"{self.region}:{lottery.start.isoformat()}"
        keys = model.keys
        region_word = draws.agent_day(draws.agent_key(draws.region_key(self.region), 0xFFFFFFFF), 0)
        envelopes = rules.stochastic_round(
            draws.uniform(region_word, keys[f"lottery_round:{name}"]), budget / lottery.envelope_yuan / weight
        )
        lottery_keys = tuple(
            keys[f"lottery_{part}:{name}"] for part in ("entry", "priority", "redeem", "curious")
        )
        entrants, won, redeemed, opened = model.engine.lottery(
            model.view, model.tally, r, budget, agents * weight, envelopes, lottery_keys
        )
        return LotteryOutcome(
            registrations=entrants * weight,
            winners=won * weight,
            redeemed=redeemed * weight,
            wallets_opened=opened * weight,
            transactions=redeemed * weight,
            value=redeemed * weight * lottery.envelope_yuan,
        )
