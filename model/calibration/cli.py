"""``run.py calibrate`` and ``run.py validate``.

    python run.py calibrate scenarios/baseline.toml [--trials N] [--workers N] [--scheduler ADDR] [--resume]
    python run.py validate [SCENARIO] [--replications N] [--scale N]

Exit codes (``model.cli``): 0 done (validate: the fit passes, ``validate.passes``), 1 a target missed or a run
failed, 2 bad input (scenario file, option, a study that exists without ``--resume``), 3 the environment.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from .. import footprint
from ..atomic import atomic_write_bytes
from ..cli import _positive, positive_int
from ..errors import InputError
from ..executors import checked_workers, default_workers, open_executor
from ..paths import check_out, inside
from ..scenario import load_scenario
from . import fragment, identifiability, objective, parameters, polish, refine, report, study, validate
from .targets import TOLERANCE, calibration_targets


def _executor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers", type=positive_int, help=f"local worker processes (default {default_workers()})"
    )
    parser.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (default: local)")


def calibrate_parser() -> argparse.ArgumentParser:
    about = "Fit the free parameters to the published figures (model/data/targets.csv) with Optuna."
    p = argparse.ArgumentParser(prog="run.py calibrate", description=about)
    p.add_argument("scenario", type=Path, help="the scenario to fit, e.g. scenarios/baseline.toml")
    p.add_argument(
        "--trials", type=positive_int, default=1600, help="finished trials the study should hold (1600)"
    )
    _executor_options(p)
    p.add_argument("--resume", action="store_true", help="continue the study in --out")
    p.add_argument("--out", type=Path, default=Path("results/calibration"), help="study folder")
    p.add_argument("--report", type=Path, help="report folder (default: --out)")
    p.add_argument("--scale", type=_positive, default=10000.0, help="trial scale (10000)")
    p.add_argument("--replications", type=positive_int, default=8, help="paired replications per trial (8)")
    p.add_argument(
        "--refine", type=float, default=0.6, help="share of --trials spent refining the best (0.6)"
    )
    p.add_argument("--params", help="comma-separated subset of the free parameters (default: all)")
    p.add_argument("--confirm", type=positive_int, default=20, help="best trials re-run before choosing (20)")
    p.add_argument(
        "--confirm-replications", type=positive_int, default=40, help="replications for those (40)"
    )
    p.add_argument("--polish", type=int, default=3, help="Gauss-Newton steps at the run scale (3; 0: none)")
    p.add_argument("--polish-replications", type=positive_int, default=20, help="paired seeds for them (20)")
    p.add_argument("--validation-replications", type=positive_int, default=20, help="for the report (20)")
    p.add_argument("--seed", type=int, default=1, help="seed of the sampler (1)")
    p.add_argument("--no-write", action="store_true", help="do not rewrite the fragment")
    p.add_argument("--no-report", action="store_true", help="skip the report (and its runs)")
    p.add_argument("--quiet", action="store_true")
    return p


def _current(path: Path, params: tuple[parameters.Param, ...]) -> dict[str, float]:
    """The scenario's present value of each free parameter (its first key)."""
    document = load_scenario(path).dump()
    out = {}
    for p in params:
        node = document
        for part in p.keys[0].split("."):
            node = node[part]
        out[p.name] = float(node)
    return out


