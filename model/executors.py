"""Where many runs execute: one ``concurrent.futures.Executor`` interface over a local process pool or a
Dask distributed cluster, so sweeps and calibration have a single code path.

``open_executor(workers=N)`` gives a process pool; ``open_executor(scheduler="tcp://host:port")`` connects
to a running Dask scheduler and uses ``Client.get_executor(pure=False)`` (``pure=True``, Dask's default,
would merge identical calls into one).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


@contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None) -> Iterator[Executor]:
    """A process pool of ``workers`` (spawned, so no state leaks from the parent) or a Dask executor."""
    if scheduler:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "the Dask scheduler needs the 'sweep' extra: pip install -e '.[sweep]'"
            ) from exc
        client = Client(scheduler, timeout="20s")
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers or default_workers(), mp_context=context) as pool:
        yield pool
