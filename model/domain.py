"""The bundled facts (``model/data/*.csv``): regions, operating institutions, lotteries, events, targets.

Each table keeps the ``source`` column of ``shared/domain``; the loaders return plain pandas frames so that
the scenario layer can check names against them and the analysis layer can overlay the published figures.

The regions cover the whole mainland: the pilot regions (``pilot_regions.csv``, waves 1 to 4, among them
four "province-rest" rows: a province minus its pilot cities) and, from ``provinces.csv`` (2020 census), the
rest of every other province that has pilot cities and every province that has none. These have wave
"none": they go live only if a scenario says so (``pilot.nationwide``, ``pilot.province_start``,
``pilot.region_start``). The populations add up to the census total, 1,409,778,724.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd

WAVES = ("1", "2", "olympic", "3", "4")
NO_WAVE = "none"  # regions outside the pilot


def _read(name: str) -> pd.DataFrame:
    with files("model.data").joinpath(name).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, dtype={"wave": str})


@cache
def provinces() -> pd.DataFrame:
    """The 31 mainland provinces: province, population_2020, capital, lat, lon."""
    return _read("provinces.csv")


@cache
def regions() -> pd.DataFrame:
    """Every region in a fixed order (the pilot regions as in the file, then the rest of the mainland):
    region, province, kind, wave, pilot_start, full_pilot, population_2020, lat, lon, population_note."""
    pilots = _read("pilot_regions.csv")
    for column in ("pilot_start", "full_pilot"):
        pilots[column] = pd.to_datetime(pilots[column]).dt.date
    covered = pilots.groupby("province")["population_2020"].sum()
    rows = []
    for p in provinces().itertuples():
        left = int(p.population_2020 - covered.get(p.province, 0))
        if left < 0:
            raise ValueError(f"pilot regions of {p.province} hold more than its census population")
        if left == 0:
            continue
        whole = p.province not in covered.index
        rows.append(
            {
                "region": p.province if whole else f"{p.province} (rest)",
                "province": p.province,
                "kind": "province" if whole else "province-rest",
                "wave": NO_WAVE,
                "pilot_start": None,
                "full_pilot": None,
                "population_2020": left,
                "lat": p.lat,
                "lon": p.lon,
                "population_note": "2020 census (provinces.csv)"
                + ("" if whole else ": the province minus its pilot regions"),
            }
        )
    return pd.concat([pilots, pd.DataFrame(rows)], ignore_index=True)


@cache
def institutions() -> pd.DataFrame:
    """Operating institutions: id (the scenario key), institution, type, joins, staff_thousands."""
    frame = _read("institutions.csv")
    frame["joins"] = pd.to_datetime(frame["joins"]).dt.date
    return frame


@cache
def incentives() -> pd.DataFrame:
    """Published red-envelope lotteries, vouchers and giveaways with budget and, where known, uptake."""
    frame = _read("incentives.csv")
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


@cache
def events() -> pd.DataFrame:
    """Dated events that change behaviour or the rules (``events.csv``)."""
    frame = _read("events.csv")
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


@cache
def targets() -> pd.DataFrame:
    """Published figures: date, scope (national or a region), metric, value, unit, confidence, definition."""
    frame = _read("targets.csv")
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


@cache
def m0_series() -> pd.DataFrame:
    """M0 (currency in circulation) at year ends, yuan, with its source (``m0.csv``)."""
    frame = _read("m0.csv")
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


@cache
def _m0_points() -> tuple[np.ndarray, np.ndarray]:
    """``m0_series`` as (day ordinals, yuan): read once, as ``m0`` is asked every step."""
    frame = m0_series()
    days = np.array([d.toordinal() for d in frame["date"]], np.float64)
    return days, frame["m0_yuan"].to_numpy(np.float64)


def m0(day) -> float:
    """M0 on ``day``: interpolated between year ends, and beyond the last at the series' average growth."""
    days, values = _m0_points()
    t = float(day.toordinal())
    if t <= days[-1]:
        return float(np.interp(t, days, values))
    growth = (values[-1] / values[0]) ** (365.25 / (days[-1] - days[0])) - 1.0
    return float(values[-1] * (1.0 + growth) ** ((t - days[-1]) / 365.25))


def region_names() -> list[str]:
    return regions()["region"].tolist()


def province_names() -> list[str]:
    return provinces()["province"].tolist()


def bank_ids() -> list[str]:
    return institutions()["id"].tolist()
