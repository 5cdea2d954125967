"""A private runtime directory for files the workers share (the decision log's failure marker).

A predictable name in a world-writable directory (``/tmp``) lets any local user create or hold
the file first. The directory here is created with mode 0700 and, whoever created it, used only
if it is a real directory (not a symlink) owned by this process's user and closed to others.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


class RuntimeDirError(RuntimeError):
    """The runtime directory exists but is not private to this user."""


def default_runtime_dir() -> Path:
    """``$XDG_RUNTIME_DIR/hipaa-gate``, else ``<tmp>/hipaa-gate-<uid>``."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg) / "hipaa-gate"
    return Path(tempfile.gettempdir()) / f"hipaa-gate-{os.geteuid()}"


def private_runtime_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """``path`` (default ``default_runtime_dir()``), created 0700; refused unless private."""
    directory = Path(path) if path else default_runtime_dir()
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700, parents=False)
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode):
        raise RuntimeDirError(f"runtime directory {directory} is not a directory")
    if info.st_uid != os.geteuid():
        raise RuntimeDirError(f"runtime directory {directory} belongs to another user")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise RuntimeDirError(f"runtime directory {directory} is open to other users")
    return directory
