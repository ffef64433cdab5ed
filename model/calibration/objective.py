"""From a parameter set to a loss: the trial scenario, paired-seed replications, squared log errors.

A trial runs the scenario only as far as the targets need (``run.end`` = the first weekly record on or
after the last target date, lotteries after it dropped: they cannot change anything before it), at a
coarser ``scale`` than the default, over ``R`` replications with the same seeds for every trial (common
random numbers: two trials differ by their parameters, not by their luck). The loss is

    L = (1 / R) * sum_r sum_k w_k * (log m_kr - log y_k) ** 2

with m_kr the model's value of target k in replication r, y_k the published figure and w_k its weight:
its confidence (high 1, medium 0.5, low 0.25; ``Target.weight``). A model value of zero counts as
y_k / 1000 (a log error of -6.9) so the loss stays finite.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import horizon
from ..errors import ScenarioWarning
from ..executors import gather
from ..runner import simulate
from ..scenario import Scenario, load_scenario
from ..streams import replication_seeds
from . import parameters
from .targets import Target, horizon_end, read_values

FLOOR = 1e-3  # a model value of 0 counts as FLOOR * published
CLOSED_PILOT_END = date(2020, 10, 8)  # the day before the first public test (the Luohu lottery)
CLOSED_PILOT_SCALE = 500.0  # residents per agent for the closed-pilot figures (``observe``)


@dataclass(frozen=True)
class Problem:
    """What a calibration fits: a base scenario file, free parameters, targets and how trials run."""

    scenario: Path
    params: tuple[parameters.Param, ...]
    targets: tuple[Target, ...]
    scale: float
    replications: int
    seed: int  # root of the paired replication seeds (the CLI uses run.seed + 1: not the validation's)
    fixed: dict[str, Any] = field(default_factory=dict)  # extra overrides held for every trial

    @property
    def seeds(self) -> list[int]:
        return replication_seeds(self.seed, self.replications)


def horizon_overrides(path: Path, targets: tuple[Target, ...] | list[Target], extra: dict | None = None):
    """Overrides that end the run at the targets' horizon and drop the lotteries and programmes that start
    after it (they cannot change anything before it)."""
    full = load_scenario(path, extra)  # its own horizon: anything it would warn about, it says here
    end = min(horizon_end(list(targets), full.run.start, full.run.step_days), full.run.end)
    lotteries = [lot.model_dump(mode="json") for lot in full.incentives.lotteries if lot.start <= end]
    programmes = [p.model_dump(mode="json") for p in full.government.programmes if p.start <= end]
    return {"run.end": end, "incentives.lotteries": lotteries, "government.programmes": programmes}


def trial_scenario(problem: Problem, values: dict[str, float]) -> Scenario:
    """The base scenario with ``values`` set, ending at the targets' horizon."""
    extra = {**problem.fixed, **parameters.overrides(values, problem.params)}
    return at_horizon(problem.scenario, problem.targets, extra)


def at_horizon(path: Path, targets: tuple[Target, ...] | list[Target], extra: dict | None = None) -> Scenario:
    """The scenario at ``path`` with ``extra`` set, ending at ``targets``' horizon (``horizon_overrides``)."""
    extra = dict(extra or {})
    return load_at_horizon(path, {**extra, **horizon_overrides(path, targets, extra)})


