"""The bundled facts (``model/data/*.csv``): pilot regions, operating institutions, lotteries, targets.

Each table keeps the ``source`` column of ``shared/domain``; the loaders return plain pandas frames so that
the scenario layer can check names against them and the analysis layer can overlay the published figures.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import pandas as pd

WAVES = ("1", "2", "olympic", "3", "4")


def _read(name: str) -> pd.DataFrame:
    with files("model.data").joinpath(name).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, dtype={"wave": str})


@cache
def regions() -> pd.DataFrame:
    """Pilot regions in the order of the file: region, wave, pilot_start, population_2020, lat, lon."""
    frame = _read("pilot_regions.csv")
    for column in ("pilot_start", "full_pilot"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


@cache
def institutions() -> pd.DataFrame:
    """Operating institutions: id (the scenario key), institution, type, joins."""
    frame = _read("institutions.csv")
    frame["joins"] = pd.to_datetime(frame["joins"]).dt.date
    return frame


@cache
def incentives() -> pd.DataFrame:
    """Published red-envelope lotteries with budget, envelopes and, where known, uptake."""
    frame = _read("incentives.csv")
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


@cache
def targets() -> pd.DataFrame:
    """Published figures: date, scope (national or a region), metric, value, unit, definition."""
    frame = _read("targets.csv")
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def region_names() -> list[str]:
    return regions()["region"].tolist()


def bank_ids() -> list[str]:
    return institutions()["id"].tolist()
