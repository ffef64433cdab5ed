"""The calibration pipeline as one function: search, confirm, write the fit, report.

``calibrate(scenario, ...)`` is what ``run.py calibrate`` runs; the command line only parses its options
and prints. The steps:

1. check everything before any run (parameters, shadowed or stray fragment keys, the output folders, a
   study that exists without ``resume`` or a ``resume`` without one), then open the Optuna study in
   ``out/study.db``;
2. search: ``trials`` trials at the coarse ``scale`` with ``replications`` paired seeds (``study``), by
   CMA-ES from the scenario's present values for a refit (a fragment exists) or TPE over the whole box;
3. confirm: the best ``confirm`` trials, the centroids of the best 5, 15 and 30 and ``polish_steps``
   Gauss-Newton steps at the run scale (``polish``) are re-run on other seeds at the run scale, and the
   lowest loss wins (``study.confirm``);
4. write ``fitted.json``, ``trials.csv`` and the ensemble of the best trials (``ensemble.csv``,
   ``members``) into ``out``, and with ``write`` the fragment (``scenarios/calibrated.toml``) the
   scenario extends and the ensemble beside it (``scenarios/ensemble.csv``): ``run.py calibrate``
   owns both files, and ``--no-write`` leaves both alone;
5. with ``report``, the report's replications, counterfactuals and profiles (``report``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import optuna

from ..errors import InputError
from ..executors import checked_workers, default_workers, open_executor
from ..paths import check_out
from ..scenario import load_scenario
from . import fragment, identifiability, members, objective, parameters, polish, report, study, validate
from .objective import Problem
from .targets import Target, calibration_targets


@dataclass(frozen=True)
class Calibration:
    """What a calibration leaves: the fitted values, how good they are and where the files went."""

    problem: Problem
    fitted: dict[str, float]
    confirmed: list[dict]  # candidates re-run at the run scale, best first
    ran: int  # trials run by this call
    total: int  # finished trials in the study
    search_seconds: float  # over every run of the study
    study: Path
    fragment: Path | None  # None when not written
    ensemble: Path  # out/ensemble.csv (also beside the fragment when that is written)
    report: Path | None

    @property
    def loss(self) -> float:
        return self.confirmed[0]["loss"]

    @property
    def rms(self) -> float:
        return objective.rms_error(self.loss, len(self.problem.targets))


def current_values(path: Path, params: tuple[parameters.Param, ...]) -> dict[str, float]:
    """The scenario's present value of each free parameter (its first key)."""
    document = load_scenario(path).dump()
    out = {}
    for p in params:
        node = document
        for part in p.keys[0].split("."):
            node = node[part]
        out[p.name] = float(node)
    return out


def _check(path: Path, params: tuple[parameters.Param, ...], write: bool) -> None:
    shadowed = fragment.check_not_shadowed(path, params)
    if shadowed:
        raise InputError(
            f"{path}: sets {', '.join(shadowed)} itself, which would hide the fitted values; "
            f"leave them to {fragment.fragment_path(path).name}"
        )
    # only a fit that rewrites the fragment would drop what it sets and the fit does not free
    stray = fragment.stray_keys(fragment.fragment_path(path), params) if write else []
    if stray:
        raise InputError(
            f"{fragment.fragment_path(path)}: sets {', '.join(stray)}, which the fit would drop "
            "when it rewrites the file; move them to the scenario or free them"
        )


