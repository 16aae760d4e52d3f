"""``mxpilot accounts``: list, add, edit, remove and import the workspace's accounts."""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mxpilot.common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    confirm,
    open_workspace,
    parse_endpoint,
    print_json,
    say,
    workspace_option,
)
from mxpilot.import_commands import add_import_parsers, import_csv, import_env
from render.text import one_line, shown
from workspace.accounts.model import PROVIDERS

if TYPE_CHECKING:
    from rich.text import Text

    from workspace.accounts.model import Account
    from workspace.session import Workspace

ROLES = ("mailbox", "monitoring", "sender", "order-inbox", "migration")
SECURITY = ("tls", "starttls", "none")


def _account_fields(parser: argparse.ArgumentParser, editing: bool) -> None:
    default = argparse.SUPPRESS if editing else None
    parser.add_argument("--address", default=default, help="the e-mail address")
    parser.add_argument(
        "--side",
        choices=["source", "target", "service"],
        default=default,
        help="source (Gmail), target (Microsoft 365) or service (an application's mailbox)",
    )
    parser.add_argument(
        "--provider",
        choices=PROVIDERS,
        default=default,
        help="fills the servers the roles need (default: custom)",
    )
    parser.add_argument(
        "--role",
        action="append",
        choices=ROLES,
        default=default,
        help="what the account is for (repeat for several; default: mailbox)",
    )
    for proto, port in (("imap", 993), ("smtp", 587)):
        parser.add_argument(
            f"--{proto}",
            metavar="HOST[:PORT]",
            default=default,
            help=f"{proto.upper()} server (default port {port}); 'none' removes it",
        )
        parser.add_argument(
            f"--{proto}-security",
            choices=SECURITY,
            default=default,
            help="tls (implicit, 993/465), starttls (587/143) or none; default: from the port",
        )
    parser.add_argument("--username", default=default, help="login (default: the address)")
    parser.add_argument(
        "--auth",
        choices=["password", "app-password", "oauth"],
        default=default,
        help="how the account logs in (default: password)",
    )
    parser.add_argument("--notes", default=default, help="free text")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin (else a masked prompt asks)",
    )


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``accounts`` and its subcommands."""
    accounts = commands.add_parser(
        "accounts",
        help="the migration's mailboxes and service accounts (secrets in the OS keyring)",
        description="Accounts of the workspace. Passwords go to the OS keyring only.",
    )
    sub = accounts.add_subparsers(dest="action", metavar="ACTION", required=True)
    ws = workspace_option()

    listing = sub.add_parser("list", parents=[ws], help="every account, with keyring status")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    show = sub.add_parser("show", parents=[ws], help="one account and its last probes")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="machine-readable output")

    add = sub.add_parser("add", parents=[ws], help="create an account")
    add.add_argument("name", help="a short name: letters, digits, . _ -")
    _account_fields(add, editing=False)
    add.add_argument("--no-password", action="store_true", help="store no password now")

    edit = sub.add_parser("edit", parents=[ws], help="change an account")
    edit.add_argument("name")
    edit.add_argument("--rename", help="new name (its keyring entries stay with it)")
    _account_fields(edit, editing=True)
    edit.add_argument(
        "--set-password", action="store_true", help="store a new password in the keyring"
    )

    remove = sub.add_parser("remove", parents=[ws], help="delete an account and its secrets")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    add_import_parsers(sub, ws)

    sub.add_parser("keyring", parents=[ws], help="the keyring backend in use and its state")


def _ask_secret(args: argparse.Namespace, name: str, required: bool) -> str | None:
    if args.password_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
        if not secret:
            raise UsageError("empty password on stdin")
        return secret
    if sys.stdin.isatty():
        secret = getpass.getpass(
            f"Password for {shown(name)} (stored in the OS keyring; empty: none): "
        )
        if not secret and required:
            raise UsageError("empty password")
        return secret or None
    if required:
        raise UsageError("no terminal to ask the password: pipe it with --password-stdin")
    return None


def _apply_fields(account: Account, args: argparse.Namespace) -> Account:
    from workspace.accounts.model import AccountRole, AuthKind, Side

    values = vars(args)
    changes: dict[str, Any] = {}
    if values.get("address") is not None:
        changes["address"] = values["address"]
    if values.get("side") is not None:
        changes["side"] = Side(values["side"])
    if values.get("provider") is not None:
        changes["provider"] = values["provider"]
    if values.get("role") is not None:
        changes["roles"] = tuple(AccountRole(r) for r in values["role"])
    for proto in ("imap", "smtp"):
        security = values.get(f"{proto}_security")
        if values.get(proto) is not None:
            changes[proto] = parse_endpoint(values[proto], security, proto)
        elif security is not None:
            current = getattr(account, proto)
            if current is None:
                raise UsageError(f"--{proto}-security needs an {proto.upper()} server (--{proto})")
            changes[proto] = replace(current, security=_security(security))
    if values.get("username") is not None:
        changes["username"] = values["username"]
    if values.get("auth") is not None:
        changes["auth"] = AuthKind(values["auth"])
    if values.get("notes") is not None:
        changes["notes"] = values["notes"]
    return replace(account, **changes)


def _security(value: str) -> Any:
    from probes.mail.model import Security

    return Security(value)


def run_accounts_command(args: argparse.Namespace) -> int:
    """Run ``mxpilot accounts ...`` and return the exit code."""
    with open_workspace(args) as ws:
        handler = {
            "list": _list,
            "show": _show,
            "add": _add,
            "edit": _edit,
            "remove": _remove,
            "import-env": import_env,
            "import-csv": import_csv,
            "keyring": _keyring,
        }[args.action]
        return handler(ws, args)


def _keyring(ws: Workspace, args: argparse.Namespace) -> int:
    status = ws.secrets.status()
    say(status.describe())
    return EXIT_OK if status.ready else EXIT_FAILED


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


def _list(ws: Workspace, args: argparse.Namespace) -> int:
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


def _show(ws: Workspace, args: argparse.Namespace) -> int:
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


def _add(ws: Workspace, args: argparse.Namespace) -> int:
    from workspace.accounts.model import Account, AuthKind, validate, with_preset_endpoints

    if args.address is None:
        raise UsageError("accounts add needs --address")
    account = Account(name=args.name, address=args.address, provider=args.provider or "custom")
    account = _apply_fields(account, args)
    account = with_preset_endpoints(account)
    validate(replace(account, uid="check"))
    secret = None
    if account.auth is not AuthKind.OAUTH and not args.no_password:
        if args.password_stdin or sys.stdin.isatty():
            ws.secrets.require_ready()
        secret = _ask_secret(args, account.name, required=False)
    created = ws.accounts.add(account, secret)
    where = "password stored in the OS keyring" if secret else "no password stored"
    say(f"account {created.name} created ({where})")
    return EXIT_OK


def _edit(ws: Workspace, args: argparse.Namespace) -> int:
    account = ws.accounts.get(args.name)
    changed = _apply_fields(account, args)
    if args.rename:
        changed = replace(changed, name=args.rename)
    if changed != account:
        changed = ws.accounts.update(changed)
        say(f"account {changed.name} updated")
    if args.set_password or args.password_stdin:
        ws.secrets.require_ready()
        secret = _ask_secret(args, changed.name, required=True)
        assert secret is not None
        ws.accounts.set_secret(changed, secret)
        say(f"password of {changed.name} stored in the OS keyring")
    elif changed == account:
        say("nothing to change")
    return EXIT_OK


def _remove(ws: Workspace, args: argparse.Namespace) -> int:
    account = ws.accounts.get(args.name)
    if not confirm(args, f"Delete {account.name} and its secrets from the keyring?"):
        say("nothing deleted")
        return EXIT_OK
    ws.accounts.remove(account.name)
    say(f"account {account.name} deleted, with its keyring entries")
    return EXIT_OK
