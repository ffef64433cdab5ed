"""Local refinement: a (1 + lambda) evolution strategy around the best trial, run through the same study.

TPE finds the right region of an 18-dimensional space in a few hundred trials but closes in slowly. The
last part of a calibration therefore proposes generations of ``lambda`` points around the best trial so
far, in the unit cube of the search space (log space for log-scaled parameters):

    u_i = clip(u_best + sigma * z_i, 0, 1),  z_i ~ N(0, I)

enqueued into the Optuna study, so they are run, stored and resumed like any other trial. After each
generation sigma grows by ``GROW`` if it beat the best, else shrinks by ``SHRINK`` (a success rule that
keeps about one generation in four successful), within [``SIGMA_MIN``, ``SIGMA_MAX``].
"""

from __future__ import annotations

import math

import numpy as np

from .parameters import Param

SIGMA0, SIGMA_MIN, SIGMA_MAX = 0.06, 0.004, 0.25
GROW, SHRINK = 1.3, 0.8


def to_unit(p: Param, x: float) -> float:
    if p.log:
        return (math.log(x) - math.log(p.low)) / (math.log(p.high) - math.log(p.low))
    return (x - p.low) / (p.high - p.low)


def from_unit(p: Param, u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    if p.log:
        x = math.exp(math.log(p.low) + u * (math.log(p.high) - math.log(p.low)))
    else:
        x = p.low + u * (p.high - p.low)
    return min(max(x, p.low), p.high)  # no rounding past a bound


class Evolution:
    """Proposes generations around the best point and adapts its step ``sigma``."""

    def __init__(self, params: tuple[Param, ...], seed: int, sigma: float = SIGMA0) -> None:
        self.params, self.sigma = params, sigma
        self.rng = np.random.default_rng(seed)

    def propose(self, best: dict[str, float], size: int) -> list[dict[str, float]]:
        centre = np.array([to_unit(p, best[p.name]) for p in self.params])
        steps = self.rng.standard_normal((size, len(self.params))) * self.sigma
        return [
            {p.name: from_unit(p, u) for p, u in zip(self.params, centre + step, strict=True)}
            for step in steps
        ]

    def update(self, improved: bool) -> None:
        factor = GROW if improved else SHRINK
        self.sigma = float(min(max(self.sigma * factor, SIGMA_MIN), SIGMA_MAX))


def centroid(points: list[dict[str, float]], params: tuple[Param, ...]) -> dict[str, float]:
    """The mean of parameter sets in the unit cube (log space for log-scaled parameters)."""
    return {p.name: from_unit(p, float(np.mean([to_unit(p, x[p.name]) for x in points]))) for p in params}
