"""The institutions both engines share: operating banks and local governments, as Mesa agents.

They act once per step, before citizens and businesses: a government opens its region's pilot, runs its
e-CNY programme and draws its lotteries; a bank, once it has joined, runs its wallet campaign over the live
regions. What they decide reaches citizens and businesses through the step's view (``context.step_view``).
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


class Profile:
    """A dated profile: linear between its dates, flat before the first and after the last."""

    def __init__(self, points: dict[date, float]) -> None:
        days = sorted(points)
        self.days = np.array([d.toordinal() for d in days], np.float64)
        self.values = np.array([points[d] for d in days], np.float64)

    def __call__(self, when: date) -> float:
        return float(np.interp(when.toordinal(), self.days, self.values))


class Bank(mesa.Agent):
    """An operating institution: opens wallets once it has joined and runs a wallet campaign.

    Its campaign asks each employee for ``campaign(t)`` wallet sign-ups a year (the staff targets of 2021,
    counted in reviews and bonuses), times its ``target_intensity``: ``staff * campaign(t) * intensity``
    sign-ups a year, spread over the live regions. ``allocation`` says how: "market_left" (history) by
    residents still without a wallet (``rules.allocate_budget``), the model's one channel between regions;
    "population" the same per resident in every live region (``rules.allocate_by_population``), no channel.
    ``push`` is the result: sign-ups asked per resident per year, by region.
    """

    def __init__(self, model: EcnyModel, index, bank_id, joins, staff, intensity, reach, allocation):
        super().__init__(model)
        self.index, self.bank_id = index, bank_id
        self.joins: date | None = joins
        self.staff, self.target_intensity, self.reach = staff, intensity, reach
        self.allocation = allocation
        self.live = False
        self.push = np.zeros(len(model.region_names))

    def sign_ups(self) -> float:
        """Wallet sign-ups a year its staff are asked for now (0 before it joins)."""
        if not self.live:
            return 0.0
        return self.staff * self.model.campaign(self.model.week_end) * self.target_intensity

    def step(self) -> None:
        model = self.model
        self.live = on(self.joins, model.week_end)
        if self.allocation == "population":
            spread = rules.allocate_by_population(
                self.sign_ups(), model.populations, model.live_regions, model.populations.sum()
            )
        else:
            adopted = model.shares["adopted_share"]
            spread = rules.allocate_budget(self.sign_ups(), model.populations, adopted, model.live_regions)
        self.push = spread / model.populations


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
    """One per region: when its pilot goes live, how far merchants are reached, its e-CNY programme
    (subsidies, procurement and loans paid in e-CNY, yuan a year), the share of its public pay in e-CNY
    and its lotteries."""

    def __init__(
        self, model: EcnyModel, index, region, starts, full_pilot, coverage, lotteries, programmes, wages
    ):
        super().__init__(model)
        self.index, self.region = index, region
        self.pilot_start: date | None = starts
        self.full_pilot: date | None = full_pilot
        self.partial_coverage = coverage
        self.lotteries, self.programmes, self.wages = lotteries, programmes, wages
        self.live = False
        self.coverage = 0.0
        self.programme_yuan = 0.0  # yuan a year of the programmes running this week
        self.wage_share = 0.0  # share of public pay in e-CNY under the region's own wage schemes

    def step(self) -> None:
        when = self.model.week_end
        self.live = on(self.pilot_start, when)
        full = on(self.full_pilot, when)
        self.coverage = 1.0 if self.live and full else (self.partial_coverage if self.live else 0.0)
        running = [p.yuan_per_year for p in self.programmes if p.start <= when <= p.end]
        self.programme_yuan = float(sum(running)) if self.live else 0.0
        self.wage_share = min(1.0, sum(w.share for w in self.wages if w.start <= when)) if self.live else 0.0

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
