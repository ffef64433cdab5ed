"""The design of a sweep: which scenarios, which seeds, which runs.

``load_sweep`` turns a checked sweep file into resolved scenarios -- every one validated with
``load_scenario(base, overrides)`` before anything runs, so a bad lever path or value stops the sweep with
one message (exit code 2) and nothing is written. The base scenario with the common overrides only is
always scenario 0, named ``baseline``: what-ifs are compared with it pair by pair, because all scenarios of
one replication share that replication's seed (``SeedSequence(root_seed).spawn(replications)``).

A grid point or what-if whose resolved scenario equals an earlier one (a grid value that is the base's own
value, an option that changes nothing) is run once; ``Sweep.aliases`` records which label it stands for.
Sample designs keep every point, duplicates included: a sensitivity analysis needs the whole sample.

``table_sweep`` is the same design given as an explicit table instead of a sweep file: the analyses
(sensitivity, discovery, attribution, compare) build their points in Python and run them through the same
executors, store and resume. It may also list the runs explicitly (scenario, replication) when not every
scenario runs on every seed, and ``keep`` only some metrics or regions of each run.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..errors import ScenarioError
from ..scenario import load_scenario
from ..streams import replication_seeds
from .spec import Sample, SweepSpec, flatten, read_spec
from .worker import Keep

BASELINE = "baseline"


@dataclass(frozen=True)
class SweepScenario:
    """One scenario of the design: its label, the overrides on its file, its lever values, resolved."""

    index: int
    name: str
    source: Path  # the scenario file the overrides apply to
    overrides: dict[str, Any]
    levers: dict[str, Any]  # design column -> value (JSON-ready)
    resolved: dict[str, Any]  # Scenario.dump()
    key: str  # hash of the resolved scenario, name and description left out


@dataclass(frozen=True)
class Run:
    """One run: a scenario and a replication; the seed is the replication's, shared by all scenarios."""

    run_id: str
    scenario: SweepScenario
    replication: int
    seed: int
    keep: Keep | None = None

    @property
    def key(self) -> str:
        """What makes this run's output: changes when its scenario, seed or kept rows do (checked on
        --resume)."""
        kept = f":{self.keep.describe()}" if self.keep else ""
        return hashlib.sha256(f"{self.scenario.key}:{self.seed}{kept}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: ``scenarios`` x ``seeds``. Build it with ``load_sweep(path)``."""

    spec: SweepSpec
    scenarios: tuple[SweepScenario, ...]
    seeds: tuple[int, ...]
    aliases: dict[str, str] = field(default_factory=dict)  # dropped duplicate label -> scenario it equals
    pairs: tuple[tuple[int, int], ...] | None = None  # explicit (replication, scenario index); None: all
    keep: Keep | None = None  # only these metrics / regions of each run are stored

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def size(self) -> int:
        return len(self.pairs) if self.pairs is not None else len(self.scenarios) * len(self.seeds)

    def runs(self) -> Iterator[Run]:
        """Every run, replication by replication, so a partial sweep already holds complete pairs."""
        pairs = self.pairs
        if pairs is None:
            pairs = ((r, s.index) for r in range(len(self.seeds)) for s in self.scenarios)
        for replication, index in pairs:
            scenario = self.scenarios[index]
            run_id = f"s{scenario.index:03d}_r{replication:04d}"
            yield Run(run_id, scenario, replication, self.seeds[replication], self.keep)

    def design(self) -> pd.DataFrame:
        """One row per run: run_id, scenario, scenario_index, replication, seed, run_key, levers."""
        columns = list(dict.fromkeys(c for s in self.scenarios for c in s.levers))
        runs = list(self.runs())
        frame = pd.DataFrame(
            {
                "run_id": [run.run_id for run in runs],
                "scenario": [run.scenario.name for run in runs],
                "scenario_index": np.array([run.scenario.index for run in runs], dtype=np.int32),
                "replication": np.array([run.replication for run in runs], dtype=np.int32),
                "seed": np.array([run.seed for run in runs], dtype=np.int64),
                "run_key": [run.key for run in runs],
            }
        )
        for column in columns:
            frame[column] = _typed([run.scenario.levers.get(column) for run in runs])
        frame["overrides"] = [json.dumps(run.scenario.overrides, default=str, sort_keys=True) for run in runs]
        return frame


def load_sweep(path: str | Path, progress: bool = False) -> Sweep:
    """Read a sweep file and validate every scenario it describes; raises ``ScenarioError`` if any is bad.

    ``progress`` shows a bar while the scenarios are validated (a large design takes a while).
    """
    spec = read_spec(path)
    _load(spec, spec.base, {}, "base")  # the base's own errors name the base file
    points = [(BASELINE, spec.base, dict(spec.overrides), _base_levers(spec), "overrides")]
    if spec.dimensions:
        points += _grid_points(spec)
    elif spec.scenario_files:
        points += _file_points(spec)
    elif spec.sample:
        points += _sample_points(spec, spec.sample)
    scenarios, aliases = _resolve(spec, points, dedupe=not spec.sample, progress=progress)
    seeds = tuple(replication_seeds(spec.root_seed, spec.replications))
    return Sweep(spec, tuple(scenarios), seeds, aliases)


def _resolve(
    spec: SweepSpec, points: list[tuple], dedupe: bool, progress: bool = False
) -> tuple[list[SweepScenario], dict]:
    """Validate and resolve each point; with ``dedupe`` a point equal to an earlier one becomes an alias.

    ``progress`` shows a bar while they are checked."""
    scenarios: list[SweepScenario] = []
    aliases: dict[str, str] = {}
    by_key: dict[str, SweepScenario] = {}
    checking = tqdm(points, desc=f"checking {spec.name}", unit="scenario", disable=not progress, leave=False)
    for name, source, overrides, levers, where in checking:
        resolved = _load(spec, source, overrides, where).dump()
        key = _scenario_key(resolved)
        if key in by_key and dedupe:  # a sample keeps every point: its analysis needs them all
            twin = by_key[key]
            aliases[name] = twin.name
            for column, value in levers.items():  # e.g. the baseline is also "waves_3_4=history"
                if twin.levers.get(column) is None:
                    twin.levers[column] = value
            continue
        if any(s.name == name for s in scenarios):
            raise ScenarioError(spec.path, where, name, "a scenario name not used twice in one sweep")
        scenario = SweepScenario(len(scenarios), name, source, overrides, levers, resolved, key)
        scenarios.append(scenario)
        by_key[key] = scenario
    return scenarios, aliases


@dataclass(frozen=True)
class Point:
    """One scenario of an explicit design: ``overrides`` (key paths) on ``source`` (default: the base),
    and the design-table columns ``levers`` it should show."""

    name: str
    overrides: dict[str, Any]
    levers: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None


def table_sweep(
    name: str,
    path: str | Path,
    base: str | Path,
    points: list[Point],
    replications: int,
    root_seed: int,
    *,
    method: str,
    description: str = "",
    overrides: dict[str, Any] | None = None,
    runs: list[tuple[str, int]] | None = None,
    keep: Keep | None = None,
    dedupe: bool = False,
    document: dict[str, Any] | None = None,
) -> Sweep:
    """A sweep from an explicit table of scenarios (and optionally of runs) rather than a sweep file.

    ``path`` is the file the design comes from (named in error messages and the manifest); ``base`` with
    ``overrides`` is scenario 0, ``baseline``, as in every sweep, and each ``Point`` adds its own overrides
    on top. Every scenario is validated before anything runs (``ScenarioError`` naming ``path``).
    ``runs`` lists (scenario name, replication) when not every scenario runs on every seed; ``dedupe``
    runs a point equal to an earlier one only once (its name becomes an alias; ``runs`` may use it).
    ``keep`` stores only some metrics or regions of each run (an analysis that reads a few outcomes of
    thousands of runs need not store 220,000 rows each).
    """
    common = flatten(overrides or {})
    spec = SweepSpec(
        path=Path(path),
        name=name,
        description=description,
        base=Path(base),
        replications=replications,
        root_seed=root_seed,
        overrides=common,
        document=document or {},
        table_method=method,
    )
    columns = dict.fromkeys(c for p in points for c in p.levers)
    resolved = _load(spec, spec.base, common, "overrides").dump()
    base_levers = {c: _json(_get_path(resolved, c)) for c in columns}  # None where not a key path
    table = [(BASELINE, spec.base, dict(common), base_levers, "overrides")]
    for point in points:
        where = f"{point.name} {point.overrides}"
        table.append(
            (point.name, point.source or spec.base, {**common, **point.overrides}, point.levers, where)
        )
    scenarios, aliases = _resolve(spec, table, dedupe=dedupe)
    seeds = tuple(replication_seeds(root_seed, replications))
    pairs = None
    if runs is not None:
        index = {s.name: s.index for s in scenarios}
        index.update({alias: index[twin] for alias, twin in aliases.items()})
        unknown = [n for n, r in runs if n not in index or not 0 <= r < replications]
        if unknown:
            raise ValueError(f"runs name unknown scenarios or replications: {unknown[:5]}")
        pairs = tuple(sorted({(r, index[n]) for n, r in runs}))
    return Sweep(spec, tuple(scenarios), seeds, aliases, pairs, keep)


def _load(spec: SweepSpec, source: Path, overrides: dict[str, Any], where: str):
    """``load_scenario``; an error caused by the sweep's overrides names the sweep file and the entry."""
    try:
        return load_scenario(source, copy.deepcopy(overrides))
    except ScenarioError as exc:
        if not overrides:
            raise
        origin = "" if exc.file == "(override)" else f" (with the value from {exc.file})"
        raise ScenarioError(spec.path, f"{where}: {exc.key}", exc.value, exc.allowed + origin) from None


def _scenario_key(resolved: dict[str, Any]) -> str:
    content = {k: v for k, v in resolved.items() if k not in ("name", "description")}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _base_levers(spec: SweepSpec) -> dict[str, Any]:
    """The baseline's value of each varied lever (read from the resolved base), or None."""
    levers: dict[str, Any] = {}
    if spec.dimensions or spec.sample:
        resolved = _load(spec, spec.base, spec.overrides, "overrides").dump()
        paths = [d.path or d.name for d in spec.dimensions] if spec.dimensions else list(spec.sample.bounds)
        for path in paths:
            levers[path] = _json(_get_path(resolved, path))
    return levers


def _grid_points(spec: SweepSpec) -> list[tuple]:
    # each option alone first, so that a bad value is blamed on its own [[vary]] entry
    for dimension in spec.dimensions:
        for i, option in enumerate(dimension.options):
            key = f"{dimension.where}.values[{i}]" if dimension.path else f"{dimension.where}.options"
            _load(spec, spec.base, {**spec.overrides, **option}, key)
    points = []
    for combination in itertools.product(*(range(len(d.options)) for d in spec.dimensions)):
        overrides, levers, labels = dict(spec.overrides), {}, []
        for dimension, i in zip(spec.dimensions, combination, strict=True):
            overrides.update(dimension.options[i])
            levers[dimension.path or dimension.name] = _json(dimension.values[i])
            labels.append(dimension.labels[i])
        name = ", ".join(labels)
        points.append((name, spec.base, overrides, levers, f"vary ({name})"))
    return points


def _file_points(spec: SweepSpec) -> list[tuple]:
    points = []
    for i, source in enumerate(spec.scenario_files):
        scenario = _load(spec, source, spec.overrides, f"scenarios[{i}]")
        levers = {"scenario_file": source.name}
        points.append((scenario.name, source, dict(spec.overrides), levers, f"scenarios[{i}]"))
    return points


def _sample_points(spec: SweepSpec, sample: Sample) -> list[tuple]:
    try:
        from scipy.stats import qmc
    except ImportError:  # pragma: no cover - depends on the install
        from ..errors import InputError

        raise InputError(
            "sample designs need scipy, in the 'sweep' extra: pip install -e '.[sweep]'"
        ) from None

    paths = list(sample.bounds)
    rng = np.random.default_rng(sample.seed)
    if sample.method == "sobol":
        unit = qmc.Sobol(len(paths), scramble=True, rng=rng).random_base2(int(np.log2(sample.size)))
    else:
        unit = qmc.LatinHypercube(len(paths), rng=rng).random(sample.size)
    points = []
    for i, row in enumerate(unit):
        overrides, levers = dict(spec.overrides), {}
        for path, u in zip(paths, row, strict=True):
            low, high = sample.bounds[path]
            if path in sample.integers:  # each whole number in [low, high] equally likely
                first, last = int(np.ceil(low)), int(np.floor(high))
                value: Any = first + min(int(u * (last - first + 1)), last - first)
            else:
                value = float(low + u * (high - low))
            overrides[path] = levers[path] = value
        points.append((f"sample{i:04d}", spec.base, overrides, levers, f"sample point {i} {levers}"))
    return points


def _get_path(document: dict[str, Any], dotted: str) -> Any:
    node: Any = document
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _json(value: Any) -> Any:
    """Lever values as they appear in the design table: dates as ISO text, lists and tables as JSON."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, default=str, sort_keys=True)
    return value


def _typed(values: list[Any]) -> pd.Series:
    """A lever column as numbers when every value is one (Int64 for whole numbers), else as text."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="Int64")
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    return pd.Series([None if v is None else str(v) for v in values], dtype="string")
