"""The out-of-sample check: fit on the targets dated up to a day, score every target with that fit.

``fit_until(scenario, until, out)`` calibrates (``pipeline.calibrate``, its fragment left alone) on
``calibration_targets(until=until)`` only, then validates the scenario with the fitted values on all
targets (``validate.validate``, the validation's own seeds). Each row of the table says whether its
target was in the fit (``in-sample``, dated on or before ``until``) or is a forecast of it
(``out-of-sample``), with the relative error of the median. A date before the first target or on or
after the last leaves nothing to fit or nothing to forecast, and is refused (``InputError``).

The fit starts from the priors (``calibrate(from_priors=True)``), not from the shipped fit, which has
seen every target: a forecast scored from a start that knew the answer would not be out of sample. It is
the whole pipeline but lighter at its end: the best ``CONFIRM`` candidates are confirmed on
the validation's replications at its scale, without the polish (a check to repeat, not the shipped fit;
pass ``confirm``, ``polish_steps`` ... to ``fit_until`` for the full treatment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..executors import checked_workers, default_workers, open_executor
from . import parameters, validate
from .pipeline import Calibration, calibrate
from .targets import TOLERANCE, calibration_targets

IN, OUT = "in-sample", "out-of-sample"
CONFIRM = 5
# The search from the priors over every free parameter needs thousands of trials: CMA-ES's best loss on
# the 15 figures up to 2021 was 0.88 after 300 trials, 0.41 after 1,000, 0.23 after 1,500 and 0.15 after
# 2,000 (2026-12-04), and 300 trials left 8 of the 15 outside 15%. Many light trials (scale 5,000, 3
# replications: 20 minutes on 2 workers) fit better than few heavy ones.
TRIALS, FIT_SCALE, FIT_REPLICATIONS = 2000, 5000.0, 3


@dataclass(frozen=True)
class Holdout:
    until: date
    fit: Calibration
    validation: validate.Validation

    @property
    def table(self) -> pd.DataFrame:
        """The validation table with a ``sample`` column (in-sample / out-of-sample)."""
        dates = {t.key: t.date for t in calibration_targets()}
        sample = [IN if dates[key] <= self.until else OUT for key in self.validation.table["target"]]
        return self.validation.table.assign(sample=sample)


def parse_until(text: str) -> date:
    """``--fit-until``'s day, with a first and a last target on either side of it."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--fit-until {text!r}: a date as YYYY-MM-DD, e.g. 2021-12-31") from None
    days = sorted(t.date for t in calibration_targets())
    if not days[0] <= day < days[-1]:
        raise InputError(
            f"--fit-until {day}: between the first target ({days[0]}) and the day before the last "
            f"({days[-1]}), so that there is something to fit and something to forecast"
        )
    return day


def fit_until(
    scenario: Path,
    until: date,
    out: Path,
    *,
    trials: int = TRIALS,
    replications: int = 20,
    scale: float | None = None,
    seed: int | None = None,
    tolerance: float = TOLERANCE,
    workers: int | None = None,
    scheduler: str | None = None,
    fit_scale: float = FIT_SCALE,
    fit_replications: int = FIT_REPLICATIONS,
    quiet: bool = True,
    **fit_options: Any,
) -> Holdout:
    """Fit on the targets up to ``until`` (study in ``out/fit``), then validate on all of them.

    ``fit_scale`` and ``fit_replications`` are the trials'; ``fit_options`` go to ``calibrate`` as they
    are (``confirm``, ``params``, ``sampler``, ...); ``replications``, ``scale`` and ``seed`` are the
    validation's.
    """
    fitted_on = calibration_targets(until=until)
    if not fitted_on or len(fitted_on) == len(calibration_targets()):
        raise InputError(f"--fit-until {until}: leaves nothing to fit or nothing to forecast")
    light = {
        "confirm": CONFIRM,
        "confirm_replications": replications,
        "confirm_scale": scale,
        "polish_steps": 0,
    }
    fit = calibrate(
        scenario,
        out / "fit",
        trials=trials,
        targets=fitted_on,
        scale=fit_scale,
        replications=fit_replications,
        write=False,
        make_report=False,
        workers=workers,
        scheduler=scheduler,
        quiet=quiet,
        from_priors=True,
        **{**light, **fit_options},
    )
    extra = parameters.overrides(fit.fitted, fit.problem.params)
    workers = workers or default_workers() if scheduler else checked_workers(workers)
    with open_executor(workers, scheduler) as executor:
        result = validate.validate(
            scenario,
            calibration_targets(),
            replications,
            scale,
            executor,
            seed,
            tolerance,
            extra,
            progress=not quiet,
        )
    return Holdout(until, fit, result)
