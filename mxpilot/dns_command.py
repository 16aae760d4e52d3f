"""``mxpilot dns``: audit a domain's records against a migration profile."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mxpilot.common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    add_history_option,
    connection_settings,
    history_workspace,
    note_history_error,
    print_json,
    say,
    workspace_option,
)
from probes.dns.profiles import Profile

if TYPE_CHECKING:
    from rich.console import RenderableType

    from probes.dns.audit import DnsAudit


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``dns`` and its options."""
    dns = commands.add_parser(
        "dns",
        parents=[workspace_option()],
        help="audit a domain's MX, SPF, DKIM, DMARC, autodiscover, MTA-STS records",
        description="Check a domain's records against what the migration phase needs, "
        "and print the records to add, change or remove.",
    )
    dns.add_argument("domain", help="the domain (IDN allowed)")
    dns.add_argument(
        "--expect",
        choices=[p.value for p in Profile],
        default=Profile.OFFICE365.value,
        help="gmail (today), coexistence (during the migration), office365 (after cut-over; "
        "default)",
    )
    dns.add_argument(
        "--selector", action="append", default=[], help="also check this DKIM selector"
    )
    dns.add_argument("--tenant", help="Microsoft 365 tenant name (for the DKIM CNAME targets)")
    dns.add_argument("--nameserver", help="ask this DNS server: IP[:PORT]")
    dns.add_argument(
        "--authoritative",
        action="store_true",
        help="ask the domain's own authoritative servers directly (no resolver cache)",
    )
    dns.add_argument(
        "--authoritative-port", type=int, help=argparse.SUPPRESS
    )  # the lab's servers listen on a high port
    dns.add_argument("--https-port", type=int, default=443, help=argparse.SUPPRESS)
    dns.add_argument("--ca-file", type=Path, help="also trust this CA for the MTA-STS policy")
    dns.add_argument("--timeout", type=float, default=3.0, help="seconds per DNS query (default 3)")
    dns.add_argument("--json", action="store_true", help="machine-readable output")
    add_history_option(dns)
    dns.add_argument("--lang", choices=["en", "es"], default=None, help=argparse.SUPPRESS)


def run_dns_command(args: argparse.Namespace) -> int:
    """Run ``mxpilot dns`` and return its exit code."""
    from rich.console import Console

    from probes.dns.client import to_ascii
    from probes.status import Status
    from workspace.usecases.audit_domain import (
        DomainAuditRequest,
        audit_and_record,
        audit_network,
    )

    try:
        domain = to_ascii(args.domain)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    settings = connection_settings(args, max_timeout=60.0)
    # --timeout bounds each DNS query; fetching the MTA-STS policy gets twice as long
    network = audit_network(replace(settings, timeout=args.timeout * 2), query_timeout=args.timeout)
    request = DomainAuditRequest(
        domain,
        Profile(args.expect),
        authoritative=args.authoritative,
        tenant=args.tenant,
        selectors=tuple(args.selector),
    )
    with history_workspace(args) as ws:
        audited = asyncio.run(
            audit_and_record(ws, request, network, on_history_error=note_history_error)
        )
    if audited is None:
        say(f"mxpilot: no authoritative server found for {domain} (NS lookup failed)")
        return EXIT_FAILED
    audit = audited.audit
    if args.json:
        print_json(audit.to_dict())
    else:
        Console().print(audit_report(audit, args.domain))
    return EXIT_FAILED if audit.status is Status.FAIL else EXIT_OK


def audit_report(audit: DnsAudit, shown_domain: str) -> RenderableType:
    """The readable audit: a verdict table, details, the changes, propagation.

    Every name, record and finding is other people's text: it goes through
    :mod:`render.text` (escaped, cut, never markup), the zone values too.
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from probes.status import Status
    from render.dns import verdict_text
    from render.text import LINE_LIMIT, REPLY_LIMIT, one_line, plain

    title = Text("DNS audit of ")
    title.append_text(one_line(shown_domain))
    if shown_domain != audit.domain:
        title.append(" (").append_text(one_line(audit.domain)).append(")")
    title.append(f" — expecting {audit.profile.value}, via ")
    title.append_text(one_line(audit.resolver))
    table = Table(title=title)
    table.add_column("Record")
    table.add_column("Verdict")
    table.add_column("Found")
    for check in audit.checks:
        found = "\n".join(check.found)
        table.add_row(
            one_line(check.title),
            verdict_text(check),
            plain(found, limit=200) if found else Text("—"),
        )
    parts: list[RenderableType] = [table]
    for check in audit.checks:
        if check.status in (Status.PASS, Status.SKIPPED) and not check.changes:
            continue
        parts.append(
            Text("\n", style="bold").append_text(one_line(check.title, LINE_LIMIT, "bold"))
        )
        expected = Text("  expected: ", style="dim")
        parts.append(expected.append_text(one_line(check.expected, REPLY_LIMIT, "dim")))
        parts.extend(Text("  • ").append_text(one_line(m, REPLY_LIMIT)) for m in check.messages)
    if audit.changes:
        parts.append(Text("\nRecords to change", style="bold underline"))
        for change in audit.changes:
            line = Text(f"  {change.action.value.upper():7} ", style="bold")
            record = f"{change.name}  {change.rtype}  {change.value}"
            line.append_text(one_line(record, REPLY_LIMIT, "cyan"))
            line.append(f"  TTL {change.ttl}")
            parts.append(line)
            if change.current:
                now = Text("          now: ", style="dim")
                parts.append(now.append_text(one_line(change.current, REPLY_LIMIT, "dim")))
            if change.reason:
                why = Text("          ", style="dim")
                parts.append(why.append_text(one_line(change.reason, REPLY_LIMIT, "dim")))
    if audit.propagation:
        parts.append(Text("\nAuthoritative servers side by side", style="bold underline"))
        for row in audit.propagation:
            mark = "agree" if row.agree else "DISAGREE: a change is still propagating"
            parts.append(Text("  ").append_text(one_line(f"{row.name} {row.rtype}: {mark}")))
            for server, answers in row.answers.items():
                said = f"{server}: {' | '.join(answers) or '(none)'}"
                parts.append(
                    Text("    ", style="dim").append_text(one_line(said, REPLY_LIMIT, "dim"))
                )
    return Group(*parts)
