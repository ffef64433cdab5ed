"""The dashboard's levers: which scenario keys a policy user can move, their widgets and their defaults.

A lever is a keyword of ``PolicyModel`` (SolaraViz rebuilds the model from keywords) and a dotted key path of
the scenario file, so a lever value becomes an ``overrides`` entry for ``load_scenario`` and is validated by
exactly the same checks as a TOML file: a bad value gets the same ``ScenarioError`` message.

One lever is not one key: "the operators of 2026" (a Checkbox) sets ``joins`` of each operator of the
start file that joined with the 2026 reform (``institutions.csv``: on or after ``REFORM_2026``), to
"never" when off and back to the file's date (or the published one) when on, which is exactly what
``scenarios/outlook_no_new_operators.toml`` does to ``outlook_2030.toml``. It leaves ``operator_count``
(first N to join) to its own slider.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .. import domain
from ..scenario import LAST_DAY, Scenario, Wallets

REFORM_2026 = date(2026, 1, 1)  # PBOC action plan of 2025-12-29: the twelve new operators joined 2026-04-02
NEW_OPERATORS = "new_operators"
# the interest-rate slider spans what scenario.Wallets allows (0 to 5% a year, above any deposit rate of the
# decade); 0.0005 a step is the state banks' 2025 demand-deposit rate, the outlook's value
INTEREST_MAX = next(m.le for m in Wallets.model_fields["interest_rate"].metadata if hasattr(m, "le"))


@dataclass(frozen=True)
class Lever:
    name: str  # keyword of PolicyModel
    key: str  # dotted scenario key path
    label: str
    kind: str  # "date" (a Select of dates), "int" or "float" (sliders), "switch" (a Checkbox)
    low: float = 0.0
    high: float = 1.0
    step: float = 0.1
    choices: tuple[str, ...] = ()  # a date lever's options; empty: every quarter start and "never"


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
    Lever(
        "nationwide",
        "pilot.nationwide",
        "Nationwide go-live (every province)",
        "date",
        choices=("never", *(f"{year}-01-01" for year in range(2021, 2031))),
    ),
    Lever(
        "interest_rate",
        "wallets.interest_rate",
        "Interest on wallets (0.0005 = 0.05%/yr)",
        "float",
        0,
        INTEREST_MAX,
        0.0005,
    ),
    Lever("interest_start", "wallets.interest_start", "Wallet interest from", "date"),
    Lever(NEW_OPERATORS, "banks.operators", "The 12 operators of 2026 join", "switch"),
    Lever(
        "run_end",
        "run.end",
        "Run ends",
        "date",
        choices=tuple(f"{year}-12-31" for year in range(2025, LAST_DAY.year + 1)),
    ),
)
BY_NAME = {lever.name: lever for lever in LEVERS}


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def operator_total(scenario: Scenario) -> int:
    """Operators that ever join in this scenario: the top of the operator-count slider."""
    return max(1, sum(op.joins != "never" for op in scenario.banks.operators.values()))


def reform_operators(scenario: Scenario) -> dict[str, date]:
    """The start file's operators of the 2026 reform -> the date they join when the switch is on: the
    file's own date, else the published one (an operator the file lists as "never", as
    ``outlook_no_new_operators.toml`` does)."""
    published = dict(zip(domain.institutions()["id"], domain.institutions()["joins"], strict=True))
    out = {}
    for bank, op in scenario.banks.operators.items():
        when = op.joins if op.joins != "never" else published.get(bank)
        if isinstance(when, date) and when >= REFORM_2026:
            out[bank] = when
    return out


def lever_defaults(scenario: Scenario) -> dict[str, Any]:
    """Each lever's value in ``scenario`` (dates as ISO text or "never", as the Select shows them)."""
    s = scenario
    ops = s.banks.operators
    return {
        "wave_3": _text(s.pilot.waves.get("3", "never")),
        "wave_4": _text(s.pilot.waves.get("4", "never")),
        "operator_count": int(s.banks.operator_count or operator_total(s)),
        "target_intensity": float(s.banks.target_intensity),
        "lottery_budget_multiplier": float(s.incentives.lottery_budget_multiplier),
        "merchant_fee": float(s.incumbents.merchant_fee),
        "payroll_share": float(s.government.payroll_share),
        "interoperability_date": _text(s.incumbents.interoperability_date),
        "nationwide": _text(s.pilot.nationwide),
        "interest_rate": float(s.wallets.interest_rate),
        "interest_start": _text(s.wallets.interest_start),
        NEW_OPERATORS: any(ops[bank].joins != "never" for bank in reform_operators(s)),
        "run_end": _text(s.run.end),
    }


