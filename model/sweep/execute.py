"""Running a sweep: one code path over a ``concurrent.futures.Executor`` (local processes or Dask).

The parent streams: at most ``window`` runs are in flight (twice the workers), each result is written to its
own file the moment it arrives and dropped, so the parent's memory does not grow with the number of runs.

Failures, and what survives them:

* a run that raises is recorded in ``failures.parquet`` and the sweep goes on; the exit code says so;
* a killed process-pool worker breaks the whole pool (``BrokenProcessPool``, and every run in flight fails
  with it). The pool is recreated, and the runs that were in flight are retried one at a time, so that a
  run which itself kills its worker is found and recorded (after ``MAX_STRIKES`` deaths alone) instead of
  taking innocent runs with it. (Dask reschedules a dead worker's tasks itself and reports a task that
  kills several workers as ``KilledWorker``: recorded as a failure.)
* if pools keep breaking without any run settling (``MAX_STALLS`` in a row), the sweep stops with status
  ``stopped``; finished runs are kept and ``--resume`` goes on.
* Ctrl-C (or SIGTERM) cancels what is in flight, kills the pool's workers, marks the manifest
  ``interrupted`` and re-raises; finished runs are already on disk, and ``--resume`` completes the sweep.
* a lost Dask scheduler, or a cluster that has no worker for a minute, is noticed while waiting (the
  executor's ``check()``, polled every ``POLL_SECONDS``): the sweep stops with status ``interrupted`` and an
  ``EnvironmentFault`` that says how many runs are kept.

One sweep at a time per folder: the running sweep holds ``.lock`` in it (``model.atomic.exclusive``).
"""

from __future__ import annotations

import json
import time
import traceback
import warnings
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .. import footprint
from ..atomic import exclusive
from ..errors import EnvironmentFault, Notice, os_reason
from ..executors import checked_workers, open_executor
from ..paths import inside
from .design import Run, Sweep, load_sweep
from .manifest import now, sweep_manifest
from .store import SweepStore
from .worker import RunOutcome, RunTask, execute_run

MAX_STRIKES = 2  # deaths of a worker while a run ran alone before the run is recorded as failed
MAX_STALLS = 5  # pools in a row that broke without finishing or failing any run: the sweep stops
POLL_SECONDS = 1.0  # how often the parent looks at the executor's health while runs are in flight


@dataclass
class Progress:
    """What the parent keeps: counters and failure records, never the results."""

    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    pool_restarts: int = 0
    run_seconds: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)
    strikes: dict[str, int] = field(default_factory=dict)
    retried: set[str] = field(default_factory=set)  # in flight when a pool broke, so run again


class Pending:
    """The runs still to submit, drawn lazily from the design: no list of every run is built."""

    def __init__(self, runs: Iterator[Run]) -> None:
        self._runs, self._back = runs, deque()

    def popleft(self) -> Run:
        return self._back.popleft() if self._back else next(self._runs)

    def appendleft(self, run: Run) -> None:
        self._back.appendleft(run)

    def __bool__(self) -> bool:
        if not self._back:
            run = next(self._runs, None)
            if run is None:
                return False
            self._back.append(run)
        return True


def run_sweep(
    sweep: str | Path | Sweep,
    out: str | Path = Path("results"),
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
    overwrite: bool = False,
) -> Path:
    """Run every run of ``sweep`` (a sweep file or a ``load_sweep`` result); return ``out/<sweep name>``.

    ``workers`` local processes (default: the CPU count, at most 8), or the Dask cluster at ``scheduler``
    (``tcp://host:port``). ``resume`` skips runs already finished in that folder; without it an existing
    sweep folder is an error unless ``overwrite``. Failed runs do not raise: read ``failures.parquet``
    (or ``manifest.json``: ``status`` is complete, failed or stopped, ``failed`` lists run ids). Ctrl-C
    raises ``KeyboardInterrupt`` after saving the manifest (status ``interrupted``).
    """
    sweep = sweep if isinstance(sweep, Sweep) else load_sweep(sweep)
    store = SweepStore(inside(Path(out), sweep.name))  # a safe name, and no link out of --out
    store.check_folder()
    need = _largest_footprint(sweep)
    if not scheduler:
        workers = checked_workers(workers, need)
    else:
        with open_executor(scheduler=scheduler):  # reachable? (before anything is written)
            pass
    store.folder.mkdir(parents=True, exist_ok=True)
    with exclusive(store.folder, {"sweep": str(sweep.spec.path)}):
        return _run_locked(sweep, store, workers, scheduler, resume, progress, overwrite)


