"""Inputs of an analysis: scenario levers and behavioural parameters that a sample moves, with ranges.

An input is a name, the scenario keys it sets (default: the name itself is the key path) and a range:

```toml
[inputs."banks.target_intensity"]
low = 0.25
high = 4.0
scale = "log"          # "linear" (default) or "log": sampled uniformly in log space
reason = "..."         # required: every range has a reason or a source

[inputs.campaign_after]
range = "calibration"  # low, high, scale, keys and reason from model/calibration/parameters.py

[inputs.pilot_timing]
keys = ["pilot.waves.3", "pilot.waves.4"]
shift_days = true      # the value is days added to each key's date in the base (moves them together)
low = -365
high = 365
reason = "..."
```

``integer = true`` draws whole numbers (each in [low, high] equally likely). A sample point is a position
``u`` in [0, 1] per input (SALib and scipy sample the unit cube); ``Input.value(u)`` maps it to the
input's scale. Both ends of every range are validated with ``load_scenario`` before anything runs, so a
range outside what a lever allows is refused with the scenario's own rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ..scenario import Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from pathlib import Path

    from .spec import Checker

INPUT_KEYS = ("keys", "low", "high", "scale", "integer", "shift_days", "reason", "range")
SCALES = ("linear", "log")


@dataclass(frozen=True)
class Input:
    name: str
    keys: tuple[str, ...]
    low: float
    high: float
    scale: str
    integer: bool
    shift_days: bool
    reason: str
    base_value: Any  # the base scenario's value (the first key's; for shift_days: 0)
    base_dates: tuple[date, ...] = ()  # shift_days: the base's date of each key

    def value(self, u: float) -> float | int:
        """The input's value at unit position ``u`` (0: low, 1: high)."""
        if self.integer or self.shift_days:
            first, last = math.ceil(self.low), math.floor(self.high)
            return first + min(int(u * (last - first + 1)), last - first)
        if self.scale == "log":
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        return float(min(max(value, self.low), self.high))  # the ends exactly, whatever the rounding

    def overrides(self, value: float | int) -> dict[str, Any]:
        """Scenario overrides (key path -> value) that set this input to ``value``."""
        if self.shift_days:
            return {
                k: d + timedelta(days=int(value)) for k, d in zip(self.keys, self.base_dates, strict=True)
            }
        return {key: value for key in self.keys}

    def describe(self) -> str:
        span = f"{self.low:g} to {self.high:g}" + (" days" if self.shift_days else "")
        return f"{span}{' (log)' if self.scale == 'log' else ''}{' (whole numbers)' if self.integer else ''}"


def _get(document: dict[str, Any], dotted: str) -> Any:
    node: Any = document
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def read_inputs(
    check: Checker, table: Any, base: Path, overrides: dict[str, Any], scenario: Scenario
) -> tuple[Input, ...]:
    """Check every input and validate both ends of its range on ``base`` with ``overrides``."""
    if not isinstance(table, dict) or not table:
        check.fail("inputs", table, "a table: [inputs.NAME] with low, high and reason (or range)")
    resolved = scenario.dump()
    inputs: list[Input] = []
    owner = {key: "overrides" for key in overrides}
    for name, entry in table.items():
        where = f"inputs.{name}"
        item = _read_one(check, where, name, check.keys(entry, where, INPUT_KEYS), resolved)
        for key in item.keys:
            if key in owner:
                check.fail(f"{where}.keys", key, f"a key path not already set by {owner[key]}")
            owner[key] = where
        for end in ("low", "high"):
            value = item.value(0.0 if end == "low" else 1.0)
            try:
                load_scenario(base, {**overrides, **item.overrides(value)})
            except ScenarioError as exc:
                check.fail(f"{where}.{end}", value, f"{exc.key} allows: {exc.allowed}")
        inputs.append(item)
    return tuple(inputs)


def _read_one(check: Checker, where: str, name: str, entry: dict, resolved: dict) -> Input:
    if entry.get("range") is not None:
        return _calibrated(check, where, name, entry, resolved)
    for required in ("low", "high", "reason"):
        if required not in entry:
            check.fail(f"{where}.{required}", "(missing)", "required: low, high and a reason (or range)")
    keys = entry.get("keys", [name])
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        check.fail(f"{where}.keys", keys, "a non-empty array of scenario key paths")
    low = check.number(f"{where}.low", entry["low"], -math.inf, math.inf)
    high = check.number(f"{where}.high", entry["high"], -math.inf, math.inf)
    if not low < high:
        check.fail(f"{where}.high", entry["high"], f"a number above low ({low:g})")
    scale = entry.get("scale", "linear")
    if scale not in SCALES:
        check.fail(f"{where}.scale", scale, f"one of {SCALES}")
    if scale == "log" and low <= 0:
        check.fail(f"{where}.low", entry["low"], "above 0 for scale = 'log'")
    flags = {}
    for flag in ("integer", "shift_days"):
        flags[flag] = entry.get(flag, False)
        if not isinstance(flags[flag], bool):
            check.fail(f"{where}.{flag}", flags[flag], "true or false")
    if (flags["integer"] or flags["shift_days"]) and not (low.is_integer() and high.is_integer()):
        check.fail(f"{where}.low", entry["low"], "whole numbers for low and high")
    if flags["shift_days"] and scale == "log":
        check.fail(f"{where}.scale", scale, "'linear' for shift_days")
    reason = check.text(f"{where}.reason", entry["reason"])
    base_dates: list[date] = []
    if flags["shift_days"]:
        for key in keys:
            value = _get(resolved, key)
            try:
                base_dates.append(date.fromisoformat(str(value)))
            except ValueError:
                check.fail(f"{where}.keys", key, f"a key holding a date in the base (it holds {value!r})")
    base_value = 0 if flags["shift_days"] else _get(resolved, keys[0])
    return Input(name, tuple(keys), low, high, scale, **flags, reason=reason, base_value=base_value,
                 base_dates=tuple(base_dates))  # fmt: skip


def _calibrated(check: Checker, where: str, name: str, entry: dict, resolved: dict) -> Input:
    """An input whose range is the calibration's search range (model/calibration/parameters.py)."""
    from ..calibration import parameters

    if entry["range"] != "calibration":
        check.fail(f"{where}.range", entry["range"], "'calibration' (or give low, high and reason)")
    extra = [k for k in entry if k != "range"]
    if extra:
        check.fail(f"{where}.{extra[0]}", entry[extra[0]], "nothing else with range = 'calibration'")
    known = {p.name: p for p in parameters.FREE}
    if name not in known:
        check.fail(where, name, f"a free parameter of model/calibration/parameters.py: {sorted(known)}")
    p = known[name]
    scale = "log" if p.log else "linear"
    return Input(name, p.keys, p.low, p.high, scale, False, False, p.reason, _get(resolved, p.keys[0]))
