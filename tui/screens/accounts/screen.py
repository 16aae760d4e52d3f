"""The Accounts screen: every account with its keyring or OAuth status; add, edit, delete, import.

OAuth: o signs the highlighted account in (a dialog), O signs it out. A banner counts the
logins that still depend on Basic auth, and by when Microsoft or Google stop accepting them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Header, Static

from render.text import one_line, plain, shown
from tui.screens.accounts.oauth_state import (
    TOKEN_STYLES,
    oauth_lines,
    readiness_banner,
    readiness_lines,
    sign_out,
)
from tui.screens.base import MxScreen
from tui.widgets.footer import Footer
from workspace.auth.readiness import ReadinessFinding, basic_auth_readiness, platform_of

if TYPE_CHECKING:
    from workspace.accounts.model import Account
    from workspace.auth.token_keeper import TokenStatus
    from workspace.history import RunRecord
    from workspace.secrets import BackendStatus

# What matters most first: at 80 columns the keyring status and last probe stay in view.
COLUMNS = ("Name", "Address", "Keyring", "Last probe", "Roles", "Side", "Provider", "Auth")
SECRET_STYLES = {
    "stored": "green",
    "missing": "yellow",
    "backend unavailable": "bold red",
    **TOKEN_STYLES,
}
VERDICT_STYLES = {"pass": "green", "warn": "yellow", "fail": "red", "error": "red"}


@dataclass(frozen=True)
class AccountLine:
    """One row of the table: an account, its keyring (or OAuth) status and its last probe."""

    account: Account
    secret: str
    last: RunRecord | None
    token: TokenStatus | None = None


def _last_probe(last: RunRecord | None) -> Text:
    if last is None:
        return Text("—", style="dim")
    try:  # stored in UTC; shown in local time
        when = datetime.fromisoformat(last.started_at).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        when = last.started_at
    return Text.assemble(
        one_line(last.status, style=VERDICT_STYLES.get(last.status, "")), one_line(f" {when}")
    )


class AccountsScreen(MxScreen):
    """The migration's mailboxes and service accounts; secrets stay in the OS keyring."""

    TITLE = "Accounts"
    CSS_PATH = "accounts.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", id="accounts.add"),
        Binding("enter", "edit", "Edit", id="accounts.edit", priority=True),
        Binding("p", "password", "Password", id="accounts.password"),
        Binding("d,delete", "delete", "Delete", id="accounts.delete"),
        Binding("i", "import_env", "Import .env", id="accounts.import_env"),
        Binding("c", "import_csv", "Import CSV", id="accounts.import_csv"),
        Binding("r", "refresh", "Refresh", id="accounts.refresh"),
        Binding("o", "oauth_sign_in", "Sign in (OAuth)", id="accounts.oauth_sign_in"),
        Binding("O", "oauth_sign_out", "Sign out", id="accounts.oauth_sign_out"),
    ]
    readiness_today: date | None = None
    """The day Basic-auth deadlines count from (None: today); tests fix it."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, AccountLine] = {}
        self.loading_rows = False
        self.load_again = False
        self.pending_select: str | None = None
        self.findings: list[ReadinessFinding] = []

    def compose(self) -> ComposeResult:
        """Keyring status, the table, the highlighted account's servers, the keys."""
        yield Header()
        yield Static("", id="accounts-keyring", markup=False)
        yield Static("", id="accounts-readiness", markup=False)
        table: DataTable[object] = DataTable(
            id="accounts-table", cursor_type="row", zebra_stripes=True
        )
        for title in COLUMNS:
            table.add_column(title, key=title.lower())
        yield table
        with VerticalScroll(id="accounts-detail-box"):
            yield Static("", id="accounts-detail", markup=False)
        yield Footer()

    def on_screen_resume(self) -> None:
        """Fresh data whenever the screen is shown."""
        self.reload()

    # Loading.

    def reload(self, select: str | None = None) -> None:
        """Read the accounts again (keyring and history in a worker), keeping the cursor.

        Calls while a load runs are folded into one more load (the last ``select`` wins).
        """
        if select is not None:
            self.pending_select = select
        if self.loading_rows:
            self.load_again = True
            return
        self.loading_rows = True
        self.run_job(self._load, name="load accounts", group="accounts.load")

    def _collect(self) -> tuple[BackendStatus, list[AccountLine]]:
        from workspace.accounts.book import SecretState
        from workspace.accounts.model import AuthKind

        ws = self.workspace
        status = ws.secrets.status()
        lines = []
        for account in ws.accounts.list():
            last = ws.history.recent(1, account.name)
            secret = ws.accounts.secret_state(account).value
            token = ws.tokens.status(account)
            if account.auth is AuthKind.OAUTH and secret != SecretState.UNAVAILABLE:
                secret = token.state
            lines.append(AccountLine(account, secret, last[0] if last else None, token))
        return status, lines

    async def _load(self) -> None:
        try:
            self.load_again = True
            while self.load_again:
                self.load_again = False
                status, lines = await asyncio.to_thread(self._collect)
                select, self.pending_select = self.pending_select, None
                self._fill(status, lines, select)
        finally:
            self.loading_rows = False

    def _fill(self, status: BackendStatus, lines: list[AccountLine], select: str | None) -> None:
        keyring = self.query_one("#accounts-keyring", Static)
        keyring.update(one_line(status.describe()))
        keyring.set_class(not status.ready, "-unready")
        table = self.query_one("#accounts-table", DataTable)
        keep = select or self.selected_name()
        table.clear()
        self.lines = {line.account.name: line for line in lines}
        for line in lines:
            account = line.account
            table.add_row(
                one_line(account.name, style="bold"),
                one_line(account.address),
                Text(line.secret, style=SECRET_STYLES.get(line.secret, "")),
                _last_probe(line.last),
                one_line(", ".join(role.value for role in account.roles)),
                one_line(account.side.value),
                one_line(account.provider),
                one_line(account.auth.value),
                key=account.name,
            )
        table.border_title = f"{len(lines)} account(s)"
        today = self.readiness_today or date.today()
        self.findings = basic_auth_readiness([line.account for line in lines], today)
        banner = self.query_one("#accounts-readiness", Static)
        banner.update(plain(readiness_banner(self.findings, today)))
        banner.display = bool(self.findings)
        if keep in self.lines:
            table.move_cursor(row=table.get_row_index(keep))
        self.show_detail()

    # The highlighted account.

    def selected_name(self) -> str | None:
        """The name of the highlighted account, None when the table is empty."""
        table = self.query_one("#accounts-table", DataTable)
        if table.row_count == 0:
            return None
        row_key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key
        return str(row_key.value)

    def show_detail(self) -> None:
        """Servers, login and notes of the highlighted account (or what to do first)."""
        detail = self.query_one("#accounts-detail", Static)
        name = self.selected_name()
        line = self.lines.get(name) if name else None
        if line is None:
            detail.update(
                "No accounts yet: a adds one, i imports an application's .env, "
                "c imports Microsoft's migration CSV."
            )
            return
        account = line.account
        endpoints = (("IMAP", account.imap), ("SMTP", account.smtp))
        parts = [f"{p} {e.label}" for p, e in endpoints if e] + [f"login {account.login}"]
        text = f"{account.name}: " + " · ".join(parts)
        if account.notes:
            text += f"\n{account.notes}"
        extra = readiness_lines(self.findings, account.name)
        if line.token is not None and (line.token.record or account.auth.value == "oauth"):
            extra = oauth_lines(line.token) + extra
        detail.update(plain("\n".join([text, *extra])))

    def on_data_table_row_highlighted(self) -> None:
        """Follow the cursor in the detail line."""
        self.show_detail()

    def on_data_table_row_selected(self) -> None:
        """Enter on a row edits it."""
        self.action_edit()

    def _selected_account(self) -> Account | None:
        from workspace.accounts.book import AccountNotFound

        name = self.selected_name()
        if name is None:
            self.notify("No account yet: press a to add one.", title="Accounts")
            return None
        try:
            return self.workspace.accounts.get(name)
        except AccountNotFound:
            self.notify(
                shown(f"{name} no longer exists."),
                title="Accounts",
                severity="warning",
                markup=False,
            )
            self.reload()
            return None

    # Actions.

    def _saved(self, name: str | None) -> None:
        if name:
            self.notify(shown(f"Account {name} saved."), title="Accounts", markup=False)
            self.reload(select=name)

    def action_add(self) -> None:
        """Open the form for a new account."""
        from tui.screens.accounts.form import AccountFormScreen

        self.app.push_screen(AccountFormScreen(self.workspace), self._saved)

    def action_edit(self) -> None:
        """Open the form on the highlighted account."""
        from tui.screens.accounts.form import AccountFormScreen

        account = self._selected_account()
        if account is not None:
            self.app.push_screen(AccountFormScreen(self.workspace, account), self._saved)

    def action_password(self) -> None:
        """Set the highlighted account's password (the form, on its password field)."""
        from tui.screens.accounts.form import AccountFormScreen
        from workspace.accounts.model import AuthKind

        account = self._selected_account()
        if account is not None and account.auth is AuthKind.OAUTH:
            self.notify(
                shown(f"{account.name} signs in with OAuth: no password."),
                title="Accounts",
                markup=False,
            )
        elif account is not None:
            form = AccountFormScreen(self.workspace, account, focus="password")
            self.app.push_screen(form, self._saved)

    def action_delete(self) -> None:
        """Ask, then delete the highlighted account and its keyring entries."""
        from tui.screens.accounts.delete import ConfirmDeleteScreen

        account = self._selected_account()
        if account is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                remove = partial(self._remove, account.name)
                self.run_job(remove, name="delete account", group="accounts.change")

        self.app.push_screen(ConfirmDeleteScreen(account.name, account.address), answered)

    async def _remove(self, name: str) -> None:
        await asyncio.to_thread(self.workspace.accounts.remove, name)
        self.notify(
            shown(f"Account {name} deleted, with its keyring entries."),
            title="Accounts",
            markup=False,
        )
        self.reload()

    def _imported(self, summary: str | None) -> None:
        if summary:
            self.notify(summary, title="Import", timeout=10)
            self.reload()

    def action_import_env(self) -> None:
        """Import an application's .env: preview, then create and move the passwords."""
        from tui.screens.accounts.importing import ImportEnvScreen

        self.app.push_screen(ImportEnvScreen(self.workspace), self._imported)

    def action_import_csv(self) -> None:
        """Import Microsoft's migration CSV: preview, then create the source accounts."""
        from tui.screens.accounts.importing import ImportCsvScreen

        self.app.push_screen(ImportCsvScreen(self.workspace), self._imported)

    def action_refresh(self) -> None:
        """Read everything again."""
        self.reload()

    # OAuth.

    def action_oauth_sign_in(self) -> None:
        """Sign the highlighted account in with OAuth (device code or browser)."""
        from tui.screens.accounts.oauth_sign_in import OAuthSignInScreen

        account = self._selected_account()
        if account is None:
            return
        line = self.lines.get(account.name)
        record = line.token.record if line and line.token else None
        saved = record.app if record else None
        dialog = OAuthSignInScreen(self.workspace, account, saved, self.settings.lang)
        self.app.push_screen(dialog, lambda _: self.reload(select=account.name))

    def action_oauth_sign_out(self) -> None:
        """Ask, then sign the highlighted account out (the keyring entry goes)."""
        from tui.screens.accounts.oauth_sign_in import ConfirmSignOutScreen

        account = self._selected_account()
        if account is None:
            return
        line = self.lines.get(account.name)
        if line is None or line.token is None or not line.token.has_refresh_token:
            self.notify(
                shown(f"{account.name} is not signed in with OAuth."),
                title="Sign out",
                markup=False,
            )
            return
        platform = line.token.record.app.platform.value if line.token.record else ""
        platform = platform or platform_of(account)

        async def run() -> None:
            message, severity = await sign_out(self.workspace, account, platform)
            self.notify(
                shown(message), title="Sign out", severity=severity, timeout=12, markup=False
            )
            self.reload(select=account.name)

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_job(run, name="sign out", group="accounts.change")

        self.app.push_screen(ConfirmSignOutScreen(account, platform), answered)
