"""What a scenario's types cannot say: checks against the bundled data, the calendar and the scale.

``check_semantics`` yields (key path, value, what is allowed) for every problem; ``load_scenario`` raises
the first as a ``ScenarioError`` naming the file that set it. Besides names and dates in order, it refuses
the likely mistakes that would otherwise run without a word:

* a lottery envelope larger than the lottery's budget (no one could win);
* ``banks.operator_count`` above the number of operators that ever join in the scenario;
* shares (``*_shares``) that are not each in [0, 1] and sum to 1;
* a ``run.scale`` that leaves the largest region the run simulates with fewer than
  ``MIN_AGENTS_LARGEST_REGION`` (10) citizen agents. Every simulated region holds at least one agent by
  construction (``population.agent_counts``), so a region smaller than the scale is one agent whose
  adoption jumps from 0 to 100%; once even the largest region is a handful of agents, so is the whole run
  (at ``run.scale = 1e12`` the baseline is 32 agents, one per region, and ends at 100% adoption).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from . import domain, horizon

MIN_AGENTS_LARGEST_REGION = 10
SHARE_TOLERANCE = 1e-6


def check_semantics(s) -> Iterator[tuple[str, Any, str]]:
    """Yield (key path, value, what is allowed) for every rule the types cannot express."""
    yield from _calendar(s)
    yield from _names(s)
    yield from _lotteries(s)
    yield from _operators(s)
    yield from _shares(s, "")
    if s.behaviour.network_degree % 2:
        yield "behaviour.network_degree", s.behaviour.network_degree, "an even number"
    yield from _scale(s)


def _calendar(s) -> Iterator[tuple[str, Any, str]]:
    start, end = s.run.start, s.run.end
    if end <= start:
        yield "run.end", end.isoformat(), f"a date after run.start ({start})"
    elif (end - start).days < s.run.step_days:
        yield (
            "run.end",
            end.isoformat(),
            f"at least one step ({s.run.step_days} days) after run.start ({start})",
        )
    for wave in s.pilot.waves:
        if wave not in domain.WAVES:
            yield f"pilot.waves.{wave}", wave, f"one of the waves {', '.join(domain.WAVES)}"
    for wave in domain.WAVES:
        if wave not in s.pilot.waves:
            yield f"pilot.waves.{wave}", "(missing)", 'a date or "never" for every wave'
    waves = [(w, s.pilot.waves.get(w, "never")) for w in domain.WAVES]  # calendar order, not file order
    dated = [(w, d) for w, d in waves if w != "olympic" and d != "never"]
    for (w1, d1), (w2, d2) in zip(dated, dated[1:], strict=False):
        if d2 < d1:
            yield f"pilot.waves.{w2}", d2.isoformat(), f"not before wave {w1} ({d1})"
    olympic, full = s.pilot.waves.get("olympic", "never"), s.pilot.olympic_full_pilot
    if olympic != "never" and full != "never" and full < olympic:
        yield "pilot.olympic_full_pilot", full.isoformat(), f"not before the olympic wave ({olympic})"


def _names(s) -> Iterator[tuple[str, Any, str]]:
    regions, banks = domain.region_names(), domain.bank_ids()
    for region in s.pilot.region_start:
        if region not in regions:
            yield (
                f"pilot.region_start.{region}",
                region,
                f"a region (pilot_regions.csv, or the rest of a province): {', '.join(regions)}",
            )
    for bank in s.banks.operators:
        if bank not in banks:
            yield (
                f"banks.operators.{bank}",
                bank,
                f"an institution id from institutions.csv: {', '.join(banks)}",
            )
    provinces = domain.province_names()
    for province in s.pilot.province_start:
        if province not in provinces:
            yield (
                f"pilot.province_start.{province}",
                province,
                f"a province from provinces.csv: {', '.join(provinces)}",
            )
    if not s.banks.campaign:
        yield "banks.campaign", "{}", "at least one date with the sign-ups asked of each employee a year"


def _lotteries(s) -> Iterator[tuple[str, Any, str]]:
    regions = domain.region_names()
    dated = [
        ("incentives.lotteries", s.incentives.lotteries),
        ("government.programmes", s.government.programmes),
    ]
    for table, rows in dated:
        for i, entry in enumerate(rows):
            key = f"{table}.{i}"
            if entry.region not in regions:
                yield f"{key}.region", entry.region, f"a region: {', '.join(regions)}"
            if entry.end < entry.start:
                yield f"{key}.end", entry.end.isoformat(), f"not before its start ({entry.start})"
    for i, entry in enumerate(s.government.wages):
        if entry.region not in regions:
            yield f"government.wages.{i}.region", entry.region, f"a region: {', '.join(regions)}"
    for i, lottery in enumerate(s.incentives.lotteries):
        key = f"incentives.lotteries.{i}"
        if lottery.envelope_yuan > lottery.budget_yuan:
            yield (
                f"{key}.envelope_yuan",
                lottery.envelope_yuan,
                f"at most the lottery's budget_yuan ({lottery.budget_yuan:g}): "
                "a larger envelope has no winner",
            )


def joining_operators(s) -> list[str]:
    """Operators that ever join in the scenario (the city banks only once the platform connects them)."""
    joining = [bank for bank, op in s.banks.operators.items() if op.joins != "never"]
    if s.banks.interconnection_date == "never" and "CityBanks" in joining:
        joining.remove("CityBanks")
    return joining


def _operators(s) -> Iterator[tuple[str, Any, str]]:
    waves = [d for w, d in s.pilot.waves.items() if d != "never"]
    first = min(waves) if waves else None
    for bank, op in s.banks.operators.items():
        if first is not None and op.joins != "never" and op.joins < first:
            yield (
                f"banks.operators.{bank}.joins",
                op.joins,
                f"not before the pilot starts ({first.isoformat()}, the first wave)",
            )
    count = s.banks.operator_count
    joining = joining_operators(s)
    if count is not None and count > len(joining):
        yield (
            "banks.operator_count",
            count,
            f"at most the {len(joining)} operators that join in this scenario ({', '.join(joining)})",
        )


def _shares(node: BaseModel, prefix: str) -> Iterator[tuple[str, Any, str]]:
    """Every field named ``*_shares`` (here or in a nested table): each share in [0, 1], summing to 1."""
    for name in type(node).model_fields:
        value = getattr(node, name)
        if isinstance(value, BaseModel):
            yield from _shares(value, f"{prefix}{name}.")
        elif name.endswith("_shares") and isinstance(value, tuple | list):
            key = f"{prefix}{name}"
            if any(not 0 <= v <= 1 for v in value):
                yield key, list(value), "shares each from 0 to 1"
            elif not math.isclose(sum(value), 1.0, abs_tol=SHARE_TOLERANCE):
                yield key, list(value), f"shares summing to 1 (these sum to {sum(value):g})"


def _scale(s) -> Iterator[tuple[str, Any, str]]:
    frame = domain.regions()
    simulated = horizon.simulated_regions(s)
    held = [
        (p, r) for p, r, on in zip(frame["population_2020"], frame["region"], simulated, strict=True) if on
    ]
    if not held:
        return
    population, region = max(held)
    if population / s.run.scale < MIN_AGENTS_LARGEST_REGION:
        yield (
            "run.scale",
            s.run.scale,
            f"at most {population / MIN_AGENTS_LARGEST_REGION:,.0f}, so that {region}, the largest region "
            f"this run simulates, holds at least {MIN_AGENTS_LARGEST_REGION} agents",
        )
