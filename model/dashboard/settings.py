"""What one dashboard server runs: the scenario file, the scale, the seed and the comparison's seeds.

``run.py dashboard`` and the Solara app are different entry points of one process (the app module is
imported by Solara's server), so the settings travel as environment variables: that also lets
``solara run model.dashboard.app`` work on its own with the same variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Residents per citizen agent in the dashboard: coarser than the baseline's 5000 so that a week is a few
# milliseconds and the comparison's runs take seconds; --scale sets any other.
DEFAULT_SCALE = 10_000.0
DEFAULT_COMPARE_SEEDS = 3
DEFAULT_SCENARIO = Path("scenarios/baseline.toml")
SAVED = "saved"  # the default folder of saved scenarios, beside the start file
ENV = {
    "scenario": "ECNY_DASHBOARD_SCENARIO",
    "scale": "ECNY_DASHBOARD_SCALE",
    "seed": "ECNY_DASHBOARD_SEED",
    "compare_seeds": "ECNY_DASHBOARD_COMPARE_SEEDS",
    "save_dir": "ECNY_DASHBOARD_SAVE_DIR",
}


@dataclass(frozen=True)
class Settings:
    scenario: Path = DEFAULT_SCENARIO
    scale: float = DEFAULT_SCALE
    seed: int | None = None  # None: the scenario's run.seed
    compare_seeds: int = DEFAULT_COMPARE_SEEDS
    save_dir: Path | None = None  # where "Save" writes scenario files; None: ``saved/`` beside the start file

    @property
    def save_folder(self) -> Path:
        """``saved/`` beside the start file by default (made on the first save; ignored by git), so a saved
        file says ``extends = "../baseline.toml"`` and never joins the shipped scenarios."""
        if self.save_dir is not None:
            return Path(self.save_dir)
        return Path(self.scenario).resolve().parent / SAVED

    def to_env(self) -> dict[str, str]:
        env = {
            ENV["scenario"]: str(Path(self.scenario).resolve()),
            ENV["scale"]: repr(float(self.scale)),
            ENV["compare_seeds"]: str(int(self.compare_seeds)),
        }
        if self.seed is not None:
            env[ENV["seed"]] = str(int(self.seed))
        if self.save_dir is not None:
            env[ENV["save_dir"]] = str(Path(self.save_dir).resolve())
        return env


def default_scenario() -> Path:
    """``scenarios/baseline.toml`` of the working directory, else the one beside the package."""
    if DEFAULT_SCENARIO.is_file():
        return DEFAULT_SCENARIO
    return Path(__file__).resolve().parents[2] / DEFAULT_SCENARIO


def from_env(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    seed = env.get(ENV["seed"])
    return Settings(
        scenario=Path(env.get(ENV["scenario"]) or default_scenario()),
        scale=float(env.get(ENV["scale"]) or DEFAULT_SCALE),
        seed=int(seed) if seed else None,
        compare_seeds=int(env.get(ENV["compare_seeds"]) or DEFAULT_COMPARE_SEEDS),
        save_dir=Path(env[ENV["save_dir"]]) if env.get(ENV["save_dir"]) else None,
    )
