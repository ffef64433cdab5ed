"""Word of mouth runs on a small-world graph within each region, stored without an edge list.

The graph is Watts-Strogatz: a ring where each citizen knows the ``k/2`` nearest on each side, and each ring
edge (i, i+d) is rewired with probability ``beta`` to (i, j), j uniform. Only the rewired edges are stored;
the ring part is implicit. Per rewired edge: its source (int32, sorted within each hop ``d``), hop (int8),
new end (int32), and the same ends sorted by new end (two int32, to find the edges that end at a citizen):
17 bytes, ``beta * k/2`` of them per citizen (6.8 bytes at k = 8, beta = 0.1), plus a uint16 degree.

Two ways to count adopted neighbours. ``adopted_neighbours`` recounts everyone: ``k`` shifted adds plus
three scatter-adds over the rewired edges; the vectorized engine uses it once, when a region goes live.
``RegionGraphs`` holds the graphs of many regions as one and lists the neighbours of a few citizens
(``RegionGraphs.neighbours``), so that the engine keeps the counts up to date as citizens adopt: adoption
never reverts, so over a whole run that is ``k`` updates per citizen in total, instead of ``k`` per citizen
per step. The agent engine reads neighbour lists (``neighbour_lists``) from the same ``SmallWorld``, built
from the same region stream, so both engines see the same graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ONE = np.int32(1)  # ufunc.at with a typed scalar stays on numpy's fast path (a Python int is 80x slower)


@dataclass(frozen=True)
class SmallWorld:
    n: int
    half_degree: int
    source: np.ndarray  # int32: i of each rewired ring edge (i, i + hop); sorted within each hop
    hop: np.ndarray  # int8: d of that edge (edges of hop 1 first, then hop 2, ...)
    target: np.ndarray  # int32: its new end j
    degree: np.ndarray  # uint16: neighbours of each citizen
    hop_offsets: np.ndarray | None = None  # int64 [half + 1]: edges of hop d are hop_offsets[d-1:d]
    target_sorted: np.ndarray | None = None  # int32: ``target`` in increasing order
    source_by_target: np.ndarray | None = None  # int32: the source of each edge of ``target_sorted``

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
        hop_offsets = np.concatenate([[0], np.cumsum([s.size for s in sources], dtype=np.int64)])
        del sources, targets, hops
        degree_count = np.full(n, 2 * half, dtype=np.int32)
        for d in range(1, half + 1):
            lo, hi = hop_offsets[d - 1], hop_offsets[d]
            ring_end = source[lo:hi] + d
            ring_end[ring_end >= n] -= n
            np.subtract.at(degree_count, ring_end, ONE)  # the old far end loses the edge
        np.add.at(degree_count, target, ONE)  # the new far end gains it
        order = np.argsort(target, kind="stable")
        return cls(
            n,
            half,
            source,
            hop,
            target,
            degree_count.astype(np.uint16),
            hop_offsets,
            target[order],
            source[order],
        )

    def ring_ends(self) -> np.ndarray:
        """int64: the old far end (i + hop) mod n of each rewired edge."""
        ends = self.source.astype(np.int64) + self.hop
        ends[ends >= self.n] -= self.n
        return ends

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
            ring_end = self.ring_ends()
            a_src = a[self.source].astype(np.int32)
            np.add.at(count, self.source, a[self.target].astype(np.int32) - a[ring_end])
            np.add.at(count, self.target, a_src)
            np.subtract.at(count, ring_end, a_src)
        return count

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

    def nbytes(self) -> int:
        arrays = (self.source, self.hop, self.target, self.degree, self.target_sorted, self.source_by_target)
        return int(sum(a.nbytes for a in arrays if a is not None))


class RegionGraphs:
    """The small-world graphs of several regions as one graph over the rows of a population array.

    Region r's graph occupies rows ``offsets[r]:offsets[r + 1]``; its rewired edges are kept in global row
    numbers, per hop, sorted, so ``neighbours`` serves new adopters of every region in one call. Per citizen:
    the degree (uint16) and a bitmask of the hops d whose ring edge (i, i+d) was rewired (one bit per hop),
    so that finding a citizen's edges needs a binary search only where an edge was actually rewired. Per
    rewired edge: 16 bytes. The per-region ``SmallWorld`` objects are not kept.
    """

    def __init__(self, offsets: np.ndarray, half_degree: int) -> None:
        self.offsets = np.asarray(offsets, np.int64)
        self.half_degree = half_degree
        n = int(self.offsets[-1])
        self.index = np.int32 if n < 2**31 else np.int64
        empty = np.zeros(0, self.index)
        self.source = [empty] * half_degree  # per hop d: sources, sorted
        self.target = [empty] * half_degree  # per hop d: new ends, aligned with ``source``
        self.target_sorted = empty
        self.source_by_target = empty
        self.regions: set[int] = set()
        self.degree = np.zeros(n, np.uint16)
        bits = max(8, 1 << (max(half_degree, 1) - 1).bit_length())
        self.rewired = np.zeros(n, np.dtype(f"uint{bits}"))  # bit d-1: edge (i, i+d) rewired

    def add(self, r: int, graph: SmallWorld) -> None:
        """Place region r's graph (same ``half_degree``, or a smaller one if the region is tiny)."""
        start = int(self.offsets[r])
        self.degree[start : start + graph.n] = graph.degree
        self.regions.add(r)
        for d in range(1, graph.half_degree + 1):
            lo, hi = int(graph.hop_offsets[d - 1]), int(graph.hop_offsets[d])
            self.rewired[start + graph.source[lo:hi]] |= self.rewired.dtype.type(1 << (d - 1))
            at = int(np.searchsorted(self.source[d - 1], start))
            self.source[d - 1] = np.insert(self.source[d - 1], at, graph.source[lo:hi] + start)
            self.target[d - 1] = np.insert(self.target[d - 1], at, graph.target[lo:hi] + start)
        at = int(np.searchsorted(self.target_sorted, start))
        self.target_sorted = np.insert(self.target_sorted, at, graph.target_sorted + start)
        self.source_by_target = np.insert(self.source_by_target, at, graph.source_by_target + start)

    def neighbours(self, nodes: np.ndarray) -> np.ndarray:
        """``SmallWorld.neighbours`` for rows ``nodes`` of regions that have a graph (global row numbers)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        if nodes.size == 0:
            return np.zeros(0, np.int64)
        region = np.searchsorted(self.offsets, nodes, side="right") - 1
        start, size = self.offsets[region], self.offsets[region + 1] - self.offsets[region]
        local = nodes - start
        mask = self.rewired[nodes]
        half = np.minimum(self.half_degree, (size - 1) // 2)  # a tiny region's ring has fewer hops
        incoming = self.degree[nodes].astype(np.int64) - 2 * half  # edges rewired onto x, less those lost
        parts = []
        for d in range(1, self.half_degree + 1):
            ring = d <= half
            bit = 1 << (d - 1)
            forward = local + d
            forward[forward >= size] -= size[forward >= size]
            forward += start
            moved = np.flatnonzero(mask & bit)  # (x, x+d) was rewired to (x, j)
            where = np.searchsorted(self.source[d - 1], nodes[moved])
            forward[moved] = self.target[d - 1][where]
            backward = local - d
            backward[backward < 0] += size[backward < 0]
            backward += start
            lost = (self.rewired[backward] & bit) != 0  # (x-d, x) was rewired away from x
            incoming += ring & lost
            parts += [forward[ring], backward[ring & ~lost]]
        has = np.flatnonzero(incoming > 0)
        first = np.searchsorted(self.target_sorted, nodes[has])
        parts.append(self.source_by_target[_ranges(first, first + incoming[has])].astype(np.int64))
        return np.concatenate(parts)

    def nbytes(self) -> int:
        arrays = [*self.source, *self.target, self.target_sorted, self.source_by_target]
        return int(sum(a.nbytes for a in arrays) + self.degree.nbytes + self.rewired.nbytes)


def _ranges(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(first[i], last[i])`` for every i."""
    lengths = last - first
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.intp)
    keep = lengths > 0
    first, lengths = first[keep], lengths[keep]
    steps = np.ones(total, np.intp)
    starts = np.cumsum(lengths) - lengths
    steps[0] = first[0]
    steps[starts[1:]] = first[1:] - (first[:-1] + lengths[:-1] - 1)
    return np.cumsum(steps)
