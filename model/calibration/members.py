"""The ensemble of parameter sets a finished study supports: ``ensemble.csv`` rows from its best trials.

Each trial's loss is L_i = mean_r sum_k w_k e_kr^2, with e_kr the log error of target k in replication r
and w_k its confidence weight (``objective``). Read as a Gaussian pseudo-likelihood, log errors
e_k ~ N(0, tau^2 / w_k) independently, so that

    -log p(data | theta_i) = L_i / (2 tau^2) + const,      w_i = exp(-(L_i - L_min) / (2 tau^2)) / Z

over the ``BEST`` lowest-loss distinct trials (a flat prior inside the bounds: the trials stand in for
draws from it). The residual variance tau^2 is not known; it is estimated from the best fit as in least
squares, tau^2 = L_min / (K - p) with K targets and p fitted parameters (at least 1 degree of freedom):
the best fit's misfit is what the model cannot explain, and a parameter set whose loss exceeds it by
2 tau^2 is e times less likely. Dividing by K - p rather than K allows for the p directions the fit
used up, so the ensemble is not narrower than the data allow. The weights ignore that trials are not
drawn from the prior (CMA-ES and TPE crowd the good region): the ensemble is a weighted set of good fits,
not an exact posterior. Members are kept best first until their weights sum to ``MASS`` (99%), the rest
dropped, and the kept weights renormalised.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pandas as pd

from ..atomic import atomic_write_bytes
from ..ensemble import WEIGHT as WEIGHT
from . import parameters, study
from .parameters import Param

FILE = "ensemble.csv"
BEST = 200
MASS = 0.99


def weights(losses: np.ndarray, n_targets: int, n_params: int) -> np.ndarray:
    """w_i proportional to exp(-(L_i - L_min) / (2 tau^2)), tau^2 = L_min / max(K - p, 1); sums to 1."""
    losses = np.asarray(losses, dtype=np.float64)
    best = float(losses.min())
    tau2 = max(best, 1e-12) / max(n_targets - n_params, 1)
    w = np.exp(-(losses - best) / (2.0 * tau2))
    return w / w.sum()


def keep_mass(w: np.ndarray, mass: float = MASS) -> np.ndarray:
    """Indices of the heaviest weights that together reach ``mass`` (at least one), heaviest first."""
    order = np.argsort(-w, kind="stable")
    reach = int(np.searchsorted(np.cumsum(w[order]), mass * w.sum())) + 1
    return order[: min(reach, len(w))]


def from_study(
    s: optuna.Study, params: tuple[Param, ...], n_targets: int, best: int = BEST, mass: float = MASS
) -> pd.DataFrame:
    """``ensemble.csv`` rows (key paths of ``params`` and ``weight``) from the study's best trials."""
    trials = [t for t in study.best_trials(s, best) if all(p.name in t.params for p in params)]
    if not trials:
        raise ValueError("the study has no finished trial with these parameters")
    w = weights(np.array([t.value for t in trials]), n_targets, len(params))
    kept = keep_mass(w, mass)
    rows = [{**parameters.overrides(trials[i].params, params), WEIGHT: w[i]} for i in kept]
    frame = pd.DataFrame(rows)
    frame[WEIGHT] = frame[WEIGHT] / frame[WEIGHT].sum()
    return frame


def write(path: Path, frame: pd.DataFrame) -> Path:
    """Write the rows whole or not at all (``atomic_write_bytes``); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, frame.to_csv(index=False, float_format="%.8g").encode("utf-8"))
    return path


def from_study_file(db: Path, best: int = BEST, mass: float = MASS) -> pd.DataFrame:
    """The rows from a study file ``run.py calibrate`` left (it records its parameters and targets)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = optuna.load_study(study_name=study.STUDY_NAME, storage=f"sqlite:///{db.resolve()}")
    problem = s.user_attrs.get("problem")
    if problem is None:
        raise ValueError(f"{db}: the study holds no calibration problem")
    return from_study(s, parameters.by_name(problem["params"]), len(problem["targets"]), best, mass)