def calibrate(
    scenario: Path,
    out: Path = Path("results/calibration"),
    *,
    trials: int = 1600,
    params: list[str] | None = None,
    targets: list[Target] | None = None,
    sampler: str | None = None,
    sigma0: float = study.SIGMA0,
    scale: float = 10000.0,
    replications: int = 8,
    confirm: int = 20,
    confirm_replications: int = 40,
    confirm_scale: float | None = None,
    polish_steps: int = 3,
    polish_replications: int = 20,
    validation_replications: int = 20,
    seed: int = 1,
    resume: bool = False,
    write: bool = True,
    make_report: bool = True,
    report_dir: Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    quiet: bool = False,
    command: str = "",
    from_priors: bool = False,
) -> Calibration:
    """Fit ``params`` (default: all of ``parameters.FREE``) of ``scenario`` to ``targets`` (default: all).

    ``sampler`` is ``"cmaes"`` (default when the scenario's fragment exists: a refit from its values, with
    step ``sigma0`` in the unit cube) or ``"tpe"`` (default otherwise). ``from_priors`` starts the search
    from the priors alone, never from the scenario's present (fitted) values: a fit on part of the targets
    (``holdout``) must not start where the fit on all of them ended. The confirmation and the polish run
    at ``confirm_scale`` (default: the scenario's ``run.scale``). Raises ``InputError`` for bad input
    before anything runs and ``RuntimeError`` when no trial finished.
    """
    scenario = Path(scenario)
    base = load_scenario(scenario)  # a bad file stops here
    run_scale = float(confirm_scale or base.run.scale)
    try:
        free = parameters.by_name(params)
    except KeyError as exc:
        raise InputError(f"--params: {exc.args[0]}") from None
    frag = fragment.fragment_path(scenario)
    asked, sampler = sampler, sampler or ("cmaes" if frag.is_file() else "tpe")
    if sampler not in study.SAMPLERS:
        raise InputError(f"--sampler {sampler}: one of {', '.join(study.SAMPLERS)}")
    if not 0 < sigma0 <= 1:
        raise InputError(f"--sigma0 {sigma0}: a step in the unit cube, above 0 and at most 1")
    _check(scenario, free, write)
    check_out(out)
    if report_dir:
        check_out(report_dir, "--report")
    targets = tuple(targets if targets is not None else calibration_targets())
    # trials and validation draw different seeds: the fit cannot learn the validation's luck
    problem = Problem(scenario, free, targets, scale, replications, base.run.seed + 1)
    db = out / "study.db"
    if db.exists() and not resume:
        raise InputError(f"{db} exists: pass --resume to continue that study, or choose another --out")
    if resume and not db.exists():
        raise InputError(f"--resume: no study at {db}")
    present = parameters.priors(free) if from_priors else current_values(scenario, free)
    start = parameters.clip(present, free)
    out.mkdir(parents=True, exist_ok=True)
    s = study.open_study(db, resume, seed, sampler=sampler, x0=start, sigma0=sigma0)
    if resume:
        differs = study.same_problem(s, problem)
        if differs:
            raise InputError(f"--resume: the study in {db} fits another problem ({differs})")
        kept = s.user_attrs.get("sampler", {"name": "tpe"})["name"]
        if asked and asked != kept:
            raise InputError(f"--resume --sampler {asked}: the study in {db} searches with {kept}")
    else:
        study.record_problem(s, problem)
    workers = workers or default_workers() if scheduler else checked_workers(workers)
    where = f"Dask at {scheduler}" if scheduler else f"{workers} local workers"
    say: Callable[..., None] = (lambda *a: None) if quiet else print
    say(
        f"calibrating {scenario} ({len(free)} parameters, {len(targets)} targets, "
        f"{s.user_attrs['sampler']['name']}) on {where}: {trials} trials at scale {scale:g}, "
        f"{replications} replications each"
    )
    started = time.perf_counter()
    with open_executor(workers, scheduler) as executor:
        progress = study.Progress(trials, len(targets), quiet=quiet)
        first = [start] if from_priors else [parameters.priors(free), start]
        ran = study.optimise(s, problem, trials, executor, 2 * workers, first, progress)
        search_seconds = s.user_attrs.get("search_seconds", 0.0) + time.perf_counter() - started
        s.set_user_attr("search_seconds", search_seconds)
        best = study.best_trials(s, confirm)
        if not best:
            raise RuntimeError(f"no trial finished; see the trials' user_attrs['error'] in {db}")
        candidates = {f"trial {t.number} (loss {t.value:.4f})": t.params for t in best}
        for k in (5, 15, 30):  # centroids average out the luck a single trial may have fitted
            ranked = study.best_trials(s, k)
            if len(ranked) == k:
                candidates[f"centroid of the best {k} trials"] = parameters.centroid(
                    [t.params for t in ranked], free
                )
        if polish_steps > 0:
            at_run_scale = replace(
                problem, scale=run_scale, replications=polish_replications, seed=problem.seed + 1
            )
            point = parameters.centroid([t.params for t in study.best_trials(s, 5)], free)
            candidates.update(polish.polish(at_run_scale, point, executor, polish_steps))
        confirmed = study.confirm(
            problem, list(candidates.values()), confirm_replications, run_scale, executor
        )
        for c in confirmed:
            c["source"] = next(label for label, values in candidates.items() if values is c["params"])
        fitted = confirmed[0]["params"]
        total = study.finished(s)
        loss = confirmed[0]["loss"]
        folder = report_dir or out
        if write:
            rms = objective.rms_error(loss, len(targets))
            header = fragment.header_lines(scenario, total, loss, rms, folder / "report.md")
            fragment.write(frag, fragment.render(fitted, free, header))
            load_scenario(scenario)  # the fragment must validate with the scenario
        extra = {} if write else parameters.overrides(fitted, free)
        (out / "fitted.json").write_text(json.dumps(fitted, indent=1) + "\n", encoding="utf-8")
        report.trials_frame(s, problem).to_csv(out / "trials.csv", index=False)
        ensemble = members.from_study(s, free, len(targets))
        members.write(out / members.FILE, ensemble)
        if write:
            members.write(frag.parent / members.FILE, ensemble)
        report_path = None
        if make_report:
            meta = {
                "trials": total,
                "wall_seconds": search_seconds,
                "workers": where,
                "sampler": s.user_attrs["sampler"]["name"],
                "study": str(db),
                "fragment": str(frag),
                "confirm_scale": run_scale,
                "confirm_replications": confirm_replications,
                "command": command or f"model.calibration.calibrate({scenario})",
            }
            report_path = _report(
                problem, s, fitted, confirmed, executor, extra, base.run.scale, meta, folder,
                validation_replications, say,
            )  # fmt: skip
    return Calibration(
        problem, fitted, confirmed, ran, total, search_seconds, db, frag if write else None,
        out / members.FILE, report_path,
    )  # fmt: skip


