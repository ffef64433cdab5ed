"""The free parameters of the calibration: bounds, scale and the reason for each.

A parameter sets one or more scenario keys (dotted paths, as in ``load_scenario`` overrides): several keys
tie them to one value. Log-scaled parameters are searched uniformly in log space, since their plausible
values span orders of magnitude. Every other behavioural parameter keeps its prior (``model/behaviour.py``)
and is listed in ``FIXED`` with the reason it is not fitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
        0.003,
        0.5,
        True,
        0.03,
        "Bass p, organic first wallets a year; Bass meta-analyses give "
        "0.001 to 0.1, widened because the pilot's app-store and press attention may exceed a product launch",
    ),
    _b(
        "word_of_mouth",
        0.003,
        3.0,
        True,
        0.38,
        "Bass q per neighbour share; meta-analyses 0.3 to 0.5, "
        "from near nil (no contagion) to 3 (strong imitation)",
    ),
    _b(
        "acceptance_pull",
        0.001,
        5.0,
        True,
        0.5,
        "first-wallet hazard per unit acceptance share: from none to a year's adoption at full acceptance",
    ),
    _b(
        "marketing_pull",
        1e-4,
        0.05,
        True,
        0.01,
        "first-wallet hazard per yuan a resident a year of "
        "bank marketing; 0.05 makes 20 yuan a year open everyone's wallet within a year",
    ),
    _b(
        "pushed_engagement",
        0.01,
        1.0,
        True,
        1.0,
        "share of wallets opened under a bank push that start "
        "engaged; 1 = as engaged as any other, 0.01 = almost all dormant at once",
    ),
    _b(
        "multihoming_push",
        1e-4,
        0.5,
        True,
        0.02,
        "extra-wallet hazard per unit target intensity per yuan "
        "a resident a year (multi-homing push); the upper end makes state banks alone open all wallets",
    ),
    _b(
        "dormancy_rate",
        0.1,
        20.0,
        True,
        2.0,
        "engaged -> dormant a year at zero acceptance: from a decade to three weeks of use",
    ),
    _b("reactivation_rate", 0.005, 5.0, True, 1.0, "dormant -> engaged a year at full acceptance"),
    _b(
        "ecny_share_max",
        0.005,
        0.5,
        True,
        0.3,
        "e-CNY share of an engaged holder's payments at full "
        "acceptance; mobile payment was 66% of payments (PBOC 2019), so at most half of it",
    ),
    _b(
        "acceptance_elasticity",
        0.02,
        1.5,
        False,
        1.0,
        "payment share ~ acceptance ** this: 1 linear, "
        "towards 0 a holder needs only the few shops it frequents",
    ),
    _b(
        "ticket_yuan",
        300.0,
        800.0,
        False,
        490.0,
        "yuan per payment; the white paper's 34.5 bn yuan over 70.75 m payments is 488",
    ),
    _b("merchant_base", 0.002, 0.5, True, 0.05, "organic acceptance hazard a year of a reachable merchant"),
    _b(
        "merchant_customer_pull",
        0.1,
        50.0,
        True,
        2.0,
        "merchant acceptance sensitivity: hazard per unit "
        "share of residents who are active users (two-sided network effect)",
    ),
    _b(
        "merchant_bank_pull",
        1e-3,
        1.0,
        True,
        0.01,
        "acceptance hazard per unit intensity x yuan a resident of the acquiring bank's push",
    ),
    _b(
        "lottery_entry",
        0.05,
        0.5,
        True,
        0.17,
        "lottery entry propensity k in 1 - exp(-k h sqrt(yuan per resident)); 0.17 gives Luohu's 11% entry",
    ),
    Param(
        "late_entrant_intensity",
        ("banks.operators.CMB.target_intensity", "banks.operators.CityBanks.target_intensity"),
        0.3,
        3000.0,
        True,
        1.0,
        "wallet-target intensity of the operators that joined in July/August 2021 (CMB, the city banks "
        "via the platform): the only lever that changes when wallets jumped 12x in H2 2021",
    ),
    Param(
        "citybank_reach",
        ("banks.operators.CityBanks.reach",),
        0.3,
        8.0,
        True,
        0.7,
        "the city commercial banks' pull as acquirers of merchants (and on first wallets): acceptance "
        "points grew 6x in H2 2021; 8 would make them acquire half of all merchants",
    ),
)

FIXED: dict[str, str] = {
    "payments_per_week": "only its product with ecny_share_max reaches the targets",
    "merchant_fee_pull": "the incumbents' fee never changed in the pilot: not separable from merchant_base",
    "public_service_rate": "public services are 5% of merchants: too few points to pin",
    "government_pull, government_share_boost": "public pay in e-CNY is a small, constant lever before 2022",
    "whitelist_pull": "white lists reach 2% of residents outside pilots: a few million wallets at most",
    "interop_share_boost, interop_merchant_pull": "interoperability came in December 2022, after the targets",
    "habit_floor, wom_mixing, network_degree, network_rewiring": "structure of the population and network",
    "lottery_entrant_adoption": "no published figure on losers who opened a wallet",
    "lottery_redemption": "set directly: the model's redemption rate is this share (Luohu: 95.1%)",
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
