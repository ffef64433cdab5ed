"""A scenario against its own horizon (``run.start`` to ``run.end``): what happens in it and what cannot.

* Lists of dated tables (``incentives.lotteries``, ``government.programmes`` and any list added later
  whose entries carry dates): an entry that starts outside the run is dropped, so shortening ``run.end``
  in a what-if does not fail against a lottery in a file the user never touched; one that starts within it
  and ends after it is cut at the run's end.
* Any other date (a wave, an operator joining, interoperability, ...) after ``run.end`` simply never
  happens in this run; that is probably not what the user meant, so it is warned about.

Both are found by walking the validated scenario, so new sections and levers are covered without a line
here. ``notice`` is the one warning line that names all of them.

Also here: when each region goes live (``region_starts``) and which regions a run simulates
(``simulated_regions``): the model holds agents only for regions that go live within the run, or, under
bank white lists, for every pilot region. ``EcnyModel`` builds its regions and agents from these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel

from . import domain

RUN_DATES = ("run.start", "run.end")


@dataclass(frozen=True)
class OutOfHorizon:
    dropped: tuple[str, ...]  # "incentives.lotteries.9 (Shenzhen, 2022-05-01 to 2022-05-31)"
    never: tuple[str, ...]  # "pilot.waves.4 (2026-03-01)"

    def __bool__(self) -> bool:
        return bool(self.dropped or self.never)


def trim(scenario: BaseModel, start: date, end: date) -> tuple[BaseModel, OutOfHorizon]:
    """``scenario`` without the dated list entries outside [start, end], and what was dropped or will
    never happen (dates after ``end``)."""
    dropped: list[str] = []
    never: list[str] = []
    trimmed = _trim(scenario, "", start, end, dropped, never)
    return trimmed, OutOfHorizon(tuple(dropped), tuple(never))


def cut(scenario: BaseModel, end: date) -> BaseModel:
    """``scenario`` ending on ``end`` with its dated entries trimmed to it, without a warning: the caller
    chose the cut (a horizon-invariant run, so it equals the full run up to ``end``)."""
    shorter = scenario.model_copy(update={"run": scenario.run.model_copy(update={"end": end})})
    return trim(shorter, scenario.run.start, end)[0]


def notice(found: OutOfHorizon, end: date) -> str:
    """The one warning line: what was dropped and what does not happen, for a run that ends on ``end``."""
    parts = []
    if found.dropped:
        parts.append(f"dropped, being outside the run: {', '.join(found.dropped)}")
    if found.never:
        parts.append(f"dated after its end, so they do not happen: {', '.join(found.never)}")
    return f"run.end = {end.isoformat()}: " + "; ".join(parts)


def _trim(node: BaseModel, prefix: str, start, end, dropped: list[str], never: list[str]) -> BaseModel:
    update: dict[str, Any] = {}
    for name in type(node).model_fields:
        value = getattr(node, name)
        key = f"{prefix}{name}"
        if key in RUN_DATES:
            continue
        if isinstance(value, BaseModel):
            new = _trim(value, key + ".", start, end, dropped, never)
            if new is not value:
                update[name] = new
        elif isinstance(value, list) and value and all(isinstance(v, BaseModel) for v in value):
            kept = []
            for i, entry in enumerate(value):
                days = _dates(entry)
                if days and not start <= min(days) <= end:
                    dropped.append(f"{key}.{i} ({_describe(entry, days)})")
                else:
                    kept.append(_trim(entry, f"{key}.{i}.", start, end, dropped, never))
            if len(kept) != len(value) or any(a is not b for a, b in zip(kept, value, strict=False)):
                update[name] = kept
        elif isinstance(value, dict):
            entries = {}
            for k, v in value.items():
                if isinstance(v, BaseModel):
                    entries[k] = _trim(v, f"{key}.{k}.", start, end, dropped, never)
                elif _after(v, end):
                    never.append(f"{key}.{k} ({v.isoformat()})")
            if any(entries[k] is not value[k] for k in entries):
                update[name] = {**value, **entries}
        elif _after(value, end):
            never.append(f"{key} ({value.isoformat()})")
    return node.model_copy(update=update) if update else node


def _after(value: Any, end: date) -> bool:
    return isinstance(value, date) and value > end


def _dates(entry: BaseModel) -> list[date]:
    return [v for v in (getattr(entry, f) for f in type(entry).model_fields) if isinstance(v, date)]


def _describe(entry: BaseModel, days: list[date]) -> str:
    """ "Shenzhen, 2022-05-01 to 2022-05-31": the entry's first text field and its date span."""
    texts = [v for v in (getattr(entry, f) for f in type(entry).model_fields) if isinstance(v, str) and v]
    span = days[0].isoformat() if len(days) == 1 else f"{min(days).isoformat()} to {max(days).isoformat()}"
    return ", ".join([*texts[:1], span])


# ---------------------------------------------------------------- regions simulated


def region_starts(scenario) -> list[date | None]:
    """Each region's go-live (in the order of ``domain.regions``), None for never.

    Its wave's date (the Olympic regions: the full-pilot date when their wave is "never"), or the
    region's own override; then no later than its province's date (``pilot.province_start``) and the
    nationwide date (``pilot.nationwide``), where set.
    """
    pilot = scenario.pilot
    waves = {w: _day(d) for w, d in pilot.waves.items()}
    full, nationwide = _day(pilot.olympic_full_pilot), _day(pilot.nationwide)
    starts: list[date | None] = []
    for row in domain.regions().itertuples():
        start = waves.get(row.wave)
        if row.wave == "olympic" and start is None:
            start = full
        if row.region in pilot.region_start:
            start = _day(pilot.region_start[row.region])
        starts.append(earliest(start, _day(pilot.province_start.get(row.province, "never")), nationwide))
    return starts


def simulated_regions(scenario) -> list[bool]:
    """Regions that hold agents in this run: live by ``run.end``, or any pilot region under white lists."""
    end = scenario.run.end
    whitelist = scenario.pilot.whitelist_start
    whitelisting = scenario.pilot.whitelist_share > 0 and whitelist != "never" and whitelist <= end
    pilots = (domain.regions()["wave"] != domain.NO_WAVE).tolist()
    return [
        (whitelisting and pilot) or (s is not None and s <= end)
        for s, pilot in zip(region_starts(scenario), pilots, strict=True)
    ]


def earliest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


def on(value, when: date) -> bool:
    """Whether a date-or-"never" lever has come by ``when``."""
    day = _day(value)
    return day is not None and day <= when


def _day(value) -> date | None:
    return None if value == "never" else value