def _report(
    problem: Problem,
    s: optuna.Study,
    fitted: dict[str, float],
    confirmed: list[dict],
    executor: Executor,
    extra: dict[str, Any],
    scale: float,
    meta: dict[str, Any],
    folder: Path,
    replications: int,
    say: Callable[..., None],
) -> Path:
    path, targets = problem.scenario, list(problem.targets)
    meta["horizon"] = objective.horizon_overrides(path, targets, extra)["run.end"].isoformat()
    say(f"report: {replications} replications at scale {scale:g}, counterfactuals, profiles")
    runs = report.replicate(path, targets, replications, scale, executor, extra)
    n_cf = max(4, replications // 2)
    no_first = {**extra, "behaviour.campaign_pull": 0.0}
    no_push = {**no_first, "behaviour.multihoming_push": 0.0}
    no_first_runs = report.replicate(path, targets, n_cf, scale, executor, no_first)
    no_push_runs = report.replicate(path, targets, n_cf, scale, executor, no_push)
    prof_problem = replace(problem, replications=max(4, problem.replications), fixed=extra)
    prof = identifiability.profile(prof_problem, fitted, executor)
    attrib = report.attribution(runs, no_first_runs, no_push_runs)
    out = report.write(folder, problem, s, fitted, confirmed, runs, scale, prof, attrib, meta)
    say(validate.plain(validate.table(runs.values, targets)))
    say(f"report -> {out}")
    return out
