"""Parameter uncertainty as an ensemble: ``scenarios/ensemble.csv``, one row per member.

The columns are scenario key paths (``behaviour.innovation``, ``banks.operators.CMB.target_intensity``)
plus ``weight``; a member is the set of overrides its row gives. ``load_ensemble`` reads the file and
validates every member with ``load_scenario(scenario, member)`` before anything runs, so a key the model
does not have or a value outside its range is refused with the line, the key, the value and what is
allowed (``ScenarioError``, exit code 2). ``Ensemble.draw(n, seed)`` picks n members with probability
proportional to their weights, with replacement, from ``numpy.random.default_rng(seed)``: the same seed
gives the same members, so a comparison over the ensemble is reproducible from its manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .scenario import ScenarioError, load_scenario

WEIGHT = "weight"
ENSEMBLE = Path(__file__).resolve().parents[1] / "scenarios" / "ensemble.csv"  # what calibrate writes


@dataclass(frozen=True)
class Ensemble:
    path: Path
    keys: tuple[str, ...]
    members: tuple[dict[str, Any], ...]
    weights: np.ndarray  # normalised to sum 1

    def draw(self, n: int, seed: int) -> list[int]:
        """Indices of ``n`` members drawn by weight, with replacement (reproducible from ``seed``)."""
        rng = np.random.default_rng(seed)
        return [int(i) for i in rng.choice(len(self.members), size=n, replace=True, p=self.weights)]

    def overrides(self, n: int, seed: int) -> list[dict[str, Any]]:
        """The scenario overrides of ``n`` drawn members."""
        return [dict(self.members[i]) for i in self.draw(n, seed)]


def load_ensemble(path: str | Path, scenario: str | Path) -> Ensemble:
    """Read ``path`` and validate every member on ``scenario``; raises ``ScenarioError`` if any is bad."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(
            path, "", str(path), "no such ensemble file (one row per member: key paths, weight)"
        )
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, "", "(file)", f"not a readable CSV: {exc}") from None
    if WEIGHT not in frame.columns:
        raise ScenarioError(
            path, "(header)", list(frame.columns), f"a '{WEIGHT}' column beside the key paths"
        )
    keys = tuple(c for c in frame.columns if c != WEIGHT)
    if not keys or len(frame) == 0:
        raise ScenarioError(path, "(header)", list(frame.columns), "one or more key-path columns and rows")
    weights = pd.to_numeric(frame[WEIGHT], errors="coerce").to_numpy(np.float64)
    for i, w in enumerate(weights):
        if not np.isfinite(w) or w < 0:
            raise ScenarioError(path, f"line {i + 2}: {WEIGHT}", frame[WEIGHT].iloc[i], "a number >= 0")
    if weights.sum() <= 0:
        raise ScenarioError(path, WEIGHT, 0, "weights that are not all zero")
    members = []
    for i, row in enumerate(frame[list(keys)].itertuples(index=False)):
        member = {key: _value(value) for key, value in zip(keys, row, strict=True)}
        try:
            load_scenario(scenario, dict(member))
        except ScenarioError as exc:
            raise ScenarioError(path, f"line {i + 2}: {exc.key}", exc.value, exc.allowed) from None
        members.append(member)
    return Ensemble(path, keys, tuple(members), weights / weights.sum())


def _value(value: Any) -> Any:
    """CSV cells as plain Python values (numpy scalars do not pass pydantic's strict checks the same way)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value
