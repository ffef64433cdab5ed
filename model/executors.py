"""Where many runs execute: one ``concurrent.futures.Executor`` interface over a local process pool or a
Dask distributed cluster, so sweeps and calibration have a single code path.

``open_executor(workers=N)`` gives a process pool; ``open_executor(scheduler="tcp://host:port")`` connects
to a running Dask scheduler and uses ``Client.get_executor(pure=False)`` (``pure=True``, Dask's default,
would merge identical calls into one).

What keeps a long sweep from leaving a mess behind:

* pool workers ignore Ctrl-C (the parent decides) and end themselves within a second when their parent
  is gone, however it died (kill -9, the OOM killer): no orphaned interpreters holding memory;
* when the code using the pool stops on an exception or Ctrl-C, the workers are killed rather than waited
  for (a run in flight is lost; every finished one is already on disk);
* a Dask executor has ``check()``: it raises ``EnvironmentFault`` once the scheduler is lost, or when the
  cluster has had no worker for ``NO_WORKERS_SECONDS``; callers poll it while they wait.

``gather`` is the one way to run a batch of calls (these seeds of this scenario) and collect the results;
calibration, validation, the report and the dashboard all use it. The sweep (``model.sweep.execute``)
streams its runs to disk instead, and the calibration's trials go through ask/tell (``study``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any

from .errors import CapacityWarning, EnvironmentFault

NO_WORKERS_SECONDS = 60.0  # a cluster without any worker for this long stops the sweep
CONNECT_SECONDS = 10  # to reach the scheduler at all
WATCH_SECONDS = 0.5  # how often a pool worker looks for its parent


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def checked_workers(workers: int | None, per_run_bytes: int | None = None, option: str = "--workers") -> int:
    """The local workers to start: ``workers`` (default ``default_workers()``), capped with a warning at
    the CPU count and at the runs that fit in memory side by side (``per_run_bytes``)."""
    wanted = workers or default_workers()
    cpus = os.cpu_count() or 1
    count = wanted
    if count > cpus:
        count = cpus
        warnings.warn(
            CapacityWarning(f"{option} {wanted}: this machine has {cpus} CPUs; using {cpus}"), stacklevel=2
        )
    if per_run_bytes:
        from .footprint import HEADROOM, available_bytes

        fit = int(available_bytes() * HEADROOM // per_run_bytes)
        if 1 <= fit < count:
            warnings.warn(
                CapacityWarning(
                    f"{option} {count}: {count} runs of {per_run_bytes / 1e9:.1f} GB at once do not fit "
                    f"in memory; using {fit}"
                ),
                stacklevel=2,
            )
            count = fit
    return max(1, count)


class Cancelled(RuntimeError):
    """``gather``'s progress callback asked to stop."""


def gather(
    executor: Executor,
    fn: Callable[..., Any],
    calls: Sequence[tuple],
    progress: Callable[[int, int], Any] | None = None,
    each: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """``fn(*args)`` for every ``args`` in ``calls`` on ``executor``; the results in the order of ``calls``.

    Every call is submitted at once (the executor queues them) and collected as it finishes: ``each(k,
    result)`` sees call k's result then (a cache keeps what finished before a stop), and
    ``progress(done, total)`` is called; a ``False`` return stops the batch (``Cancelled``). When the
    batch stops, for that or an exception or Ctrl-C, the calls not yet started are cancelled.
    """
    futures = [executor.submit(fn, *args) for args in calls]
    where = {future: k for k, future in enumerate(futures)}
    out: list[Any] = [None] * len(futures)
    try:
        for done, future in enumerate(as_completed(futures), start=1):
            k = where[future]
            out[k] = future.result()
            if each is not None:
                each(k, out[k])
            if progress is not None and progress(done, len(futures)) is False:
                raise Cancelled(f"cancelled after {done} of {len(futures)} runs")
    finally:
        for future in futures:
            future.cancel()
    return out


def _worker_start(parent: int) -> None:
    """Initializer of a pool worker: leave Ctrl-C to the parent, and exit when the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="ecny-parent-watch", daemon=True).start()


def _stop(pool: ProcessPoolExecutor) -> None:
    """End a pool now: cancel what has not started, kill the workers (they may be deep in numpy)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=5)


class DaskExecutor(Executor):
    """``Client.get_executor(pure=False)`` plus ``check()``, which notices a lost scheduler or a cluster
    without workers."""

    def __init__(self, client, address: str) -> None:
        self.client, self.address = client, address
        self._inner = client.get_executor(pure=False)
        self._no_workers_since: float | None = None

    def submit(self, fn, /, *args, **kwargs):
        return self._inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass  # the client is closed by open_executor

    def workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def lost(self) -> bool:
        return self.client.status not in ("running", "newly-created")

    def check(self) -> None:
        if self.lost():
            raise EnvironmentFault(
                f"lost the Dask scheduler at {self.address} (it stopped or the network failed)"
            )
        if self.workers():
            self._no_workers_since = None
            return
        now = time.monotonic()
        if self._no_workers_since is None:
            self._no_workers_since = now
        elif now - self._no_workers_since > NO_WORKERS_SECONDS:
            raise EnvironmentFault(
                f"the Dask cluster at {self.address} has had no workers for {NO_WORKERS_SECONDS:.0f} s"
            )


@contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None) -> Iterator[Executor]:
    """A process pool of ``workers`` (spawned, so no state leaks from the parent) or a Dask executor."""
    if scheduler:
        yield from _dask(scheduler)
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=workers or default_workers(),
        mp_context=context,
        initializer=_worker_start,
        initargs=(os.getpid(),),
    )
    try:
        yield pool
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _dask(scheduler: str) -> Iterator[Executor]:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - depends on the install
        raise EnvironmentFault(
            "the Dask scheduler needs the 'sweep' extra: pip install -e '.[sweep]'"
        ) from None
    try:
        client = Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
    except (OSError, TimeoutError) as exc:
        raise EnvironmentFault(
            f"cannot reach the Dask scheduler at {scheduler} within {CONNECT_SECONDS} s "
            f"({type(exc).__name__})"
        ) from None
    executor = DaskExecutor(client, scheduler)
    try:
        if not executor.workers():
            warnings.warn(
                CapacityWarning(
                    f"the Dask cluster at {scheduler} has no workers yet; runs wait for one "
                    f"(up to {NO_WORKERS_SECONDS:.0f} s)"
                ),
                stacklevel=3,
            )
        yield executor
    except Exception as exc:
        if executor.lost() and not isinstance(exc, EnvironmentFault):
            raise EnvironmentFault(f"lost the Dask scheduler at {scheduler}") from exc
        raise
    finally:
        client.close(timeout=5)