def calibrate_command(argv: list[str]) -> int:
    args = calibrate_parser().parse_args(argv)
    path = args.scenario
    base = load_scenario(path)  # a bad file stops here, exit 2
    try:
        params = parameters.by_name(args.params.split(",") if args.params else None)
    except KeyError as exc:
        raise InputError(f"--params: {exc.args[0]}") from None
    if not 0 <= args.refine < 1:
        raise InputError(f"--refine {args.refine}: a share of the trials, at least 0 and below 1")
    shadowed = fragment.check_not_shadowed(path, params)
    if shadowed:
        raise InputError(
            f"{path}: sets {', '.join(shadowed)} itself, which would hide the fitted values; "
            f"leave them to {fragment.fragment_path(path).name}"
        )
    # only a fit that rewrites the fragment would drop what it sets and the fit does not free
    stray = [] if args.no_write else fragment.stray_keys(fragment.fragment_path(path), params)
    if stray:
        raise InputError(
            f"{fragment.fragment_path(path)}: sets {', '.join(stray)}, which the fit would drop "
            "when it rewrites the file; move them to the scenario or free them"
        )
    check_out(args.out)
    if args.report:
        check_out(args.report, "--report")
    targets = tuple(calibration_targets())
    # trials and validation draw different seeds: the fit cannot learn the validation's luck
    problem = objective.Problem(path, params, targets, args.scale, args.replications, base.run.seed + 1)
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.out / "study.db"
    if db.exists() and not args.resume:
        raise InputError(f"{db} exists: pass --resume to continue that study, or choose another --out")
    if args.resume and not db.exists():
        raise InputError(f"--resume: no study at {db}")
    s = study.open_study(db, args.resume, args.seed)
    if args.resume:
        differs = study.same_problem(s, problem)
        if differs:
            raise InputError(f"--resume: the study in {db} fits another problem ({differs})")
    else:
        study.record_problem(s, problem)
    workers = args.workers or default_workers() if args.scheduler else checked_workers(args.workers)
    where = f"Dask at {args.scheduler}" if args.scheduler else f"{workers} local workers"
    start = [parameters.priors(params), _current(path, params)]
    say = (lambda *a: None) if args.quiet else print
    say(
        f"calibrating {path} ({len(params)} parameters, {len(targets)} targets) on {where}: "
        f"{args.trials} trials at scale {args.scale:g}, {args.replications} replications each"
    )
    started = time.perf_counter()
    with open_executor(workers, args.scheduler) as executor:
        evolution = refine.Evolution(params, args.seed, s.user_attrs.get("evolution_sigma", refine.SIGMA0))
        ran = study.optimise(
            s,
            problem,
            args.trials,
            executor,
            2 * workers,
            start,
            study.Progress(args.trials, len(targets), quiet=args.quiet),
            evolution if args.refine > 0 else None,
            int(round(args.trials * (1 - args.refine))),
        )
        search_seconds = s.user_attrs.get("search_seconds", 0.0) + time.perf_counter() - started
        s.set_user_attr("search_seconds", search_seconds)  # over every run of the study
        best = study.best_trials(s, args.confirm)
        if not best:
            print(
                "error: no trial finished; see the trials' user_attrs['error'] in the study", file=sys.stderr
            )
            return 1
        confirm_scale = base.run.scale
        candidates = {f"trial {t.number} (loss {t.value:.4f})": t.params for t in best}
        for k in (5, 15, 30):  # centroids average out the luck a single trial may have fitted
            ranked = study.best_trials(s, k)
            if len(ranked) == k:
                candidates[f"centroid of the best {k} trials"] = refine.centroid(
                    [t.params for t in ranked], params
                )
        at_run_scale = replace(
            problem, scale=confirm_scale, replications=args.polish_replications, seed=problem.seed + 1
        )
        if args.polish > 0:
            start_point = refine.centroid([t.params for t in study.best_trials(s, 5)], params)
            candidates.update(polish.polish(at_run_scale, start_point, executor, args.polish))
        confirmed = study.confirm(
            problem, list(candidates.values()), args.confirm_replications, confirm_scale, executor
        )
        for c in confirmed:
            c["source"] = next(label for label, values in candidates.items() if values is c["params"])
        fitted = confirmed[0]["params"]
        total = study.finished(s)
        rms = objective.rms_error(confirmed[0]["loss"], len(targets))
        frag = fragment.fragment_path(path)
        report_dir = args.report or args.out
        if not args.no_write:
            header = fragment.header_lines(path, total, confirmed[0]["loss"], rms, report_dir / "report.md")
            fragment.write(frag, fragment.render(fitted, params, header))
            load_scenario(path)  # the fragment must validate with the scenario
        extra = {} if not args.no_write else parameters.overrides(fitted, params)
        (args.out / "fitted.json").write_text(json.dumps(fitted, indent=1) + "\n", encoding="utf-8")
        report.trials_frame(s, problem).to_csv(args.out / "trials.csv", index=False)
        if not args.no_report:
            _report(
                args,
                path,
                problem,
                s,
                fitted,
                confirmed,
                executor,
                extra,
                base.run.scale,
                {
                    "trials": total,
                    "wall_seconds": search_seconds,
                    "workers": where,
                    "study": str(db),
                    "fragment": str(frag),
                    "confirm_scale": confirm_scale,
                    "confirm_replications": args.confirm_replications,
                    "command": "python run.py calibrate " + " ".join(argv),
                },
                report_dir,
                say,
            )
    say(
        f"{ran} trials run now, {total} in the study; search {search_seconds:.0f} s, "
        f"total {time.perf_counter() - started:.0f} s; best loss {confirmed[0]['loss']:.4f} "
        f"(rms error {rms:.1%}) -> {frag if not args.no_write else args.out / 'fitted.json'}"
    )
    return 0


