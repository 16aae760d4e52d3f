"""The MX check: priorities, targets that resolve, null MX, and whose servers they are."""

from __future__ import annotations

import asyncio
import ipaddress

from probes.dns.model import ChangeAction, LookupFn, LookupStatus, RecordChange, RecordCheck
from probes.dns.profiles import (
    EXPECTATIONS,
    MAX_CUTOVER_MX_TTL,
    SUGGESTED_TTL,
    MailProvider,
    MigrationPhase,
    microsoft_mx,
    mx_provider,
)
from probes.status import Status

GOOGLE_MX = "smtp.google.com"


def _parse_mx(record: str) -> tuple[int, str] | None:
    parts = record.split()
    if len(parts) != 2 or not parts[0].isdigit():
        return None
    return int(parts[0]), parts[1].rstrip(".").lower()


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


async def _target_problem(host: str, lookup: LookupFn) -> str | None:
    """Why an MX target is unusable, or None when it resolves to an address."""
    if _is_ip(host):
        return f"{host} is an IP address; an MX must name a host (RFC 5321)"
    cname, v4, v6 = await asyncio.gather(
        lookup(host, "CNAME"), lookup(host, "A"), lookup(host, "AAAA")
    )
    if cname.status is LookupStatus.OK:
        return f"{host} is a CNAME (to {cname.records[0]}); an MX must not point to an alias"
    if v4.status is LookupStatus.OK or v6.status is LookupStatus.OK:
        return None
    if v4.failed and v6.failed:
        return f"{host}: its address could not be looked up ({v4.status.value})"
    return f"{host} has no A or AAAA record: mail to it cannot be delivered"


async def check_mx(domain: str, profile: MigrationPhase, lookup: LookupFn) -> RecordCheck:
    """The MX set against the profile, with the records to change."""
    check = RecordCheck("mx", "MX (where mail for the domain is delivered)")
    answer = await lookup(domain, "MX")
    check.lookups.append(answer)
    expectation = EXPECTATIONS[profile]
    want_microsoft = expectation.mx_provider is MailProvider.MICROSOFT
    target = microsoft_mx(domain) if want_microsoft else GOOGLE_MX
    check.expected = f"{'0' if want_microsoft else '1'} {target}"
    if answer.failed:
        check.worsen(Status.FAIL, f"could not look the MX up ({answer.status.value}): not checked")
        check.facts["lookup_failed"] = True
        return check
    entries = sorted(e for e in (_parse_mx(r) for r in answer.records) if e is not None)
    check.found = [f"{pref} {host}" for pref, host in entries]
    check.facts["ttl"] = answer.ttl
    desired = RecordChange(
        ChangeAction.ADD, domain, "MX", check.expected, SUGGESTED_TTL, reason="the profile's MX"
    )
    if not entries:
        check.worsen(Status.FAIL, "no MX record: mail for the domain cannot be delivered")
        check.changes.append(desired)
        return check
    if any(host in ("", ".") for _, host in entries):
        check.worsen(Status.FAIL, "null MX (RFC 7505): the domain declares it receives no mail")
        return check
    problems = await asyncio.gather(*(_target_problem(h, lookup) for _, h in entries))
    for problem in problems:
        if problem:
            check.worsen(Status.FAIL, problem)
    providers = sorted({mx_provider(host) for _, host in entries})
    check.facts["providers"] = [provider.value for provider in providers]
    wanted = expectation.mx_provider
    owner = "Microsoft 365" if want_microsoft else "Google"
    if providers == [wanted]:
        check.messages.append(f"every MX belongs to {owner}")
    elif len(providers) > 1:
        check.worsen(
            Status.FAIL,
            f"mixed MX set ({', '.join(providers)}): senders pick by priority and fall back at "
            "random, so mail splits between the systems",
        )
    elif profile is MigrationPhase.COEXISTENCE and providers == [MailProvider.MICROSOFT]:
        check.worsen(
            Status.WARN, "MX already points to Microsoft 365: check with --expect office365"
        )
        return check
    else:
        check.worsen(
            Status.FAIL,
            f"MX points to {providers[0]}, not {owner}",
        )
    if providers != [wanted]:
        for pref, host in entries:
            if mx_provider(host) != wanted:
                check.changes.append(
                    RecordChange(ChangeAction.REMOVE, domain, "MX", f"{pref} {host}", reason="")
                )
        if not any(mx_provider(h) == wanted for _, h in entries):
            check.changes.append(desired)
    ttl = answer.ttl or 0
    if expectation.low_mx_ttl and ttl > MAX_CUTOVER_MX_TTL:
        check.worsen(
            Status.WARN,
            f"MX TTL is {ttl} s: lower it to {MAX_CUTOVER_MX_TTL} or less well before the "
            "cut-over, so the change takes effect within the hour",
        )
        for pref, host in entries:
            check.changes.append(
                RecordChange(
                    ChangeAction.CHANGE,
                    domain,
                    "MX",
                    f"{pref} {host}",
                    MAX_CUTOVER_MX_TTL,
                    current=f"{pref} {host} (TTL {ttl})",
                    reason="lower the TTL before cut-over",
                )
            )
    return check
