"""The user's own keys: a TOML file mapping binding ids to keys.

``~/.config/mxpilot/keymap.toml`` on Linux (the platform's user config
directory elsewhere), or ``$MXPILOT_KEYMAP``; for example::

    "app.explain" = "x"
    "checklist.toggle" = "enter,space"

Every binding of the app has an id (shown with ``mxpilot``'s bindings in the
README); a file that cannot be read is reported, never fatal.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path


def keymap_path() -> Path:
    """Where the keymap file is looked for."""
    configured = os.environ.get("MXPILOT_KEYMAP")
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("mxpilot", appauthor=False)) / "keymap.toml"


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str]:
    """The binding-id -> keys mapping, and a problem to show (empty when fine)."""
    path = path or keymap_path()
    if not path.is_file():
        return {}, ""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, f"{path}: not used ({exc})"
    keymap = {str(k): v for k, v in data.items() if isinstance(v, str) and v.strip()}
    ignored = sorted(set(data) - set(keymap))
    problem = f"{path}: ignored {', '.join(ignored)} (give keys as text)" if ignored else ""
    return keymap, problem
