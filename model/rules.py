"""The behaviour rules: pure functions, one per decision, each with its equation and the parameters it reads.

Nothing else in the package decides behaviour. A per-agent rule takes one agent's scalars and the run's
behavioural parameters ``b`` (``behaviour.Behaviour`` or the ``params`` tuple the kernels receive; both have
the same field names); it is plain Python, so the agent engine calls it as it is, and it is compiled into
the vectorized engine's kernels (``jit.inlined``), so both engines compute every
probability with the same code. A region-level rule (inputs the same for a whole region) takes numpy
arrays, one value per region, and is evaluated once a step for the step's view (``context.step_view``).

Rates are per year. A step of ``dt`` years turns a rate into a probability in one place, ``probability``
(region-level) and ``occurs`` (one agent's draw). Bank campaigns are counted in wallet sign-ups asked per
resident per year (``m``; ``behaviour.py``).
"""

from __future__ import annotations

import math

import numpy as np

from .jit import inlined as jitable


def probability(rate, dt: float):
    """P(event within a step) = 1 - exp(-rate * dt) for a constant hazard ``rate`` per year.

    Region-level (numpy arrays or scalars); ``occurs`` is the same probability for one agent's draw.
    """
    return -np.expm1(-np.asarray(rate, dtype=np.float64) * dt)


@jitable
def occurs(u: float, rate: float, dt: float) -> bool:
    """Whether an event of hazard ``rate`` happens in a step for an agent whose uniform is ``u``:
    u < 1 - exp(-rate * dt), the ``probability`` of the step.

    Exact and cheap: since 1 - exp(-x) <= x, u >= rate * dt already means no event, and the exponential
    (``math.expm1``, the C library's, in both engines) is only evaluated for the few draws below that bound.
    """
    x = rate * dt
    if u >= x:
        return False
    return u < -math.expm1(-x)


@jitable
def habit_weight(habit: float, b) -> float:
    """How much a citizen's digital-payment habit (0..1) scales every pull towards e-CNY.

    weight = habit_floor + (1 - habit_floor) * habit.  Reads: habit_floor.
    """
    return b.habit_floor + (1.0 - b.habit_floor) * habit


@jitable
def organic_wallet_rate(
    habit: float,
    network_share: float,
    region_share: float,
    acceptance: float,
    public_sector: bool,
    payroll_share: float,
    b,
) -> float:
    """Yearly hazard of taking up e-CNY for one's own reasons (friends, shops, public pay, curiosity).

    lambda = weight(habit) * (p + q * w + acceptance_pull * a + government_pull * payroll_share * public)
    with w = (1 - wom_mixing) * network_share + wom_mixing * region_share, the Bass model's hazard when
    every other pull is zero and wom_mixing = 1. ``acceptance`` is the region's share of merchant points
    accepting e-CNY. It moves a resident without a wallet to open one (``open_wallet_rate``) and a holder
    whose wallet lies unused to use it (``wake_rate``).
    Reads: innovation, word_of_mouth, wom_mixing, acceptance_pull, government_pull, habit_floor.
    Non-decreasing in every input.
    """
    w = (1.0 - b.wom_mixing) * network_share + b.wom_mixing * region_share
    pull = (
        b.innovation
        + b.word_of_mouth * w
        + b.acceptance_pull * acceptance
        + b.government_pull * payroll_share * (1.0 if public_sector else 0.0)
    )
    return habit_weight(habit, b) * pull


@jitable
def open_wallet_rate(
    habit: float,
    network_share: float,
    region_share: float,
    acceptance: float,
    campaign: float,
    public_sector: bool,
    payroll_share: float,
    b,
) -> float:
    """Yearly hazard that a citizen without a wallet opens a first one (live region).

    lambda = organic_wallet_rate + weight(habit) * campaign_pull * m, with ``campaign`` m the banks' staff
    targets: wallet sign-ups asked per resident per year.
    Reads: innovation, word_of_mouth, wom_mixing, acceptance_pull, campaign_pull, government_pull,
    habit_floor.  Non-decreasing in every input.
    """
    organic = organic_wallet_rate(
        habit, network_share, region_share, acceptance, public_sector, payroll_share, b
    )
    return organic + habit_weight(habit, b) * b.campaign_pull * campaign


