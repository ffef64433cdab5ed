"""The results store of one run: tidy Parquet and CSV, a manifest, written all or nothing.

Everything goes to a hidden temporary folder beside the target and is renamed into place only when complete
(``model.atomic.atomic_folder``), so an interrupted or failed run never leaves a half-overwritten result,
and an earlier result survives until the new one is whole. A run replaces an earlier result only when it
is the same run (scenario, seed, scale, engine) or the user said ``--overwrite``; a folder that is not a
run's result is never replaced.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import __version__
from .atomic import atomic_folder
from .errors import EnvironmentFault, InputError, os_reason, show

SCHEMA = pa.schema(
    [("date", pa.date32()), ("region", pa.string()), ("metric", pa.string()), ("value", pa.float64())]
)


def to_table(frame: pd.DataFrame) -> pa.Table:
    """The tidy frame as an Arrow table with a fixed schema (so equal data give equal bytes)."""
    columns = {
        # days straight from datetime64 (not Python dates: ten times slower)
        "date": pa.array(pd.to_datetime(frame["date"]).to_numpy().astype("datetime64[D]"), type=pa.date32()),
        "region": pa.array(frame["region"].astype(str), type=pa.string()),
        "metric": pa.array(frame["metric"].astype(str), type=pa.string()),
        "value": pa.array(frame["value"].to_numpy(), type=pa.float64()),
    }
    return pa.Table.from_pydict(columns, schema=SCHEMA)


def write_parquet(frame: pd.DataFrame | pa.Table, path: Path) -> None:
    table = frame if isinstance(frame, pa.Table) else to_table(frame)
    pq.write_table(table, path, compression="zstd")


RUN_KEY = b"ecny.run_key"
CHECKSUM = b"ecny.sha256"


def _digest(table: pa.Table) -> str:
    """sha256 of the table's data (Arrow IPC of one batch, no metadata): equal data, equal digest."""
    table = table.replace_schema_metadata(None).combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=max(1, table.num_rows))
    return hashlib.sha256(sink.getvalue()).hexdigest()


def run_file_bytes(frame: pd.DataFrame | pa.Table, run_key: str) -> bytes:
    """A sweep's run file: the tidy table as Parquet, carrying its ``run_key`` and a checksum of its data."""
    table = frame if isinstance(frame, pa.Table) else to_table(frame)
    table = table.replace_schema_metadata({RUN_KEY: run_key.encode(), CHECKSUM: _digest(table).encode()})
    buffer = io.BytesIO()
    # no column statistics: nothing in the footer that a flipped byte could falsify unseen (a reader's
    # filter would trust them); one row group, so filters lose nothing by it
    pq.write_table(table, buffer, compression="zstd", write_statistics=False)
    return buffer.getvalue()


def check_run_file(path: Path, run_key: str) -> str | None:
    """None if ``path`` holds the run ``run_key`` whole; otherwise why not (damaged, another run's,
    another schema, no checksum)."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        return f"unreadable ({type(exc).__name__})"
    meta = table.schema.metadata or {}
    if not table.schema.equals(SCHEMA, check_metadata=False):
        return "not a run's table (another schema)"
    if meta.get(RUN_KEY) != run_key.encode():
        found = meta.get(RUN_KEY, b"").decode(errors="replace")[:16] or "none"
        return f"another run's file (run key {found}, not {run_key})"
    if meta.get(CHECKSUM) != _digest(table).encode():
        return "damaged (its data do not match their checksum)"
    return None


def write_csv(frame: pd.DataFrame | pa.Table, path: Path) -> None:
    """The tidy table as CSV (dates as YYYY-MM-DD), written by Arrow: ten times faster than pandas.

    Names are quoted only if one holds a comma, a quote or a line break (none of the bundled ones does).
    """
    table = frame if isinstance(frame, pa.Table) else to_table(frame)
    names = pa.concat_arrays([table["region"].combine_chunks(), table["metric"].combine_chunks()]).unique()
    plain = not any(ch in name for name in names.to_pylist() for ch in ',"\n\r')
    options = pacsv.WriteOptions(quoting_style="none" if plain else "needed")
    pacsv.write_csv(table, path, options)


def read_timeseries(path: str | Path) -> pd.DataFrame:
    """A run's tidy time series from its folder or its Parquet file; ``date`` as datetime64."""
    path = Path(path)
    if path.is_dir():
        path = path / "timeseries.parquet"
    frame = pq.read_table(path).to_pandas()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def git_commit() -> str | None:
    """The source tree's commit, with ``-dirty`` when it has uncommitted changes; None outside git."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}-dirty" if dirty else head


def manifest(model, wall_seconds: float, **extra: Any) -> dict[str, Any]:
    """What reproduces the run: the resolved scenario, seed, scale, engine, versions, commit, timings."""
    import mesa
    import numpy as np

    return {
        "scenario": model.config.dump(),
        "seed": model.seed,
        "scale": model.scale,
        "engine": model.engine_name,
        "steps": len(model.dates),
        "citizen_agents": len(model.citizens),
        "business_agents": len(model.businesses),
        "package_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "numpy": np.__version__,
        "wall_seconds": round(wall_seconds, 3),
        **extra,
    }


class PlotFailed(RuntimeError):
    """The run's data were written but a plot failed; ``str()`` says which and where the data are."""


