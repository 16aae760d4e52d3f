"""``mxpilot accounts``: list, add, edit, remove and import the workspace's accounts."""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mxpilot.accounts_views import list_accounts, show_account
from mxpilot.common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    confirm,
    open_workspace,
    parse_endpoint,
    say,
    workspace_option,
)
from mxpilot.import_commands import add_import_parsers, import_csv, import_env
from render.text import shown
from workspace.accounts.model import PROVIDERS

if TYPE_CHECKING:
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
            "list": list_accounts,
            "show": show_account,
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
