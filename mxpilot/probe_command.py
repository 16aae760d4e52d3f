"""``mxpilot probe``: one target or a preset matrix, live table or JSON."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import TYPE_CHECKING, Any

from mxpilot.common import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_OK,
    UsageError,
    add_connection_options,
    add_history_option,
    connection_settings,
    history_errors,
    history_workspace,
    note_history_error,
    open_workspace,
    parse_host_port,
    parse_port,
    print_json,
    say,
    workspace_option,
)
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
from probes.status import Status, worst
from render.text import shown

if TYPE_CHECKING:
    from collections.abc import Sequence

    from probes.mail.runner import ProbeOptions
    from workspace.session import Workspace
    from workspace.usecases.probe_accounts import ProbePlan

IMAP_PORTS = frozenset({143, 993})


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``probe`` and its options."""
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
    add_history_option(probe)
    probe.add_argument("-v", "--verbose", action="store_true", help="show the transcripts")
    probe.add_argument("--lang", choices=["en", "es"], default=None, help="language of advice")


def _credentials(args: argparse.Namespace) -> Credentials | None:
    if not args.user:
        if args.password_stdin:
            raise UsageError("--password-stdin needs --user")
        return None
    if args.password_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        secret = getpass.getpass(f"Password for {shown(args.user)}: ")
    else:
        raise UsageError("no terminal to ask the password: pipe it with --password-stdin")
    if not secret:
        raise UsageError("empty password")
    return Credentials(args.user, secret, AuthMethod(args.auth))


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
            mapping[Role(role.strip().lower())] = parse_port(port)
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
                say(f"{result.status.value.upper():5} {result.target.label}", file=sys.stderr)
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
        port = parse_port(args.port)
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
    _keep(args, results)
    return _finish(results, [], args, {"probes": [r.to_dict() for r in results]}, _overall(results))


def _run_account(args: argparse.Namespace, options: ProbeOptions) -> int:
    """Probe a workspace account's servers with its password from the keyring."""
    from workspace.usecases.probe_accounts import plan_account_probes, run_account_probes

    if args.target or args.preset or args.user:
        raise UsageError(
            "--account takes the servers and login from the account: drop HOST, --preset and --user"
        )
    with open_workspace(args) as ws:
        ws.use_connection(connection_settings(args))
        account = ws.accounts.get(args.account)
        protocols = [Protocol(args.protocol)] if args.protocol else None
        plan = asyncio.run(
            plan_account_probes(ws, [account], protocols=protocols, check_inbox=args.inbox)
        )
        _tell_without_login(ws, plan)
        targets = plan.targets
        if not targets:
            raise UsageError(f"account {account.name} has no server for that protocol")

        async def job(sink: Any) -> list[ProbeResult]:
            probed = await run_account_probes(ws, plan, options, sink)
            return [p.result for p in probed]

        results = _drive(targets, job, args)
    return _finish(results, [], args, {"probes": [r.to_dict() for r in results]}, _overall(results))


def _tell_without_login(ws: Workspace, plan: ProbePlan) -> None:
    """Say on stderr why an account is probed without logging in."""
    for planned in plan.without_login:
        if planned.problem:
            say(f"mxpilot: {planned.problem}; probing without logging in", file=sys.stderr)
        else:
            say(
                f"mxpilot: no password for {planned.account.name} in the keyring "
                f"({ws.secrets.status().describe()}); probing without logging in",
                file=sys.stderr,
            )


def _keep(args: argparse.Namespace, results: Sequence[ProbeResult]) -> None:
    """Keep results of servers probed by address in the history (best effort)."""
    from workspace.usecases.probe_accounts import record_probe_results

    if not results:
        return
    with history_workspace(args) as ws:
        if ws is None:
            return
        try:
            record_probe_results(ws, [(result, None) for result in results])
        except history_errors() as exc:
            note_history_error(exc)


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
    _keep(args, results)
    matrix = holder[0]
    # the matrix's status: a failure its conclusions call normal on a client network (port 25
    # blocked) counts as a warning, so a run whose only failure is that exits 0
    overall = matrix.status if matrix.results else Status.PASS
    return _finish(results, matrix.conclusions, args, matrix.to_dict(), overall)


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
    overall: Status,
) -> int:
    """Print the results; the exit code follows ``overall`` (FAIL -> 1), internal errors 3."""
    if args.json:
        payload["status"] = overall.value
        print_json(payload)
    else:
        from rich.console import Console

        from render.probe import results_block

        Console().print(results_block(results, conclusions, verbose=args.verbose))
    if any(p.kind == "internal.error" for r in results for p in r.phases):
        return EXIT_INTERNAL
    return EXIT_FAILED if overall is Status.FAIL else EXIT_OK


def _overall(results: list[ProbeResult]) -> Status:
    """The worst status of single probes (a preset run uses the matrix's status instead)."""
    return worst([r.status for r in results], Status.PASS)
