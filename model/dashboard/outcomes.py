"""The policy outcomes at the week shown: what a policy maker weighs besides adoption.

The same national figures as the run's tidy table (``metrics.tidy_timeseries``), read from the records
so far so that the panel follows the run week by week: cumulative flows are summed over weeks and regions,
the retail share is a ratio of national sums (not a sum of regional ratios), and the share of M0 is a sum
of the regions' parts of the national share.
"""

from __future__ import annotations

import html

import numpy as np

from ..metrics import RATIOS
from ..model import EcnyModel
from ..population import GROUP_NAMES

CUMULATIVE = ("fiscal_cost_cumulative", "merchant_fee_savings_cumulative")
SHOWN = {
    "ecny_share_of_retail": ("e-CNY share of residents' payments", 100, "%"),
    "ecny_share_of_m0": ("e-CNY share of M0", 100, "%"),
    "fiscal_cost_cumulative": ("fiscal cost (lotteries, vouchers), cumulative", 1e6, "m yuan"),
    "merchant_fee_savings_cumulative": ("merchants' fee savings, cumulative", 1e6, "m yuan"),
}
GROUP_LABELS = {
    "age_15_34": "15-34",
    "age_35_59": "35-59",
    "age_60_plus": "60+",
    "urban": "urban",
    "rural": "rural",
    **{f"income_q{q}": f"income Q{q}" for q in range(1, 6)},
}


def policy_outcomes(ecny: EcnyModel) -> dict[str, float]:
    """National outcomes at the last simulated week (zeros before the first step)."""
    records = ecny.records
    out: dict[str, float] = {}
    if not records:
        return dict.fromkeys([*SHOWN, *_group_metrics()], 0.0)
    last = records[-1]
    for ratio, (top, bottom) in RATIOS.items():
        denominator = float(np.sum(last[bottom]))
        out[ratio] = float(np.sum(last[top])) / denominator if denominator > 0 else 0.0
    out["ecny_share_of_m0"] = float(np.sum(last["ecny_share_of_m0"]))
    for cumulative in CUMULATIVE:
        weekly = cumulative.removesuffix("_cumulative") + "_weekly"
        out[cumulative] = float(sum(np.sum(record[weekly]) for record in records))
    for metric in _group_metrics():
        out[metric] = float(np.sum(last[metric]))
    return out


def _group_metrics() -> list[str]:
    return [f"{m}:{g}" for m in ("citizens_with_wallet", "active_users") for g in GROUP_NAMES]


def outcomes_html(outcomes: dict[str, float], week_end) -> str:
    """The national outcomes as a small table (HTML: Markdown would fetch KaTeX from a CDN)."""
    cell = 'style="padding:2px 8px;text-align:right"'
    rows = [f"<tr><th style='text-align:left'>{week_end}</th><th {cell}>national</th></tr>"]
    for metric, (label, unit, suffix) in SHOWN.items():
        value = outcomes[metric] * unit if suffix == "%" else outcomes[metric] / unit
        rows.append(f"<tr><td>{html.escape(label)}</td><td {cell}>{value:,.2f} {suffix}</td></tr>")
    return f"<table style='font-size:0.85em;border-collapse:collapse'>{''.join(rows)}</table>"
