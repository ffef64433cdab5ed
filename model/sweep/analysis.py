"""Reading a sweep's results back: tidy runs, per-scenario bands over replications, paired differences.

Replications of different scenarios share seeds, so ``scenario - baseline`` taken replication by
replication cancels most of the noise that two independent samples would carry: the paired differences are
what a what-if is judged by. ``summarize`` reads one run file at a time, so it works on sweeps far larger
than memory; ``load_results`` loads whatever it is asked for (filter by metric and region on big sweeps).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import domain
from ..errors import InputError
from .design import BASELINE
from .store import SweepStore

QUANTILES = {"p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
CHECKPOINT = pd.Timestamp("2021-12-31")  # the last published national wallet figure
THRESHOLDS = {"weeks_to_10pct": 0.10, "weeks_to_50pct": 0.50}
REGION_METRICS = ["citizens_with_wallet", "population", "live"]
NATIONAL_METRICS = ["personal_wallets_opened", "active_users"]


def open_store(folder: str | Path) -> SweepStore:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such results folder; run a sweep first (run.py sweep FILE)")
    return SweepStore(folder)


def _finished_design(store: SweepStore) -> tuple[pd.DataFrame, pd.DataFrame]:
    design = store.read_design()
    finished = design[design["run_id"].isin(store.finished())]
    return design, finished


def _filter(metrics: Iterable[str] | None, regions: Iterable[str] | None):
    expression = None
    for column, wanted in (("metric", metrics), ("region", regions)):
        if wanted is not None:
            term = pc.field(column).isin(list(wanted))
            expression = term if expression is None else expression & term
    return expression


def iter_runs(
    folder: str | Path, metrics: Iterable[str] | None = None, regions: Iterable[str] | None = None
) -> Iterator[tuple[pd.Series, pd.DataFrame]]:
    """(design row, that run's tidy frame) for each finished run, one file in memory at a time."""
    store = open_store(folder)
    _, finished = _finished_design(store)
    expression = _filter(metrics, regions)
    for _, row in finished.iterrows():
        frame = pq.read_table(store.run_path(row["run_id"]), filters=expression).to_pandas()
        frame["date"] = pd.to_datetime(frame["date"])
        yield row, frame


def load_results(
    folder: str | Path,
    metrics: Iterable[str] | None = None,
    regions: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(design, runs) of a sweep folder: the design table, and the finished runs' tidy rows with
    ``run_id, scenario, replication, seed`` in front of ``date, region, metric, value``.

    ``metrics`` and ``regions`` filter while reading (one run at the default scale is ~220,000 rows, so a
    200-run sweep read whole takes gigabytes). Text columns are categorical to keep the frame small.
    """
    store = open_store(folder)
    design, finished = _finished_design(store)
    expression = _filter(metrics, regions)
    tables = []
    for run_id in finished["run_id"]:
        table = pq.read_table(store.run_path(run_id), filters=expression)
        tables.append(table.append_column("run_id", pa.array([run_id] * table.num_rows, pa.string())))
    if not tables:
        columns = ["run_id", "scenario", "replication", "seed", "date", "region", "metric"]
        return design, pd.DataFrame(columns=columns).assign(value=pd.Series(dtype="float64"))
    runs = pa.concat_tables(tables).to_pandas()
    identity = design.set_index("run_id")
    runs["scenario"] = runs["run_id"].map(identity["scenario"])
    runs["replication"] = runs["run_id"].map(identity["replication"]).astype("int32")
    runs["seed"] = runs["run_id"].map(identity["seed"]).astype("int64")
    runs["date"] = pd.to_datetime(runs["date"])
    order = list(design["scenario"].drop_duplicates())
    runs["scenario"] = pd.Categorical(runs["scenario"], categories=order)
    for column in ("run_id", "region", "metric"):
        runs[column] = runs[column].astype("category")
    columns = ["run_id", "scenario", "replication", "seed", "date", "region", "metric", "value"]
    return design, runs[columns]


def run_matrix(runs: pd.DataFrame, metric: str, region: str = "national") -> pd.DataFrame:
    """One metric of one region: dates down, one column per run as (scenario, replication)."""
    rows = runs[(runs["metric"] == metric) & (runs["region"] == region)]
    matrix = rows.pivot_table(
        index="date", columns=["scenario", "replication"], values="value", aggfunc="first", observed=True
    )
    return matrix.sort_index()


def quantile_bands(matrix: pd.DataFrame) -> pd.DataFrame:
    """Median, 50% and 90% bands over the columns (replications): p05, p25, p50, p75, p95 per row."""
    values = matrix.to_numpy(dtype=np.float64)
    if values.shape[1] == 0:
        return pd.DataFrame(index=matrix.index, columns=list(QUANTILES), dtype="float64")
    bands = np.nanquantile(values, list(QUANTILES.values()), axis=1).T
    return pd.DataFrame(bands, index=matrix.index, columns=list(QUANTILES))


def paired_differences(matrix: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """``scenario - baseline`` replication by replication (same seed), for every other scenario."""
    scenarios = matrix.columns.get_level_values("scenario").unique()
    if baseline not in scenarios:
        return matrix.iloc[:, :0]
    base = matrix[baseline]
    parts = {}
    for scenario in scenarios:
        if scenario == baseline:
            continue
        other = matrix[scenario]
        shared = other.columns.intersection(base.columns)  # replications finished in both
        parts[scenario] = other[shared] - base[shared]
    if not parts:
        return matrix.iloc[:, :0]
    return pd.concat(parts, axis=1, names=["scenario", "replication"])


# ---------------------------------------------------------------- the summary table


def run_quantities(frame: pd.DataFrame) -> list[tuple[str, str, float]]:
    """(region, quantity, value) of one run: national wallets and active users at 2021-12-31 and at the
    end; per region, weeks from go-live to 10% and 50% of residents with a wallet (inf: not reached;
    NaN: the region never went live)."""
    out: list[tuple[str, str, float]] = []
    national = frame[frame["region"] == "national"]
    for metric in NATIONAL_METRICS:
        series = national[national["metric"] == metric].set_index("date")["value"].sort_index()
        if series.empty:
            continue
        by_checkpoint = series[series.index <= CHECKPOINT]
        if len(by_checkpoint):
            out.append(("national", f"{metric}@{CHECKPOINT.date()}", float(by_checkpoint.iloc[-1])))
        out.append(("national", f"{metric}@end", float(series.iloc[-1])))
    regional = frame[(frame["region"] != "national") & frame["metric"].isin(REGION_METRICS)]
    if regional.empty:
        return out
    cube = regional.pivot_table(index="date", columns=["metric", "region"], values="value", aggfunc="first")
    dates = cube.index.to_numpy()
    regions = cube["population"].columns
    population = cube["population"][regions].to_numpy()
    share = np.divide(
        cube["citizens_with_wallet"][regions].to_numpy(),
        population,
        out=np.zeros_like(population),
        where=population > 0,
    )
    live = cube["live"][regions].to_numpy() > 0
    went_live = live.any(axis=0)
    start = np.argmax(live, axis=0)
    for quantity, threshold in THRESHOLDS.items():
        reached = share >= threshold
        first = np.argmax(reached, axis=0)
        for j, region in enumerate(regions):
            if not went_live[j]:
                value = np.nan
            elif not reached[:, j].any():
                value = np.inf
            else:
                value = (dates[first[j]] - dates[start[j]]) / np.timedelta64(7, "D")
            out.append((region, quantity, float(value)))
    return out


def _stats(values: np.ndarray, weeks: bool, difference: bool = False) -> dict[str, float]:
    values = values[~np.isnan(values)]
    if not len(values):
        return {"runs": 0, "median": np.nan, "p05": np.nan, "p95": np.nan, "reached": np.nan}
    method = "inverted_cdf" if weeks else "linear"  # weeks may be inf (not reached): no interpolation
    median, p05, p95 = np.quantile(values, [0.5, 0.05, 0.95], method=method)
    reached = float(np.isfinite(values).mean()) if weeks and not difference else np.nan
    return {"runs": len(values), "median": median, "p05": p05, "p95": p95, "reached": reached}


def summarize(folder: str | Path, baseline: str = BASELINE) -> pd.DataFrame:
    """Per scenario, region and quantity: median and 90% interval over replications (``kind = level``),
    and of the paired difference from the baseline (``kind = difference``, same seeds).

    Quantities: ``personal_wallets_opened`` and ``active_users`` at 2021-12-31 and at the end (national);
    ``weeks_to_10pct`` and ``weeks_to_50pct`` of residents with a wallet, from the region's go-live (per
    region; ``reached`` is the share of runs that got there, inf means not reached).
    """
    rows = []
    for run, frame in iter_runs(folder, metrics=NATIONAL_METRICS + REGION_METRICS):
        for region, quantity, value in run_quantities(frame):
            rows.append((run["scenario"], int(run["replication"]), region, quantity, value))
    columns = ["scenario", "replication", "region", "quantity", "value"]
    table = pd.DataFrame(rows, columns=columns)
    design = open_store(folder).read_design()
    order = list(design["scenario"].drop_duplicates())
    results = []
    for (region, quantity), group in table.groupby(["region", "quantity"], sort=False):
        wide = group.pivot(index="replication", columns="scenario", values="value")
        weeks = quantity.startswith("weeks_to")
        for scenario in [s for s in order if s in wide.columns]:
            level = {"scenario": scenario, "kind": "level", "region": region, "quantity": quantity}
            results.append(level | _stats(wide[scenario].to_numpy(), weeks))
            if scenario != baseline and baseline in wide.columns:
                with np.errstate(invalid="ignore"):
                    delta = (wide[scenario] - wide[baseline]).to_numpy()
                pair = {"scenario": scenario, "kind": "difference", "region": region, "quantity": quantity}
                results.append(pair | _stats(delta, weeks, difference=True))
    summary = pd.DataFrame(
        results,
        columns=["scenario", "kind", "region", "quantity", "runs", "median", "p05", "p95", "reached"],
    )
    summary = summary[summary["runs"] > 0]  # e.g. a region that never went live in this horizon
    places = {r: i for i, r in enumerate(["national", *domain.region_names()])}
    quantities = {q: i for i, q in enumerate(dict.fromkeys(table["quantity"]))}
    keys = pd.DataFrame(
        {
            "kind": summary["kind"].map({"level": 0, "difference": 1}),
            "scenario": summary["scenario"].map({s: i for i, s in enumerate(order)}),
            "region": summary["region"].map(places).fillna(len(places)),
            "quantity": summary["quantity"].map(quantities),
        }
    )
    summary = summary.loc[keys.sort_values(list(keys.columns), kind="stable").index]
    return summary.reset_index(drop=True)
