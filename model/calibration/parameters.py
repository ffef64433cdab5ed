"""The free parameters of the calibration: bounds, scale and the reason for each.

A parameter sets one or more scenario keys (dotted paths, as in ``load_scenario`` overrides): several keys
tie them to one value. Log-scaled parameters are searched uniformly in log space, since their plausible
values span orders of magnitude. Every other behavioural parameter keeps its prior (``model/behaviour.py``)
and is listed in ``FIXED`` with the reason it is not fitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Param:
    name: str
    keys: tuple[str, ...]  # scenario keys it sets
    low: float
    high: float
    log: bool
    prior: float  # the uncalibrated value (behaviour.py default or baseline.toml assumption)
    reason: str

    def __post_init__(self) -> None:
        if not self.low < self.high or (self.log and self.low <= 0):
            raise ValueError(f"{self.name}: bounds [{self.low}, {self.high}] are not valid")


def _b(name: str, low: float, high: float, log: bool, prior: float, reason: str) -> Param:
    return Param(name, (f"behaviour.{name}",), low, high, log, prior, reason)


FREE: tuple[Param, ...] = (
    _b(
        "innovation",
        0.001,
        0.3,
        True,
        0.03,
        "Bass p, organic first wallets a year; Bass meta-analyses give 0.001 to 0.1 for products in "
        "their launch phase (the closed pilot of 2020 had 113,300 wallets in 52 million residents)",
    ),
    _b(
        "word_of_mouth",
        0.005,
        3.0,
        True,
        0.38,
        "Bass q per neighbour share; meta-analyses 0.3 to 0.5, from near nil (no contagion) to 3 (strong "
        "imitation)",
    ),
    _b(
        "campaign_pull",
        0.005,
        2.0,
        True,
        0.1,
        "first-wallet hazard per wallet sign-up asked per resident a year: 1 would meet every staff target "
        "among people without a wallet; targets were widely reported as pressure, not as met",
    ),
    _b(
        "acceptance_pull",
        0.05,
        5.0,
        True,
        0.5,
        "first-wallet (and waking) hazard per unit of the region's acceptance share: 5 would give nearly "
        "everyone a wallet within months of every shop accepting, 0.05 almost no pull; the 2021 fit could "
        "not tell it from the campaigns, but the payments after interoperability (2023) move with it",
    ),
    _b(
        "pushed_engagement",
        0.001,
        1.0,
        True,
        0.005,
        "share of wallets signed up under a campaign that start engaged: early 2022, 0.47 bn yuan was held "
        "in 261 m wallets (1.8 yuan a wallet) and surveys found a fifth of adults had ever used e-CNY, so "
        "most pushed wallets were never used ('low, highly inactive' use); 1 = as engaged as any other",
    ),
    _b(
        "multihoming_push",
        0.01,
        30.0,
        True,
        3.0,
        "extra-wallet hazard per sign-up asked per resident a year among holders: staff sign up people who "
        "already hold a wallet (one tap in an app they use) more easily than new ones (an identity check "
        "and an install): prior ten times campaign_pull's",
    ),
    Param(
        "campaign_pilot",
        ("banks.campaign.2021-06-05",),
        1.0,
        250.0,
        True,
        50.0,
        "wallet sign-ups asked per bank employee a year just before the targets of 200-300 were reported "
        "(June 2021); rising linearly from none in the closed tests of April 2020",
    ),
    Param(
        "campaign_after",
        ("banks.campaign.2022-01-31",),
        1.0,
        250.0,
        True,
        5.0,
        "sign-ups asked per employee a year after the 2021 year-end reviews (no figure published); the app "
        "took over the opening of wallets from 2022 and no staff targets were reported after 2021 "
        "(events.csv), so the prior is a tenth of the pilot's",
    ),
    _b(
        "app_innovation",
        0.002,
        5.0,
        True,
        0.05,
        "app-wallet hazard a year, organic (16 million downloads in the app's first week: a launch burst "
        "of about 10% of the live residents, which a yearly rate of 1 would match); it works on the "
        "market potential: (m - A) / (1 - A) of the residents without one, about m at launch, so its range "
        "reaches 1 / 0.2 = 5",
    ),
    _b("app_imitation", 0.01, 5.0, True, 0.5, "app-wallet hazard per region share holding one (Bass q)"),
    _b(
        "app_market",
        0.1,
        1.0,
        False,
        0.4,
        "Bass m, the share of a region's residents who ever set up an app wallet: surveys of 2022 found "
        "about a fifth of all adults had downloaded the app or used e-CNY while the pilot regions held "
        "about 43% of the residents, so up to about half of theirs; the rise from 120 m (2023-06) to "
        "180 m (2024-07) app wallets, slower than a year before, is what pins it",
    ),
    _b(
        "app_engagement",
        0.005,
        1.0,
        True,
        0.2,
        "share of residents whose first wallet is set up in the app who start using it; surveys of 2022 "
        "found about a fifth of adults had downloaded the app or used e-CNY",
    ),
    _b(
        "app_interop_boost",
        0.01,
        5.0,
        True,
        0.5,
        "relative rise of the app-wallet hazard once Alipay interoperates (December 2022): from nil (the "
        "partner apps hold e-CNY without the public app) to sixfold; the prior, a half, is a guess, and "
        "the two app-wallet figures of 2023-06 and 2024-07 are what pin it",
    ),
    _b(
        "dormancy_rate",
        0.1,
        100.0,
        True,
        2.0,
        "engaged -> dormant a year at zero acceptance: from a decade to a few days of use (most app "
        "wallets were set up for a promotion, paid once and left)",
    ),
    _b(
        "acceptance_retention",
        0.0,
        0.9,
        False,
        0.5,
        "share of dormancy that full acceptance removes: from nil (use does not follow acceptance) to "
        "nine tenths (holders stay ten times longer where every shop accepts); acceptance rose with the "
        "incumbents' interoperability from December 2022, so the payments of 2023 pin it",
    ),
    _b(
        "ecny_share_max",
        0.002,
        0.66,
        True,
        0.3,
        "e-CNY share of an engaged holder's payments at full acceptance: at most the 66% of payments made "
        "by phone (PBOC 2019; e-CNY replaces no cash or card payment here), and people mostly stick to "
        "their apps (Bai et al. 2025), so the prior is under half of that",
    ),
    _b(
        "acceptance_elasticity",
        0.0001,
        1.5,
        True,
        0.05,
        "payment share ~ acceptance ** this: 1 linear, towards 0 a holder needs only the few shops it "
        "frequents; from mid- to end-2021 acceptance points rose 6x while value per wallet fell from "
        "1,650 to 340 yuan (targets.csv), so use followed acceptance weakly",
    ),
    _b(
        "ticket_yuan",
        100.0,
        800.0,
        False,
        400.0,
        "yuan per retail e-CNY payment; the published averages are 351 (1.1 bn yuan over 3.13 m payments, "
        "August 2020) and 488 (34.5 bn over 70.75 m, June 2021), with some corporate and government "
        "payments in them; the range reaches 800 so the fit can show where it goes: above 488 it carries "
        "value that the model's too few early payments do not (README, 'Where the fit leaves a prior')",
    ),
    _b(
        "merchant_base",
        0.0002,
        0.5,
        True,
        0.003,
        "organic acceptance hazard a year of a reachable outlet: 6,700 acceptance scenarios among the 5.7 m "
        "businesses of the closed-pilot cities over five months of 2020 is at most 0.003 a year",
    ),
    Param(
        "closed_merchant_coverage",
        ("pilot.closed_merchant_coverage",),
        0.05,
        1.0,
        False,
        0.5,
        "share of the first four cities' merchants reachable in the closed white-list tests (April to "
        "October 2020): from a few designated scenarios to every shop; the 6,700 scenarios and 8,859 "
        "corporate wallets of August 2020 pin it",
    ),
    _b(
        "merchant_bank_pull",
        0.001,
        5.0,
        True,
        0.3,
        "acceptance hazard per sign-up asked per resident a year by the outlet's bank, over the bank's "
        "share of the region's businesses (rules.business_campaign): staff sign up merchants too",
    ),
    _b(
        "interop_merchant_pull",
        0.01,
        5.0,
        True,
        0.5,
        "acceptance hazard a year of a reachable outlet once the incumbents interoperate (Alipay, December "
        "2022): an Alipay merchant's code takes e-CNY at no cost to it, yet it must still be enrolled; "
        "from a hundredth (few enrolled) to 5 (nearly all within months); no acceptance figure is "
        "published after 2021, so the payments of 2023 and 2024 pin it",
    ),
    _b(
        "corporate_base",
        0.0002,
        0.5,
        True,
        0.004,
        "organic corporate-wallet hazard a year: 8,859 corporate wallets among the 5.7 m businesses of the "
        "closed-pilot cities over five months of 2020 (before any staff campaign) is 0.004 a year",
    ),
    _b(
        "corporate_bank_pull",
        0.01,
        20.0,
        True,
        0.8,
        "corporate-wallet hazard per sign-up asked per resident a year by the business's bank, over the "
        "bank's share of the region's businesses (rules.business_campaign): 3.51 m corporate wallets by "
        "June 2021, a seventh of the live regions' businesses in eight months (a hazard of 0.23 a year), "
        "under campaigns that asked about 0.3 sign-ups per resident a year in all (the prior campaign), "
        "is about 0.8 per unit",
    ),
    _b(
        "programme_pull",
        0.0005,
        2.0,
        True,
        0.05,
        "corporate-wallet and B2B hazard per thousand yuan a business a year of local e-CNY programmes "
        "(Suzhou: 58.7 bn in 2022, about 20 thousand yuan a business)",
    ),
    _b(
        "b2b_innovation",
        0.00001,
        1.0,
        True,
        0.002,
        "hazard a year that a business with a wallet starts B2B use on its own: B2B e-CNY payments were "
        "reported only once public programmes paid suppliers (Suzhou, 2022), so a small prior",
    ),
    _b(
        "b2b_imitation",
        0.05,
        30.0,
        True,
        1.0,
        "B2B hazard per share of the region's businesses paying in e-CNY (Bass q among businesses, whose "
        "counterparties must hold e-CNY too)",
    ),
    _b(
        "b2b_yuan_per_week",
        100.0,
        200_000.0,
        True,
        2000.0,
        "e-CNY a B2B user pays other businesses a week once all of them take e-CNY (it pays in e-CNY "
        "only those that do: rules.b2b_payments); a small firm's turnover is tens of thousands of yuan a "
        "week, of which e-CNY carries a share",
    ),
    _b(
        "lottery_entry",
        0.05,
        1.0,
        True,
        0.17,
        "lottery entry propensity k in 1 - exp(-k h y^e); 0.17 gives Luohu's 11% entry at e = 0.5",
    ),
    _b(
        "lottery_elasticity",
        0.05,
        1.0,
        False,
        0.5,
        "entry ~ (prize yuan per resident) ** this; 0.5 (the square root) is the prior; Shenzhen's 2022 "
        "lottery drew 2.6 m with three times Luohu's budget",
    ),
    _b(
        "wallet_float_weeks",
        0.01,
        26.0,
        True,
        0.1,
        "an engaged holder's e-CNY balance in weeks of its e-CNY spending: wallets are topped up from a "
        "bank card to pay, and 1.8 yuan a wallet was held early in 2022, a float of days, not weeks",
    ),
    _b(
        "dormant_balance_yuan",
        0.1,
        20.0,
        True,
        2.0,
        "leftover in a dormant wallet: lottery winners added little of their own (0.9 m yuan on Luohu's "
        "10 m) and 0.47 bn yuan sat in 261 m wallets early in 2022 (1.8 yuan a wallet), so a few yuan",
    ),
    _b(
        "corporate_float_days",
        0.5,
        90.0,
        True,
        5.0,
        "a business's e-CNY balance in days of its e-CNY payments (a working balance)",
    ),
)

FIXED: dict[str, str] = {
    "reactivation_rate": "dormant holders waking: no series on use separates it from dormancy",
    "merchant_customer_pull": "merchants' pull from active users: no active-user series is published",
    "payments_per_week": "only its product with ecny_share_max reaches the targets",
    "merchant_fee_pull": "the incumbents' fee never changed in the pilot: not separable from the "
    "customer pull",
    "public_service_rate": "public services are 2% of businesses: too few points to pin",
    "government_pull, government_share_boost": "public pay in e-CNY is a small lever before 2022",
    "whitelist_pull": "white lists reach 2% of residents outside pilots: a few million wallets at most",
    "interop_share_boost": "set to 0 in behaviour.py: with any rise of the holders' e-CNY share after "
    "Alipay interoperates (prior 0.5) the 2023 payments overshoot further (transactions of 2023-06 "
    "+82% at 0.5, +48% at 0; loss 1.86 against 1.64 over 6 replications, 2026-12-02): the data show none",
    "habit_floor, wom_mixing, network_degree, network_rewiring": "structure of the population and network",
    "lottery_entrant_adoption": "no published figure on losers who opened a wallet",
    "lottery_redemption": "set directly in baseline.toml: the model's redemption rate is this share (Luohu: "
    "95.1%)",
    "wage_retention": "a small part of the balances: e-CNY wages began in June 2022 and recipients moved "
    "them straight to their bank accounts (events.csv)",
    "b2b_ticket_yuan": "only the count of B2B payments depends on it, a small part of the transactions",
}


def by_name(names: list[str] | None = None) -> tuple[Param, ...]:
    """The free parameters named (all when ``names`` is None); unknown names raise ``KeyError``."""
    if names is None:
        return FREE
    table = {p.name: p for p in FREE}
    missing = [n for n in names if n not in table]
    if missing:
        raise KeyError(f"unknown free parameters {missing}; known: {sorted(table)}")
    return tuple(table[n] for n in names)


def overrides(values: dict[str, float], params: tuple[Param, ...]) -> dict[str, Any]:
    """Scenario overrides (dotted key -> value) for a parameter set."""
    out: dict[str, Any] = {}
    for p in params:
        for key in p.keys:
            out[key] = float(values[p.name])
    return out


def priors(params: tuple[Param, ...]) -> dict[str, float]:
    return {p.name: p.prior for p in params}


def clip(values: dict[str, float], params: tuple[Param, ...]) -> dict[str, float]:
    """Values moved inside their bounds (a starting point from an older fit may lie outside new bounds)."""
    return {p.name: min(max(float(values[p.name]), p.low), p.high) for p in params if p.name in values}


def to_unit(p: Param, x: float) -> float:
    """Position in the unit cube of the search space: 0 at ``low``, 1 at ``high`` (log space if ``log``)."""
    if p.log:
        return (math.log(x) - math.log(p.low)) / (math.log(p.high) - math.log(p.low))
    return (x - p.low) / (p.high - p.low)


def from_unit(p: Param, u: float) -> float:
    """The value at unit position ``u`` (clipped to the cube), the inverse of ``to_unit``."""
    u = min(max(u, 0.0), 1.0)
    if p.log:
        x = math.exp(math.log(p.low) + u * (math.log(p.high) - math.log(p.low)))
    else:
        x = p.low + u * (p.high - p.low)
    return min(max(x, p.low), p.high)  # no rounding past a bound


def centroid(points: list[dict[str, float]], params: tuple[Param, ...]) -> dict[str, float]:
    """The mean of parameter sets in the unit cube (log space for log-scaled parameters)."""
    return {p.name: from_unit(p, float(np.mean([to_unit(p, x[p.name]) for x in points]))) for p in params}
