"""An analysis folder, ``results/<name>/``: its sweeps (one sub-folder each, the sweep store with resume)
and the tables, figures, ``analysis.json`` and ``report.html`` made from them.

```
results/levers/
  sobol/          a sweep folder (design.parquet, runs/, failures.parquet, manifest.json)
  morris/
  indices.parquet, indices.csv, *.png, analysis.json, report.html
```

An analysis runs its design through ``run_sweep`` (local processes or Dask), so Ctrl-C or a crash loses
no finished run and ``resume`` runs only what is missing; the reduction (indices, boxes, shares) is cheap
and is always recomputed from the runs on disk. A folder that holds something else, or another kind of
analysis, is never written into; without ``resume`` or ``overwrite`` an existing analysis is kept.
"""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from ..errors import InputError
from ..results import git_commit
from ..sweep.design import Sweep
from ..sweep.execute import run_sweep
from ..sweep.store import SweepStore, atomic_write_bytes

MANIFEST = "analysis.json"


def folder_name(text: str) -> str:
    """A folder name made from scenario names (which may hold any text): never a path of its own."""
    return re.sub(r"[^A-Za-z0-9-]+", "_", text).strip("_-") or "analysis"


class AnalysisIncomplete(RuntimeError):
    """Some runs of an analysis failed or are missing: its results cannot be computed (exit code 1)."""


@dataclass(frozen=True)
class Options:
    """How an analysis runs: where (local workers or a Dask scheduler), and what to do with an old folder."""

    workers: int | None = None
    scheduler: str | None = None
    resume: bool = False
    overwrite: bool = False
    progress: bool = True


class AnalysisFolder:
    def __init__(self, out: str | Path, name: str, kind: str) -> None:
        self.path = Path(out) / folder_name(name)
        self.kind = kind
        self.started = time.perf_counter()
        self.sweeps: dict[str, dict[str, Any]] = {}

    def prepare(self, options: Options) -> None:
        """Refuse a folder this analysis must not write into (before anything runs)."""
        path, manifest = self.path, self.path / MANIFEST
        if path.exists() and not path.is_dir():
            raise InputError(f"{path}: exists and is not a folder; choose another --out")
        if path.is_dir() and any(path.iterdir()):
            if not manifest.is_file():
                raise InputError(
                    f"{path}: exists and is not an analysis folder (no {MANIFEST}); choose another --out"
                )
            kind = json.loads(manifest.read_text()).get("kind")
            if kind != self.kind:
                raise InputError(
                    f"{path}: holds a {kind} analysis, not {self.kind}; choose another --out or name"
                )
            if not (options.resume or options.overwrite):
                raise InputError(
                    f"{path}: already holds this analysis; add --resume to complete it, --overwrite to start "
                    "again, or choose another --out"
                )
        path.mkdir(parents=True, exist_ok=True)
        if not manifest.is_file():  # marks the folder as this analysis's, so an interrupted one can resume
            stub = {"kind": self.kind, "name": path.name, "status": "running"}
            atomic_write_bytes(manifest, (json.dumps(stub, indent=2) + "\n").encode())

    def run(self, sweep: Sweep, options: Options) -> Path:
        """Run ``sweep`` into ``<folder>/<sweep name>``; raise ``AnalysisIncomplete`` if any run failed."""
        folder = run_sweep(
            sweep,
            out=self.path,
            workers=options.workers,
            scheduler=options.scheduler,
            resume=options.resume,
            progress=options.progress,
            overwrite=options.overwrite,
        )
        manifest = SweepStore(folder).read_manifest()
        keys = (
            "runs",
            "done",
            "done_before",
            "failed",
            "wall_seconds",
            "runs_per_minute",
            "executor",
            "status",
        )
        self.sweeps[sweep.name] = {k: manifest.get(k) for k in keys}
        if manifest["status"] != "complete":
            raise AnalysisIncomplete(
                f"{folder}: {len(manifest['failed'])} runs failed, {manifest['remaining']} not run "
                f"(status {manifest['status']}; failures.parquet names them); fix the cause and add --resume"
            )
        return folder

    def clear_outputs(self) -> None:
        """Remove the tables and figures of an earlier reduction (once the runs are complete), so that no
        stale figure of another goal or size outlives it; the runs and ``analysis.json`` stay."""
        for path in self.path.iterdir():
            if path.is_file() and path.name != MANIFEST:
                path.unlink()

    def write_table(self, frame: pd.DataFrame, stem: str) -> list[Path]:
        """``stem.parquet`` and ``stem.csv``, each written whole or not at all."""
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer, compression="zstd")
        parquet, csv = self.path / f"{stem}.parquet", self.path / f"{stem}.csv"
        atomic_write_bytes(parquet, buffer.getvalue())
        atomic_write_bytes(csv, frame.to_csv(index=False).encode())
        return [parquet, csv]

    def write_manifest(self, source: Path | None, document: dict[str, Any], **facts: Any) -> Path:
        """``analysis.json``: what was asked, the sweeps' counts and timings, versions; read by the report."""
        manifest = {
            "kind": self.kind,
            "name": self.path.name,
            "status": "complete",
            "file": str(source) if source else None,
            "document": document,
            "sweeps": self.sweeps,
            "runs": sum(s["runs"] or 0 for s in self.sweeps.values()),
            "wall_seconds": round(time.perf_counter() - self.started, 3),
            "written": datetime.now(UTC).isoformat(timespec="seconds"),
            "package_version": __version__,
            "git_commit": git_commit(),
            **facts,
        }
        path = self.path / MANIFEST
        atomic_write_bytes(
            path, (json.dumps(manifest, indent=2, default=str, sort_keys=True) + "\n").encode()
        )
        return path
