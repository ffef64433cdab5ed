"""What every citizen and merchant of a step sees, and what the step counts.

The model fills a ``StepView`` once per step from its Bank and LocalGovernment agents and from the previous
step's region totals; both engines hand the same view to the phases. Updates are synchronous: nobody sees
this week's decisions of others until the next step. Rules whose inputs are the same for a whole region
(going dormant, waking, paying, one more wallet at bank j) are evaluated here, once per region, so the
phases only compare each agent's draw with them.

``Tally`` holds the counts per region, in agents (weights are applied by the metrics). Stocks that only
grow (holders, wallets by bank, merchants accepting) are running counts, added to where a decision changes
them; the step's own counts (active users, payers) start from zero every step (``Tally.new_step``).
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from . import rules
from .behaviour import Behaviour

StepView = namedtuple(
    "StepView",
    [
        "step",  # int, 1-based
        "day",  # int: the calendar day of the step's end (draws are keyed by it)
        "dt",  # float: years per step
        "window",  # int: steps a payment keeps its payer active
        "offsets",  # int64[R + 1]: citizens of region r are rows offsets[r]:offsets[r + 1]
        "merchant_offsets",  # int64[R + 1]
        "region_key",  # uint64[R]: draws.region_key of each region
        "live",  # bool[R]: the region is a pilot (Olympic-only included)
        "coverage",  # float[R]: share of merchants the pilot reaches
        "whitelist_active",  # bool
        "bank_live",  # bool[B]
        "bank_pull",  # float[R, B]: rules.bank_attractiveness in each region
        "extra_rate",  # float[R, B]: rules.extra_wallet_rate of live banks, 0 elsewhere
        "extra_total",  # float[R]: its sum over banks
        "acquirer_push",  # float[B, R]: intensity_j * push_j,r, what a merchant's acquirer spends on it
        "marketing",  # float[R]: sum over banks of intensity_j * push_j,r
        "acceptance",  # float[R]: share of merchant points accepting, last step
        "active_share",  # float[R]: active users / residents, last step
        "adopted_share",  # float[R]: residents with a wallet / residents, last step
        "p_dormant",  # float[R]: P(an engaged holder goes dormant this step)
        "p_wake",  # float[R]: P(a dormant holder re-engages this step)
        "p_pay",  # float[R, 2]: P(an engaged holder pays at least once), by public-sector flag
        "payments",  # float[R, 2]: its expected e-CNY payments in the step (rules.ecny_payments)
        "payroll_share",  # float: share of public pay in e-CNY now (0 before payments start)
        "public_service_acceptance",  # float
        "incumbent_fee",  # float
        "interoperable",  # bool
    ],
)


class Tally(
    namedtuple(
        "Tally",
        [
            "holders",  # int64[R]: citizens with a wallet (running)
            "wallets_at",  # int64[B, R]: wallets at bank j (running)
            "accepting",  # int64[R, 3]: merchants accepting, by size (running)
            "active",  # int64[R]: paid within the window (this step)
            "payers",  # int64[R, 2]: engaged holders where shops accept, by public-sector flag (this step)
        ],
    )
):
    __slots__ = ()

    @classmethod
    def zeros(cls, regions: int, banks: int) -> Tally:
        return cls(
            holders=np.zeros(regions, np.int64),
            wallets_at=np.zeros((banks, regions), np.int64),
            accepting=np.zeros((regions, 3), np.int64),
            active=np.zeros(regions, np.int64),
            payers=np.zeros((regions, 2), np.int64),
        )

    def new_step(self) -> None:
        """Zero the step's own counts; running counts carry on."""
        self.active[:] = 0
        self.payers[:] = 0


@dataclass
class Institutions:
    """This step's state of the banks and local governments (read off the Mesa agents)."""

    live: np.ndarray  # bool[R]
    coverage: np.ndarray  # float[R]
    bank_live: np.ndarray  # bool[B]
    intensity: np.ndarray  # float[B]: wallet-target intensity, global multiplier applied
    reach: np.ndarray  # float[B]
    push: np.ndarray  # float[B, R]: marketing yuan per resident per year
    whitelist_active: bool
    payroll_share: float
    public_service_acceptance: float
    incumbent_fee: float
    interoperable: bool


def step_view(
    step: int,
    day: int,
    dt: float,
    weeks: float,
    window: int,
    layout: tuple[np.ndarray, np.ndarray, np.ndarray],
    now: Institutions,
    acceptance: np.ndarray,
    active_share: np.ndarray,
    adopted_share: np.ndarray,
    b: Behaviour,
) -> StepView:
    """The view of one step: the institutions' state, last step's region shares, region-level rules."""
    offsets, merchant_offsets, region_key = layout
    acquirer_push = now.intensity[:, None] * now.push
    extra = rules.extra_wallet_rate(now.intensity[:, None], now.push, b) * now.bank_live[:, None]
    share = rules.ecny_payment_share(
        acceptance[:, None], np.array([0.0, 1.0]), now.payroll_share, now.interoperable, b
    )
    return StepView(
        step=step,
        day=day,
        dt=dt,
        window=window,
        offsets=offsets,
        merchant_offsets=merchant_offsets,
        region_key=region_key,
        live=now.live,
        coverage=now.coverage,
        whitelist_active=now.whitelist_active,
        bank_live=now.bank_live,
        bank_pull=np.ascontiguousarray(
            rules.bank_attractiveness(now.bank_live[None, :], now.reach, now.intensity, now.push.T)
        ),
        extra_rate=np.ascontiguousarray(extra.T),
        extra_total=extra.sum(axis=0),
        acquirer_push=acquirer_push,
        marketing=acquirer_push.sum(axis=0),
        acceptance=acceptance,
        active_share=active_share,
        adopted_share=adopted_share,
        p_dormant=rules.probability(rules.dormancy_rate(acceptance, b), dt),
        p_wake=rules.probability(rules.reactivation_rate(acceptance, b), dt),
        p_pay=np.ascontiguousarray(rules.pays_probability(share, weeks, b)),
        payments=np.ascontiguousarray(rules.ecny_payments(share, weeks, b)),
        payroll_share=now.payroll_share,
        public_service_acceptance=now.public_service_acceptance,
        incumbent_fee=now.incumbent_fee,
        interoperable=now.interoperable,
    )
