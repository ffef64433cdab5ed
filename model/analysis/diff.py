"""Which levers differ between two scenarios: ``run.py diff A.toml B.toml`` and every report.

Both scenarios are resolved (``extends`` merged, defaults filled, validated), flattened to key paths --
tables by key, arrays by index (``incentives.lotteries[3].budget_yuan``) -- and compared value by value,
so a difference is listed under the key a scenario file would set, whichever file in the chain set it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..scenario import Scenario, load_scenario

IGNORED = ("name", "description")
MISSING = "(not set)"


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested tables and arrays to key paths: ``{"a": {"b": [1, {"c": 2}]}}`` has ``a.b[0]``, ``a.b[1].c``."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, item in enumerate(value):
            out.update(flat(item, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def scenario_diff(a: Scenario | dict[str, Any], b: Scenario | dict[str, Any]) -> pd.DataFrame:
    """``key, a, b`` for every key path whose resolved value differs (name and description left out)."""
    dumps = [s.dump() if isinstance(s, Scenario) else s for s in (a, b)]
    left, right = (flat({k: v for k, v in d.items() if k not in IGNORED}) for d in dumps)
    keys = list(dict.fromkeys([*left, *right]))
    rows = [
        (k, left.get(k, MISSING), right.get(k, MISSING))
        for k in keys
        if left.get(k, MISSING) != right.get(k, MISSING)
    ]
    return pd.DataFrame(rows, columns=["key", "a", "b"]).astype({"a": str, "b": str})


def diff_files(a: str | Path, b: str | Path) -> pd.DataFrame:
    """``scenario_diff`` of two scenario files (each validated; ``ScenarioError`` if bad)."""
    return scenario_diff(load_scenario(a), load_scenario(b))
