"""E-CNY adoption simulator: scenario files in, adoption curves out."""

from .model import EcnyModel
from .scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"
__all__ = ["EcnyModel", "Scenario", "ScenarioError", "load_scenario", "__version__"]
