"""Scenario files: TOML in, a validated and resolved ``Scenario`` out.

A file may say ``extends = "other.toml"`` and state only its differences: tables merge key by key, any other
value (arrays included) replaces the parent's. ``name`` and ``description`` describe the file itself and
are never inherited: a what-if without a ``name`` is named after its own file. The merged document is
validated once, by pydantic for types, bounds and unknown keys, then against the bundled data (regions,
banks), the calendar and the scale (``model.checks``). Every failure is a ``ScenarioError`` naming the
file that set the value, the key path, the value and what is allowed.

Dated entries of lists (lotteries) outside the run are dropped and dates after its end noted
(``model.horizon``): both are reported as one ``ScenarioWarning``.
"""

from __future__ import annotations

import math
import warnings
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from . import checks, horizon, messages, paths
from .behaviour import Behaviour, Population
from .documents import SWEEP_KEYS, read_document
from .errors import ScenarioError, ScenarioWarning

__all__ = ["Scenario", "ScenarioError", "ScenarioWarning", "load_scenario", "set_path"]

FIRST_DAY = date(2019, 12, 1)  # the first e-CNY trials (Shenzhen, Suzhou, Xiong'an, Chengdu) were announced
LAST_DAY = date(2030, 12, 31)  # the engine's calendar and the project's horizon end here
Never = Literal["never"]
When = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)] | Never  # a date the calendar holds, or never
Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Name = Annotated[str, AfterValidator(paths.check_name)]
MAX_EXTENDS = 20  # files in one extends chain: the shipped chains have 3
ENTRY_KEYS = ("name", "description")  # describe one file: not inherited through extends


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class RunSettings(Strict):
    start: date = Field(ge=FIRST_DAY, le=LAST_DAY)
    end: date = Field(ge=FIRST_DAY, le=LAST_DAY)
    step_days: int = Field(7, ge=1, le=31)
    seed: int = Field(ge=0, lt=2**63)
    # at least one resident per agent; the upper end is checked against the regions (model.checks)
    scale: float = Field(ge=1, description="residents represented by one citizen agent")
    engine: Literal["vectorized", "agents"] = "vectorized"


class Pilot(Strict):
    waves: dict[str, When] = Field(description="go-live date of each wave, or 'never'")
    olympic_full_pilot: When = Field(description="Olympic-only regions become full pilots")
    olympic_merchant_coverage: Share = Field(description="merchants reachable before full pilot")
    closed_tests_end: When = Field("never", description="the first pilot cities' closed tests end")
    closed_merchant_coverage: Share = Field(1.0, description="merchants reachable in the closed tests")
    region_start: dict[str, When] = Field(default_factory=dict, description="per-region override")
    province_start: dict[str, When] = Field(
        default_factory=dict, description="every region of the province live by then (if not earlier)"
    )
    nationwide: When = Field("never", description="every region of the mainland live by then")
    whitelist_start: When = "never"
    whitelist_share: Share = 0.0


class Operator(Strict):
    joins: When
    # ICBC and ABC, the largest, employ about 450 thousand; 2,000 thousand is four times that
    staff_thousands: float | None = Field(
        None, ge=0.0, le=2000.0, description="employees, thousands (default: institutions.csv)"
    )
    # its staff targets relative to the campaign's: 1 = the state banks' of 2021; 20 is far beyond any
    target_intensity: float = Field(1.0, ge=0.0, le=20.0)
    # baseline 0.3-1.5 (in sign-ups asked per resident a year); 100 would swamp every campaign
    reach: float = Field(
        1.0, ge=0.0, le=100.0, description="organic pull on the choice of a wallet's bank or an acquirer"
    )


class Banks(Strict):
    # multiplies every operator's staff targets: the sweeps and the dashboard use 0-5
    target_intensity: float = Field(1.0, ge=0.0, le=100.0, description="multiplies every operator's targets")
    operator_count: int | None = Field(None, ge=1, description="keep the first N operators to join")
    # wallet sign-ups asked of each employee a year, by date (linear between dates, flat outside): the
    # targets reported in 2021 were 200-300; 5,000 (twenty a working day) is the ceiling
    campaign: dict[date, Annotated[float, Field(ge=0.0, le=5000.0)]] = Field(
        description="wallet sign-ups asked of each bank employee a year, by date"
    )
    interconnection_date: When = Field(description="city commercial banks connect via the platform")
    allocation: Literal["market_left", "population"] = Field(
        "market_left",
        description="how a bank spreads its campaign over live regions: by residents still to win "
        "(the one channel between regions) or the same per resident everywhere (none)",
    )
    operators: dict[str, Operator]


