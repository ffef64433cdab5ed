"""The dashboard's matplotlib figures, as pure functions of a model's state (so tests and notebooks can call
them without a browser). They use ``matplotlib.figure.Figure`` rather than pyplot: the server renders from
several threads and pyplot's global figure registry is neither thread-safe nor freed without ``close``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .. import domain
from ..model import EcnyModel
from ..plots import bank_colors, published, titled

MILLION = 1e6
CURVES = (
    ("personal_wallets_opened", "wallets opened", "C0"),
    ("citizens_with_wallet", "residents with a wallet", "C2"),
    ("active_users", "active users (paid in last 4 weeks)", "C1"),
)


def national(ecny: EcnyModel, metric: str) -> np.ndarray:
    """National total of a per-region metric for every step simulated so far."""
    return np.array([np.sum(record[metric]) for record in ecny.records], dtype=np.float64)


def _dates(ecny: EcnyModel) -> list[date]:
    return ecny.dates[: len(ecny.records)]


def _horizon(ax, ecny: EcnyModel) -> None:
    start = ecny.config.run.start
    ax.set_xlim(pd.Timestamp(start), pd.Timestamp(ecny.dates[-1]))
    ax.grid(alpha=0.3)


def s_curve(ecny: EcnyModel, baseline: dict[str, np.ndarray] | None = None) -> Figure:
    """National wallets, residents with a wallet and active users so far, the published points, and the
    unchanged scenario's run (same seed) dashed, so a lever's effect shows as the gap between the two."""
    fig = Figure(figsize=(6.4, 3.4))
    fig.subplots_adjust(left=0.12, right=0.98, top=0.92, bottom=0.1)  # room for the y label at 90 dpi
    ax = fig.subplots()
    dates = pd.to_datetime(_dates(ecny))
    if baseline is not None:
        base_dates = pd.to_datetime(baseline["date"])
        for metric, _, color in CURVES:
            ax.plot(base_dates, baseline[metric] / MILLION, color=color, lw=1, ls="--", alpha=0.45)
        ax.plot([], [], color="0.4", lw=1, ls="--", label="scenario file, same seed")
    for metric, label, color in CURVES:
        ax.plot(dates, national(ecny, metric) / MILLION, color=color, lw=2, label=label)
    points = published("personal_wallets_opened")
    ax.scatter(
        points["date"],
        points["value"] / MILLION,
        marker="D",
        s=30,
        color="black",
        zorder=5,
        label="published: wallets opened",
    )
    _horizon(ax, ecny)
    ax.set_ylabel("millions")
    ax.set_title(f"National adoption, week ending {ecny.week_end}", fontsize=10)
    ax.legend(loc="upper left", fontsize=7)
    return fig


def region_map(ecny: EcnyModel) -> Figure:
    """Every region of the mainland at its coordinates: area by population, colour by the share with a
    wallet once live.

    Pilot regions not yet live are hollow grey; the rest of the mainland (outside the pilot, live only
    with a nationwide or provincial go-live) is hollow and dashed while not live, so a nationwide lever
    shows as the whole country filling in. There is no base map (the dashboard works offline); longitude
    and latitude axes are enough to recognise the coast and the inland regions.
    """
    frame = domain.regions()
    pop = frame["population_2020"].to_numpy(np.float64)
    if ecny.records:
        share = 100 * ecny.records[-1]["citizens_with_wallet"] / pop
    else:
        share = np.zeros(len(pop))
    live = np.array([g.live for g in ecny.governments])
    pilot = np.asarray(ecny.pilot_regions, dtype=bool)
    fig = Figure(figsize=(6.4, 4.1))
    ax = fig.add_axes((0.11, 0.12, 0.7, 0.81))
    colorbar_axes = fig.add_axes((0.85, 0.15, 0.025, 0.7))
    size = 1500 * pop / pop.max()
    for group, style, label in (
        (~live & pilot, "solid", "pilot, not yet live"),
        (~live & ~pilot, "dashed", "outside the pilot, not live"),
    ):
        ax.scatter(
            frame["lon"][group],
            frame["lat"][group],
            s=size[group],
            facecolors="none",
            edgecolors="0.55",
            linewidths=0.8,
            linestyles=style,
            label=f"{label} ({int(group.sum())})",
        )
    dots = ax.scatter(
        frame["lon"][live],
        frame["lat"][live],
        s=size[live],
        c=share[live],
        cmap="viridis",
        vmin=0,
        vmax=100,
        alpha=0.85,
        edgecolors="black",
        linewidths=0.5,
    )
    fig.colorbar(dots, cax=colorbar_axes, label="% of residents with a wallet")
    cities = np.flatnonzero(frame["kind"].to_numpy() == "city")  # the "(rest)" of a province is not a place
    for k in cities[np.argsort(pop[cities])[-7:]]:
        ax.annotate(
            frame["region"][k],
            (frame["lon"][k], frame["lat"][k]),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect(1.15, adjustable="datalim")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=6, markerscale=0.3)
    outside = int((live & ~pilot).sum())
    ax.set_title(
        f"All {len(live)} regions, {ecny.week_end}: {int(live.sum())} live, {outside} of them outside "
        "the pilot (area: population)",
        fontsize=9,
    )
    return fig


def bank_shares(ecny: EcnyModel) -> Figure:
    """Share of personal wallets by operating institution, week by week."""
    fig = Figure(figsize=(6.4, 4.1))
    fig.subplots_adjust(left=0.1, right=0.8, top=0.92, bottom=0.08)
    ax = fig.subplots()
    if ecny.records and ecny.bank_ids:
        at = np.array([record["wallets_at"].sum(axis=1) for record in ecny.records])  # [step, bank]
        total = at.sum(axis=1, keepdims=True)
        share = np.divide(at, total, out=np.zeros_like(at), where=total > 0)
        colors = bank_colors(ecny.bank_ids)
        ax.stackplot(pd.to_datetime(_dates(ecny)), 100 * share.T, labels=ecny.bank_ids, colors=colors)
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7)
    _horizon(ax, ecny)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of personal wallets")
    ax.set_title(f"Wallet share by operating institution ({len(ecny.bank_ids)} operators)", fontsize=10)
    return fig


def step_axis_as_dates(start: date, step_days: int, steps: int):
    """A ``post_process`` for Mesa's step-indexed plot component: the whole horizon, ticks also as dates.

    Mesa's ``PlotMatplotlib`` sets its own integer tick locator after ``post_process``, so the dates come
    from a formatter (which survives) rather than from fixed ticks (which would be relabelled wrongly).
    """

    def label(k: float, _pos) -> str:
        when = start + timedelta(days=step_days * int(k))
        return f"{int(k)}\n{when:%Y-%m}"

    def post_process(ax) -> None:
        ax.figure.set_size_inches(6.4, 4.0)  # Mesa's default 6.4 x 4.8 overflows its grid cell
        ax.figure.set_dpi(90)
        ax.set_xlim(0, max(steps, ax.get_xlim()[1]))  # the run-end lever may outrun the file's
        ax.xaxis.set_major_formatter(FuncFormatter(label))
        ax.tick_params(axis="x", labelsize=7)
        ax.set_ylabel("% of merchants in live regions accepting", fontsize=8)
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=7)
        ax.set_title("Merchant acceptance by sector", fontsize=10)

    return post_process


def paired_difference(comparison, title: str = "") -> Figure:
    """The lever's paired effect over time: one thin line per seed, their mean thick, for active users and
    residents with a wallet. Pairs share their seed, so the spread is the lever's own uncertainty."""
    fig = Figure(figsize=(6.4, 4.4 if title else 4.1))
    top = 0.84 if title else 0.94  # room for the title above the first panel's own
    fig.subplots_adjust(left=0.1, right=0.98, top=top, bottom=0.07, hspace=0.35)
    axes = fig.subplots(2, 1, sharex=True)
    dates = comparison.dates
    for ax, (metric, label, color) in zip(axes, (CURVES[2], CURVES[1]), strict=True):
        diff = comparison.difference(metric) / MILLION
        for row in diff:
            ax.plot(dates, row, color=color, lw=0.7, alpha=0.5)
        ax.plot(dates, diff.mean(axis=0), color=color, lw=2.2, label=f"mean of {len(diff)} seeds")
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set_title(f"{label}: levers - file (paired)", fontsize=9)
        ax.set_ylabel("millions", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    if title:
        titled(fig, title, size=10)
    return fig


def group_reach(outcomes: dict[str, float], week_end) -> Figure:
    """Holders and active users by age group, urban/rural and income quintile: who the policy reaches."""
    from .outcomes import GROUP_LABELS

    fig = Figure(figsize=(6.4, 3.2))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.88, bottom=0.2)
    ax = fig.subplots()
    x = np.arange(len(GROUP_LABELS))
    for offset, (metric, label, color) in zip((-0.2, 0.2), (CURVES[1], CURVES[2]), strict=True):
        values = [outcomes[f"{metric}:{group}"] / MILLION for group in GROUP_LABELS]
        ax.bar(x + offset, values, width=0.4, color=color, label=label)
    ax.set_xticks(x, list(GROUP_LABELS.values()), fontsize=7, rotation=30)
    ax.set_ylabel("millions")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(f"Who is reached, week ending {week_end}", fontsize=10)
    return fig
