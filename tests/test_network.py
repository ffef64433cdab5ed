"""The small-world graph: the implicit-ring counting agrees with explicit neighbour lists."""

from __future__ import annotations

import numpy as np
import pytest

from model.network import RegionGraphs, SmallWorld, index_dtype

SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100, 1_000]
DEGREES = [2, 4, 8, 64]
REWIRING = [0.0, 0.1, 0.5, 1.0]


def build(n: int, degree: int, rewiring: float, seed: int = 0) -> SmallWorld:
    return SmallWorld.build(
        n, degree, rewiring, np.random.default_rng([n, degree, int(rewiring * 100), seed])
    )


def brute_force(graph: SmallWorld, adopted: np.ndarray) -> np.ndarray:
    return np.array([sum(int(adopted[j]) for j in nbrs) for nbrs in graph.neighbour_lists()], dtype=np.int64)


@pytest.mark.parametrize("rewiring", REWIRING)
@pytest.mark.parametrize("degree", DEGREES)
@pytest.mark.parametrize("n", SIZES)
def test_adopted_neighbours_equals_brute_force(n, degree, rewiring):
    graph = build(n, degree, rewiring)
    rng = np.random.default_rng(n * 1000 + degree)
    for share in (0.0, 0.3, 0.7, 1.0):
        adopted = rng.random(n) < share
        counted = graph.adopted_neighbours(adopted)
        assert counted.shape == (n,)
        np.testing.assert_array_equal(counted, brute_force(graph, adopted))
        # uint8 input counts the same as bool
        np.testing.assert_array_equal(graph.adopted_neighbours(adopted.astype(np.uint8)), counted)
        # and the share divides by the degree (0 for a citizen without neighbours)
        degree_of = np.array([len(x) for x in graph.neighbour_lists()])
        expected = np.divide(counted, degree_of, out=np.zeros(n), where=degree_of > 0)
        np.testing.assert_allclose(counted / np.maximum(graph.degree, 1), expected, rtol=1e-12)


@pytest.mark.parametrize("rewiring", REWIRING)
@pytest.mark.parametrize("degree", DEGREES)
@pytest.mark.parametrize("n", SIZES)
def test_degrees_sum_to_twice_the_edges(n, degree, rewiring):
    graph = build(n, degree, rewiring)
    lists = graph.neighbour_lists()
    edges = n * graph.half_degree  # rewiring moves edges, it never adds or removes one
    assert int(graph.degree.astype(np.int64).sum()) == 2 * edges == sum(len(x) for x in lists)
    np.testing.assert_array_equal(graph.degree, [len(x) for x in lists])
    # symmetric and without self-loops
    for i, nbrs in enumerate(lists):
        assert i not in nbrs
        for j in nbrs:
            assert lists[j].count(i) == nbrs.count(j)
    assert graph.source.size == graph.hop.size == graph.target.size
    if rewiring == 0:
        assert graph.source.size == 0
    if rewiring == 1:
        assert graph.source.size == edges


@pytest.mark.parametrize("degree", DEGREES)
@pytest.mark.parametrize("n", SIZES)
def test_no_rewiring_gives_a_ring(n, degree):
    graph = build(n, degree, 0.0)
    half = graph.half_degree
    assert half == min(degree // 2, max(0, (n - 1) // 2))  # as many as fit without repeating a neighbour
    for i, nbrs in enumerate(graph.neighbour_lists()):
        ring = sorted({(i + d) % n for d in range(1, half + 1)} | {(i - d) % n for d in range(1, half + 1)})
        assert sorted(nbrs) == ring
        assert len(nbrs) == 2 * half
    np.testing.assert_array_equal(graph.degree, 2 * half)


def test_a_lone_adopter_is_seen_by_exactly_its_ring_neighbours():
    graph = build(20, 4, 0.0)
    adopted = np.zeros(20, bool)
    adopted[0] = True
    np.testing.assert_array_equal(np.flatnonzero(graph.adopted_neighbours(adopted)), [1, 2, 18, 19])


def test_rewiring_makes_shortcuts_at_the_requested_rate():
    n, degree, beta = 20_000, 8, 0.1
    graph = build(n, degree, beta)
    edges = n * degree // 2
    assert abs(graph.source.size - beta * edges) < 5 * np.sqrt(edges * beta * (1 - beta))
    # targets are spread over the whole region, not just nearby ring positions
    distance = np.abs(graph.target.astype(np.int64) - graph.source)
    assert np.median(np.minimum(distance, n - distance)) > n / 10


def test_the_same_stream_builds_the_same_graph():
    a = SmallWorld.build(500, 8, 0.2, np.random.default_rng(9))
    b = SmallWorld.build(500, 8, 0.2, np.random.default_rng(9))
    for field in ("source", "hop", "target", "degree"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = SmallWorld.build(500, 8, 0.2, np.random.default_rng(10))
    assert not np.array_equal(a.target, c.target)


@pytest.mark.parametrize(
    ("half_degree", "bits"), [(1, 8), (4, 8), (8, 8), (9, 16), (16, 16), (17, 32), (32, 32)]
)
def test_the_hop_mask_has_a_bit_per_hop_in_the_fewest_bytes(half_degree, bits):
    """Per citizen, one bit for each hop d whose ring edge was rewired: uint8 up to 8 hops, then 16, 32."""
    graphs = RegionGraphs(np.array([0, 10]), half_degree)
    assert graphs.rewired.dtype == np.dtype(f"uint{bits}")


def test_citizens_are_numbered_in_int32_while_they_fit():
    assert index_dtype(0) is np.int32 and index_dtype(2**31 - 1) is np.int32
    assert index_dtype(2**31) is np.int64
    assert RegionGraphs(np.array([0, 5]), 2).index is np.int32
