"""The citizens' and businesses' week, written once: who may decide, in which order, and what follows.

Both engines run exactly this code. The agent engine calls ``step_citizen`` for one Mesa agent at a time,
as plain Python; the vectorized engine compiles the same functions (``kernels.py``) and calls them for every
row of the live regions. Every uniform comes from ``draws`` (who, what, when), so the two engines, any
horizon and any scenario that leaves an agent's probabilities alone give that agent the same outcome.

A step, for every citizen agent i of region r (updates are synchronous: what others did this week is seen
next week; the word-of-mouth share was read before anyone moved):
- region not live: a white-listed resident without a wallet may open one (``whitelist_wallet``);
- live, no wallet: a first wallet (``first_wallet``), at a bank chosen by ``choose_bank``, engaged or,
  if signed up under a bank campaign, possibly dormant from the start;
- live, a holder: one more wallet at another live bank (``more_wallets``), then engaged <-> dormant
  (``engagement``);
- live, once the public app is out: a wallet set up in the app (``app_registration``), which opens an
  operator wallet for a resident without one, engaged or not (``register_app``);
- live and engaged where some merchants accept: pays (``pay``), which makes it active for the window;
- then it is counted (``count_citizen``): active and engaged holders; holders, wallets and app wallets are
  counted where they open.
A business of a live region (``step_business``): an outlet the pilot reaches may start accepting e-CNY
(which gives it a corporate wallet); a business may open a corporate wallet, and one that holds a wallet
may start paying other businesses in e-CNY. Its bank is its own choice among the live banks
(``choose_acquirer``), taken again whenever a bank joins. Lotteries (``lottery``) are drawn by the local
government before citizens decide; once the app is out, they are entered through it.

The arguments are namedtuples of arrays: ``c`` citizens and ``m`` businesses (``state.py``), ``ctx`` the
step (``context.StepView``), ``b`` the behavioural parameters, ``k`` the decision keys (``DecisionKeys``),
``tally`` the counts (``context.Tally``). Rows are global; a region's rows are contiguous.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba.extending import register_jitable

from . import draws, rules
from .jit import inlined
from .population import OUTLETS, PUBLIC_BODY, PUBLIC_SERVICES

phase = inlined  # the weekly path of every agent: inlined into the kernels' loops
rare = register_jitable  # what happens to few agents a week (a wallet opens): called, not inlined


@phase
def agent_word(i, r, offsets, ctx) -> int:
    """The word all of agent i's draws this step start from (``draws.agent_day`` of its stable id)."""
    return draws.agent_day(draws.agent_key(ctx.region_key[r], i - offsets[r]), ctx.day)


@rare
def choose_bank(word, pull, keys) -> int:
    """The bank at which a wallet opens: P(j) = pull_j / sum(pull), or -1 if no bank pulls.

    An exponential race, bank j's time being -ln(1 - u_j) / pull_j with u_j the agent's draw for that bank:
    changing one bank's pull moves only the agents who would now (or no longer) choose it.
    """
    best = math.inf
    chosen = -1
    for j in range(pull.shape[0]):
        if pull[j] > 0.0:
            time = race_time(word, pull[j], keys[j])
            if time < best:
                best = time
                chosen = j
    return chosen


@phase
def race_time(word, weight, key) -> float:
    """Bank j's time in ``choose_bank``'s race: -ln(1 - u_j) / pull_j."""
    return -math.log1p(-draws.uniform(word, key)) / weight


@rare
def open_first(i, r, word, c, ctx, k, tally) -> bool:
    """Open a citizen's first wallet at ``choose_bank``; it starts engaged. False if no bank is live."""
    j = choose_bank(word, ctx.bank_pull[r], k.bank_choice)
    if j < 0:
        return False
    c.wallets[i] = 1 << j
    c.engaged[i] = True
    c.first_wallet_step[i] = ctx.step
    tally.holders[r] += 1
    tally.wallets_at[j, r] += 1
    if c.public_sector[i]:
        tally.public_holders[r] += 1
    count_groups(i, r, c, tally.holders_by)
    return True


