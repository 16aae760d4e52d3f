"""The ``mxpilot`` command: the TUI with no arguments, headless subcommands otherwise.

Exit codes (documented in the README):

* 0 — every check passed (warnings allowed)
* 1 — a check failed (explain: nothing recognised)
* 2 — usage error (bad arguments, unreadable file)
* 3 — internal error (a bug: please report it)
* 130 — interrupted (ctrl+c)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad input from the user: printed as one clear line, exit code 2."""


def _default_lang() -> str:
    for name in ("MXPILOT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "es" if value.lower().startswith("es") else "en"
    return "en"


def workspace_option() -> argparse.ArgumentParser:
    """A parent parser giving a subcommand its own ``--workspace PATH``."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--workspace",
        type=Path,
        default=argparse.SUPPRESS,
        help="the workspace file or directory (default: $MXPILOT_WORKSPACE, else the user "
        "data directory)",
    )
    return parent


def add_connection_options(parser: argparse.ArgumentParser, timeout: float = 8.0) -> None:
    """The options every command that probes servers takes."""
    parser.add_argument(
        "--ca-file", type=Path, help="also trust this CA (PEM): lab, TLS inspection"
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="go on past a failed certificate check (results marked UNVERIFIED)",
    )
    parser.add_argument("--nameserver", help="resolve with this DNS server: IP[:PORT]")
    parser.add_argument(
        "--timeout",
        type=float,
        default=timeout,
        help=f"seconds for each network step (default {timeout:g})",
    )
    parser.add_argument(
        "--allow-plaintext-auth",
        action="store_true",
        help="send the password even without TLS (trusted networks and labs only)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mxpilot",
        description="Mailbox administration for Gmail -> Microsoft 365 migrations. "
        "Without a command, opens the terminal app.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--workspace",
        type=Path,
        default=None,
        help="the workspace file (default: $MXPILOT_WORKSPACE, else the user data directory)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    probe = commands.add_parser(
        "probe",
        parents=[workspace_option()],
        help="test a mail server: DNS, TCP, TLS, greeting, capabilities, login",
        description="Probe one server port, or every port of a provider preset (--preset).",
    )
    probe.add_argument("target", nargs="?", help="HOST[:PORT] (IPv6 as [ADDR]:PORT)")
    probe.add_argument("--port", type=int, help="port (default: from HOST:PORT, or 587/993)")
    probe.add_argument("--protocol", choices=["smtp", "imap"], help="default: from the port")
    probe.add_argument(
        "--security",
        choices=["auto", "tls", "starttls", "none"],
        default="auto",
        help="tls = implicit TLS (465/993), starttls (587/143), none, auto = find out (default)",
    )
    probe.add_argument(
        "--preset",
        help="probe every port of a provider: gmail, google-workspace, office365, outlook, "
        "yahoo, custom (with HOST)",
    )
    probe.add_argument(
        "--port-map",
        help="with --preset: non-standard ports, e.g. submission=2587,smtps=2465,imaps=2993",
    )
    probe.add_argument(
        "--account",
        help="probe a workspace account: its stored servers, its password from the keyring",
    )
    probe.add_argument("--user", help="username to log in with (usually the full address)")
    probe.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password (or OAuth token) from the first line of stdin; "
        "without it a masked prompt asks",
    )
    probe.add_argument(
        "--auth",
        choices=["auto", "plain", "login", "xoauth2"],
        default="auto",
        help="login mechanism (xoauth2 takes an OAuth access token as the secret)",
    )
    probe.add_argument("--inbox", action="store_true", help="IMAP: count messages in the mailbox")
    probe.add_argument("--mailbox", default="INBOX", help="IMAP mailbox for --inbox")
    add_connection_options(probe)
    probe.add_argument("--json", action="store_true", help="machine-readable output")
    from mxpilot.history_recorder import add_history_option

    add_history_option(probe)
    probe.add_argument("-v", "--verbose", action="store_true", help="show the transcripts")
    probe.add_argument("--lang", choices=["en", "es"], default=None, help="language of advice")

    from mxpilot.dns_command import add_parser as add_dns_parser

    add_dns_parser(commands)

    from mxpilot.accounts_command import add_parser as add_accounts_parser
    from mxpilot.auth_command import add_parser as add_auth_parser
    from mxpilot.checklist_command import add_parser as add_checklist_parser

    add_accounts_parser(commands)
    add_auth_parser(commands)
    add_checklist_parser(commands)
    from mxpilot.demo_command import add_parser as add_demo_parser

    add_demo_parser(commands)

    explain = commands.add_parser(
        "explain",
        help="explain an error message: cause and exact fix",
        description="Explain an error as you pasted it (log line, JSON blob, traceback). "
        "Without TEXT, reads stdin.",
    )
    explain.add_argument("text", nargs="*", help="the error text (default: stdin)")
    explain.add_argument("--mailbox", help="mailbox to put in the fix commands")
    explain.add_argument("--host", help="server host to put in the fix commands")
    explain.add_argument("--json", action="store_true", help="machine-readable output")
    explain.add_argument("--lang", choices=["en", "es"], default=None, help="language of advice")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the message
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    try:
        if args.version:
            from importlib.metadata import version

            print(f"mxpilot {version('mxpilot')}")
            return EXIT_OK
        if args.command is None:
            from tui.app import run_app

            return run_app(args.workspace)
        if getattr(args, "lang", None) is None:
            args.lang = _default_lang()
        if args.command == "probe":
            from mxpilot.probe_command import run_probe_command

            return run_probe_command(args)
        if args.command == "dns":
            from mxpilot.dns_command import run_dns_command

            return run_dns_command(args)
        if args.command == "explain":
            return _explain(args)
        if args.command == "accounts":
            from mxpilot.accounts_command import run_accounts_command

            return run_accounts_command(args)
        if args.command == "auth":
            from mxpilot.auth_command import run_auth_command

            return run_auth_command(args)
        if args.command == "checklist":
            from mxpilot.checklist_command import run_checklist_command

            return run_checklist_command(args)
        if args.command == "demo":
            from mxpilot.demo_command import run_demo_command

            return run_demo_command(args)
    except UsageError as exc:
        print(f"mxpilot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mxpilot: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # never a traceback in the user's face
        known = _workspace_failure(exc)
        if known is not None:
            print(f"mxpilot: {known[1]}", file=sys.stderr)
            return known[0]
        print(
            f"mxpilot: internal error: {exc.__class__.__name__}: {exc}\n"
            "This is a bug; please report it with the command you ran.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    parser.print_help()
    return EXIT_USAGE


def _workspace_failure(exc: Exception) -> tuple[int, str] | None:
    """Exit code and message for the workspace's own errors (a user problem, not a bug)."""
    if "workspace.store" not in sys.modules:
        return None
    from workspace.accounts.book import AccountConflict, AccountNotFound
    from workspace.accounts.model import AccountError
    from workspace.checklist.book import ChecklistError
    from workspace.secrets import SecretStoreError
    from workspace.store import StoreError

    if isinstance(exc, AccountError):
        lines = "\n".join(f"  {name}: {text}" for name, text in exc.problems.items())
        return EXIT_USAGE, f"the account is not valid:\n{lines}"
    if isinstance(exc, AccountNotFound | ChecklistError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str):
        return EXIT_USAGE, exc.args[0]
    if isinstance(exc, SecretStoreError | StoreError | AccountConflict):
        return EXIT_FAILED, str(exc)
    return None


def _explain(args: argparse.Namespace) -> int:
    from probes.diagnosis.explain import explain

    text = " ".join(args.text) if args.text else sys.stdin.read()
    if not text.strip():
        raise UsageError("nothing to explain: give the error text as arguments or on stdin")
    context: dict[str, str] = {}
    if args.mailbox:
        context["mailbox"] = args.mailbox
    if args.host:
        context["host"] = args.host
    found = explain(text, context or None, lang=args.lang)
    if args.json:
        payload: dict[str, Any] = {
            "findings": [d.to_dict() for d in found.findings],
            "fragments": found.fragments,
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        from rich.console import Console

        from render.diagnosis import diagnosis_block

        console = Console()
        if not found.findings:
            console.print("No known failure recognised in this text.")
        for diagnosis in found.findings:
            console.print(diagnosis_block(diagnosis, ""))
            console.print()
    return EXIT_OK if found.findings else EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
