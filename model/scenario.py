"""Scenario files: TOML in, a validated and resolved ``Scenario`` out.

A file may say ``extends = "other.toml"`` and state only its differences: tables merge key by key, any other
value (arrays included) replaces the parent's. The merged document is validated once, by pydantic for types,
bounds and unknown keys, then against the bundled data (regions, banks) and the calendar. Every failure is a
``ScenarioError`` naming the file that set the value, the key path, the value and what is allowed.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import domain
from .behaviour import Behaviour, Population

Never = Literal["never"]
When = date | Never
Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]


class ScenarioError(ValueError):
    """A scenario that cannot run. ``str()`` is the one message the user sees."""

    def __init__(self, file: str | Path, key: str, value: Any, allowed: str) -> None:
        self.file, self.key, self.value, self.allowed = str(file), key, value, allowed
        super().__init__(f"{self.file}: {key or '(top level)'} = {value!r}: {allowed}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunSettings(Strict):
    start: date
    end: date = Field(le=date(2030, 12, 31))
    step_days: int = Field(7, ge=1, le=31)
    seed: int = Field(ge=0, lt=2**63)
    scale: float = Field(gt=0, description="residents represented by one citizen agent")
    engine: Literal["vectorized", "agents"] = "vectorized"


class Pilot(Strict):
    waves: dict[str, When] = Field(description="go-live date of each wave, or 'never'")
    olympic_full_pilot: When = Field(description="Olympic-only regions become full pilots")
    olympic_merchant_coverage: Share = Field(description="merchants reachable before full pilot")
    region_start: dict[str, When] = Field(default_factory=dict, description="per-region override")
    province_start: dict[str, When] = Field(
        default_factory=dict, description="every region of the province live by then (if not earlier)"
    )
    nationwide: When = Field("never", description="every region of the mainland live by then")
    whitelist_start: When = "never"
    whitelist_share: Share = 0.0


class Operator(Strict):
    joins: When
    staff_thousands: NonNegative | None = Field(None, description="employees; default institutions.csv")
    target_intensity: NonNegative = Field(1.0, description="its staff targets, relative to the campaign")
    reach: NonNegative = Field(1.0, description="organic pull on the choice of a wallet or an acquirer")


class Banks(Strict):
    target_intensity: NonNegative = Field(1.0, description="multiplies every operator's staff targets")
    operator_count: int | None = Field(None, ge=1, description="keep the first N operators to join")
    campaign: dict[date, NonNegative] = Field(
        description="wallet sign-ups asked of each bank employee a year, by date (linear in between)"
    )
    interconnection_date: When = Field(description="city commercial banks connect via the platform")
    allocation: Literal["market_left", "population"] = Field(
        "market_left",
        description="how a bank spreads its budget over live regions: by residents still to win "
        "(the one channel between regions) or the same yuan per resident everywhere (none)",
    )
    operators: dict[str, Operator]


class Lottery(Strict):
    region: str
    start: date
    end: date
    budget_yuan: NonNegative
    envelope_yuan: float = Field(gt=0)
    label: str = ""


class App(Strict):
    launch: When = Field(description="the public e-CNY app: app wallets, and lotteries entered through it")


class Programme(Strict):
    region: str
    start: date
    end: date
    yuan_per_year: NonNegative = Field(description="subsidies, procurement and loans paid in e-CNY")
    label: str = ""


class Incentives(Strict):
    lottery_budget_multiplier: NonNegative = 1.0
    lotteries: list[Lottery] = Field(default_factory=list)


class Government(Strict):
    payroll_share: Share = Field(description="share of public salaries and subsidies paid in e-CNY")
    payments_start: When
    public_service_acceptance: Share = Field(description="target share of public services accepting")
    wage_yuan_per_year: NonNegative = Field(
        111_361, description="average public-sector wage (NBS 2021, public administration)"
    )
    programmes: list[Programme] = Field(default_factory=list)


class Incumbents(Strict):
    merchant_fee: float = Field(ge=0.0, le=0.05, description="Alipay/WeChat Pay fee, e.g. 0.006")
    interoperability_date: When


class Scenario(Strict):
    name: str
    description: str = ""
    run: RunSettings
    pilot: Pilot
    banks: Banks
    app: App
    incentives: Incentives = Incentives()
    government: Government
    incumbents: Incumbents
    population: Population = Population()
    behaviour: Behaviour = Behaviour()

    def dump(self) -> dict[str, Any]:
        """The resolved scenario as JSON-ready data (dates as ISO strings)."""
        return self.model_dump(mode="json")


# ---------------------------------------------------------------- loading and merging


def _read_toml(path: Path, referrer: tuple[Path, str] | None) -> dict[str, Any]:
    if not path.is_file():
        where, key = referrer if referrer else (path, "")
        raise ScenarioError(where, key, str(path), "no such scenario file")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, "", "(file)", f"not valid TOML: {exc}") from None


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
    referrer = (chain[-1], "extends") if chain else None
    document = _read_toml(path, referrer)
    parent_name = document.pop("extends", None)
    if parent_name is None:
        return _merge({}, document, origin, path)
    if not isinstance(parent_name, str):
        raise ScenarioError(path, "extends", parent_name, "a file name such as 'baseline.toml'")
    parent = _resolve(path.parent / parent_name, (*chain, path), origin)
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
    """Read, merge (``extends``), override (dotted key paths) and validate a scenario file."""
    path = Path(path)
    origin: dict[str, Path] = {}
    document = _resolve(path, (), origin)
    for key, value in (overrides or {}).items():
        set_path(document, key, value)
        origin[key] = Path("(override)")
    document.setdefault("name", path.stem)
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as exc:
        errors = exc.errors()
        key, fields = _key_path(errors[0]["loc"])
        same_key = [e for e in errors if _key_path(e["loc"])[0] == key]
        allowed = " or ".join(dict.fromkeys(_allowed(e, fields) for e in same_key))
        raise ScenarioError(_origin_of(origin, key, path), key, errors[0].get("input"), allowed) from None
    for key, value, allowed in check_semantics(scenario):
        raise ScenarioError(_origin_of(origin, key, path), key, value, allowed)
    return scenario


def _key_path(loc: tuple) -> tuple[str, list[str]]:
    """A pydantic error location as a key path, and the keys allowed in the table that holds it.

    Pydantic adds the member it tried to a union's error location (``pilot.waves.1.date`` for a bad
    ``date | "never"``); such a part names no key and is dropped.
    """
    node: Any = Scenario
    parts: list[str] = []
    fields: list[str] = []
    for part in loc:
        if isinstance(node, type) and issubclass(node, BaseModel):
            fields = list(node.model_fields)
            field = node.model_fields.get(str(part))
            node = field.annotation if field else None
        elif get_origin(node) in (Union, UnionType):
            node = None
            continue
        elif get_origin(node) in (dict, list, tuple):
            node = get_args(node)[-1 if get_origin(node) is dict else 0]
        else:
            node = None
        parts.append(str(part))
    return ".".join(parts), fields


def _allowed(error: dict[str, Any], fields: list[str]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key; allowed here: {', '.join(fields)}"
    if kind == "missing":
        return "required key is missing"
    return error["msg"]


# ---------------------------------------------------------------- checks against data and calendar


def check_semantics(s: Scenario):
    """Yield (key path, value, what is allowed) for every rule the types cannot express."""
    regions, banks = domain.region_names(), domain.bank_ids()
    start, end = s.run.start, s.run.end
    if end <= start:
        yield "run.end", end.isoformat(), f"a date after run.start ({start})"
    for wave in s.pilot.waves:
        if wave not in domain.WAVES:
            yield f"pilot.waves.{wave}", wave, f"one of the waves {', '.join(domain.WAVES)}"
    for wave in domain.WAVES:
        if wave not in s.pilot.waves:
            yield f"pilot.waves.{wave}", "(missing)", "a date or 'never' for every wave"
    waves = [(w, s.pilot.waves.get(w, "never")) for w in domain.WAVES]  # calendar order, not file order
    dated = [(w, d) for w, d in waves if w != "olympic" and d != "never"]
    for (w1, d1), (w2, d2) in zip(dated, dated[1:], strict=False):
        if d2 < d1:
            yield f"pilot.waves.{w2}", d2.isoformat(), f"not before wave {w1} ({d1})"
    olympic, full = s.pilot.waves.get("olympic", "never"), s.pilot.olympic_full_pilot
    if olympic != "never" and full != "never" and full < olympic:
        yield (
            "pilot.olympic_full_pilot",
            full.isoformat(),
            f"not before the olympic wave ({olympic})",
        )
    for region in s.pilot.region_start:
        if region not in regions:
            yield (
                f"pilot.region_start.{region}",
                region,
                f"a region from pilot_regions.csv or a province's rest: {regions}",
            )
    provinces = domain.province_names()
    for province in s.pilot.province_start:
        if province not in provinces:
            yield f"pilot.province_start.{province}", province, f"a province from provinces.csv: {provinces}"
    if not s.banks.campaign:
        yield "banks.campaign", "{}", "at least one date with the sign-ups asked of each employee"
    for bank in s.banks.operators:
        if bank not in banks:
            yield (
                f"banks.operators.{bank}",
                bank,
                f"an institution id from institutions.csv: {banks}",
            )
    dated = [
        ("incentives.lotteries", s.incentives.lotteries),
        ("government.programmes", s.government.programmes),
    ]
    for table, rows in dated:
        yield from _check_dated(table, rows, regions, start, end)
    if s.behaviour.network_degree % 2:
        yield "behaviour.network_degree", s.behaviour.network_degree, "an even number"


def _check_dated(table: str, rows, regions: list[str], start: date, end: date):
    """Lotteries and programmes: a known region, and a start within the run."""
    for i, lottery in enumerate(rows):
        key = f"{table}.{i}"
        if lottery.region not in regions:
            yield f"{key}.region", lottery.region, f"a region from pilot_regions.csv: {regions}"
        if lottery.end < lottery.start:
            yield f"{key}.end", lottery.end.isoformat(), f"not before its start ({lottery.start})"
        if not start <= lottery.start <= end:  # one that ends after the run is cut at its end
            yield f"{key}.start", lottery.start.isoformat(), f"a date within the run ({start} to {end})"
