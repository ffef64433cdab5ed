"""Figures of the analyses (matplotlib, PNG): Morris tornado, Sobol bars, convergence, PRIM peeling
trajectory, CART tree, attribution stacked areas, paired differences of a comparison.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

DPI = 100
UNITS = ((1e9, "billions"), (1e6, "millions"), (1e3, "thousands"))


def _save(fig, path: Path, dpi: int = DPI) -> Path:
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def _panels(
    count: int, width: float = 6.0, height: float = 3.6, columns: int = 2, layout: str | None = "constrained"
):
    """A grid of ``count`` axes (constrained layout is slow for large grids: pass ``layout=None``)."""
    columns = min(columns, count)
    rows = -(-count // columns)
    size = (width * columns, height * rows)
    fig, axes = plt.subplots(rows, columns, figsize=size, squeeze=False, layout=layout)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def sensitivity_figures(indices: pd.DataFrame, convergence: pd.DataFrame, folder: Path) -> list[Path]:
    written = []
    if (indices["method"] == "morris").any():
        written.append(tornado(indices[indices["method"] == "morris"], folder / "morris_tornado.png"))
    if (indices["method"] == "sobol").any():
        written.append(sobol_bars(indices[indices["method"] == "sobol"], folder / "sobol_indices.png"))
    written.append(convergence_chart(convergence, folder / "convergence.png"))
    return written


def tornado(morris: pd.DataFrame, path: Path) -> Path:
    """Per outcome: inputs sorted by mu* (bars, 95% whiskers); signed mu as a dot (direction)."""
    outcomes = list(dict.fromkeys(morris["outcome"]))
    fig, axes = _panels(len(outcomes), height=0.4 * morris["input"].nunique() + 1.5)
    for ax, outcome in zip(axes, outcomes, strict=True):
        rows = morris[morris["outcome"] == outcome].pivot(index="input", columns="index", values="value")
        conf = morris[(morris["outcome"] == outcome) & (morris["index"] == "mu_star")].set_index("input")[
            "conf"
        ]
        rows = rows.sort_values("mu_star")
        top = float(rows["mu_star"].abs().max())
        scale, unit = next(((s, u) for s, u in UNITS if top >= s), (1.0, ""))
        y = np.arange(len(rows))
        whiskers = conf.reindex(rows.index) / scale
        ax.barh(y, rows["mu_star"] / scale, xerr=whiskers, color="#4C72B0", alpha=0.8, label="mu*")
        ax.scatter(rows["mu"] / scale, y, color="#C44E52", zorder=3, s=18, label="mu (signed)")
        ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(y, rows.index)
        ax.set_title(outcome, fontsize=10)
        ax.set_xlabel(f"effect of moving the input across its range{f' ({unit})' if unit else ''}")
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("Morris screening: mean absolute elementary effect mu* (95% bootstrap whiskers)")
    return _save(fig, path)


def sobol_bars(sobol: pd.DataFrame, path: Path) -> Path:
    """Per outcome: S1 and ST per input with their 95% intervals, inputs sorted by ST."""
    outcomes = list(dict.fromkeys(sobol["outcome"]))
    fig, axes = _panels(len(outcomes), height=0.4 * sobol["input"].nunique() + 1.5)
    for ax, outcome in zip(axes, outcomes, strict=True):
        rows = sobol[sobol["outcome"] == outcome]
        value = rows.pivot(index="input", columns="index", values="value").sort_values("ST")
        conf = rows.pivot(index="input", columns="index", values="conf").reindex(value.index)
        y = np.arange(len(value))
        ax.barh(y + 0.2, value["ST"], 0.4, xerr=conf["ST"], color="#4C72B0", label="total order ST")
        ax.barh(y - 0.2, value["S1"], 0.4, xerr=conf["S1"], color="#DD8452", label="first order S1")
        ax.set_yticks(y, value.index)
        ax.set_xlim(left=min(0.0, float(np.nanmin(value.to_numpy() - conf.to_numpy()))))
        ax.set_title(outcome, fontsize=10)
        ax.set_xlabel("share of the outcome's variance")
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("Sobol indices with 95% bootstrap intervals")
    return _save(fig, path)


def convergence_chart(convergence: pd.DataFrame, path: Path) -> Path:
    """Sobol ST (and Morris mu*, scaled to its largest) against the number of base samples."""
    keys = list(dict.fromkeys(zip(convergence["method"], convergence["outcome"], strict=True)))
    fig, axes = _panels(len(keys))
    for ax, (method, outcome) in zip(axes, keys, strict=True):
        index = "ST" if method == "sobol" else "mu_star"
        rows = convergence[(convergence["method"] == method) & (convergence["outcome"] == outcome)]
        rows = rows[rows["index"] == index]
        top = rows["value"].abs().max() if method == "morris" else 1.0
        top = top or 1.0
        for name, group in rows.groupby("input", sort=False):
            group = group.sort_values("samples")
            line = ax.plot(group["samples"], group["value"] / top, marker="o", ms=3, label=name)[0]
            ax.fill_between(
                group["samples"], group["low"] / top, group["high"] / top, color=line.get_color(), alpha=0.12
            )
        ax.set_xscale("log", base=2)
        ax.set_xlabel("base samples" if method == "sobol" else "trajectories")
        ax.set_ylabel("ST" if method == "sobol" else "mu* / largest mu*")
        ax.set_title(f"{method}: {outcome}", fontsize=10)
    axes[0].legend(fontsize=7, ncol=2)
    fig.suptitle("Convergence: indices recomputed on the first n samples (bands: 95% intervals)")
    return _save(fig, path)


def peeling_trajectory(box, chosen: int, path: Path) -> Path:
    """EMA Workbench's coverage-density trade-off of the PRIM peeling trajectory, the chosen box ringed."""
    fig = box.show_tradeoff()
    ax = fig.axes[0]
    row = box.peeling_trajectory.loc[chosen]
    label = f"box {chosen}: coverage {row['coverage']:.2f}, density {row['density']:.2f}"
    ax.scatter(
        [row["coverage"]], [row["density"]], s=160, facecolors="none", edgecolors="red", lw=2, label=label
    )
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("PRIM peeling trajectory (colour: restricted dimensions)")
    fig.set_size_inches(7, 5)
    return _save(fig, path)


