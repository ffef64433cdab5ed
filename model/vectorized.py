"""The vectorized engine: citizens and merchants as numpy arrays, region by region, the same rules.

State per citizen is 5 bytes (wallet bitmask uint16, engaged bool, last payment step int16) on top of the
population's attributes; the word-of-mouth graph is a ``SmallWorld`` per region, built the first time the
region needs it. Where a probability is the same for a whole group (going dormant, one more wallet at bank
j), the number of events is drawn as a binomial and the citizens as a uniform sample, which has the same
distribution as one uniform draw each and costs far less.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import rules
from .behaviour import Behaviour
from .context import LotteryOutcome, StepContext
from .network import SmallWorld
from .population import PUBLIC_SERVICES, SECTORS, Citizens, Merchants
from .streams import RandomStreams

NEVER_PAID = np.int16(-30000)


class VectorizedEngine:
    name = "vectorized"

    def __init__(
        self,
        citizens: Citizens,
        merchants: Merchants,
        n_banks: int,
        behaviour: Behaviour,
        streams: RandomStreams,
        active_window: int,
    ) -> None:
        if n_banks > 16:
            raise ValueError("at most 16 operating institutions fit the uint16 wallet mask")
        self.citizens, self.merchants, self.b, self.streams = (
            citizens,
            merchants,
            behaviour,
            streams,
        )
        self.n_banks, self.active_window = n_banks, active_window
        n, regions = len(citizens), len(citizens.weight)
        self.wallets = np.zeros(n, np.uint16)
        self.engaged = np.zeros(n, np.bool_)
        self.last_paid = np.full(n, NEVER_PAID, np.int16)
        self.accepting = np.zeros(len(merchants), np.bool_)
        self.graphs: dict[int, SmallWorld] = {}
        # running totals per region (agent counts, unweighted), updated where wallets change
        self.holders = np.zeros(regions, np.int64)
        self.wallet_count = np.zeros(regions, np.int64)
        self.wallets_at = np.zeros((n_banks, regions), np.int64)
        self.active = np.zeros(regions, np.int64)
        self.merchant_count = np.zeros(regions, np.int64)
        self.merchant_points = np.zeros(regions, np.float64)

    # ------------------------------------------------------------------ helpers

    def graph(self, r: int) -> SmallWorld:
        graph = self.graphs.get(r)
        if graph is None:
            n = int(self.citizens.offsets[r + 1] - self.citizens.offsets[r])
            stream = self.streams[f"network:{r}"]
            graph = SmallWorld.build(n, self.b.network_degree, self.b.network_rewiring, stream)
            self.graphs[r] = graph
        return graph

    def _open_first(self, ctx: StepContext, r: int, rows: np.ndarray) -> np.ndarray:
        """Open a first wallet for region-r citizens ``rows`` (global indices) at a chosen bank."""
        if rows.size == 0:
            return rows
        banks = rules.choose_bank(self.streams["bank_choice"].random(rows.size), ctx.attractiveness(r))
        rows = rows[banks >= 0]
        banks = banks[banks >= 0]
        bits = np.left_shift(np.uint16(1), banks.astype(np.uint16))
        self.wallets[rows] = bits
        self.engaged[rows] = True
        self.holders[r] += rows.size
        self.wallet_count[r] += rows.size
        self.wallets_at[:, r] += np.bincount(banks, minlength=self.n_banks)
        return rows

    def _sample(self, stream: str, rows: np.ndarray, p: float) -> np.ndarray:
        """Each of ``rows`` independently with probability p: a binomial count, then a uniform sample."""
        if rows.size == 0 or p <= 0:
            return rows[:0]
        rng = self.streams[stream]
        k = rng.binomial(rows.size, min(p, 1.0))
        return rng.choice(rows, size=k, replace=False) if k < rows.size else rows

    # ------------------------------------------------------------------ the step

    def step(self, ctx: StepContext) -> dict[str, np.ndarray]:
        """Advance every region one step; return per-region totals (see ``REGION_METRICS``)."""
        c, b = self.citizens, self.b
        regions = len(c.weight)
        tx = np.zeros(regions)
        marketing = ctx.marketing
        for r in range(regions):
            sl = c.region_slice(r)
            if sl.stop == sl.start:
                continue
            if ctx.live[r]:
                tx[r] = self._step_live_region(ctx, r, sl, marketing[r])
                self._step_merchants(ctx, r)
            elif ctx.whitelist_active:
                self._step_whitelist(ctx, r, sl)
        mw = self.merchants.weight
        cw = c.weight
        return {
            "citizens_with_wallet": self.holders * cw,
            "personal_wallets_opened": self.wallet_count * cw,
            "active_users": self.active * cw,
            "merchants_accepting": self.merchant_count * mw,
            "acceptance_scenarios": self.merchant_points * mw,
            "transactions_weekly": tx * cw,
            "transaction_value_weekly": tx * cw * b.ticket_yuan,
            "wallets_at": self.wallets_at * cw,
        }

    def _step_whitelist(self, ctx: StepContext, r: int, sl: slice) -> None:
        rows = sl.start + np.flatnonzero(self.citizens.whitelisted[sl] & (self.wallets[sl] == 0))
        if rows.size:
            p = rules.probability(rules.whitelist_rate(self.citizens.habit[rows], self.b), ctx.dt)
            u = self.streams["adopt"].random(rows.size)
            self._open_first(ctx, r, rows[u < p])

    def _step_live_region(self, ctx: StepContext, r: int, sl: slice, marketing: float) -> float:
        c, b = self.citizens, self.b
        wallets = self.wallets[sl]
        holder = wallets != 0
        # 1. first wallets
        rows = np.flatnonzero(~holder)
        if rows.size:
            if b.word_of_mouth > 0 and b.wom_mixing < 1:
                network_share = self.graph(r).adopted_share(holder)[rows]
            else:
                network_share = 0.0
            g = rows + sl.start
            rate = rules.open_wallet_rate(
                c.habit[g],
                network_share,
                ctx.adopted_share[r],
                ctx.acceptance[r],
                marketing,
                c.public_sector[g],
                ctx.payroll_share,
                b,
            )
            u = self.streams["adopt"].random(rows.size)
            self._open_first(ctx, r, g[u < rules.probability(rate, ctx.dt)])
        # 2. more wallets (multi-homing) for those who held one at the start of the step
        old_holders = np.flatnonzero(holder)
        for j in np.flatnonzero(ctx.bank_live):
            rate = rules.extra_wallet_rate(ctx.intensity[j], ctx.bank_push[j, r], b)
            p = float(rules.probability(rate, ctx.dt))
            if p <= 0:
                continue
            bit = np.uint16(1 << int(j))
            candidates = old_holders[(wallets[old_holders] & bit) == 0]
            chosen = self._sample("multihome", candidates, p) + sl.start
            self.wallets[chosen] |= bit
            self.wallet_count[r] += chosen.size
            self.wallets_at[j, r] += chosen.size
        # 3. engaged <-> dormant
        engaged = self.engaged[sl]
        p_dormant = float(rules.probability(rules.dormancy_rate(ctx.acceptance[r], b), ctx.dt))
        p_wake = float(rules.probability(rules.reactivation_rate(ctx.acceptance[r], b), ctx.dt))
        to_dormant = self._sample("dormancy", old_holders[engaged[old_holders]], p_dormant)
        to_engaged = self._sample("dormancy", old_holders[~engaged[old_holders]], p_wake)
        self.engaged[to_dormant + sl.start] = False
        self.engaged[to_engaged + sl.start] = True
        # 4. payments by the engaged
        payers = sl.start + np.flatnonzero(self.engaged[sl])
        transactions = 0.0
        if payers.size and ctx.acceptance[r] > 0:
            public = c.public_sector[payers] if ctx.payroll_share > 0 else 0.0
            share = rules.ecny_payment_share(
                ctx.acceptance[r], public, ctx.payroll_share, ctx.interoperable, b
            )
            p_pay = rules.pays_probability(share, ctx.weeks, b)
            paid = self.streams["payment"].random(payers.size) < p_pay
            self.last_paid[payers[paid]] = ctx.step
            expected = rules.ecny_payments(share, ctx.weeks, b)
            transactions = float(np.sum(np.broadcast_to(expected, payers.shape)))
        since = ctx.step - self.last_paid[sl].astype(np.int32)
        self.active[r] = int(np.count_nonzero(since < self.active_window))
        return transactions

    def _step_merchants(self, ctx: StepContext, r: int) -> None:
        m, b = self.merchants, self.b
        sl = m.region_slice(r)
        acquirer = m.acquirer[sl]
        reachable = (acquirer >= 0) & (m.coverage_rank[sl] < ctx.coverage[r])
        reachable &= ctx.bank_live[np.maximum(acquirer, 0)]
        rows = np.flatnonzero(reachable & ~self.accepting[sl])
        if rows.size == 0:
            return
        acq = acquirer[rows]
        rate = rules.merchant_accept_rate(
            ctx.active_share[r],
            ctx.incumbent_fee,
            ctx.intensity[acq] * ctx.bank_push[acq, r],
            m.sector[sl][rows] == PUBLIC_SERVICES,
            ctx.public_service_acceptance,
            ctx.interoperable,
            b,
        )
        u = self.streams["merchant_accept"].random(rows.size)
        new = sl.start + rows[u < rules.probability(rate, ctx.dt)]
        self.accepting[new] = True
        self.merchant_count[r] += new.size
        self.merchant_points[r] += float(m.points[new].sum())

    # ------------------------------------------------------------------ lotteries

    def run_lottery(self, ctx: StepContext, r: int, budget: float, envelope_yuan: float) -> LotteryOutcome:
        """Residents of region r enter; winners open a wallet (if they had none) and spend the envelope."""
        c, b = self.citizens, self.b
        sl = c.region_slice(r)
        n = sl.stop - sl.start
        if n == 0 or budget <= 0:
            return LotteryOutcome()
        w = c.weight[r]
        p = rules.lottery_entry_probability(c.habit[sl], budget, n * w, b)
        entrants = sl.start + np.flatnonzero(self.streams["lottery_entry"].random(n) < p)
        draws = self.streams["lottery_draw"]
        winners = rules.draw_winners(
            draws, entrants, rules.stochastic_round(draws, budget / envelope_yuan / w)
        )
        redeemed = winners[draws.random(winners.size) < b.lottery_redemption]
        losers = np.setdiff1d(entrants, winners, assume_unique=True)
        curious = losers[draws.random(losers.size) < b.lottery_entrant_adoption]
        newcomers = np.concatenate([redeemed, curious])
        opened = self._open_first(ctx, r, newcomers[self.wallets[newcomers] == 0])
        redeemed = redeemed[self.wallets[redeemed] != 0]  # a wallet is needed to spend
        self.engaged[redeemed] = True
        self.last_paid[redeemed] = ctx.step
        return LotteryOutcome(
            registrations=entrants.size * w,
            winners=winners.size * w,
            redeemed=redeemed.size * w,
            wallets_opened=opened.size * w,
            transactions=redeemed.size * w,
            value=redeemed.size * w * envelope_yuan,
        )

    # ------------------------------------------------------------------ inspection

    def citizens_frame(self, r: int) -> pd.DataFrame:
        """One row per citizen agent of region r: attributes and state."""
        c = self.citizens
        sl = c.region_slice(r)
        frame = pd.DataFrame(
            {
                "age_group": c.age_group[sl],
                "urban": c.urban[sl],
                "habit": c.habit[sl],
                "income_quintile": c.income[sl],
                "public_sector": c.public_sector[sl],
                "whitelisted": c.whitelisted[sl],
                "wallets": np.bitwise_count(self.wallets[sl]),
                "wallet_mask": self.wallets[sl],
                "engaged": self.engaged[sl],
                "last_paid_step": self.last_paid[sl],
            }
        )
        frame.index.name = "citizen"
        return frame

    def merchants_frame(self, r: int) -> pd.DataFrame:
        m = self.merchants
        sl = m.region_slice(r)
        return pd.DataFrame(
            {
                "sector": np.take(SECTORS, m.sector[sl]),
                "size": m.size[sl],
                "acquirer": m.acquirer[sl],
                "accepting": self.accepting[sl],
            }
        )

    def memory_bytes(self) -> int:
        """Bytes held by citizen, merchant and network arrays (for the benchmarks)."""
        arrays = [*vars(self.citizens).values(), *vars(self.merchants).values()]
        arrays += [self.wallets, self.engaged, self.last_paid, self.accepting]
        for g in self.graphs.values():
            arrays += [g.source, g.hop, g.target, g.degree]
        return int(sum(a.nbytes for a in arrays if isinstance(a, np.ndarray)))
