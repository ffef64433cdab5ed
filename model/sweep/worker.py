"""What a worker process runs: one (scenario, seed) in, the run's Parquet bytes (or its error) out.

The worker returns bytes rather than writing a file, so a Dask worker on another machine needs no shared
file system, and the parent is the only writer of the results folder (one atomic rename per run). The
bytes come from ``model.results.run_file_bytes`` (fixed schema, zstd, the run's key and a checksum of its
data in the file's metadata), so equal runs give equal bytes on any executor, and ``--resume`` can tell a
whole file of this run from a damaged one or another run's. A run that raises comes back as a
``RunOutcome`` with the error and its traceback: the sweep records it and goes on.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from dataclasses import dataclass
from typing import Any

from ..results import run_file_bytes
from ..runner import simulate


@dataclass(frozen=True)
class Keep:
    """Which rows of a run to store: only these metrics and/or regions (None: all)."""

    metrics: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None

    def describe(self) -> str:
        return f"metrics={sorted(self.metrics or [])};regions={sorted(self.regions or [])}"

    def apply(self, frame):
        mask = None
        for column, wanted in (("metric", self.metrics), ("region", self.regions)):
            if wanted is not None:
                term = frame[column].isin(wanted)
                mask = term if mask is None else mask & term
        return frame if mask is None else frame[mask].reset_index(drop=True)


@dataclass(frozen=True)
class RunTask:
    run_id: str
    scenario: dict[str, Any]  # Scenario.dump()
    seed: int
    run_key: str = ""  # stored in the run file, with a checksum, and verified on --resume
    keep: Keep | None = None


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    parquet: bytes | None  # None when the run raised
    error: str | None
    traceback: str | None
    seconds: float  # simulate + serialise, on the worker
    worker: str  # host:pid

    @property
    def ok(self) -> bool:
        return self.parquet is not None


def execute_run(task: RunTask) -> RunOutcome:
    """Simulate one run; never raises for an error of the run itself (KeyboardInterrupt still propagates)."""
    started = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        frame = simulate(task.scenario, task.seed)
        if task.keep is not None:
            frame = task.keep.apply(frame)
        data = run_file_bytes(frame, task.run_key)
        del frame
        return RunOutcome(task.run_id, data, None, None, time.perf_counter() - started, worker)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - started
        return RunOutcome(task.run_id, None, error, traceback.format_exc(), seconds, worker)
