"""Audit a domain for a migration phase and keep the audit in the history.

The one use case behind the DNS screen, ``mxpilot dns`` and the checklist's
DNS checks: how the audit reaches DNS and HTTPS comes from the session's
connection settings (DNS server, trusted CA, time limits), the audit asks the
resolver or the zone's own servers, and the finished audit is stored.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from probes.dns.audit import DnsAudit, audit_domain
from probes.dns.client import DnsClient, authoritative_client, client_for
from probes.dns.profiles import Profile
from probes.dns.sts import HttpsOptions
from workspace.connection import ConnectionSettings
from workspace.history import RunRecord
from workspace.session import Workspace
from workspace.store import StoreError

HISTORY_ERRORS = (StoreError, OSError, sqlite3.Error)
"""What keeping a run in the history can fail with (a locked, full or unreadable file)."""


@dataclass(frozen=True)
class DomainAuditRequest:
    """What to audit: the domain (ASCII), the phase's profile, what else to look at."""

    domain: str
    profile: Profile
    authoritative: bool = False
    tenant: str | None = None
    selectors: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditNetwork:
    """How an audit reaches DNS (a client), MTA-STS policies (HTTPS) and the zone's servers."""

    dns: DnsClient
    https: HttpsOptions | None = None
    authoritative_port: int | None = None


@dataclass(frozen=True)
class RecordedAudit:
    """A finished audit, how long it took, and its stored run (None when not kept)."""

    audit: DnsAudit
    seconds: float
    record: RunRecord | None = None


def audit_network(
    settings: ConnectionSettings, *, query_timeout: float | None = None
) -> AuditNetwork:
    """The DNS client and HTTPS options the connection settings describe.

    ``query_timeout`` bounds each DNS query (default: the settings' timeout, at
    most 10 s); the MTA-STS fetch gets the settings' timeout.
    """
    if query_timeout is None:
        dns = settings.dns_client()
    else:
        dns = client_for(settings.nameserver, query_timeout)
    return AuditNetwork(dns, settings.https(), settings.authoritative_port)


async def audit_for_phase(request: DomainAuditRequest, network: AuditNetwork) -> DnsAudit | None:
    """The audit itself (nothing stored); None when no authoritative server answers the NS."""
    client = network.dns
    if request.authoritative:
        found = await authoritative_client(client, request.domain, network.authoritative_port)
        if found is None:
            return None
        client = found
    return await audit_domain(
        request.domain,
        request.profile,
        client,
        selectors=request.selectors,
        tenant=request.tenant,
        https=network.https,
        authoritative_port=network.authoritative_port,
    )


async def audit_and_record(
    ws: Workspace | None,
    request: DomainAuditRequest,
    network: AuditNetwork,
    *,
    on_history_error: Callable[[Exception], None] | None = None,
) -> RecordedAudit | None:
    """Audit the domain and keep the audit in ``ws``'s history (when there is a workspace).

    None when the zone's own servers were asked for and none was found. With
    ``on_history_error`` a history that cannot be written costs a call to it,
    never the audit; without it the error propagates.
    """
    started = time.monotonic()
    audit = await audit_for_phase(request, network)
    if audit is None:
        return None
    seconds = time.monotonic() - started
    record = None
    if ws is not None:
        try:
            record = ws.history.record_dns(audit, seconds)
        except HISTORY_ERRORS as exc:
            if on_history_error is None:
                raise
            on_history_error(exc)
    return RecordedAudit(audit, seconds, record)