@jitable
def opening_engagement(rate: float, habit: float, campaign: float, b) -> float:
    """P(a first wallet opened in a live region starts engaged), by competing hazards.

    Of the hazard ``rate`` (``open_wallet_rate``), the part push = weight(habit) * campaign_pull * m is the
    banks' campaigns; a wallet signed up under one starts engaged with probability pushed_engagement, one
    opened for any other reason (friends, shops, pay, curiosity) always does:
        P = 1 - (1 - pushed_engagement) * min(1, push / rate).
    Reads: campaign_pull, pushed_engagement, habit_floor.
    """
    if rate <= 0.0:
        return 1.0
    push = habit_weight(habit, b) * b.campaign_pull * campaign
    return 1.0 - (1.0 - b.pushed_engagement) * min(push / rate, 1.0)


@jitable
def whitelist_rate(habit: float, b) -> float:
    """Yearly hazard that a white-listed resident of a region not yet live opens a wallet.

    lambda = weight(habit) * whitelist_pull.  Reads: whitelist_pull, habit_floor.
    """
    return habit_weight(habit, b) * b.whitelist_pull


@jitable
def app_wallet_rate(habit: float, app_share: float, interoperable: bool, interest: float, b) -> float:
    """Yearly hazard that a resident of a live region without one sets up a wallet in the public e-CNY app.

    lambda = weight(habit) * (app_innovation + app_imitation * A / m) * (m - A) / (1 - A)
             * (1 + app_interop_boost * interoperable) * (1 + interest_use * 100 * i)
    with A the region's share of residents holding an app wallet last week and m = ``app_market`` the
    share who ever set one up: the Bass model with its market potential, dN/dt = (p + q N/M)(M - N),
    spread over the 1 - A residents without one, so no one is left to register once A reaches m. The
    hazard rises once the incumbent wallets interoperate (Alipay, December 2022: e-CNY inside it) and with
    the interest ``i`` (a yearly rate) balances earn (from 2026); neither moves m.
    Reads: app_innovation, app_imitation, app_market, app_interop_boost, interest_use, habit_floor.
    """
    left = max(b.app_market - app_share, 0.0) / max(1.0 - app_share, 1e-12)
    boost = 1.0 + b.app_interop_boost * (1.0 if interoperable else 0.0)
    paid = 1.0 + b.interest_use * 100.0 * interest
    bass = (b.app_innovation + b.app_imitation * app_share / b.app_market) * left
    return habit_weight(habit, b) * bass * boost * paid


def bank_attractiveness(live, reach, campaign):
    """A_j = live_j * (reach_j + m_j): a bank's pull on where a wallet opens.

    ``reach`` is the bank's organic pull (branches, apps), in the units of ``m_j``, its campaign's sign-ups
    asked per resident per year. The bank is then chosen with P(j) = A_j / sum(A) (``phases.choose_bank``).
    Region-level (numpy arrays broadcast).
    """
    return live * (reach + campaign)


def business_campaign(campaign, acquirer_pull):
    """m_j / s_j: bank j's campaign as its business customers feel it, sign-ups asked per resident a year.

    A bank's staff sign up its own business customers, so its effort per business is its campaign over its
    share of the region's businesses, s_j = pull_j / sum_k pull_k (the choice rule of
    ``phases.choose_acquirer``); 0 for a bank with no businesses. Averaged over businesses this is
    sum_j m_j, the region's whole campaign: one bank alone pushes each business no harder than eleven
    banks together do. ``campaign`` is float[B, R], ``acquirer_pull`` float[B] (0 if not live).
    Region-level (numpy arrays broadcast).
    """
    total = acquirer_pull.sum()
    share = acquirer_pull / total if total > 0 else np.zeros_like(acquirer_pull)
    safe = np.where(share > 0, share, 1.0)
    return np.where(share[:, None] > 0, campaign / safe[:, None], 0.0)


