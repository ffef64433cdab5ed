"""Adoption plots of one run (matplotlib, PNG): the national S-curve against the published figures,
small multiples per region, bank wallet shares, merchant acceptance and transaction value.

Titles are plain text (a ``$`` in a description is a dollar sign, not mathtext) and never wider than
their plot: a description goes on its own line under the heading and is cut with an ellipsis where it
would overflow (``titled``). Each operating institution has one colour in every plot
(``bank_colors``). Importing this module does not choose a matplotlib backend; the command line does.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator

from . import domain

MILLION = 1e6
DPI = 100
ELLIPSIS = "\u2026"
# tab10 and black for the eleven operators of the pilot, then twelve more for those of 2026, each chosen
# far from the others (no two closer than 0.26 in RGB)
PALETTE = (
    *(f"C{k}" for k in range(10)),
    "black",
    "magenta",
    "navy",
    "#9edae5",
    "lime",
    "#dbdb8d",
    "darkred",
    "olive",
    "darkslateblue",
    "gold",
    "#f7b6d2",
    "#98df8a",
    "#c49c94",
)


def bank_colors(banks: list[str]) -> list[str]:
    """One colour per operating institution, fixed by its row in institutions.csv (the same in every
    scenario and every plot); ids not in the file get the colours after those."""
    known = domain.bank_ids()
    order = [known.index(b) if b in known else len(known) + k for k, b in enumerate(banks)]
    return [PALETTE[k] if k < len(PALETTE) else plt.get_cmap("tab20b")(k % 20) for k in order]


def plain(text: str) -> str:
    """``text`` as matplotlib should show it literally: one line, ``$`` escaped (no mathtext)."""
    return " ".join(str(text).split()).replace("$", "\\$")


def titled(target, heading: str, detail: str = "", size: float = 11):
    """Set the title of an axis, or a figure's suptitle: ``heading``, and ``detail`` (e.g. the scenario's
    description) on a second line, each cut to fit the width of what it titles."""
    fig = target if isinstance(target, Figure) else target.figure
    if not hasattr(fig.canvas, "get_renderer"):  # a bare Figure (the dashboard's): measure with Agg
        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    width = (fig.bbox if target is fig else target.get_window_extent(renderer)).width * 0.98
    lines = [_fit(fig, renderer, line, width, size) for line in (heading, detail) if line]
    text = "\n".join(lines)
    if target is fig:
        return fig.suptitle(text, fontsize=size)
    return target.set_title(text, fontsize=size)


def _fit(fig, renderer, raw: str, width: float, size: float) -> str:
    """The longest start of ``raw`` (with an ellipsis when cut) that is at most ``width`` pixels wide."""
    raw = " ".join(str(raw).split())
    probe = fig.text(0, 0, "", fontsize=size)

    def fits(candidate: str) -> bool:
        probe.set_text(plain(candidate))
        return probe.get_window_extent(renderer).width <= width

    if fits(raw):
        probe.remove()
        return plain(raw)
    low, high = 0, len(raw)
    while low < high:
        mid = (low + high + 1) // 2
        if fits(raw[:mid].rstrip() + ELLIPSIS):
            low = mid
        else:
            high = mid - 1
    probe.remove()
    return plain(raw[:low].rstrip() + ELLIPSIS)


def wide(frame: pd.DataFrame) -> pd.DataFrame:
    """The tidy table pivoted once: dates down, (region, metric) across.

    Every plot reads its columns from this: filtering the 200k-row tidy table once per series took seconds.
    """
    table = frame.pivot(index="date", columns=["region", "metric"], values="value")
    table.index = pd.to_datetime(table.index)
    return table.sort_index()


def _wide(frame: pd.DataFrame | None, table: pd.DataFrame | None) -> pd.DataFrame:
    return wide(frame) if table is None else table


def series(frame: pd.DataFrame, metric: str, region: str = "national", table=None) -> pd.Series:
    """One metric of one region over time (``table``: ``wide(frame)``, to pivot only once)."""
    table = _wide(frame, table)
    if (region, metric) not in table.columns:
        return pd.Series(dtype=np.float64, index=pd.DatetimeIndex([], name="date"))
    return table[(region, metric)].dropna()


def published(metric: str, scope: str = "national") -> pd.DataFrame:
    """Published figures for a model metric (targets.csv), with their dates and sources."""
    t = domain.targets()
    return t[(t["metric"] == metric) & (t["scope"] == scope)]


def published_points(metric: str, scope: str = "national") -> pd.DataFrame:
    """The calibration targets of ``metric`` in ``scope`` (date, value, confidence): the figures the model is
    fitted to, from ``calibration_targets`` so a plot shows exactly what the fit and ``validate`` read."""
    from .calibration.targets import calibration_targets

    rows = [
        {"date": pd.Timestamp(t.date), "value": t.value, "confidence": t.confidence}
        for t in calibration_targets()
        if t.metric == metric and t.scope == scope
    ]
    return pd.DataFrame(rows, columns=["date", "value", "confidence"])


def data_end() -> pd.Timestamp:
    """The date of the last published figure the model is fitted to: history before, projection after."""
    from .calibration.targets import calibration_targets

    return pd.Timestamp(max(t.date for t in calibration_targets()))


DATA_END_LABEL = "data end"


def mark_data_end(ax, label: bool = True) -> None:
    """A dotted vertical line where the published data end, labelled at the top of the axis, so a reader
    tells the fitted history (left) from the model's projection (right)."""
    end = data_end()
    ax.axvline(end, color="0.35", lw=1.0, ls=":", zorder=1, label=f"{DATA_END_LABEL} ({end:%Y-%m-%d})")
    if label:
        text = f" {DATA_END_LABEL} {end:%Y-%m}: projection \u2192"
        where = ax.get_xaxis_transform()
        ax.text(end, 0.98, text, transform=where, ha="left", va="top", fontsize=7, color="0.3")


def overlay_targets(
    ax,
    metric: str,
    divisor: float = MILLION,
    label: str | None = None,
    color: str = "black",
    size: float = 36,
) -> None:
    """The published figures of ``metric`` (national) as diamonds on its own curve, scaled by ``divisor``;
    a low-confidence figure is drawn hollow."""
    points = published_points(metric)
    if len(points):
        ax.scatter(
            points["date"],
            points["value"] / divisor,
            marker="D",
            s=size,
            facecolors=[color if firm else "none" for firm in points["confidence"].ne("low")],
            edgecolors=color,
            zorder=6,
            label=label or f"published: {metric.replace('_', ' ')}",
        )


# metric, label, colour of the national S-curve: both published wallet definitions, then people
S_CURVE = (
    ("personal_wallets_opened", "personal wallets at the operators (multi-homing counted)", "C0"),
    ("app_wallets_opened", "app wallets (set up through the public app, from 2022)", "C4"),
    ("citizens_with_wallet", "residents with a wallet", "C2"),
    ("active_users", "active users (paid in last 4 weeks)", "C1"),
)


def national_s_curve(frame: pd.DataFrame, out: Path, title: str, table=None) -> Path:
    """Both wallet definitions the PBOC published (wallets at the operators until 2022, app wallets after)
    with their own published points, residents with a wallet and active users, and where the data end."""
    table = _wide(frame, table)
    regions = [r for r in table.columns.get_level_values("region").unique() if r != "national"]
    live = table.xs("live", level="metric", axis=1)[regions]
    population = table.xs("population", level="metric", axis=1)[regions]
    population_live = (live * population).sum(axis=1)
    fig, ax = plt.subplots(figsize=(9, 5.2))
    ax.fill_between(
        population_live.index, population_live / MILLION, color="0.9", label="residents of live pilots"
    )
    for metric, label, color in S_CURVE:
        s = series(frame, metric, table=table)
        ax.plot(s.index, s / MILLION, color=color, label=label)
        if len(published_points(metric)):
            overlay_targets(ax, metric, color=color, label=f"published: {label.split(' (')[0]}")
    mark_data_end(ax)
    ax.set_ylabel("millions")
    titled(ax, "e-CNY adoption, national", title)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, out / "national_s_curve.png")


