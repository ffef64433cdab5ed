"""Writing results so that no interruption loses them: whole files, whole folders, one writer at a time.

* ``atomic_write_bytes``: a temporary file beside the target, flushed to disk, renamed over it.
* ``atomic_create_bytes``: the same, for a new file only: an existing one is never replaced.
* ``atomic_folder``: a hidden staging folder ``.<name>.<random>.tmp`` beside the target, renamed into place
  when complete; the earlier result is moved to ``.<name>.old`` for the instant between the two renames.
  Writers of one parent folder take turns (``parent_lock``), so whoever holds the lock knows that a
  staging folder left there is from a killed writer and can be removed, and that a ``.<name>.old`` without
  its ``<name>`` is the earlier result stranded by a crash between the renames: it is put back
  (``recover``).
* ``exclusive``: a lock file held for as long as a sweep runs; a second sweep on the same folder is
  refused with the holder's pid, host and start time. The operating system releases it when the holder
  dies, however it dies (kill -9 included).
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import InputError
from .paths import user_mode

LOCK_NAME = ".lock"


def _write_synced(temporary: Path, data: bytes) -> None:
    """``data`` written to ``temporary`` and synced to disk, before it is renamed or linked into place."""
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all: temporary file, fsync, then ``os.replace``."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _write_synced(temporary, data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def atomic_create_bytes(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data``, whole or not at all, and never over an existing file.

    The temporary file is hard-linked to the name (``os.link`` fails if the name exists, even if it was
    created a moment ago by someone else), where ``os.replace`` would silently replace it:
    ``FileExistsError`` then, and nothing is left behind.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _write_synced(temporary, data)
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def parent_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` itself (waiting for it): writers of one folder take turns."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def recover(target: Path) -> None:
    """Remove staging folders of killed writers; put back an earlier result stranded as ``.<name>.old``.

    Call with the parent's lock held (``atomic_folder`` does).
    """
    target = Path(target)
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        if target.exists():  # the crash came after the new result was in place: the old one is stale
            shutil.rmtree(old)
        else:
            os.replace(old, target)


@contextmanager
def atomic_folder(target: Path, check: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``target`` whole, on failure it is removed.

    ``check(target)`` runs first, with the lock held and any earlier result recovered: it may refuse
    (raise) to replace what is there. The folder gets the user's normal permissions (umask), not 0700.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with parent_lock(target.parent):
        recover(target)
        if check is not None:
            check(target)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        try:
            os.chmod(staging, user_mode())
            yield staging
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        old = target.with_name(f".{target.name}.old")
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def exclusive(folder: Path, about: dict[str, Any]) -> Iterator[None]:
    """Hold ``folder/.lock`` for the duration; ``InputError`` naming the holder if someone else has it.

    ``about`` (e.g. the sweep file) is written into the lock file with this process's pid, host and time.
    """
    folder = Path(folder)
    path = folder / LOCK_NAME
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"{folder}: in use by {_holder(path)}; wait for it to end, or choose another --out"
            ) from None
        holder = {"pid": os.getpid(), "host": platform.node(), "since": _now(), **about}
        os.ftruncate(handle, 0)
        os.pwrite(handle, (json.dumps(holder, default=str) + "\n").encode(), 0)
        yield
    finally:
        os.close(handle)


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "another process"
    what = f" ({info['sweep']})" if info.get("sweep") else ""
    return f"pid {info.get('pid')} on {info.get('host')} since {info.get('since')}{what}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
