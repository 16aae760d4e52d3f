"""When the app itself fails: one line for the user, the details in a crash log.

Textual's default prints a full traceback with local variables on exit — in
the user's face, and a place where a password held in a local variable could
be shown. mxpilot writes the traceback, without locals, to a file in the user
log directory and prints one line that names it.
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime
from pathlib import Path


def crash_log_dir() -> Path:
    """Where crash logs go (the platform's user log directory)."""
    import platformdirs

    return Path(platformdirs.user_log_dir("mxpilot", appauthor=False))


def write_crash_log(error: BaseException, directory: Path | None = None) -> Path | None:
    """Write the traceback (no local variables) to a new file; None when that fails."""
    directory = directory or crash_log_dir()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"crash-{stamp}.log"
        text = "".join(traceback.format_exception(error, limit=40))
        path.write_text(text, encoding="utf-8")
    except OSError:
        return None
    return path


def crash_message(error: BaseException, log: Path | None) -> str:
    """The one line the user sees."""
    where = f"details in {log}" if log else "no crash log could be written"
    return (
        f"mxpilot: internal error: {error.__class__.__name__}: {error} ({where}). "
        "This is a bug; please report it."
    )
