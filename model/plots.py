"""Adoption plots of one run (matplotlib, PNG): the national S-curve against the published figures,
small multiples per region, bank wallet shares, merchant acceptance and transaction value.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import domain  # noqa: E402

MILLION = 1e6


def series(frame: pd.DataFrame, metric: str, region: str = "national") -> pd.Series:
    rows = frame[(frame["metric"] == metric) & (frame["region"] == region)]
    return rows.set_index(pd.to_datetime(rows["date"]))["value"].sort_index()


def published(metric: str, scope: str = "national") -> pd.DataFrame:
    """Published figures for a model metric (targets.csv), with their dates and sources."""
    t = domain.targets()
    return t[(t["metric"] == metric) & (t["scope"] == scope)]


def overlay_targets(ax, metric: str, divisor: float = MILLION, label: str | None = None) -> None:
    points = published(metric)
    if len(points):
        ax.scatter(
            points["date"],
            points["value"] / divisor,
            marker="D",
            s=36,
            color="black",
            zorder=5,
            label=label or f"published: {metric.replace('_', ' ')}",
        )


def national_s_curve(frame: pd.DataFrame, out: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(9, 5.2))
    population_live = (
        frame[(frame["metric"] == "live") & (frame["region"] != "national")]
        .merge(
            frame[(frame["metric"] == "population") & (frame["region"] != "national")],
            on=["date", "region"],
        )
        .assign(v=lambda d: d["value_x"] * d["value_y"])
        .groupby("date")["v"]
        .sum()
    )
    population_live.index = pd.to_datetime(population_live.index)
    ax.fill_between(
        population_live.index, population_live / MILLION, color="0.9", label="residents of live pilots"
    )
    for metric, label, color in (
        ("personal_wallets_opened", "personal wallets opened (multi-homing counted)", "C0"),
        ("citizens_with_wallet", "residents with a wallet", "C2"),
        ("active_users", "active users (paid in last 4 weeks)", "C1"),
    ):
        s = series(frame, metric)
        ax.plot(s.index, s / MILLION, color=color, label=label)
    overlay_targets(ax, "personal_wallets_opened", label="published: personal wallets opened")
    ax.set_ylabel("millions")
    ax.set_title(f"e-CNY adoption, national: {title}")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, out / "national_s_curve.png")


def regions_small_multiples(frame: pd.DataFrame, out: Path, title: str) -> Path:
    regions = [r for r in domain.region_names() if r in set(frame["region"])]
    cols = 6
    rows = int(np.ceil(len(regions) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(16, 2.3 * rows), sharex=True, sharey=True)
    for ax, region in zip(axes.flat, regions, strict=False):
        pop = series(frame, "population", region)
        for metric, color in (("citizens_with_wallet", "C2"), ("active_users", "C1")):
            s = series(frame, metric, region)
            ax.plot(s.index, 100 * s / pop, color=color, lw=1.2)
        live = series(frame, "live", region)
        if (live > 0).any():
            ax.axvline(live[live > 0].index[0], color="0.6", lw=0.8, ls=":")
        ax.set_title(region, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(regions) :]:
        ax.axis("off")
    fig.suptitle(f"Share of residents (%) with a wallet (green) and active (orange): {title}")
    fig.tight_layout()
    return _save(fig, out / "regions_small_multiples.png")


def bank_shares(frame: pd.DataFrame, out: Path, title: str) -> Path:
    shares = frame[(frame["region"] == "national") & frame["metric"].str.startswith("wallet_share:")]
    table = shares.pivot(index="date", columns="metric", values="value").sort_index()
    table.index = pd.to_datetime(table.index)
    table.columns = [c.split(":", 1)[1] for c in table.columns]
    fig, ax = plt.subplots(figsize=(9, 5))
    if len(table.columns):
        ax.stackplot(table.index, 100 * table.T.to_numpy(), labels=table.columns)
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of personal wallets")
    ax.set_title(f"Wallet share by operating institution: {title}")
    fig.tight_layout()
    return _save(fig, out / "bank_wallet_shares.png")


def merchant_acceptance(frame: pd.DataFrame, out: Path, title: str) -> Path:
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    points = series(frame, "acceptance_scenarios")
    merchants = series(frame, "merchants_accepting")
    left.plot(points.index, points / MILLION, label="acceptance points (scenarios)")
    left.plot(merchants.index, merchants / MILLION, label="merchants accepting")
    overlay_targets(left, "acceptance_scenarios", label="published: pilot scenarios")
    left.set_ylabel("millions")
    left.set_title("Merchant acceptance")
    value = series(frame, "transaction_value_cumulative")
    right.plot(value.index, value / 1e9, color="C3", label="cumulative transaction value")
    overlay_targets(right, "transaction_value_cumulative", divisor=1e9, label="published")
    right.set_ylabel("billion yuan")
    right.set_title("Transaction value")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, out / "merchant_acceptance.png")


def plot_run(frame: pd.DataFrame, out: Path, title: str = "") -> list[Path]:
    """Every plot of one run into folder ``out``; returns the files written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return [
        national_s_curve(frame, out, title),
        regions_small_multiples(frame, out, title),
        bank_shares(frame, out, title),
        merchant_acceptance(frame, out, title),
    ]


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
