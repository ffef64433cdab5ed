"""Analysis files (TOML in ``scenarios/analysis/``): the parts every analysis shares, read and checked
before anything runs.

```toml
name = "levers"                       # results/<name>/ (default: the file name)
description = "..."
base = "../baseline.toml"             # the scenario the inputs move, relative to this file
replications = 1                      # paired seeds per point: SeedSequence(root_seed).spawn(n)
root_seed = 20250101
outcomes = ["citizens_with_wallet at 2025-12-31", "active_users in Shenzhen at 2025-12-31"]

[overrides]                           # every run (key paths, as in scenario files)
run.scale = 20000

[inputs."banks.target_intensity"]     # see model/analysis/inputs.py
low = 0.25
high = 4.0
scale = "log"
reason = "..."
```

``inputs`` may instead name another analysis file whose inputs are used (``inputs = "levers.toml"``), so
one list of levers serves sensitivity and discovery. ``changes`` (``--set KEY=VALUE`` on the command line)
replace entries of the document before it is checked: ``{"sobol.base_samples": 8}``. Every problem is a
``ScenarioError`` naming the analysis file, the key, the value and what is allowed (exit code 2).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ..scenario import ScenarioError, load_scenario, set_path
from ..sweep.spec import flatten
from .inputs import Input, read_inputs
from .outcomes import Outcome, Probe, parse_outcome, probe

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
COMMON_KEYS = ("name", "description", "base", "replications", "root_seed", "overrides", "inputs", "outcomes")
MAX_REPLICATIONS = 10_000


@dataclass(frozen=True)
class Common:
    """The checked common part of an analysis file."""

    path: Path
    name: str
    description: str
    base: Path
    replications: int
    root_seed: int
    overrides: dict[str, Any]
    inputs: tuple[Input, ...]
    outcomes: tuple[Outcome, ...]
    probe: Probe  # what a run of base + overrides reports: metrics, regions, dates
    document: dict[str, Any]


class Checker:
    """Raises ``ScenarioError`` naming the analysis file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, value: Any, allowed: str) -> NoReturn:
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

    def number(self, key: str, value: Any, low: float, high: float, what: str = "") -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            self.fail(key, value, what or f"a number from {low:g} to {high:g}")
        return float(value)

    def text(self, key: str, value: Any, pattern: re.Pattern | None = None) -> str:
        if not isinstance(value, str) or not value or (pattern and not pattern.match(value)):
            what = "letters, digits, '_', '-' or '.'" if pattern else "non-empty text"
            self.fail(key, value, f"a string of {what}")
        return value

    def file(self, key: str, value: Any, what: str = "scenario file") -> Path:
        relative = Path(self.text(key, value))
        path = relative if relative.is_absolute() else self.path.parent / relative
        if not path.is_file():
            self.fail(key, value, f"an existing {what} (relative to {self.path.parent})")
        return path


def read_document(path: str | Path, changes: dict[str, Any] | None = None) -> tuple[Path, dict[str, Any]]:
    """The TOML document of an analysis file with ``changes`` (dotted key -> value) applied."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(path, "", str(path), "no such analysis file")
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, "", "(file)", f"not valid TOML: {exc}") from None
    for key, value in (changes or {}).items():
        try:
            set_path(document, key, value)
        except ScenarioError as exc:
            raise ScenarioError(path, f"{key} (--set)", value, exc.allowed) from None
    return path, document


def read_common(
    path: Path, document: dict[str, Any], allowed: tuple[str, ...], outcomes_required: bool = True
) -> Common:
    """Check the shared keys (and that no key outside ``COMMON_KEYS + allowed`` is present)."""
    check = Checker(path)
    check.keys(document, "", COMMON_KEYS + allowed)
    for required in ("base", "root_seed", "outcomes")[: 3 if outcomes_required else 2]:
        if required not in document:
            check.fail(required, "(missing)", "required key is missing")
    name = check.text("name", document.get("name", path.stem), NAME)
    description = document.get("description", "")
    if not isinstance(description, str):
        check.fail("description", description, "text")
    base = check.file("base", document["base"])
    overrides = document.get("overrides", {})
    if not isinstance(overrides, dict):
        check.fail("overrides", overrides, 'a table of key paths, e.g. [overrides] "run.scale" = 1e6')
    overrides = flatten(overrides)
    try:
        scenario = load_scenario(base, dict(overrides))
    except ScenarioError as exc:
        if exc.file != "(override)":
            raise
        check.fail(f"overrides.{exc.key}", exc.value, exc.allowed)
    found = probe(base, overrides)
    outcomes = document.get("outcomes", [])
    if not isinstance(outcomes, list) or (outcomes_required and not outcomes):
        check.fail("outcomes", outcomes, 'an array of "METRIC [in REGION] at YYYY-MM-DD"')
    parsed = tuple(parse_outcome(check, f"outcomes[{i}]", text, found) for i, text in enumerate(outcomes))
    if len({o.label for o in parsed}) != len(parsed):
        check.fail("outcomes", outcomes, "distinct outcomes")
    inputs: tuple[Input, ...] = ()
    if "inputs" in document:
        table = document["inputs"]
        source = check
        if isinstance(table, str):  # the inputs of another analysis file
            other = check.file("inputs", table, "analysis file")
            _, other_document = read_document(other)
            if not isinstance(other_document.get("inputs"), dict):
                check.fail("inputs", table, f"an analysis file with an [inputs] table ({other} has none)")
            table, source = other_document["inputs"], Checker(other)
        inputs = read_inputs(source, table, base, overrides, scenario)
    return Common(
        path=path,
        name=name,
        description=description,
        base=base,
        replications=check.integer("replications", document.get("replications", 1), 1, MAX_REPLICATIONS),
        root_seed=check.integer("root_seed", document["root_seed"], 0, 2**63 - 1),
        overrides=overrides,
        inputs=inputs,
        outcomes=parsed,
        probe=found,
        document=document,
    )
