"""Small analysis files for the analysis tests: coarse (run.scale 1e6, ~600 citizen agents) and short (to
the first record after 2021), so a run takes a fraction of a second."""

from __future__ import annotations

from pathlib import Path

from conftest import BASELINE

HEAD = f"""
base = "{BASELINE.as_posix()}"
root_seed = 7
"""
TINY = """
[overrides]
run.scale = 1e6
run.end = 2022-01-05
incentives.lotteries = []
"""

# banks.target_intensity moves wallets by end-2021; interoperability (2022-12-12) lies after this horizon,
# so shifting it by up to a month can change nothing: an input whose every index must be exactly 0
INPUTS = """
[inputs."banks.target_intensity"]
low = 0.25
high = 4.0
scale = "log"
reason = "test range"

[inputs.interoperability_timing]
keys = ["incumbents.interoperability_date"]
shift_days = true
low = -30
high = 30
reason = "after the horizon: no effect"
"""


def write(folder: Path, body: str, name: str = "analysis.toml", overrides: str = TINY) -> Path:
    """HEAD, then ``body`` (its top-level keys first, then its tables), then the [overrides] table."""
    path = folder / name
    path.write_text(HEAD + body + overrides, encoding="utf-8")
    return path
