"""The behaviour rules: pure functions, one per decision, numpy arrays or scalars in and out.

Nothing else in the package decides behaviour. The agent engine calls these with one agent's scalars, the
vectorized engine with whole arrays, so the two engines cannot drift apart. Rates are per year; a step of
``dt`` years turns a rate ``r`` into the probability ``1 - exp(-r dt)``. Parameters come from ``Behaviour``
(``b``), whose fields are documented with their bounds in ``behaviour.py``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .behaviour import Behaviour

Array = NDArray[np.floating] | float


def probability(rate: ArrayLike, dt: float) -> Array:
    """P(event within a step) = 1 - exp(-rate * dt) for a constant hazard ``rate`` per year."""
    return -np.expm1(-np.asarray(rate, dtype=np.float64) * dt)


def habit_weight(habit: ArrayLike, b: Behaviour) -> Array:
    """How much a citizen's digital-payment habit (0..1) scales every pull towards e-CNY.

    weight = habit_floor + (1 - habit_floor) * habit.  Reads: habit_floor.
    """
    return b.habit_floor + (1.0 - b.habit_floor) * np.asarray(habit)


def open_wallet_rate(
    habit: ArrayLike,
    network_share: ArrayLike,
    region_share: ArrayLike,
    acceptance: ArrayLike,
    marketing: ArrayLike,
    public_sector: ArrayLike,
    payroll_share: float,
    b: Behaviour,
) -> Array:
    """Yearly hazard that a citizen without a wallet opens a first one (live region).

    lambda = weight(habit) * (p + q * w + acceptance_pull * a + marketing_pull * m
                              + government_pull * payroll_share * public_sector)
    with w = (1 - wom_mixing) * network_share + wom_mixing * region_share, the Bass model's hazard when
    every other pull is zero and wom_mixing = 1. ``acceptance`` is the region's share of merchant points
    accepting e-CNY, ``marketing`` the banks' wallet push in yuan per resident per year.
    Reads: innovation, word_of_mouth, wom_mixing, acceptance_pull, marketing_pull, government_pull,
    habit_floor.  Non-decreasing in every input.
    """
    w = (1.0 - b.wom_mixing) * np.asarray(network_share) + b.wom_mixing * np.asarray(region_share)
    pull = (
        b.innovation
        + b.word_of_mouth * w
        + b.acceptance_pull * np.asarray(acceptance)
        + b.marketing_pull * np.asarray(marketing)
        + b.government_pull * payroll_share * np.asarray(public_sector)
    )
    return habit_weight(habit, b) * pull


def opening_engagement(rate: ArrayLike, habit: ArrayLike, marketing: ArrayLike, b: Behaviour) -> Array:
    """P(a first wallet opened in a live region starts engaged), by competing hazards.

    Of the hazard ``rate`` (``open_wallet_rate``), the part push = weight(habit) * marketing_pull * m is the
    banks' wallet push; a wallet opened under it starts engaged with probability pushed_engagement, one
    opened for any other reason (friends, shops, pay, curiosity) always does:
        P = 1 - (1 - pushed_engagement) * push / rate.
    With pushed_engagement = 1 (the prior) every new wallet starts engaged.  Below 1 it lets wallet opening
    run ahead of use, as in 2021.  Reads: marketing_pull, pushed_engagement, habit_floor.
    """
    push = habit_weight(habit, b) * b.marketing_pull * np.asarray(marketing, dtype=np.float64)
    rate = np.asarray(rate, dtype=np.float64)
    share = np.divide(push, rate, out=np.zeros(np.broadcast_shapes(push.shape, rate.shape)), where=rate > 0)
    return 1.0 - (1.0 - b.pushed_engagement) * np.minimum(share, 1.0)


def whitelist_rate(habit: ArrayLike, b: Behaviour) -> Array:
    """Yearly hazard that a white-listed resident of a region not yet live opens a wallet.

    lambda = weight(habit) * whitelist_pull.  Reads: whitelist_pull, habit_floor.
    """
    return habit_weight(habit, b) * b.whitelist_pull


def choose_bank(u: ArrayLike, attractiveness: NDArray[np.floating]) -> NDArray[np.intp] | int:
    """Index of the bank at which a first wallet is opened, drawn in proportion to attractiveness.

    P(bank j) = A_j / sum(A), with A_j = live_j * (reach_j + intensity_j * marketing_j) from
    ``bank_attractiveness``; ``u`` is uniform on [0, 1).  Returns -1 where no bank is live.
    """
    cumulative = np.cumsum(attractiveness)
    total = cumulative[-1] if cumulative.size else 0.0
    if total <= 0:
        return np.full(np.shape(u), -1, dtype=np.intp) if np.ndim(u) else -1
    chosen = np.searchsorted(cumulative / total, u, side="right")
    return np.minimum(chosen, len(cumulative) - 1)


def bank_attractiveness(
    live: NDArray[np.bool_], reach: NDArray, intensity: NDArray, marketing: NDArray
) -> NDArray:
    """A_j = live_j * (reach_j + intensity_j * marketing_j), marketing in yuan per resident per year."""
    return live * (reach + intensity * marketing)


def extra_wallet_rate(intensity: ArrayLike, marketing: ArrayLike, b: Behaviour) -> Array:
    """Yearly hazard that a wallet holder opens one more wallet at a bank where it has none.

    lambda_j = multihoming_push * intensity_j * marketing_j: banks chasing wallet targets sign up their own
    customers again, which is how wallets came to outnumber residents.  Reads: multihoming_push.
    """
    return b.multihoming_push * np.asarray(intensity) * np.asarray(marketing)


def dormancy_rate(acceptance: ArrayLike, b: Behaviour) -> Array:
    """Yearly hazard that an engaged holder goes dormant: dormancy_rate * (1 - acceptance)."""
    return b.dormancy_rate * (1.0 - np.asarray(acceptance))


def reactivation_rate(acceptance: ArrayLike, b: Behaviour) -> Array:
    """Yearly hazard that a dormant holder re-engages: reactivation_rate * acceptance."""
    return b.reactivation_rate * np.asarray(acceptance)


def ecny_payment_share(
    acceptance: ArrayLike,
    public_sector: ArrayLike,
    payroll_share: float,
    interoperable: bool,
    b: Behaviour,
) -> Array:
    """Share of an engaged holder's own payments made in e-CNY.

    s = min(1, ecny_share_max * acceptance ** acceptance_elasticity
                 * (1 + government_share_boost * payroll_share * public_sector)
                 * (1 + interop_share_boost * interoperable))
    An elasticity below 1 makes the share concave in acceptance: a holder needs the few shops it
    frequents to accept, not every shop, so the first acceptance points matter most (the calibration
    finds use growing far slower than acceptance in 2021).
    Reads: ecny_share_max, acceptance_elasticity, government_share_boost, interop_share_boost.
    """
    s = (
        b.ecny_share_max
        * np.asarray(acceptance, dtype=np.float64) ** b.acceptance_elasticity
        * (1.0 + b.government_share_boost * payroll_share * np.asarray(public_sector))
        * (1.0 + b.interop_share_boost * float(interoperable))
    )
    return np.minimum(s, 1.0)


def ecny_payments(share: ArrayLike, weeks: float, b: Behaviour) -> Array:
    """Expected e-CNY payments in a step: payments_per_week * weeks * share.  Reads: payments_per_week."""
    return b.payments_per_week * weeks * np.asarray(share)


def pays_probability(share: ArrayLike, weeks: float, b: Behaviour) -> Array:
    """P(at least one e-CNY payment in the step) = 1 - exp(-payments_per_week * weeks * share)."""
    return -np.expm1(-ecny_payments(share, weeks, b))


def merchant_accept_rate(
    customer_share: ArrayLike,
    incumbent_fee: float,
    acquirer_marketing: ArrayLike,
    public_service: ArrayLike,
    public_service_acceptance: float,
    interoperable: bool,
    b: Behaviour,
) -> Array:
    """Yearly hazard that a merchant whose acquiring bank is live starts accepting e-CNY.

    mu = merchant_base + merchant_customer_pull * c + merchant_fee_pull * fee
         + merchant_bank_pull * m_acquirer + public_service_rate * target * is_public_service
         + interop_merchant_pull * interoperable
    ``c`` is the region's share of residents who are active users; ``fee`` is the incumbent wallets' fee
    that e-CNY saves (it charges none).  Non-decreasing in c, fee and m.
    """
    return (
        b.merchant_base
        + b.merchant_customer_pull * np.asarray(customer_share)
        + b.merchant_fee_pull * incumbent_fee
        + b.merchant_bank_pull * np.asarray(acquirer_marketing)
        + b.public_service_rate * public_service_acceptance * np.asarray(public_service)
        + b.interop_merchant_pull * float(interoperable)
    )


def allocate_budget(
    budget: float, population: NDArray, adopted_share: NDArray, live: NDArray[np.bool_]
) -> NDArray:
    """A bank's yearly marketing budget spread over live regions by the market left to win.

    yuan_r = budget * w_r / sum(w),  w_r = live_r * population_r * (1 - adopted_share_r).
    Nothing is spent where no region is live.
    """
    weight = live * population * (1.0 - adopted_share)
    total = weight.sum()
    return budget * weight / total if total > 0 else np.zeros_like(weight, dtype=np.float64)


def lottery_entry_probability(habit: ArrayLike, budget_yuan: ArrayLike, residents: ArrayLike, b: Behaviour):
    """P(a resident enters a red-envelope lottery) = 1 - exp(-lottery_entry * weight(habit) * sqrt(y)).

    y = budget_yuan / residents is the prize money per resident (0 if there are no residents or the budget
    is negative); the square root makes a bigger lottery draw more entrants with diminishing returns
    (calibrated on Luohu 2020: 1.91 million entrants for 10 million yuan among 17.6 million residents).
    Reads: lottery_entry, habit_floor.
    """
    budget = np.maximum(np.asarray(budget_yuan, dtype=np.float64), 0.0)
    residents = np.asarray(residents, dtype=np.float64)
    per_resident = np.divide(
        budget,
        residents,
        out=np.zeros(np.broadcast_shapes(budget.shape, residents.shape)),
        where=residents > 0,
    )
    return -np.expm1(-b.lottery_entry * habit_weight(habit, b) * np.sqrt(per_resident))


def draw_winners(rng: np.random.Generator, entrants: NDArray[np.intp], winners: int) -> NDArray:
    """Winners drawn uniformly without replacement among the entrants (all of them if too few)."""
    if winners >= len(entrants):
        return entrants
    return np.sort(rng.choice(entrants, size=winners, replace=False))


def stochastic_round(rng: np.random.Generator, x: float) -> int:
    """floor(x) plus one with probability frac(x): an unbiased integer count of scaled-down agents."""
    whole = int(np.floor(x))
    return whole + int(rng.random() < x - whole)
