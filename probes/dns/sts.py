"""MTA-STS and TLS-RPT checks of the audit (optional records, checked when published)."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

from probes.dns.model import LookupFn, LookupStatus, RecordCheck
from probes.dns.mtasts import fetch_policy, parse_sts_txt, parse_tlsrpt, policy_covers
from probes.status import Status


@dataclass(frozen=True)
class HttpsOptions:
    """How the MTA-STS policy is fetched: trust, time limit and (for labs) the port."""

    verify: ssl.SSLContext | bool = True
    timeout: float = 8.0
    port: int = 443


async def _published(
    check: RecordCheck, lookup: LookupFn, name: str, prefix: str, why_optional: str
) -> list[str]:
    """TXT records at ``name`` starting with ``prefix``; the check notes failure or absence."""
    answer = await lookup(name, "TXT")
    check.lookups.append(answer)
    if answer.failed:
        check.worsen(Status.FAIL, f"could not look {name} up ({answer.status.value})")
        return []
    records = [r for r in answer.records if r.lower().startswith(prefix)]
    if not records:
        check.status = Status.SKIPPED
        check.messages.append(f"not published ({why_optional})")
    check.found = records
    return records


async def check_mta_sts(
    domain: str,
    lookup: LookupFn,
    mx: asyncio.Future[RecordCheck],
    https: HttpsOptions,
) -> RecordCheck:
    """``_mta-sts`` TXT, the policy over HTTPS, and its mx list against the real MX set."""
    check = RecordCheck("mta_sts", "MTA-STS (TLS required for mail to the domain)", required=False)
    name = f"_mta-sts.{domain}"
    check.expected = f"{name} TXT v=STSv1; id=…  + https://mta-sts.{domain}/.well-known/mta-sts.txt"
    records = await _published(
        check, lookup, name, "v=stsv1", "optional; protects inbound TLS once MX is stable"
    )
    if not records:
        return check
    for error in parse_sts_txt(records[0]).errors:
        check.worsen(Status.FAIL, error)
    host = f"mta-sts.{domain}"
    address_lookup = await lookup(host, "A")
    check.lookups.append(address_lookup)
    if address_lookup.status is not LookupStatus.OK:
        check.worsen(Status.FAIL, f"{host} has no address: the policy cannot be fetched")
        return check
    fetched = await fetch_policy(
        domain,
        address=address_lookup.records[0],
        port=https.port,
        verify=https.verify,
        timeout=https.timeout,
    )
    check.facts["fetch"] = fetched.to_dict()
    policy = fetched.policy
    if policy is None:
        check.worsen(Status.FAIL, f"policy not fetched: {fetched.error}")
        return check
    for error in policy.errors:
        check.worsen(Status.FAIL, error)
    for warning in [*fetched.warnings, *policy.warnings]:
        check.worsen(Status.WARN, warning)
    check.facts["mode"] = policy.mode
    mx_check = await mx
    hosts = [entry.split()[-1] for entry in mx_check.found]
    uncovered = policy_covers(policy, hosts)
    if uncovered:
        severity = Status.FAIL if policy.mode == "enforce" else Status.WARN
        check.worsen(
            severity,
            f"the policy's mx list does not cover {', '.join(uncovered)}: senders that enforce "
            "MTA-STS will refuse to deliver there (update the policy BEFORE changing MX)",
        )
    if check.status is Status.PASS:
        check.messages.append(f"policy mode {policy.mode}, covers every MX")
    return check


async def check_tls_rpt(domain: str, lookup: LookupFn) -> RecordCheck:
    """``_smtp._tls`` TXT: where TLS failure reports go."""
    check = RecordCheck("tls_rpt", "TLS-RPT (TLS failure reports)", required=False)
    name = f"_smtp._tls.{domain}"
    check.expected = f"{name} TXT v=TLSRPTv1; rua=mailto:tls-reports@{domain}"
    records = await _published(check, lookup, name, "v=tlsrptv1", "optional")
    if not records:
        return check
    parsed = parse_tlsrpt(records[0])
    for error in parsed.errors:
        check.worsen(Status.FAIL, error)
    for warning in parsed.warnings:
        check.worsen(Status.WARN, warning)
    if check.status is Status.PASS:
        check.messages.append("reports requested")
    return check
