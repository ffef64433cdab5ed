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
            # j uniform over the others: draw from n-1 values (n >= 3 here) and skip i itself
            j = rng.integers(0, n - 1, size=rewired.size, dtype=np.int32)
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


def index_dtype(n: int) -> type:
    """The smallest integer type that numbers n citizens: int32 up to 2**31 - 1 of them, else int64."""
    return np.int32 if n <= np.iinfo(np.int32).max else np.int64


class RegionGraphs:
    """The small-world graphs of several regions as one graph over the rows of a population array.

    Region r's graph occupies rows ``offsets[r]:offsets[r + 1]``; its rewired edges are kept in global row
    numbers, hop by hop (the edges of hop d are ``hop_start[d - 1]:hop_start[d]``, sorted by source), so
    ``neighbours`` serves new adopters of every region in one call. Per citizen: the degree (uint16) and a
    bitmask of the hops d whose ring edge (i, i+d) was rewired (one bit per hop), so that finding a
    citizen's edges needs a binary search only where an edge was actually rewired. Per rewired edge: 16
    bytes. The per-region ``SmallWorld`` objects are not kept.
    """

    def __init__(self, offsets: np.ndarray, half_degree: int) -> None:
        self.offsets = np.asarray(offsets, np.int64)
        self.half_degree = half_degree
        n = int(self.offsets[-1])
        self.index = index_dtype(n)
        empty = np.zeros(0, self.index)
        self.hop_start = np.zeros(half_degree + 1, np.int64)
        self.source = empty  # sources of the rewired edges, hop by hop, sorted within a hop
        self.target = empty  # their new ends, aligned with ``source``
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
        places = []  # where each of the region's edges goes in the stacked arrays, as they are now
        for d in range(1, graph.half_degree + 1):
            lo, hi = int(graph.hop_offsets[d - 1]), int(graph.hop_offsets[d])
            self.rewired[start + graph.source[lo:hi]] |= self.rewired.dtype.type(1 << (d - 1))
            first, last = int(self.hop_start[d - 1]), int(self.hop_start[d])
            places.append(np.full(hi - lo, first + int(np.searchsorted(self.source[first:last], start))))
        if places:  # one insertion for every hop: one copy of the stacked arrays, not one per hop
            at = np.concatenate(places)
            self.source = np.insert(self.source, at, graph.source[: at.size] + start)
            self.target = np.insert(self.target, at, graph.target[: at.size] + start)
            self.hop_start[1 : graph.half_degree + 1] += np.cumsum(np.diff(graph.hop_offsets))
            self.hop_start[graph.half_degree + 1 :] += at.size
        at = int(np.searchsorted(self.target_sorted, start))
        self.target_sorted = np.insert(self.target_sorted, at, graph.target_sorted + start)
        self.source_by_target = np.insert(self.source_by_target, at, graph.source_by_target + start)

    def neighbours(self, nodes: np.ndarray, fill=None) -> np.ndarray:
        """The neighbours (``SmallWorld.neighbour_lists``) of rows ``nodes`` of regions that have a graph.

        ``fill`` is ``fill_neighbours`` or its compiled form (the vectorized engine's kernel).
        """
        nodes = np.asarray(nodes, dtype=np.int64)
        out = np.empty(int(self.degree[nodes].sum(dtype=np.int64)), np.int64)
        (fill or fill_neighbours)(
            nodes,
            self.offsets,
            self.half_degree,
            self.degree,
            self.rewired,
            self.hop_start,
            self.source,
            self.target,
            self.target_sorted,
            self.source_by_target,
            out,
        )
        return out

    def nbytes(self) -> int:
        arrays = [self.source, self.target, self.target_sorted, self.source_by_target]
        return int(sum(a.nbytes for a in arrays) + self.degree.nbytes + self.rewired.nbytes)


def fill_neighbours(
    nodes,
    offsets,
    half_degree,
    degree,
    rewired,
    hop_start,
    source,
    target,
    target_sorted,
    source_by_target,
    out,
) -> int:
    """Write the neighbours of every row of ``nodes`` into ``out`` (one after another); return how many.

    Row x of a region of n rows starting at s, local l = x - s, has per hop d <= h = min(half_degree,
    (n - 1) // 2) its ring edge forward, to s + (l + d) mod n or, if rewired (bit d-1 of ``rewired[x]``),
    to that edge's new end; and backward, from s + (l - d) mod n unless that edge was rewired away. The
    edges rewired onto x (``degree[x]`` less the ring edges it kept) come from ``source_by_target``.
    A multigraph: an edge rewired onto an existing one is listed twice. Plain Python here; compiled by
    ``kernels.py`` for the vectorized engine.
    """
    k = 0
    for x in nodes:
        r = np.searchsorted(offsets, x, side="right") - 1
        start, size = offsets[r], offsets[r + 1] - offsets[r]
        local = x - start
        half = min(half_degree, (size - 1) // 2)  # a tiny region's ring has fewer hops
        incoming = np.int64(degree[x]) - 2 * half  # edges rewired onto x, less the ring edges it lost
        for d in range(1, half + 1):
            bit = 1 << (d - 1)
            if rewired[x] & bit:  # (x, x+d) was rewired to (x, j)
                first = hop_start[d - 1]
                out[k] = target[first + np.searchsorted(source[first : hop_start[d]], x)]
            else:
                out[k] = start + (local + d if local + d < size else local + d - size)
            k += 1
            back = start + (local - d if local >= d else local - d + size)
            if rewired[back] & bit:  # (x-d, x) was rewired away from x
                incoming += 1
            else:
                out[k] = back
                k += 1
        if incoming > 0:
            first = np.searchsorted(target_sorted, x)
            for e in range(first, first + incoming):
                out[k] = source_by_target[e]
                k += 1
    return k
