"""The what-if dashboard: ``run.py dashboard`` serves Mesa's SolaraViz page with the policy levers.

``PolicyModel`` (a Mesa model built from lever values), ``paired_runs`` (a lever's paired effect over seeds)
and the figures are importable without Solara, so notebooks and tests use them directly; only ``app`` and
the view modules need the ``dashboard`` extra.
"""

from .compare import Comparison, paired_runs
from .levers import LEVERS, lever_defaults, overrides
from .sim import PolicyModel, sector_acceptance

__all__ = [
    "LEVERS",
    "Comparison",
    "PolicyModel",
    "lever_defaults",
    "overrides",
    "paired_runs",
    "sector_acceptance",
]
