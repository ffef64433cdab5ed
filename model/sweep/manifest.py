"""A sweep's ``manifest.json``: what it is (the sweep file, resolved scenarios, seeds), how far it got
(status and counts), on what (executor, host, versions) and how fast (runs per minute, parent memory)."""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from typing import Any

from .. import __version__
from ..results import git_commit
from .design import Sweep


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def peak_rss_mb() -> float:
    """Peak resident memory of this process (the parent) in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def sweep_manifest(
    sweep: Sweep, state, executor: dict, status: str, started_at: str, started: float
) -> dict[str, Any]:
    wall = time.perf_counter() - started
    processed = state.done + len(state.failures)
    spec = sweep.spec
    return {
        "sweep": sweep.name,
        "description": spec.description,
        "sweep_file": str(spec.path),
        "sweep_document": spec.document,
        "base": str(spec.base),
        "method": spec.method,
        "replications": spec.replications,
        "root_seed": spec.root_seed,
        "seeds": list(sweep.seeds),
        "scenarios": [
            {
                "index": s.index,
                "name": s.name,
                "source": str(s.source),
                "overrides": s.overrides,
                "levers": s.levers,
                "resolved": s.resolved,
            }
            for s in sweep.scenarios
        ],
        "aliases": sweep.aliases,
        "explicit_runs": sweep.pairs is not None,
        "keep": sweep.keep.describe() if sweep.keep else None,
        "runs": state.total,
        "status": status,
        "done_before": state.skipped,
        "done": state.done,
        "failed": [f["run_id"] for f in state.failures],
        "remaining": state.total - state.skipped - processed,
        "pool_restarts": state.pool_restarts,
        "retried": sorted(state.retried),
        "executor": executor,
        "started": started_at,
        "updated": now(),
        "wall_seconds": round(wall, 3),
        "runs_per_minute": round(60 * processed / wall, 2) if wall > 0 and processed else None,
        "mean_run_seconds": round(state.run_seconds / state.done, 3) if state.done else None,
        "parent_peak_rss_mb": peak_rss_mb(),
        "package_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "host": platform.node(),
        "pid": os.getpid(),
    }