class Lottery(Strict):
    region: str
    start: date
    end: date
    # published lotteries held 10-40 million yuan (incentives.csv); 10 bn is 250 times the largest
    budget_yuan: float = Field(ge=0.0, le=1e10)
    # published envelopes were 6.7-238 yuan
    envelope_yuan: float = Field(gt=0, le=1e4)
    label: str = Field("", max_length=200)


class App(Strict):
    launch: When = Field(description="the public e-CNY app: app wallets, and lotteries entered through it")


class Programme(Strict):
    region: str
    start: date
    end: date
    # Suzhou paid 58.7 bn in 2022 (subsidies and loans); 10 tn a year is more than any region's budget
    yuan_per_year: float = Field(ge=0.0, le=1e13, description="subsidies, procurement and loans in e-CNY")
    label: str = Field("", max_length=200)


class Wages(Strict):
    region: str
    start: date
    # Taicang's wages from June 2022 are 6.5% of Suzhou's residents; 1 is all public pay of the region
    share: Share = Field(description="share of the region's public pay in e-CNY from then on (added)")
    label: str = Field("", max_length=200)


class Incentives(Strict):
    # 0 (none) to 5 times the published budgets in the sweeps and the dashboard
    lottery_budget_multiplier: float = Field(1.0, ge=0.0, le=100.0)
    lotteries: list[Lottery] = Field(default_factory=list)


class Government(Strict):
    # the lever: a share of public pay in e-CNY in every live region (none in the history: wages in e-CNY
    # were local, and are listed in ``wages``)
    payroll_share: Share = Field(description="share of public salaries in e-CNY in every live region")
    payments_start: When
    wages: list[Wages] = Field(default_factory=list)
    public_service_acceptance: Share = Field(description="target share of public services accepting")
    # the average wage in public administration was 111,361 yuan in 2021 (NBS); 1 m is nine times that
    wage_yuan_per_year: float = Field(111_361.0, ge=0.0, le=1e6, description="public-sector wage")
    programmes: list[Programme] = Field(default_factory=list)


class Incumbents(Strict):
    merchant_fee: float = Field(ge=0.0, le=0.05, description="Alipay/WeChat Pay fee, e.g. 0.006")
    interoperability_date: When


class Wallets(Strict):
    # China's demand-deposit rate was 0.05-0.35% in 2025; 5% is above any deposit rate of the decade
    interest_rate: float = Field(0.0, ge=0.0, le=0.05, description="yearly interest on wallet balances")
    interest_start: When = Field("never", description="balances pay interest from (2026-01-01)")


class Scenario(Strict):
    name: Name
    description: str = Field("", max_length=500)
    run: RunSettings
    pilot: Pilot
    banks: Banks
    app: App
    incentives: Incentives = Incentives()
    government: Government
    incumbents: Incumbents
    wallets: Wallets = Wallets()
    population: Population = Population()
    behaviour: Behaviour = Behaviour()

    def dump(self) -> dict[str, Any]:
        """The resolved scenario as JSON-ready data (dates as ISO strings)."""
        return self.model_dump(mode="json")


# ---------------------------------------------------------------- loading and merging


def _merge(base: dict, top: dict, origin: dict, top_file: Path, prefix: str = "") -> dict:
    """Deep-merge ``top`` into ``base``; record in ``origin`` which file set each key path."""
    merged = dict(base)
    for key, value in top.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, origin, top_file, path + ".")
        else:
            merged[key] = value
            for known in [k for k in origin if k == path or k.startswith(path + ".")]:
                del origin[known]
            origin[path] = top_file
    return merged


