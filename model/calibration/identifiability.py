"""Which parameters the targets pin down, and which they leave loose.

Two views, because each misses what the other sees:

- **Spread over the best trials** (no new runs): the best 5% of the study's TPE trials (CMA-ES's
  crowd round its mean by design; a CMA-ES-only study uses them all), each parameter's
  5%-95% range as a share of its search range (in log space for log-scaled ones). A ridge, where two
  parameters trade off, shows as a wide spread and a strong correlation between them.
- **Profile** (new runs): the loss with one parameter moved from the fit, others held, at factors
  1/4, 1/2, 1/sqrt 2, sqrt 2, 2, 4 (log-scaled) or 1 -/+ 10, 25, 50% (linear), clipped to the bounds.

A parameter is *pinned* when the profile loss rises by more than ``DELTA`` at x2 and x1/2 (or +/-25%) and
the best trials spread over less than a quarter of its range; *loose* when the profile stays within
``DELTA`` out to x4 and x1/4 (+/-50%) or the best trials spread over more than half its range; *partly*
otherwise. ``DELTA`` = 0.05 is the loss of one target missed by 25% (ln(1.25)^2).
"""

from __future__ import annotations

import math
from concurrent.futures import Executor

import numpy as np
import optuna
import pandas as pd

from . import objective
from .objective import Problem
from .parameters import Param

DELTA = 0.05
LOG_FACTORS = (0.25, 0.5, 2**-0.5, 2**0.5, 2.0, 4.0)
LINEAR_STEPS = (-0.5, -0.25, -0.1, 0.1, 0.25, 0.5)


def unit(p: Param, x: np.ndarray | float) -> np.ndarray:
    """Position in the search range, 0 at ``low`` and 1 at ``high`` (log space for log parameters)."""
    x = np.asarray(x, dtype=np.float64)
    if p.log:
        return (np.log(x) - math.log(p.low)) / (math.log(p.high) - math.log(p.low))
    return (x - p.low) / (p.high - p.low)


def best_fraction(study: optuna.Study, fraction: float = 0.05, at_least: int = 10) -> pd.DataFrame:
    """Parameters of the best ``fraction`` of finished trials (at least ``at_least``), best first."""
    done = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    # CMA-ES's trials crowd round its mean by design: their spread is its step, not the data's
    explored = [t for t in done if t.user_attrs.get("phase", "tpe") == "tpe"]
    done = sorted(explored or done, key=lambda t: t.value)
    k = min(len(done), max(at_least, int(round(fraction * len(done)))))
    return pd.DataFrame([{**t.params, "loss": t.value, "trial": t.number} for t in done[:k]])


def spread(best: pd.DataFrame, params: tuple[Param, ...]) -> pd.DataFrame:
    """Per parameter: 5% and 95% quantiles among the best trials and that range as a share of the bounds."""
    rows = []
    for p in params:
        v = best[p.name].to_numpy(np.float64)
        lo, hi = np.quantile(v, [0.05, 0.95])
        rows.append(
            {
                "parameter": p.name,
                "best 5%: q05": lo,
                "best 5%: q95": hi,
                "spread": float(unit(p, hi) - unit(p, lo)),
            }
        )
    return pd.DataFrame(rows)


def correlations(best: pd.DataFrame, params: tuple[Param, ...], threshold: float = 0.6) -> list[tuple]:
    """Pairs whose (log) values correlate by |r| >= threshold among the best trials: trade-offs."""
    names = [p.name for p in params]
    x = np.column_stack([unit(p, best[p.name].to_numpy(np.float64)) for p in params])
    if len(x) < 3:
        return []
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.corrcoef(x, rowvar=False)
    pairs = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if np.isfinite(r[i, j]) and abs(r[i, j]) >= threshold:
                pairs.append((names[i], names[j], float(r[i, j])))
    return sorted(pairs, key=lambda t: -abs(t[2]))


def profile_points(p: Param, value: float) -> list[tuple[str, float]]:
    """(label, value) of the profile's points for parameter ``p`` around ``value``."""
    if p.log:
        points = [(f"x{f:.3g}", value * f) for f in LOG_FACTORS]
    else:
        points = [(f"{s:+.0%}", value * (1 + s)) for s in LINEAR_STEPS]
    return [(label, min(max(v, p.low), p.high)) for label, v in points]


def profile(problem: Problem, fit: dict[str, float], executor: Executor) -> pd.DataFrame:
    """Loss at every profile point of every parameter (and at the fit), one job per point and seed."""
    jobs = {("fit", "", fit[problem.params[0].name]): fit}
    for p in problem.params:
        for label, v in profile_points(p, fit[p.name]):
            jobs[(p.name, label, v)] = {**fit, p.name: v}
    scenarios = [objective.trial_scenario(problem, values).dump() for values in jobs.values()]
    measured = objective.values_per_seed(executor, scenarios, problem.seeds, problem.scale, problem.targets)
    rows = []
    for (name, label, value), merged in zip(jobs, measured, strict=True):
        loss = float("nan") if isinstance(merged, str) else objective.loss(merged, problem)
        rows.append({"parameter": name, "point": label, "value": value, "loss": loss})
    frame = pd.DataFrame(rows)
    base = float(frame.loc[frame["parameter"] == "fit", "loss"].iloc[0])
    frame["delta"] = frame["loss"] - base
    return frame


def verdicts(prof: pd.DataFrame, spreads: pd.DataFrame, params: tuple[Param, ...]) -> pd.DataFrame:
    """pinned / partly / loose per parameter, with the evidence (see the module docstring)."""
    rows = []
    for p in params:
        pts = prof[prof["parameter"] == p.name].set_index("point")["delta"]
        near = ("x0.5", "x2") if p.log else ("-25%", "+25%")
        far = ("x0.25", "x4") if p.log else ("-50%", "+50%")
        rise_near = float(np.nanmin([pts.get(k, np.nan) for k in near]))
        rise_far = float(np.nanmax([pts.get(k, np.nan) for k in far]))
        sp = float(spreads.loc[spreads["parameter"] == p.name, "spread"].iloc[0])
        if rise_near > DELTA and sp < 0.25:
            verdict = "pinned"
        elif rise_far <= DELTA or sp > 0.5:
            verdict = "loose"
        else:
            verdict = "partly"
        rows.append(
            {
                "parameter": p.name,
                "rise_near": rise_near,
                "rise_far": rise_far,
                "spread": sp,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)
