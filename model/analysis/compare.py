"""``run.py compare A.toml B.toml``: B minus A, seed by seed, for the main outcomes, on one page.

Both scenarios run on the same replication seeds (``SeedSequence(A's run.seed).spawn(n)``, as in every
sweep), so the difference of a pair keeps the effect of what differs and cancels the shared noise. With
``ensemble``, replication r also draws a parameter set (a member of ``scenarios/ensemble.csv``, by
weight, from the same root seed) applied to both A and B: the intervals then hold parameter uncertainty
as well as the model's own noise, and every pair still shares its seed and its parameters. The runs go
through the sweep machinery (``<folder>/runs``: local processes or Dask, resumable). Writes the paired
differences over time (median, 50% and 90% bands), a table at chosen dates, the fiscal cost per
additional app wallet and active user (``cost_per_additional``), the levers that differ
(``levers_differ.csv``, also ``run.py diff``), the figures and ``report.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..ensemble import ENSEMBLE as ENSEMBLE
from ..scenario import load_scenario
from ..sweep import BASELINE, Keep, Point, table_sweep
from ..sweep.analysis import load_results, paired_differences, quantile_bands, run_matrix
from .diff import scenario_diff
from .folder import AnalysisFolder, Options, folder_name
from .outcomes import Outcome, check_date, check_metric, probe
from .spec import Checker

FISCAL = "fiscal_cost_cumulative"
# what an incentive buys: its fiscal cost per additional app wallet and per additional active user
COST_PER = ("app_wallets_opened", "active_users")


@dataclass(frozen=True)
class CompareSpec:
    a: Path
    b: Path
    labels: tuple[str, str]
    name: str
    replications: int
    root_seed: int
    metrics: tuple[str, ...]
    dates: tuple[date, ...]
    overrides: dict[str, Any]
    members: tuple[dict[str, Any], ...] | None  # per replication, when over an ensemble
    ensemble: Path | None
    levers: pd.DataFrame


def load_compare(
    a: str | Path,
    b: str | Path,
    seeds: int = 10,
    metrics: list[str] | None = None,
    dates: list[date] | None = None,
    ensemble: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> CompareSpec:
    """Check both scenarios, the metrics, dates and ensemble before anything runs."""
    from ..ensemble import load_ensemble
    from .report import OUTCOMES, main_outcomes

    a, b, overrides = Path(a), Path(b), dict(overrides or {})
    first, second = load_scenario(a, overrides), load_scenario(b, overrides)
    default_metrics, default_dates = main_outcomes()
    metrics, dates = list(metrics or default_metrics), list(dates or default_dates)
    for source in (a, b):  # a metric or date must exist in both runs
        found = probe(source, overrides)
        for metric in metrics:
            check_metric(Checker(OUTCOMES if metrics == default_metrics else Path("(--metrics)")), "metrics",
                         metric, "national", found)  # fmt: skip
        for day in dates:
            check_date(Checker(Path(f"(--dates, {source.name})")), "dates", day, found)
    labels = (first.name, second.name) if first.name != second.name else (a.stem, b.stem)
    if labels[0] == labels[1]:
        labels = (f"A: {labels[0]}", f"B: {labels[1]}")
    members = None
    if ensemble is not None:
        table = load_ensemble(ensemble, a)
        load_ensemble(ensemble, b)
        members = tuple(table.overrides(seeds, first.run.seed))
    levers = scenario_diff(first, second).rename(columns={"a": labels[0], "b": labels[1]})
    suffix = "_ensemble" if ensemble is not None else ""
    return CompareSpec(
        a, b, labels, folder_name(f"compare_{labels[0]}_vs_{labels[1]}{suffix}"),
        seeds, first.run.seed, tuple(metrics), tuple(dates), overrides, members,
        Path(ensemble) if ensemble is not None else None, levers,
    )  # fmt: skip


def kept_metrics(spec: CompareSpec) -> tuple[str, ...]:
    """The metrics asked for, and those the cost per additional wallet and user is computed from."""
    return tuple(dict.fromkeys((*spec.metrics, FISCAL, *COST_PER)))


def compare_sweep(spec: CompareSpec):
    keep = Keep(metrics=kept_metrics(spec), regions=("national",))
    common = dict(
        method="compare",
        overrides=spec.overrides,
        keep=keep,
        description=f"{spec.labels[1]} - {spec.labels[0]}",
    )
    if spec.members is None:
        points = [Point(spec.labels[1], {}, {"scenario_file": spec.b.name}, source=spec.b)]
        return table_sweep("runs", spec.a, spec.a, points, spec.replications, spec.root_seed, **common)
    points, runs, seen = [], [], {}
    for r, member in enumerate(spec.members):
        key = repr(sorted(member.items()))
        m = seen.setdefault(key, len(seen))
        if m == len(points) // 2:
            levers = {"member": m, **member}
            points.append(Point(f"{spec.labels[0]} m{m:04d}", member, levers, source=spec.a))
            points.append(Point(f"{spec.labels[1]} m{m:04d}", member, levers, source=spec.b))
        runs += [(f"{spec.labels[0]} m{m:04d}", r), (f"{spec.labels[1]} m{m:04d}", r)]
    return table_sweep("runs", spec.a, spec.a, points, spec.replications, spec.root_seed, runs=runs, **common)


def _roles(runs: pd.DataFrame, spec: CompareSpec) -> pd.DataFrame:
    """Each run labelled A or B (ensemble members folded in: one A and one B per replication)."""
    a, b = spec.labels
    names = runs["scenario"].astype(str)
    role = np.where(names.eq(BASELINE) | names.str.startswith(f"{a} m"), a, b)
    return runs.assign(scenario=pd.Categorical(role, categories=[a, b]))


def _pairs(runs: pd.DataFrame, spec: CompareSpec, metric: str, day: date) -> tuple[np.ndarray, np.ndarray]:
    """A's and B's national ``metric`` on ``day``, one entry per replication both have."""
    a, b = spec.labels
    outcome = Outcome(metric, "national", day)
    frame = runs[runs["metric"] == metric]
    values = {
        (s, r): outcome.read(g) for (s, r), g in frame.groupby(["scenario", "replication"], observed=True)
    }
    reps = sorted({r for (_, r) in values if (a, r) in values and (b, r) in values})
    return np.array([values[(a, r)] for r in reps]), np.array([values[(b, r)] for r in reps])


def cost_table(runs: pd.DataFrame, spec: CompareSpec) -> pd.DataFrame:
    """Per date: B's extra fiscal cost per additional app wallet and per additional active user.

    cost per additional X = mean paired difference in cumulative fiscal cost / mean paired difference in X
    (a ratio of means: one pair with almost no effect cannot blow it up). Empty (NaN) when B does not
    change the fiscal cost (no incentive differs) or does not change X."""
    rows = []
    for day in spec.dates:
        fa, fb = _pairs(runs, spec, FISCAL, day)
        cost = float((fb - fa).mean())
        for metric in COST_PER:
            xa, xb = _pairs(runs, spec, metric, day)
            gain = float((xb - xa).mean())
            rows.append({
                "per additional": metric, "date": day.isoformat(), "pairs": len(xa),
                "fiscal cost difference mean": cost, "difference mean": gain,
                "yuan per additional": cost / gain if cost != 0 and gain != 0 else np.nan,
            })  # fmt: skip
    return pd.DataFrame(rows)


def difference_table(runs: pd.DataFrame, spec: CompareSpec) -> pd.DataFrame:
    """Per metric and date: A and B (median, 90%), and the paired difference B - A with its interval."""
    a, b = spec.labels
    rows = []
    for metric in spec.metrics:
        for day in spec.dates:
            va, vb = _pairs(runs, spec, metric, day)
            d = vb - va
            q = lambda x, p: float(np.quantile(x, p))  # noqa: E731
            rows.append({
                "metric": metric, "date": day.isoformat(), "pairs": len(va),
                f"{a} median": q(va, 0.5), f"{b} median": q(vb, 0.5),
                "difference mean": float(d.mean()), "difference median": q(d, 0.5),
                "difference p05": q(d, 0.05), "difference p95": q(d, 0.95),
                "std error": float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else np.nan,
                "relative %": 100 * float(d.mean() / va.mean()) if va.mean() else np.nan,
            })  # fmt: skip
    return pd.DataFrame(rows)


def bands_over_time(runs: pd.DataFrame, spec: CompareSpec) -> pd.DataFrame:
    """metric, date and the quantiles of the paired difference B - A over replications."""
    frames = []
    for metric in spec.metrics:
        diff = paired_differences(run_matrix(runs, metric), spec.labels[0])
        bands = quantile_bands(diff[spec.labels[1]]).reset_index()
        frames.append(bands.assign(metric=metric))
    return pd.concat(frames, ignore_index=True)


def run_compare(spec: CompareSpec, out: str | Path = "results", options: Options | None = None) -> Path:
    from . import figures
    from .report import write_report

    options = options or Options()
    folder = AnalysisFolder(out, spec.name, "compare")
    folder.prepare(options)
    sweep_folder = folder.run(compare_sweep(spec), options)
    _, runs = load_results(sweep_folder, metrics=list(kept_metrics(spec)), regions=["national"])
    runs = _roles(runs, spec)
    folder.clear_outputs()
    folder.write_table(spec.levers, "levers_differ")
    folder.write_table(difference_table(runs, spec), "differences_at_dates")
    folder.write_table(cost_table(runs, spec), "cost_per_additional")
    folder.write_table(bands_over_time(runs, spec), "differences")
    figures.compare_charts(runs, spec, folder.path)
    what = f"{spec.labels[1]} ({spec.b}) minus {spec.labels[0]} ({spec.a}), paired by seed"
    folder.write_manifest(
        None, {}, description=what,
        a=str(spec.a), b=str(spec.b), replications=spec.replications, metrics=list(spec.metrics),
        ensemble=str(spec.ensemble) if spec.ensemble else None, key_table="differences_at_dates",
        members=list(spec.members) if spec.members else None,
    )  # fmt: skip
    write_report(folder.path)
    return folder.path
