"""Named random streams: one ``numpy.random.Generator`` per decision, all from the run's seed.

Stream ``name`` of run ``seed`` is ``PCG64(SeedSequence(seed, spawn_key=(crc32(name),)))``: adding a
decision or drawing more for one leaves every other decision's numbers unchanged (Starsim's scheme), and a
run is reproducible from its seed alone.
"""

from __future__ import annotations

import zlib

import numpy as np


class RandomStreams:
    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        stream = self._streams.get(name)
        if stream is None:
            sequence = np.random.SeedSequence(self.seed, spawn_key=(zlib.crc32(name.encode()),))
            stream = self._streams[name] = np.random.Generator(np.random.PCG64(sequence))
        return stream


def replication_seeds(root: int, replications: int) -> list[int]:
    """Seeds of replications 0..n-1: ``SeedSequence(root).spawn(n)``, each as a 63-bit integer."""
    children = np.random.SeedSequence(root).spawn(replications)
    return [int(child.generate_state(2, np.uint64)[0] >> np.uint64(1)) for child in children]
