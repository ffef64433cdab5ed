"""Names that become folders, and the output folder (``--out``) they go in.

A scenario's or sweep's ``name`` is the folder its results are written to, so it is checked like one
(``check_name``): letters, digits, ``_``, ``-`` and ``.``, starting with a letter or a digit. That rules
out "", ".", "..", "../scenarios", "/some/folder", hidden names and a NUL byte. ``inside`` then checks that
the folder really lies in ``--out`` (a symbolic link could still point elsewhere), and ``check_out`` that
``--out`` is a folder this process can write to, before any work starts.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from .errors import EnvironmentFault, InputError

MAX_NAME_CHARS = 100
MAX_NAME_BYTES = 200  # file systems allow 255; the hidden staging names add a few characters
NAME_RULE = (
    f"a folder name of letters, digits, '_', '-' and '.', starting with a letter or a digit, "
    f"at most {MAX_NAME_CHARS} characters"
)
_NAME = re.compile(r"[^\W_][\w.-]*")


def is_safe_name(text: object) -> bool:
    return (
        isinstance(text, str)
        and _NAME.fullmatch(text) is not None
        and len(text) <= MAX_NAME_CHARS
        and len(text.encode("utf-8")) <= MAX_NAME_BYTES
    )


def check_name(text: str) -> str:
    """``text`` if it is a safe folder name; otherwise ``ValueError`` saying what is allowed."""
    if not is_safe_name(text):
        raise ValueError(NAME_RULE)
    return text


def inside(out: Path, name: str) -> Path:
    """``out / name``, refused unless ``name`` is a safe folder name that resolves to a child of ``out``."""
    if not is_safe_name(name):
        raise InputError(f"{name!r}: not a safe result folder name; {NAME_RULE}")
    target = Path(out) / name
    if target.resolve().parent != Path(out).resolve():
        raise InputError(f"{target}: a link to {target.resolve()}, outside {out}; nothing was written")
    return target


def check_out(out: Path, option: str = "--out") -> Path:
    """Refuse an output folder that is a file (``InputError``) or cannot be written (``EnvironmentFault``).

    Nothing is created: a folder that does not exist yet is judged by the nearest one that does.
    """
    out = Path(out)
    existing = out
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        what = f"{option} {out}" if existing == out else f"{option} {out}: {existing}"
        raise InputError(f"{what} is a file, not a folder; choose a folder for the results")
    try:
        handle, probe = tempfile.mkstemp(prefix=".ecny-write-test-", dir=existing)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise EnvironmentFault(
            f"{option} {out}: cannot write in {existing} ({exc.strerror or exc}); choose another folder"
        ) from None
    return out


def user_mode() -> int:
    """Permissions a new folder gets from this user's umask (``mkdtemp`` would make it 0700)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask
