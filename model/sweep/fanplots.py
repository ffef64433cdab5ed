"""Plots of a sweep (matplotlib PNG, SVG on request): fan charts, paired differences, regions.

A fan shows, per scenario, the median over replications and the 50% and 90% bands; the published figures
are overlaid where the model has the same metric. Difference charts show ``scenario - baseline`` taken
replication by replication (same seeds), so the band is the uncertainty of the effect itself, not of
either curve. With many scenarios (a sample design) only the baseline keeps its bands.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import domain
from ..plots import mark_data_end, overlay_targets, titled
from .analysis import load_results, open_store, paired_differences, quantile_bands, run_matrix, summarize
from .design import BASELINE

# metric -> (title, divisor, unit)
FAN_METRICS = {
    "personal_wallets_opened": ("Personal wallets opened (national)", 1e6, "millions"),
    "active_users": ("Active users (paid in the last 4 weeks)", 1e6, "millions"),
    "merchants_accepting": ("Merchants accepting e-CNY", 1e6, "millions"),
    "transaction_value_cumulative": ("Cumulative transaction value", 1e9, "billion yuan"),
}
BANDS_UP_TO = 8  # scenarios drawn with bands; beyond that, medians only (except the baseline)
LEGEND_UP_TO = 14


def _colors(scenarios: list[str], baseline: str) -> dict[str, str]:
    palette = [c for c in plt.rcParams["axes.prop_cycle"].by_key()["color"]]
    others = [s for s in scenarios if s != baseline]
    colors = {s: palette[i % len(palette)] for i, s in enumerate(others)}
    colors[baseline] = "black"
    return colors


def _band(ax, bands: pd.DataFrame, color: str, label: str, divisor: float, shade: bool) -> None:
    x = bands.index
    if shade:
        ax.fill_between(x, bands["p05"] / divisor, bands["p95"] / divisor, color=color, alpha=0.10, lw=0)
        ax.fill_between(x, bands["p25"] / divisor, bands["p75"] / divisor, color=color, alpha=0.22, lw=0)
    ax.plot(x, bands["p50"] / divisor, color=color, lw=1.6 if shade else 1.0, label=label)


def fan_chart(
    ax,
    runs: pd.DataFrame,
    metric: str,
    region: str = "national",
    baseline: str = BASELINE,
    divisor: float = 1.0,
    overlay_published: bool = True,
) -> None:
    """One metric, one line per scenario: median with 50% and 90% bands over replications."""
    matrix = run_matrix(runs, metric, region)
    scenarios = list(dict.fromkeys(matrix.columns.get_level_values("scenario")))
    colors = _colors(scenarios, baseline)
    shade_all = len(scenarios) <= BANDS_UP_TO
    for scenario in scenarios:
        count = matrix[scenario].shape[1]
        label = f"{scenario} (n={count})"
        shade = shade_all or scenario == baseline
        _band(ax, quantile_bands(matrix[scenario]), colors[scenario], label, divisor, shade)
    if overlay_published and region == "national":
        overlay_targets(ax, metric, divisor, label="published", color="crimson", size=30)
        mark_data_end(ax)
    ax.grid(alpha=0.3)


def difference_chart(
    ax,
    runs: pd.DataFrame,
    metric: str,
    region: str = "national",
    baseline: str = BASELINE,
    divisor: float = 1.0,
) -> None:
    """``scenario - baseline`` per replication (same seed): median with 50% and 90% bands."""
    differences = paired_differences(run_matrix(runs, metric, region), baseline)
    scenarios = list(dict.fromkeys(differences.columns.get_level_values("scenario")))
    colors = _colors([baseline, *scenarios], baseline)
    shade = len(scenarios) <= BANDS_UP_TO
    for scenario in scenarios:
        count = differences[scenario].shape[1]
        _band(
            ax,
            quantile_bands(differences[scenario]),
            colors[scenario],
            f"{scenario} (n={count} pairs)",
            divisor,
            shade,
        )
    ax.axhline(0, color="black", lw=0.8)
    ax.grid(alpha=0.3)


def _grid_figure(heading: str, detail: str = ""):
    fig, axes = plt.subplots(2, 2, figsize=(15, 9.5), sharex=True)
    titled(fig, heading, detail, size=12)
    return fig, axes


def _finish(fig, axes, legend_axis, count: int) -> None:
    handles, labels = legend_axis.get_legend_handles_labels()
    if handles and count <= LEGEND_UP_TO:
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
        fig.tight_layout(rect=(0, 0.04 + 0.025 * ((len(labels) - 1) // 4), 1, 0.97))
    else:
        fig.tight_layout(rect=(0, 0, 1, 0.97))
    for ax in axes.flat:
        ax.tick_params(labelsize=8)


def region_multiples(runs: pd.DataFrame, out: Path, title: str, baseline: str = BASELINE) -> Path:
    """Share of residents with a wallet (%) per region: median and 90% band per scenario."""
    regional = runs[runs["region"] != "national"]
    shares = (
        regional[regional["metric"] == "citizens_with_wallet"]
        .merge(
            regional[regional["metric"] == "population"][["run_id", "date", "region", "value"]],
            on=["run_id", "date", "region"],
            suffixes=("", "_population"),
        )
        .assign(metric="share_with_wallet")
    )
    population = shares["value_population"]
    shares["value"] = np.where(population > 0, 100 * shares["value"] / population.where(population > 0, 1), 0)
    present = set(shares["region"].astype(str))
    regions = [r for r in domain.region_names() if r in present]
    cols = 6
    rows = max(1, int(np.ceil(len(regions) / cols)))
    # axes are not shared (sharing 34 axes makes matplotlib slow); equal limits are set instead
    fig, axes = plt.subplots(rows, cols, figsize=(17, 2.4 * rows), squeeze=False)
    first, last = shares["date"].min(), shares["date"].max()
    scenarios = list(dict.fromkeys(shares["scenario"].astype(str)))
    colors = _colors(scenarios, baseline)
    shade = len(scenarios) <= BANDS_UP_TO
    by_region = shares.groupby("region", observed=True)
    for ax, region in zip(axes.flat, regions, strict=False):
        group = by_region.get_group(region)
        matrix = group.pivot_table(
            index="date", columns=["scenario", "replication"], values="value", aggfunc="first", observed=True
        )
        for scenario in scenarios:
            if scenario not in matrix.columns.get_level_values("scenario"):
                continue
            bands = quantile_bands(matrix[scenario])
            if shade or scenario == baseline:
                ax.fill_between(bands.index, bands["p05"], bands["p95"], color=colors[scenario], alpha=0.15)
            ax.plot(bands.index, bands["p50"], color=colors[scenario], lw=1.1, label=scenario)
        ax.set_title(region, fontsize=8)
        ax.set_xlim(first, last)
        ax.set_ylim(0, 100)
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(regions) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    titled(fig, "Residents with a wallet (%), median and 90% band over replications", title)
    if handles and len(labels) <= LEGEND_UP_TO:
        fig.legend(handles, labels, loc="lower center", ncol=min(5, len(labels)), fontsize=8, frameon=False)
        fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    else:
        fig.tight_layout(rect=(0, 0, 1, 0.97))
    return _save(fig, out / "regions_small_multiples.png")


def plot_sweep(
    folder: str | Path, out: str | Path | None = None, baseline: str = BASELINE, svg: bool = False
) -> list[Path]:
    """Write fan_charts.png, differences.png, regions_small_multiples.png and summary.csv; return them.

    ``out`` defaults to the sweep folder itself. SVG copies of the figures with ``svg``.
    """
    store = open_store(folder)
    out = Path(out) if out else store.folder
    out.mkdir(parents=True, exist_ok=True)
    manifest = store.read_manifest()
    title = manifest.get("description") or manifest.get("sweep") or store.folder.name
    # national fans and regional shares from one read of each run file
    _, runs = load_results(store.folder, metrics=[*FAN_METRICS, "citizens_with_wallet", "population"])
    if runs.empty:
        raise_empty(store.folder)
    national = runs[runs["region"] == "national"]
    scenarios = national["scenario"].astype(str).unique()
    written = []

    name = store.folder.name
    same = "".join(f"; {alias} = {twin}" for alias, twin in manifest.get("aliases", {}).items())
    fig, axes = _grid_figure(f"Sweep '{name}': median, 50% and 90% bands over replications", f"{title}{same}")
    for ax, (metric, (label, divisor, unit)) in zip(axes.flat, FAN_METRICS.items(), strict=True):
        fan_chart(ax, national, metric, baseline=baseline, divisor=divisor)
        ax.set_title(label, fontsize=10)
        ax.set_ylabel(unit)
    _finish(fig, axes, axes.flat[0], len(scenarios) + 1)
    written.append(_save(fig, out / "fan_charts.png", svg))

    if baseline in scenarios and len(scenarios) > 1:
        fig, axes = _grid_figure(f"Sweep '{name}': scenario minus {baseline}, paired by seed", title)
        for ax, (metric, (label, divisor, unit)) in zip(axes.flat, FAN_METRICS.items(), strict=True):
            difference_chart(ax, national, metric, baseline=baseline, divisor=divisor)
            ax.set_title(f"{label}: difference", fontsize=10)
            ax.set_ylabel(unit)
        _finish(fig, axes, axes.flat[0], len(scenarios))
        written.append(_save(fig, out / "differences.png", svg))

    written.append(region_multiples(runs, out, title, baseline))
    del runs, national
    summary = summarize(store.folder, baseline=baseline)
    summary_path = out / "summary.csv"
    summary.to_csv(summary_path, index=False, float_format="%.6g")
    written.append(summary_path)
    return written


def raise_empty(folder: Path) -> None:
    from ..errors import InputError

    raise InputError(f"{folder}: no finished runs to plot yet (run or --resume the sweep)")


def _save(fig, path: Path, svg: bool = False) -> Path:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    if svg:
        fig.savefig(path.with_suffix(".svg"), bbox_inches="tight")
    plt.close(fig)
    return path
