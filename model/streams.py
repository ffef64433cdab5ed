"""Seeded streams for what is drawn once per region (agents' attributes, word-of-mouth graphs), and the
seeds of replications. What agents decide at each step is drawn per agent instead (``draws.py``).

Stream ``(name, region)`` of run ``seed`` is ``PCG64(SeedSequence(seed, spawn_key=(crc32(name),
crc32(region))))``: a region's agents and graph come from their own stream, so they do not depend on which
other regions a scenario simulates, on the horizon or on the engine.
"""

from __future__ import annotations

import zlib

import numpy as np


def region_stream(seed: int, name: str, region: str) -> np.random.Generator:
    """The generator of what is drawn once for ``region`` under ``name`` (e.g. "citizens", "network")."""
    key = (zlib.crc32(name.encode()), zlib.crc32(region.encode()))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=key)))


def replication_seeds(root: int, replications: int) -> list[int]:
    """Seeds of replications 0..n-1: ``SeedSequence(root).spawn(n)``, each as a 63-bit integer."""
    children = np.random.SeedSequence(root).spawn(replications)
    return [int(child.generate_state(2, np.uint64)[0] >> np.uint64(1)) for child in children]
