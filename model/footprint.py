"""How much memory a run will need, known before anything is built, and a refusal when it cannot fit.

    bytes = BASE_BYTES + citizens * BYTES_PER_CITIZEN + merchants * BYTES_PER_MERCHANT
            + steps * BYTES_PER_STEP

``citizens`` and ``merchants`` are the agent counts the run will build: ``max(1, round(residents / scale))``
per region that the run simulates (``horizon.simulated_regions``), merchants from
``population.businesses_per_resident`` residents each. The constants are measured, not guessed:

* ``BYTES_PER_CITIZEN``: peak bytes per citizen agent of the vectorized engine with its word-of-mouth
  network, at one million citizens, all live (``benchmarks/RESULTS.md``: 46).
* ``BYTES_PER_MERCHANT``: a merchant agent holds 12 bytes of state; its set-up draws int64 arrays before
  narrowing them, so 32 is the peak.
* ``BYTES_PER_STEP``: the weekly records and the tidy table, CSV and plots made from them (~740 rows a
  step): 0.19 MB per step between a 2026 and a 2030 horizon of the baseline at scale 1e6 (peak RSS).
* ``BASE_BYTES``: the interpreter with numpy, pandas, pyarrow, Mesa and matplotlib loaded, plus the
  writing of the results: 300 MB (peak RSS of a coarse baseline run, less its steps).

The agent engine keeps a Mesa object per agent (about 600 bytes per citizen agent), so the estimate is
for the default vectorized engine; agent-engine runs are small by necessity.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import domain, horizon
from .errors import EnvironmentFault
from .population import agent_counts, business_scale

BYTES_PER_CITIZEN = 46
BYTES_PER_MERCHANT = 32
BYTES_PER_STEP = 200_000
BASE_BYTES = 300_000_000
HEADROOM = 0.9  # leave a tenth of the available memory to the rest of the machine
GB = 1e9


def agent_totals(scenario, scale: float | None = None) -> tuple[int, int, int]:
    """(citizen agents, merchant agents, steps) of ``scenario`` at ``scale`` (default: its run.scale)."""
    scale = float(scale or scenario.run.scale)
    populations = domain.regions()["population_2020"].to_numpy(np.float64)
    populations = np.where(horizon.simulated_regions(scenario), populations, 0.0)
    citizens = int(agent_counts(populations, scale).sum())
    per_agent = business_scale(scale, scenario.population)
    merchants = int(agent_counts(populations * scenario.population.businesses_per_resident, per_agent).sum())
    steps = (scenario.run.end - scenario.run.start).days // scenario.run.step_days
    return citizens, merchants, steps


def estimate_bytes(scenario, scale: float | None = None) -> int:
    """Peak memory of one run of ``scenario`` at ``scale`` (default: its ``run.scale``), in bytes."""
    citizens, merchants, steps = agent_totals(scenario, scale)
    return int(
        BASE_BYTES + citizens * BYTES_PER_CITIZEN + merchants * BYTES_PER_MERCHANT + steps * BYTES_PER_STEP
    )


def available_bytes() -> int:
    """Memory this process may still use: the system's MemAvailable, or less under a cgroup limit."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError):
            return 2**62  # unknown: do not refuse on a guess
    for limit, usage in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            cap = Path(limit).read_text().strip()
            if cap != "max" and int(cap) < 2**60:
                found.append(int(cap) - int(Path(usage).read_text().strip()))
        except (OSError, ValueError):
            continue
    return max(0, min(found))


def smallest_scale(scenario, budget: int) -> float | None:
    """The smallest scale (2 significant digits, rounded up) whose estimate fits in ``budget`` bytes, or
    None when not even one agent per region would fit."""
    citizens, merchants, steps = agent_totals(scenario, 1.0)  # agents at scale 1 = residents
    fixed = BASE_BYTES + steps * BYTES_PER_STEP
    per_resident = citizens * BYTES_PER_CITIZEN + merchants * BYTES_PER_MERCHANT
    if budget <= fixed:
        return None
    scale = max(1.0, per_resident / (budget - fixed))
    for _ in range(60):  # rounding per region can add agents: step up until the estimate fits
        digits = 10 ** (np.floor(np.log10(scale)) - 1)
        scale = float(np.ceil(scale / digits) * digits)
        if estimate_bytes(scenario, scale) <= budget:
            return scale
        scale *= 1.05
    return None


def check_fits(scenario, scale: float | None = None, copies: int = 1, what: str = "run.scale") -> int:
    """The estimate of one run; ``EnvironmentFault`` if ``copies`` runs at once cannot fit in memory.

    The message gives the estimate, the memory available and the smallest scale that fits.
    """
    need = estimate_bytes(scenario, scale)
    budget = int(available_bytes() * HEADROOM)
    if need * copies <= budget:
        return need
    used = float(scale or scenario.run.scale)
    runs = f"{copies} runs at once x " if copies > 1 else ""
    smallest = smallest_scale(scenario, budget // copies)
    fits = f"the smallest scale that fits is {smallest:g}" if smallest else "no scale fits"
    sep = " " if what.startswith("--") else " = "
    raise EnvironmentFault(
        f"{what}{sep}{used:g}: {scenario.name} needs about {runs}{need / GB:.1f} GB of memory and "
        f"{budget / GB:.1f} GB is available; {fits}"
    )
