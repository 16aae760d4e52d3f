"""``mxpilot probe``: one target or a preset matrix, live table or JSON."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mxpilot.cli import EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, UsageError
from mxpilot.history_recorder import record_runs
from probes.mail.address import parse_port, split_host_port
from probes.mail.model import (
    AuthMethod,
    Credentials,
    PhaseFinished,
    PhaseStarted,
    ProbeEvent,
    ProbeFinished,
    ProbeResult,
    Protocol,
    Security,
    Target,
)
from probes.mail.presets import Role, preset
from probes.mail.resolve import Nameserver
from probes.mail.runner import ProbeOptions
from probes.mail.tls import TlsSettings
from probes.status import Status, worst
from workspace.connection import ConnectionSettings

if TYPE_CHECKING:
    from workspace.accounts.model import Account
    from workspace.session import Workspace

IMAP_PORTS = frozenset({143, 993})


def parse_host_port(text: str) -> tuple[str, int | None]:
    """Split ``HOST[:PORT]`` / ``[IPv6]:PORT``; raise UsageError when malformed."""
    try:
        return split_host_port(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _port(text: str | int) -> int:
    try:
        return parse_port(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _credentials(args: argparse.Namespace) -> Credentials | None:
    if not args.user:
        if args.password_stdin:
            raise UsageError("--password-stdin needs --user")
        return None
    if args.password_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        secret = getpass.getpass(f"Password for {args.user}: ")
    else:
        raise UsageError("no terminal to ask the password: pipe it with --password-stdin")
    if not secret:
        raise UsageError("empty password")
    return Credentials(args.user, secret, AuthMethod(args.auth))


def connection_settings(args: argparse.Namespace) -> ConnectionSettings:
    """The network options given on the command line, checked (UsageError otherwise)."""
    if args.timeout <= 0 or args.timeout > 600:
        raise UsageError("--timeout must be between 0 and 600 seconds")
    ca_file: Path | None = args.ca_file
    if ca_file is not None and not ca_file.is_file():
        raise UsageError(f"--ca-file {ca_file}: no such file")
    nameserver = None
    if args.nameserver:
        try:
            nameserver = Nameserver.parse(args.nameserver)
        except ValueError as exc:
            raise UsageError(f"--nameserver {args.nameserver!r}: {exc}") from None
    try:
        TlsSettings(ca_file=ca_file, insecure=args.insecure).verifying_context()
    except (OSError, ValueError) as exc:
        raise UsageError(f"--ca-file {ca_file}: not a usable PEM file ({exc})") from None
    return ConnectionSettings(
        ca_file=ca_file,
        nameserver=nameserver,
        timeout=args.timeout,
        insecure=args.insecure,
        allow_plaintext_auth=args.allow_plaintext_auth,
        https_port=getattr(args, "https_port", 443),
        lang=args.lang,
    )


def _options(args: argparse.Namespace) -> ProbeOptions:
    return connection_settings(args).probe_options()


def _port_map(text: str | None) -> dict[Role, int]:
    mapping: dict[Role, int] = {}
    if not text:
        return mapping
    for item in text.split(","):
        role, sep, port = item.partition("=")
        if not sep:
            raise UsageError(f"--port-map item {item!r} is not ROLE=PORT")
        try:
            mapping[Role(role.strip().lower())] = _port(port)
        except ValueError:
            roles = ", ".join(r.value for r in Role)
            raise UsageError(f"unknown role {role!r} in --port-map; roles: {roles}") from None
    return mapping


class LiveView:
    """Tracks events for the live table (TTY) or prints a line per finished probe."""

    def __init__(self, targets: list[Target], live: bool) -> None:
        self.targets = targets
        self.state: dict[Target, tuple[str, Status | None]] = {}
        self.live = live
        self.display: Any = None

    def __call__(self, event: ProbeEvent) -> None:
        from render.probe import live_table

        if isinstance(event, PhaseStarted):
            self.state[event.target] = (event.name.value + "…", None)
        elif isinstance(event, PhaseFinished):
            self.state[event.target] = (event.phase.title, None)
        elif isinstance(event, ProbeFinished):
            result = event.result
            failed = result.failure
            self.state[result.target] = (failed.title if failed else "done", result.status)
            if not self.live:
                print(f"{result.status.value.upper():5} {result.target.label}", file=sys.stderr)
        if self.display is not None:
            self.display.update(live_table(self.targets, self.state))


def run_probe_command(args: argparse.Namespace) -> int:
    """Run ``mxpilot probe`` and return its exit code."""
    options = _options(args)
    if args.account:
        return _run_account(args, options)
    if args.preset:
        return _run_matrix(args, options)
    if not args.target:
        raise UsageError("probe needs HOST[:PORT], or --preset NAME")
    host, port = parse_host_port(args.target)
    if args.port is not None:
        port = _port(args.port)
    protocol = Protocol(args.protocol) if args.protocol else None
    if port is None:
        port = 993 if protocol is Protocol.IMAP else 587
    if protocol is None:
        protocol = Protocol.IMAP if port in IMAP_PORTS else Protocol.SMTP
    credentials = _credentials(args)
    target = Target(
        host=host,
        port=port,
        protocol=protocol,
        security=Security(args.security),
        credentials=credentials,
        check_inbox=args.inbox,
        mailbox=args.mailbox,
    )
    from probes.mail.runner import run_probes

    results = _drive([target], lambda sink: run_probes([target], options, sink), args)
    record_runs(args, results)
    return _finish(results, [], args, {"probes": [r.to_dict() for r in results]})


def _run_account(args: argparse.Namespace, options: ProbeOptions) -> int:
    """Probe a workspace account's servers with its password from the keyring."""
    from mxpilot.accounts_command import open_workspace
    from probes.mail.runner import run_probes
    from workspace.accounts.targets import account_targets

    if args.target or args.preset or args.user:
        raise UsageError(
            "--account takes the servers and login from the account: drop HOST, --preset and --user"
        )
    with open_workspace(args) as ws:
        ws.use_connection(connection_settings(args))
        account = ws.accounts.get(args.account)
        secret = _login_secret(ws, account)
        protocols = [Protocol(args.protocol)] if args.protocol else None
        targets = account_targets(account, secret, protocols=protocols, check_inbox=args.inbox)
        if not targets:
            raise UsageError(f"account {account.name} has no server for that protocol")
        results = _drive(targets, lambda sink: run_probes(targets, options, sink), args)
        account_id = ws.accounts.account_id(account.name)
        for result in results:
            ws.history.record_probe(result, account_id=account_id, account_name=account.name)
    return _finish(results, [], args, {"probes": [r.to_dict() for r in results]})


