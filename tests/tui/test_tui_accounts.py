"""The Accounts screen: the table, the form (checked as you type), delete, .env and CSV imports."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import keyring.backends.fail
import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, DataTable, Input, Static

from probes.mail.model import Security
from tests.waits import settle
from tui.app import MxPilotApp
from tui.screens.accounts.delete import ConfirmDeleteScreen
from tui.screens.accounts.form import AccountFormScreen
from tui.screens.accounts.importing import ImportCsvScreen, ImportEnvScreen
from tui.screens.accounts.screen import AccountsScreen
from workspace.accounts.model import Account, AccountRole, MailEndpoint, Side
from workspace.secrets import SecretStore
from workspace.session import Workspace

SECRET = "K0ntr0l!OC#2025$Sys"
SEED_ENV = """\
# ==================== CORREO DE MONITOREO (IMAP) ====================
IMAP_HOST=outlook.office365.com
IMAP_PORT=993
IMAP_USERNAME=controloc@hotelsales.cl
IMAP_PASSWORD={secret}
IMAP_MAILBOX=INBOX
IMAP_USE_SSL=True

# ==================== CORREO DE ENVÍO (SMTP) ====================
SMTP_HOST=smtp.office365.com
SMTP_PORT=587
SMTP_USERNAME=controloc@hotelsales.cl
SMTP_PASSWORD={secret}
SMTP_FROM_EMAIL=controloc@hotelsales.cl
SMTP_FROM_NAME=Kontrol Travel - Administración
SMTP_USE_TLS=True

