"""The metrics: one definition each, from the step's tallies to the tidy table every later layer reads.

A stock is a count of agents in a named state (``phases.py``) times the residents (or businesses) an agent
stands for; a flow counts the step's events; a cumulative metric sums its flow from the run's start. Per
region and ``national`` (the sum over regions); nationally also ``wallet_share:<bank>``. Lottery rows
(``lottery_registrations``, ``lottery_winners``, ``lottery_redeemed``, ``lottery_redemption_rate``,
``lottery_wallets_opened``: first wallets opened because of the draw) appear
at the step of each draw, for its region only. Each name and meaning matches a published series where one
exists (``shared/domain/README.md``); ``METRICS`` states them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from . import domain, rules
from .context import Institutions, StepView
from .population import GROUP_NAMES

if TYPE_CHECKING:
    from .model import EcnyModel


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    definition: str


METRICS = (
    Metric("population", "people", "residents (2020 census)"),
    Metric("live", "flag", "1 once the region is a pilot (Olympic-only scenarios included)"),
    Metric("citizens_with_wallet", "people", "residents holding at least one wallet"),
    Metric(
        "personal_wallets_opened",
        "wallets",
        "personal wallets opened at the operating institutions, cumulative; a resident with wallets at k "
        "operators counts k (multi-homing); white-listed residents of regions not yet live count",
    ),
    Metric(
        "app_wallets_opened",
        "wallets",
        "residents who set up a wallet through the public e-CNY app (from its launch), cumulative: one per "
        "person, closer to people than to wallets",
    ),
    Metric("active_users", "people", "residents who paid in e-CNY in the last 4 weeks"),
    Metric("engaged_holders", "people", "wallet holders who use e-CNY where shops accept it (not dormant)"),
    Metric("merchants_accepting", "merchants", "outlets (merchants) accepting e-CNY from residents"),
    Metric(
        "acceptance_scenarios",
        "scenarios",
        "acceptance points of outlets accepting e-CNY (an outlet of size s has points_by_size[s])",
    ),
    Metric(
        "corporate_wallets_opened",
        "wallets",
        "businesses, public bodies and state units holding a corporate (unit) wallet, cumulative",
    ),
    Metric("b2b_users", "businesses", "businesses paying other businesses in e-CNY"),
    Metric(
        "transactions_retail_weekly", "transactions", "residents' e-CNY payments, lottery envelopes included"
    ),
    Metric("transactions_corporate_weekly", "transactions", "payments between businesses (B2B)"),
    Metric(
        "transactions_government_weekly",
        "transactions",
        "wages paid in e-CNY (one a month) and programme payments (subsidies, procurement, loans)",
    ),
    Metric("transactions_weekly", "transactions", "all e-CNY payments: retail, corporate and government"),
    Metric(
        "transaction_value_retail_weekly", "yuan", "their value: ticket_yuan each, envelopes at face value"
    ),
    Metric(
        "transaction_value_corporate_weekly",
        "yuan",
        "B2B value: b2b_yuan_per_week * the B2B users' share per B2B user",
    ),
    Metric("transaction_value_government_weekly", "yuan", "e-CNY wages, and programme yuan paid"),
    Metric("transaction_value_weekly", "yuan", "the value of all e-CNY payments"),
    Metric("ecny_held_personal", "yuan", "e-CNY held in residents' wallets (rules.personal_balances)"),
    Metric("ecny_held_corporate", "yuan", "e-CNY held in corporate wallets (rules.corporate_balances)"),
    Metric("ecny_in_circulation", "yuan", "e-CNY held in all wallets, the stock counted in M0 from Dec 2022"),
    Metric(
        "ecny_share_of_m0",
        "share",
        "e-CNY in circulation / M0 (model/data/m0.csv; past 2024 at its 2019-2024 growth), by region: the "
        "region's part of the national share; from 2026 real-name wallets count in M1/M2 instead",
    ),
    Metric("payments_all_weekly", "payments", "residents' payments by any means: payments_per_week each"),
    Metric(
        "ecny_share_of_retail",
        "share",
        "e-CNY share of residents' payments (against the incumbent wallets and cash), by count; by value "
        "too if e-CNY and other payments have the same ticket: transactions_retail / payments_all",
    ),
    Metric("fiscal_cost_weekly", "yuan", "lottery, voucher and giveaway money spent by residents"),
    Metric(
        "merchant_fee_savings_weekly",
        "yuan",
        "fees not paid on e-CNY sales: their value * the incumbents' fee",
    ),
    *(Metric(f"citizens_with_wallet:{g}", "people", f"residents holding a wallet, {g}") for g in GROUP_NAMES),
    *(Metric(f"active_users:{g}", "people", f"active users, {g}") for g in GROUP_NAMES),
)
RATIOS = {"ecny_share_of_retail": ("transactions_retail_weekly", "payments_all_weekly")}
# every weekly flow also has its cumulative sum, named with "_cumulative"
FLOWS = tuple(m.name for m in METRICS if m.name.endswith("_weekly"))
CUMULATIVE = {flow: flow.removesuffix("_weekly") + "_cumulative" for flow in FLOWS}
UNITS = {m.name: m.unit for m in METRICS}
DEFINITIONS = {m.name: m for m in METRICS} | {
    cumulative: Metric(cumulative, UNITS[flow], f"{flow} summed from the run's start")
    for flow, cumulative in CUMULATIVE.items()
}
STR = pd.StringDtype(na_value=np.nan)  # pandas' str dtype (Arrow storage): the tidy table's names
# last week's region shares that this week's decisions read (context.StepView)
SHARES = ("acceptance", "active_share", "adopted_share", "app_share", "b2b_share")


def step_values(
    model: EcnyModel, view: StepView, now: Institutions, lottery: np.ndarray
) -> dict[str, np.ndarray]:
    """Every per-region metric of a step (``lottery``: [2, R] transactions and value of its draws)."""
    tally, b, s = model.tally, model.behaviour, model.config
    cw, bw = model.citizens.weight, model.businesses.weight
    years, weeks = model.dt, model.step_days / 7.0
    payments = (tally.payers * view.payments).sum(axis=1) * cw
    accepting = tally.accepting.astype(np.float64)
    retail_value = payments * b.ticket_yuan
    payroll = tally.public_holders * cw * view.payroll_share
    wages = payroll * s.government.wage_yuan_per_year * years
    programme = np.array([g.programme_yuan for g in model.governments]) * years
    b2b = rules.b2b_payments(tally.b2b * bw, model.business_total, weeks, b)
    holders = tally.holders * cw
    values = {
        "live": view.live.astype(np.float64),
        "citizens_with_wallet": holders,
        "personal_wallets_opened": tally.wallets_at.sum(axis=0) * cw,
        "app_wallets_opened": tally.app_wallets * cw,
        "active_users": tally.active * cw,
        "engaged_holders": tally.engaged * cw,
        "merchants_accepting": accepting.sum(axis=1) * bw,
        "acceptance_scenarios": (accepting @ np.asarray(s.population.points_by_size)) * bw,
        "corporate_wallets_opened": tally.corporate * bw,
        "b2b_users": tally.b2b * bw,
        "transactions_retail_weekly": payments + lottery[0],
        "transactions_corporate_weekly": b2b / b.b2b_ticket_yuan,
        "transactions_government_weekly": payroll * 12.0 * years + programme / b.b2b_ticket_yuan,
        "transaction_value_retail_weekly": retail_value + lottery[1],
        "transaction_value_corporate_weekly": b2b,
        "transaction_value_government_weekly": wages + programme,
        "ecny_held_personal": rules.personal_balances(
            retail_value / weeks, wages / weeks, holders - tally.engaged * cw, view.interest, b
        ),
        "ecny_held_corporate": rules.corporate_balances((b2b + programme) / weeks, view.interest, b),
        "wallets_at": tally.wallets_at * cw,
    }
    for part in ("transactions", "transaction_value"):
        values[f"{part}_weekly"] = sum(
            values[f"{part}_{k}_weekly"] for k in ("retail", "corporate", "government")
        )
    values["ecny_in_circulation"] = values["ecny_held_personal"] + values["ecny_held_corporate"]
    values["ecny_share_of_m0"] = values["ecny_in_circulation"] / domain.m0(model.week_end)
    values["payments_all_weekly"] = model.populations * b.payments_per_week * weeks
    values["ecny_share_of_retail"] = np.divide(
        values["transactions_retail_weekly"],
        values["payments_all_weekly"],
        out=np.zeros(len(cw)),
        where=values["payments_all_weekly"] > 0,
    )
    values["fiscal_cost_weekly"] = lottery[1]
    values["merchant_fee_savings_weekly"] = values["transaction_value_retail_weekly"] * view.incumbent_fee
    for k, group in enumerate(GROUP_NAMES):
        values[f"citizens_with_wallet:{group}"] = tally.holders_by[:, k] * cw
        values[f"active_users:{group}"] = tally.active_by[:, k] * cw
    return values


def shares(model: EcnyModel, totals: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """This week's region shares, which next week's decisions read (synchronous updates)."""
    pop, firms = model.populations, model.business_total
    return {
        "acceptance": np.divide(
            totals["acceptance_scenarios"],
            model.merchant_points_total,
            out=np.zeros(len(pop)),
            where=model.merchant_points_total > 0,
        ),
        "active_share": totals["active_users"] / pop,
        "adopted_share": totals["citizens_with_wallet"] / pop,
        "app_share": totals["app_wallets_opened"] / pop,
        "b2b_share": totals["b2b_users"] / firms,
    }


def metric_cube(model: EcnyModel) -> tuple[list[str], np.ndarray]:
    """(metric names, array [metric, step, region]) for every per-region metric."""
    records = model.records
    steps, regions = len(records), len(model.region_names)
    names, layers = ["population"], [np.broadcast_to(model.populations, (steps, regions))]
    for metric in METRICS[1:]:
        layers.append(np.array([rec[metric.name] for rec in records]).reshape(steps, regions))
        names.append(metric.name)
    for flow, cumulative in CUMULATIVE.items():
        layers.append(np.cumsum(layers[names.index(flow)], axis=0))
        names.append(cumulative)
    at = np.array([rec["wallets_at"] for rec in records]).reshape(steps, len(model.bank_ids), regions)
    for j, bank in enumerate(model.bank_ids):
        layers.append(at[:, j, :])
        names.append(f"wallets_at:{bank}")
    return names, np.stack(layers)


def tidy_timeseries(model: EcnyModel) -> pd.DataFrame:
    """The tidy table: every metric per reported region (``EcnyModel.reported``) and nationally.

    A region outside the pilot that never goes live in the scenario is not reported (it would be all
    zeros); which regions are reported does not depend on the horizon. Wallets by bank are reported
    nationally only.
    """
    names, cube = metric_cube(model)
    n_metrics, steps, regions = cube.shape
    dates = np.array(model.dates[:steps], dtype="datetime64[D]")
    national = cube.sum(axis=2)  # [metric, step]
    for ratio, (numerator, denominator) in RATIOS.items():  # a ratio of the national sums
        top, bottom = national[names.index(numerator)], national[names.index(denominator)]
        national[names.index(ratio)] = np.divide(top, bottom, out=np.zeros_like(top), where=bottom > 0)
    regional = [k for k, name in enumerate(names) if not name.startswith("wallets_at:")]
    reported = np.flatnonzero(model.reported)
    shown = [model.region_names[r] for r in reported]
    lottery = _lottery_rows(model)
    shares = [f"wallet_share:{b}" for b in model.bank_ids]
    extra = [] if lottery is None else lottery["metric"].unique().tolist()
    # region and metric as codes into sorted categories: no long string arrays to build, and sorting by
    # code is sorting by name
    region_names = sorted({*shown, "national", *([] if lottery is None else lottery["region"].unique())})
    metric_names = sorted({*names, *shares, *extra})
    region_code = {name: k for k, name in enumerate(region_names)}
    metric_code = {name: k for k, name in enumerate(metric_names)}
    block = partial(_block, dates, region_names, metric_names)
    frames = [
        block(
            [region_code[r] for r in shown],
            [metric_code[names[k]] for k in regional],
            cube[regional][:, :, reported],
        ),
        block([region_code["national"]], [metric_code[n] for n in names], national[:, :, None]),
    ]
    if model.bank_ids:
        at = np.stack([national[names.index(f"wallets_at:{b}")] for b in model.bank_ids])
        share = np.divide(at, at.sum(axis=0), out=np.zeros_like(at), where=at.sum(axis=0) > 0)
        frames.append(block([region_code["national"]], [metric_code[n] for n in shares], share[:, :, None]))
    if lottery is not None:
        lottery["region"] = pd.Categorical(lottery["region"], categories=region_names)
        lottery["metric"] = pd.Categorical(lottery["metric"], categories=metric_names)
        frames.append(lottery)
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.sort_values(["date", "region", "metric"], kind="stable").reset_index(drop=True)
    frame["region"] = _decoded(frame["region"])
    frame["metric"] = _decoded(frame["metric"])
    return frame


def _decoded(column: pd.Series) -> pd.Series:
    """A categorical column as pandas' str dtype, decoded by Arrow (a tenth of ``astype(str)``'s time)."""
    cat = column.array
    arrow = pa.DictionaryArray.from_arrays(
        pa.array(cat.codes), pa.array(list(cat.categories), pa.large_string())
    ).dictionary_decode()
    return pd.Series(arrow.to_pandas(types_mapper={pa.large_string(): STR}.get), index=column.index)


def _block(
    dates: np.ndarray,
    region_names: list[str],
    metric_names: list[str],
    regions: list[int],
    metrics: list[int],
    cube: np.ndarray,
) -> pd.DataFrame:
    """Rows metric-major, then step, then region, of ``cube[metric, step, region]``; ``regions`` and
    ``metrics`` are codes into the category lists."""
    n_metrics, steps, n_regions = cube.shape
    region_codes = np.tile(np.asarray(regions, np.int32), n_metrics * steps)
    metric_codes = np.repeat(np.asarray(metrics, np.int32), steps * n_regions)
    return pd.DataFrame(
        {
            "date": np.tile(np.repeat(dates, n_regions), n_metrics),
            "region": pd.Categorical.from_codes(region_codes, categories=region_names),
            "metric": pd.Categorical.from_codes(metric_codes, categories=metric_names),
            "value": cube.reshape(-1).astype(np.float64),
        }
    )


def _lottery_rows(model: EcnyModel) -> pd.DataFrame | None:
    rows = []
    for when, r, outcome in model.lottery_records:
        region = model.region_names[r]
        rate = outcome.redeemed / outcome.winners if outcome.winners else 0.0
        for metric, value in (
            ("lottery_registrations", outcome.registrations),
            ("lottery_winners", outcome.winners),
            ("lottery_redeemed", outcome.redeemed),
            ("lottery_redemption_rate", rate),
            ("lottery_wallets_opened", outcome.wallets_opened),
        ):
            rows.append((np.datetime64(when, "D"), region, metric, float(value)))
    frame = pd.DataFrame(rows, columns=["date", "region", "metric", "value"])
    return frame.astype({"date": "datetime64[s]", "value": np.float64}) if rows else None
