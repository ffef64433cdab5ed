"""``run.py dashboard [SCENARIO] [--port N]``: start the Solara app on the loopback interface.

The scenario is validated before the server starts (a bad file exits with code 2 and the usual message),
the URL is printed first so scripts and tests can wait for it, and the server binds to 127.0.0.1 unless
``--host`` says otherwise: a simulator has no business listening on every interface by default.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import warnings
from pathlib import Path

from .settings import DEFAULT_COMPARE_SEEDS, DEFAULT_SCALE, Settings, default_scenario

APP = "model.dashboard.app"


def parser() -> argparse.ArgumentParser:
    from ..cli import _positive, _seed

    p = argparse.ArgumentParser(
        prog="run.py dashboard",
        description="Interactive what-if dashboard (Mesa SolaraViz) in the browser.",
    )
    p.add_argument("scenario", nargs="?", type=Path, help="scenario file (default: scenarios/baseline.toml)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1, loopback only)")
    p.add_argument(
        "--scale",
        type=_positive,
        default=DEFAULT_SCALE,
        help=f"residents per citizen agent (default {DEFAULT_SCALE:g}: coarse, so a week takes milliseconds)",
    )
    p.add_argument("--seed", type=_seed, help="random seed (default: the scenario's run.seed)")
    p.add_argument(
        "--compare-seeds",
        type=int,
        default=DEFAULT_COMPARE_SEEDS,
        help=f"paired seeds in the comparison with the baseline (default {DEFAULT_COMPARE_SEEDS})",
    )
    p.add_argument(
        "--save-dir",
        type=Path,
        help="folder the Save button writes scenario files to (default: the scenario file's folder)",
    )
    return p


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def offline_note() -> str | None:
    """Why the page would fetch Solara's browser files from a CDN, or None when they are served locally.

    The ``solara-assets`` package holds those files for the Vuetify 2 front end (``ipyvuetify<2``); without
    it, or with Vuetify 3, a machine without internet shows a blank page.
    """
    import importlib.util

    import solara.util

    if importlib.util.find_spec("solara_assets") is None:
        return "solara-assets is not installed"
    if solara.util.IPYVUETIFY_V3:
        return "ipyvuetify 3 is installed, and solara-assets ships the files of ipyvuetify<2"
    return None


def dashboard_command(argv: list[str]) -> int:
    """Validate the scenario, print the URL, then serve until interrupted (Ctrl-C)."""
    from .. import footprint
    from ..errors import InputError
    from ..scenario import load_scenario

    args = parser().parse_args(argv)
    if not 0 <= args.port < 65536:
        raise InputError(f"--port {args.port}: a port number from 0 to 65535")
    if args.compare_seeds < 1:
        raise InputError(f"--compare-seeds {args.compare_seeds}: at least 1")
    if args.save_dir is not None and not args.save_dir.is_dir():
        raise InputError(f"--save-dir {args.save_dir}: no such folder")
    scenario_path = args.scenario or default_scenario()
    scenario = load_scenario(scenario_path)  # a bad file stops here, exit code 2
    at_scale = load_scenario(scenario_path, {"run.scale": args.scale})  # so is a scale it cannot hold
    footprint.check_fits(at_scale, what="--scale")
    settings = Settings(scenario_path, args.scale, args.seed, args.compare_seeds, args.save_dir)
    os.environ.update(settings.to_env())
    # no telemetry and no version check: both call out to the internet, which a dashboard must not need
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    # Solara warns on every page load that 127.0.0.1 is not "localhost" for its iframe cookie; not our case
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)
    port = args.port or free_port(args.host)
    print(
        f"e-CNY dashboard: http://{args.host}:{port}/  ({scenario.name}, {args.scale:g} residents per agent; "
        "Ctrl-C stops it)",
        flush=True,
    )
    note = offline_note()
    if note:
        hint = "pip install -e '.[dashboard]'"
        print(f"note: {note}: the page loads Solara's scripts from the internet ({hint})", file=sys.stderr)
    from solara.__main__ import run as solara_run

    solara_run.main(
        args=[
            APP,
            "--host",
            args.host,
            "--port",
            str(port),
            "--production",
            "--no-open",
            "--no-check-version",
            "--log-level-uvicorn",
            "warning",
        ],
        prog_name="run.py dashboard",
        standalone_mode=False,
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(dashboard_command(sys.argv[1:]))
