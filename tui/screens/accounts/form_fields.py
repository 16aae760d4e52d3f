"""The account form's fields: how they are laid out, which messages go under them, the status line.

Plain builders and words, no behaviour: :mod:`tui.screens.accounts.form` reads
the fields, checks them as they are typed and saves.
"""

from __future__ import annotations

from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static

from tui.screens.accounts.draft import AccountDraft
from workspace.accounts.model import PROVIDERS, AccountRole, AuthKind, Side

SECURITIES = [("tls", "tls"), ("starttls", "starttls"), ("none", "none")]
# Error keys (as AccountError names them) and the words the status line uses for them.
FIELDS = {
    "name": "name",
    "address": "address",
    "provider": "provider",
    "roles": "roles",
    "username": "username",
    "password": "password",
    "notes": "notes",
    **{
        f"{p}-{part}": f"{p.upper()} {part}"
        for p in ("imap", "smtp")
        for part in ("host", "port", "security")
    },
}
REQUIRED = ("name", "address")


def error_line(key: str) -> Static:
    """Where the message about field ``key`` shows (hidden while empty)."""
    return Static("", id=f"form-error-{key}", classes="form-error", markup=False)


def field_cell(label: str, widget: Widget, *keys: str) -> Vertical:
    """A label and its input on one line, each key's message under them."""
    return Vertical(
        Horizontal(Label(label, classes="form-label"), widget, classes="form-field"),
        *(error_line(key) for key in keys),
        classes="form-cell",
    )


def endpoint_row(protocol: str) -> Vertical:
    """A server's host, port and security on one line (full width), their messages under it."""
    row = Horizontal(
        Label(protocol.upper(), classes="form-label"),
        Input(id=f"form-{protocol}-host", compact=True, classes="form-host"),
        Label("port", classes="form-port-label"),
        Input(id=f"form-{protocol}-port", compact=True, classes="form-port", max_length=5),
        Select(
            SECURITIES,
            allow_blank=False,
            compact=True,
            id=f"form-{protocol}-security",
            classes="form-security",
        ),
        classes="form-field",
    )
    keys = (f"{protocol}-host", f"{protocol}-port", f"{protocol}-security")
    return Vertical(row, *(error_line(k) for k in keys), classes="form-cell form-wide")


def _select(options: list[tuple[str, object]], value: object, key: str) -> Select[object]:
    return Select(options, value=value, allow_blank=False, compact=True, id=f"form-{key}")


def form_fields(draft: AccountDraft, password_hint: str) -> list[Widget]:
    """Every field filled from ``draft``, two per line where they fit (servers: on mount)."""
    roles = Horizontal(
        Label("Roles", classes="form-label"),
        *(
            Checkbox(role.value, role in draft.roles, compact=True, id=f"form-role-{role.value}")
            for role in AccountRole
        ),
        classes="form-field",
        id="form-roles",
    )
    address = Input(draft.address, id="form-address", compact=True, placeholder="user@example.com")
    username = Input(draft.username, id="form-username", compact=True, placeholder="(the address)")
    password = Input(id="form-password", password=True, compact=True, placeholder=password_hint)
    return [
        Horizontal(
            field_cell("Name", Input(draft.name, id="form-name", compact=True), "name"),
            field_cell("Address", address, "address"),
            classes="form-row",
        ),
        Horizontal(
            field_cell("Side", _select([(s.value, s) for s in Side], draft.side, "side")),
            field_cell(
                "Provider",
                _select([(p, p) for p in PROVIDERS], draft.provider, "provider"),
                "provider",
            ),
            classes="form-row",
        ),
        Vertical(roles, error_line("roles"), classes="form-cell form-wide"),
        Horizontal(
            field_cell("Username", username, "username"),
            field_cell("Auth", _select([(a.value, a) for a in AuthKind], draft.auth, "auth")),
            classes="form-row",
        ),
        Horizontal(
            field_cell("Password", password),
            field_cell("Notes", Input(draft.notes, id="form-notes", compact=True), "notes"),
            classes="form-row",
        ),
        # Full width: when the keyring cannot store it, the advice takes some lines.
        error_line("password"),
        endpoint_row("imap"),
        endpoint_row("smtp"),
    ]


def status_message(problems: dict[str, str], *, editing: bool, secret: bool) -> str:
    """The line above the buttons: what to check, or what Save will do."""
    if problems:
        names = [FIELDS.get(k, k) for k in FIELDS if k in problems]
        return "Not ready to save: check " + ", ".join(names)
    if editing:
        replaces = "; the new password replaces the one in the OS keyring"
        return "Save (ctrl+s) stores the changes" + (replaces if secret else "")
    stored = (
        "the password goes to the OS keyring only"
        if secret
        else "no password stored (add it later with p)"
    )
    return f"Save (ctrl+s) creates the account; {stored}"
