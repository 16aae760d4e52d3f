"""What every ``mxpilot`` command shares: exit codes, usage errors, the workspace, options.

The bottom of the CLI package: it imports no other ``mxpilot`` module, and
every command imports it. Exit codes (documented in the README):

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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from workspace.accounts.model import MailEndpoint
    from workspace.connection import ConnectionSettings
    from workspace.session import Workspace

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad input from the user: printed as one clear line, exit code 2."""


# Output: untrusted text is data ---------------------------------------------------------

SAY_LIMIT = 2_000
"""Characters of one printed line (a server reply quoted in it included); longer is cut."""


def say(
    text: object = "", *, file: TextIO | None = None, end: str = "\n", flush: bool = False
) -> None:
    """Print one line that may carry untrusted values (addresses, replies, paths, errors).

    The line is cut at :data:`SAY_LIMIT` characters (the cut is said) and every
    control character in it, newlines included, is visibly escaped
    (:func:`render.text.shown`), so a value can neither steer the terminal nor
    fake a line of its own. A line of several values is one ``say``; output of
    several lines is several calls (or :func:`say_block`).
    """
    from render.text import shown

    print(shown(text, SAY_LIMIT), file=file, end=end, flush=flush)


def say_block(text: object, *, file: TextIO | None = None) -> None:
    """Print multi-line text that may carry untrusted values: newlines kept, the rest escaped."""
    from render.text import REPLY_LIMIT, shown_block

    print(shown_block(text, REPLY_LIMIT * 4), file=file)


def print_json(payload: object, *, ensure_ascii: bool = False) -> None:
    """Print a ``--json`` document: every string through :func:`render.text.json_safe`.

    Still valid JSON with the same shape; C1 controls, bidi overrides and other
    unsafe characters (which ``json.dumps`` would write raw) are visibly escaped.
    """
    from render.text import json_safe

    print(json.dumps(json_safe(payload), ensure_ascii=ensure_ascii, indent=2))


def default_lang() -> str:
    """The language of advice from the environment (MXPILOT_LANG, then the locale)."""
    for name in ("MXPILOT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "es" if value.lower().startswith("es") else "en"
    return "en"


# The workspace ---------------------------------------------------------------------------


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


def open_workspace(args: argparse.Namespace) -> Workspace:
    """The workspace the arguments name (``--workspace``) or the default one."""
    from workspace.session import Workspace

    return Workspace.open(getattr(args, "workspace", None))


def add_history_option(parser: argparse.ArgumentParser) -> None:
    """``--no-history``: do not keep the results in the workspace."""
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="do not keep the results in the workspace history",
    )


def history_errors() -> tuple[type[Exception], ...]:
    """What opening or writing the history can fail with (a locked, full, unreadable file)."""
    import sqlite3

    from workspace.store import StoreError

    return (StoreError, OSError, sqlite3.Error)


def note_history_error(exc: Exception) -> None:
    """Keeping the history is best effort: a one-line note on stderr, never the result."""
    say(f"mxpilot: note: results not kept in the workspace history ({exc})", file=sys.stderr)


@contextmanager
def history_workspace(args: argparse.Namespace) -> Iterator[Workspace | None]:
    """The workspace to keep results in: None with ``--no-history`` or when it cannot open."""
    if getattr(args, "no_history", False):
        yield None
        return
    try:
        ws = open_workspace(args)
    except history_errors() as exc:
        note_history_error(exc)
        yield None
        return
    with ws:
        yield ws


def confirm(args: argparse.Namespace, question: str) -> bool:
    """``--yes``, or a y/N answer on the terminal (UsageError without one)."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(f"{question} — no terminal to ask: add --yes")
    from render.text import shown

    return input(f"{shown(question)} [y/N] ").strip().lower() in ("y", "yes", "s", "si", "sí")


# Servers and connections -------------------------------------------------------------------


def parse_host_port(text: str) -> tuple[str, int | None]:
    """Split ``HOST[:PORT]`` / ``[IPv6]:PORT``; raise UsageError when malformed."""
    from probes.mail.address import split_host_port

    try:
        return split_host_port(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def parse_port(text: str | int) -> int:
    """A port number, or UsageError."""
    from probes.mail.address import parse_port as port_of

    try:
        return port_of(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def parse_endpoint(text: str, security: str | None, protocol: str) -> MailEndpoint | None:
    """An account's server from ``HOST[:PORT]`` and ``--*-security`` (None for ``none``)."""
    from probes.mail.model import Protocol, Security
    from workspace.accounts.model import MailEndpoint, default_port

    if text.strip().lower() == "none":
        return None
    host, sep, digits = text.strip().rpartition(":")
    if sep and digits.isdigit() and "]" not in digits and ":" not in host:
        port: int | None = int(digits)  # out of range: validation names the field
    else:
        host, port = parse_host_port(text)
    if port is None:
        implied = security or ("tls" if protocol == "imap" else "starttls")
        port = default_port(Protocol(protocol), Security(implied))
    if security is None:
        security = "tls" if port in (993, 465) else "starttls"
    return MailEndpoint(host, port, Security(security))


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


def connection_settings(
    args: argparse.Namespace, *, max_timeout: float = 600.0
) -> ConnectionSettings:
    """The network options given on the command line, checked (UsageError otherwise).

    Reads ``--nameserver``, ``--ca-file``, ``--timeout``, ``--insecure``,
    ``--allow-plaintext-auth``, ``--lang`` and the lab's hidden ports; a command
    without one of them gets the default.
    """
    from probes.mail.resolve import Nameserver
    from probes.mail.tls import TlsSettings
    from workspace.connection import ConnectionSettings

    if args.timeout <= 0 or args.timeout > max_timeout:
        raise UsageError(f"--timeout must be between 0 and {max_timeout:g} seconds")
    ca_file: Path | None = getattr(args, "ca_file", None)
    if ca_file is not None and not ca_file.is_file():
        raise UsageError(f"--ca-file {ca_file}: no such file")
    nameserver = None
    text = getattr(args, "nameserver", None)
    if text:
        try:
            nameserver = Nameserver.parse(text)
        except ValueError as exc:
            raise UsageError(f"--nameserver {text!r}: {exc}") from None
    insecure = bool(getattr(args, "insecure", False))
    try:
        TlsSettings(ca_file=ca_file, insecure=insecure).verifying_context()
    except (OSError, ValueError) as exc:
        raise UsageError(f"--ca-file {ca_file}: not a usable PEM file ({exc})") from None
    return ConnectionSettings(
        ca_file=ca_file,
        nameserver=nameserver,
        timeout=args.timeout,
        insecure=insecure,
        allow_plaintext_auth=bool(getattr(args, "allow_plaintext_auth", False)),
        https_port=getattr(args, "https_port", 443),
        authoritative_port=getattr(args, "authoritative_port", None),
        lang=getattr(args, "lang", None) or default_lang(),
    )
