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

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..scenario import ScenarioError

TOP_KEYS = (
    "name",
    "description",
    "base",
    "replications",
    "root_seed",
    "overrides",
    "vary",
    "scenarios",
    "sample",
)
VARY_KEYS = ("name", "path", "values", "labels", "options")
SAMPLE_KEYS = ("method", "size", "bounds", "integers", "seed")
METHODS = ("lhs", "sobol")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_REPLICATIONS = 100_000


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

    def text(self, key: str, value: Any, pattern: re.Pattern | None = None) -> str:
        if not isinstance(value, str) or not value or (pattern and not pattern.match(value)):
            what = "letters, digits, '_', '-' or '.'" if pattern else "non-empty text"
            self.fail(key, value, f"a string of {what}")
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
    if not path.is_file():
        raise ScenarioError(path, "", str(path), "no such sweep file")
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, "", "(file)", f"not valid TOML: {exc}") from None
    check = _Checker(path)
    check.keys(document, "", TOP_KEYS)
    for required in ("base", "replications", "root_seed"):
        if required not in document:
            check.fail(required, "(missing)", "required key is missing")
    name = check.text("name", document.get("name", path.stem), NAME)
    description = document.get("description", "")
    if not isinstance(description, str):
        check.fail("description", description, "text")
    overrides = document.get("overrides", {})
    if not isinstance(overrides, dict):
        check.fail("overrides", overrides, 'a table of key paths, e.g. [overrides] "run.scale" = 1e6')
    ways = [key for key in ("vary", "scenarios", "sample") if key in document]
    if len(ways) > 1:
        check.fail(
            ways[1], document[ways[1]], f"only one of vary, scenarios, sample per sweep; {ways[0]} is given"
        )
    return SweepSpec(
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
    name = check.text(f"{where}.name", entry.get("name"), NAME)
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
    size = check.integer("sample.size", table.get("size"), 1, 1_000_000)
    if method == "sobol" and size & (size - 1):
        check.fail("sample.size", size, "a power of 2 for sobol (e.g. 16, 32, 64): its balance needs it")
    bounds = flatten(check.keys(table.get("bounds"), "sample.bounds", tuple(table.get("bounds") or ())))
    if not bounds:
        check.fail("sample.bounds", bounds, 'one or more key path = [low, high], e.g. "run.scale"')
    checked: dict[str, tuple[float, float]] = {}
    for path, pair in bounds.items():
        numbers = isinstance(pair, list) and len(pair) == 2 and all(_is_number(x) for x in pair)
        if not numbers or not pair[0] < pair[1]:
            check.fail(f"sample.bounds.{path}", pair, "[low, high], two numbers with low < high")
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
