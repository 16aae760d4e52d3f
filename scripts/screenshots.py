"""Make the SVG screenshots in screenshots/ of every screen of the app.

Usage: .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui.app import MxPilotApp  # noqa: E402

SIZES = {"80x24": (80, 24), "120x36": (120, 36)}


async def shoot() -> list[Path]:
    """Save one SVG per screen, size and theme."""
    saved: list[Path] = []
    for label, size in SIZES.items():
        for theme in ("textual-dark", "textual-light"):
            app = MxPilotApp()
            async with app.run_test(size=size) as pilot:
                app.theme = theme
                await pilot.pause()
                name = f"shell-{label}-{theme.removeprefix('textual-')}.svg"
                path = ROOT / "screenshots" / name
                app.save_screenshot(filename=name, path=str(path.parent))
                saved.append(path)
    return saved


if __name__ == "__main__":
    for path in asyncio.run(shoot()):
        print(path.relative_to(ROOT))
