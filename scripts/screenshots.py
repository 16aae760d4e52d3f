"""Make the SVG screenshots in screenshots/ of the app's screens.

Usage: .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mxlab.memory_keyring import MemoryKeyring  # noqa: E402
from tui.app import MxPilotApp  # noqa: E402
from workspace.secrets import SecretStore  # noqa: E402
from workspace.session import Workspace  # noqa: E402

SIZES = {"80x24": (80, 24), "120x36": (120, 36)}


async def shoot_one(ws: Workspace, size: tuple[int, int], theme: str, name: str) -> Path:
    """Save one SVG of the app's first screen."""
    app = MxPilotApp(ws)
    path = ROOT / "screenshots" / name
    async with app.run_test(size=size) as pilot:
        app.theme = theme
        await pilot.pause()
        app.save_screenshot(filename=name, path=str(path.parent))
    return path


async def shoot() -> list[Path]:
    """Save one SVG per size and theme."""
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(Path(tmp), SecretStore(MemoryKeyring()))
        ws.checklists.create("example.com")
        for label, size in SIZES.items():
            for theme in ("textual-dark", "textual-light"):
                name = f"shell-{label}-{theme.removeprefix('textual-')}.svg"
                saved.append(await shoot_one(ws, size, theme, name))
        ws.close()
    return saved


if __name__ == "__main__":
    for path in asyncio.run(shoot()):
        print(path.relative_to(ROOT))
