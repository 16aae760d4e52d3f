"""End to end in a real terminal: tmux runs `mxpilot demo`, walks its screens, runs probes."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_lab

pytestmark = pytest.mark.timeout(90)


def tmux(*args: str) -> str:
    done = subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10, check=False)
    return done.stdout


def wait_for(session: str, *needles: str, seconds: float = 20) -> str:
    """The pane's text once every needle shows (bounded)."""
    screen = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", session)
        if all(needle in screen for needle in needles):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{needles} never showed; the screen:\n{screen}")


def start_demo(tmp_path: Path) -> tuple[str, Path]:
    """``mxpilot demo`` in a new 100x30 tmux session; its exit status goes to a file."""
    require_lab(None if shutil.which("tmux") else "tmux is not installed (apt-get install tmux)")
    session = f"mxpilot-demo-{uuid.uuid4().hex[:8]}"
    status = tmp_path / "exit-status"
    command = f"{shlex.quote(sys.executable)} -m mxpilot demo; echo $? > {shlex.quote(str(status))}"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", "-c", str(ROOT),
         "sh", "-c", command],
        check=True,
        timeout=10,
    )  # fmt: skip
    return session, status


def quit_demo(session: str, status: Path) -> None:
    """ctrl+q, then the exit status must be 0 (the app and the lab stopped cleanly)."""
    tmux("send-keys", "-t", session, "C-q")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not status.exists():
        time.sleep(0.2)
    assert status.read_text().strip() == "0"


def test_demo_in_a_real_terminal(tmp_path: Path) -> None:
    session, status = start_demo(tmp_path)
    try:
        wait_for(session, "DEMO", "Gmail to Microsoft 365", "demo.mxpilot.test")
        tmux("send-keys", "-t", session, "2")
        wait_for(session, "Accounts (space)", "alerts")
        tmux("send-keys", "-t", session, "Space")  # check the first account: alerts
        time.sleep(0.3)
        tmux("send-keys", "-t", session, "r")
        screen = wait_for(session, "FAIL", "5.7.139")
        assert "SMTP AUTH" in screen
        tmux("send-keys", "-t", session, "F9")  # demo: the admin turns SMTP AUTH on
        wait_for(session, "SMTP AUTH for the demo tenant is now on")
        tmux("send-keys", "-t", session, "r")
        wait_for(session, "PASS")
        quit_demo(session, status)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=10)


def test_demo_oauth_sign_in_in_a_real_terminal(tmp_path: Path) -> None:
    """ventas: its password fails (Basic auth off); signed in with OAuth, XOAUTH2 passes."""
    session, status = start_demo(tmp_path)
    try:
        wait_for(session, "DEMO", "Gmail to Microsoft 365")
        tmux("send-keys", "-t", session, "2")
        wait_for(session, "Accounts (space)", "ventas")
        tmux("send-keys", "-t", session, "Down", "Down", "Space")  # alerts, controloc, ventas
        time.sleep(0.3)
        tmux("send-keys", "-t", session, "r")
        wait_for(session, "ventas smtp", "FAIL", "5.7.139")  # Basic auth off: the password fails
        tmux("send-keys", "-t", session, "1")
        wait_for(session, "depend on Basic auth", "ventas")
        tmux("send-keys", "-t", session, "Down", "Down")
        wait_for(session, "ventas: SMTP", "OAuth app: microsoft")
        tmux("send-keys", "-t", session, "o")
        wait_for(session, "Sign in ventas", "Client id")
        tmux("send-keys", "-t", session, "C-s")
        screen = wait_for(session, "/devicelogin", "Waiting for the sign-in")
        assert re.search(r"[A-Z]{4}-[A-Z]{4}", screen)  # the code, shown large
        wait_for(session, "Signed in as ventas@demo.mxpilot.test", "in memory only")
        tmux("send-keys", "-t", session, "Escape")
        time.sleep(0.5)
        tmux("send-keys", "-t", session, "2")
        wait_for(session, "Accounts (space)")
        tmux("send-keys", "-t", session, "r")  # ventas is still checked
        screen = wait_for(session, "ventas smtp", "PASS")  # only an XOAUTH2 login can pass
        assert "5.7.139" not in screen
        quit_demo(session, status)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=10)
