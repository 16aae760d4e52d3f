"""The TUI shell: opens, shows the welcome panel, switches theme, quits with ctrl+q."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid

from tests.conftest import ROOT, require_lab
from tui.app import MxPilotApp


async def test_shell_opens_and_quits_with_ctrl_q() -> None:
    app = MxPilotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        text = str(app.screen.query_one("#welcome-text").content)
        assert "mxpilot probe" in text
        before = app.theme
        await pilot.press("f2")
        assert app.theme != before
        await pilot.press("ctrl+q")
    assert app.return_code == 0


def test_every_binding_has_an_id() -> None:
    assert all(binding.id for binding in MxPilotApp.BINDINGS)


def _tmux(*args: str) -> str:
    out = subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10, check=False)
    return out.stdout


def test_real_terminal_runs_and_quits() -> None:
    """A real terminal (tmux): the command opens the app; ctrl+q ends it."""
    require_lab(None if shutil.which("tmux") else "tmux is not installed (apt-get install tmux)")
    session = f"mxpilot-{uuid.uuid4().hex[:8]}"
    command = f"{sys.executable} -m mxpilot"
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "100",
            "-y",
            "30",
            "-c",
            str(ROOT),
            command,
        ],
        check=True,
        timeout=10,
    )
    try:
        screen = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "Accounts, live probes" not in screen:
            time.sleep(0.2)
            screen = _tmux("capture-pane", "-p", "-t", session)
        assert "Accounts, live probes" in screen, screen
        _tmux("send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 10
        alive = True
        while time.monotonic() < deadline and alive:
            time.sleep(0.2)
            alive = (
                subprocess.run(
                    ["tmux", "has-session", "-t", session],
                    capture_output=True,
                    timeout=10,
                    check=False,
                ).returncode
                == 0
            )
        assert not alive, "ctrl+q did not end the app"
    finally:
        subprocess.run(
            ["tmux", "kill-session", "-t", session], capture_output=True, timeout=10, check=False
        )
