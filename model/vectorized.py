"""The vectorized engine: citizens and merchants as numpy arrays, the same rules as the agent engine.

State per citizen is 5 bytes (wallet bitmask uint16, engaged bool, last payment step int16) on top of the
population's 9 bytes of attributes; word of mouth adds a uint16 count of adopted neighbours, kept up to date
as citizens open their first wallet (``network.RegionGraphs.neighbours``: a citizen adopts once, so this is
``k`` updates per citizen over a whole run, not per step), and the graph's own bytes (``network.py``): about
25 bytes per citizen in all, merchants included.

A step touches the citizens of live regions in chunks of ``CHUNK`` rows, whatever the regions: few numpy
calls per step when regions are small, and temporaries of a few megabytes when they are large. A rule whose
inputs are the same for a whole group is evaluated once per group: the probabilities of going dormant, of
waking, of one more wallet at bank j (per region), and of paying (per region and public-sector flag). Events
with one probability per group are drawn as Bernoulli processes: the gaps between chosen citizens are
geometric, so drawing them costs O(p n) instead of one uniform per citizen, with the same distribution.

The order of draws from each named stream does not depend on ``CHUNK``, so the chunk size changes the speed
and the memory, never the results.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from . import rules
from .behaviour import Behaviour
from .context import LotteryOutcome, StepContext
from .network import RegionGraphs, SmallWorld
from .population import PUBLIC_SERVICES, SECTORS, Citizens, Merchants
from .streams import RandomStreams

NEVER_PAID = np.int16(-30000)
CHUNK = 1 << 17  # rows per chunk: float64 temporaries of 1 MB, about the L2 cache, reused by malloc
SAMPLE_BLOCK = 1 << 22  # rows per Bernoulli draw of a group event: bounds its temporaries at large scale
PUBLIC_FLAGS = np.array([False, True])


@cache
def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of returning it to the system at once.

    A step allocates and frees megabytes of numpy temporaries; by default glibc gives the top of its heap
    back above a small threshold and maps larger blocks afresh, so every step pays page faults again (a
    third of the run time at 100k citizens). Blocks below 32 MB now come from the heap and up to 256 MB
    of free heap is kept, so the pages are reused. It applies to the whole process, once; a no-op where
    the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 256 << 20))


@dataclass(frozen=True)
class Chunk:
    """Rows ``lo:hi`` of a population array; ``regions[k]`` holds local rows ``bounds[k]:bounds[k + 1]``."""

    lo: int
    hi: int
    regions: np.ndarray  # intp: the regions with rows in the chunk, in order
    bounds: np.ndarray  # intp: len(regions) + 1 local row bounds

    def region_of(self, rows: np.ndarray) -> np.ndarray | int:
        """Region of each of the sorted local ``rows``; a plain int when the chunk is one region."""
        if self.regions.size == 1:
            return int(self.regions[0])
        counts = np.diff(np.searchsorted(rows, self.bounds))
        return np.repeat(self.regions, counts)

    def region_counts(self, flags: np.ndarray) -> np.ndarray:
        """Number of true ``flags`` (one per row of the chunk) in each of the chunk's regions."""
        if self.regions.size == 1:
            return np.array([np.count_nonzero(flags)])
        return segment_counts(flags, self.bounds)

    def every_row_region(self) -> np.ndarray | int:
        if self.regions.size == 1:
            return int(self.regions[0])
        return np.repeat(self.regions, np.diff(self.bounds))