def _resolve(path: Path, chain: tuple[Path, ...], origin: dict) -> dict[str, Any]:
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(chain[-1], "extends", path.name, f"extends cycle: {cycle}")
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(
            chain[-1], "extends", path.name, f"at most {MAX_EXTENDS} files in an extends chain"
        )
    referrer = (chain[-1], "extends") if chain else None
    document = read_document(path, "scenario", referrer)
    parent_name = document.pop("extends", None)
    if parent_name is None:
        return _merge({}, document, origin, path)
    if not isinstance(parent_name, str) or not parent_name.endswith(".toml"):
        raise ScenarioError(path, "extends", parent_name, 'a scenario file name such as "baseline.toml"')
    parent = _resolve(path.parent / parent_name, (*chain, path), origin)
    for key in ENTRY_KEYS:
        parent.pop(key, None)
        origin.pop(key, None)
    return _merge(parent, document, origin, path)


def set_path(document: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c`` in a nested dict, creating tables on the way (levers, command-line options)."""
    *tables, last = dotted.split(".")
    node = document
    for key in tables:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ScenarioError("(override)", dotted, value, f"'{key}' is not a table")
    node[last] = value


def _origin_of(origin: dict[str, Path], key: str, default: Path) -> Path:
    """The file that set ``key`` or the nearest enclosing table."""
    parts = key.split(".")
    for n in range(len(parts), 0, -1):
        found = origin.get(".".join(parts[:n]))
        if found is not None:
            return found
    return default


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, merge (``extends``), override (dotted key paths) and validate a scenario file.

    Lotteries outside the run are dropped and dates after its end are noted: one ``ScenarioWarning``.
    """
    path = Path(path)
    origin: dict[str, Path] = {}
    document = _resolve(path, (), origin)
    _check_kind(path, document)
    for key, value in (overrides or {}).items():
        set_path(document, key, value)
        origin[key] = Path("(override)")
    document.setdefault("name", path.stem)
    for key, value in _non_finite(document):
        raise ScenarioError(_origin_of(origin, key, path), key, value, "a finite number (not inf or nan)")
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as exc:
        key, value, allowed = messages.explain(exc, Scenario)
        raise ScenarioError(_origin_of(origin, key, path), key, value, allowed) from None
    for key, value, allowed in checks.check_semantics(scenario):
        raise ScenarioError(_origin_of(origin, key, path), key, value, allowed)
    trimmed, found = horizon.trim(scenario, scenario.run.start, scenario.run.end)
    if found:
        setter = _origin_of(origin, "run.end", path)
        by = (
            ""
            if setter == path.resolve()
            else f" (run.end set by {setter})".replace("by (override)", "by an override")
        )
        warnings.warn(ScenarioWarning(f"{path}{by}: {horizon.notice(found, scenario.run.end)}"), stacklevel=2)
    return trimmed


def _check_kind(path: Path, document: dict[str, Any]) -> None:
    """An empty file, a sweep file or a fragment given where a whole scenario is needed: say what it is."""
    if not document:
        raise ScenarioError(
            path,
            "",
            None,
            "empty file; a scenario sets [run], [pilot], [banks], ... (see scenarios/baseline.toml)",
        )
    sweep = [k for k in SWEEP_KEYS if k in document]
    if sweep:
        raise ScenarioError(
            path,
            "",
            None,
            f"a sweep file (it sets {', '.join(sweep)}), not a scenario: run it with run.py sweep FILE",
        )
    required = [
        name for name, field in Scenario.model_fields.items() if field.is_required() and name != "name"
    ]
    missing = [name for name in required if name not in document]
    if len(missing) > 1:
        tables = ", ".join(f"[{name}]" for name in missing)
        raise ScenarioError(
            path,
            "",
            None,
            f"not a whole scenario (no {tables}): a fragment like this is used by a scenario that says "
            f'extends = "{path.name}"; run.py takes a whole scenario such as scenarios/baseline.toml',
        )


def _non_finite(document: dict[str, Any]):
    """(key path, value) of every inf or nan in the document (iterative; documents are depth-limited)."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            yield where, node
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list | tuple)
            else ()
        )
        stack.extend((f"{where}.{k}" if where else str(k), v) for k, v in reversed(list(items)))