@phase
def count_groups(i, r, c, counts) -> None:
    """Add citizen i to its groups (``population.GROUP_NAMES``): age, urban or rural, income quintile."""
    counts[r, int(c.age_group[i])] += 1
    counts[r, 3 if c.urban[i] else 4] += 1
    counts[r, 5 + int(c.income[i])] += 1


@phase
def whitelist_wallet(i, r, word, c, ctx, b, k, tally) -> None:
    """A white-listed resident of a region not yet live opens a wallet at ``rules.whitelist_rate``."""
    rate = rules.whitelist_rate(float(c.habit[i]), b)
    if rules.occurs(draws.uniform(word, k.adopt), rate, ctx.dt):
        open_first(i, r, word, c, ctx, k, tally)


@phase
def first_wallet(i, r, word, network_share, c, ctx, b, k, tally) -> None:
    """A resident of a live region without a wallet opens one at ``rules.open_wallet_rate``.

    It starts engaged with ``rules.opening_engagement`` (a wallet signed up under a campaign may not).
    """
    habit = float(c.habit[i])
    rate = rules.open_wallet_rate(
        habit,
        network_share,
        ctx.adopted_share[r],
        ctx.acceptance[r],
        ctx.campaign[r],
        c.public_sector[i],
        ctx.payroll_share[r],
        b,
    )
    if rules.occurs(draws.uniform(word, k.adopt), rate, ctx.dt) and open_first(i, r, word, c, ctx, k, tally):
        p = rules.opening_engagement(rate, habit, ctx.campaign[r], b)
        c.engaged[i] = draws.uniform(word, k.engage) < p


@phase
def more_wallets(i, r, word, c, ctx, k, tally) -> None:
    """A holder opens one more wallet, at a live bank where it has none (competing hazards).

    Hazard of some extra wallet: the sum of ``rules.extra_wallet_rate`` over the live banks not held
    (``ctx.extra_total[r]`` less the banks held); which bank, in proportion to each bank's hazard. The sum
    over every live bank bounds it, so a draw above that bound decides at once.
    """
    u = draws.uniform(word, k.multihome)
    if u >= ctx.extra_total[r] * ctx.dt:
        return
    held = int(c.wallets[i])
    total = ctx.extra_total[r]
    bits, j = held, 0
    while bits:
        if bits & 1:
            total -= ctx.extra_rate[r, j]
        bits >>= 1
        j += 1
    if total <= 0.0 or not rules.occurs(u, total, ctx.dt):
        return
    best = math.inf
    chosen = -1
    for j in range(ctx.extra_rate.shape[1]):
        rate = ctx.extra_rate[r, j]
        if rate > 0.0 and not (held >> j) & 1:
            time = -math.log1p(-draws.uniform(word, k.multihome_bank[j])) / rate
            if time < best:
                best = time
                chosen = j
    if chosen >= 0:
        c.wallets[i] = held | (1 << chosen)
        tally.wallets_at[chosen, r] += 1


@phase
def engagement(i, r, word, network_share, c, ctx, b, k) -> None:
    """An engaged holder goes dormant with ``ctx.p_dormant[r]``; a dormant one wakes at ``rules.wake_rate``
    (its own reasons to use e-CNY, as for a resident without a wallet, and the shops)."""
    u = draws.uniform(word, k.dormancy)
    if c.engaged[i]:
        if u < ctx.p_dormant[r]:
            c.engaged[i] = False
        return
    rate = rules.wake_rate(
        float(c.habit[i]),
        network_share,
        ctx.adopted_share[r],
        ctx.acceptance[r],
        c.public_sector[i],
        ctx.payroll_share[r],
        b,
    )
    if rules.occurs(u, rate, ctx.dt):
        c.engaged[i] = True


