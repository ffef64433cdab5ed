"""From a finished model to the tidy table (date, region, metric, value) that every later layer reads.

Per region and nationally (the sum over regions): population, live, citizens_with_wallet,
personal_wallets_opened (cumulative wallets, multi-homing counted), active_users (paid in the last 4
weeks), merchants_accepting, acceptance_scenarios (acceptance points), transactions and transaction value
(weekly and cumulative), wallets_at:<bank>; nationally also wallet_share:<bank>. Lottery rows
(lottery_registrations, lottery_winners, lottery_redeemed, lottery_redemption_rate) appear at the step of
each draw, for its region only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .model import EcnyModel

STOCKS = (
    "live",
    "citizens_with_wallet",
    "personal_wallets_opened",
    "active_users",
    "merchants_accepting",
    "acceptance_scenarios",
    "transactions_weekly",
    "transaction_value_weekly",
)


def metric_cube(model: EcnyModel) -> tuple[list[str], np.ndarray]:
    """(metric names, array [metric, step, region]) for every per-region metric."""
    records = model.records
    steps = len(records)
    regions = len(model.region_names)
    names, layers = ["population"], [np.broadcast_to(model.populations, (steps, regions))]
    for name in STOCKS:
        layers.append(np.array([rec[name] for rec in records]).reshape(steps, regions))
        names.append(name)
    for flow, cumulative in (
        ("transactions_weekly", "transactions_cumulative"),
        ("transaction_value_weekly", "transaction_value_cumulative"),
    ):
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