def load_at_horizon(path: Path, overrides: dict[str, Any]) -> Scenario:
    """``load_scenario`` for a run cut at the targets' horizon on purpose: the events after it (later
    waves, operators, interoperability) are not news, so ``ScenarioWarning`` is not raised for them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        return load_scenario(path, overrides)


def evaluate(
    scenario: dict[str, Any], seeds: list[int], scale: float, targets: list[Target]
) -> dict[str, Any]:
    """Run ``scenario`` once per seed (in the calling process); the targets' model values per replication.

    Runs on the executor's workers, so it takes and returns plain data and never raises: a failure comes
    back as ``{"error": message}`` (exceptions such as ``ScenarioError`` do not all survive pickling).
    """
    started = time.perf_counter()
    try:
        runs = [observe(scenario, seed, scale, targets) for seed in seeds]
    except Exception as exc:  # noqa: BLE001 - reported to the study as a failed trial
        return {"error": f"{type(exc).__name__}: {exc}"}
    values = {t.key: [run[t.key] for run in runs] for t in targets}
    return {"values": values, "seconds": time.perf_counter() - started}


def run_values(
    executor: Executor,
    runs: Sequence[tuple[dict[str, Any], int]],
    scale: float,
    targets: Sequence[Target],
    progress: Callable[[int, int], Any] | None = None,
) -> list[dict[str, float] | str]:
    """The model value of every target in each (scenario, seed) run, one job each (``executors.gather``,
    which calls ``progress(done, total)``); a run that failed gives its error message instead."""
    targets = list(targets)
    calls = [(dump, [int(seed)], scale, targets) for dump, seed in runs]
    results = gather(executor, evaluate, calls, progress=progress)
    return [r["error"] if "error" in r else {k: v[0] for k, v in r["values"].items()} for r in results]


def values_per_seed(
    executor: Executor,
    scenarios: Sequence[dict[str, Any]],
    seeds: Sequence[int],
    scale: float,
    targets: Sequence[Target],
) -> list[dict[str, list[float]] | str]:
    """Each scenario's model value of every target per seed (``run_values``); a scenario with a failed
    run gives the first error message instead."""
    results = run_values(executor, [(dump, seed) for dump in scenarios for seed in seeds], scale, targets)
    out: list[dict[str, list[float]] | str] = []
    for k in range(len(scenarios)):
        runs = results[k * len(seeds) : (k + 1) * len(seeds)]
        errors = [r for r in runs if isinstance(r, str)]
        out.append(errors[0] if errors else {t.key: [r[t.key] for r in runs] for t in targets})
    return out


def observe(
    scenario: dict[str, Any],
    seed: int,
    scale: float,
    targets: list[Target],
    frame: pd.DataFrame | None = None,
) -> dict[str, float]:
    """The model's value of each target in one replication: the one observation that calibration,
    ``validate`` and the report share. ``frame``: the run of ``scenario`` with ``seed`` at ``scale``, if
    the caller has it already (the report keeps its series); otherwise it is run here.

    The closed-pilot figures (dated up to ``CLOSED_PILOT_END``) are read from a second run of the same
    scenario and seed at the finer of ``scale`` and ``CLOSED_PILOT_SCALE``, cut at their date: the closed
    pilot had 113,300 wallets and 6,700 acceptance scenarios among 52 million residents, some 20 citizen
    and 3 business agents at the default scale 5000, so a coarse run reads noise there. Runs are horizon
    invariant, so the cut run equals the full run at that scale up to its end.
    """
    late = [t for t in targets if t.date > CLOSED_PILOT_END]
    early = [t for t in targets if t.date <= CLOSED_PILOT_END]
    full = Scenario.model_validate(scenario)
    if late and frame is None:
        frame = simulate(full, seed, scale=scale)
    values = read_values(frame, late) if late else {}
    if early:
        cut = horizon.cut(full, horizon_end(early, full.run.start, full.run.step_days))
        values |= read_values(simulate(cut, seed, scale=min(scale, CLOSED_PILOT_SCALE)), early)
    return {t.key: values[t.key] for t in targets}


def log_errors(values: dict[str, list[float]], targets: list[Target] | tuple[Target, ...]) -> np.ndarray:
    """log(m / y) as an array [replication, target]."""
    cols = []
    for t in targets:
        m = np.maximum(np.asarray(values[t.key], dtype=np.float64), FLOOR * t.value)
        cols.append(np.log(m / t.value))
    return np.stack(cols, axis=1)


def loss(values: dict[str, list[float]], problem: Problem) -> float:
    """The mean over replications of the weighted sum of squared log errors (module docstring)."""
    errors = log_errors(values, problem.targets)
    w = np.array([t.weight for t in problem.targets])
    return float(np.mean((errors**2 * w).sum(axis=1)))


def per_target(values: dict[str, list[float]], problem: Problem) -> dict[str, float]:
    """Each target's mean squared log error over replications (its part of the loss)."""
    errors = log_errors(values, problem.targets)
    return {t.key: float(np.mean(errors[:, k] ** 2)) for k, t in enumerate(problem.targets)}


def median_values(values: dict[str, list[float]]) -> dict[str, float]:
    return {key: float(np.median(v)) for key, v in values.items()}


def rms_error(loss_value: float, n_targets: int) -> float:
    """The root-mean-square relative error a loss stands for: exp(sqrt(L / K)) - 1."""
    return math.expm1(math.sqrt(max(loss_value, 0.0) / max(n_targets, 1)))


def target_dates(targets: list[Target] | tuple[Target, ...]) -> list[date]:
    return sorted({t.date for t in targets})
