"""The synthetic population: citizens and merchants of every region as compact numpy arrays.

Both engines start from these arrays (the agent engine wraps each row in a Mesa agent), so for one seed they
simulate the same people. One citizen stands for ``weight = population / n`` residents, with
``n = max(1, round(population / scale))``; merchants likewise, ``population * merchants_per_resident``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .behaviour import Population

SECTORS = ("retail_wholesale", "catering_tourism", "government_services", "transport")
PUBLIC_SERVICES = SECTORS.index("government_services")
URBAN_FACTOR = {"city": 1.0, "new-area": 0.6, "prefecture": 0.7, "province": 0.75}


@dataclass
class Citizens:
    """Struct of arrays, regions contiguous: region r is rows ``offsets[r]:offsets[r + 1]``."""

    offsets: np.ndarray  # int64, len R + 1
    weight: np.ndarray  # float64 per region: residents per citizen
    age_group: np.ndarray  # uint8: 0 = 15-34, 1 = 35-59, 2 = 60+
    urban: np.ndarray  # bool
    habit: np.ndarray  # float32 in (0, 1): digital-payment habit
    income: np.ndarray  # uint8 quintile 0..4
    public_sector: np.ndarray  # bool: paid from public funds (salaries, subsidies)
    whitelisted: np.ndarray  # bool: on a bank white list before the region is live

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def region_slice(self, r: int) -> slice:
        return slice(int(self.offsets[r]), int(self.offsets[r + 1]))


@dataclass
class Merchants:
    offsets: np.ndarray
    weight: np.ndarray  # merchants per merchant agent, per region
    sector: np.ndarray  # uint8, index into SECTORS
    size: np.ndarray  # uint8: 0 small, 1 medium, 2 large
    points: np.ndarray  # float32: acceptance points (scenarios) of one merchant of this size
    acquirer: np.ndarray  # int8: index of the acquiring bank among the scenario's operators
    coverage_rank: np.ndarray  # float32 uniform: reachable when below the region's coverage

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def region_slice(self, r: int) -> slice:
        return slice(int(self.offsets[r]), int(self.offsets[r + 1]))


def agent_counts(populations: np.ndarray, scale: float) -> np.ndarray:
    """Agents per region: max(1, round(population / scale)), and none where the population is 0."""
    counts = np.maximum(1, np.rint(populations / scale)).astype(np.int64)
    return np.where(populations > 0, counts, 0)


def _weights(populations: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return np.divide(populations, counts, out=np.zeros(len(counts)), where=counts > 0)


def build_citizens(
    populations: np.ndarray,
    kinds: list[str],
    scale: float,
    whitelist_share: float,
    p: Population,
    rng: np.random.Generator,
) -> Citizens:
    counts = agent_counts(populations, scale)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    total = int(offsets[-1])
    age = np.empty(total, np.uint8)
    urban = np.empty(total, np.bool_)
    habit = np.empty(total, np.float32)
    for r, kind in enumerate(kinds):
        sl = slice(int(offsets[r]), int(offsets[r + 1]))
        n = int(counts[r])
        age[sl] = rng.choice(3, size=n, p=np.asarray(p.age_shares) / sum(p.age_shares))
        urban[sl] = rng.random(n) < p.urban_share * URBAN_FACTOR.get(kind, 0.7)
        mean = np.where(urban[sl], p.habit_urban, p.habit_rural) * np.take(p.age_habit, age[sl])
        mean = np.clip(mean, 0.01, 0.99)
        c = p.habit_concentration
        habit[sl] = rng.beta(mean * c, (1.0 - mean) * c)
    return Citizens(
        offsets=offsets,
        weight=_weights(populations, counts),
        age_group=age,
        urban=urban,
        habit=habit,
        income=rng.integers(0, 5, size=total, dtype=np.uint8),
        public_sector=rng.random(total) < p.public_sector_share,
        whitelisted=rng.random(total) < whitelist_share,
    )


def build_merchants(
    populations: np.ndarray,
    scale: float,
    acquirer_weights: np.ndarray,
    p: Population,
    rng: np.random.Generator,
) -> Merchants:
    merchants = populations * p.merchants_per_resident
    counts = agent_counts(merchants, scale)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    total = int(offsets[-1])
    size = rng.choice(3, size=total, p=np.asarray(p.size_shares) / sum(p.size_shares))
    if acquirer_weights.sum() > 0:
        share = acquirer_weights / acquirer_weights.sum()
        acquirer = rng.choice(len(share), size=total, p=share).astype(np.int8)
    else:
        acquirer = np.full(total, -1, np.int8)
    return Merchants(
        offsets=offsets,
        weight=_weights(merchants, counts),
        sector=rng.choice(4, size=total, p=np.asarray(p.sector_shares) / sum(p.sector_shares)).astype(
            np.uint8
        ),
        size=size.astype(np.uint8),
        points=np.take(np.asarray(p.points_by_size, np.float32), size),
        acquirer=acquirer,
        coverage_rank=rng.random(total, dtype=np.float32),
    )