def regions_small_multiples(frame: pd.DataFrame, out: Path, title: str, table=None) -> Path:
    """A panel per region, share of residents with a wallet and active.

    Drawn for speed: fixed margins, limits and yearly ticks set once, no shared axes (matplotlib rescales
    every sibling of a shared axis at each line drawn), inner tick labels hidden by hand.
    """
    table = _wide(frame, table)
    present = set(table.columns.get_level_values("region"))
    regions = [r for r in domain.region_names() if r in present]
    cols = 6
    rows = max(1, int(np.ceil(len(regions) / cols)))
    height = 2.3 * rows
    fig = plt.figure(figsize=(16, height))
    fig.subplots_adjust(
        left=0.04, right=0.99, bottom=0.3 / height, top=1 - 0.75 / height, wspace=0.1, hspace=0.4
    )
    dates = table.index
    years = pd.date_range(dates[0], dates[-1], freq="YS") if len(dates) else pd.DatetimeIndex([])
    ticks = mdates.date2num(years[:: max(1, int(np.ceil(len(years) / 3)))])
    limits = (mdates.date2num(dates[0]), mdates.date2num(dates[-1])) if len(dates) else (0, 1)
    for k, region in enumerate(regions):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.set_xlim(*limits)
        ax.set_ylim(-2, 102)
        population = table[(region, "population")].to_numpy()
        for metric, color in (("citizens_with_wallet", "C2"), ("active_users", "C1")):
            share = np.divide(
                100 * table[(region, metric)].to_numpy(),
                population,
                out=np.zeros(len(dates)),
                where=population > 0,
            )
            ax.plot(dates, share, color=color, lw=1.2)
        live = table[(region, "live")].to_numpy() > 0
        if live.any():
            ax.axvline(dates[np.argmax(live)], color="0.6", lw=0.8, ls=":")
        ax.set_title(region, fontsize=8, pad=2)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.tick_params(labelsize=7, labelbottom=k + cols >= len(regions), labelleft=k % cols == 0)
        ax.grid(alpha=0.3)
    heading = titled(fig, "Share of residents (%) with a wallet (green) and active (orange)", title)
    heading.set_y(1 - 0.08 / height)
    return _save(fig, out / "regions_small_multiples.png", tight=False)


def bank_shares(frame: pd.DataFrame, out: Path, title: str, table=None) -> Path:
    national = _wide(frame, table)["national"]
    table = national[[m for m in national.columns if m.startswith("wallet_share:")]].dropna(how="all")
    table.columns = [c.split(":", 1)[1] for c in table.columns]
    fig, ax = plt.subplots(figsize=(9, 5))
    if len(table.columns):
        banks = list(table.columns)
        ax.stackplot(table.index, 100 * table.T.to_numpy(), labels=banks, colors=bank_colors(banks))
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of personal wallets")
    titled(ax, "Wallet share by operating institution", title)
    return _save(fig, out / "bank_wallet_shares.png")


def merchant_acceptance(frame: pd.DataFrame, out: Path, title: str, table=None) -> Path:
    table = _wide(frame, table)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    points = series(frame, "acceptance_scenarios", table=table)
    merchants = series(frame, "merchants_accepting", table=table)
    left.plot(points.index, points / MILLION, label="acceptance points (scenarios)")
    left.plot(merchants.index, merchants / MILLION, label="merchants accepting")
    overlay_targets(left, "acceptance_scenarios", color="C0", label="published: pilot scenarios")
    left.set_ylabel("millions")
    left.set_title("Merchant acceptance")
    value = series(frame, "transaction_value_cumulative", table=table)
    right.plot(value.index, value / 1e9, color="C3", label="cumulative transaction value")
    overlay_targets(right, "transaction_value_cumulative", divisor=1e9, color="C3", label="published")
    right.set_ylabel("billion yuan")
    right.set_title("Transaction value")
    for ax in (left, right):
        mark_data_end(ax)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    titled(fig, "Merchant acceptance and transaction value", title)
    fig.tight_layout()
    return _save(fig, out / "merchant_acceptance.png")


def plot_run(frame: pd.DataFrame, out: Path, title: str = "") -> list[Path]:
    """Every plot of one run into folder ``out``; returns the files written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = wide(frame)
    return [
        national_s_curve(frame, out, title, table),
        regions_small_multiples(frame, out, title, table),
        bank_shares(frame, out, title, table),
        merchant_acceptance(frame, out, title, table),
    ]


def _save(fig, path: Path, tight: bool = True) -> Path:
    fig.savefig(path, dpi=DPI, bbox_inches="tight" if tight else None)
    plt.close(fig)
    return path
