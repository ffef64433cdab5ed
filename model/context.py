"""What every citizen and business of a step sees, and what the step counts.

The model fills a ``StepView`` once per step from its Bank and LocalGovernment agents and from the previous
step's region totals; both engines hand the same view to the phases. Updates are synchronous: nobody sees
this week's decisions of others until the next step. Rules whose inputs are the same for a whole region
(going dormant, waking, paying, one more wallet at bank j) are evaluated here, once per region, so the
phases only compare each agent's draw with them.

``Tally`` holds the counts per region, in agents (weights are applied by the metrics). Stocks that only
grow (holders, wallets by bank, app wallets, merchants accepting, corporate wallets, B2B users) are running
counts, added to where a decision changes them; the step's own counts (active users, payers) start from
zero every step (``Tally.new_step``).
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from . import rules
from .behaviour import Behaviour
from .population import GROUP_NAMES

GROUPS = len(GROUP_NAMES)

StepView = namedtuple(
    "StepView",
    [
        "step",  # int, 1-based
        "day",  # int: the calendar day of the step's end (draws are keyed by it)
        "dt",  # float: years per step
        "window",  # int: steps a payment keeps its payer active
        "offsets",  # int64[R + 1]: citizens of region r are rows offsets[r]:offsets[r + 1]
        "business_offsets",  # int64[R + 1]
        "region_key",  # uint64[R]: draws.region_key of each region
        "live",  # bool[R]: the region is a pilot (Olympic-only included)
        "coverage",  # float[R]: share of merchants the pilot reaches
        "whitelist_active",  # bool
        "app_live",  # bool: the public e-CNY app is out (app wallets; lotteries entered through it)
        "bank_live",  # bool[B]
        "acquirer_pull",  # float[B]: reach of each live bank as an acquirer (0 if not live)
        "bank_pull",  # float[R, B]: rules.bank_attractiveness in each region
        "extra_rate",  # float[R, B]: rules.extra_wallet_rate of live banks, 0 elsewhere
        "extra_total",  # float[R]: its sum over banks
        "push",  # float[B, R]: bank j's campaign, wallet sign-ups asked per resident a year
        "campaign",  # float[R]: sum over banks of the push
        "business_push",  # float[B, R]: bank j's campaign as its business customers feel it
        "acceptance",  # float[R]: share of merchant points accepting, last step
        "active_share",  # float[R]: active users / residents, last step
        "adopted_share",  # float[R]: residents with a wallet / residents, last step
        "app_share",  # float[R]: residents with an app wallet / residents, last step
        "b2b_share",  # float[R]: businesses paying each other in e-CNY / businesses, last step
        "programme",  # float[R]: e-CNY programme, thousand yuan per business a year
        "p_dormant",  # float[R]: P(an engaged holder goes dormant this step)
        "p_pay",  # float[R, 2]: P(an engaged holder pays at least once), by public-sector flag
        "payments",  # float[R, 2]: its expected e-CNY payments in the step (rules.ecny_payments)
        "payroll_share",  # float[R]: share of public pay in e-CNY now (government.payroll_share + wages)
        "public_service_acceptance",  # float
        "incumbent_fee",  # float
        "interoperable",  # bool
        "interest",  # float: yearly interest on wallet balances now (0 before it starts)
    ],
)


class Tally(
    namedtuple(
        "Tally",
        [
            "holders",  # int64[R]: citizens with a wallet (running)
            "public_holders",  # int64[R]: of them, paid from public funds (running)
            "wallets_at",  # int64[B, R]: wallets at bank j (running)
            "app_wallets",  # int64[R]: citizens with an app wallet (running)
            "accepting",  # int64[R, 3]: merchants accepting, by size (running)
            "corporate",  # int64[R]: businesses with a corporate wallet (running)
            "b2b",  # int64[R]: businesses paying each other in e-CNY (running)
            "holders_by",  # int64[R, G]: holders by group (population.GROUPS) (running)
            "active",  # int64[R]: paid within the window (this step)
            "active_by",  # int64[R, G]: active users by group (this step)
            "engaged",  # int64[R]: engaged holders (this step)
            "payers",  # int64[R, 2]: engaged holders where shops accept, by public-sector flag (this step)
        ],
    )
):
    __slots__ = ()

    @classmethod
    def zeros(cls, regions: int, banks: int) -> Tally:
        return cls(
            holders=np.zeros(regions, np.int64),
            public_holders=np.zeros(regions, np.int64),
            wallets_at=np.zeros((banks, regions), np.int64),
            app_wallets=np.zeros(regions, np.int64),
            accepting=np.zeros((regions, 3), np.int64),
            corporate=np.zeros(regions, np.int64),
            b2b=np.zeros(regions, np.int64),
            holders_by=np.zeros((regions, GROUPS), np.int64),
            active=np.zeros(regions, np.int64),
            active_by=np.zeros((regions, GROUPS), np.int64),
            engaged=np.zeros(regions, np.int64),
            payers=np.zeros((regions, 2), np.int64),
        )

    def new_step(self) -> None:
        """Zero the step's own counts; running counts carry on."""
        self.active[:] = 0
        self.active_by[:] = 0
        self.engaged[:] = 0
        self.payers[:] = 0


