"""What every citizen and merchant of a step sees: the calendar, the regions and banks, last week's state.

The model fills a ``StepContext`` once per step from its Bank and LocalGovernment agents and from the
previous step's region totals; both engines then read it. Updates are synchronous: nobody sees this week's
decisions of others until the next step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np


@dataclass
class StepContext:
    step: int  # 1-based
    week_start: date
    week_end: date  # the date the step's results are recorded at
    dt: float  # years per step
    weeks: float  # weeks per step
    live: np.ndarray  # bool[R]: the region is a pilot (olympic-only included)
    coverage: np.ndarray  # float[R]: share of merchants that may accept (olympic-only < 1)
    whitelist_active: bool
    bank_live: np.ndarray  # bool[B]
    intensity: np.ndarray  # float[B]: wallet-target intensity, global multiplier applied
    reach: np.ndarray  # float[B]
    bank_push: np.ndarray  # float[B, R]: marketing yuan per resident per year
    acceptance: np.ndarray  # float[R]: share of merchant points accepting, last step
    active_share: np.ndarray  # float[R]: active users / residents, last step
    adopted_share: np.ndarray  # float[R]: residents with a wallet / residents, last step
    payroll_share: float  # share of public pay in e-CNY now (0 before payments start)
    public_service_acceptance: float
    incumbent_fee: float
    interoperable: bool

    marketing: np.ndarray  # float[R]: sum over banks of intensity_b * push_b,r
    bank_pull: np.ndarray  # float[R, B]: rules.bank_attractiveness in each region

    def attractiveness(self, r: int) -> np.ndarray:
        """float[B]: each bank's pull on a first wallet in region r."""
        return self.bank_pull[r]


@dataclass
class LotteryOutcome:
    registrations: float = 0.0  # residents who entered
    winners: float = 0.0
    redeemed: float = 0.0  # winners who opened a wallet and spent the envelope
    wallets_opened: float = 0.0  # first wallets opened because of the lottery
    transactions: float = 0.0
    value: float = 0.0


REGION_METRICS = (
    "citizens_with_wallet",
    "personal_wallets_opened",
    "active_users",
    "merchants_accepting",
    "acceptance_scenarios",
    "transactions_weekly",
    "transaction_value_weekly",
)