@rare
def register_app(i, r, word, c, ctx, b, k, tally) -> bool:
    """Set up citizen i's app wallet, with an operator wallet if it has none, which starts engaged with
    ``app_engagement`` (most app wallets were set up for a promotion and left); a holder keeps its state.
    False if no bank is live."""
    if c.wallets[i] == 0:
        if not open_first(i, r, word, c, ctx, k, tally):
            return False
        c.engaged[i] = draws.uniform(word, k.app_engage) < b.app_engagement
    c.app_wallet[i] = True
    tally.app_wallets[r] += 1
    return True


@phase
def app_registration(i, r, word, c, ctx, b, k, tally) -> None:
    """Once the public app is out, a resident without an app wallet sets one up at
    ``rules.app_wallet_rate`` (``register_app``)."""
    if not ctx.app_live or c.app_wallet[i]:
        return
    rate = rules.app_wallet_rate(float(c.habit[i]), ctx.app_share[r], ctx.interoperable, ctx.interest, b)
    if rules.occurs(draws.uniform(word, k.app), rate, ctx.dt):
        register_app(i, r, word, c, ctx, b, k, tally)


@phase
def pay(i, r, word, c, ctx, k, tally) -> None:
    """An engaged holder pays where merchants accept: its expected payments count, and it may pay at
    least once (``ctx.p_pay``), which makes it active."""
    if not c.engaged[i] or ctx.acceptance[r] <= 0.0:
        return
    public = 1 if c.public_sector[i] else 0
    tally.payers[r, public] += 1
    if draws.uniform(word, k.payment) < ctx.p_pay[r, public]:
        c.last_paid[i] = ctx.step


@phase
def count_citizen(i, r, c, ctx, tally) -> None:
    """Count citizen i as active (paid within the window) and as an engaged holder; holders, wallets and
    app wallets are counted where they open (``open_first``, ``more_wallets``, ``register_app``)."""
    if ctx.step - int(c.last_paid[i]) < ctx.window:
        tally.active[r] += 1
        count_groups(i, r, c, tally.active_by)
    if c.engaged[i] and c.wallets[i] != 0:
        tally.engaged[r] += 1


@phase
def step_citizen(i, r, network_share, c, ctx, b, k, tally) -> None:
    """One citizen's week (see the module docstring for the order)."""
    word = agent_word(i, r, ctx.offsets, ctx)
    if ctx.live[r]:
        if c.wallets[i] == 0:
            first_wallet(i, r, word, network_share, c, ctx, b, k, tally)
        else:
            more_wallets(i, r, word, c, ctx, k, tally)
            engagement(i, r, word, network_share, c, ctx, b, k)
        app_registration(i, r, word, c, ctx, b, k, tally)
        pay(i, r, word, c, ctx, k, tally)
    elif ctx.whitelist_active and c.whitelisted[i] and c.wallets[i] == 0:
        whitelist_wallet(i, r, word, c, ctx, b, k, tally)
    count_citizen(i, r, c, ctx, tally)


@phase
def choose_acquirer(i, r, current, joined_pull, ctx, k) -> int:
    """A business's bank among the live operators, P(j) = reach_j / sum(reach), by the same race as
    ``choose_bank`` on draws of its own that do not change with time.

    When banks join (``joined_pull``: their pull, 0 for the others), only they race the present bank
    ``current``: every other live bank lost to it before on the same time (a bank's reach is fixed and it
    never leaves), so this is the race over all live banks, and only the businesses that now prefer a new
    bank move to it. A tie goes to the lower index, as in ``choose_bank``.
    """
    word = draws.agent_day(draws.agent_key(ctx.region_key[r], i - ctx.business_offsets[r]), 0)
    j = choose_bank(word, joined_pull, k.acquirer)
    if j < 0:  # no bank that joined pulls
        return current
    if current < 0:  # no bank was live before
        return j
    new = race_time(word, joined_pull[j], k.acquirer[j])
    now = race_time(word, ctx.acquirer_pull[current], k.acquirer[current])
    return j if new < now or (new == now and j < current) else current


