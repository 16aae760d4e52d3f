"""Add or edit an account: compact fields checked as you type; the password goes to the keyring."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static

from render.text import plain
from tui.screens.accounts.draft import (
    SIDE_PROVIDER,
    AccountDraft,
    EndpointDraft,
    preset_hint,
    security_of_port,
)
from tui.screens.accounts.form_fields import FIELDS, REQUIRED, form_fields, status_message
from tui.screens.base import ReportsJobErrors
from workspace.accounts.book import AccountConflict, AccountNotFound
from workspace.accounts.model import (
    Account,
    AccountError,
    AccountRole,
    AuthKind,
    Side,
    account_name,
    unique_name,
)
from workspace.secrets import SecretStoreError
from workspace.store import StoreError

if TYPE_CHECKING:
    from workspace.session import Workspace


class AccountFormScreen(ReportsJobErrors, ModalScreen[str | None]):
    """Create an account, or edit one (``account``); dismissed with the saved name or None."""

    CSS_PATH = "account_form.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="account_form.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="account_form.cancel"),
    ]

    def __init__(
        self, workspace: Workspace, account: Account | None = None, focus: str = "name"
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.original = account
        self.start_focus = focus
        self.touched: set[str] = set()
        self.tried = False
        self.saving = False
        self.stored = False
        self.suggested = ""
        self.said: dict[str, str] = {}
        self.taken = workspace.accounts.names() - ({account.name.lower()} if account else set())
        self.keyring = workspace.secrets.status()

    @property
    def editing(self) -> bool:
        """True when an existing account is edited."""
        return self.original is not None

    def compose(self) -> ComposeResult:
        """The fields, two per line where they fit."""
        draft = AccountDraft.of(self.original) if self.original else AccountDraft()
        title = f"Edit account {self.original.name}" if self.original else "Add an account"
        password_hint = (
            "unchanged (type to replace)" if self.editing else "optional: OS keyring only"
        )
        if not self.keyring.ready:
            password_hint = "no usable OS keyring"
        with Vertical(id="form-dialog"):
            yield Static(title, id="form-title", markup=False)
            yield VerticalScroll(*form_fields(draft, password_hint), id="form-body")
            yield Static("", id="form-status", markup=False)
            with Horizontal(id="form-buttons"):
                yield Button("Save", variant="primary", id="form-save", compact=True)
                yield Button("Cancel", id="form-cancel", compact=True)

    def on_mount(self) -> None:
        """Fill the servers, check once, focus the first field."""
        draft = AccountDraft.of(self.original) if self.original else AccountDraft()
        for protocol, endpoint in (("imap", draft.imap), ("smtp", draft.smtp)):
            self.query_one(f"#form-{protocol}-host", Input).value = endpoint.host
            self.query_one(f"#form-{protocol}-port", Input).value = endpoint.port
            self.query_one(f"#form-{protocol}-security", Select).value = endpoint.security
        self.query_one("#form-password", Input).disabled = draft.auth is AuthKind.OAUTH
        self.check()
        self.query_one(f"#form-{self.start_focus}", Input).focus()

    # Reading the form.

    def _text(self, key: str) -> str:
        return self.query_one(f"#form-{key}", Input).value

    def _select(self, key: str) -> object:
        return self.query_one(f"#form-{key}", Select).value

    def draft(self) -> AccountDraft:
        """The fields as typed."""
        roles = tuple(
            role
            for role in AccountRole
            if self.query_one(f"#form-role-{role.value}", Checkbox).value
        )
        endpoints = {
            p: EndpointDraft(
                self._text(f"{p}-host"), self._text(f"{p}-port"), str(self._select(f"{p}-security"))
            )
            for p in ("imap", "smtp")
        }
        return AccountDraft(
            name=self._text("name"),
            address=self._text("address"),
            side=Side(str(self._select("side"))),
            provider=str(self._select("provider")),
            roles=roles,
            username=self._text("username"),
            auth=AuthKind(str(self._select("auth"))),
            notes=self._text("notes"),
            imap=endpoints["imap"],
            smtp=endpoints["smtp"],
        )

    def _secret(self) -> str:
        field = self.query_one("#form-password", Input)
        return "" if field.disabled else field.value

    def problems(self) -> tuple[Account | None, dict[str, str]]:
        """The account the form would save, or None and one message per field."""
        draft = self.draft()
        account, problems = draft.build(self.original)
        name = draft.name.strip()
        if "name" not in problems and name.lower() in self.taken:
            problems["name"] = f"an account named {name!r} exists"
        if self._secret() and not self.keyring.ready:
            problems["password"] = f"cannot be stored: {self.keyring.describe()}"
        return (None if problems else account), problems

    # Reacting to typing.

    def check(self, extra: dict[str, str] | None = None) -> bool:
        """Show each field's message, the status line and Save's state; True when valid."""
        account, problems = self.problems()
        problems.update(extra or {})
        shown = self.editing or self.tried
        for key in FIELDS:
            text = problems.get(key, "")
            if key in REQUIRED and not (shown or key in self.touched):
                text = ""
            self._say(f"form-error-{key}", text)
        status = self.query_one("#form-status", Static)
        status.set_class(bool(problems), "-invalid")
        message = status_message(problems, editing=self.editing, secret=bool(self._secret()))
        self._say("form-status", message)
        self.query_one("#form-save", Button).disabled = bool(problems) or self.saving
        return account is not None and not problems

    def _say(self, widget_id: str, text: str) -> None:
        """Show ``text`` in a message line, touching the layout only when it changes."""
        if self.said.get(widget_id) == text:
            return
        self.said[widget_id] = text
        widget = self.query_one(f"#{widget_id}", Static)
        widget.update(plain(text))
        if widget_id != "form-status":
            widget.display = bool(text)

    def _hints(self) -> None:
        draft = self.draft()
        for protocol in ("imap", "smtp"):
            host = self.query_one(f"#form-{protocol}-host", Input)
            host.placeholder = preset_hint(draft.provider, draft.roles, protocol)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        key = (event.input.id or "").removeprefix("form-")
        if key == "address" and not self.editing:
            self._suggest_name(event.value)
        if event.value and not (key == "name" and event.value == self.suggested):
            self.touched.add(key)
        if key.endswith("-port") and event.value.strip().isdigit():
            protocol = key.removesuffix("-port")
            security = security_of_port(protocol, int(event.value))
            if security is not None:
                self.query_one(f"#form-{protocol}-security", Select).value = security
        self.check()

    def _suggest_name(self, address: str) -> None:
        name = self.query_one("#form-name", Input)
        if name.value not in ("", self.suggested):
            return
        local = address.strip().partition("@")[0]
        self.suggested = unique_name(account_name(address), set(self.taken)) if local else ""
        name.value = self.suggested

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        if event.select.id == "form-side" and not self.editing:
            provider = SIDE_PROVIDER.get(Side(str(event.value)))
            if provider is not None:
                self.query_one("#form-provider", Select).value = provider
        if event.select.id == "form-auth":
            self.query_one("#form-password", Input).disabled = event.value == AuthKind.OAUTH
        self._hints()
        self.check()

    @on(Checkbox.Changed)
    def _toggled(self) -> None:
        self._hints()
        self.check()

    # Saving.

    @on(Input.Submitted)
    @on(Button.Pressed, "#form-save")
    def action_save(self) -> None:
        """Save when valid (the password straight to the keyring); else show every message."""
        if self.saving:
            return
        if not self.check():
            self.tried = True
            self.check()
            return
        account, _ = self.problems()
        assert account is not None
        self.saving = True
        self.check()
        self._say("form-status", "Saving…")
        self.run_worker(
            self._save(account, self._secret()),
            name="save account",
            group="account-form",
            exclusive=True,
            exit_on_error=False,
        )

    async def _save(self, account: Account, secret: str) -> None:
        book = self.workspace.accounts
        extra: dict[str, str] = {}
        try:
            if self.original is None:
                saved = await asyncio.to_thread(book.add, account, secret or None)
            else:
                if secret:
                    await asyncio.to_thread(self.workspace.secrets.require_ready)
                saved = self.original
                if account != self.original:
                    saved = await asyncio.to_thread(book.update, account)
                    self.original = saved
                    self.stored = True
                    self.taken = book.names() - {saved.name.lower()}
                if secret:
                    await asyncio.to_thread(book.set_secret, saved, secret)
        except AccountError as exc:
            self.tried = True
            extra = {k if k in FIELDS else "name": v for k, v in exc.problems.items()}
        except SecretStoreError as exc:
            extra = {"password": str(exc)}
        except (AccountConflict, AccountNotFound, StoreError) as exc:
            self.saving = False
            self.check()
            self._say("form-status", f"Not saved: {exc}")
            return
        else:
            self.dismiss(saved.name)
            return
        self.saving = False
        self.check(extra)

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        """Close; an edit stored before a failed password change still counts as saved."""
        if self.saving:
            return
        self.dismiss(self.original.name if self.original and self.stored else None)
