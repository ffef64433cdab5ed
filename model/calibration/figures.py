"""The calibration report's plots (matplotlib PNG, small): fit per target, paths, traces, profiles."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.dates import ConciseDateFormatter
from matplotlib.ticker import NullFormatter

from ..plots import mark_data_end
from .identifiability import DELTA
from .parameters import Param
from .targets import TOLERANCE, Target

DPI = 90
PATH_METRICS = {
    "personal_wallets_opened": ("personal wallets opened", 1e6, "million"),
    "transactions_cumulative": ("transactions, cumulative", 1e6, "million"),
    "transaction_value_cumulative": ("transaction value, cumulative", 1e9, "billion yuan"),
    "acceptance_scenarios": ("acceptance points (scenarios)", 1e6, "million"),
}


def _save(fig, path: Path, dpi: int = DPI) -> Path:
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def fit(values: dict[str, list[float]], targets: list[Target], path: Path, title: str) -> Path:
    """Model / published per target: every replication, the 90% band, the median, the +/-15% tolerance."""
    fig, ax = plt.subplots(figsize=(9, 4.2))
    ax.axhspan(1 - TOLERANCE, 1 + TOLERANCE, color="C2", alpha=0.15, label=f"tolerance +/-{TOLERANCE:.0%}")
    ax.axhline(1.0, color="black", lw=0.8)
    for k, t in enumerate(targets):
        ratio = np.asarray(values[t.key], dtype=np.float64) / t.value
        lo, med, hi = np.quantile(ratio, [0.05, 0.5, 0.95])
        ax.plot([k, k], [lo, hi], color="C0", lw=6, alpha=0.45, solid_capstyle="butt")
        jitter = np.linspace(-0.12, 0.12, ratio.size)
        ax.scatter(k + jitter, ratio, s=6, color="C0", alpha=0.6)
        ax.scatter([k], [med], marker="_", s=300, color="C3", zorder=5)
    ax.plot([], [], color="C0", lw=6, alpha=0.45, label="90% of replications")
    ax.scatter([], [], marker="_", s=300, color="C3", label="median")
    labels = [t.key.replace("@", "\n").replace("lottery_", "lottery\n") for t in targets]
    ax.set_xticks(range(len(targets)), labels, fontsize=7)
    ax.set_ylabel("model / published")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path)


def paths(
    series: list[pd.DataFrame], targets: list[Target], path: Path, title: str, checks: tuple[Target, ...] = ()
) -> Path:
    """National paths (median and 90% band over replications) with the published figures; ``checks``
    (out-of-sample figures, never fitted) as open markers."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.2), sharex=True)
    for ax, (metric, (label, divisor, unit)) in zip(axes.flat, PATH_METRICS.items(), strict=True):
        stack = np.stack([s[metric].to_numpy(np.float64) for s in series]) / divisor
        dates = pd.to_datetime(series[0].index)
        lo, med, hi = np.quantile(stack, [0.05, 0.5, 0.95], axis=0)
        ax.fill_between(dates, lo, hi, color="C0", alpha=0.25, label="90% of replications")
        ax.plot(dates, med, color="C0", label="median")
        for t in targets:
            if t.metric == metric and t.scope == "national":
                ax.errorbar(
                    [pd.Timestamp(t.date)],
                    [t.value / divisor],
                    yerr=[[TOLERANCE * t.value / divisor]] * 2,
                    fmt="D",
                    color="black",
                    ms=5,
                    capsize=3,
                    label="published (+/-15%)",
                )
        for t in checks:
            if t.metric == metric:
                ax.scatter(
                    [pd.Timestamp(t.date)],
                    [t.value / divisor],
                    marker="o",
                    s=40,
                    facecolors="none",
                    edgecolors="C3",
                    zorder=6,
                    label="published Oct 2021 (not fitted)",
                )
        mark_data_end(ax, label=False)
        ax.set_title(label, fontsize=9)
        ax.set_ylabel(unit, fontsize=8)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    axes.flat[0].legend(unique.values(), unique.keys(), fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def traces(trials: pd.DataFrame, params: tuple[Param, ...], fitted: dict[str, float], path: Path) -> Path:
    """Each parameter's value by trial number, coloured by the trial's loss (dark = low, with a colour
    bar), the fit as a red line; first panel: the loss with its best so far."""
    n = len(params) + 1
    cols = 4
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(15, 2.9 * rows), squeeze=False)
    flat = list(axes.flat)
    loss = np.maximum(trials["loss"].to_numpy(np.float64), 1e-4)
    order = np.argsort(-loss)  # lowest loss drawn last, on top
    norm = LogNorm(vmin=loss.min(), vmax=max(loss.max(), loss.min() * 1.01))
    ax = flat[0]
    ax.scatter(trials["trial"], loss, s=4, color="0.6")
    ax.plot(trials["trial"], np.minimum.accumulate(loss), color="C3", lw=1.4)
    ax.set_yscale("log")
    ax.set_title("loss (red: best so far)", fontsize=10)
    dots = None
    for ax, p in zip(flat[1:], params, strict=False):
        dots = ax.scatter(
            trials["trial"].to_numpy()[order],
            trials[p.name].to_numpy()[order],
            s=4,
            c=loss[order],
            cmap="viridis",
            norm=norm,
        )
        ax.axhline(fitted[p.name], color="C3", lw=1.2)
        if p.log:
            ax.set_yscale("log")
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(p.low, p.high)
        ax.set_title(p.name, fontsize=10)
    for ax in flat:
        ax.tick_params(labelsize=8)
    for ax in flat[n:]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("trial", fontsize=8)
    fig.suptitle(
        "Parameter traces: value by trial, coloured by the trial's loss "
        "(dark purple = low loss, yellow = high); red line = the fit",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0, 0.94, 0.97))
    if dots is not None:
        bar = fig.colorbar(dots, cax=fig.add_axes((0.95, 0.15, 0.012, 0.7)))
        bar.set_label("loss (log scale)", fontsize=9)
    return _save(fig, path, dpi=80)


def profiles(prof: pd.DataFrame, params: tuple[Param, ...], fitted: dict[str, float], path: Path) -> Path:
    """Loss rise against each parameter moved alone from the fit, with the ``DELTA`` threshold."""
    cols = 6
    rows = int(np.ceil(len(params) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(15, 2.2 * rows), sharey=True)
    for ax, p in zip(axes.flat, params, strict=False):
        pts = prof[prof["parameter"] == p.name].sort_values("value")
        x = np.append(pts["value"].to_numpy(), fitted[p.name])
        y = np.append(pts["delta"].to_numpy(), 0.0)
        k = np.argsort(x)
        ax.plot(x[k], np.maximum(y[k], 1e-4), marker="o", ms=3)
        ax.axhline(DELTA, color="C3", lw=0.8, ls="--")
        ax.axvline(fitted[p.name], color="0.5", lw=0.8)
        if p.log:
            ax.set_xscale("log")
        ax.minorticks_off()
        ticks = [x.min(), fitted[p.name], x.max()]
        ax.set_xticks(ticks, [f"{v:.3g}" for v in ticks])
        ax.set_yscale("log")
        ax.set_title(p.name, fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(params) :]:
        ax.axis("off")
    fig.suptitle(f"Profiles: loss rise with one parameter moved (dashed: {DELTA})", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
