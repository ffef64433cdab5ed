"""The results folder of a sweep, ``results/<sweep>/``, and the only code that writes into it.

```
design.parquet     one row per run: run_id, scenario, scenario_index, replication, seed, run_key, levers
runs/<run_id>.parquet   one file per finished run: the tidy time series (model.results schema)
failures.parquet   run_id, scenario, replication, seed, error, traceback, worker, when
manifest.json      the sweep file, resolved scenarios, executor, counts, timings, versions, status

rejected/          run files that ``--resume`` would not trust (damaged, another run's), set aside
.lock              held by the running sweep (``model.atomic.exclusive``): one sweep per folder
```

Every file is written to a temporary name beside its target, flushed to disk and renamed over it
(``os.replace``), so a reader -- or a sweep killed at any instant -- sees a whole file or none. A run file
carries its ``run_key`` (a hash of the resolved scenario and seed) and a checksum of its data; ``--resume``
keeps a file only if both match the design (``model.results.check_run_file``). The design is a pure
function of the sweep file, so a missing ``design.parquet`` is simply written again.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import LOCK_NAME, atomic_write_bytes
from ..errors import InputError
from ..results import check_run_file

FAILURE_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("scenario", pa.string()),
        ("replication", pa.int32()),
        ("seed", pa.int64()),
        ("error", pa.string()),
        ("traceback", pa.string()),
        ("worker", pa.string()),
        ("when", pa.string()),
    ]
)


def _table_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


class SweepStore:
    """Paths and atomic writes of one sweep's results folder."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.runs_dir = self.folder / "runs"
        self.design_path = self.folder / "design.parquet"
        self.failures_path = self.folder / "failures.parquet"
        self.manifest_path = self.folder / "manifest.json"

    # ------------------------------------------------------------------ reading

    def run_path(self, run_id: str) -> Path:
        return self.runs_dir / f"{run_id}.parquet"

    def finished(self) -> set[str]:
        """Run ids with a complete run file."""
        if not self.runs_dir.is_dir():
            return set()
        return {p.stem for p in self.runs_dir.glob("*.parquet") if not p.name.startswith(".")}

    def read_design(self) -> pd.DataFrame:
        if not self.design_path.is_file():
            raise InputError(f"{self.folder}: not a sweep results folder (no design.parquet); run a sweep")
        return pq.read_table(self.design_path).to_pandas()

    def read_failures(self) -> pd.DataFrame:
        if not self.failures_path.is_file():
            return FAILURE_SCHEMA.empty_table().to_pandas()
        return pq.read_table(self.failures_path).to_pandas()

    def read_manifest(self) -> dict[str, Any]:
        if not self.manifest_path.is_file():
            return {}
        return json.loads(self.manifest_path.read_text())

    # ------------------------------------------------------------------ writing

    def write_run(self, run_id: str, parquet: bytes) -> Path:
        path = self.run_path(run_id)
        atomic_write_bytes(path, parquet)
        return path

    def write_design(self, design: pd.DataFrame) -> None:
        atomic_write_bytes(self.design_path, _table_bytes(pa.Table.from_pandas(design, preserve_index=False)))

    def write_failures(self, records: list[dict[str, Any]]) -> None:
        table = pa.Table.from_pylist(records, schema=FAILURE_SCHEMA)
        atomic_write_bytes(self.failures_path, _table_bytes(table))

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        text = json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
        atomic_write_bytes(self.manifest_path, text.encode())

    # ------------------------------------------------------------------ starting or resuming

    def is_sweep_folder(self) -> bool:
        """The folder holds a sweep's results (its design, its runs or a sweep's manifest)."""
        return self.design_path.is_file() or self.runs_dir.is_dir() or "sweep" in self.read_manifest_quietly()

    def read_manifest_quietly(self) -> dict[str, Any]:
        try:
            return self.read_manifest()
        except (OSError, ValueError):
            return {}

    def check_folder(self) -> None:
        """Refuse a ``--out``/name that is a file, or a folder holding anything but a sweep's results."""
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"{self.folder}: exists and is not a folder; choose another --out")
        held = [p for p in self.folder.iterdir() if p.name != LOCK_NAME] if self.folder.is_dir() else []
        if held and not self.is_sweep_folder():
            raise InputError(
                f"{self.folder}: exists and is not a sweep results folder; "
                "choose another --out or sweep name (nothing was written)"
            )

    # ------------------------------------------------------------------ starting or resuming

    def prepare(self, design: pd.DataFrame, resume: bool, overwrite: bool) -> tuple[set[str], list[str]]:
        """Make the folder ready for ``design``; return the run ids already finished (skipped on resume)
        and a note per run file that was set aside.

        Without ``resume`` an earlier sweep's finished runs are never silently thrown away: that is an
        ``InputError`` unless ``overwrite`` says so. With ``resume`` the finished runs must belong to this
        design: a stored design whose keys differ means another sweep (refused); a run file that is
        damaged, another run's, or of another schema is moved to ``rejected/`` and run again. Temporary
        files of a killed sweep are removed. Call with the folder's lock held.
        """
        self.check_folder()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        for partial in [*self.runs_dir.glob(".*.tmp"), *self.folder.glob(".*.tmp")]:
            partial.unlink(missing_ok=True)
        finished = self.finished()
        if finished and not resume:
            if not overwrite:
                raise InputError(
                    f"{self.folder}: already holds {len(finished)} finished runs; add --resume to complete "
                    "that sweep, --overwrite to start again, or choose another --out"
                )
            shutil.rmtree(self.runs_dir)
            self.runs_dir.mkdir()
            self.failures_path.unlink(missing_ok=True)
            return set(), []
        if not finished:
            return set(), []
        keys = dict(zip(design["run_id"], design["run_key"], strict=True))
        if self.design_path.is_file():
            stored = self.read_design()
            stored_keys = dict(zip(stored["run_id"], stored["run_key"], strict=True))
            for run_id in sorted(finished):
                if run_id in keys and stored_keys.get(run_id) != keys[run_id]:
                    raise InputError(
                        f"{self.folder}: run {run_id} was made by a different sweep design (scenario or seed "
                        "changed since); resume only the same sweep file, or choose another --out"
                    )
        valid, notes = set(), []
        for run_id in sorted(finished & set(keys)):
            problem = check_run_file(self.run_path(run_id), keys[run_id])
            if problem is None:
                valid.add(run_id)
            else:
                notes.append(f"{run_id}: {problem}")
                self._reject(run_id)
        return valid, notes

    def _reject(self, run_id: str) -> None:
        """Move a run file that will be run again to ``rejected/`` (kept for inspection, never used)."""
        folder = self.folder / "rejected"
        folder.mkdir(exist_ok=True)
        os.replace(self.run_path(run_id), folder / f"{run_id}.{time.time_ns()}.parquet")
