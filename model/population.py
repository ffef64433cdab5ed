"""The synthetic population: each region's citizens and businesses, drawn from that region's own stream.

One citizen stands for ``weight = population / n`` residents, with ``n = max(1, round(population / scale))``;
businesses likewise, ``population * businesses_per_resident`` market entities at ``business_scale(scale)``
each (a finer grain than citizens: the first figures of the closed pilot were 8,859 corporate wallets and
6,700 acceptance points, a few agents at the citizens' scale): outlets that may accept
e-CNY from residents (retail, catering, public services, transport), enterprises and public bodies. A
region's agents come from ``streams.region_stream(seed, "citizens" | "businesses", region)`` alone, and
every share that is a lever (the white-list share) is compared with a uniform drawn whatever its value, so
agent 17 of Shenzhen is the same person in every scenario that has the same scale, whatever the other
regions, the horizon or the engine. A business's acquiring bank is its own decision, taken again whenever
an operator joins (``phases.choose_acquirer``).
"""

from __future__ import annotations

import numpy as np

from .behaviour import Population
from .state import BUSINESS, CITIZEN, Agents
from .streams import region_stream

SECTORS = (
    "retail_wholesale",
    "catering_tourism",
    "government_services",
    "transport",
    "enterprise",
    "public_body",
)
OUTLETS = 4  # sectors below this accept payments from residents
# the groups holders and active users are counted by: age group, urban or rural, income quintile
GROUP_NAMES = (
    "age_15_34",
    "age_35_59",
    "age_60_plus",
    "urban",
    "rural",
    *(f"income_q{q}" for q in range(1, 6)),
)
PUBLIC_SERVICES = SECTORS.index("government_services")
PUBLIC_BODY = SECTORS.index("public_body")
URBAN_FACTOR = {"city": 1.0, "new-area": 0.6, "prefecture": 0.7, "province": 0.75}


def agent_counts(populations: np.ndarray, scale: float) -> np.ndarray:
    """Agents per region: max(1, round(population / scale)), and none where the population is 0."""
    counts = np.maximum(1, np.rint(populations / scale)).astype(np.int64)
    return np.where(populations > 0, counts, 0)


def _layout(populations: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counts = agent_counts(populations, scale)
    weight = np.divide(populations, counts, out=np.zeros(len(counts)), where=counts > 0)
    return counts, np.concatenate([[0], np.cumsum(counts)]), weight


def build_citizens(
    seed: int,
    regions: list[str],
    populations: np.ndarray,
    kinds: list[str],
    scale: float,
    whitelist_share: np.ndarray,
    p: Population,
) -> Agents:
    """Citizens of every region with a population (0 = not simulated), each region from its own stream.

    ``whitelist_share``: per region, the share of residents on a bank white list while it is not live."""
    counts, offsets, weight = _layout(populations, scale)
    total = int(offsets[-1])
    columns = {c.name: np.empty(total, c.dtype) for c in CITIZEN.attributes}
    age_shares = np.asarray(p.age_shares) / sum(p.age_shares)
    for r, region in enumerate(regions):
        n = int(counts[r])
        if n == 0:
            continue
        sl = slice(int(offsets[r]), int(offsets[r + 1]))
        rng = region_stream(seed, "citizens", region)
        age = rng.choice(3, size=n, p=age_shares)
        urban = rng.random(n) < p.urban_share * URBAN_FACTOR.get(kinds[r], 0.7)
        mean = np.clip(np.where(urban, p.habit_urban, p.habit_rural) * np.take(p.age_habit, age), 0.01, 0.99)
        c = p.habit_concentration
        columns["age_group"][sl] = age
        columns["urban"][sl] = urban
        columns["habit"][sl] = rng.beta(mean * c, (1.0 - mean) * c)
        columns["income"][sl] = rng.integers(0, 5, size=n)
        columns["public_sector"][sl] = rng.random(n) < p.public_sector_share
        columns["whitelisted"][sl] = rng.random(n) < whitelist_share[r]
    return Agents(CITIZEN, offsets, weight, **columns)


def business_scale(scale: float, p: Population) -> float:
    """Businesses per business agent: ``scale / business_resolution``, and never below one."""
    return max(1.0, scale / p.business_resolution)


def build_businesses(
    seed: int, regions: list[str], populations: np.ndarray, scale: float, p: Population
) -> Agents:
    """Businesses of every region with a population: sector, size and how far out of the pilot's reach."""
    counts, offsets, weight = _layout(populations * p.businesses_per_resident, business_scale(scale, p))
    total = int(offsets[-1])
    columns = {c.name: np.empty(total, c.dtype) for c in BUSINESS.attributes}
    size_shares = np.asarray(p.size_shares) / sum(p.size_shares)
    sector_shares = np.asarray(p.sector_shares) / sum(p.sector_shares)
    for r, region in enumerate(regions):
        n = int(counts[r])
        if n == 0:
            continue
        sl = slice(int(offsets[r]), int(offsets[r + 1]))
        rng = region_stream(seed, "businesses", region)
        columns["size"][sl] = rng.choice(3, size=n, p=size_shares)
        columns["sector"][sl] = rng.choice(len(SECTORS), size=n, p=sector_shares)
        columns["coverage_rank"][sl] = rng.random(n, dtype=np.float32)
    return Agents(BUSINESS, offsets, weight, **columns)
