"""The Checklist screen's copy (``c``) puts a hostile address on the clipboard only quoted.

Accounts come in through the command line (``accounts add``, ``import-csv``)
into a workspace file the app then opens; a command whose value cannot be
quoted is not copied at all.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from mxlab.memory_keyring import MemoryKeyring
from tests.unit.test_safe_commands import ADDRESS, DASHED, SOURCE, assert_safe_sh
from tui.app import MxPilotApp
from tui.screens.checklist.screen import ChecklistScreen
from tui.widgets.checklist_commands import CommandList
from workspace.secrets import SecretStore
from workspace.session import Workspace

SIZE = (80, 24)
Cli = Callable[..., int]


@pytest.fixture
def cli(tmp_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``mxpilot --workspace TMP/ws ...`` in-process (stdin given); returns the exit code."""
    from mxpilot.cli import main

    folder = tmp_path / "ws"
    folder.mkdir()

    def run(*argv: str, stdin: str = "") -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return main(["--workspace", str(folder), *argv])

    return run


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    path = tmp_path / "sandbox"
    path.mkdir()
    return path


async def _go_to(pilot: Pilot[Any], item_id: str) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, ChecklistScreen), screen
    for _ in range(60):
        if screen.current_id == item_id:
            return
        await pilot.press("down")
    raise AssertionError(f"{item_id} not reached (at {screen.current_id})")


async def _copy_first_command(
    tmp_path: Path, keyring: MemoryKeyring, item_id: str, shown: list[str] | None = None
) -> MxPilotApp:
    """Open the app on the workspace, go to ``item_id``, press ``c``; ``shown`` gets the prompts."""
    workspace = Workspace.open(tmp_path / "ws" / "workspace.sqlite3", SecretStore(keyring))
    app = MxPilotApp(workspace)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await _go_to(pilot, item_id)
            await pilot.press("c")
            await pilot.pause()
            if shown is not None:
                shown += [prompt.plain for prompt in app.screen.query_one(CommandList).prompts]
    finally:
        workspace.close()
    return app


async def test_tui_copy_quotes_the_address(
    cli: Cli, memory_keyring: MemoryKeyring, tmp_path: Path, sandbox: Path
) -> None:
    assert cli(
        "accounts", "add", "evil", "--address", ADDRESS, "--side", "target",
        "--provider", "office365", "--no-password",
    ) == 0  # fmt: skip
    csv = tmp_path / "batch.csv"
    csv.write_text(f"EmailAddress,UserName,Password\nana@example.com,{SOURCE},pw-1234\n")
    assert cli("accounts", "import-csv", str(csv), "--yes") == 0
    assert cli("checklist", "new", "--domain", "example.com") == 0
    app = await _copy_first_command(tmp_path, memory_keyring, "enable-smtp-auth")
    assert app.clipboard == (
        "Set-CASMailbox -Identity 'a$b''c`touch${IFS}PWNED`|x&y@example.com' "
        "-SmtpClientAuthenticationDisabled $false"
    )
    app = await _copy_first_command(tmp_path, memory_keyring, "test-smtp")
    assert app.clipboard.startswith("mxpilot probe ")
    assert_safe_sh(app.clipboard, ADDRESS, sandbox)
    app = await _copy_first_command(tmp_path, memory_keyring, "gmail-app-passwords")
    assert_safe_sh(app.clipboard, SOURCE, sandbox)


async def test_tui_copy_refuses_an_unquotable_command(
    cli: Cli, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    assert cli(
        "accounts", "add", "dash", f"--address={DASHED}", "--side", "target",
        "--provider", "office365", "--no-password",
    ) == 0  # fmt: skip
    assert cli("checklist", "new", "--domain", "example.com") == 0
    shown: list[str] = []
    app = await _copy_first_command(tmp_path, memory_keyring, "test-smtp", shown)
    assert "oops" not in app.clipboard
    assert shown[0] == (
        "! This command is not shown: the mailbox address starts with '-', which the command "
        "would read as an option"
    )
