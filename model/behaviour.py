"""Behavioural parameters (what calibration fits) and the population structure (what it does not).

Rates are per year; a weekly step turns a rate r into a probability 1 - exp(-r * dt) with dt in years.
The defaults are priors: Bass-model averages for p and q, survey figures for payment habits, the Luohu
lottery for entry; ``scenarios/calibrated.toml`` holds the fitted values that the baseline uses.
"""

from __future__ import annotations

from collections import namedtuple

from pydantic import BaseModel, ConfigDict, Field


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Behaviour(_Params):
    # first wallet: lambda = habit * (p + q*w + acceptance_pull*a + marketing_pull*m + ...)
    innovation: float = Field(0.03, ge=0, le=5, description="Bass p: organic hazard per year")
    word_of_mouth: float = Field(0.38, ge=0, le=10, description="Bass q: hazard per neighbour share")
    wom_mixing: float = Field(0.0, ge=0, le=1, description="weight of region-wide over network share")
    network_degree: int = Field(8, ge=2, le=64, description="small-world neighbours per citizen")
    network_rewiring: float = Field(0.1, ge=0, le=1, description="Watts-Strogatz rewiring probability")
    acceptance_pull: float = Field(0.5, ge=0, le=20, description="hazard per unit acceptance share")
    marketing_pull: float = Field(0.01, ge=0, le=1, description="hazard per yuan/resident/year")
    pushed_engagement: float = Field(1.0, ge=0, le=1, description="pushed first wallets starting engaged")
    government_pull: float = Field(2.0, ge=0, le=50, description="public-sector hazard per payroll share")
    whitelist_pull: float = Field(0.5, ge=0, le=20, description="hazard of white-listed non-residents")
    habit_floor: float = Field(0.2, ge=0, le=1, description="weight of the least digital citizen")
    # more wallets: rate_b = multihoming_push * intensity_b * marketing_b
    multihoming_push: float = Field(0.02, ge=0, le=5, description="per intensity x yuan/resident/year")
    # use: engaged <-> dormant
    dormancy_rate: float = Field(2.0, ge=0, le=50, description="engaged -> dormant at zero acceptance")
    reactivation_rate: float = Field(1.0, ge=0, le=50, description="dormant -> engaged per acceptance")
    payments_per_week: float = Field(10.0, gt=0, le=100, description="all payments of a citizen")
    ecny_share_max: float = Field(0.3, ge=0, le=1, description="e-CNY share at full acceptance")
    acceptance_elasticity: float = Field(1.0, gt=0, le=3, description="share ~ acceptance ** this")
    government_share_boost: float = Field(1.0, ge=0, le=10, description="extra share per payroll share")
    interop_share_boost: float = Field(0.5, ge=0, le=10, description="extra share after interop")
    ticket_yuan: float = Field(490.0, gt=0, le=100000, description="value per e-CNY payment")
    # merchants
    merchant_base: float = Field(0.05, ge=0, le=20, description="organic acceptance hazard")
    merchant_customer_pull: float = Field(2.0, ge=0, le=50, description="per active-user share")
    # 10: the 0.6% fee alone gives 0.06 a year; 30 would fill the whole mid-2021 acceptance figure by itself
    merchant_fee_pull: float = Field(10.0, ge=0, le=1000, description="per unit incumbent fee")
    merchant_bank_pull: float = Field(0.01, ge=0, le=1, description="per yuan/resident of acquirer")
    public_service_rate: float = Field(4.0, ge=0, le=100, description="mandate hazard, public services")
    interop_merchant_pull: float = Field(0.5, ge=0, le=20, description="after interoperability")
    # lotteries
    lottery_entry: float = Field(0.17, ge=0, le=20, description="k in 1-exp(-k h sqrt(yuan/resident))")
    lottery_redemption: float = Field(0.95, ge=0, le=1, description="winners who open and spend")
    lottery_entrant_adoption: float = Field(0.1, ge=0, le=1, description="losers who open anyway")

    def params(self) -> tuple:
        """The parameters as a namedtuple of floats, field for field: what the compiled phases read."""
        return Params(*(float(getattr(self, name)) for name in type(self).model_fields))


Params = namedtuple("Params", list(Behaviour.model_fields))


class Population(_Params):
    age_shares: tuple[float, float, float] = (0.35, 0.40, 0.25)  # 15-34, 35-59, 60+
    urban_share: float = Field(0.8, ge=0, le=1)
    habit_urban: float = Field(0.899, ge=0, le=1, description="mobile payment, urban (CNNIC 2020)")
    habit_rural: float = Field(0.790, ge=0, le=1, description="mobile payment, rural (CNNIC 2020)")
    habit_concentration: float = Field(8.0, gt=0, description="Beta(a, b) with a + b = this")
    age_habit: tuple[float, float, float] = (1.05, 1.0, 0.7)
    public_sector_share: float = Field(0.08, ge=0, le=1)
    merchants_per_resident: float = Field(0.05, gt=0, le=1)
    sector_shares: tuple[float, float, float, float] = (0.55, 0.30, 0.05, 0.10)
    size_shares: tuple[float, float, float] = (0.80, 0.17, 0.03)
    points_by_size: tuple[float, float, float] = (1.0, 3.0, 20.0)