@phase
def step_business(i, r, m, ctx, b, k, tally) -> None:
    """A business of a live region: an outlet may start accepting, any may open a corporate wallet, and a
    holder may start paying other businesses in e-CNY (see the module docstring)."""
    j = int(m.acquirer[i])
    if not ctx.live[r] or j < 0:
        return
    word = agent_word(i, r, ctx.business_offsets, ctx)
    sector = int(m.sector[i])
    if sector < OUTLETS and not m.accepting[i] and m.coverage_rank[i] < ctx.coverage[r]:
        rate = rules.merchant_accept_rate(
            ctx.active_share[r],
            ctx.incumbent_fee,
            ctx.business_push[j, r],
            sector == PUBLIC_SERVICES,
            ctx.public_service_acceptance,
            ctx.interoperable,
            b,
        )
        if rules.occurs(draws.uniform(word, k.merchant_accept), rate, ctx.dt):
            m.accepting[i] = True
            tally.accepting[r, int(m.size[i])] += 1
            if not m.corporate_wallet[i]:  # accepting e-CNY needs a corporate wallet
                m.corporate_wallet[i] = True
                tally.corporate[r] += 1
                return
    if not m.corporate_wallet[i]:
        rate = rules.corporate_wallet_rate(
            ctx.business_push[j, r], ctx.programme[r], sector == PUBLIC_BODY, ctx.public_service_acceptance, b
        )
        if rules.occurs(draws.uniform(word, k.corporate), rate, ctx.dt):
            m.corporate_wallet[i] = True
            tally.corporate[r] += 1
    elif not m.b2b_active[i]:
        rate = rules.b2b_rate(ctx.b2b_share[r], ctx.programme[r], b)
        if rules.occurs(draws.uniform(word, k.b2b), rate, ctx.dt):
            m.b2b_active[i] = True
            tally.b2b[r] += 1


# ---------------------------------------------------------------- array drivers (compiled by kernels.py)


@phase
def citizens_week(regions, rows, row_regions, c, ctx, b, k, tally, neighbours, degree) -> None:
    """``step_citizen`` for every row of ``regions`` (live), then for ``rows`` (white-listed elsewhere).

    Citizen i's word-of-mouth share is neighbours[i] / degree[i], its neighbours holding a wallet when
    the step began (``degree`` is empty when the run has no word of mouth).
    """
    network = degree.shape[0] > 0
    for r in regions:
        for i in range(ctx.offsets[r], ctx.offsets[r + 1]):
            share = 0.0
            if network and degree[i] > 0:
                share = neighbours[i] / degree[i]
            step_citizen(i, r, share, c, ctx, b, k, tally)
    for n in range(rows.shape[0]):
        step_citizen(rows[n], row_regions[n], 0.0, c, ctx, b, k, tally)


@phase
def businesses_week(regions, m, ctx, b, k, tally) -> None:
    """``step_business`` for every business of ``regions`` (live)."""
    for r in regions:
        for i in range(ctx.business_offsets[r], ctx.business_offsets[r + 1]):
            step_business(i, r, m, ctx, b, k, tally)


@phase
def acquirers(m, ctx, k, joined_pull) -> None:
    """Every business chooses its bank again now that the banks of ``joined_pull`` are live
    (``choose_acquirer``)."""
    for r in range(ctx.business_offsets.shape[0] - 1):
        for i in range(ctx.business_offsets[r], ctx.business_offsets[r + 1]):
            m.acquirer[i] = choose_acquirer(i, r, int(m.acquirer[i]), joined_pull, ctx, k)


# ---------------------------------------------------------------- lotteries


@phase
def lottery_entrants(r, c, ctx, b, budget, residents, entry_key, priority_key, entrants, priority) -> int:
    """Residents of region r who enter (``rules.lottery_entry_probability``), with their draw priority.

    Fills ``entrants`` and ``priority`` (buffers of the region's size); returns how many entered.
    """
    n = 0
    for i in range(ctx.offsets[r], ctx.offsets[r + 1]):
        word = agent_word(i, r, ctx.offsets, ctx)
        p = rules.lottery_entry_probability(float(c.habit[i]), budget, residents, b)
        if draws.uniform(word, entry_key) < p:
            entrants[n] = i
            priority[n] = draws.uniform(word, priority_key)
            n += 1
    return n


@phase
def lottery_effects(r, entrants, won, c, ctx, b, k, tally, redeem_key, curious_key, outcome) -> None:
    """What a lottery does to its entrants (in ``outcome``: winners, redeemed, wallets opened).

    Once the public app is out, entering is setting up an app wallet (``register_app``). A winner redeems
    with ``lottery_redemption``: it opens a wallet if it has none and spends the envelope (engaged, paid
    now); a loser opens a wallet anyway with ``lottery_entrant_adoption``.
    """
    for n in range(entrants.shape[0]):
        i = entrants[n]
        word = agent_word(i, r, ctx.offsets, ctx)
        if ctx.app_live and not c.app_wallet[i]:
            held = c.wallets[i] != 0
            if register_app(i, r, word, c, ctx, b, k, tally) and not held:
                outcome[2] += 1
        if won[n]:
            outcome[0] += 1
            if draws.uniform(word, redeem_key) >= b.lottery_redemption:
                continue
            if c.wallets[i] == 0:
                if not open_first(i, r, word, c, ctx, k, tally):
                    continue
                outcome[2] += 1
            c.engaged[i] = True
            c.last_paid[i] = ctx.step
            outcome[1] += 1
        elif c.wallets[i] == 0 and draws.uniform(word, curious_key) < b.lottery_entrant_adoption:
            if open_first(i, r, word, c, ctx, k, tally):
                outcome[2] += 1


@phase
def lottery(r, c, ctx, b, k, tally, budget, residents, winners, lottery_keys, outcome) -> int:
    """One red-envelope lottery in region r: entry, then the ``winners`` entrants of lowest priority win.

    Priorities are the entrants' own draws, so a bigger lottery's winners include a smaller one's.
    ``lottery_keys`` = (entry, priority, redeem, curious) keys; returns the number of entrants.
    """
    size = ctx.offsets[r + 1] - ctx.offsets[r]
    entrants = np.empty(size, np.int64)
    priority = np.empty(size, np.float64)
    n = lottery_entrants(
        r, c, ctx, b, budget, residents, lottery_keys[0], lottery_keys[1], entrants, priority
    )
    entrants, priority = entrants[:n], priority[:n]
    won = np.zeros(n, np.bool_)
    won[np.argsort(priority)[: min(winners, n)]] = True
    lottery_effects(r, entrants, won, c, ctx, b, k, tally, lottery_keys[2], lottery_keys[3], outcome)
    return n


# ---------------------------------------------------------------- the decisions' keys

DecisionKeys = namedtuple(
    "DecisionKeys",
    [
        "adopt",
        "engage",
        "multihome",
        "dormancy",
        "app",
        "app_engage",
        "payment",
        "merchant_accept",
        "corporate",
        "b2b",
        "bank_choice",
        "multihome_bank",
        "acquirer",
    ],
)
PER_BANK = ("bank_choice", "multihome", "acquirer")  # per bank j: keyed "<decision>:<bank id>"


def decision_keys(keys: draws.Keys, banks: list[str], compiled: bool) -> DecisionKeys:
    """The keys of every decision of the phases; per-bank decisions are keyed by the bank's id.

    ``compiled``: unsigned 64-bit numpy scalars and arrays for the kernels; plain ints for the agent engine.
    """
    names = DecisionKeys._fields[: -len(PER_BANK)]
    per_bank = [[keys[f"{decision}:{bank}"] for bank in banks] for decision in PER_BANK]
    if compiled:
        return DecisionKeys(
            *(np.uint64(keys[name]) for name in names), *(np.array(v, np.uint64) for v in per_bank)
        )
    return DecisionKeys(*(keys[name] for name in names), *(tuple(v) for v in per_bank))
