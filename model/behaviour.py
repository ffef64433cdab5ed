"""Behavioural parameters (what calibration fits) and the population structure (what it does not).

Rates are per year; a weekly step turns a rate r into a probability 1 - exp(-r * dt) with dt in years.
Every field states its range and what it means; the defaults are priors (Bass-model averages, survey
figures, the published lotteries), ``scenarios/calibrated.toml`` holds the fitted values the baseline uses,
and ``model/calibration/parameters.py`` gives each fitted one its search range and reason.

Bank campaigns are counted in wallet sign-ups: bank j asks each of its employees for ``campaign(t)``
sign-ups a year (``banks.campaign``); spread over the live regions that is ``m_j`` sign-ups per resident
per year, the "push" that the pulls below turn into hazards.
"""

from __future__ import annotations

from collections import namedtuple

from pydantic import BaseModel, ConfigDict, Field


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Behaviour(_Params):
    # first wallet: lambda = w(habit) * (p + q*w + acceptance_pull*a + campaign_pull*m + government_pull*g)
    innovation: float = Field(0.03, ge=0, le=5, description="Bass p: organic first-wallet hazard a year")
    word_of_mouth: float = Field(0.38, ge=0, le=10, description="Bass q: hazard per neighbour share")
    wom_mixing: float = Field(0.0, ge=0, le=1, description="weight of region-wide over network share")
    network_degree: int = Field(8, ge=2, le=64, description="small-world neighbours per citizen")
    network_rewiring: float = Field(0.1, ge=0, le=1, description="Watts-Strogatz rewiring probability")
    acceptance_pull: float = Field(0.5, ge=0, le=20, description="hazard per unit acceptance share")
    campaign_pull: float = Field(
        0.1, ge=0, le=5, description="first-wallet hazard per staff sign-up asked per resident a year"
    )
    pushed_engagement: float = Field(0.005, ge=0, le=1, description="pushed first wallets starting engaged")
    government_pull: float = Field(2.0, ge=0, le=50, description="public-sector hazard per payroll share")
    whitelist_pull: float = Field(0.5, ge=0, le=20, description="hazard of white-listed non-residents")
    habit_floor: float = Field(0.2, ge=0, le=1, description="weight of the least digital citizen")
    # more wallets: lambda_j = multihoming_push * m_j at each live bank j not held
    multihoming_push: float = Field(3.0, ge=0, le=50, description="extra-wallet hazard per sign-up asked")
    # the e-CNY app (from app.launch): lambda = w(habit) * (p + q A / m) (m - A) / (1 - A) * interop
    app_innovation: float = Field(0.05, ge=0, le=5, description="app-wallet hazard a year, organic")
    app_imitation: float = Field(
        0.5, ge=0, le=10, description="app-wallet hazard per region share holding one"
    )
    app_market: float = Field(
        0.4, gt=0, le=1, description="Bass m: share of a region's residents who ever set up an app wallet"
    )
    app_interop_boost: float = Field(0.5, ge=0, le=10, description="relative rise once Alipay interoperates")
    app_engagement: float = Field(
        0.2, ge=0, le=1, description="new holders through the app who start engaged"
    )
    # use: engaged <-> dormant
    dormancy_rate: float = Field(
        2.0, ge=0, le=200, description="engaged -> dormant a year at zero acceptance"
    )
    acceptance_retention: float = Field(
        0.5, ge=0, le=1, description="share of dormancy that full acceptance removes (prior: half)"
    )
    # use stayed low (surveys of 2022: about a fifth of adults ever used e-CNY), so a dormant holder rarely
    # comes back: 5% a year at full acceptance
    reactivation_rate: float = Field(0.05, ge=0, le=50, description="dormant -> engaged per acceptance")
    payments_per_week: float = Field(10.0, gt=0, le=100, description="all payments of a citizen a week")
    ecny_share_max: float = Field(0.3, ge=0, le=1, description="e-CNY share at full acceptance")
    acceptance_elasticity: float = Field(0.05, gt=0, le=3, description="share ~ acceptance ** this")
    government_share_boost: float = Field(1.0, ge=0, le=10, description="extra share per payroll share")
    # none: the payments of 2023 show no rise of the share after interop (calibration.parameters.FIXED)
    interop_share_boost: float = Field(0.0, ge=0, le=10, description="extra share after interop")
    ticket_yuan: float = Field(400.0, gt=0, le=5000, description="yuan per retail e-CNY payment")
    # merchants: outlets that accept payments from residents
    merchant_base: float = Field(0.003, ge=0, le=20, description="organic acceptance hazard a year")
    merchant_customer_pull: float = Field(2.0, ge=0, le=50, description="per active-user share")
    # the fee saved on e-CNY sales raises the worth of each e-CNY customer: at 100, the 0.6% fee adds 0.6 to
    # the customer pull, a third of its prior (the fee never changed in the pilot, so the data cannot fit it)
    merchant_fee_pull: float = Field(100.0, ge=0, le=2000, description="customer pull per unit fee saved")
    merchant_bank_pull: float = Field(0.3, ge=0, le=20, description="per sign-up asked of the acquirer")
    # 0.2: a public service follows the target within about five years (mandates were local and slow;
    # 4 would put half of them on e-CNY in the closed tests of 2020, when 6,700 scenarios existed in all)
    public_service_rate: float = Field(0.2, ge=0, le=100, description="mandate hazard, public services")
    interop_merchant_pull: float = Field(0.5, ge=0, le=20, description="after interoperability")
    # businesses: corporate ("unit") wallets and e-CNY payments between businesses
    corporate_base: float = Field(0.004, ge=0, le=10, description="corporate-wallet hazard a year, organic")
    corporate_bank_pull: float = Field(0.8, ge=0, le=20, description="per sign-up asked of the bank")
    programme_pull: float = Field(0.05, ge=0, le=10, description="per 1,000 yuan of programme a business")
    b2b_innovation: float = Field(0.002, ge=0, le=5, description="hazard a year that a wallet starts B2B use")
    b2b_imitation: float = Field(1.0, ge=0, le=50, description="B2B hazard per share of businesses using it")
    b2b_yuan_per_week: float = Field(
        2000.0, ge=0, le=1e6, description="e-CNY a B2B user pays a week once all its counterparties use it"
    )
    b2b_ticket_yuan: float = Field(20000.0, gt=0, le=1e7, description="yuan per business payment")
    # lotteries
    lottery_entry: float = Field(0.17, ge=0, le=20, description="k in 1-exp(-k h y^elasticity)")
    lottery_elasticity: float = Field(0.5, gt=0, le=2, description="entry ~ (yuan per resident) ** this")
    lottery_redemption: float = Field(0.95, ge=0, le=1, description="winners who open and spend")
    lottery_entrant_adoption: float = Field(0.1, ge=0, le=1, description="losers who open anyway")
    # balances (e-CNY in circulation)
    wallet_float_weeks: float = Field(0.1, ge=0, le=52, description="balance of an engaged holder, in weeks")
    dormant_balance_yuan: float = Field(2.0, ge=0, le=1000, description="leftover in a dormant wallet")
    wage_retention: float = Field(0.1, ge=0, le=1, description="share of e-CNY wages kept in the wallet")
    corporate_float_days: float = Field(5.0, ge=0, le=365, description="business balance, days of payments")
    # interest on wallet balances (from 2026): no data yet, so priors from the CBDC literature. Li (2023,
    # Bank of Canada / JME) finds households' demand for an interest-bearing CBDC strongly elastic to its
    # rate; per percentage point: balances x (1 + interest_holding), app sign-ups x (1 + interest_use),
    # dormancy / (1 + interest_use)
    interest_holding: float = Field(1.0, ge=0, le=10, description="rise of balances per point of interest")
    interest_use: float = Field(0.2, ge=0, le=5, description="rise of sign-ups and use per point of interest")

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
    # 154 million market entities at end-2021 (SAMR: 48 m enterprises, 103 m individual businesses) for
    # 1.41 billion residents
    businesses_per_resident: float = Field(0.109, gt=0, le=1)
    # business agents at this many times the citizens' resolution: each stands for scale / 10
    # businesses, so the closed pilot's 8,859 corporate wallets are about 18 agents at the default scale
    business_resolution: float = Field(10.0, ge=1, le=100)
    # retail and wholesale, catering and tourism, public services, transport (the outlets that accept
    # payments from residents), enterprises (B2B), public bodies and state units; approximate, from the
    # SAMR split of individual businesses (two thirds, nearly all outlets) and enterprises
    sector_shares: tuple[float, float, float, float, float, float] = (0.42, 0.18, 0.02, 0.05, 0.32, 0.01)
    size_shares: tuple[float, float, float] = (0.80, 0.17, 0.03)
    points_by_size: tuple[float, float, float] = (1.0, 3.0, 20.0)
