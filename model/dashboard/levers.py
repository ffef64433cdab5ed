"""The dashboard's levers: which scenario keys a policy user can move, their widgets and their defaults.

A lever is a keyword of ``PolicyModel`` (SolaraViz rebuilds the model from keywords) and a dotted key path of
the scenario file, so a lever value becomes an ``overrides`` entry for ``load_scenario`` and is validated by
exactly the same checks as a TOML file: a bad value gets the same ``ScenarioError`` message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..scenario import Scenario


@dataclass(frozen=True)
class Lever:
    name: str  # keyword of PolicyModel
    key: str  # dotted scenario key path
    label: str
    kind: str  # "date" (a Select of dates and "never"), "int" or "float" (sliders)
    low: float = 0.0
    high: float = 1.0
    step: float = 0.1


LEVERS: tuple[Lever, ...] = (
    Lever("wave_3", "pilot.waves.3", "Wave 3 go-live", "date"),
    Lever("wave_4", "pilot.waves.4", "Wave 4 go-live", "date"),
    Lever(
        "operator_count", "banks.operator_count", "Operating institutions (first N to join)", "int", 1, 1, 1
    ),
    Lever(
        "target_intensity", "banks.target_intensity", "Bank wallet-target intensity (x)", "float", 0, 3, 0.1
    ),
    Lever(
        "lottery_budget_multiplier",
        "incentives.lottery_budget_multiplier",
        "Lottery budget (x published)",
        "float",
        0,
        5,
        0.25,
    ),
    Lever(
        "merchant_fee",
        "incumbents.merchant_fee",
        "Incumbent merchant fee (0.006 = 0.6%)",
        "float",
        0,
        0.02,
        0.001,
    ),
    Lever(
        "payroll_share", "government.payroll_share", "Government payroll share in e-CNY", "float", 0, 1, 0.05
    ),
    Lever(
        "interoperability_date", "incumbents.interoperability_date", "Alipay/WeChat interoperability", "date"
    ),
)
BY_NAME = {lever.name: lever for lever in LEVERS}


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def operator_total(scenario: Scenario) -> int:
    """Operators that ever join in this scenario: the top of the operator-count slider."""
    return max(1, sum(op.joins != "never" for op in scenario.banks.operators.values()))


def lever_defaults(scenario: Scenario) -> dict[str, Any]:
    """Each lever's value in ``scenario`` (dates as ISO text or "never", as the Select shows them)."""
    s = scenario
    return {
        "wave_3": _text(s.pilot.waves.get("3", "never")),
        "wave_4": _text(s.pilot.waves.get("4", "never")),
        "operator_count": int(s.banks.operator_count or operator_total(s)),
        "target_intensity": float(s.banks.target_intensity),
        "lottery_budget_multiplier": float(s.incentives.lottery_budget_multiplier),
        "merchant_fee": float(s.incumbents.merchant_fee),
        "payroll_share": float(s.government.payroll_share),
        "interoperability_date": _text(s.incumbents.interoperability_date),
    }


def date_choices(scenario: Scenario, *extra: str) -> list[str]:
    """Quarter starts over the run's horizon, the scenario's own dates, then "never": what a Select offers.

    Quarters are fine enough for policy timing and keep the list short; any date can still be set in TOML.
    """
    start, end = scenario.run.start, scenario.run.end
    quarters = [
        date(year, month, 1)
        for year in range(start.year, end.year + 1)
        for month in (1, 4, 7, 10)
        if start <= date(year, month, 1) <= end
    ]
    dates = {q.isoformat() for q in quarters} | {e for e in extra if e != "never"}
    return sorted(dates) + ["never"]


def overrides(values: dict[str, Any]) -> dict[str, Any]:
    """Lever values -> ``load_scenario`` overrides (dotted key paths); unknown names are an error."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        lever = BY_NAME.get(name)
        if lever is None:
            raise KeyError(f"unknown lever {name!r}: one of {sorted(BY_NAME)}")
        if lever.kind == "int":
            value = int(value)
        elif lever.kind == "float":
            value = round(float(value), 6)  # slider arithmetic leaves 0.30000000000000004
        else:
            value = _text(value).strip()
        out[lever.key] = value
    return out


def changed(values: dict[str, Any], baseline: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Levers whose value differs from the baseline's: name -> (baseline value, new value)."""
    new, old = overrides(values), overrides({k: baseline[k] for k in values})
    return {
        lever.name: (old[lever.key], new[lever.key])
        for lever in LEVERS
        if lever.key in new and new[lever.key] != old[lever.key]
    }


def model_params(scenario: Scenario, fixed: dict[str, Any]) -> dict[str, Any]:
    """SolaraViz ``model_params``: one widget per lever at the scenario's value, plus fixed keywords."""
    defaults = lever_defaults(scenario)
    params: dict[str, Any] = {}
    for lever in LEVERS:
        value = defaults[lever.name]
        if lever.kind == "date":
            params[lever.name] = {
                "type": "Select",
                "label": lever.label,
                "value": value,
                "values": date_choices(scenario, value),
            }
        elif lever.kind == "int":
            params[lever.name] = {
                "type": "SliderInt",
                "label": lever.label,
                "value": value,
                "min": int(lever.low),
                "max": operator_total(scenario),
                "step": int(lever.step),
            }
        else:
            params[lever.name] = {
                "type": "SliderFloat",
                "label": lever.label,
                "value": value,
                "min": lever.low,
                "max": max(lever.high, value),
                "step": lever.step,
            }
    params.update(fixed)
    return params
