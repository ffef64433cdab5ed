"""The synthetic population: each region's citizens and merchants, drawn from that region's own stream.

One citizen stands for ``weight = population / n`` residents, with ``n = max(1, round(population / scale))``;
merchants likewise, ``population * merchants_per_resident``. A region's agents come from
``streams.region_stream(seed, "citizens" | "merchants", region)`` alone, and every share that is a lever
(the white-list share) is compared with a uniform drawn whatever its value, so agent 17 of Shenzhen is the
same person in every scenario that has the same scale, whatever the other regions, the horizon or the
engine.

A merchant's acquiring bank is chosen by an exponential race over the scenario's operators: bank j's time
is ``-ln(1 - u_j) / reach_j`` with ``u_j`` the merchant's uniform for "acquirer:<bank id>", and the first
wins, so P(bank j) = reach_j / sum(reach). Removing a bank moves only the merchants it had won; raising one
bank's reach moves only merchants to that bank.
"""

from __future__ import annotations

import numpy as np

from . import draws
from .behaviour import Population
from .state import CITIZEN, MERCHANT, Agents
from .streams import region_stream

SECTORS = ("retail_wholesale", "catering_tourism", "government_services", "transport")
PUBLIC_SERVICES = SECTORS.index("government_services")
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
    whitelist_share: float,
    p: Population,
) -> Agents:
    """Citizens of every region with a population (0 = not simulated), each region from its own stream."""
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
        columns["whitelisted"][sl] = rng.random(n) < whitelist_share
    return Agents(CITIZEN, offsets, weight, **columns)


def build_merchants(
    seed: int,
    regions: list[str],
    populations: np.ndarray,
    scale: float,
    banks: list[str],
    reach: np.ndarray,
    p: Population,
) -> Agents:
    """Merchants of every region with a population; acquirers by the race over ``banks`` (see above)."""
    counts, offsets, weight = _layout(populations * p.merchants_per_resident, scale)
    total = int(offsets[-1])
    columns = {c.name: np.empty(total, c.dtype) for c in MERCHANT.attributes}
    size_shares = np.asarray(p.size_shares) / sum(p.size_shares)
    sector_shares = np.asarray(p.sector_shares) / sum(p.sector_shares)
    keys = draws.Keys(seed)
    for r, region in enumerate(regions):
        n = int(counts[r])
        if n == 0:
            continue
        sl = slice(int(offsets[r]), int(offsets[r + 1]))
        rng = region_stream(seed, "merchants", region)
        size = rng.choice(3, size=n, p=size_shares)
        columns["size"][sl] = size
        columns["points"][sl] = np.take(np.asarray(p.points_by_size, np.float32), size)
        columns["sector"][sl] = rng.choice(4, size=n, p=sector_shares)
        columns["coverage_rank"][sl] = rng.random(n, dtype=np.float32)
        agents = (np.uint64(draws.region_key(region)) << np.uint64(32)) | np.arange(n, dtype=np.uint64)
        columns["acquirer"][sl] = acquirer_race(keys, agents, banks, reach)
    return Agents(MERCHANT, offsets, weight, **columns)


def acquirer_race(keys: draws.Keys, agents: np.ndarray, banks: list[str], reach: np.ndarray) -> np.ndarray:
    """Index of each merchant's acquiring bank (-1 if no bank has reach): the exponential race above."""
    best = np.full(agents.size, np.inf)
    winner = np.full(agents.size, -1, np.int8)
    for j, (bank, weight) in enumerate(zip(banks, reach, strict=True)):
        if weight <= 0:
            continue
        time = -np.log1p(-draws.uniforms(keys, f"acquirer:{bank}", agents, 0)) / weight
        won = time < best
        best[won], winner[won] = time[won], j
    return winner
