"""Attribution (``run.py attribute SCENARIO``): how much of each outcome is due to each driver.

A driver is a mechanism that scenario overrides can switch off (``scenarios/analysis/drivers.toml``).
For a coalition S of drivers left on (the others off), v(S) is an outcome of the run -- per metric,
region and date, per paired seed. The scenario itself is v(all); v(none) is what is left with every
driver off. Shapley's value splits the difference among the drivers,

    phi_i = sum over S not holding i of |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S)),

which is the mean, over every order of switching the drivers on, of what driver i adds when it comes on.
So ``v(none) + sum_i phi_i = v(all)`` exactly: the parts add up to the total (checked and recorded).
With n <= ``EXACT_UP_TO`` drivers every one of the 2^n coalitions runs; with more, ``permutations``
random orders (seeded) are drawn and phi_i is the mean of driver i's marginal contribution along them
(the prefixes of each order are the coalitions that run); the parts still add up exactly, order by
order. Coalitions run on the sweep machinery (``<folder>/coalitions``) with common random numbers, so a
difference between two coalitions is the drivers' effect, not noise; the bands are the 5% and 95%
quantiles of the per-seed values.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..scenario import ScenarioError, load_scenario
from ..sweep import BASELINE, Keep, Point, table_sweep
from ..sweep.spec import flatten
from .folder import AnalysisFolder, Options, folder_name
from .outcomes import probe
from .spec import Checker

ROOT = Path(__file__).resolve().parents[2]
DRIVERS = ROOT / "scenarios" / "analysis" / "drivers.toml"
EXACT_UP_TO = 8  # 2^8 = 256 coalitions x seeds; beyond, sampled permutations
NONE = "none of these drivers"  # v(empty coalition): the part no driver explains


@dataclass(frozen=True)
class Driver:
    name: str
    description: str
    off: dict[str, Any]


@dataclass(frozen=True)
class AttributionSpec:
    scenario: Path
    name: str
    drivers: tuple[Driver, ...]
    drivers_file: Path
    metrics: tuple[str, ...]
    dates: tuple[date, ...]
    replications: int
    root_seed: int
    overrides: dict[str, Any]
    permutations: int  # 0: exact
    method: str

    def coalitions(self) -> list[frozenset[int]]:
        """The coalitions (sets of driver indices left on) that must run."""
        n = len(self.drivers)
        if not self.permutations:
            return [frozenset(c) for k in range(n + 1) for c in combinations(range(n), k)]
        found: dict[frozenset[int], None] = {}
        for order in self.orders():
            for k in range(n + 1):
                found[frozenset(order[:k])] = None
        return list(found)

    def orders(self) -> list[tuple[int, ...]]:
        rng = np.random.default_rng(self.root_seed)
        return [tuple(int(i) for i in rng.permutation(len(self.drivers))) for _ in range(self.permutations)]

    def label(self, coalition: frozenset[int]) -> str:
        if len(coalition) == len(self.drivers):
            return BASELINE
        return "on:" + ("+".join(self.drivers[i].name for i in sorted(coalition)) or "none")

    def overrides_of(self, coalition: frozenset[int]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for i, driver in enumerate(self.drivers):
            if i not in coalition:
                out.update(driver.off)
        return out


def read_drivers(path: Path, scenario: Path, overrides: dict[str, Any]) -> tuple[Driver, ...]:
    check = Checker(path)
    if not path.is_file():
        check.fail("", str(path), "no such drivers file")
    with path.open("rb") as handle:
        document = tomllib.load(handle)
    check.keys(document, "", ("drivers",))
    table = document.get("drivers")
    if not isinstance(table, dict) or not table:
        check.fail("drivers", table, "one or more [drivers.NAME] tables with description and off")
    drivers, owner = [], {}
    for name, entry in table.items():
        where = f"drivers.{name}"
        check.keys(entry, where, ("description", "off"))
        description = check.text(f"{where}.description", entry.get("description"))
        off = entry.get("off")
        if not isinstance(off, dict) or not off:
            check.fail(f"{where}.off", off, 'a table of key paths that switch it off, e.g. { "x.y" = 0 }')
        off = flatten(off)
        for key in off:
            if key in owner:
                check.fail(f"{where}.off.{key}", off[key], f"a key not also set by {owner[key]}")
            owner[key] = where
        try:
            load_scenario(scenario, {**overrides, **off})
        except ScenarioError as exc:
            check.fail(f"{where}.off.{exc.key}", exc.value, exc.allowed)
        drivers.append(Driver(name, description, off))
    return tuple(drivers)


def load_attribution(
    scenario: str | Path,
    drivers: str | Path = DRIVERS,
    metrics: list[str] | None = None,
    dates: list[date] | None = None,
    replications: int = 10,
    permutations: int | None = None,
    overrides: dict[str, Any] | None = None,
) -> AttributionSpec:
    """Check everything an attribution needs before it runs (``ScenarioError`` / ``InputError``)."""
    from .outcomes import check_date, check_metric
    from .report import OUTCOMES, main_outcomes

    scenario, drivers_file = Path(scenario), Path(drivers)
    overrides = dict(overrides or {})
    base = load_scenario(scenario, overrides)
    found = probe(scenario, overrides)
    default_metrics, default_dates = main_outcomes()
    metric_check = Checker(OUTCOMES if metrics is None else Path("(--metrics)"))
    for metric in metrics or default_metrics:
        check_metric(metric_check, "metrics", metric, "national", found)
    date_check = Checker(OUTCOMES if dates is None else Path("(--dates)"))
    for day in dates or default_dates:
        check_date(date_check, "dates", day, found)
    table = read_drivers(drivers_file, scenario, overrides)
    n = len(table)
    if permutations is None:
        permutations = 0 if n <= EXACT_UP_TO else 64
    method = (
        f"exact Shapley over {n} drivers ({2**n} coalitions)"
        if not permutations
        else f"Shapley by {permutations} sampled permutations of {n} drivers"
    )
    return AttributionSpec(
        scenario=scenario,
        name=folder_name(f"attribution_{base.name}"),
        drivers=table,
        drivers_file=drivers_file,
        metrics=tuple(metrics or default_metrics),
        dates=tuple(dates or default_dates),
        replications=replications,
        root_seed=base.run.seed,
        overrides=overrides,
        permutations=permutations,
        method=method,
    )


def coalition_sweep(spec: AttributionSpec):
    points = [
        Point(spec.label(c), spec.overrides_of(c), {"drivers_on": spec.label(c)})
        for c in spec.coalitions()
        if len(c) < len(spec.drivers)
    ]
    return table_sweep(
        "coalitions", spec.drivers_file, spec.scenario, points, spec.replications, spec.root_seed,
        method="attribution", description=spec.method, overrides=spec.overrides,
        keep=Keep(metrics=spec.metrics), dedupe=True,
    )  # fmt: skip


def coalition_values(
    folder: Path, sweep, spec: AttributionSpec
) -> tuple[dict, pd.MultiIndex, pd.DatetimeIndex]:
    """v[coalition label] as arrays [replication, date, (region, metric)] read from the sweep's runs."""
    columns = dates = None
    values: dict[str, list[np.ndarray]] = {}
    for run in sweep.runs():
        frame = pq.read_table(folder / "runs" / f"{run.run_id}.parquet").to_pandas()
        wide = frame.pivot_table(index="date", columns=["region", "metric"], values="value", aggfunc="first")
        if columns is None:
            columns, dates = wide.columns, pd.to_datetime(wide.index)
        values.setdefault(run.scenario.name, []).append(wide.reindex(columns=columns).to_numpy(np.float64))
    stacked = {name: np.stack(parts) for name, parts in values.items()}
    for alias, twin in sweep.aliases.items():
        stacked[alias] = stacked[twin]
    return stacked, columns, dates


