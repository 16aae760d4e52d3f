"""``mxpilot accounts list`` and ``show``: the workspace's accounts as a table, one in full."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from mxpilot.common import (
    EXIT_OK,
    print_json,
    say,
)
from render.text import one_line

if TYPE_CHECKING:
    from rich.text import Text

    from workspace.accounts.model import Account
    from workspace.session import Workspace


def account_view(ws: Workspace, account: Account) -> dict[str, Any]:
    """A JSON-ready view of an account (no secret: only whether one is stored)."""
    from workspace.auth.readiness import basic_auth_readiness

    last = ws.history.recent(1, account.name)
    return {
        "name": account.name,
        "address": account.address,
        "side": account.side.value,
        "provider": account.provider,
        "roles": [r.value for r in account.roles],
        "imap": account.imap.label if account.imap else None,
        "smtp": account.smtp.label if account.smtp else None,
        "username": account.login,
        "auth": account.auth.value,
        "notes": account.notes,
        "extra": account.extra,
        "secret": ws.accounts.secret_state(account).value,
        "last_probe": {"status": last[0].status, "at": last[0].started_at} if last else None,
        "oauth": _oauth_view(ws, account),
        "readiness": [f.to_dict() for f in basic_auth_readiness([account])],
    }


def _oauth_view(ws: Workspace, account: Account) -> dict[str, Any] | None:
    """The account's OAuth sign-in as it may be shown (no token), None without one."""
    status = ws.tokens.status(account)
    record = status.record
    if record is None:
        return None
    return {
        "state": status.state,
        "app": record.app.label,
        "signed_in_as": record.signed_in_as,
        "signed_in_at": record.signed_in_at,
        "scopes": list(record.granted_scopes),
    }


def list_accounts(ws: Workspace, args: argparse.Namespace) -> int:
    accounts = ws.accounts.list()
    status = ws.secrets.status()
    if args.json:
        payload = {
            "workspace": str(ws.path),
            "keyring": {"backend": status.name, "state": status.state.value},
            "accounts": [account_view(ws, a) for a in accounts],
        }
        print_json(payload)
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    console.print(Text("workspace: ").append_text(one_line(str(ws.path))))
    console.print(one_line(status.describe()))
    if not accounts:
        console.print("No accounts yet: 'mxpilot accounts add' or 'mxpilot accounts import-env'.")
        return EXIT_OK
    table = Table()
    table.add_column("Name", no_wrap=True)
    table.add_column("Address / roles", overflow="fold")
    table.add_column("Side", overflow="fold")
    table.add_column("Servers", overflow="fold")
    table.add_column("Secret", overflow="fold")
    table.add_column("Last probe", overflow="fold")
    for account in accounts:
        view = account_view(ws, account)
        servers = [one_line(f"{p.upper()} {view[p]}") for p in ("imap", "smtp") if view[p]]
        last = view["last_probe"]
        table.add_row(
            one_line(account.name),
            _two_lines(account.address, ", ".join(view["roles"])),
            _two_lines(view["side"], account.provider),
            Text("\n").join(servers) if servers else Text("—"),
            _two_lines(view["secret"], view["auth"]),
            _two_lines(str(last["status"]), str(last["at"])) if last else Text("—"),
        )
    console.print(table)
    from workspace.auth.readiness import basic_auth_readiness

    findings = basic_auth_readiness(accounts)
    if findings:
        broken = [f for f in findings if f.urgency.value == "broken"]
        coming = sorted(f.deadline.isoformat() for f in findings if f not in broken)
        parts = [f"{len(broken)} refused already"] if broken else []
        if coming:
            parts.append(f"{len(coming)} stop working by {coming[-1]}")
        console.print(
            Text.assemble(
                (f"{len(findings)} login(s) depend on Basic auth", "yellow"),
                f" ({', '.join(parts)}): 'mxpilot auth readiness' says what to do",
            )
        )
    return EXIT_OK


def _two_lines(first: str, second: str) -> Text:
    """A table cell: an (untrusted) value, and a dim second value below it."""
    cell = one_line(first)
    cell.append("\n")
    cell.append_text(one_line(second, style="dim"))
    return cell


def show_account(ws: Workspace, args: argparse.Namespace) -> int:
    account = ws.accounts.get(args.name)
    view = account_view(ws, account)
    runs = ws.history.recent(10, account.name)
    view["history"] = [
        {
            "id": r.id,
            "at": r.started_at,
            "status": r.status,
            "subject": r.subject,
            "summary": r.summary,
        }
        for r in runs
    ]
    view["since"] = {}
    for subject in dict.fromkeys(r.subject for r in runs):
        start = ws.history.streak_start(subject)
        if start is not None:
            state = "working" if start.status in ("pass", "warn") else "failing"
            view["since"][subject] = f"{state} since {start.started_at} (run #{start.id})"
    if args.json:
        print_json(view)
        return EXIT_OK
    for key in (
        "name",
        "address",
        "side",
        "provider",
        "roles",
        "imap",
        "smtp",
        "username",
        "auth",
        "secret",
        "notes",
    ):
        value = view[key]
        if isinstance(value, list):
            value = ", ".join(value)
        say(f"{key:>9}: {value if value else '—'}")
    for key, value in account.extra.items():
        say(f"{key:>9}: {value}")
    oauth = view["oauth"]
    if oauth:
        who = f", signed in as {oauth['signed_in_as']}" if oauth["signed_in_as"] else ""
        say(f"{'oauth':>9}: {oauth['state']}{who} ({oauth['app']})")
        if oauth["scopes"]:
            say(f"{'scopes':>9}: {' '.join(oauth['scopes'])}")
    for finding in view["readiness"]:
        say(f"  Basic auth, {finding['protocol'].upper()}: {finding['message']}")
        say(f"    way out: {finding['way_out']}")
    for subject, since in view["since"].items():
        say(f"  {subject}: {since}")
    for run in view["history"]:
        say(f"  #{run['id']} {run['at']} {run['status']:5} {run['subject']}: {run['summary']}")
    return EXIT_OK