# ==================== CORREO DE RECEPCIÓN DE OC ====================
OC_INBOX_HOST=outlook.office365.com
OC_INBOX_PORT=993
OC_INBOX_USERNAME=controloc@hotelsales.cl
OC_INBOX_PASSWORD={secret}
OC_INBOX_MAILBOX=INBOX
OC_INBOX_USE_SSL=True
"""


async def open_accounts(app: MxPilotApp, pilot: Pilot[Any]) -> AccountsScreen:
    await pilot.press("1")
    await settle(app, pilot)
    assert isinstance(app.screen, AccountsScreen)
    return app.screen


async def type_into(app: MxPilotApp, pilot: Pilot[Any], selector: str, text: str) -> None:
    """Focus an input, clear it, type ``text`` key by key."""
    app.screen.query_one(selector, Input).focus()
    await pilot.press("end", "ctrl+u", *text)
    await pilot.pause()


def error(app: MxPilotApp, key: str) -> str:
    return str(app.screen.query_one(f"#form-error-{key}", Static).content)


def table_row(screen: AccountsScreen, name: str) -> dict[str, str]:
    """The row of account ``name``: column title (lower case) to the text shown."""
    table = screen.query_one("#accounts-table", DataTable)
    cells = table.get_row(name)
    return {str(key.value): str(cell) for key, cell in zip(table.columns, cells, strict=True)}


def stored_bytes(workspace: Workspace) -> bytes:
    """The SQLite file and its write-ahead log, as on disk."""
    path = workspace.path
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def target_account(name: str = "ops", address: str = "ops@example.com") -> Account:
    return Account(
        name=name,
        address=address,
        side=Side.TARGET,
        provider="office365",
        imap=MailEndpoint("outlook.office365.com", 993, Security.TLS),
        smtp=MailEndpoint("smtp.office365.com", 587, Security.STARTTLS),
    )


async def test_add_through_the_form_secret_only_in_keyring(
    workspace: Workspace, memory_keyring: Any
) -> None:
    workspace.checklists.create("m365.lab.test")
    app = MxPilotApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_accounts(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AccountFormScreen)
        save = app.screen.query_one("#form-save", Button)
        assert save.disabled
        await type_into(app, pilot, "#form-address", "ops@example.com")
        assert app.screen.query_one("#form-name", Input).value == "ops"  # suggested
        await type_into(app, pilot, "#form-password", SECRET)
        assert not save.disabled
        assert SECRET not in str(app.screen.query_one("#form-status", Static).content)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert table_row(screen, "ops") == {
            "name": "ops",
            "address": "ops@example.com",
            "keyring": "stored",
            "last probe": "—",
            "roles": "mailbox",
            "side": "target",
            "provider": "office365",
            "auth": "password",
        }
    account = workspace.accounts.get("ops")
    assert account.imap is not None and account.imap.host == "outlook.office365.com"
    assert list(memory_keyring.entries.values()) == [SECRET]
    assert SECRET.encode() not in stored_bytes(workspace)


async def test_validation_as_you_type(workspace: Workspace) -> None:
    workspace.checklists.create("m365.lab.test")
    app = MxPilotApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_accounts(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        save = app.screen.query_one("#form-save", Button)
        await type_into(app, pilot, "#form-name", "ops")
        await type_into(app, pilot, "#form-address", "no at")
        assert "is not an e-mail address" in error(app, "address")
        assert save.disabled
        await type_into(app, pilot, "#form-address", "o@x.io")
        assert error(app, "address") == ""
        assert not save.disabled
        await type_into(app, pilot, "#form-imap-host", "h.io")
        await type_into(app, pilot, "#form-imap-port", "70000")
        assert "out of range" in error(app, "imap-port")
        assert save.disabled
        assert "IMAP port" in str(app.screen.query_one("#form-status", Static).content)
        await type_into(app, pilot, "#form-imap-port", "143")
        assert error(app, "imap-port") == ""
        assert app.screen.query_one("#form-imap-security").value == "starttls"  # from the port
        assert not save.disabled
        await type_into(app, pilot, "#form-name", "a b")
        assert "letters, digits" in error(app, "name")
        assert save.disabled
        await pilot.press("ctrl+s")  # refused while invalid
        await settle(app, pilot)
        assert isinstance(app.screen, AccountFormScreen)
        await pilot.press("escape")
        await pilot.pause()
    assert workspace.accounts.list() == []


async def test_edit_an_account(workspace: Workspace) -> None:
    workspace.checklists.create("m365.lab.test")
    workspace.accounts.add(target_account())
    app = MxPilotApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_accounts(app, pilot)
        assert table_row(screen, "ops")["keyring"] == "missing"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AccountFormScreen)
        await type_into(app, pilot, "#form-address", "ops2@example.com")
        await type_into(app, pilot, "#form-name", "ops2")
        app.screen.query_one("#form-role-sender", Checkbox).value = True
        await pilot.pause()
        await pilot.click("#form-save")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountsScreen)
        row = table_row(screen, "ops2")
        assert (row["address"], row["roles"]) == ("ops2@example.com", "mailbox, sender")
    edited = workspace.accounts.get("ops2")
    assert edited.revision == 2 and edited.roles == (AccountRole.MAILBOX, AccountRole.SENDER)


async def test_delete_removes_the_keyring_entry(workspace: Workspace, memory_keyring: Any) -> None:
    workspace.checklists.create("m365.lab.test")
    workspace.accounts.add(target_account(), SECRET)
    assert memory_keyring.entries
    app = MxPilotApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_accounts(app, pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDeleteScreen)
        assert "keyring" in str(app.screen.query_one("#delete-warning", Static).content)
        await pilot.press("enter")  # the focus starts on "Keep it"
        await settle(app, pilot)
        assert workspace.accounts.names() == {"ops"}
        await pilot.press("d")
        await pilot.pause()
        await pilot.click("#delete-yes")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert screen.query_one("#accounts-table", DataTable).row_count == 0
    assert workspace.accounts.list() == []
    assert memory_keyring.entries == {}


async def test_import_seed_env_with_rewrite(
    workspace: Workspace, memory_keyring: Any, tmp_path: Path
) -> None:
    env = tmp_path / ".env"
    env.write_text(SEED_ENV.format(secret=SECRET), encoding="utf-8")
    workspace.checklists.create("hotelsales.cl")
    app = MxPilotApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_accounts(app, pilot)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ImportEnvScreen)
        run = app.screen.query_one("#import-run", Button)
        assert run.disabled
        app.screen.query_one("#import-path", Input).value = str(env)
        await pilot.press("enter")
        await settle(app, pilot)
        lines = str(app.screen.query_one("#import-lines", Static).content)
        assert "create account controloc <controloc@hotelsales.cl>" in lines
        assert "roles monitoring, sender, order-inbox" in lines
        assert "IMAP_PASSWORD (line 5)" in lines and "-> keyring" in lines
        assert SECRET not in lines
        assert not run.disabled
        app.screen.query_one("#import-rewrite", Checkbox).value = True
        await pilot.pause()
        await pilot.click("#import-run")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountsScreen)
        row = table_row(screen, "controloc")
        assert (row["roles"], row["keyring"]) == ("monitoring, sender, order-inbox", "stored")
    (account,) = workspace.accounts.list()
    assert account.roles == (AccountRole.MONITORING, AccountRole.SENDER, AccountRole.ORDER_INBOX)
    assert list(memory_keyring.entries.values()) == [SECRET]
    text = env.read_text(encoding="utf-8")
    assert SECRET not in text
    assert "# IMAP_PASSWORD moved to the OS keyring" in text
    assert SECRET.encode() not in stored_bytes(workspace)


async def test_csv_bad_row_is_named_by_line(
    workspace: Workspace, memory_keyring: Any, tmp_path: Path
) -> None:
    csv = tmp_path / "batch.csv"
    csv.write_text(
        "EmailAddress,UserName,Password\n"
        f"ana@hotelsales.cl,ana.ops@gmail.com,{SECRET}\n"
        "not-an-address,bob@gmail.com,pw-bob-123\n",
        encoding="utf-8",
    )
    workspace.checklists.create("hotelsales.cl")
    app = MxPilotApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_accounts(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ImportCsvScreen)
        app.screen.query_one("#import-path", Input).value = str(csv)
        await pilot.press("enter")
        await settle(app, pilot)
        problems = str(app.screen.query_one("#import-problems", Static).content)
        assert "line 3: EmailAddress 'not-an-address' is not an e-mail address" in problems
        assert "pw-bob-123" not in problems
        lines = str(app.screen.query_one("#import-lines", Static).content)
        assert "create source account ana.ops <ana.ops@gmail.com>" in lines
        assert "1 good row(s)" in str(app.screen.query_one("#import-warnings", Static).content)
        await pilot.click("#import-run")
        await settle(app, pilot)
        assert isinstance(app.screen, AccountsScreen)
    assert [a.name for a in workspace.accounts.list()] == ["ana.ops"]
    assert list(memory_keyring.entries.values()) == [SECRET]


async def test_no_keyring_refuses_passwords_with_the_advice(tmp_path: Path) -> None:
    secrets = SecretStore(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    env = tmp_path / ".env"
    env.write_text(SEED_ENV.format(secret=SECRET), encoding="utf-8")
    with Workspace.open(tmp_path / "ws.sqlite3", secrets) as ws:
        ws.checklists.create("m365.lab.test")
        app = MxPilotApp(ws)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_accounts(app, pilot)
            keyring_line = screen.query_one("#accounts-keyring", Static)
            assert "no keyring available" in str(keyring_line.content)
            await pilot.press("a")
            await pilot.pause()
            await type_into(app, pilot, "#form-address", "ops@example.com")
            save = app.screen.query_one("#form-save", Button)
            assert not save.disabled  # an account without a password can be saved
            await type_into(app, pilot, "#form-password", SECRET)
            message = error(app, "password")
            assert "no keyring available" in message and "gnome-keyring" in message
            assert SECRET not in message
            assert save.disabled
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert isinstance(app.screen, AccountFormScreen)
            await pilot.press("escape")
            await pilot.press("i")
            await pilot.pause()
            app.screen.query_one("#import-path", Input).value = str(env)
            await pilot.press("enter")
            await settle(app, pilot)
            blocked = str(app.screen.query_one("#import-blocked", Static).content)
            assert "need the OS keyring" in blocked and "gnome-keyring" in blocked
            assert app.screen.query_one("#import-run", Button).disabled
        assert ws.accounts.list() == []
    assert SECRET in env.read_text(encoding="utf-8")


def test_snapshot_two_accounts(
    workspace: Workspace, snap_compare: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AccountsScreen, "readiness_today", date(2026, 11, 21))  # "in 40 days"
    workspace.checklists.create("hotelsales.cl")
    source = Account(
        name="ventas",
        address="ventas@gmail.com",
        side=Side.SOURCE,
        provider="gmail",
        roles=(AccountRole.MIGRATION,),
        imap=MailEndpoint("imap.gmail.com", 993, Security.TLS),
    )
    workspace.accounts.add(source, SECRET)
    workspace.accounts.add(target_account("controloc", "controloc@hotelsales.cl"))
    app = MxPilotApp(workspace)

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_accounts(app, pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
