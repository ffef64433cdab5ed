"""Validation: the scenario's model value of each published figure, over replications, against tolerance.

Each replication runs the scenario as given (its parameters, its ``run.scale`` unless ``scale`` is set),
with seeds ``replication_seeds(run.seed, n)``, ending at the first weekly record after the last target date
(lotteries after that dropped): nothing before that date depends on later steps, so the figures are those
of the full run. A target is within tolerance when |median / published - 1| <= tolerance (15%); the
scenario passes when every target is within ``BAND`` (25%) and at least ``SHARE_WITHIN`` (80%) of them
within tolerance.

With an ensemble (``scenarios/ensemble.csv``, ``model.ensemble``), replication r also runs with member
``Ensemble.draw(n, root seed)[r]``'s parameters, so the interval holds parameter uncertainty as well as
the model's noise, and the same root seed draws the same members again.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..ensemble import Ensemble
from ..scenario import load_scenario
from ..streams import replication_seeds
from . import objective
from .targets import BAND, SHARE_WITHIN, TOLERANCE, Target

COLUMNS = ["target", "published", "model median", "90% interval", "relative error"]


@dataclass(frozen=True)
class Validation:
    scenario: str
    scale: float
    replications: int
    tolerance: float
    table: pd.DataFrame  # one row per target (see ``table``)
    values: dict[str, list[float]]  # model value per replication, by target key
    members: tuple[dict, ...] | None = None  # the ensemble member of each replication

    @property
    def passed(self) -> bool:
        return passes(self.table)


def _scored(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["scored"]] if "scored" in table else table


def passes(table: pd.DataFrame) -> bool:
    """Every scored target within ``BAND`` and at least ``SHARE_WITHIN`` of them within tolerance."""
    scored = _scored(table)
    return bool(scored["within band"].all() and scored["pass"].mean() >= SHARE_WITHIN)


def verdict(table: pd.DataFrame) -> str:
    """One line: PASS or FAIL with the counts, the targets outside the band and those not scored."""
    scored = _scored(table)
    within, outside = int(scored["pass"].sum()), scored.loc[~scored["within band"], "target"].tolist()
    counts = f"{within}/{len(scored)} within +/-{TOLERANCE:.0%} (need {SHARE_WITHIN:.0%})"
    beyond = f"; outside +/-{BAND:.0%}: {', '.join(outside)}" if outside else f"; all within +/-{BAND:.0%}"
    skipped = sorted(set(table["target"]) - set(scored["target"]))
    unscored = f"; not scored (no mechanism reaches it): {', '.join(skipped)}" if skipped else ""
    return f"{'PASS' if passes(table) else 'FAIL'}: {counts}{beyond}{unscored}"


def run_replications(
    path: Path,
    targets: list[Target],
    replications: int,
    scale: float | None,
    executor: Executor,
    seed: int | None = None,
    overrides: dict | None = None,
    ensemble: Ensemble | None = None,
    progress: bool = False,
) -> tuple[dict[str, list[float]], float, int, tuple[dict, ...] | None]:
    """Model values per target and replication, the scale, the root seed and the ensemble member of each
    replication (``None`` without an ensemble); one job per seed, counted on a tqdm bar if ``progress``."""
    extra = dict(overrides or {})
    scenario = objective.at_horizon(path, targets, extra)
    scale = float(scale or scenario.run.scale)
    root = scenario.run.seed if seed is None else seed
    seeds = replication_seeds(root, replications)
    drawn = tuple(ensemble.overrides(replications, root)) if ensemble is not None else None
    dumps = [scenario.dump()] * replications
    if drawn is not None:
        dumps = [objective.at_horizon(path, targets, {**extra, **member}).dump() for member in drawn]
    with tqdm(total=replications, desc="replications", unit="run", disable=not progress, leave=False) as bar:

        def finished(done: int, total: int) -> None:
            bar.update(1)

        results = objective.run_values(
            executor, list(zip(dumps, seeds, strict=True)), scale, targets, finished
        )
    errors = [r for r in results if isinstance(r, str)]
    if errors:
        raise RuntimeError(f"a replication failed: {errors[0]}")
    return {t.key: [r[t.key] for r in results] for t in targets}, scale, root, drawn


def table(
    values: dict[str, list[float]], targets: list[Target], tolerance: float = TOLERANCE
) -> pd.DataFrame:
    """target, published, model median, 5% and 95% quantiles, relative error of the median, pass."""
    rows = []
    for t in targets:
        v = np.asarray(values[t.key], dtype=np.float64)
        median = float(np.median(v))
        error = median / t.value - 1.0
        rows.append(
            {
                "target": t.key,
                "published": t.value,
                "model median": median,
                "q05": float(np.quantile(v, 0.05)),
                "q95": float(np.quantile(v, 0.95)),
                "relative error": error,
                "pass": abs(error) <= tolerance,
                "within band": abs(error) <= max(BAND, tolerance),
                "scored": t.scored,
            }
        )
    return pd.DataFrame(rows)


def validate(
    path: Path,
    targets: list[Target],
    replications: int,
    scale: float | None,
    executor: Executor,
    seed: int | None = None,
    tolerance: float = TOLERANCE,
    overrides: dict | None = None,
    ensemble: Ensemble | None = None,
    progress: bool = False,
) -> Validation:
    values, used_scale, _, drawn = run_replications(
        path, targets, replications, scale, executor, seed, overrides, ensemble, progress
    )
    name = load_scenario(path, overrides).name
    frame = table(values, targets, tolerance)
    return Validation(name, used_scale, replications, tolerance, frame, values, drawn)


def fmt(x: float) -> str:
    if abs(x) >= 1e9:
        return f"{x / 1e9:.3f} bn"
    if abs(x) >= 1e6:
        return f"{x / 1e6:.3f} m"
    return f"{x:.3f}"


def formatted(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as text, in the columns of ``COLUMNS`` plus pass/MISS."""
    return pd.DataFrame(
        {
            "target": frame["target"],
            "published": frame["published"].map(fmt),
            "model median": frame["model median"].map(fmt),
            "90% interval": [f"{fmt(a)} - {fmt(b)}" for a, b in zip(frame["q05"], frame["q95"], strict=True)],
            "relative error": frame["relative error"].map(lambda e: f"{e:+.1%}"),
            "within tolerance": [
                ("yes" if ok else ("MISS" if band else "OUT")) + ("" if scored else " (not scored)")
                for ok, band, scored in zip(frame["pass"], frame["within band"], frame["scored"], strict=True)
            ],
            **({"sample": frame["sample"]} if "sample" in frame else {}),
        }
    )


def markdown(frame: pd.DataFrame) -> str:
    text = formatted(frame)
    head = "| " + " | ".join(text.columns) + " |"
    rule = "|" + "|".join("---" for _ in text.columns) + "|"
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in text.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def plain(frame: pd.DataFrame) -> str:
    return formatted(frame).to_string(index=False)
