"""Common random numbers: every random decision draws a number fixed by who decides, what and when.

A citizen's or merchant's uniform for a decision at a step is a pure function of (run seed, decision name,
the agent's stable id, the day), never of how many others draw or in which order (Starsim's per-slot
draws, done with a counter-based hash instead of a stored stream):

    u = unit(mix(agent_day ^ decision_key))
    decision_key = mix(mix(seed) ^ name_hash(decision))     one per run and decision (``Keys``)
    agent_day    = mix(agent_key + day * GOLDEN)             one per agent and step
    agent_key    = region_key << 32 | index                  region_key = crc32(region name)

``mix`` is SplitMix64's finalizer (Steele, Lea and Flood 2014), a bijection of 64-bit words whose output
bits each depend on every input bit; ``unit`` keeps the top 53 bits as a double in [0, 1). ``day`` is the
calendar day (``date.toordinal``) of the step's end, so a run that starts later or stops earlier draws the
same numbers on the same days. Agent 17 of Shenzhen is the same person, facing the same luck, in every
scenario, horizon and engine; a what-if changes an outcome only where it changes a probability.

Each function here has a plain-Python body (the agent engine calls it as is) and a numba implementation
with explicit unsigned 64-bit arithmetic (``overload``) for the compiled kernels; a test holds them equal.
"""

from __future__ import annotations

import hashlib
import zlib
from datetime import date

import numpy as np
from numba.extending import overload

M64 = 0xFFFFFFFFFFFFFFFF
GOLDEN = 0x9E3779B97F4A7C15  # 2**64 / golden ratio: consecutive days land far apart before mixing
_C1, _C2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def name_hash(name: str) -> int:
    """A 64-bit hash of a decision or institution name (BLAKE2b), the same on every machine."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def region_key(region: str) -> int:
    """The 32-bit key of a region: crc32 of its name, so it does not depend on the regions' order."""
    return zlib.crc32(region.encode())


def mix(z: int) -> int:
    """SplitMix64's finalizer: a bijection of 64-bit words with full avalanche."""
    z = int(z)
    z = ((z ^ (z >> 30)) * _C1) & M64
    z = ((z ^ (z >> 27)) * _C2) & M64
    return z ^ (z >> 31)


def agent_day(agent: int, day: int) -> int:
    """The per-agent, per-step word that every decision of that agent on that day starts from."""
    return mix((int(agent) + int(day) * GOLDEN) & M64)


def unit(z: int) -> float:
    """The top 53 bits of a 64-bit word as a double uniform on [0, 1)."""
    return float(int(z) >> 11) * _UNIT


def uniform(word: int, decision: int) -> float:
    """The uniform of ``decision`` (a ``Keys`` entry) for the agent and day that ``word`` stands for."""
    return unit(mix(int(word) ^ int(decision)))


def agent_key(region: int, index: int) -> int:
    """The stable id of agent ``index`` of the region whose ``region_key`` is ``region``."""
    return (int(region) << 32) | int(index)


@overload(mix, inline="always")
def _mix_jit(z):
    def impl(z):
        z = np.uint64(z)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(_C1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(_C2)
        return z ^ (z >> np.uint64(31))

    return impl


@overload(agent_day, inline="always")
def _agent_day_jit(agent, day):
    def impl(agent, day):
        return mix(np.uint64(agent) + np.uint64(day) * np.uint64(GOLDEN))

    return impl


@overload(unit, inline="always")
def _unit_jit(z):
    def impl(z):
        return float(np.uint64(z) >> np.uint64(11)) * _UNIT

    return impl


@overload(uniform, inline="always")
def _uniform_jit(word, decision):
    def impl(word, decision):
        return unit(mix(np.uint64(word) ^ np.uint64(decision)))

    return impl


@overload(agent_key, inline="always")
def _agent_key_jit(region, index):
    def impl(region, index):
        return (np.uint64(region) << np.uint64(32)) | np.uint64(index)

    return impl


class Keys:
    """The decision keys of one run: ``keys["adopt"]`` is mix(mix(seed) ^ name_hash("adopt")).

    Keys are plain ints for the agent engine; ``array(names)`` packs some as uint64 for a kernel.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._root = mix(self.seed & M64)
        self._cache: dict[str, int] = {}

    def __getitem__(self, decision: str) -> int:
        key = self._cache.get(decision)
        if key is None:
            key = self._cache[decision] = mix(self._root ^ name_hash(decision))
        return key

    def array(self, names: list[str] | tuple[str, ...]) -> np.ndarray:
        return np.array([self[name] for name in names], dtype=np.uint64)


def day_number(day: date) -> int:
    """The calendar day a step's draws are keyed by."""
    return day.toordinal()


def uniforms(keys: Keys, decision: str, agents: np.ndarray, day: int) -> np.ndarray:
    """The uniforms of ``decision`` for many agent keys at once (numpy; for set-up and for tests)."""
    a = np.asarray(agents, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = _mix_np(a + np.uint64(day) * np.uint64(GOLDEN))
        z = _mix_np(z ^ np.uint64(keys[decision]))
    return (z >> np.uint64(11)).astype(np.float64) * _UNIT


def _mix_np(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_C1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_C2)
    return z ^ (z >> np.uint64(31))
