"""The metrics: one definition each, from the step's tallies to the tidy table every later layer reads.

A stock is a count of agents in a named state (``phases.count_citizen``, ``phases.step_merchant``) times
the residents (or merchants) an agent stands for; a flow counts the step's events; a cumulative metric
sums its flow from the run's start. Per region and ``national`` (the sum over regions); nationally also
``wallet_share:<bank>``. Lottery rows (``lottery_registrations``, ``lottery_winners``,
``lottery_redeemed``, ``lottery_redemption_rate``) appear at the step of each draw, for its region only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .context import StepView, Tally

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
        "wallets at the operating institutions, cumulative; a resident with wallets at k operators counts "
        "k (multi-homing); white-listed residents of regions not yet live count",
    ),
    Metric("active_users", "people", "residents who paid in e-CNY in the last 4 weeks"),
    Metric("merchants_accepting", "merchants", "merchants (outlets) accepting e-CNY"),
    Metric(
        "acceptance_scenarios",
        "scenarios",
        "acceptance points of merchants accepting e-CNY (a merchant of size s has points_by_size[s])",
    ),
    Metric(
        "transactions_weekly",
        "transactions",
        "e-CNY payments by residents in the step (expected count), lottery envelopes included",
    ),
    Metric("transaction_value_weekly", "yuan", "their value: ticket_yuan each, envelopes at face value"),
    Metric("transactions_cumulative", "transactions", "transactions_weekly summed from the run's start"),
    Metric("transaction_value_cumulative", "yuan", "transaction_value_weekly summed from the run's start"),
)
FLOWS = {
    "transactions_weekly": "transactions_cumulative",
    "transaction_value_weekly": "transaction_value_cumulative",
}


def step_values(model: EcnyModel, view: StepView, tally: Tally, lottery: np.ndarray) -> dict[str, np.ndarray]:
    """Every per-region metric of a step (``lottery``: [2, R] transactions and value of its draws)."""
    cw, mw, b = model.citizens.weight, model.merchants.weight, model.behaviour
    payments = (tally.payers * view.payments).sum(axis=1) * cw
    accepting = tally.accepting.astype(np.float64)
    return {
        "live": view.live.astype(np.float64),
        "citizens_with_wallet": tally.holders * cw,
        "personal_wallets_opened": tally.wallets_at.sum(axis=0) * cw,
        "active_users": tally.active * cw,
        "merchants_accepting": accepting.sum(axis=1) * mw,
        "acceptance_scenarios": (accepting @ np.asarray(model.config.population.points_by_size)) * mw,
        "transactions_weekly": payments + lottery[0],
        "transaction_value_weekly": payments * b.ticket_yuan + lottery[1],
        "wallets_at": tally.wallets_at * cw,
    }


def metric_cube(model: EcnyModel) -> tuple[list[str], np.ndarray]:
    """(metric names, array [metric, step, region]) for every per-region metric."""
    records = model.records
    steps, regions = len(records), len(model.region_names)
    names, layers = ["population"], [np.broadcast_to(model.populations, (steps, regions))]
    for metric in METRICS[1:]:
        if metric.name in FLOWS.values():
            continue
        layers.append(np.array([rec[metric.name] for rec in records]).reshape(steps, regions))
        names.append(metric.name)
    for flow, cumulative in FLOWS.items():
        layers.append(np.cumsum(layers[names.index(flow)], axis=0))
        names.append(cumulative)
    at = np.array([rec["wallets_at"] for rec in records]).reshape(steps, len(model.bank_ids), regions)
    for j, bank in enumerate(model.bank_ids):
        layers.append(at[:, j, :])
        names.append(f"wallets_at:{bank}")
    return names, np.stack(layers)


def tidy_timeseries(model: EcnyModel) -> pd.DataFrame:
    names, cube = metric_cube(model)
    n_metrics, steps, regions = cube.shape
    dates = np.array(model.dates[:steps], dtype="datetime64[D]")
    national = cube.sum(axis=2)  # [metric, step]
    frames = [
        _block(dates, np.array(model.region_names), names, cube),
        _block(dates, np.array(["national"]), names, national[:, :, None]),
    ]
    if model.bank_ids:
        at = np.stack([national[names.index(f"wallets_at:{b}")] for b in model.bank_ids])
        share = np.divide(at, at.sum(axis=0), out=np.zeros_like(at), where=at.sum(axis=0) > 0)
        frames.append(
            _block(
                dates,
                np.array(["national"]),
                [f"wallet_share:{b}" for b in model.bank_ids],
                share[:, :, None],
            )
        )
    lottery = _lottery_rows(model)
    if lottery is not None:
        frames.append(lottery)
    frame = pd.concat(frames, ignore_index=True)
    frame["region"] = frame["region"].astype(str)
    frame["metric"] = frame["metric"].astype(str)
    return frame.sort_values(["date", "region", "metric"], kind="stable").reset_index(drop=True)


def _block(dates: np.ndarray, regions: np.ndarray, metrics: list[str], cube: np.ndarray):
    n_metrics, steps, n_regions = cube.shape
    return pd.DataFrame(
        {
            "date": np.tile(np.repeat(dates, n_regions), n_metrics),
            "region": np.tile(regions, n_metrics * steps),
            "metric": np.repeat(np.array(metrics), steps * n_regions),
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
        ):
            rows.append((np.datetime64(when, "D"), region, metric, float(value)))
    frame = pd.DataFrame(rows, columns=["date", "region", "metric", "value"])
    return frame.astype({"date": "datetime64[s]", "value": np.float64}) if rows else None