def _largest_footprint(sweep: Sweep) -> int:
    """Bytes of the sweep's largest run; ``EnvironmentFault`` if it cannot fit in memory at all. Only what
    sizes a run (horizon, pilot dates, scale, population) is compared, so each size is validated once."""
    from ..scenario import Scenario

    sizes: dict[str, Any] = {}
    for s in sweep.scenarios:
        key = json.dumps([s.resolved[k] for k in ("run", "pilot", "population")], sort_keys=True)
        sizes.setdefault(key, s.resolved)
    largest = 0
    for resolved in sizes.values():
        try:
            scenario = Scenario.model_validate(resolved)
        except ValueError:  # a run that cannot be built fails on its worker and is recorded there
            continue
        largest = max(largest, footprint.check_fits(scenario))
    return largest


def _run_locked(
    sweep: Sweep,
    store: SweepStore,
    workers: int | None,
    scheduler: str | None,
    resume: bool,
    progress: bool,
    overwrite: bool,
) -> Path:
    design = sweep.design()
    finished, rejected = store.prepare(design, resume=resume, overwrite=overwrite)
    if rejected:
        shown = "; ".join(rejected[:3]) + ("; ..." if len(rejected) > 3 else "")
        warnings.warn(
            Notice(
                f"{len(rejected)} run files set aside in {store.folder / 'rejected'} and run again: {shown}"
            ),
            stacklevel=3,
        )
    store.write_design(design)
    del design
    todo = Pending(run for run in sweep.runs() if run.run_id not in finished)
    state = Progress(total=sweep.size, skipped=len(finished))
    store.write_failures([])
    executor_info = {"kind": "dask", "scheduler": scheduler} if scheduler else {"kind": "processes"}
    started, started_at = time.perf_counter(), now()

    def save(status: str, quietly: bool = False) -> None:
        try:
            store.write_manifest(sweep_manifest(sweep, state, executor_info, status, started_at, started))
        except OSError:
            if not quietly:  # stopping because of the disk: the runs on it are what counts
                raise

    save("running")
    bar = tqdm(
        total=sweep.size,
        initial=len(finished),
        desc=f"sweep {sweep.name}",
        unit="run",
        disable=not progress,
        dynamic_ncols=True,
        smoothing=0.05,
    )
    status = "complete"
    try:
        with bar:
            suspects: deque[Run] = deque()
            stalls = 0
            while todo or suspects:
                before = state.done + state.failed
                with open_executor(workers=workers, scheduler=scheduler) as executor:
                    window = _window(executor_info, workers, scheduler)
                    _drive(executor, window, todo, suspects, store, state, bar)
                if not (todo or suspects):
                    break
                state.pool_restarts += 1  # the pool broke: start a new one and carry on
                stalls = 0 if state.done + state.failed > before else stalls + 1
                if stalls >= MAX_STALLS:  # something kills every pool: stop, --resume goes on later
                    status = "stopped"
                    break
    except (EnvironmentFault, OSError) as exc:
        save("interrupted", quietly=True)
        kept = state.skipped + state.done
        reason = f"{store.folder}: cannot write ({os_reason(exc)})" if isinstance(exc, OSError) else str(exc)
        raise EnvironmentFault(
            f"{reason}; the sweep stopped, {kept} finished runs are kept in {store.folder} "
            "(add --resume to go on)"
        ) from None
    except BaseException:
        save("interrupted", quietly=True)
        raise
    if status == "complete" and state.failed:
        status = "failed"
    save(status)
    return store.folder


def _window(info: dict[str, Any], workers: int | None, scheduler: str | None) -> int:
    """In-flight runs: twice the workers (the cluster's threads for Dask), so no worker waits for work."""
    if scheduler:
        from distributed import default_client

        threads = sum(default_client().nthreads().values())
        info["threads"] = threads
        return max(2, 2 * (threads or workers or 1))
    info["workers"] = workers or checked_workers(None)
    return 2 * info["workers"]


