"""One run as a pure function: (resolved scenario, seed) -> tidy time series.

This is what sweeps and calibration send to worker processes: it takes and returns only picklable values,
reads nothing but its arguments, and so gives the same bytes wherever it runs.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from .model import EcnyModel
from .scenario import Scenario


def simulate(
    scenario: Scenario | dict[str, Any],
    seed: int,
    scale: float | None = None,
    engine: str | None = None,
) -> pd.DataFrame:
    """Run ``scenario`` (a ``Scenario`` or its ``dump()``) with ``seed``; return ``model.timeseries()``."""
    if not isinstance(scenario, Scenario):
        scenario = Scenario.model_validate(scenario)
    return EcnyModel(scenario, seed=seed, scale=scale, engine=engine).run().timeseries()


def timed_simulate(scenario, seed: int, scale=None, engine=None) -> tuple[pd.DataFrame, float]:
    """``simulate`` and its wall time in seconds."""
    started = time.perf_counter()
    frame = simulate(scenario, seed, scale, engine)
    return frame, time.perf_counter() - started
