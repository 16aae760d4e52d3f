"""``mxpilot accounts import-env`` and ``import-csv``: accounts from the files teams have."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mxpilot.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    confirm,
    parse_endpoint,
    say,
)
from workspace.accounts.model import PROVIDERS

if TYPE_CHECKING:
    from workspace.session import Workspace


def add_import_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], ws: argparse.ArgumentParser
) -> None:
    """Register ``import-env`` and ``import-csv`` under ``accounts``."""
    env = sub.add_parser(
        "import-env",
        parents=[ws],
        help="create accounts from a .env file and move its passwords to the keyring",
    )
    env.add_argument("file", type=Path)
    env.add_argument(
        "--side",
        choices=["source", "target", "service"],
        default="service",
        help="side of the created accounts (default service)",
    )
    env.add_argument(
        "--rewrite",
        action="store_true",
        help="then replace each password line in the file by a comment saying where it went",
    )
    env.add_argument("--dry-run", action="store_true", help="show the preview, change nothing")
    env.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    csv = sub.add_parser(
        "import-csv",
        parents=[ws],
        help="create source accounts from Microsoft's IMAP migration CSV",
    )
    csv.add_argument("file", type=Path)
    csv.add_argument(
        "--provider", choices=PROVIDERS, default="gmail", help="source provider (default gmail)"
    )
    csv.add_argument("--imap", metavar="HOST[:PORT]", help="source IMAP server (custom provider)")
    csv.add_argument("--dry-run", action="store_true", help="show the preview, change nothing")
    csv.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def import_env(ws: Workspace, args: argparse.Namespace) -> int:
    """``accounts import-env``: preview, create, move secrets, optionally rewrite."""
    from workspace.accounts.model import Side
    from workspace.imports.dotenv import read_env
    from workspace.imports.env_import import plan_env_import
    from workspace.imports.env_move import EnvMoveError, move_env_secrets

    try:
        env = read_env(args.file)
    except OSError as exc:
        raise UsageError(f"{args.file}: {exc.strerror or exc}") from None
    plan = plan_env_import(
        env, path=args.file, side=Side(args.side), existing_names=ws.accounts.names()
    )
    for problem in plan.problems:
        say(f"{args.file}:{problem.line}: {problem.message}", file=sys.stderr)
    for warning in plan.warnings:
        say(f"warning: {warning}", file=sys.stderr)
    if not plan.ok:
        say("nothing imported: fix the lines above first", file=sys.stderr)
        return EXIT_FAILED
    if not plan.accounts:
        say(f"no mail settings recognised in {args.file}")
        return EXIT_FAILED
    for line in plan.preview_lines():
        say(line)
    if args.dry_run:
        return EXIT_OK
    if any(p.secret for p in plan.accounts):
        ws.secrets.require_ready()
    if not confirm(args, f"Create {len(plan.accounts)} account(s)?"):
        say("nothing imported")
        return EXIT_OK
    try:
        moved = move_env_secrets(ws.accounts, args.file, env, plan, rewrite=args.rewrite)
    except EnvMoveError as exc:
        say(f"mxpilot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    say(f"{len(moved.created)} account(s) created; passwords moved to the OS keyring")
    if moved.rewritten:
        say(f"{args.file}: {moved.rewritten} secret line(s) replaced by a comment")
    return EXIT_OK


def import_csv(ws: Workspace, args: argparse.Namespace) -> int:
    """``accounts import-csv``: bad rows reported by line, good rows imported."""
    from workspace.accounts.book import ImportStopped, NewAccount
    from workspace.imports.migration_csv import plan_csv_accounts, read_migration_csv

    try:
        parsed = read_migration_csv(args.file)
    except OSError as exc:
        raise UsageError(f"{args.file}: {exc.strerror or exc}") from None
    for problem in parsed.problems:
        say(f"{args.file}:{problem.line}: {problem.message}", file=sys.stderr)
    imap = parse_endpoint(args.imap, None, "imap") if args.imap else None
    if args.provider == "custom" and imap is None:
        raise UsageError("--provider custom needs --imap HOST[:PORT]")
    planned = plan_csv_accounts(
        parsed, provider=args.provider, existing_names=ws.accounts.names(), imap=imap
    )
    for account, _ in planned:
        endpoint = account.imap.label if account.imap else "—"
        say(
            f"create source account {account.name} <{account.address}> IMAP {endpoint}; "
            "password -> keyring"
        )
    if parsed.problems:
        say(
            f"{len(parsed.problems)} bad row(s) not imported; {len(planned)} good row(s)",
            file=sys.stderr,
        )
    if not planned or args.dry_run:
        return EXIT_FAILED if parsed.problems or not planned else EXIT_OK
    ws.secrets.require_ready()
    if not confirm(args, f"Create {len(planned)} source account(s)?"):
        say("nothing imported")
        return EXIT_OK
    try:
        ws.accounts.add_in_batches(
            [NewAccount(account, secret) for account, secret in planned],
            on_progress=_progress_line,
        )
    except ImportStopped as exc:
        say(file=sys.stderr)
        say(f"mxpilot: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED if exc.interrupted else EXIT_FAILED
    if sys.stderr.isatty():
        say(file=sys.stderr)
    say(f"{len(planned)} account(s) created; passwords stored in the OS keyring")
    return EXIT_FAILED if parsed.problems else EXIT_OK


def _progress_line(done: int, total: int) -> None:
    """``imported N / M`` on stderr: one updating line on a terminal, a line a batch otherwise."""
    if sys.stderr.isatty():
        print(f"\rimported {done:,} / {total:,}", end="", file=sys.stderr, flush=True)
    elif done:
        say(f"imported {done:,} / {total:,}", file=sys.stderr)
