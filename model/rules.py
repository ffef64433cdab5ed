"""The behaviour rules: pure functions, one per decision, each with its equation and the parameters it reads.

Nothing else in the package decides behaviour. A rule takes scalars (one agent, or one region) and the
run's behavioural parameters ``b`` (``behaviour.Behaviour`` or the ``params`` tuple the kernels receive;
both have the same field names). Rules are plain Python, so the agent engine calls them as they are; they
are also compiled into the vectorized engine's kernels (``numba.extending.register_jitable``), so both
engines compute every probability with the same code.

Rates are per year. A step of ``dt`` years turns a rate into a probability in one place only,
``probability``; the phases decide with ``occurs(u, rate, dt)``.
"""

from __future__ import annotations

import math

import numpy as np
from numba.extending import register_jitable


def probability(rate, dt: float):
    """P(event within a step) = 1 - exp(-rate * dt) for a constant hazard ``rate`` per year.

    Region-level (numpy arrays or scalars); ``occurs`` is the same probability for one agent's draw.
    """
    return -np.expm1(-np.asarray(rate, dtype=np.float64) * dt)


@register_jitable(inline="always")
def occurs(u: float, rate: float, dt: float) -> bool:
    """Whether an event of hazard ``rate`` happens in a step for an agent whose uniform is ``u``:
    u < 1 - exp(-rate * dt), the ``probability`` of the step.

    Exact and cheap: since 1 - exp(-x) <= x, u >= rate * dt already means no event, and the exponential
    (``math.expm1``, the C library's, in both engines) is only evaluated for the few draws below that bound.
    """
    x = rate * dt
    return u < x and u < -math.expm1(-x)


@register_jitable(inline="always")
def habit_weight(habit: float, b) -> float:
    """How much a citizen's digital-payment habit (0..1) scales every pull towards e-CNY.

    weight = habit_floor + (1 - habit_floor) * habit.  Reads: habit_floor.
    """
    return b.habit_floor + (1.0 - b.habit_floor) * habit


@register_jitable(inline="always")
def open_wallet_rate(
    habit: float,
    network_share: float,
    region_share: float,
    acceptance: float,
    marketing: float,
    public_sector: bool,
    payroll_share: float,
    b,
) -> float:
    """Yearly hazard that a citizen without a wallet opens a first one (live region).

    lambda = weight(habit) * (p + q * w + acceptance_pull * a + marketing_pull * m
                              + government_pull * payroll_share * public_sector)
    with w = (1 - wom_mixing) * network_share + wom_mixing * region_share, the Bass model's hazard when
    every other pull is zero and wom_mixing = 1. ``acceptance`` is the region's share of merchant points
    accepting e-CNY, ``marketing`` the banks' wallet push in yuan per resident per year.
    Reads: innovation, word_of_mouth, wom_mixing, acceptance_pull, marketing_pull, government_pull,
    habit_floor.  Non-decreasing in every input.
    """
    w = (1.0 - b.wom_mixing) * network_share + b.wom_mixing * region_share
    pull = (
        b.innovation
        + b.word_of_mouth * w
        + b.acceptance_pull * acceptance
        + b.marketing_pull * marketing
        + b.government_pull * payroll_share * (1.0 if public_sector else 0.0)
    )
    return habit_weight(habit, b) * pull


@register_jitable(inline="always")
def opening_engagement(rate: float, habit: float, marketing: float, b) -> float:
    """P(a first wallet opened in a live region starts engaged), by competing hazards.

    Of the hazard ``rate`` (``open_wallet_rate``), the part push = weight(habit) * marketing_pull * m is the
    banks' wallet push; a wallet opened under it starts engaged with probability pushed_engagement, one
    opened for any other reason (friends, shops, pay, curiosity) always does:
        P = 1 - (1 - pushed_engagement) * min(1, push / rate).
    Reads: marketing_pull, pushed_engagement, habit_floor.
    """
    if rate <= 0.0:
        return 1.0
    push = habit_weight(habit, b) * b.marketing_pull * marketing
    return 1.0 - (1.0 - b.pushed_engagement) * min(push / rate, 1.0)


@register_jitable(inline="always")
def whitelist_rate(habit: float, b) -> float:
    """Yearly hazard that a white-listed resident of a region not yet live opens a wallet.

    lambda = weight(habit) * whitelist_pull.  Reads: whitelist_pull, habit_floor.
    """
    return habit_weight(habit, b) * b.whitelist_pull