def segment_counts(flags: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Number of true ``flags[cuts[k]:cuts[k + 1]]`` for every k (a chunk spans a few dozen regions at most,
    and counting slice by slice beats a cumulative sum over the whole chunk)."""
    bounds = cuts.tolist()
    return np.array([np.count_nonzero(flags[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])


def chunks(offsets: np.ndarray, regions: np.ndarray, size: int = CHUNK) -> list[Chunk]:
    """The rows of ``regions`` (sorted region indices) in chunks of at most ``size`` rows."""
    counts = np.diff(offsets)
    regions = regions[counts[regions] > 0]
    out: list[Chunk] = []
    k = 0
    while k < regions.size:
        # a run of adjacent regions is one contiguous span of rows
        m = k + 1
        while m < regions.size and offsets[regions[m]] == offsets[regions[m - 1] + 1]:
            m += 1
        span_start, span_stop = int(offsets[regions[k]]), int(offsets[regions[m - 1] + 1])
        starts = offsets[regions[k:m]]
        for lo in range(span_start, span_stop, size):
            hi = min(lo + size, span_stop)
            first = int(np.searchsorted(starts, lo, side="right")) - 1
            last = int(np.searchsorted(starts, hi - 1, side="right")) - 1
            inside = regions[k + first : k + last + 1]
            bounds = np.clip(np.append(offsets[inside], offsets[inside[-1] + 1]) - lo, 0, hi - lo)
            out.append(Chunk(lo, hi, inside.astype(np.intp), bounds.astype(np.intp)))
        k = m
    return out


def bernoulli_sets(
    rng: np.random.Generator, sizes: np.ndarray, p: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(group, position): each position 0..sizes[g]-1 of group g is chosen independently with p[g].

    The gaps between chosen positions are geometric(p), so the cost is O(p n), not O(n); one call draws
    every group. Groups with p too small for a geometric gap to fit an int64 fall back to a binomial count
    and a uniform sample.
    """
    sizes = np.asarray(sizes, np.int64).ravel()
    p = np.minimum(np.asarray(p, np.float64).ravel(), 1.0)
    groups, positions = [], []
    tiny = np.flatnonzero((sizes > 0) & (p > 0) & (p < 1e-9))
    for g in tiny:
        k = int(rng.binomial(sizes[g], p[g]))
        if k:
            positions.append(np.sort(rng.choice(sizes[g], size=k, replace=False)))
            groups.append(np.full(k, g, np.int64))
    todo = np.flatnonzero((sizes > 0) & (p >= 1e-9))
    last = np.full(sizes.size, -1, np.int64)
    while todo.size:
        left = (sizes[todo] - 1 - last[todo]) * p[todo]
        m = np.ceil(left + 4.0 * np.sqrt(left) + 4.0).astype(np.int64)
        gaps = rng.geometric(np.repeat(p[todo], m))
        ends = np.cumsum(m)
        total = np.cumsum(gaps)
        before = np.repeat(total[ends - m] - gaps[ends - m], m)
        pos = np.repeat(last[todo], m) + total - before
        grp = np.repeat(todo, m)
        inside = pos < sizes[grp]
        groups.append(grp[inside])
        positions.append(pos[inside])
        reached = pos[ends - 1]
        more = reached < sizes[todo]
        last[todo[more]] = reached[more]
        todo = todo[more]
    if not groups:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(groups), np.concatenate(positions)


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
        chunk: int = CHUNK,
    ) -> None:
        if n_banks > 16:
            raise ValueError("at most 16 operating institutions fit the uint16 wallet mask")
        keep_freed_memory()
        self.citizens, self.merchants, self.b, self.streams = citizens, merchants, behaviour, streams
        self.n_banks, self.active_window, self.chunk = n_banks, active_window, chunk
        n, regions = len(citizens), len(citizens.weight)
        self.wallets = np.zeros(n, np.uint16)
        self.engaged = np.zeros(n, np.bool_)
        self.last_paid = np.full(n, NEVER_PAID, np.int16)
        self.accepting = np.zeros(len(merchants), np.bool_)
        self.counts = np.diff(citizens.offsets)
        # word of mouth: a graph per region, built when the region goes live; adopted-neighbour counts
        self.uses_network = behaviour.word_of_mouth > 0 and behaviour.wom_mixing < 1
        if self.uses_network:
            self.network = RegionGraphs(citizens.offsets, behaviour.network_degree // 2)
            self.degree = self.network.degree  # uint16 per citizen
            self.neighbour_count = np.zeros(n, np.uint16)  # neighbours holding a wallet
        self.pending: list[np.ndarray] = []  # first wallets not yet added to the counts
        self.whitelisted_rows = np.flatnonzero(citizens.whitelisted)
        self.whitelisted_region = (
            np.searchsorted(citizens.offsets, self.whitelisted_rows, side="right") - 1
        ).astype(np.int16)
        self._chunk_cache: dict[tuple[bytes, bool, int], list[Chunk]] = {}
        # running totals per region (agent counts, unweighted), updated where they change
        self.holders = np.zeros(regions, np.int64)
        self.wallet_count = np.zeros(regions, np.int64)
        self.wallets_at = np.zeros((n_banks, regions), np.int64)
        self.active = np.zeros(regions, np.int64)
        self.merchant_count = np.zeros(regions, np.int64)
        self.merchant_points = np.zeros(regions, np.float64)

    # ------------------------------------------------------------------ word of mouth

    def _update_network(self, live: np.ndarray) -> None:
        """Add the wallets opened since the last step to the counts; build the graphs of new pilots.

        Runs at the start of a step, so every citizen reads last step's neighbours (synchronous update),
        plus this step's lottery winners, who opened their wallets before anyone else moved.
        """
        self._count_pending()
        self.build_networks(live)

    def _count_pending(self) -> None:
        """Add the first wallets opened since the last call to their neighbours' counts."""
        if not self.pending:
            return
        c, network = self.citizens, self.network
        opened = np.concatenate(self.pending)
        self.pending.clear()
        region = np.searchsorted(c.offsets, opened, side="right") - 1
        has_graph = np.zeros(len(c.weight), np.bool_)
        has_graph[list(network.regions)] = True
        opened = opened[has_graph[region]]
        piece = SAMPLE_BLOCK // 4  # k neighbours each: bounded temporaries
        for lo in range(0, opened.size, piece):
            # a typed increment keeps ufunc.at on its fast path (a Python int is 80x slower)
            np.add.at(self.neighbour_count, network.neighbours(opened[lo : lo + piece]), np.uint16(1))

    def build_networks(self, regions: np.ndarray) -> None:
        """Build the graphs of ``regions`` (bool mask) that have none yet, and count adopted neighbours.

        ``step`` does this for each region as it goes live; calling it earlier only moves the work.
        """
        if not self.uses_network:
            return
        self._count_pending()  # before any recount, so that no wallet is counted twice
        c = self.citizens
        for r in np.flatnonzero(regions & (self.counts > 0)):
            if int(r) not in self.network.regions:
                sl = c.region_slice(int(r))
                stream = self.streams[f"network:{r}"]
                graph = SmallWorld.build(
                    sl.stop - sl.start, self.b.network_degree, self.b.network_rewiring, stream
                )
                self.network.add(int(r), graph)
                self.neighbour_count[sl] = graph.adopted_neighbours(self.wallets[sl] != 0)

    # ------------------------------------------------------------------ helpers

    def _chunks(self, live: np.ndarray, of_merchants: bool = False, size: int | None = None) -> list[Chunk]:
        """The rows of live regions in chunks of ``size`` rows (``self.chunk`` by default), cached."""
        size = size or self.chunk
        key = (live.tobytes(), of_merchants, size)
        found = self._chunk_cache.get(key)
        if found is None:
            offsets = (self.merchants if of_merchants else self.citizens).offsets
            found = self._chunk_cache[key] = chunks(offsets, np.flatnonzero(live), size)
        return found

    def _open_first(self, ctx: StepContext, rows: np.ndarray, region: int | None = None) -> np.ndarray:
        """Open a first wallet, at a bank chosen by ``rules.choose_bank``, for citizens ``rows``.

        ``rows`` are global indices, sorted unless they are all of one ``region``. Returns those who opened.
        """
        if rows.size == 0:
            return rows
        u = self.streams["bank_choice"].random(rows.size)
        banks = np.empty(rows.size, np.intp)
        if region is None:
            cuts = np.searchsorted(rows, self.citizens.offsets)
            regions = np.flatnonzero(np.diff(cuts))
        else:
            cuts, regions = np.zeros(region + 2, np.intp), np.array([region])
            cuts[region + 1] = rows.size
        for r in regions:
            lo, hi = cuts[r], cuts[r + 1]
            banks[lo:hi] = rules.choose_bank(u[lo:hi], ctx.attractiveness(int(r)))
        region_of = np.repeat(regions, np.diff(cuts)[regions])
        ok = banks >= 0
        rows, banks, region_of = rows[ok], banks[ok], region_of[ok]
        self.wallets[rows] = np.left_shift(np.uint16(1), banks.astype(np.uint16))
        self.engaged[rows] = True
        opened = np.bincount(region_of, minlength=len(self.holders))
        self.holders += opened
        self.wallet_count += opened
        regions_n = len(self.holders)
        self.wallets_at += np.bincount(
            banks * regions_n + region_of, minlength=self.n_banks * regions_n
        ).reshape(self.n_banks, regions_n)
        if self.uses_network:
            self.pending.append(rows)
        return rows

    # ------------------------------------------------------------------ the step

    def step(self, ctx: StepContext) -> dict[str, np.ndarray]:
        """Advance every region one step; return per-region totals (see ``REGION_METRICS``)."""
        c, b = self.citizens, self.b
        live = np.asarray(ctx.live, np.bool_) & (self.counts > 0)
        if self.uses_network:
            self._update_network(live)
        tx = np.zeros(len(c.weight))
        if live.any():
            self._more_wallets(ctx, live)
            self._dormancy(ctx, live)
            tx = self._first_wallets_and_payments(ctx, live)
            self._merchants(ctx, live)
        if ctx.whitelist_active:
            self._whitelist(ctx, live)
        mw, cw = self.merchants.weight, c.weight
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

    def _more_wallets(self, ctx: StepContext, live: np.ndarray) -> None:
        """Multi-homing: a holder without a wallet at live bank j opens one with probability p[j, r]."""
        banks = np.flatnonzero(ctx.bank_live)
        if banks.size == 0:
            return
        regions, n_regions = np.flatnonzero(live), len(self.holders)
        rate = rules.extra_wallet_rate(
            ctx.intensity[banks, None], ctx.bank_push[np.ix_(banks, regions)], self.b
        )
        p = np.zeros((banks.size, n_regions))
        p[:, regions] = rules.probability(rate, ctx.dt)
        for block in self._chunks(live, size=SAMPLE_BLOCK):
            starts, sizes = block.lo + block.bounds[:-1], np.diff(block.bounds)
            group, pos = bernoulli_sets(
                self.streams["multihome"],
                np.broadcast_to(sizes, (banks.size, sizes.size)),
                p[:, block.regions],
            )
            k = group % block.regions.size
            j, r, rows = banks[group // block.regions.size], block.regions[k], starts[k] + pos
            held = self.wallets[rows]
            bits = np.left_shift(np.uint16(1), j.astype(np.uint16))
            ok = (held != 0) & ((held & bits) == 0)  # holders at the start of the step, without bank j
            rows, j, r, bits = rows[ok], j[ok], r[ok], bits[ok]
            np.bitwise_or.at(self.wallets, rows, bits)
            self.wallet_count += np.bincount(r, minlength=n_regions)
            self.wallets_at += np.bincount(j * n_regions + r, minlength=self.n_banks * n_regions).reshape(
                self.n_banks, n_regions
            )

    def _dormancy(self, ctx: StepContext, live: np.ndarray) -> None:
        """Engaged holders go dormant with p_dormant[r], dormant holders wake with p_wake[r]."""
        p_dormant = rules.probability(rules.dormancy_rate(ctx.acceptance, self.b), ctx.dt)
        p_wake = rules.probability(rules.reactivation_rate(ctx.acceptance, self.b), ctx.dt)
        for block in self._chunks(live, size=SAMPLE_BLOCK):
            starts, sizes = block.lo + block.bounds[:-1], np.diff(block.bounds)
            m = block.regions.size
            p = np.concatenate([p_dormant[block.regions], p_wake[block.regions]])
            group, pos = bernoulli_sets(self.streams["dormancy"], np.tile(sizes, 2), p)
            rows = starts[group % m] + pos
            holds, engaged = self.wallets[rows] != 0, self.engaged[rows]
            to_sleep = group < m
            self.engaged[rows[holds & engaged & to_sleep]] = False
            self.engaged[rows[holds & ~engaged & ~to_sleep]] = True

    def _first_wallets_and_payments(self, ctx: StepContext, live: np.ndarray) -> np.ndarray:
        """First wallets for non-holders, then payments by the engaged, chunk by chunk; returns payments."""
        c, b, streams = self.citizens, self.b, self.streams
        n_regions = len(c.weight)
        share = rules.ecny_payment_share(
            ctx.acceptance[:, None], PUBLIC_FLAGS, ctx.payroll_share, ctx.interoperable, b
        )
        p_pay = np.ravel(np.broadcast_to(rules.pays_probability(share, ctx.weeks, b), (n_regions, 2)))
        expected = np.ravel(np.broadcast_to(rules.ecny_payments(share, ctx.weeks, b), (n_regions, 2)))
        pays = ctx.acceptance > 0
        payments = np.zeros(2 * n_regions)
        threshold = ctx.step - self.active_window  # active: paid after this step
        live_regions = np.flatnonzero(live)
        self.active[live_regions] = 0
        for chunk in self._chunks(live):
            lo, hi = chunk.lo, chunk.hi
            # 1. first wallets
            rows = np.flatnonzero(self.wallets[lo:hi] == 0)
            if rows.size:
                region = chunk.region_of(rows)
                g = rows + lo
                if self.uses_network:
                    network_share = self.neighbour_count[g] / np.maximum(self.degree[g], 1)
                else:
                    network_share = 0.0
                rate = rules.open_wallet_rate(
                    c.habit[g],
                    network_share,
                    ctx.adopted_share[region],
                    ctx.acceptance[region],
                    ctx.marketing[region],
                    c.public_sector[g],
                    ctx.payroll_share,
                    b,
                )
                u = streams["adopt"].random(rows.size)
                opened = self._open_first(ctx, g[u < rules.probability(rate, ctx.dt)])
                if b.pushed_engagement < 1 and opened.size:  # a pushed first wallet may start dormant
                    k = np.searchsorted(g, opened)
                    at = region[k] if np.ndim(region) else region
                    p = rules.opening_engagement(rate[k], c.habit[opened], ctx.marketing[at], b)
                    self.engaged[opened[streams["engage"].random(opened.size) >= p]] = False
            # 2. payments by the engaged (new holders included), where some merchants accept
            payers = np.flatnonzero(self.engaged[lo:hi])
            if payers.size:
                public = c.public_sector[payers + lo]
                if chunk.regions.size == 1:
                    r = int(chunk.regions[0])
                    counts = np.array([payers.size, np.count_nonzero(public)]) * pays[r]
                    payments[2 * r : 2 * r + 2] += counts[0] - counts[1], counts[1]
                    p = np.where(public, p_pay[2 * r + 1], p_pay[2 * r]) if pays[r] else None
                else:
                    cuts = np.searchsorted(payers, chunk.bounds)
                    n_all = np.diff(cuts) * pays[chunk.regions]
                    n_public = segment_counts(public, cuts) * pays[chunk.regions]
                    payments[2 * chunk.regions] += n_all - n_public
                    payments[2 * chunk.regions + 1] += n_public
                    region = np.repeat(chunk.regions, np.diff(cuts))
                    if not pays[chunk.regions].all():
                        keep = pays[region]
                        payers, region, public = payers[keep], region[keep], public[keep]
                    p = p_pay[2 * region + public]
                if p is not None and payers.size:
                    paid = np.zeros(hi - lo, np.bool_)
                    paid[payers] = streams["payment"].random(payers.size) < p
                    np.copyto(self.last_paid[lo:hi], np.int16(ctx.step), where=paid)
            # 3. active users: paid within the window
            self.active[chunk.regions] += chunk.region_counts(self.last_paid[lo:hi] > threshold)
        return (payments * expected).reshape(n_regions, 2).sum(axis=1)

    def _merchants(self, ctx: StepContext, live: np.ndarray) -> None:
        m, b = self.merchants, self.b
        for chunk in self._chunks(live, of_merchants=True):
            lo, hi = chunk.lo, chunk.hi
            acquirer = m.acquirer[lo:hi]
            reachable = (acquirer >= 0) & ~self.accepting[lo:hi]
            reachable &= m.coverage_rank[lo:hi] < ctx.coverage[chunk.every_row_region()]
            reachable &= ctx.bank_live[np.maximum(acquirer, 0)]
            rows = np.flatnonzero(reachable)
            if rows.size == 0:
                continue
            region = chunk.region_of(rows)
            acq = acquirer[rows]
            rate = rules.merchant_accept_rate(
                ctx.active_share[region],
                ctx.incumbent_fee,
                ctx.intensity[acq] * ctx.bank_push[acq, region],
                m.sector[lo + rows] == PUBLIC_SERVICES,
                ctx.public_service_acceptance,
                ctx.interoperable,
                b,
            )
            u = self.streams["merchant_accept"].random(rows.size)
            accepted = u < rules.probability(rate, ctx.dt)
            new = lo + rows[accepted]
            self.accepting[new] = True
            region = np.broadcast_to(region, rows.shape)[accepted]
            n_regions = len(self.merchant_count)
            self.merchant_count += np.bincount(region, minlength=n_regions)
            self.merchant_points += np.bincount(region, weights=m.points[new], minlength=n_regions)

    def _whitelist(self, ctx: StepContext, live: np.ndarray) -> None:
        """White-listed residents of regions not yet live open wallets at ``rules.whitelist_rate``."""
        rows = self.whitelisted_rows
        rows = rows[~live[self.whitelisted_region] & (self.wallets[rows] == 0)]
        if rows.size:
            p = rules.probability(rules.whitelist_rate(self.citizens.habit[rows], self.b), ctx.dt)
            u = self.streams["adopt"].random(rows.size)
            self._open_first(ctx, rows[u < p])

    # ------------------------------------------------------------------ lotteries

    def run_lottery(self, ctx: StepContext, r: int, budget: float, envelope_yuan: float) -> LotteryOutcome:
        """Residents of region r enter; winners open a wallet (if they had none) and spend the envelope."""
        c, b = self.citizens, self.b
        sl = c.region_slice(r)
        n = sl.stop - sl.start
        if n == 0 or budget <= 0:
            return LotteryOutcome()
        w = c.weight[r]
        entry = self.streams["lottery_entry"]
        entrants = []
        for lo in range(sl.start, sl.stop, self.chunk):
            hi = min(lo + self.chunk, sl.stop)
            p = rules.lottery_entry_probability(c.habit[lo:hi], budget, n * w, b)
            entrants.append(lo + np.flatnonzero(entry.random(hi - lo) < p))
        entrants = np.concatenate(entrants)
        draws = self.streams["lottery_draw"]
        winners = rules.draw_winners(
            draws, entrants, rules.stochastic_round(draws, budget / envelope_yuan / w)
        )
        redeemed = winners[draws.random(winners.size) < b.lottery_redemption]
        losers = np.setdiff1d(entrants, winners, assume_unique=True)
        curious = losers[draws.random(losers.size) < b.lottery_entrant_adoption]
        newcomers = np.concatenate([redeemed, curious])
        opened = self._open_first(ctx, newcomers[self.wallets[newcomers] == 0], region=r)
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
        arrays += [self.whitelisted_rows, self.whitelisted_region]
        if self.uses_network:
            arrays.append(self.neighbour_count)
        network = self.network.nbytes() if self.uses_network else 0
        return int(sum(a.nbytes for a in arrays if isinstance(a, np.ndarray)) + network)
