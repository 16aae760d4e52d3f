"""The app shell: screens by key and palette, first run, Explain, theme, quit (Pilot and tmux)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, TextArea

from tests.conftest import ROOT, require_lab
from tui.app import MxPilotApp
from tui.screens.accounts.screen import AccountsScreen
from tui.screens.checklist.screen import ChecklistScreen
from tui.screens.dns.screen import DnsScreen
from tui.screens.explain import ExplainScreen
from tui.screens.first_run import FirstRunScreen
from tui.screens.probes.screen import ProbesScreen
from workspace.session import Workspace


async def test_first_run_starts_a_migration(workspace: Workspace) -> None:
    app = MxPilotApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        create = app.screen.query_one("#first-run-create")
        assert create.disabled  # nothing typed yet
        app.screen.query_one("#first-run-domain", Input).value = "hotelsales.cl"
        app.screen.query_one("#first-run-source-address", Input).value = "not an address"
        await pilot.pause()
        assert create.disabled
        assert "address" in str(app.screen.query_one("#first-run-problem").content)
        app.screen.query_one("#first-run-source-address", Input).value = "ocx@gmail.com"
        app.screen.query_one("#first-run-target-address", Input).value = "controloc@hotelsales.cl"
        await pilot.pause()
        assert not create.disabled
        await pilot.click("#first-run-create")
        await pilot.pause()
        assert isinstance(app.screen, ChecklistScreen)
    assert workspace.checklists.names() == ["hotelsales.cl"]
    accounts = {a.name: a for a in workspace.accounts.list()}
    assert accounts["source"].imap is not None and accounts["source"].imap.host == "imap.gmail.com"
    assert accounts["target"].smtp is not None
    assert accounts["target"].smtp.host == "smtp.office365.com"


async def test_screens_by_key_explain_theme_and_quit(workspace: Workspace) -> None:
    workspace.checklists.create("hotelsales.cl")
    app = MxPilotApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ChecklistScreen)
        for key, screen in (("1", AccountsScreen), ("2", ProbesScreen), ("3", DnsScreen)):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, screen)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExplainScreen)
        app.screen.query_one(TextArea).text = (
            '{"error": "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication '
            'is disabled for the Tenant"}'
        )
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ExplainScreen)
        first = app.screen.commands[0]
        assert "SmtpClientAuthenticationDisabled" in first
        await pilot.press("enter")  # the commands list has the focus after explaining
        await pilot.pause()
        assert app.clipboard == first
        await pilot.press("escape")
        await pilot.pause()
        before = app.theme
        await pilot.press("f2")
        assert app.theme != before
        await pilot.press("ctrl+q")
    assert app.return_code == 0


def test_every_binding_has_an_id() -> None:
    from textual.binding import Binding

    from tui.screens.first_run import FirstRunScreen as First

    classes = [MxPilotApp, AccountsScreen, ProbesScreen, DnsScreen, ChecklistScreen]
    classes += [ExplainScreen, First]
    for cls in classes:
        for binding in cls.__dict__.get("BINDINGS", []):  # our own, not Textual's
            assert isinstance(binding, Binding) and binding.id, (cls.__name__, binding)


def _tmux(*args: str) -> str:
    out = subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10, check=False)
    return out.stdout


def test_real_terminal_runs_and_quits(tmp_path: Path) -> None:
    """A real terminal (tmux): the command opens the app on an empty workspace; ctrl+q ends it."""
    require_lab(None if shutil.which("tmux") else "tmux is not installed (apt-get install tmux)")
    session = f"mxpilot-{uuid.uuid4().hex[:8]}"
    command = f"{sys.executable} -m mxpilot --workspace {tmp_path}"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", "-c", str(ROOT),
         command],
        check=True,
        timeout=10,
    )  # fmt: skip
    try:
        screen = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "Start a migration" not in screen:
            time.sleep(0.2)
            screen = _tmux("capture-pane", "-p", "-t", session)
        assert "Start a migration" in screen, screen
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
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=10)


async def test_keys_are_remappable_by_binding_id(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('"app.explain" = "x"\n"app.screen.dns" = "f5"\n', encoding="utf-8")
    monkeypatch.setenv("MXPILOT_KEYMAP", str(keymap))
    workspace.checklists.create("hotelsales.cl")
    app = MxPilotApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, DnsScreen)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ExplainScreen)


async def test_a_broken_keymap_is_reported_not_fatal(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keymap = tmp_path / "keymap.toml"
    keymap.write_text("app.explain = = x\n", encoding="utf-8")
    monkeypatch.setenv("MXPILOT_KEYMAP", str(keymap))
    workspace.checklists.create("hotelsales.cl")
    app = MxPilotApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert any("not used" in str(n.message) for n in app._notifications)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExplainScreen)


def test_snapshot_first_run(snap_compare: Any, tmp_path: Path) -> None:
    from mxlab.memory_keyring import MemoryKeyring
    from workspace.secrets import SecretStore

    ws = Workspace.open(tmp_path / "ws.sqlite3", SecretStore(MemoryKeyring()))
    assert snap_compare(MxPilotApp(ws), terminal_size=(80, 24))
    ws.close()


def test_snapshot_explain(snap_compare: Any, tmp_path: Path) -> None:
    from mxlab.memory_keyring import MemoryKeyring
    from workspace.secrets import SecretStore

    ws = Workspace.open(tmp_path / "ws.sqlite3", SecretStore(MemoryKeyring()))
    ws.checklists.create("hotelsales.cl")

    async def paste(pilot: Any) -> None:
        await pilot.press("e")
        await pilot.pause()
        pilot.app.screen.query_one(TextArea).text = "535 5.7.3 Authentication unsuccessful"
        await pilot.press("ctrl+r")
        await pilot.pause()

    assert snap_compare(MxPilotApp(ws), terminal_size=(80, 24), run_before=paste)
    ws.close()


def test_an_app_crash_is_one_line_and_a_crash_log(tmp_path: Path) -> None:
    """A bug in a handler: no traceback (nor its local variables) on the terminal."""
    script = tmp_path / "crash.py"
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "from mxlab.memory_keyring import MemoryKeyring\n"
        "from tui.app import MxPilotApp\n"
        "from workspace.secrets import SecretStore\n"
        "from workspace.session import Workspace\n"
        "class Broken(MxPilotApp):\n"
        "    CSS_PATH = None\n"
        "    def action_explain(self):\n"
        "        password = 'hunter2-secret'\n"
        "        raise ValueError('boom')\n"
        "async def go(pilot):\n"
        "    await pilot.pause()\n"
        "    await pilot.press('escape', 'e')\n"
        "    await pilot.pause()\n"
        "ws = Workspace.open(Path(sys.argv[1]), SecretStore(MemoryKeyring()))\n"
        "Broken(ws).run(headless=True, size=(80, 24), auto_pilot=go)\n",
        encoding="utf-8",
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_STATE_HOME=str(tmp_path / "state"))
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "ws.sqlite3")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
        check=False,
    )
    output = done.stdout + done.stderr
    assert "internal error: ValueError: boom" in output, output[-2000:]
    assert "Traceback" not in output and "hunter2-secret" not in output
    logs = list(tmp_path.rglob("crash-*.log"))
    assert len(logs) == 1 and "ValueError: boom" in logs[0].read_text()
    assert "hunter2-secret" not in logs[0].read_text()
