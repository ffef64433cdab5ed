"""Outcomes: a metric of a region at a date, read off a run, and checked against what a run reports.

An outcome is written ``"METRIC [in REGION] at YYYY-MM-DD"`` (region ``national`` by default), e.g.
``"active_users at 2025-12-31"`` or ``"citizens_with_wallet in Shenzhen at 2021-12-31"``. It is read with
the calibration's one reading function (``calibration.targets.read_value``: linear interpolation between
the weekly records that bracket the date; a lottery figure at its draw).

Which metrics exist is not written down here: ``probe`` runs the scenario once at a coarse scale and
lists the (region, metric) pairs and dates it reports, so a metric the model adds is accepted and one it
drops is refused, with the list of what is there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..calibration.targets import Target, read_value
from ..runner import simulate
from ..scenario import load_scenario

if TYPE_CHECKING:
    from .spec import Checker

NATIONAL = "national"
PROBE_SCALE = 2e6  # residents per agent for the probe run: a few hundred agents, under a second
OUTCOME = re.compile(r"^\s*(?P<metric>\S+)(?:\s+in\s+(?P<region>.+?))?\s+at\s+(?P<date>\d{4}-\d\d-\d\d)\s*$")


@dataclass(frozen=True)
class Outcome:
    metric: str
    region: str
    date: date

    @property
    def label(self) -> str:
        where = "" if self.region == NATIONAL else f" in {self.region}"
        return f"{self.metric}{where} at {self.date.isoformat()}"

    def read(self, frame: pd.DataFrame) -> float:
        """This outcome's value in one run's tidy frame."""
        target = Target(self.label, self.date, self.region, self.metric, np.nan, "", "", "", "")
        return read_value(frame, target)


@dataclass(frozen=True)
class Probe:
    """What a run of a scenario reports: its (region, metric) pairs and the span of its records."""

    pairs: frozenset[tuple[str, str]]
    first: date
    last: date

    @property
    def metrics(self) -> list[str]:
        return sorted({m for _, m in self.pairs})

    @property
    def regions(self) -> list[str]:
        return sorted({r for r, _ in self.pairs})


def probe(base: str | Path, overrides: dict[str, Any] | None = None) -> Probe:
    """Run ``base`` with ``overrides`` once at a coarse scale and list what it reports (cached)."""
    scenario = load_scenario(base, dict(overrides or {}))
    dump = scenario.dump()
    dump["run"]["scale"] = max(float(dump["run"]["scale"]), PROBE_SCALE)
    dump.pop("name"), dump.pop("description")
    return _probe(json.dumps(dump, sort_keys=True))


@cache
def _probe(resolved: str) -> Probe:
    dump = json.loads(resolved)
    frame = simulate({"name": "probe", **dump}, int(dump["run"]["seed"]))
    pairs = frozenset(zip(frame["region"], frame["metric"], strict=True))
    dates = pd.to_datetime(frame["date"])
    return Probe(pairs, dates.min().date(), dates.max().date())


def check_metric(check: Checker, key: str, metric: str, region: str, found: Probe) -> None:
    """Refuse a metric or region the run does not report, listing what it does."""
    if metric not in found.metrics:
        check.fail(key, metric, f"a metric the model reports: {found.metrics}")
    if region not in found.regions:
        check.fail(key, region, f"a region the model reports: {found.regions}")
    if (region, metric) not in found.pairs:
        check.fail(key, f"{metric} in {region}", f"a metric reported for {region} (lottery metrics: a draw)")


def check_date(check: Checker, key: str, day: date, found: Probe) -> None:
    if not found.first <= day <= found.last:
        check.fail(key, day.isoformat(), f"a date within the run's records ({found.first} to {found.last})")


def parse_outcome(check: Checker, key: str, text: Any, found: Probe) -> Outcome:
    """``"METRIC [in REGION] at YYYY-MM-DD"``, checked against what the run reports."""
    match = OUTCOME.match(text) if isinstance(text, str) else None
    if not match:
        check.fail(key, text, '"METRIC [in REGION] at YYYY-MM-DD", e.g. "active_users at 2025-12-31"')
    try:
        day = date.fromisoformat(match["date"])
    except ValueError:
        check.fail(key, text, "a valid date YYYY-MM-DD")
    outcome = Outcome(match["metric"], (match["region"] or NATIONAL).strip(), day)
    check_metric(check, key, outcome.metric, outcome.region, found)
    check_date(check, key, day, found)
    return outcome


def outcome_table(folder: str | Path, outcomes: tuple[Outcome, ...] | list[Outcome]) -> pd.DataFrame:
    """One row per finished run of a sweep folder: its design identity and one column per outcome."""
    from ..sweep.analysis import iter_runs

    metrics = sorted({o.metric for o in outcomes})
    regions = sorted({o.region for o in outcomes})
    rows = []
    for run, frame in iter_runs(folder, metrics=metrics, regions=regions):
        row = {c: run[c] for c in ("run_id", "scenario", "scenario_index", "replication", "seed")}
        rows.append(row | {o.label: o.read(frame) for o in outcomes})
    columns = ["run_id", "scenario", "scenario_index", "replication", "seed", *(o.label for o in outcomes)]
    return pd.DataFrame(rows, columns=columns)
