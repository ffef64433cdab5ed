"""The vectorized engine's kernels: the functions of ``phases.py`` compiled by numba on first use.

The agent engine runs the very same functions as plain Python, so there is one behaviour, two ways to run
it. Compilation takes a few seconds once (``python -m benchmarks`` reports it); numba keeps the machine
code on disk and later processes load it in a fraction of a second.

numba's disk cache notices a change of the file that defines a kernel but not of the modules it calls, so
the cache goes to a folder named after a hash of every module compiled into the kernels: an edit to
``rules.py`` can never run stale machine code. The folder is ``model/__pycache__/numba-<hash>`` (or, if
that is read-only, ``~/.cache/ecny-adoption/numba-<hash>``; under ``NUMBA_CACHE_DIR`` if that is set).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import numba

from . import draws, network, phases, population, rules

COMPILED_MODULES = (draws, rules, phases, population, network)


def source_digest() -> str:
    """Hash of the source of every module compiled into the kernels, and of this one."""
    digest = hashlib.blake2b(digest_size=8)
    for file in (*(m.__file__ for m in COMPILED_MODULES), __file__):
        digest.update(Path(file).read_bytes())
    return digest.hexdigest()


def _cache_folder(digest: str) -> Path:
    """``<parent>/numba-<digest>``, older digests removed, in the first writable parent (see above)."""
    here = Path(__file__).resolve().parent / "__pycache__"
    chosen = os.environ.get("NUMBA_CACHE_DIR")
    parents = [Path(chosen)] if chosen else [here, Path.home() / ".cache" / "ecny-adoption"]
    for parent in parents:
        try:
            parent.mkdir(parents=True, exist_ok=True)
            if os.access(parent, os.W_OK):
                for old in parent.glob("numba-*"):
                    if old.name != f"numba-{digest}":
                        shutil.rmtree(old, ignore_errors=True)
                return parent / f"numba-{digest}"
        except OSError:
            continue
    return parents[0] / f"numba-{digest}"


@cache
def compiled() -> SimpleNamespace:
    """The compiled kernels: ``citizens_week``, ``businesses_week``, ``acquirers``, ``lottery`` and
    ``fill_neighbours`` (the word-of-mouth graph's neighbour lists)."""
    numba.config.CACHE_DIR = str(_cache_folder(source_digest()))
    # The weekly kernels allocate nothing, so they run without numba's reference counting (_nrt=False),
    # which otherwise counts every array a phase reads out of its namedtuples: 20x slower.
    week = numba.njit(cache=True, _nrt=False)
    return SimpleNamespace(
        citizens_week=week(phases.citizens_week),
        businesses_week=week(phases.businesses_week),
        acquirers=week(phases.acquirers),
        lottery=numba.njit(cache=True)(phases.lottery),
        fill_neighbours=numba.njit(cache=True)(network.fill_neighbours),
    )
