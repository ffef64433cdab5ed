"""The Optuna search: ask for parameter sets, run them on the sweep executors, tell the losses.

The study lives in SQLite, so an interrupted calibration resumes where it stopped (``--resume``): trials
left running by the interruption are marked failed and interrupted, queued ones are discarded, neither
counts, and the search goes on until the study holds the requested number of finished trials.
``in_flight`` trials run at once (twice the workers keeps every worker busy while the parent asks and
tells); the TPE sampler's ``constant_liar`` stops it from proposing the same point again while earlier
proposals are still running. A refit from a start point (the scenario's present fit) uses CMA-ES
instead (``SAMPLERS``): it starts at that point, ``x0``, with step ``sigma0`` in the unit cube of the
search space (log space for log-scaled parameters), and closes in on a nearby optimum far faster than
TPE; the study records which sampler it uses, so a resumed study keeps it. Each finished trial keeps
the model's value of every target in every replication (``user_attrs["values"]``), which the report
and the identifiability analysis read without running anything again.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import replace
from pathlib import Path

import optuna

from . import objective, parameters
from .objective import Problem
from .targets import TOLERANCE

STUDY_NAME = "calibration"
SAMPLERS = ("tpe", "cmaes")
SIGMA0 = 0.1  # CMA-ES's first step in the unit cube: a tenth of each search range


def make_sampler(
    name: str, seed: int, startup_trials: int = 40, x0: dict[str, float] | None = None, sigma0: float = SIGMA0
) -> optuna.samplers.BaseSampler:
    """TPE (a search of the whole box) or CMA-ES from ``x0`` with step ``sigma0`` (a refit)."""
    if name == "tpe":
        return optuna.samplers.TPESampler(
            seed=seed, multivariate=True, constant_liar=True, n_startup_trials=startup_trials
        )
    if name != "cmaes":
        raise ValueError(f"sampler {name!r}: one of {', '.join(SAMPLERS)}")
    with warnings.catch_warnings():  # x0 and sigma0 are deprecated in Optuna 4.9 and kept until 6 (pinned <6)
        warnings.simplefilter("ignore", FutureWarning)
        return optuna.samplers.CmaEsSampler(
            x0=x0, sigma0=sigma0, n_startup_trials=0, seed=seed, warn_independent_sampling=False
        )


def open_study(
    path: Path,
    resume: bool,
    seed: int,
    startup_trials: int = 40,
    sampler: str = "tpe",
    x0: dict[str, float] | None = None,
    sigma0: float = SIGMA0,
) -> optuna.Study:
    """A new study in SQLite file ``path``, or the one already there when ``resume`` (which keeps the
    sampler, ``x0`` and ``sigma0`` it was started with)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{path.resolve()}"
    if resume:
        study = optuna.load_study(study_name=STUDY_NAME, storage=storage)
        stored = study.user_attrs.get("sampler", {"name": "tpe"})
        study.sampler = make_sampler(
            stored["name"], seed, startup_trials, stored.get("x0"), stored.get("sigma0", sigma0)
        )
        settle_interrupted(study)
        return study
    chosen = make_sampler(sampler, seed, startup_trials, x0, sigma0)
    study = optuna.create_study(study_name=STUDY_NAME, storage=storage, sampler=chosen, direction="minimize")
    study.set_user_attr("sampler", {"name": sampler, "x0": x0, "sigma0": sigma0})
    return study


def settle_interrupted(study: optuna.Study) -> tuple[int, int]:
    """Close what an interrupted calibration left open; return (interrupted, discarded).

    Trials left running by the kill are marked failed with ``user_attrs["interrupted"]``; trials still
    queued (``enqueue_trial`` proposals never asked) are taken and failed with ``user_attrs["discarded"]``,
    so none dangles and the next search proposes afresh. Neither counts as a finished trial.
    """
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for trial in running:
        study._storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    waiting = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)))
    for _ in range(waiting):
        trial = study.ask()  # takes the oldest queued trial
        trial.set_user_attr("discarded", True)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    return len(running), waiting


def finished(study: optuna.Study) -> int:
    """Trials that ran to an end (complete or failed by their own error): what ``--trials`` counts."""
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
    trials = study.get_trials(deepcopy=False, states=states)
    return sum(not (t.user_attrs.get("interrupted") or t.user_attrs.get("discarded")) for t in trials)


def record_problem(study: optuna.Study, problem: Problem) -> None:
    """Store what the study fits, so that a resumed run can refuse a different problem."""
    study.set_user_attr(
        "problem",
        {
            "scenario": str(problem.scenario),
            "params": [p.name for p in problem.params],
            "targets": [t.key for t in problem.targets],
            "scale": problem.scale,
            "replications": problem.replications,
            "seed": problem.seed,
        },
    )


def same_problem(study: optuna.Study, problem: Problem) -> str | None:
    """None if the stored study fits ``problem``; otherwise what differs."""
    stored = study.user_attrs.get("problem")
    if stored is None:
        return "the study holds no calibration problem"
    mine = {
        "params": [p.name for p in problem.params],
        "targets": [t.key for t in problem.targets],
        "scale": problem.scale,
        "replications": problem.replications,
        "seed": problem.seed,
    }
    for key, value in mine.items():
        if stored.get(key) != value:
            return f"{key}: the study has {stored.get(key)!r}, this run {value!r}"
    return None


def _submit(executor: Executor, problem: Problem, trial: optuna.Trial) -> Future | str:
    values = {p.name: trial.suggest_float(p.name, p.low, p.high, log=p.log) for p in problem.params}
    try:
        scenario = objective.trial_scenario(problem, values).dump()
    except ValueError as exc:  # ScenarioError: a value the scenario rejects
        return str(exc)
    return executor.submit(objective.evaluate, scenario, problem.seeds, problem.scale, list(problem.targets))


