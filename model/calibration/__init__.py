"""Calibration and validation of the baseline against the published e-CNY figures (issue 5).

``targets`` says what each published figure means and reads the model's value for it; ``parameters`` lists
the free parameters with their bounds and reasons; ``objective`` turns a parameter set into a loss over
paired-seed replications; ``study`` runs the Optuna search (TPE over the whole box, or CMA-ES from the
present fit) on the sweep executors and confirms the best candidates, with ``polish``'s Gauss-Newton
steps, at the run scale; ``fragment`` writes ``scenarios/calibrated.toml``; ``pipeline.calibrate`` runs it
all (``model.calibration.calibrate(...)``); ``validate``, ``identifiability``, ``report`` and ``figures``
show the fit. ``cli`` is the command line (``run.py calibrate``, ``run.py validate``).
"""

from typing import Any


def __getattr__(name: str) -> Any:
    """``calibrate`` on first use, so that importing ``targets`` does not import Optuna."""
    if name == "calibrate":
        from .pipeline import calibrate

        return calibrate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