@dataclass
class Institutions:
    """This step's state of the banks and local governments (read off the Mesa agents)."""

    live: np.ndarray  # bool[R]
    coverage: np.ndarray  # float[R]
    bank_live: np.ndarray  # bool[B]
    reach: np.ndarray  # float[B]
    push: np.ndarray  # float[B, R]: wallet sign-ups asked per resident a year
    programme: np.ndarray  # float[R]: thousand yuan of e-CNY programme per business a year
    whitelist_active: bool
    app_live: bool
    payroll_share: np.ndarray  # float[R]
    public_service_acceptance: float
    incumbent_fee: float
    interoperable: bool
    interest: float


def step_view(
    step: int,
    day: int,
    dt: float,
    weeks: float,
    window: int,
    layout: tuple[np.ndarray, np.ndarray, np.ndarray],
    now: Institutions,
    shares: dict[str, np.ndarray],
    b: Behaviour,
) -> StepView:
    """The view of one step: the institutions' state, last step's region shares, region-level rules.

    ``shares``: last step's acceptance, active_share, adopted_share, app_share and b2b_share per region.
    """
    offsets, business_offsets, region_key = layout
    acceptance = shares["acceptance"]
    acquirer_pull = now.reach * now.bank_live
    extra = rules.extra_wallet_rate(now.push, b) * now.bank_live[:, None]
    share = rules.ecny_payment_share(
        acceptance[:, None], np.array([0.0, 1.0]), now.payroll_share[:, None], now.interoperable, b
    )
    return StepView(
        step=step,
        day=day,
        dt=dt,
        window=window,
        offsets=offsets,
        business_offsets=business_offsets,
        region_key=region_key,
        live=now.live,
        coverage=now.coverage,
        whitelist_active=now.whitelist_active,
        app_live=now.app_live,
        bank_live=now.bank_live,
        acquirer_pull=acquirer_pull,
        bank_pull=np.ascontiguousarray(
            rules.bank_attractiveness(now.bank_live[None, :], now.reach, now.push.T)
        ),
        extra_rate=np.ascontiguousarray(extra.T),
        extra_total=extra.sum(axis=0),
        push=now.push,
        campaign=now.push.sum(axis=0),
        business_push=np.ascontiguousarray(rules.business_campaign(now.push, acquirer_pull)),
        acceptance=acceptance,
        active_share=shares["active_share"],
        adopted_share=shares["adopted_share"],
        app_share=shares["app_share"],
        b2b_share=shares["b2b_share"],
        programme=now.programme,
        p_dormant=rules.probability(rules.dormancy_rate(acceptance, now.interest, b), dt),
        p_pay=np.ascontiguousarray(rules.pays_probability(share, weeks, b)),
        payments=np.ascontiguousarray(rules.ecny_payments(share, weeks, b)),
        payroll_share=now.payroll_share,
        public_service_acceptance=now.public_service_acceptance,
        incumbent_fee=now.incumbent_fee,
        interoperable=now.interoperable,
        interest=now.interest,
    )
