"""A lever's paired effect: the scenario with and without the lever, run on the same seeds.

Each replication seed runs both scenarios, so the difference of a pair holds the lever's effect with the
shared noise cancelled (DESIGN: "a what-if is compared pair by pair"). Runs go to a spawned process pool
(the vectorized engine, ``model.executors``) so the dashboard stays responsive; the unchanged scenario's
runs are cached, so trying a second lever only costs the new runs. Notebooks use the same functions.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..executors import Cancelled, gather, open_executor
from ..runner import simulate
from ..scenario import Scenario
from ..streams import replication_seeds

METRICS = (
    "citizens_with_wallet",
    "active_users",
    "personal_wallets_opened",
    "merchants_accepting",
    "transaction_value_cumulative",
    "app_wallets_opened",
    "fiscal_cost_cumulative",
)
FISCAL = "fiscal_cost_cumulative"
# what an incentive buys: its fiscal cost per additional app wallet and per additional active user
COST_PER = {"app_wallets_opened": "app wallet", "active_users": "active user"}
_cache: dict[tuple[str, int, float], pd.DataFrame] = {}
_cache_lock = threading.Lock()


def national_run(scenario: dict[str, Any], seed: int, scale: float | None) -> pd.DataFrame:
    """One run's national series: index date, one column per metric in ``METRICS`` (worker side: small to
    send back, unlike the full tidy table)."""
    frame = simulate(scenario, seed, scale, "vectorized")
    rows = frame[(frame["region"] == "national") & frame["metric"].isin(METRICS)]
    table = rows.pivot(index="date", columns="metric", values="value")
    table.index = pd.to_datetime(table.index)
    return table.reindex(columns=list(METRICS))


@dataclass
class Comparison:
    """Both scenarios' national series per seed: arrays [seed, step, metric]."""

    seeds: list[int]
    dates: pd.DatetimeIndex
    base: np.ndarray
    variant: np.ndarray
    scale: float | None

    def difference(self, metric: str) -> np.ndarray:
        """Paired difference variant - base, [seed, step]."""
        k = METRICS.index(metric)
        return self.variant[:, :, k] - self.base[:, :, k]

    def effect(self, metric: str = "active_users", year: int | None = None) -> pd.Series:
        """Per-seed paired difference: at the last step, or averaged over the weeks of ``year``."""
        diff = self.difference(metric)
        if year is None:
            return pd.Series(diff[:, -1], index=self.seeds, name=metric)
        weeks = np.asarray(self.dates.year == year)
        return pd.Series(diff[:, weeks].mean(axis=1), index=self.seeds, name=metric)

    def cost_per(self, metric: str) -> float | None:
        """Fiscal cost per additional ``metric`` at the last week: mean paired difference in cumulative
        fiscal cost / mean paired difference in ``metric`` (a ratio of means, which a seed with almost
        no effect cannot blow up). None when the levers do not change the fiscal cost (no incentive
        differs) or do not change ``metric``."""
        cost, gain = self.effect(FISCAL).mean(), self.effect(metric).mean()
        if cost == 0 or gain == 0:
            return None
        return float(cost / gain)

    def summary(self, year: int | None = None) -> pd.DataFrame:
        """One row per metric: base and variant means, the mean paired difference, its spread over seeds
        (min, max, standard error) and the relative effect."""
        rows = []
        for k, metric in enumerate(METRICS):
            weeks = np.asarray(self.dates.year == year) if year is not None else slice(-1, None)
            base = self.base[:, weeks, k].mean(axis=1)
            variant = self.variant[:, weeks, k].mean(axis=1)
            diff = variant - base
            n = len(diff)
            rows.append(
                {
                    "metric": metric,
                    "baseline": base.mean(),
                    "lever": variant.mean(),
                    "difference": diff.mean(),
                    "min": diff.min(),
                    "max": diff.max(),
                    "std_error": diff.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                    "relative_%": 100 * diff.mean() / base.mean() if base.mean() else np.nan,
                }
            )
        return pd.DataFrame(rows).set_index("metric")


def _key(scenario: Scenario, seed: int, scale: float | None) -> tuple[str, int, float]:
    dump = scenario.dump()
    dump.pop("name", None)
    dump.pop("description", None)
    return json.dumps(dump, sort_keys=True), int(seed), float(scale or scenario.run.scale)


def paired_runs(
    base: Scenario,
    variant: Scenario,
    seeds: int | Iterable[int] = 3,
    scale: float | None = None,
    executor: Executor | None = None,
    workers: int = 2,
    progress: Callable[[int, int], Any] | None = None,
) -> Comparison:
    """Run ``base`` and ``variant`` on the same seeds; ``seeds`` is a count (replication seeds from the
    base's ``run.seed``) or the seeds themselves. ``progress(done, total)`` is called as runs finish; a
    false return cancels what has not started. Identical scenarios run once (``variant == base``)."""
    if isinstance(seeds, int):
        seeds = replication_seeds(base.run.seed, seeds)
    seeds = [int(s) for s in seeds]
    jobs = {
        (which, s): _key(sc, s, scale) for which, sc in (("base", base), ("variant", variant)) for s in seeds
    }
    dumps = {"base": base.dump(), "variant": variant.dump()}
    results: dict[tuple[str, int, float], pd.DataFrame] = {}
    with _cache_lock:
        results.update({key: _cache[key] for key in jobs.values() if key in _cache})
    todo = {key: job for job, key in jobs.items() if key not in results}  # identical pairs: run once
    total = len(todo)
    if progress is not None:
        progress(0, total)
    if todo:
        keys = list(todo)

        def keep(k: int, frame: pd.DataFrame) -> None:
            results[keys[k]] = frame
            with _cache_lock:
                _cache[keys[k]] = frame

        calls = [(dumps[which], seed, scale) for which, seed in todo.values()]
        pool_context = nullcontext(executor) if executor else open_executor(workers=min(workers, total))
        with pool_context as pool:
            try:
                gather(pool, national_run, calls, progress, keep)
            except Cancelled:
                raise RuntimeError("comparison cancelled") from None
    frames = {job: results[key] for job, key in jobs.items()}
    dates = frames[("base", seeds[0])].index
    stack = {w: np.stack([frames[(w, s)].to_numpy() for s in seeds]) for w in ("base", "variant")}
    return Comparison(seeds, dates, stack["base"], stack["variant"], scale)