def extra_wallet_rate(campaign, b):
    """Yearly hazard that a holder opens one more wallet at bank j, where it has none.

    lambda_j = multihoming_push * m_j: staff chasing wallet targets sign up people who already hold a
    wallet, which is how wallets came to outnumber residents. A holder's hazard of some extra wallet is the
    sum over the live banks it has none at; which bank, in proportion to lambda_j.
    Region-level (numpy arrays broadcast).  Reads: multihoming_push.
    """
    return b.multihoming_push * campaign


def dormancy_rate(acceptance, interest, b):
    """Yearly hazard that an engaged holder goes dormant:
    dormancy_rate * (1 - acceptance_retention * a) / (1 + interest_use * 100 * i).

    Where every shop accepts, a holder drops e-CNY less often, but still does: people mostly stick to the
    apps they use (Bai et al. 2025), and use stayed low while acceptance spread. Interest on balances
    (``i``, a yearly rate, from 2026) keeps holders too.
    Region-level.  Reads: dormancy_rate, acceptance_retention, interest_use.
    """
    kept = 1.0 + b.interest_use * 100.0 * interest
    return b.dormancy_rate * (1.0 - b.acceptance_retention * acceptance) / kept


@jitable
def wake_rate(
    habit: float,
    network_share: float,
    region_share: float,
    acceptance: float,
    public_sector: bool,
    payroll_share: float,
    b,
) -> float:
    """Yearly hazard that a dormant holder starts to use its wallet:

    lambda = organic_wallet_rate + reactivation_rate * a.

    The reasons that move a resident without a wallet to open one and use it work on a holder whose
    wallet lies unused as well, so a wallet signed up under a campaign never leaves its holder less likely
    to use e-CNY than having none; ``reactivation_rate * a`` is the further pull of shops on a holder who
    has tried e-CNY before. (A dormant holder that could wake only at reactivation_rate * a made more bank
    push mean fewer users: each pushed wallet took a resident out of reach of word of mouth.)
    Reads: innovation, word_of_mouth, wom_mixing, acceptance_pull, government_pull, habit_floor,
    reactivation_rate.  Non-decreasing in every input.
    """
    organic = organic_wallet_rate(
        habit, network_share, region_share, acceptance, public_sector, payroll_share, b
    )
    return organic + b.reactivation_rate * acceptance


def ecny_payment_share(acceptance, public_sector, payroll_share, interoperable, b):
    """Share of an engaged holder's own payments made in e-CNY.

    s = min(1, ecny_share_max * acceptance ** acceptance_elasticity
                 * (1 + government_share_boost * payroll_share * public_sector)
                 * (1 + interop_share_boost * interoperable))
    An elasticity below 1 makes the share concave in acceptance: a holder needs the few shops it
    frequents to accept, not every shop.
    Reads: ecny_share_max, acceptance_elasticity, government_share_boost, interop_share_boost.
    """
    s = (
        b.ecny_share_max
        * np.power(acceptance, b.acceptance_elasticity)
        * (1.0 + b.government_share_boost * payroll_share * public_sector)
        * (1.0 + b.interop_share_boost * float(interoperable))
    )
    return np.minimum(s, 1.0)


def ecny_payments(share, weeks, b):
    """Expected e-CNY payments in a step: payments_per_week * weeks * share.  Reads: payments_per_week."""
    return b.payments_per_week * weeks * share


def pays_probability(share, weeks, b):
    """P(at least one e-CNY payment in the step) = 1 - exp(-payments_per_week * weeks * share).

    Region-level.  Reads: payments_per_week.
    """
    return -np.expm1(-ecny_payments(share, weeks, b))


