"""The ``mxpilot`` command: the TUI with no arguments, headless subcommands otherwise.

The top of the CLI package: it builds the parser from every command's
``add_parser`` and dispatches to the command's ``run_*``. What the commands
share (exit codes, usage errors, the workspace, connection options) lives in
:mod:`mxpilot.common`; exit codes are documented there and in the README. The
app is imported only to launch it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mxpilot import (
    accounts_command,
    auth_command,
    checklist_command,
    demo_command,
    dns_command,
    explain_command,
    probe_command,
)
from mxpilot.common import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    default_lang,
    say,
    say_block,
)

COMMANDS = {
    "probe": (probe_command.add_parser, probe_command.run_probe_command),
    "dns": (dns_command.add_parser, dns_command.run_dns_command),
    "accounts": (accounts_command.add_parser, accounts_command.run_accounts_command),
    "auth": (auth_command.add_parser, auth_command.run_auth_command),
    "checklist": (checklist_command.add_parser, checklist_command.run_checklist_command),
    "demo": (demo_command.add_parser, demo_command.run_demo_command),
    "explain": (explain_command.add_parser, explain_command.run_explain_command),
}


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
    for add_parser, _ in COMMANDS.values():
        add_parser(commands)
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
            return _launch_app(args.workspace)
        if getattr(args, "lang", None) is None:
            args.lang = default_lang()
        if args.command in COMMANDS:
            _, run = COMMANDS[args.command]
            return run(args)
    except UsageError as exc:
        say(f"mxpilot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mxpilot: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # never a traceback in the user's face
        known = _workspace_failure(exc)
        if known is not None:
            say_block(f"mxpilot: {known[1]}", file=sys.stderr)
            return known[0]
        say(f"mxpilot: internal error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        say("This is a bug; please report it with the command you ran.", file=sys.stderr)
        return EXIT_INTERNAL
    parser.print_help()
    return EXIT_USAGE


def _launch_app(workspace: Path | None) -> int:
    """The terminal app (imported here only: the command line never needs it otherwise)."""
    from tui.app import run_app

    return run_app(workspace)


def _workspace_failure(exc: Exception) -> tuple[int, str] | None:
    """Exit code and message for the workspace's own errors (a user problem, not a bug)."""
    if "workspace.store" not in sys.modules:
        return None
    from render.text import shown
    from workspace.accounts.book import AccountConflict, AccountNotFound
    from workspace.accounts.model import AccountError
    from workspace.checklist.book import ChecklistError
    from workspace.secrets import SecretStoreError
    from workspace.store import StoreError

    if isinstance(exc, AccountError):
        lines = "\n".join(f"  {shown(name)}: {shown(text)}" for name, text in exc.problems.items())
        return EXIT_USAGE, f"the account is not valid:\n{lines}"
    if isinstance(exc, AccountNotFound | ChecklistError):
        return EXIT_USAGE, shown(exc)
    if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str):
        return EXIT_USAGE, shown(exc.args[0])
    if isinstance(exc, SecretStoreError | StoreError | AccountConflict):
        return EXIT_FAILED, shown(exc)
    return None


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