def _drive(
    executor: Executor,
    window: int,
    todo: Pending,
    suspects: deque[Run],
    store: SweepStore,
    state: Progress,
    bar: tqdm,
) -> None:
    """Submit and collect until no run is left, or return early when the process pool breaks."""
    inflight: dict[Future, tuple[Run, bool]] = {}  # future -> (run, submitted alone)
    try:
        while todo or suspects or inflight:
            broken = False
            if suspects:  # after a pool break, each run that was in flight runs alone
                if not inflight:
                    broken = not _submit(executor, suspects, True, inflight)
            else:
                while todo and len(inflight) < window and not broken:
                    broken = not _submit(executor, todo, False, inflight)
            if not broken:
                done, _ = wait(inflight, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                _check(executor, cancelled=any(f.cancelled() for f in done))
                for future in done:
                    run, alone = inflight.pop(future)
                    broken |= _settle(future, run, alone, suspects, store, state, bar)
            if broken:  # the pool is gone: every run still in flight fails with it, or has finished
                wait(inflight, timeout=60)
                for future, (run, alone) in list(inflight.items()):
                    del inflight[future]
                    if not _settle(future, run, alone, suspects, store, state, bar) and not future.done():
                        future.cancel()
                        state.retried.add(run.run_id)
                        suspects.append(run)
                return
    except BaseException:
        for future in inflight:
            future.cancel()
        raise


def _check(executor: Executor, cancelled: bool) -> None:
    """Raise ``EnvironmentFault`` if the executor says it is lost (a Dask scheduler gone, no workers).

    Futures cancelled by the executor itself usually mean the scheduler went away: give its client a
    moment to say so before they are recorded as failed runs.
    """
    check = getattr(executor, "check", None)
    if check is None:
        return
    lost = getattr(executor, "lost", lambda: False)
    for _ in range(30 if cancelled else 0):
        if lost():
            break
        time.sleep(0.1)
    check()


def _submit(executor: Executor, queue: Pending | deque[Run], alone: bool, inflight: dict) -> bool:
    """Submit the next run of ``queue``; False (the run back in the queue) if the pool is broken."""
    run = queue.popleft()
    try:
        inflight[executor.submit(execute_run, _task(run))] = (run, alone)
    except BrokenProcessPool:
        queue.appendleft(run)
        return False
    return True


def _settle(
    future: Future, run: Run, alone: bool, suspects: deque[Run], store: SweepStore, state: Progress, bar: tqdm
) -> bool:
    """Write, record or requeue one finished future; True if it says the process pool broke."""
    if not future.done():
        return False
    error = None if future.cancelled() else future.exception()
    if isinstance(error, BrokenProcessPool):
        _suspect(run, alone, suspects, store, state, bar)
        return True
    if isinstance(error, KeyboardInterrupt):  # Ctrl-C reached the worker first
        raise KeyboardInterrupt
    if future.cancelled():
        _record_failure(run, "cancelled by the executor", None, store, state, bar)
    elif error is not None:  # e.g. Dask's KilledWorker, or a result that could not be sent
        _record_failure(run, _describe(error), error, store, state, bar)
    else:
        _collect(run, future.result(), store, state, bar)
    return False


def _task(run: Run) -> RunTask:
    return RunTask(run.run_id, run.scenario.resolved, run.seed, run.key, run.keep)


def _suspect(
    run: Run, alone: bool, suspects: deque[Run], store: SweepStore, state: Progress, bar: tqdm
) -> None:
    """A run in flight when the pool broke: retried alone; blamed only when its worker dies while alone."""
    if alone:
        state.strikes[run.run_id] = strikes = state.strikes.get(run.run_id, 0) + 1
        if strikes >= MAX_STRIKES:
            message = f"its worker process died while it ran alone, {strikes} times (BrokenProcessPool)"
            _record_failure(run, message, None, store, state, bar)
            return
    state.retried.add(run.run_id)
    suspects.append(run)


def _collect(run: Run, outcome: RunOutcome, store: SweepStore, state: Progress, bar: tqdm) -> None:
    if outcome.ok:
        store.write_run(run.run_id, outcome.parquet)
        state.done += 1
        state.run_seconds += outcome.seconds
        bar.update()
        bar.set_postfix(failed=state.failed, refresh=False)
    else:
        _record_failure(run, outcome.error, outcome.traceback, store, state, bar, outcome.worker)


def _record_failure(
    run: Run,
    error: str,
    trace: BaseException | str | None,
    store: SweepStore,
    state: Progress,
    bar: tqdm,
    worker: str = "",
) -> None:
    if isinstance(trace, BaseException):
        trace = "".join(traceback.format_exception(trace))
    state.failures.append(
        {
            "run_id": run.run_id,
            "scenario": run.scenario.name,
            "replication": run.replication,
            "seed": run.seed,
            "error": error,
            "traceback": trace or "",
            "worker": worker,
            "when": now(),
        }
    )
    state.failed += 1
    store.write_failures(state.failures)
    bar.update()
    bar.set_postfix(failed=state.failed, refresh=False)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
