"""Replacing a file in one step: a crash leaves the old file or the new one, never half."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, and rename it over.

    An existing file's mode (and owner, where allowed) carries over; the
    temporary file is removed on any error, so no stray copy is left behind.
    """
    info = os.stat(path) if path.exists() else None
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            if info is not None:
                os.chmod(name, stat.S_IMODE(info.st_mode))
                if hasattr(os, "chown"):
                    with contextlib.suppress(OSError):
                        os.chown(name, info.st_uid, info.st_gid)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    with contextlib.suppress(OSError):
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