@jitable
def merchant_accept_rate(
    customer_share: float,
    incumbent_fee: float,
    acquirer_campaign: float,
    public_service: bool,
    public_service_acceptance: float,
    interoperable: bool,
    b,
) -> float:
    """Yearly hazard that an outlet with a live acquiring bank starts accepting e-CNY.

    mu = merchant_base + (merchant_customer_pull + merchant_fee_pull * fee) * c
         + merchant_bank_pull * m_acquirer + public_service_rate * target * is_public_service
         + interop_merchant_pull * interoperable
    ``c`` is the region's share of residents who are active users (the two-sided network effect); ``fee``
    is the incumbent wallets' fee, which e-CNY does not charge: it saves that fee on the sales paid in
    e-CNY, so it raises the worth of each e-CNY customer; ``m_acquirer`` the acquirer's campaign as its
    businesses feel it (``business_campaign``), whose staff sign up merchants too.
    Non-decreasing in c, fee and m.
    Reads: merchant_base, merchant_customer_pull, merchant_fee_pull, merchant_bank_pull,
    public_service_rate, interop_merchant_pull.
    """
    return (
        b.merchant_base
        + (b.merchant_customer_pull + b.merchant_fee_pull * incumbent_fee) * customer_share
        + b.merchant_bank_pull * acquirer_campaign
        + b.public_service_rate * public_service_acceptance * (1.0 if public_service else 0.0)
        + b.interop_merchant_pull * (1.0 if interoperable else 0.0)
    )


@jitable
def corporate_wallet_rate(acquirer_campaign: float, programme: float, public_body: bool, mandate: float, b):
    """Yearly hazard that a business of a live region opens a corporate (unit) wallet.

    mu = corporate_base + corporate_bank_pull * m_bank + programme_pull * g
         + public_service_rate * mandate * is_public_body
    ``m_bank`` is its bank's campaign as its businesses feel it (``business_campaign``: staff sign up firms
    too), ``g`` the local government's e-CNY programme (subsidies, procurement, loans) in thousand yuan
    per business a year, ``mandate`` the target share of public services in e-CNY, which public bodies
    follow. An outlet that starts accepting opens one at once.
    Reads: corporate_base, corporate_bank_pull, programme_pull, public_service_rate.
    """
    return (
        b.corporate_base
        + b.corporate_bank_pull * acquirer_campaign
        + b.programme_pull * programme
        + b.public_service_rate * mandate * (1.0 if public_body else 0.0)
    )


@jitable
def b2b_rate(b2b_share: float, programme: float, b) -> float:
    """Yearly hazard that a business with a corporate wallet starts paying other businesses in e-CNY.

    mu = b2b_innovation + b2b_imitation * s + programme_pull * g: a Bass model among businesses, ``s`` the
    region's share of businesses already paying in e-CNY (their counterparties), ``g`` the local
    government's programme (thousand yuan per business a year), whose payments and loans arrive in e-CNY.
    Reads: b2b_innovation, b2b_imitation, programme_pull.
    """
    return b.b2b_innovation + b.b2b_imitation * b2b_share + b.programme_pull * programme


def b2b_payments(users, firms, weeks, b):
    """e-CNY paid between businesses in a step (yuan): users * b2b_yuan_per_week * weeks * s.

    s = users / firms, the region's share of businesses paying in e-CNY.

    A business paying in e-CNY can pay so only the counterparties that take e-CNY, and those are the
    businesses paying in it too (the share ``s`` the Bass rule ``b2b_rate`` reads), so a B2B user's e-CNY
    payments grow with the share of its region's businesses using it: b2b_yuan_per_week is what it pays a
    week once all of them do. The region's B2B value is then quadratic in its users: small while a few
    firms try it, large once most trade in it (Suzhou 2022, the big pilot cities in 2023-2024).
    Region-level (numpy arrays; 0 where a region has no businesses).  Reads: b2b_yuan_per_week.
    """
    users = np.asarray(users, dtype=np.float64)
    share = np.divide(users, firms, out=np.zeros_like(users), where=np.asarray(firms) > 0)
    return users * b.b2b_yuan_per_week * weeks * share