def cart_tree(tree, names: list[str], path: Path) -> Path:
    """The CART decision tree (scikit-learn's plot_tree)."""
    from sklearn.tree import plot_tree

    leaves = tree.get_n_leaves()
    fig, ax = plt.subplots(figsize=(max(8.0, 2.2 * leaves), 1.8 * tree.get_depth() + 2), layout="constrained")
    classes = ["misses goal", "meets goal"] if len(tree.classes_) == 2 else [str(c) for c in tree.classes_]
    plot_tree(tree, feature_names=names, class_names=classes, filled=True, proportion=True, fontsize=7, ax=ax)
    ax.set_title("CART: which lever ranges meet the goal")
    return _save(fig, path)


def _stacked(ax, wide: pd.DataFrame, parts: list[str], colors: dict[str, str], scale: float) -> None:
    """Parts (columns of ``wide``, dates down) stacked over time: positive parts above zero, negative below;
    the total as a line."""
    dates = pd.to_datetime(wide.index)
    up = np.zeros(len(wide))
    down = np.zeros(len(wide))
    for part in parts:
        values = wide[part].to_numpy() / scale
        pos, neg = np.clip(values, 0, None), np.clip(values, None, 0)
        ax.fill_between(dates, up, up + pos, color=colors[part], lw=0, label=part)
        ax.fill_between(dates, down, down + neg, color=colors[part], lw=0)
        up, down = up + pos, down + neg
    ax.plot(dates, wide["total"].to_numpy() / scale, color="black", lw=1.2, label="total (the scenario)")


def attribution_charts(tidy: pd.DataFrame, spec, folder: Path) -> list[Path]:
    """National stacked areas (one panel per metric) and per-region small multiples of each metric."""
    from .attribution import NONE

    parts = [NONE, *(d.name for d in spec.drivers)]
    palette = plt.get_cmap("tab10")
    colors = {p: ("#bbbbbb" if p == NONE else palette(i % 10)) for i, p in enumerate(parts)}
    written = []
    fig, axes = _panels(len(spec.metrics))
    regions = [r for r in dict.fromkeys(tidy["region"]) if r != "national"]
    for ax, metric in zip(axes, spec.metrics, strict=True):
        wide = tidy[tidy["metric"] == metric].pivot_table(
            index="date", columns=["region", "part"], values="mean", aggfunc="first"
        )
        scale, unit = (1e9, "billions") if wide["national"].abs().max().max() > 1e10 else (1e6, "millions")
        _stacked(ax, wide["national"], parts, colors, scale)
        ax.set_title(f"{metric} (national, {unit})", fontsize=10)
        grid, cells = _panels(len(regions), width=2.6, height=1.9, columns=6, layout=None)
        for cell, region in zip(cells, regions, strict=True):
            _stacked(cell, wide[region], parts, colors, scale)
            cell.set_title(region, fontsize=8)
            cell.tick_params(labelsize=6)
            cell.xaxis.set_major_locator(mdates.YearLocator())
            cell.xaxis.set_major_formatter(mdates.DateFormatter("%y"))
        cells[0].legend(fontsize=5, loc="upper left")
        grid.suptitle(f"Attribution of {metric} by region ({unit})")
        grid.subplots_adjust(hspace=0.45, wspace=0.3, top=0.95)
        written.append(_save(grid, folder / f"attribution_regions_{metric.replace(':', '_')}.png", dpi=72))
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Attribution: {spec.method} (mean over {spec.replications} paired seeds)")
    written.insert(0, _save(fig, folder / "attribution_national.png"))
    return written


def compare_charts(runs: pd.DataFrame, spec, folder: Path) -> list[Path]:
    """Levels of A and B (fan charts) and the paired difference B - A, one panel per metric."""
    from ..sweep.fanplots import difference_chart, fan_chart

    written = []
    for name, draw in (("levels", fan_chart), ("paired_differences", difference_chart)):
        fig, axes = _panels(len(spec.metrics))
        for ax, metric in zip(axes, spec.metrics, strict=True):
            top = runs.loc[runs["metric"] == metric, "value"].abs().max()
            scale, unit = (1e9, "billions") if top > 1e10 else (1e6, "millions")
            draw(ax, runs, metric, baseline=spec.labels[0], divisor=scale)
            ax.set_title(f"{metric} (national, {unit})", fontsize=10)
        axes[0].legend(fontsize=7, loc="upper left")
        what = "levels: median, 50% and 90% bands" if name == "levels" else "B - A, seed by seed"
        fig.suptitle(f"{spec.labels[1]} vs {spec.labels[0]}: {what} ({spec.replications} pairs)")
        written.append(_save(fig, folder / f"compare_{name}.png"))
    return written