def date_choices(scenario: Scenario, *extra: str) -> list[str]:
    """Quarter starts from the run's start to the project's horizon (2030: the run-end lever can reach
    it), the scenario's own dates, then "never": what a Select offers.

    Quarters are fine enough for policy timing and keep the list short; any date can still be set in TOML.
    """
    start = scenario.run.start
    quarters = [
        date(year, month, 1)
        for year in range(start.year, LAST_DAY.year + 1)
        for month in (1, 4, 7, 10)
        if start <= date(year, month, 1) <= LAST_DAY
    ]
    dates = {q.isoformat() for q in quarters} | {e for e in extra if e != "never"}
    return sorted(dates) + ["never"]


def _choices(lever: Lever, scenario: Scenario, value: str) -> list[str]:
    if not lever.choices:
        return date_choices(scenario, value)
    dates = sorted({c for c in lever.choices if c != "never"} | ({value} - {"never"}))
    return (["never"] if "never" in lever.choices or value == "never" else []) + dates


def normal(name: str, value: Any) -> Any:
    """A lever value as the scenario takes it: ints, floats without slider dust, dates as ISO text."""
    lever = BY_NAME.get(name)
    if lever is None:
        raise KeyError(f"unknown lever {name!r}: one of {sorted(BY_NAME)}")
    if lever.kind == "int":
        return int(value)
    if lever.kind == "float":
        return round(float(value), 6)  # slider arithmetic leaves 0.30000000000000004
    if lever.kind == "switch":
        return bool(value)
    return _text(value).strip()


def overrides(values: dict[str, Any], start: Scenario | None = None) -> dict[str, Any]:
    """Lever values -> ``load_scenario`` overrides (dotted key paths); unknown names are an error.

    The 2026-operators switch needs the ``start`` scenario (which operators it turns on or off)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        value = normal(name, value)
        if name == NEW_OPERATORS:
            if start is None:
                raise ValueError(f"the {name!r} lever needs the start scenario")
            for bank, joins in reform_operators(start).items():
                out[f"banks.operators.{bank}.joins"] = joins.isoformat() if value else "never"
        else:
            out[BY_NAME[name].key] = value
    return out


def changed(values: dict[str, Any], baseline: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Levers whose value differs from the baseline's: name -> (baseline value, new value)."""
    out = {}
    for lever in LEVERS:
        if lever.name in values:
            old, new = normal(lever.name, baseline[lever.name]), normal(lever.name, values[lever.name])
            if old != new:
                out[lever.name] = (old, new)
    return out


def model_params(scenario: Scenario, fixed: dict[str, Any]) -> dict[str, Any]:
    """SolaraViz ``model_params``: one widget per lever at the scenario's value, plus fixed keywords.

    The 2026-operators switch shows only when the scenario has such operators (``outlook_2030.toml``)."""
    defaults = lever_defaults(scenario)
    params: dict[str, Any] = {}
    for lever in LEVERS:
        value = defaults[lever.name]
        if lever.kind == "date":
            params[lever.name] = {
                "type": "Select",
                "label": lever.label,
                "value": value,
                "values": _choices(lever, scenario, value),
            }
        elif lever.kind == "switch":
            if reform_operators(scenario):
                params[lever.name] = {"type": "Checkbox", "label": lever.label, "value": value}
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
