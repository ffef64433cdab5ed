"""``python -m model.docs`` (``make figures``): regenerate every figure the README shows and its what-if
table from the shipped model, at the scales and seeds given (defaults: ``figures.Settings``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .figures import FIGURES, ROOT, Settings, write_figures
from .validation import write_validation
from .whatifs import write_whatifs

PARTS = (*FIGURES, "whatifs", "validation")


def main(argv: list[str] | None = None) -> int:
    defaults = Settings()
    parser = argparse.ArgumentParser(prog="python -m model.docs", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=PARTS, help="regenerate only these (default: all)")
    parser.add_argument("--scale", type=float, default=defaults.scale, help="residents per agent, S-curve")
    parser.add_argument("--lever-seeds", type=int, default=defaults.lever_seeds)
    parser.add_argument("--lever-scale", type=float, default=defaults.lever_scale)
    parser.add_argument("--whatif-seeds", type=int, default=defaults.whatif_seeds)
    parser.add_argument("--whatif-scale", type=float, default=defaults.whatif_scale)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    where = "where the what-if comparisons keep their runs (default results/figures)"
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "figures", help=where)
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")  # files only, whatever the environment says (as run.py does)
    for name, value in (("--lever-seeds", args.lever_seeds), ("--whatif-seeds", args.whatif_seeds)):
        if value < 2:
            parser.exit(2, f"error: {name} {value}: an interval needs at least 2 seeds\n")
    settings = Settings(args.scale, args.lever_scale, args.lever_seeds, args.whatif_scale, args.whatif_seeds,
                        args.workers)  # fmt: skip
    parts = args.only or list(PARTS)
    write_figures(settings, [p for p in parts if p in FIGURES])
    if "validation" in parts:
        print(write_validation(settings.workers))
    if "whatifs" in parts:
        print(write_whatifs(settings.whatif_seeds, settings.whatif_scale, args.out, settings.workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
