"""The README's validation table: the shipped baseline against every published figure (``run.py validate``).

The same ``model.calibration.validate`` machinery as the command (the targets' observation, the paired
replication seeds, the pass rule), at the baseline's own scale and ``REPLICATIONS`` replications, written
to ``docs/validation.md`` with its verdict and spliced into the README between the validation markers,
stamped with the digest of what it shows (``provenance``), so a test fails when the model changes and the
table does not.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np

from ..calibration import parameters, validate
from ..calibration.targets import Target, calibration_targets
from ..ensemble import ENSEMBLE, load_ensemble
from ..executors import open_executor
from ..scenario import load_scenario
from . import provenance
from .whatifs import splice

ROOT = provenance.ROOT
BASELINE = "scenarios/baseline.toml"
REPLICATIONS = 20
FORECAST_DAY = date(2025, 12, 31)
FORECAST = {  # metric -> (heading, divisor, unit)
    "app_wallets_opened": ("app wallets", 1e6, "m"),
    "personal_wallets_opened": ("wallets at the operators", 1e6, "m"),
    "active_users": ("active users", 1e6, "m"),
    "transaction_value_cumulative": ("transaction value since 2020", 1e12, "tn yuan"),
}
START, END = "<!-- validation:start -->", "<!-- validation:end -->"


def _read(tree: dict, key: str) -> float:
    node = tree
    for part in key.split("."):
        node = node[part] if part in node else node[next(k for k in node if str(k) == part)]
    return float(node)


def _quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][min(np.searchsorted(cumulative, q), len(values) - 1)])


def parameter_table(baseline: Path = ROOT / BASELINE, ensemble: Path = ENSEMBLE) -> str:
    """Each free parameter: the fitted value, the ensemble's weighted 5-95% range, the prior and bounds,
    and where the value sits in its range (0 the lower bound, 1 the upper: the searched scale)."""
    fitted = load_scenario(baseline).model_dump()
    members = load_ensemble(ensemble, baseline) if ensemble.is_file() else None
    lines = [
        "| parameter | fitted | ensemble 5-95% | prior | range | position in range | fitted / prior |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in parameters.FREE:
        value = _read(fitted, p.keys[0])
        span = "-"
        if members is not None and p.keys[0] in members.keys:
            column = np.array([float(m[p.keys[0]]) for m in members.members])
            low, high = (_quantile(column, members.weights, q) for q in (0.05, 0.95))
            span = f"{low:.3g} - {high:.3g}"
        if p.log:
            position = math.log(value / p.low) / math.log(p.high / p.low)
        else:
            position = (value - p.low) / (p.high - p.low)
        lines.append(
            f"| `{p.name}` | {value:.3g} | {span} | {p.prior:.3g} | {p.low:.3g} - {p.high:.3g} "
            f"| {position:.2f} | {value / p.prior:.2g} |"
        )
    return "\n".join(lines)


def forecast_targets() -> list[Target]:
    """The 2025 outcomes as observation points (no published value: they are read, not scored)."""
    return [
        Target(f"{m}@{FORECAST_DAY}", FORECAST_DAY, "national", m, math.nan, unit, heading, "", "forecast")
        for m, (heading, _, unit) in FORECAST.items()
    ]


def forecast_table(workers: int = 2, replications: int = REPLICATIONS) -> str:
    """The 2025 forecast over seeds with the shipped parameters, and over seeds and ensemble members: the
    band without and with parameter uncertainty (``validate.run_replications``, same root seed)."""
    targets = forecast_targets()
    ensemble = load_ensemble(ENSEMBLE, ROOT / BASELINE)
    bands = {}
    with open_executor(workers) as executor:
        for label, members in (("seeds only", None), ("seeds and parameters (ensemble)", ensemble)):
            values = validate.run_replications(
                ROOT / BASELINE, targets, replications, None, executor, ensemble=members
            )[0]
            bands[label] = values
    lines = ["| 2025-12-31 | " + " | ".join(bands) + " |", "|---|" + "---|" * len(bands)]
    for t in targets:
        heading, divisor, unit = FORECAST[t.metric]
        cells = []
        for values in bands.values():
            v = np.asarray(values[t.key]) / divisor
            cells.append(
                f"{np.median(v):.3g} ({np.quantile(v, 0.05):.3g} - {np.quantile(v, 0.95):.3g}) {unit}"
            )
        lines.append(f"| {heading} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(result: validate.Validation, stamp: str = "", forecast: str = "") -> str:
    """The caption, the table and the verdict, then the fitted parameters."""
    caption = (
        f"`run.py validate` on the shipped baseline: {result.replications} replications at "
        f"{result.scale:,.0f} residents per agent, the model's median and 90% interval for every figure "
        "of `model/data/targets.csv` (the closed-pilot figures of 2020 read at 500 residents per agent, "
        "`objective.observe`). Written by `make figures`."
    )
    lines = [stamp] if stamp else []
    lines += [caption, "", validate.markdown(result.table), "", f"**{validate.verdict(result.table)}**"]
    lines += [
        "",
        "The fitted parameters (`scenarios/calibrated.toml`), the weighted 5-95% range of the ensemble "
        "(`scenarios/ensemble.csv`) and their priors and bounds (`model/calibration/parameters.py`, with "
        "the reason for each):",
        "",
        parameter_table(),
    ]
    if forecast:
        lines += [
            "",
            f"The 2025 forecast: median and 90% interval over {result.replications} replications, with the "
            "shipped parameters, and with each replication's parameters drawn from the ensemble:",
            "",
            forecast,
        ]
    return "\n".join(lines) + "\n"


def write_validation(
    workers: int = 2,
    replications: int = REPLICATIONS,
    docs: Path = ROOT / "docs",
    readme: Path = ROOT / "README.md",
) -> Path:
    """Validate the baseline, write ``docs/validation.md`` and splice it into the README."""
    with open_executor(workers) as executor:
        result = validate.validate(ROOT / BASELINE, calibration_targets(), replications, None, executor)
    forecast = forecast_table(workers, replications)
    table = markdown(result, provenance.stamp_text([BASELINE, "scenarios/ensemble.csv"]), forecast)
    spliced = splice(readme.read_text(), table, START, END)  # checked before anything is written
    target = docs / "validation.md"
    target.write_text("# Validation\n\n" + table)
    readme.write_text(spliced)
    return target
