"""``run.py calibrate`` and ``run.py validate``.

    python run.py calibrate scenarios/baseline.toml [--trials N] [--workers N] [--scheduler ADDR] [--resume]
    python run.py validate [SCENARIO] [--replications N] [--scale N]
    python run.py ensemble STUDY.db --out FILE [--best N] [--overwrite]

Exit codes (``model.cli``): 0 done (validate: the fit passes, ``validate.passes``), 1 a target missed or a run
failed, 2 bad input (scenario file, option, a study that exists without ``--resume``), 3 the environment.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from .. import footprint
from ..atomic import atomic_write_bytes
from ..cli import _positive, positive_int
from ..ensemble import ENSEMBLE, load_ensemble
from ..errors import InputError
from ..executors import checked_workers, default_workers, open_executor
from ..paths import check_out, inside
from ..scenario import load_scenario
from . import holdout, members, pipeline, study, validate
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
        "--sampler",
        choices=study.SAMPLERS,
        help="cmaes: refit from the present values (default when the fragment exists); tpe: whole box",
    )
    p.add_argument(
        "--sigma0", type=float, default=study.SIGMA0, help=f"CMA-ES first step, unit cube ({study.SIGMA0})"
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


def calibrate_command(argv: list[str]) -> int:
    """``run.py calibrate``: the options of ``pipeline.calibrate``, then one line on what it left."""
    args = calibrate_parser().parse_args(argv)
    started = time.perf_counter()
    try:
        fit = pipeline.calibrate(
            args.scenario,
            args.out,
            trials=args.trials,
            params=args.params.split(",") if args.params else None,
            sampler=args.sampler,
            sigma0=args.sigma0,
            scale=args.scale,
            replications=args.replications,
            confirm=args.confirm,
            confirm_replications=args.confirm_replications,
            polish_steps=args.polish,
            polish_replications=args.polish_replications,
            validation_replications=args.validation_replications,
            seed=args.seed,
            resume=args.resume,
            write=not args.no_write,
            make_report=not args.no_report,
            report_dir=args.report,
            workers=args.workers,
            scheduler=args.scheduler,
            quiet=args.quiet,
            command="python run.py calibrate " + " ".join(argv),
        )
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(
            f"{fit.ran} trials run now, {fit.total} in the study; search {fit.search_seconds:.0f} s, "
            f"total {time.perf_counter() - started:.0f} s; best loss {fit.loss:.4f} "
            f"(rms error {fit.rms:.1%}) -> {fit.fragment or args.out / 'fitted.json'}"
        )
    return 0


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
    p.add_argument(
        "--ensemble", nargs="?", const=ENSEMBLE, type=Path, metavar="FILE",
        help="replication r runs ensemble member r drawn by weight (default scenarios/ensemble.csv)",
    )  # fmt: skip
    p.add_argument(
        "--fit-until", metavar="YYYY-MM-DD", help="fit on the targets up to this day, then score all of them"
    )
    p.add_argument(
        "--trials", type=positive_int, default=holdout.TRIALS, help=f"trials of that fit ({holdout.TRIALS})"
    )
    p.add_argument(
        "--fit-scale",
        type=_positive,
        default=holdout.FIT_SCALE,
        help=f"its trial scale ({holdout.FIT_SCALE:g})",
    )
    p.add_argument(
        "--fit-replications",
        type=positive_int,
        default=holdout.FIT_REPLICATIONS,
        help=f"its replications per trial ({holdout.FIT_REPLICATIONS})",
    )
    _executor_options(p)
    return p


def validate_command(argv: list[str]) -> int:
    args = validate_parser().parse_args(argv)
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise InputError(f"--seed {args.seed}: must be between 0 and 2**63 - 1")
    if args.fit_until is not None and args.ensemble is not None:
        raise InputError("--fit-until with --ensemble: the fit gives one parameter set; choose one of them")
    until = holdout.parse_until(args.fit_until) if args.fit_until is not None else None
    scenario = load_scenario(args.scenario)  # a bad file stops here, exit 2
    if args.scale is not None:
        scenario = load_scenario(args.scenario, {"run.scale": args.scale})  # the scale is checked too
    ensemble = load_ensemble(args.ensemble, args.scenario) if args.ensemble is not None else None
    check_out(args.out)
    suffix = f"_fit_until_{until}" if until else "_ensemble" if ensemble else ""
    folder = inside(args.out, scenario.name + suffix)
    targets = calibration_targets()
    workers = None
    if not args.scheduler:
        need = footprint.check_fits(scenario, what="--scale" if args.scale else "run.scale")
        workers = checked_workers(args.workers or min(default_workers(), args.replications), need)
    started = time.perf_counter()
    if until is not None:
        fit = holdout.fit_until(
            args.scenario, until, folder, trials=args.trials, replications=args.replications,
            scale=args.scale, seed=args.seed, tolerance=args.tolerance, workers=workers,
            scheduler=args.scheduler, fit_scale=args.fit_scale, fit_replications=args.fit_replications,
            quiet=False,
        )  # fmt: skip
        result, table = fit.validation, fit.table
    else:
        with open_executor(workers, args.scheduler) as executor:
            result = validate.validate(
                args.scenario, targets, args.replications, args.scale, executor, args.seed, args.tolerance,
                ensemble=ensemble, progress=True,
            )  # fmt: skip
        table = result.table
    elapsed = time.perf_counter() - started
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / "validation.csv", table.to_csv(index=False).encode())
    if result.members is not None:
        drawn = pd.DataFrame([{"replication": r, **m} for r, m in enumerate(result.members)])
        atomic_write_bytes(folder / "members.csv", drawn.to_csv(index=False).encode())
    about = "its own parameters"
    if until is not None:
        fitted_on = int((table["sample"] == holdout.IN).sum())
        about = f"fitted on the {fitted_on} targets up to {until} in {fit.fit.total} trials, scored on all"
    elif ensemble is not None:
        about = f"parameters drawn from {args.ensemble}"
    head = (
        f"{result.scenario} ({about}): {result.replications} replications at scale {result.scale:g}, "
        f"tolerance +/-{result.tolerance:.0%} on the median ({elapsed:.1f} s)"
    )
    text = f"{head}\n\n{validate.markdown(table)}\n"
    atomic_write_bytes(folder / "validation.md", text.encode("utf-8"))
    print(head)
    print(validate.plain(table))
    print(f"{validate.verdict(table)} -> {folder / 'validation.csv'}")
    return 0 if validate.passes(table) else 1


def ensemble_command(argv: list[str]) -> int:
    """``run.py ensemble STUDY.db --out FILE``: the weighted best trials of a study (``members``)."""
    p = argparse.ArgumentParser(prog="run.py ensemble", description=members.__doc__.split("\n")[0])
    p.add_argument("study", type=Path, help="a study.db that run.py calibrate left")
    p.add_argument("--out", type=Path, required=True, help="the ensemble CSV to write")
    p.add_argument("--best", type=positive_int, default=members.BEST, help=f"best trials ({members.BEST})")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    args = p.parse_args(argv)
    if not args.study.is_file():
        raise InputError(f"{args.study}: no such study file (the study.db in run.py calibrate's --out)")
    if args.out.exists() and not args.overwrite:
        raise InputError(f"--out {args.out} exists: pass --overwrite to replace it, or choose another file")
    if args.out.is_dir():
        raise InputError(f"--out {args.out} is a folder; choose a CSV file")
    from sqlalchemy.exc import SQLAlchemyError

    try:
        rows = members.from_study_file(args.study, args.best)
    except (KeyError, ValueError, SQLAlchemyError) as exc:
        raise InputError(f"{args.study}: {str(exc).splitlines()[0]}") from None
    members.write(args.out, rows)
    print(
        f"{len(rows)} members (weights sum to 1, the heaviest {rows[members.WEIGHT].max():.1%}) -> {args.out}"
    )
    return 0
