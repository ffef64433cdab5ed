"""The vectorized engine: the phases compiled (``kernels.py``) and run over whole arrays, one call a step.

Per citizen it holds the declared state (``state.CITIZEN``) and, with word of mouth, a uint16 count of
neighbours holding a wallet, kept up to date as wallets open: at the start of a step the citizens whose
first wallet is a step old are added to their neighbours' counts (``network.RegionGraphs.neighbours``; a
citizen adopts once, so that is ``k`` updates per citizen over a whole run), and the graph of a region is
built, and its counts taken, when the region goes live. Citizens of regions that are not live cost nothing
but the white-listed among them, stepped on their own.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..context import StepView, Tally
from ..network import RegionGraphs, SmallWorld
from ..state import Agents
from ..streams import region_stream
from . import lottery_counts

UPDATE_BLOCK = 1 << 20  # new adopters per neighbour-count update: bounds its temporaries at large scale


class VectorizedEngine:
    name = "vectorized"

    def __init__(self, model, citizens: Agents, businesses: Agents, b, k) -> None:
        self.citizens, self.businesses, self.b, self.k = citizens, businesses, b, k
        self.kernels = kernels.compiled()
        self.seed, self.regions = model.seed, model.region_names
        behaviour = model.behaviour
        self.degree_k, self.rewiring = behaviour.network_degree, behaviour.network_rewiring
        self.uses_network = behaviour.word_of_mouth > 0 and behaviour.wom_mixing < 1
        n = len(citizens)
        if self.uses_network:
            self.network = RegionGraphs(citizens.offsets, behaviour.network_degree // 2)
            self.degree = self.network.degree
            self.neighbour_count = np.zeros(n, np.uint16)
            self.has_graph = np.zeros(len(citizens.counts), np.bool_)
        else:
            self.degree = self.neighbour_count = np.zeros(0, np.uint16)
        self.whitelisted_rows = np.flatnonzero(citizens.whitelisted)
        self.whitelisted_region = citizens.region_of(self.whitelisted_rows)

    # ------------------------------------------------------------------ word of mouth

    def observe(self, view: StepView) -> None:
        """Count last step's first wallets into their neighbours' counts; build newly live regions' graphs."""
        if not self.uses_network:
            return
        c, network = self.citizens, self.network
        opened = np.flatnonzero(c.first_wallet_step == view.step - 1)
        if opened.size and len(network.regions) < len(c.counts):
            opened = opened[self.has_graph[c.region_of(opened)]]
        for lo in range(0, opened.size, UPDATE_BLOCK):
            # a typed increment keeps ufunc.at on its fast path (a Python int is 80x slower)
            nodes = opened[lo : lo + UPDATE_BLOCK]
            np.add.at(
                self.neighbour_count, network.neighbours(nodes, self.kernels.fill_neighbours), np.uint16(1)
            )
        self.build_networks(view.live)

    def build_networks(self, regions: np.ndarray) -> None:
        """Build the graphs of ``regions`` (bool mask) that have none yet, and count adopted neighbours.

        ``observe`` does this for each region as it goes live; calling it earlier only moves the work.
        """
        if not self.uses_network:
            return
        c = self.citizens
        for r in np.flatnonzero(regions & (c.counts > 0)):
            if int(r) not in self.network.regions:
                sl = c.region_slice(int(r))
                stream = region_stream(self.seed, "network", self.regions[r])
                graph = SmallWorld.build(sl.stop - sl.start, self.degree_k, self.rewiring, stream)
                self.network.add(int(r), graph)
                self.has_graph[r] = True
                self.neighbour_count[sl] = graph.adopted_neighbours(c.wallets[sl] != 0)

    # ------------------------------------------------------------------ the step

    def lottery(self, view, tally, region, budget, residents, winners, keys):
        outcome = np.zeros(3, np.int64)
        entrants = self.kernels.lottery(
            region,
            self.citizens.arrays,
            view,
            self.b,
            self.k,
            tally,
            budget,
            residents,
            winners,
            np.array(keys, np.uint64),
            outcome,
        )
        return lottery_counts(outcome, entrants)

    def step(self, view: StepView, tally: Tally) -> None:
        # white-listed residents of regions not live: they may open a wallet, and are counted
        elsewhere = ~view.live[self.whitelisted_region]
        rows, regions = self.whitelisted_rows[elsewhere], self.whitelisted_region[elsewhere]
        self.kernels.citizens_week(
            np.flatnonzero(view.live),
            rows,
            regions,
            self.citizens.arrays,
            view,
            self.b,
            self.k,
            tally,
            self.neighbour_count,
            self.degree,
        )
        self.kernels.businesses_week(
            np.flatnonzero(view.live),
            self.businesses.arrays,
            view,
            self.b,
            self.k,
            tally,
        )

    def acquirers(self, view: StepView, joined_pull: np.ndarray) -> None:
        self.kernels.acquirers(self.businesses.arrays, view, self.k, joined_pull)

    def memory_bytes(self) -> int:
        """Bytes held by citizen, business and network arrays (for the benchmarks)."""
        network = self.network.nbytes() + self.neighbour_count.nbytes if self.uses_network else 0
        extra = self.whitelisted_rows.nbytes + self.whitelisted_region.nbytes
        return self.citizens.nbytes() + self.businesses.nbytes() + network + extra