def _tell(
    study: optuna.Study, problem: Problem, trial: optuna.Trial, result: dict | str, phase: str = "tpe"
) -> None:
    trial.set_user_attr("phase", phase)
    if isinstance(result, str) or "error" in result:
        trial.set_user_attr("error", result if isinstance(result, str) else result["error"])
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return
    trial.set_user_attr("values", result["values"])
    trial.set_user_attr("seconds", round(result["seconds"], 3))
    study.tell(trial, objective.loss(result["values"], problem))


def optimise(
    study: optuna.Study,
    problem: Problem,
    total: int,
    executor: Executor,
    in_flight: int,
    start: list[dict[str, float]] | None = None,
    progress: Callable[[int, float | None], None] | None = None,
) -> int:
    """Run trials until the study holds ``total`` finished ones; returns how many this call ran.

    ``start`` parameter sets are tried first (a new study only): the priors and the current fit.
    """
    if start and not study.trials:
        for values in start:
            study.enqueue_trial(parameters.clip(values, problem.params))
    before = finished(study)
    phase = study.user_attrs.get("sampler", {"name": "tpe"})["name"]
    return _run(study, problem, executor, in_flight, total - before, before, progress, phase)


def _run(
    study: optuna.Study,
    problem: Problem,
    executor: Executor,
    in_flight: int,
    count: int,
    done: int,
    progress: Callable[[int, float | None], None] | None,
    phase: str,
) -> int:
    """Ask, run and tell ``count`` trials, ``in_flight`` at a time; ``done`` finished ones before."""
    ran = 0
    running: dict[Future, optuna.Trial] = {}
    try:
        while ran + len(running) < count or running:
            while len(running) < in_flight and ran + len(running) < count:
                trial = study.ask()
                job = _submit(executor, problem, trial)
                if isinstance(job, str):
                    _tell(study, problem, trial, job, phase)
                    ran += 1
                    continue
                running[job] = trial
            if not running:
                break
            finished_jobs, _ = wait(running, return_when=FIRST_COMPLETED)
            for job in finished_jobs:
                trial = running.pop(job)
                _tell(study, problem, trial, job.result(), phase)
                ran += 1
                if progress is not None:
                    progress(done + ran, _best(study))
    finally:
        for job in running:
            job.cancel()
    return ran


def _best(study: optuna.Study) -> float | None:
    try:
        return study.best_value
    except ValueError:
        return None


def best_trials(study: optuna.Study, k: int) -> list[optuna.trial.FrozenTrial]:
    """The ``k`` finished trials with the lowest loss, distinct parameter sets only."""
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    seen, out = set(), []
    for trial in sorted(done, key=lambda t: t.value):
        key = tuple(sorted((n, round(v, 12)) for n, v in trial.params.items()))
        if key not in seen:
            seen.add(key)
            out.append(trial)
        if len(out) == k:
            break
    return out


def confirm(
    problem: Problem,
    candidates: list[dict[str, float]],
    replications: int,
    scale: float,
    executor: Executor,
) -> list[dict]:
    """Re-run candidate parameter sets with more replications at ``scale``; best first.

    The search ranks trials on few replications at a coarse scale, and with the same seeds for every trial
    it can fit their luck; the candidates are therefore re-run on other seeds (root ``seed + 1``; the
    validation's are ``run.seed``) and ranked by the loss the search minimises (confidence-weighted), then
    the worst target's relative error of the median. Not the worst error first: it is set by the figures no
    mechanism here reaches (the closed pilot's, e-CNY held in February 2022), and on the refit of
    2026-12-02 it chose a Gauss-Newton step with 2.5 times the best trial's loss.
    """
    confirm_problem = replace(problem, scale=scale, replications=replications, seed=problem.seed + 1)
    scenarios = [objective.trial_scenario(confirm_problem, values).dump() for values in candidates]
    measured = objective.values_per_seed(executor, scenarios, confirm_problem.seeds, scale, problem.targets)
    out = []
    for values, merged in zip(candidates, measured, strict=True):
        if isinstance(merged, str):
            out.append(
                {
                    "params": values,
                    "loss": float("inf"),
                    "misses": len(problem.targets),
                    "worst": float("inf"),
                    "error": merged,
                }
            )
            continue
        medians = objective.median_values(merged)
        errors = [abs(medians[t.key] / t.value - 1) for t in problem.targets]
        out.append(
            {
                "params": values,
                "loss": objective.loss(merged, confirm_problem),
                "misses": sum(e > TOLERANCE for e in errors),
                "worst": max(errors),
                "values": merged,
            }
        )
    return sorted(out, key=lambda c: (c["loss"], c["worst"]))


class Progress:
    """One line per ``every`` finished trials: count, best loss, the rms error it stands for, elapsed."""

    def __init__(self, total: int, n_targets: int, every: int = 25, quiet: bool = False) -> None:
        self.total, self.n_targets, self.every, self.quiet = total, n_targets, every, quiet
        self.started = time.perf_counter()

    def __call__(self, done: int, best: float | None) -> None:
        if self.quiet or (done % self.every and done != self.total):
            return
        rms = "" if best is None else f"  (rms error {objective.rms_error(best, self.n_targets):.1%})"
        best_text = "-" if best is None else f"{best:.4f}"
        elapsed = time.perf_counter() - self.started
        print(f"  trials {done}/{self.total}  best loss {best_text}{rms}  {elapsed:.0f} s", flush=True)