def shapley(spec: AttributionSpec, v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """phi per driver (and ``NONE``: v of the empty coalition), each shaped like a coalition's values."""
    n = len(spec.drivers)
    get = lambda c: v[spec.label(frozenset(c))]  # noqa: E731
    parts = {d.name: np.zeros_like(get(range(n))) for d in spec.drivers}
    if not spec.permutations:
        for i, driver in enumerate(spec.drivers):
            others = [j for j in range(n) if j != i]
            for k in range(n):
                weight = math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n)
                for subset in combinations(others, k):
                    parts[driver.name] += weight * (get({*subset, i}) - get(subset))
    else:
        for order in spec.orders():
            for k, i in enumerate(order):
                parts[spec.drivers[i].name] += (get(order[: k + 1]) - get(order[:k])) / spec.permutations
    parts[NONE] = get(())
    return parts


def run_attribution(
    spec: AttributionSpec, out: str | Path = "results", options: Options | None = None
) -> Path:
    from . import figures
    from .report import write_report

    options = options or Options()
    folder = AnalysisFolder(out, spec.name, "attribution")
    folder.prepare(options)
    sweep = coalition_sweep(spec)
    sweep_folder = folder.run(sweep, options)
    v, columns, dates = coalition_values(sweep_folder, sweep, spec)
    folder.clear_outputs()
    parts = shapley(spec, v)
    total = v[BASELINE]
    residual = sum(parts.values()) - total
    error = float(np.nanmax(np.abs(residual)) / max(1.0, float(np.nanmax(np.abs(total)))))
    tidy = tidy_parts(parts, total, columns, dates)
    folder.write_table(tidy, "attribution")
    table = at_dates(tidy, spec.dates)
    folder.write_table(table, "attribution_at_dates")
    figures.attribution_charts(tidy, spec, folder.path)
    folder.write_manifest(
        spec.drivers_file, {}, description=f"{spec.scenario}: {spec.method}", method=spec.method,
        scenario=str(spec.scenario), drivers=[d.__dict__ for d in spec.drivers], metrics=list(spec.metrics),
        replications=spec.replications, additivity_max_relative_error=error, key_table="attribution_at_dates",
    )  # fmt: skip
    write_report(folder.path)
    if error > 1e-9:
        raise AssertionError(f"attribution parts do not add up to the total (relative error {error:.2e})")
    return folder.path