def bank_attractiveness(live, reach, intensity, marketing):
    """A_j = live_j * (reach_j + intensity_j * marketing_j): a bank's pull on where a first wallet opens.

    The bank is then chosen with P(j) = A_j / sum(A) (``phases.choose_bank``). Region-level: evaluated once
    per step for every region and bank (numpy arrays broadcast).
    """
    return live * (reach + intensity * marketing)


def extra_wallet_rate(intensity, marketing, b):
    """Yearly hazard that a holder opens one more wallet at bank j, where it has none.

    lambda_j = multihoming_push * intensity_j * marketing_j: banks chasing wallet targets sign up their own
    customers again, which is how wallets came to outnumber residents. A holder's hazard of some extra
    wallet is the sum over the live banks it has none at; which bank, in proportion to lambda_j.
    Region-level (numpy arrays broadcast).  Reads: multihoming_push.
    """
    return b.multihoming_push * intensity * marketing


def dormancy_rate(acceptance, b):
    """Yearly hazard that an engaged holder goes dormant: dormancy_rate * (1 - acceptance).

    Region-level.  Reads: dormancy_rate.
    """
    return b.dormancy_rate * (1.0 - acceptance)


def reactivation_rate(acceptance, b):
    """Yearly hazard that a dormant holder re-engages: reactivation_rate * acceptance.

    Region-level.  Reads: reactivation_rate.
    """
    return b.reactivation_rate * acceptance


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


@register_jitable(inline="always")
def merchant_accept_rate(
    customer_share: float,
    incumbent_fee: float,
    acquirer_marketing: float,
    public_service: bool,
    public_service_acceptance: float,
    interoperable: bool,
    b,
) -> float:
    """Yearly hazard that a merchant whose acquiring bank is live starts accepting e-CNY.

    mu = merchant_base + merchant_customer_pull * c + merchant_fee_pull * fee
         + merchant_bank_pull * m_acquirer + public_service_rate * target * is_public_service
         + interop_merchant_pull * interoperable
    ``c`` is the region's share of residents who are active users; ``fee`` is the incumbent wallets' fee
    that e-CNY saves (it charges none).  Non-decreasing in c, fee and m.
    Reads: merchant_base, merchant_customer_pull, merchant_fee_pull, merchant_bank_pull,
    public_service_rate, interop_merchant_pull.
    """
    return (
        b.merchant_base
        + b.merchant_customer_pull * customer_share
        + b.merchant_fee_pull * incumbent_fee
        + b.merchant_bank_pull * acquirer_marketing
        + b.public_service_rate * public_service_acceptance * (1.0 if public_service else 0.0)
        + b.interop_merchant_pull * (1.0 if interoperable else 0.0)
    )


def allocate_budget(budget: float, population, adopted_share, live):
    """A bank's yearly marketing budget spread over live regions by the market left to win.

    yuan_r = budget * w_r / sum(w),  w_r = live_r * population_r * (1 - adopted_share_r).
    Nothing is spent where no region is live. This is the model's one channel between regions: adoption
    in one region moves budget to the others (``banks.allocation = "population"`` turns it off).
    """
    weight = live * population * (1.0 - adopted_share)
    total = weight.sum()
    return budget * weight / total if total > 0 else np.zeros_like(weight, dtype=np.float64)


def allocate_by_population(budget: float, population, live, all_population: float):
    """yuan_r = budget * live_r * population_r / P, P the residents of every region of the data.

    The same yuan per resident in every live region whatever the others do: no channel between regions
    (the budget of regions not yet live is not spent).
    """
    return budget * live * population / all_population if all_population > 0 else np.zeros_like(population)


@register_jitable(inline="always")
def lottery_entry_probability(habit: float, budget_yuan: float, residents: float, b) -> float:
    """P(a resident enters a red-envelope lottery) = 1 - exp(-lottery_entry * weight(habit) * sqrt(y)).

    y = budget_yuan / residents is the prize money per resident (0 if there are no residents or the budget
    is negative); the square root makes a bigger lottery draw more entrants with diminishing returns
    (calibrated on Luohu 2020: 1.91 million entrants for 10 million yuan among 17.6 million residents).
    Reads: lottery_entry, habit_floor.
    """
    if residents <= 0.0 or budget_yuan <= 0.0:
        return 0.0
    return -math.expm1(-b.lottery_entry * habit_weight(habit, b) * math.sqrt(budget_yuan / residents))


@register_jitable(inline="always")
def stochastic_round(u: float, x: float) -> int:
    """floor(x) plus one if u < frac(x): an unbiased integer count of scaled-down agents."""
    whole = math.floor(x)
    return int(whole) + int(u < x - whole)
