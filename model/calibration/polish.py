"""Polish: Gauss-Newton steps at the run scale, from a finite-difference Jacobian on paired seeds.

The search ranks trials on a few replications at a coarse scale. Near the optimum their differences are
dominated by the luck of those seeds on the noisiest targets (lumpy acceptance points), which the search
then fits: its best trials carry biases of 5-15% that many replications at the run scale reveal. The
polish measures, at the run scale with ``R`` paired seeds (the confirmation's, not the validation's):

    e_k(u)   = log(median_r m_kr(u) / y_k)                       (errors, as ``validate`` judges them)
    J_ki     = (mean_r log m_kr(u + h e_i) - mean_r log m_kr(u)) / h     (slopes; h = ``STEP``, paired)

with u the parameters in the unit cube (log space for log-scaled ones), then steps by the bounded ridge
problem

    min_d  sum_k (e_k + J_k d)^2 + lambda |d|^2,   0 <= u + d <= 1,   |d_i| <= ``TRUST``

re-measuring e at each new point and keeping J. Every point is a candidate for the confirmation.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
from scipy.optimize import lsq_linear

from . import objective
from .objective import Problem
from .parameters import from_unit, to_unit

STEP = 0.05  # finite-difference step in the unit cube
TRUST = 0.1  # largest move of one parameter per step
RIDGE = 0.003


def _values(u: np.ndarray, problem: Problem) -> dict[str, float]:
    return {p.name: from_unit(p, float(x)) for p, x in zip(problem.params, u, strict=True)}


def _measure(problem: Problem, points: list[np.ndarray], executor: Executor) -> list[dict[str, list[float]]]:
    """Model values per target and seed at each point (one job per point and seed)."""
    scenarios = [objective.trial_scenario(problem, _values(u, problem)).dump() for u in points]
    out = objective.values_per_seed(executor, scenarios, problem.seeds, problem.scale, problem.targets)
    errors = [v for v in out if isinstance(v, str)]
    if errors:
        raise RuntimeError(f"polish: a run failed: {errors[0]}")
    return out


def _median_errors(values: dict[str, list[float]], problem: Problem) -> np.ndarray:
    medians = np.array([np.median(values[t.key]) / t.value for t in problem.targets])
    return np.log(np.maximum(medians, objective.FLOOR))


def step(u: np.ndarray, errors: np.ndarray, jacobian: np.ndarray, ridge: float = RIDGE) -> np.ndarray:
    """The bounded ridge Gauss-Newton step from ``u`` (module docstring); returns the new point."""
    n = jacobian.shape[1]
    a = np.vstack([jacobian, np.sqrt(ridge) * np.eye(n)])
    b = np.concatenate([-errors, np.zeros(n)])
    lower, upper = np.maximum(-u, -TRUST), np.minimum(1.0 - u, TRUST)
    return u + lsq_linear(a, b, bounds=(lower, upper)).x


def polish(
    problem: Problem, start: dict[str, float], executor: Executor, rounds: int = 3
) -> list[tuple[str, dict[str, float]]]:
    """Candidates from ``rounds`` Gauss-Newton steps from ``start``; ``problem`` sets scale and seeds."""
    u0 = np.array([to_unit(p, start[p.name]) for p in problem.params])
    # one-sided differences, away from the nearer bound
    signs = np.where(u0 + STEP <= 1.0, 1.0, -1.0)
    points = [u0] + [u0 + np.eye(len(u0))[i] * STEP * signs[i] for i in range(len(u0))]
    measured = _measure(problem, points, executor)
    mean_log = [objective.log_errors(v, problem.targets).mean(axis=0) for v in measured]
    jacobian = np.column_stack([(mean_log[i + 1] - mean_log[0]) / (STEP * signs[i]) for i in range(len(u0))])
    u, errors = u0, _median_errors(measured[0], problem)
    out = []
    for k in range(1, rounds + 1):
        u = step(u, errors, jacobian)
        out.append((f"polish {k} (Gauss-Newton at scale {problem.scale:g})", _values(u, problem)))
        if k < rounds:
            errors = _median_errors(_measure(problem, [u], executor)[0], problem)
    return out