def tidy_parts(parts: dict[str, np.ndarray], total: np.ndarray, columns, dates) -> pd.DataFrame:
    """date, region, metric, part, mean, p05, p95 over the paired seeds (part ``total`` is v(all))."""
    frames = []
    for name, array in {**parts, "total": total}.items():
        mean = np.nanmean(array, axis=0)
        low, high = np.nanquantile(array, [0.05, 0.95], axis=0)
        frame = pd.DataFrame(
            {
                "date": np.repeat(dates.to_numpy(), len(columns)),
                "region": np.tile(columns.get_level_values("region"), len(dates)),
                "metric": np.tile(columns.get_level_values("metric"), len(dates)),
                "part": name,
                "mean": mean.reshape(-1),
                "p05": low.reshape(-1),
                "p95": high.reshape(-1),
            }
        )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def at_dates(tidy: pd.DataFrame, days: tuple[date, ...]) -> pd.DataFrame:
    """National parts at each date, interpolated between the weekly records that bracket it (as every
    outcome is read; parts are linear in the runs' values, so they still add up), with their share."""
    national = tidy[tidy["region"] == "national"]
    rows = []
    for (metric, part), group in national.groupby(["metric", "part"], sort=False):
        group = group.sort_values("date")
        x = group["date"].to_numpy("datetime64[D]").astype(np.float64)
        for day in days:
            at = float(np.datetime64(day, "D").astype(np.float64))
            values = {c: float(np.interp(at, x, group[c].to_numpy())) for c in ("mean", "p05", "p95")}
            rows.append({"date": day.isoformat(), "metric": metric, "part": part, **values})
    table = pd.DataFrame(rows)
    totals = table[table["part"] == "total"].set_index(["date", "metric"])["mean"]
    keys = pd.MultiIndex.from_frame(table[["date", "metric"]])
    table["share_of_total"] = table["mean"].to_numpy() / totals.reindex(keys).replace(0, np.nan).to_numpy()
    return table.sort_values(["date", "metric"], kind="stable").reset_index(drop=True)
