"""Word of mouth runs on a small-world graph within each region, stored without an edge list.

The graph is Watts-Strogatz: a ring where each citizen knows the ``k/2`` nearest on each side, and each ring
edge (i, i+d) is rewired with probability ``beta`` to (i, j), j uniform. Only the rewired edges are stored
(``beta * k/2`` of them per citizen, 9 bytes each); the ring part is implicit, so counting adopted
neighbours is ``k`` shifted adds plus one bincount. The agent engine reads neighbour lists from the same
object, so both engines see the same graph for the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SmallWorld:
    n: int
    half_degree: int
    source: np.ndarray  # int32: i of each rewired ring edge (i, i + hop)
    hop: np.ndarray  # int8: d of that edge
    target: np.ndarray  # int32: its new end j
    degree: np.ndarray  # uint16: neighbours of each citizen

    @classmethod
    def build(cls, n: int, degree: int, rewiring: float, rng: np.random.Generator) -> SmallWorld:
        half = max(0, min(degree // 2, (n - 1) // 2))
        sources, hops, targets = [], [], []
        for d in range(1, half + 1):
            rewired = np.flatnonzero(rng.random(n, dtype=np.float32) < rewiring).astype(np.int32)
            # j uniform over the others: draw from n-1 values and skip i itself
            j = rng.integers(0, max(n - 1, 1), size=rewired.size, dtype=np.int32)
            j += j >= rewired
            sources.append(rewired)
            hops.append(np.full(rewired.size, d, dtype=np.int8))
            targets.append(j)
        source = np.concatenate(sources) if sources else np.zeros(0, np.int32)
        hop = np.concatenate(hops) if hops else np.zeros(0, np.int8)
        target = np.concatenate(targets) if targets else np.zeros(0, np.int32)
        ring_end = (source + hop) % max(n, 1)
        degree_count = np.full(n, 2 * half, dtype=np.int64)
        degree_count -= np.bincount(ring_end, minlength=n)  # the old far end loses the edge
        degree_count += np.bincount(target, minlength=n)  # the new far end gains it
        return cls(n, half, source, hop, target, degree_count.astype(np.uint16))

    def adopted_neighbours(self, adopted: np.ndarray) -> np.ndarray:
        """Number of neighbours with ``adopted`` true (``adopted``: bool or uint8 of length n)."""
        a = adopted.view(np.uint8) if adopted.dtype == np.bool_ else adopted
        count = np.zeros(self.n, dtype=np.int32)
        for d in range(1, self.half_degree + 1):
            count[:-d] += a[d:]
            count[-d:] += a[:d]
            count[d:] += a[:-d]
            count[:d] += a[-d:]
        if self.source.size:
            ring_end = (self.source + self.hop) % self.n
            a_src, a_end, a_new = a[self.source], a[ring_end], a[self.target]
            change = a_new.astype(np.int32) - a_end
            count += np.bincount(self.source, weights=change, minlength=self.n).astype(np.int32)
            count += np.bincount(self.target, weights=a_src, minlength=self.n).astype(np.int32)
            count -= np.bincount(ring_end, weights=a_src, minlength=self.n).astype(np.int32)
        return count

    def adopted_share(self, adopted: np.ndarray) -> np.ndarray:
        """Share of each citizen's neighbours who have adopted (0 for a citizen with none)."""
        count = self.adopted_neighbours(adopted)
        return np.divide(count, self.degree, out=np.zeros(self.n), where=self.degree > 0)

    def neighbour_lists(self) -> list[list[int]]:
        """Neighbours of each citizen as Python lists (for the agent engine; small n only).

        A multigraph, like the counting above: an edge rewired onto an existing one counts twice.
        """
        rewired = dict.fromkeys(zip(self.source.tolist(), self.hop.tolist(), strict=True))
        edges = [
            (i, (i + d) % self.n)
            for d in range(1, self.half_degree + 1)
            for i in range(self.n)
            if (i, d) not in rewired
        ]
        edges += list(zip(self.source.tolist(), self.target.tolist(), strict=True))
        lists: list[list[int]] = [[] for _ in range(self.n)]
        for i, j in edges:
            lists[i].append(j)
            lists[j].append(i)
        return lists