def run_identity(info: dict[str, Any]) -> dict[str, Any]:
    """What makes a run's results: the resolved scenario (its description aside), seed, scale and engine."""
    scenario = {k: v for k, v in info.get("scenario", {}).items() if k != "description"}
    if isinstance(scenario.get("run"), dict):  # seed, scale and engine are compared on their own
        scenario["run"] = {k: v for k, v in scenario["run"].items() if k not in ("seed", "scale", "engine")}
    return {
        "scenario": scenario,
        "seed": info.get("seed"),
        "scale": info.get("scale"),
        "engine": info.get("engine"),
    }


def replace_check(identity: dict[str, Any], overwrite: bool) -> Callable[[Path], None]:
    """A check for ``atomic_folder``: a run replaces only an earlier result of the same scenario, seed,
    scale and engine, unless ``overwrite``; never a folder that is not a run's result."""

    def check(target: Path) -> None:
        if not target.exists():
            return
        if not target.is_dir():
            raise InputError(f"{target}: exists and is not a folder; nothing was written")
        earlier = _run_manifest(target)
        if earlier is None:
            if any(target.iterdir()):
                what = (
                    "a sweep's results"
                    if (target / "design.parquet").exists()
                    else "files that are not a run's results"
                )
                raise InputError(
                    f"{target}: holds {what}; nothing was written (choose another --out or scenario name)"
                )
            return
        differs = _differences(run_identity(earlier), identity)
        if differs and not overwrite:
            raise InputError(
                f"{target}: holds a run of {differs}; add --overwrite to replace it, or choose another --out"
            )

    return check


def _run_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and "scenario" in info and "seed" in info else None


def _differences(earlier: dict[str, Any], now: dict[str, Any]) -> str:
    """ "seed 1 (this run: 7), scale 5000 (this run: 1e+06)", or "" when the two are the same run."""
    parts = [
        f"{key} {show(earlier[key])} (this run: {show(now[key])})"
        for key in ("seed", "scale", "engine")
        if earlier[key] != now[key]
    ]
    if earlier["scenario"] != now["scenario"]:
        keys = _changed_keys(earlier["scenario"], now["scenario"])
        parts.append(
            "another scenario (" + ", ".join(keys[:3]) + (", ..." if len(keys) > 3 else "") + " differ)"
        )
    return ", ".join(parts)


def _changed_keys(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = list(dict.fromkeys([*a, *b]))
        return [k for key in keys for k in _changed_keys(a.get(key), b.get(key), f"{prefix}{key}.")]
    return [] if a == b else [prefix.rstrip(".")]


def write_run(
    model,
    target: Path,
    wall_seconds: float,
    plots: Callable[[pd.DataFrame, Path], list[Path]] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``timeseries.parquet``, ``timeseries.csv``, ``manifest.json`` and the plots to ``target``.

    ``target`` is replaced whole, and only if it holds an earlier result of this same run or ``overwrite``
    says so (``replace_check``). A failing plot does not lose the data: they are written, then
    ``PlotFailed`` is raised.
    """
    frame = model.timeseries()
    table = to_table(frame)
    identity = run_identity(
        {
            "scenario": model.config.dump(),
            "seed": model.seed,
            "scale": model.scale,
            "engine": model.engine_name,
        }
    )
    plot_error = None
    try:
        with atomic_folder(target, replace_check(identity, overwrite)) as staging:
            write_parquet(table, staging / "timeseries.parquet")
            write_csv(table, staging / "timeseries.csv")
            try:
                written = plots(frame, staging) if plots else []
            except Exception as exc:  # noqa: BLE001 - the data are kept and the failure reported
                if isinstance(exc, OSError):
                    raise
                plot_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                written = sorted(staging.glob("*.png"))
            info = manifest(model, wall_seconds, plots=[p.name for p in written], plot_error=plot_error)
            (staging / "manifest.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise EnvironmentFault(
            f"{target}: cannot write the results ({os_reason(exc)}); nothing was half-written and an "
            "earlier result there is intact"
        ) from None
    if plot_error:
        raise PlotFailed(f"a plot failed ({plot_error}); the data were written to {target}")
    return target
