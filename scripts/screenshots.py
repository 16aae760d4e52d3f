"""Render every screen of the app to SVG in screenshots/, against the offline demo lab.

The demo lab (mxlab.demo) and a fresh demo workspace give the same accounts,
checklist and server answers on every run (times and loopback ports differ).

Usage: .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mxlab.demo import DemoLab, create_demo_workspace  # noqa: E402
from mxlab.memory_keyring import MemoryKeyring  # noqa: E402
from tui.app import MxPilotApp  # noqa: E402
from workspace.secrets import SecretStore  # noqa: E402
from workspace.session import Workspace  # noqa: E402

SIZE = (100, 32)
SMALL = (80, 24)
PASTED_ERROR = (
    '{"level": "error", "msg": "send failed", "error": "(535, b\'5.7.139 Authentication '
    "unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit "
    "https://aka.ms/smtp_auth_disabled for more information.')\"}"
)

Step = Callable[[MxPilotApp, Any], Awaitable[None]]


async def settle(app: MxPilotApp, pilot: Any) -> None:
    """Wait for every worker, then for the screen to redraw."""
    await app.workers.wait_for_complete()
    await pilot.pause(0.3)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def checklist(app: MxPilotApp, pilot: Any) -> None:
    """Run every check, then move to an item with evidence."""
    await pilot.press("R")
    await settle(app, pilot)
    await pilot.press("down", "down")
    await pilot.pause()


async def accounts(app: MxPilotApp, pilot: Any) -> None:
    """The accounts table."""
    await pilot.press("1")
    await settle(app, pilot)


async def probes(app: MxPilotApp, pilot: Any) -> None:
    """Probe two accounts: one fails with 5.7.139."""
    await pilot.press("2")
    await pilot.pause()
    selection = app.screen.query_one("#probes-accounts")
    selection.select_all()
    await pilot.press("r")
    await settle(app, pilot)
    table = app.screen.query_one("#probes-table")
    table.focus()
    await pilot.pause()


async def dns(app: MxPilotApp, pilot: Any) -> None:
    """The domain's audit for the coexistence phase."""
    await pilot.press("3")
    await settle(app, pilot)
    await pilot.press("down")
    await pilot.pause()


async def explain(app: MxPilotApp, pilot: Any) -> None:
    """An error pasted from an application's log."""
    await pilot.press("e")
    await pilot.pause()
    app.screen.query_one("#explain-input").text = PASTED_ERROR
    await pilot.press("ctrl+r")
    await pilot.pause()


async def oauth_sign_in(app: MxPilotApp, pilot: Any) -> None:
    """ventas signing in with OAuth: the device code step, waiting for the user."""
    await pilot.press("1")
    await settle(app, pilot)
    await pilot.press("down", "down", "o")
    await pilot.pause(0.3)
    await pilot.press("ctrl+s")
    for _ in range(40):  # the code shows after one request to the lab's identity provider
        await pilot.pause(0.1)
        if app.screen.query_one("#oauth-waiting").user_code:
            break
    await pilot.pause(0.2)


SHOTS: list[tuple[str, Step, tuple[int, int], str]] = [
    ("checklist", checklist, SIZE, "textual-dark"),
    ("accounts", accounts, SIZE, "textual-dark"),
    ("probes", probes, SIZE, "textual-dark"),
    ("dns", dns, SIZE, "textual-dark"),
    ("explain", explain, SIZE, "textual-dark"),
    ("oauth-sign-in", oauth_sign_in, SIZE, "textual-dark"),
    ("checklist-80x24-light", checklist, SMALL, "textual-light"),
]


async def shoot(lab: DemoLab, directory: Path) -> list[Path]:
    """One SVG per entry of SHOTS, each on a fresh demo workspace."""
    saved: list[Path] = []
    out = ROOT / "screenshots"
    for number, (name, step, size, theme) in enumerate(SHOTS):
        secrets = SecretStore(MemoryKeyring())
        ws = create_demo_workspace(directory / f"ws{number}", lab, secrets)
        app = MxPilotApp(ws, lab.connection_settings(), demo=lab)
        async with app.run_test(size=size) as pilot:
            app.theme = theme
            await pilot.pause()
            await step(app, pilot)
            app.save_screenshot(filename=f"{name}.svg", path=str(out))
        ws.close()
        saved.append(out / f"{name}.svg")
    with Workspace.open(directory / "empty", SecretStore(MemoryKeyring())) as empty:
        app = MxPilotApp(empty)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.save_screenshot(filename="first-run.svg", path=str(out))
        saved.append(out / "first-run.svg")
    return saved


def main() -> int:
    """Start the demo lab, render the screens, stop the lab."""
    for old in (ROOT / "screenshots").glob("shell-*.svg"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp, DemoLab(Path(tmp) / "lab") as lab:
        for path in asyncio.run(shoot(lab, Path(tmp))):
            print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
