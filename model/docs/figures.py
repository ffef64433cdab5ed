"""The figures the README shows, drawn from the shipped model and stamped with what they depend on.

``make figures`` (``python -m model.docs``) calls ``write_figures``. Each figure is a function of the
scenario files it shows, a scale and seeds stated in its caption (``Settings``); the PNG carries
``provenance.digest`` of the model and those files, so ``tests/test_readme_figures.py`` can tell, without
running anything, that a figure is older than the model it shows. ``FIGURES`` is the registry both read.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import provenance

ROOT = provenance.ROOT
BASELINE = "scenarios/baseline.toml"
MILLION = 1e6


@dataclass(frozen=True)
class Settings:
    """Scale (residents per agent) and seeds of the generated figures; the README captions state them."""

    scale: float = 5000  # the baseline's own run.scale
    lever_scale: float = 20_000
    lever_seeds: int = 5
    whatif_scale: float = 5000  # B2B starts in a city with its first business agents: coarser is noisier
    whatif_seeds: int = 8
    workers: int = 2


# the levers of the ranking (notebook 03's): one move each, to a value a policy maker might argue for
LEVERS = {
    "pilot waves 3 and 4 one year later": {"pilot.waves.3": "2023-04-01", "pilot.waves.4": "2023-12-16"},
    "six state banks only (operator_count 6)": {"banks.operator_count": 6},
    "bank target intensity x2": {"banks.target_intensity": 2.0},
    "no lotteries (budget x0)": {"incentives.lottery_budget_multiplier": 0.0},
    "lotteries x5": {"incentives.lottery_budget_multiplier": 5.0},
    "incumbent merchant fee doubled (1.2%)": {"incumbents.merchant_fee": 0.012},
    "government payroll share 30%": {"government.payroll_share": 0.3},
    "no interoperability with Alipay/WeChat": {"incumbents.interoperability_date": "never"},
}


def s_curve(path: Path, settings: Settings) -> Path:
    """The baseline's national S-curve (one run, the baseline's seed, at ``settings.scale``)."""
    from .. import EcnyModel, load_scenario, plots

    scenario = load_scenario(ROOT / BASELINE, {"run.scale": settings.scale})
    frame = EcnyModel(scenario).run().timeseries()
    with tempfile.TemporaryDirectory() as tmp:
        drawn = plots.national_s_curve(frame, Path(tmp), f"baseline, seed {scenario.run.seed}, "
                                       f"{settings.scale:,.0f} residents per agent")  # fmt: skip
        shutil.copyfile(drawn, path)
    return provenance.stamp_png(path, FIGURES[path.name].shows)


def lever_ranking(comparisons: dict[str, pd.Series], level: float = 0.90) -> pd.DataFrame:
    """Per lever: the mean paired effect and its two-sided ``level`` Student-t interval (few seeds), in
    millions, largest effect first. ``comparisons``: lever -> per-seed paired difference."""
    from scipy import stats

    rows = []
    for lever, values in comparisons.items():
        n, mean = len(values), float(values.mean())
        half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        rows.append({"lever": lever, "effect_m": mean / MILLION, "ci90_low_m": (mean - half) / MILLION,
                     "ci90_high_m": (mean + half) / MILLION})  # fmt: skip
    return pd.DataFrame(rows).set_index("lever").sort_values("effect_m", key=abs, ascending=False)


def levers_ranked(path: Path, settings: Settings) -> Path:
    """Notebook 03's ranking: each lever's paired effect on active users averaged over the weeks of 2025."""
    import matplotlib.pyplot as plt
    from tqdm import tqdm

    from .. import load_scenario
    from ..dashboard import paired_runs
    from ..executors import open_executor

    base = load_scenario(ROOT / BASELINE)
    effects = {}
    with open_executor(workers=settings.workers) as pool:
        for name, overrides in tqdm(LEVERS.items(), desc="levers ranked", unit="lever"):
            variant = load_scenario(ROOT / BASELINE, overrides)
            pair = paired_runs(base, variant, settings.lever_seeds, settings.lever_scale, executor=pool)
            effects[name] = pair.effect("active_users", year=2025)
    ranking = lever_ranking(effects)
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(ranking) + 1))
    order = ranking.iloc[::-1]
    errors = np.vstack([order["effect_m"] - order["ci90_low_m"], order["ci90_high_m"] - order["effect_m"]])
    colors = ["C2" if x > 0 else "C3" for x in order["effect_m"]]
    ax.barh(order.index, order["effect_m"], xerr=np.nan_to_num(errors), color=colors, capsize=3)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel(f"change in 2025 active users, millions (mean of {settings.lever_seeds} paired seeds, "
                  f"90% CI; {settings.lever_scale:,.0f} residents per agent)")  # fmt: skip
    ax.set_title("Levers ranked by their effect on active users in 2025")
    ax.grid(axis="x", alpha=0.3)
    stamp = provenance.png_metadata(FIGURES[path.name].shows)
    fig.savefig(path, dpi=100, bbox_inches="tight", metadata=stamp)
    plt.close(fig)
    return path


def dashboard(path: Path, settings: Settings) -> Path:
    """The dashboard after a run with the banks' target intensity doubled (Debian's chromium)."""
    from .screenshot import dashboard_screenshot

    dashboard_screenshot(path)
    return provenance.stamp_png(path, FIGURES[path.name].shows)


@dataclass(frozen=True)
class Figure:
    draw: Callable[[Path, Settings], Path]
    shows: tuple[str, ...]  # the scenario files it shows, besides the model (relative to ROOT)


FIGURES: dict[str, Figure] = {
    "tour_s_curve.png": Figure(s_curve, (BASELINE,)),
    "tour_levers_ranked.png": Figure(levers_ranked, (BASELINE,)),
    "tour_dashboard.png": Figure(dashboard, (BASELINE,)),
}


def write_figures(
    settings: Settings, names: list[str] | None = None, folder: Path = ROOT / "docs"
) -> list[Path]:
    """Draw the README figures ``names`` (all by default) into ``folder``; return the files written."""
    written = []
    for name in list(FIGURES) if names is None else names:
        print(f"drawing docs/{name}", flush=True)
        written.append(FIGURES[name].draw(folder / name, settings))
    return written