def _login_secret(ws: Workspace, account: Account) -> str | None:
    """The account's password, or a fresh OAuth access token; None (and why) when missing."""
    secret, problem = asyncio.run(ws.tokens.login_secret_or_reason(account))
    if problem:
        print(f"mxpilot: {problem}; probing without logging in", file=sys.stderr)
    elif secret is None:
        print(
            f"mxpilot: no password for {account.name} in the keyring "
            f"({ws.secrets.status().describe()}); probing without logging in",
            file=sys.stderr,
        )
    return secret


def _run_matrix(args: argparse.Namespace, options: ProbeOptions) -> int:
    from probes.mail.matrix import MatrixResult, run_matrix

    try:
        chosen = preset(args.preset)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    if args.target:
        host, _ = parse_host_port(args.target)
        chosen = chosen.with_host(host)
    elif chosen.name == "custom":
        raise UsageError("--preset custom needs HOST")
    ports = _port_map(args.port_map)
    if ports:
        chosen = chosen.with_ports(ports)
    credentials = _credentials(args)
    targets = [e.target(credentials, args.inbox) for e in chosen.endpoints]
    holder: list[MatrixResult] = []

    async def go(sink: Any) -> list[ProbeResult]:
        matrix = await run_matrix(chosen, credentials, options, sink, check_inbox=args.inbox)
        holder.append(matrix)
        return matrix.results

    results = _drive(targets, go, args)
    record_runs(args, results)
    matrix = holder[0]
    return _finish(results, matrix.conclusions, args, matrix.to_dict())


def _drive(targets: list[Target], job: Any, args: argparse.Namespace) -> list[ProbeResult]:
    live = not args.json and sys.stdout.isatty()
    view = LiveView(targets, live)
    if not live:
        results: list[ProbeResult] = asyncio.run(job(view))
        return results
    from rich.live import Live

    from render.probe import live_table

    with Live(live_table(targets, view.state), refresh_per_second=8, transient=True) as display:
        view.display = display
        results = asyncio.run(job(view))
    return results


def _finish(
    results: list[ProbeResult],
    conclusions: list[Any],
    args: argparse.Namespace,
    payload: dict[str, Any],
) -> int:
    if args.json:
        payload["status"] = _overall(results, conclusions).value
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        from rich.console import Console

        from render.probe import results_block

        Console().print(results_block(results, conclusions, verbose=args.verbose))
    if any(p.kind == "internal.error" for r in results for p in r.phases):
        return EXIT_INTERNAL
    return EXIT_FAILED if _overall(results, conclusions) is Status.FAIL else EXIT_OK


def _overall(results: list[ProbeResult], conclusions: list[Any]) -> Status:
    statuses = [r.status for r in results] + [c.severity for c in conclusions]
    return worst(statuses, default=Status.PASS)