def _report(args, path, problem, s, fitted, confirmed, executor, extra, scale, meta, folder, say) -> None:
    targets = list(problem.targets)
    horizon = objective.horizon_overrides(path, targets, extra)["run.end"]
    meta["horizon"] = horizon.isoformat()
    say(f"report: {args.validation_replications} replications at scale {scale:g}, counterfactuals, profiles")
    runs = report.replicate(path, targets, args.validation_replications, scale, executor, extra)
    n_cf = max(4, args.validation_replications // 2)
    no_first = report.replicate(
        path, targets, n_cf, scale, executor, {**extra, "behaviour.campaign_pull": 0.0}
    )
    no_push = report.replicate(
        path,
        targets,
        n_cf,
        scale,
        executor,
        {**extra, "behaviour.campaign_pull": 0.0, "behaviour.multihoming_push": 0.0},
    )
    prof_problem = objective.Problem(
        path,
        problem.params,
        problem.targets,
        problem.scale,
        max(4, problem.replications),
        problem.seed,
        fixed=extra,
    )
    prof = identifiability.profile(prof_problem, fitted, executor)
    attrib = report.attribution(runs, no_first, no_push)
    out = report.write(folder, problem, s, fitted, confirmed, runs, scale, prof, attrib, meta)
    say(validate.plain(validate.table(runs.values, targets)))
    say(f"report -> {out}")


def validate_parser() -> argparse.ArgumentParser:
    about = (
        "Compare a scenario with the published figures (targets.csv); exit 1 unless every target is within "
        "+/-25% and 80% of them within the tolerance."
    )
    p = argparse.ArgumentParser(prog="run.py validate", description=about)
    p.add_argument("scenario", type=Path, nargs="?", default=Path("scenarios/baseline.toml"))
    p.add_argument("--replications", type=positive_int, default=20, help="replications (20)")
    p.add_argument("--scale", type=_positive, help="residents per agent (default: the scenario's run.scale)")
    p.add_argument("--seed", type=int, help="root seed of the replications (default: run.seed)")
    p.add_argument("--tolerance", type=_positive, default=TOLERANCE, help=f"relative ({TOLERANCE})")
    p.add_argument("--out", type=Path, default=Path("results/validation"), help="parent folder")
    _executor_options(p)
    return p


def validate_command(argv: list[str]) -> int:
    args = validate_parser().parse_args(argv)
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise InputError(f"--seed {args.seed}: must be between 0 and 2**63 - 1")
    scenario = load_scenario(args.scenario)  # a bad file stops here, exit 2
    if args.scale is not None:
        scenario = load_scenario(args.scenario, {"run.scale": args.scale})  # the scale is checked too
    check_out(args.out)
    folder = inside(args.out, scenario.name)
    targets = calibration_targets()
    workers = None
    if not args.scheduler:
        need = footprint.check_fits(scenario, what="--scale" if args.scale else "run.scale")
        workers = checked_workers(args.workers or min(default_workers(), args.replications), need)
    started = time.perf_counter()
    with open_executor(workers, args.scheduler) as executor:
        result = validate.validate(
            args.scenario, targets, args.replications, args.scale, executor, args.seed, args.tolerance
        )
    elapsed = time.perf_counter() - started
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / "validation.csv", result.table.to_csv(index=False).encode())
    head = (
        f"{result.scenario}: {result.replications} replications at scale {result.scale:g}, "
        f"tolerance +/-{result.tolerance:.0%} on the median ({elapsed:.1f} s)"
    )
    text = f"{head}\n\n{validate.markdown(result.table)}\n"
    atomic_write_bytes(folder / "validation.md", text.encode("utf-8"))
    print(head)
    print(validate.plain(result.table))
    print(f"{validate.verdict(result.table)} -> {folder / 'validation.csv'}")
    return 0 if result.passed else 1
