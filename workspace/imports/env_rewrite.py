"""Rewriting a ``.env`` once its secrets are in the keyring: each secret line becomes a comment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from workspace.atomic_file import replace_file
from workspace.imports.dotenv import BOM, EnvFile, line_key, parse_env, split_lines


class EnvChangedError(ValueError):
    """The ``.env`` file changed since it was read; nothing was written."""


def _comment(key: str, text: str) -> str:
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    return f"# {key} moved to the OS keyring ({clean}) by mxpilot on {date.today().isoformat()}"


def rewrite_env(path: Path, env: EnvFile, moved: Mapping[str, str]) -> None:
    """Replace every definition of the ``moved`` keys by a comment, atomically.

    ``moved`` maps a key to where its secret went (``keyring service
    "mxpilot", account "controloc"``). Other lines stay byte-identical (line
    endings, BOM, final newline). The file is re-read first: when its lines
    differ from ``env`` it raises :class:`EnvChangedError` and writes nothing.
    The new text goes to a temporary file in the same directory (same mode,
    fsynced) that replaces the original; no backup copy is left behind.
    """
    real = Path(os.path.realpath(path))
    data = real.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise EnvChangedError(f"{path.name} is no longer UTF-8 text; nothing written") from None
    if parse_env(text).lines != env.lines:
        raise EnvChangedError(f"{path.name} changed since it was read; read it again")
    defined = {e.key for e in env.entries}
    missing = [key for key in moved if key not in defined]
    if missing:
        raise ValueError(f"{', '.join(missing)} not defined in {path.name}")
    if not moved:
        return
    bom = BOM if text.startswith(BOM) else ""
    out = [bom]
    for content, ending in split_lines(text[len(bom) :]):
        key = line_key(content)
        if key is not None and key in moved:
            content = _comment(key, moved[key])
        out.append(content + ending)
    replace_file(real, "".join(out).encode("utf-8"))
