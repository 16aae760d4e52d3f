"""The domain DNS audit: every record checked at once against a migration profile.

``audit_domain`` runs the MX, SPF, DKIM, DMARC, autodiscover, Microsoft
verification, MTA-STS and TLS-RPT checks concurrently through one cached
:class:`DnsClient`, then asks each authoritative server for MX, SPF and
DMARC side by side, so a half-propagated change shows.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from probes.dns import stored
from probes.dns.client import DnsClient
from probes.dns.mailauth import check_dkim, check_dmarc, check_spf
from probes.dns.model import ChangeAction, Lookup, LookupFn, RecordChange, RecordCheck
from probes.dns.mx import check_mx
from probes.dns.profiles import AUTODISCOVER_TARGET, EXPECTATIONS, SUGGESTED_TTL, MigrationPhase
from probes.dns.sts import HttpsOptions, check_mta_sts, check_tls_rpt
from probes.status import Status, worst

MS_VERIFICATION = re.compile(r"^MS=ms\d+$", re.IGNORECASE)


@dataclass
class PropagationRow:
    """One record as each authoritative server answers it."""

    name: str
    rtype: str
    answers: dict[str, list[str]]
    agree: bool

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {"name": self.name, "type": self.rtype, "answers": self.answers, "agree": self.agree}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PropagationRow:
        """The row :meth:`to_dict` wrote; :class:`~probes.dns.stored.StoredAuditError` if not."""
        what = "propagation row"
        data = stored.record(data, what)
        answers = stored.record(data.get("answers"), f"{what}.answers")
        return cls(
            name=stored.text(data, "name", what),
            rtype=stored.text(data, "type", what),
            answers={server: stored.text_list(answers, server, what) for server in answers},
            agree=stored.boolean(data, "agree", what),
        )


@dataclass
class DnsAudit:
    """The verdicts on a domain's records for one profile."""

    domain: str
    profile: MigrationPhase
    resolver: str
    checks: list[RecordCheck] = field(default_factory=list)
    propagation: list[PropagationRow] = field(default_factory=list)

    @property
    def status(self) -> Status:
        """FAIL when a required check failed; else the worst other status."""
        found = worst(
            (
                Status.WARN if check.status is Status.FAIL and not check.required else check.status
                for check in self.checks
            ),
            default=Status.PASS,
        )
        if any(not row.agree for row in self.propagation) and found is Status.PASS:
            found = Status.WARN
        return found

    @property
    def changes(self) -> list[RecordChange]:
        """Every record to add, change or remove, in check order."""
        return [change for check in self.checks for change in check.changes]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "domain": self.domain,
            "profile": self.profile.value,
            "resolver": self.resolver,
            "status": self.status.value,
            "checks": [c.to_dict() for c in self.checks],
            "changes": [c.to_dict() for c in self.changes],
            "propagation": [row.to_dict() for row in self.propagation],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DnsAudit:
        """The audit :meth:`to_dict` wrote (as the history keeps it), ready to render again.

        ``status`` and ``changes`` are not read: they follow from the checks.
        Raises :class:`~probes.dns.stored.StoredAuditError` on anything else.
        """
        what = "DNS audit"
        data = stored.record(data, what)
        return cls(
            domain=stored.text(data, "domain", what),
            profile=stored.choice(data, "profile", what, MigrationPhase),
            resolver=stored.text(data, "resolver", what),
            checks=stored.objects(data, "checks", what, RecordCheck.from_dict),
            propagation=stored.objects(data, "propagation", what, PropagationRow.from_dict),
        )


async def check_autodiscover(domain: str, profile: MigrationPhase, lookup: LookupFn) -> RecordCheck:
    """``autodiscover.<domain>`` CNAME to autodiscover.outlook.com (Outlook finds the mailbox)."""
    needed = EXPECTATIONS[profile].needs_autodiscover
    check = RecordCheck("autodiscover", "Autodiscover (Outlook setup)", required=needed)
    name = f"autodiscover.{domain}"
    check.expected = f"{name} CNAME {AUTODISCOVER_TARGET}"
    answer = await lookup(name, "CNAME")
    check.lookups.append(answer)
    if answer.failed:
        check.worsen(Status.FAIL, f"could not look {name} up ({answer.status.value})")
        return check
    check.found = list(answer.records)
    current = answer.records[0].lower() if answer.records else None
    if current == AUTODISCOVER_TARGET:
        check.messages.append("points to Microsoft 365")
        return check
    if not needed:
        check.status = Status.SKIPPED
        check.messages.append("not needed yet: add it at the cut-over")
        return check
    action = ChangeAction.CHANGE if current else ChangeAction.ADD
    check.worsen(
        Status.FAIL, f"{name} is {current or 'missing'}; Outlook will not find the mailbox"
    )
    check.changes.append(
        RecordChange(action, name, "CNAME", AUTODISCOVER_TARGET, SUGGESTED_TTL, current)
    )
    return check