def allocate_budget(budget: float, population, adopted_share, live):
    """A bank's campaign (or any yearly budget) spread over live regions by the market left to win.

    x_r = budget * w_r / sum(w),  w_r = live_r * population_r * (1 - adopted_share_r).
    Nothing is spent where no region is live. This is the model's one channel between regions: adoption
    in one region moves effort to the others (``banks.allocation = "population"`` turns it off).
    """
    weight = live * population * (1.0 - adopted_share)
    total = weight.sum()
    return budget * weight / total if total > 0 else np.zeros_like(weight, dtype=np.float64)


def allocate_by_population(budget: float, population, live, all_population: float):
    """x_r = budget * live_r * population_r / P, P the residents of every region of the data.

    The same effort per resident in every live region whatever the others do: no channel between regions
    (the share of regions not yet live is not spent).
    """
    return budget * live * population / all_population if all_population > 0 else np.zeros_like(population)


@jitable
def lottery_entry_probability(habit: float, budget_yuan: float, residents: float, b) -> float:
    """P(a resident enters a red-envelope lottery) = 1 - exp(-lottery_entry * weight(habit) * y ** e).

    y = budget_yuan / residents is the prize money per resident (0 if there are no residents or the budget
    is negative); an elasticity e below 1 makes a bigger lottery draw more entrants with diminishing
    returns (Shenzhen: 1.91 million entrants for 10 million yuan in 2020, 2.6 million for 30 million in
    2022, among 17.6 million residents).  Reads: lottery_entry, lottery_elasticity, habit_floor.
    """
    if residents <= 0.0 or budget_yuan <= 0.0:
        return 0.0
    y = (budget_yuan / residents) ** b.lottery_elasticity
    return -math.expm1(-b.lottery_entry * habit_weight(habit, b) * y)


@jitable
def stochastic_round(u: float, x: float) -> int:
    """floor(x) plus one if u < frac(x): an unbiased integer count of scaled-down agents."""
    whole = math.floor(x)
    return int(whole) + int(u < x - whole)


def personal_balances(retail_yuan, wages_yuan, dormant, interest, b):
    """e-CNY held by residents (yuan): a float of retail spending and kept wages, and dormant leftovers.

    balance = (wallet_float_weeks * (R + wage_retention * W) + dormant_balance_yuan * D)
              * (1 + interest_holding * 100 * i)
    with R the week's retail e-CNY spending, W the week's e-CNY wages and D the dormant holders: an engaged
    holder tops up and spends down a float of some weeks' spending (Baumol-Tobin), moves most wages
    straight to a bank account, and a dormant wallet keeps a leftover; lottery money is spent within the
    lottery's window. Interest ``i`` (a yearly rate, from 2026) makes holders keep more.
    Region-level.  Reads: wallet_float_weeks, wage_retention, dormant_balance_yuan, interest_holding.
    """
    held = (
        b.wallet_float_weeks * (retail_yuan + b.wage_retention * wages_yuan)
        + b.dormant_balance_yuan * dormant
    )
    return held * (1.0 + b.interest_holding * 100.0 * interest)


def corporate_balances(business_yuan_per_week, interest, b):
    """e-CNY held by businesses (yuan): corporate_float_days / 7 * the week's business payments
    * (1 + interest_holding * 100 * i).

    A working balance of some days of e-CNY payments (B2B and programme receipts), larger once balances
    in real-name wallets earn interest ``i`` (a yearly rate, from 2026).  Region-level.
    Reads: corporate_float_days, interest_holding.
    """
    return (
        b.corporate_float_days / 7.0 * business_yuan_per_week * (1.0 + b.interest_holding * 100.0 * interest)
    )
