"""Sweep files (TOML in ``scenarios/sweeps/``): read and check the document, before any scenario is built.

A sweep names a ``base`` scenario and says what varies, in one of three ways (or none: replications of the
base alone):

* ``[[vary]]`` -- a grid. Each entry is one dimension: either ``path`` + ``values`` (+ optional ``labels``)
  for one lever, or ``name`` + ``[vary.options]`` (label -> table of key paths) for several levers that move
  together as one named option. The grid is the product of the dimensions.
* ``scenarios = ["../no_expansion.toml", ...]`` -- named what-if files, compared with the base.
* ``[sample]`` -- ``method = "lhs" | "sobol"``, ``size``, ``[sample.bounds]`` (key path -> [low, high]),
  optional ``integers`` (key paths drawn as whole numbers) and ``seed``.

``[overrides]`` (key paths, nested tables or quoted dotted keys) apply to every run, the baseline included.
Every problem is a ``ScenarioError`` naming the sweep file, the key path, the value and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..documents import SWEEP_KEYS, read_document
from ..errors import MISSING, ScenarioError
from ..paths import NAME_RULE, is_safe_name

TOP_KEYS = ("name", "description", "overrides", *SWEEP_KEYS)
# a scenario file's own tables: given to ``run.py sweep`` by mistake
SCENARIO_TABLES = (
    "run",
    "pilot",
    "banks",
    "incentives",
    "government",
    "incumbents",
    "population",
    "behaviour",
)
VARY_KEYS = ("name", "path", "values", "labels", "options")
SAMPLE_KEYS = ("method", "size", "bounds", "integers", "seed")
METHODS = ("lhs", "sobol")
MAX_REPLICATIONS = 100_000
# each scenario of a design is validated before anything runs (~4 ms each): 20,000 take ~80 s
MAX_SCENARIOS = 20_000
MAX_RUNS = 1_000_000  # scenarios x replications: one design row each


@dataclass(frozen=True)
class Dimension:
    """One axis of a grid: ``labels[i]`` sets the key paths ``options[i]`` (one or several levers)."""

    name: str  # the design column: the lever path, or the name of a multi-lever option
    labels: tuple[str, ...]
    options: tuple[dict[str, Any], ...]
    values: tuple[Any, ...]  # the design column's value per option (the lever value, or the label)
    where: str  # "vary[0]", for messages
    path: str | None = None  # set when the dimension moves a single lever


@dataclass(frozen=True)
class Sample:
    method: str
    size: int
    bounds: dict[str, tuple[float, float]]
    integers: tuple[str, ...]
    seed: int


@dataclass(frozen=True)
class SweepSpec:
    """The checked sweep document (paths resolved against the sweep file's folder)."""

    path: Path
    name: str
    description: str
    base: Path
    replications: int
    root_seed: int
    overrides: dict[str, Any]
    dimensions: tuple[Dimension, ...] = ()
    scenario_files: tuple[Path, ...] = ()
    sample: Sample | None = None
    document: dict[str, Any] = field(default_factory=dict)
    table_method: str | None = None  # set by ``design.table_sweep``: the analysis that made the table

    @property
    def method(self) -> str:
        if self.table_method:
            return self.table_method
        if self.dimensions:
            return "grid"
        if self.scenario_files:
            return "scenarios"
        if self.sample:
            return f"sample:{self.sample.method}"
        return "replications"


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables to dotted key paths: ``{"run": {"scale": 1e6}} -> {"run.scale": 1e6}``.

    A non-empty table is descended into (so an override merges key by key, as ``extends`` does); anything
    else, an empty table included, is a value.
    """
    flat: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, value: Any, allowed: str) -> None:
        raise ScenarioError(self.path, key, value, allowed)

    def keys(self, table: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(table, dict):
            self.fail(where, table, "a table")
        for key in table:
            if key not in allowed:
                self.fail(f"{where}.{key}" if where else key, table[key], f"unknown key; allowed: {allowed}")
        return table

    def integer(self, key: str, value: Any, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(key, value, f"a whole number from {low} to {high}")
        return value

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            self.fail(key, value, "non-empty text in double quotes")
        return value

    def name(self, key: str, value: Any) -> str:
        if not is_safe_name(value):
            self.fail(key, value, NAME_RULE)
        return value

    def file(self, key: str, value: Any) -> Path:
        relative = Path(self.text(key, value))
        path = relative if relative.is_absolute() else self.path.parent / relative
        if not path.is_file():
            self.fail(key, value, f"an existing scenario file (relative to {self.path.parent})")
        return path


def read_spec(path: str | Path) -> SweepSpec:
    """Read and check a sweep file; the scenarios it describes are built by ``design.load_sweep``."""
    path = Path(path)
    document = read_document(path, "sweep")
    if not document:
        raise ScenarioError(path, "", None, "empty file; a sweep sets base, replications and root_seed")
    tables = [k for k in SCENARIO_TABLES if k in document]
    if tables and not any(k in document for k in SWEEP_KEYS):
        raise ScenarioError(
            path,
            "",
            None,
            f"a scenario file (it sets {', '.join(tables)}), not a sweep: run it with run.py FILE",
        )
    check = _Checker(path)
    check.keys(document, "", TOP_KEYS)
    for required in ("base", "replications", "root_seed"):
        if required not in document:
            check.fail(required, MISSING, "required key is missing")
    name = check.name("name", document.get("name", path.stem))
    description = document.get("description", "")
    if not isinstance(description, str) or len(description) > 500:
        check.fail("description", description, "text in double quotes, at most 500 characters")
    overrides = document.get("overrides", {})
    if not isinstance(overrides, dict):
        check.fail("overrides", overrides, 'a table of key paths, e.g. [overrides] "run.scale" = 1e6')
    ways = [key for key in ("vary", "scenarios", "sample") if key in document]
    if len(ways) > 1:
        check.fail(
            ways[1], document[ways[1]], f"only one of vary, scenarios, sample per sweep; {ways[0]} is given"
        )
    spec = SweepSpec(
        path=path,
        name=name,
        description=description,
        base=check.file("base", document["base"]),
        replications=check.integer("replications", document["replications"], 1, MAX_REPLICATIONS),
        root_seed=check.integer("root_seed", document["root_seed"], 0, 2**63 - 1),
        overrides=flatten(overrides),
        dimensions=_dimensions(check, document.get("vary", []), flatten(overrides)),
        scenario_files=_scenario_files(check, document.get("scenarios", [])),
        sample=_sample(check, document["sample"], document["root_seed"]) if "sample" in document else None,
        document=document,
    )
    _check_size(check, spec)
    return spec


def design_size(spec: SweepSpec) -> int:
    """Scenarios the design will hold, the baseline included, known before any is built."""
    if spec.dimensions:
        return 1 + math.prod(len(d.options) for d in spec.dimensions)
    if spec.scenario_files:
        return 1 + len(spec.scenario_files)
    return 1 + (spec.sample.size if spec.sample else 0)


def _check_size(check: _Checker, spec: SweepSpec) -> None:
    scenarios = design_size(spec)
    where = {"grid": "vary", "scenarios": "scenarios"}.get(spec.method, "sample.size")
    if scenarios > MAX_SCENARIOS + 1:
        check.fail(
            where,
            f"{scenarios - 1:,} scenarios",
            f"at most {MAX_SCENARIOS:,} per sweep (each is validated before anything runs); "
            "split the sweep or draw a [sample]",
        )
    if scenarios * spec.replications > MAX_RUNS:
        check.fail(
            "replications",
            spec.replications,
            f"at most {MAX_RUNS:,} runs per sweep; this design has {scenarios:,} scenarios x "
            f"{spec.replications:,} replications",
        )


def _dimensions(check: _Checker, entries: Any, overrides: dict[str, Any]) -> tuple[Dimension, ...]:
    if not isinstance(entries, list):
        check.fail("vary", entries, "an array of tables: [[vary]]")
    dimensions: list[Dimension] = []
    owner: dict[str, str] = {path: "overrides" for path in overrides}
    for i, entry in enumerate(entries):
        where = f"vary[{i}]"
        check.keys(entry, where, VARY_KEYS)
        if ("path" in entry) == ("options" in entry):
            check.fail(where, entry, "either path + values (one lever) or name + options (levers together)")
        if "path" in entry:
            dimension = _single(check, entry, where)
        else:
            dimension = _options(check, entry, where)
        for option in dimension.options:
            for path in option:
                if owner.get(path, where) != where:
                    check.fail(f"{where}: {path}", path, f"a key path not already set by {owner[path]}")
                owner[path] = where
        if any(d.name == dimension.name for d in dimensions):
            check.fail(f"{where}.name", dimension.name, "a name not used by another [[vary]] entry")
        dimensions.append(dimension)
    return tuple(dimensions)


def _single(check: _Checker, entry: dict[str, Any], where: str) -> Dimension:
    path = check.text(f"{where}.path", entry["path"])
    values = entry.get("values")
    if not isinstance(values, list) or not values:
        check.fail(f"{where}.values", values, "a non-empty array of values for the lever")
    labels = entry.get("labels", [f"{path.rsplit('.', 1)[-1]}={_show(v)}" for v in values])
    _check_labels(check, f"{where}.labels", labels, len(values))
    return Dimension(
        name=entry.get("name", path),
        labels=tuple(labels),
        options=tuple({path: value} for value in values),
        values=tuple(values),
        where=where,
        path=path,
    )


def _options(check: _Checker, entry: dict[str, Any], where: str) -> Dimension:
    for key in ("values", "labels"):
        if key in entry:
            check.fail(f"{where}.{key}", entry[key], "not with options (the option labels are its keys)")
    name = check.name(f"{where}.name", entry.get("name"))
    options = entry["options"]
    if not isinstance(options, dict) or not options:
        check.fail(f"{where}.options", options, "a table: label = { key path = value, ... }")
    flat = []
    for label, table in options.items():
        if not isinstance(table, dict):
            check.fail(f"{where}.options.{label}", table, "a table of key paths, e.g. { run.scale = 1e6 }")
        flat.append(flatten(table))
    labels = [f"{name}={label}" for label in options]
    return Dimension(name, tuple(labels), tuple(flat), tuple(options), where)


def _check_labels(check: _Checker, key: str, labels: Any, count: int) -> None:
    if not isinstance(labels, list) or len(labels) != count or not all(isinstance(x, str) for x in labels):
        check.fail(key, labels, f"an array of {count} strings, one per value")
    if len(set(labels)) != len(labels):
        check.fail(key, labels, "distinct labels (is a value repeated?)")


def _scenario_files(check: _Checker, files: Any) -> tuple[Path, ...]:
    if not isinstance(files, list):
        check.fail("scenarios", files, 'an array of scenario files, e.g. ["../no_expansion.toml"]')
    return tuple(check.file(f"scenarios[{i}]", value) for i, value in enumerate(files))


def _sample(check: _Checker, table: Any, root_seed: int) -> Sample:
    check.keys(table, "sample", SAMPLE_KEYS)
    method = table.get("method")
    if method not in METHODS:
        check.fail("sample.method", method, f"one of {METHODS}")
    size = check.integer("sample.size", table.get("size"), 1, MAX_SCENARIOS)
    if method == "sobol" and size & (size - 1):
        check.fail("sample.size", size, "a power of 2 for sobol (e.g. 16, 32, 64): its balance needs it")
    bounds = flatten(check.keys(table.get("bounds"), "sample.bounds", tuple(table.get("bounds") or ())))
    if not bounds:
        check.fail("sample.bounds", bounds, 'one or more key path = [low, high], e.g. "run.scale"')
    checked: dict[str, tuple[float, float]] = {}
    for path, pair in bounds.items():
        numbers = isinstance(pair, list) and len(pair) == 2 and all(_is_number(x) for x in pair)
        if not numbers or not all(math.isfinite(x) for x in pair) or not pair[0] < pair[1]:
            check.fail(f"sample.bounds.{path}", pair, "[low, high], two finite numbers with low < high")
        checked[path] = (float(pair[0]), float(pair[1]))
    integers = table.get("integers", [])
    if not isinstance(integers, list) or any(p not in checked for p in integers):
        check.fail("sample.integers", integers, f"key paths from sample.bounds: {list(checked)}")
    seed = check.integer("sample.seed", table.get("seed", root_seed), 0, 2**63 - 1)
    return Sample(method, size, checked, tuple(integers), seed)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)