async def check_ms_verification(
    domain: str, profile: MigrationPhase, lookup: LookupFn
) -> RecordCheck:
    """The ``MS=ms…`` TXT that proves the domain to the Microsoft 365 tenant."""
    needed = EXPECTATIONS[profile].needs_ms_verification
    check = RecordCheck("ms_verification", "Microsoft 365 domain verification", required=needed)
    check.expected = "TXT MS=ms######## (the value the admin centre shows)"
    answer = await lookup(domain, "TXT")
    check.lookups.append(answer)
    if answer.failed:
        check.worsen(Status.FAIL, f"could not look the TXT records up ({answer.status.value})")
        return check
    found = [r for r in answer.records if MS_VERIFICATION.match(r.strip())]
    check.found = found
    if len(found) > 1:
        check.worsen(Status.WARN, "more than one MS= record: keep only the current tenant's")
    if found:
        check.messages.append("present: the domain can be verified in the tenant")
    elif not needed:
        check.status = Status.SKIPPED
        check.messages.append("not needed while the domain stays at Google")
    else:
        check.worsen(Status.FAIL, "missing: the tenant cannot verify the domain")
        check.changes.append(
            RecordChange(
                ChangeAction.ADD,
                domain,
                "TXT",
                "MS=ms########",
                SUGGESTED_TTL,
                reason="copy the exact value from Microsoft 365 admin center > Settings > "
                "Domains > (domain) > DNS records",
            )
        )
    return check


async def propagation(domain: str, servers: Sequence[DnsClient]) -> list[PropagationRow]:
    """MX, SPF and DMARC as each authoritative server answers them."""
    questions = [(domain, "MX"), (domain, "TXT"), (f"_dmarc.{domain}", "TXT")]
    rows: list[PropagationRow] = []
    for name, rtype in questions:
        found: list[Lookup] = list(
            await asyncio.gather(*(server.lookup(name, rtype) for server in servers))
        )
        answers: dict[str, list[str]] = {}
        for server, answer in zip(servers, found, strict=True):
            records = sorted(answer.records)
            if rtype == "TXT":
                prefix = "v=dmarc1" if name.startswith("_dmarc.") else "v=spf1"
                records = [r for r in records if r.lower().startswith(prefix)]
            answers[server.label] = records if answer.status.answered else [answer.status.value]
        distinct = {tuple(v) for v in answers.values()}
        rows.append(PropagationRow(name, rtype, answers, len(distinct) <= 1))
    return rows


async def audit_domain(
    domain: str,
    profile: MigrationPhase,
    client: DnsClient,
    selectors: Sequence[str] = (),
    tenant: str | None = None,
    https: HttpsOptions | None = None,
    authoritative_port: int | None = None,
) -> DnsAudit:
    """Audit ``domain`` (ASCII) for ``profile``; every lookup concurrent and bounded."""
    lookup = client.lookup
    audit = DnsAudit(domain, profile, client.label)
    mx = asyncio.ensure_future(check_mx(domain, profile, lookup))
    servers_task = asyncio.ensure_future(client.zone_servers(domain, authoritative_port))
    single = await asyncio.gather(
        mx,
        check_spf(domain, profile, lookup),
        check_dmarc(domain, lookup),
        check_autodiscover(domain, profile, lookup),
        check_ms_verification(domain, profile, lookup),
        check_mta_sts(domain, lookup, mx, https or HttpsOptions()),
        check_tls_rpt(domain, lookup),
    )
    dkim = await check_dkim(domain, profile, lookup, selectors, tenant)
    audit.checks = [*single[:2], *dkim, *single[2:]]
    servers = await servers_task
    if len(servers) > 1:
        audit.propagation = await propagation(domain, servers)
    return audit
