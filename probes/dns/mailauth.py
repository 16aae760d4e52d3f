"""SPF, DKIM and DMARC checks of the audit: evaluations turned into verdicts and changes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from probes.dns.dkim import check_dkim_selector
from probes.dns.dmarc import evaluate_dmarc, organisational_domain
from probes.dns.dmarc_record import TEST_MODE_STEP_DOWN
from probes.dns.model import ChangeAction, LookupFn, RecordChange, RecordCheck
from probes.dns.profiles import (
    EXPECTATIONS,
    GOOGLE_SPF_INCLUDE,
    MICROSOFT_SPF_INCLUDE,
    SUGGESTED_TTL,
    MigrationPhase,
    microsoft_dkim_target,
)
from probes.dns.spf import LOOKUP_LIMIT, VOID_LIMIT, SpfEvaluation, evaluate_spf, merge_spf
from probes.status import Status

_INCLUDE_PROVIDER = {GOOGLE_SPF_INCLUDE: "Google", MICROSOFT_SPF_INCLUDE: "Microsoft 365"}


async def check_spf(domain: str, profile: MigrationPhase, lookup: LookupFn) -> RecordCheck:
    """One SPF record, valid, within its lookup limits, authorising the profile's senders."""
    check = RecordCheck("spf", "SPF (who may send for the domain)")
    evaluation = await evaluate_spf(domain, lookup)
    check.lookups.extend(evaluation.lookups)
    check.facts = evaluation.to_dict()
    wanted = EXPECTATIONS[profile].spf_includes
    check.expected = merge_spf([], list(wanted), "~")
    if evaluation.status == "temperror":
        check.worsen(Status.FAIL, "the SPF lookup failed (SERVFAIL or timeout): not checked")
        return check
    if evaluation.status == "none":
        check.worsen(Status.FAIL, "no SPF record: receivers cannot tell your servers from forgers")
        check.changes.append(
            RecordChange(ChangeAction.ADD, domain, "TXT", check.expected, SUGGESTED_TTL)
        )
        return check
    spf_records = evaluation.records
    check.found = spf_records
    for error in evaluation.errors:
        check.worsen(Status.FAIL, error)
    for warning in evaluation.warnings:
        check.worsen(Status.WARN, warning)
    counts = _within_limits(evaluation)
    if counts:
        check.messages.append(counts)
    providers = set(evaluation.providers)
    missing = [inc for inc in wanted if _INCLUDE_PROVIDER[inc] not in providers]
    for include in missing:
        check.worsen(Status.FAIL, f"{_INCLUDE_PROVIDER[include]} is not authorised ({include})")
    extra_google = profile is MigrationPhase.OFFICE365 and "Google" in providers
    if extra_google:
        check.worsen(Status.WARN, "Google is still authorised: remove it once Gmail is retired")
    if missing or len(spf_records) > 1:
        merged = merge_spf(spf_records, list(wanted), evaluation.all_qualifier)
        check.changes.append(
            RecordChange(
                ChangeAction.CHANGE,
                domain,
                "TXT",
                merged,
                SUGGESTED_TTL,
                current=" | ".join(spf_records),
                reason="one SPF record only: merge, never add a second",
            )
        )
        for extra in spf_records[1:]:
            check.changes.append(
                RecordChange(ChangeAction.REMOVE, domain, "TXT", extra, reason="merged above")
            )
    return check


def _within_limits(evaluation: SpfEvaluation) -> str:
    """The lookup counts that are within their limits, the void lookups named.

    A count over its limit is already an error that says so: it is not repeated.
    """
    parts: list[str] = []
    if evaluation.lookup_count <= LOOKUP_LIMIT:
        parts.append(f"{evaluation.lookup_count} DNS lookups (limit {LOOKUP_LIMIT})")
    if evaluation.void_count <= VOID_LIMIT:
        voids = f"{evaluation.void_count} void lookups (limit {VOID_LIMIT})"
        if evaluation.void_lookups:
            voids += ": " + "; ".join(v.message for v in evaluation.void_lookups)
        parts.append(voids)
    return ", ".join(parts)


async def check_dkim(
    domain: str,
    profile: MigrationPhase,
    lookup: LookupFn,
    selectors: Sequence[str],
    tenant: str | None,
) -> list[RecordCheck]:
    """A check per DKIM selector: the profile's, the optional ones, and the user's."""
    expectation = EXPECTATIONS[profile]
    chosen: list[tuple[str, bool]] = [(s, True) for s in expectation.dkim_selectors]
    chosen += [(s, False) for s in expectation.optional_dkim_selectors]
    chosen += [(s, True) for s in selectors if s not in {c for c, _ in chosen}]
    results = await asyncio.gather(
        *(check_dkim_selector(domain, selector, lookup) for selector, _ in chosen)
    )
    checks: list[RecordCheck] = []
    for (selector, required), result in zip(chosen, results, strict=True):
        check = RecordCheck(f"dkim:{selector}", f"DKIM selector {selector}", required=required)
        check.lookups.extend(result.lookups)
        check.facts = result.to_dict()
        microsoft = selector in ("selector1", "selector2")
        if microsoft:
            check.expected = (
                f"{selector}._domainkey.{domain} CNAME "
                f"{microsoft_dkim_target(domain, selector, tenant)}"
            )
        else:
            check.expected = f"{selector}._domainkey.{domain} TXT v=DKIM1; k=rsa; p=…"
        if result.cname_target:
            check.found.append(f"CNAME {result.cname_target}")
        if result.key is not None:
            check.found.append(f"{result.key.key_type} {result.key.key_bits or '?'} bits")
            for error in result.key.errors:
                check.worsen(Status.FAIL, error)
            for warning in result.key.warnings:
                check.worsen(Status.WARN, warning)
        status = result.status
        if status == "ok":
            check.messages.append("key published")
        elif status == "lookup_failed":
            check.worsen(Status.FAIL, "the lookup failed (SERVFAIL or timeout): not checked")
        elif status == "revoked":
            check.worsen(Status.FAIL if required else Status.WARN, "key revoked (p= empty)")
        elif status == "invalid":
            check.worsen(Status.FAIL if required else Status.WARN, "the key record is invalid")
        else:
            what = "not published" + ("" if required else " yet (prepare it before cut-over)")
            check.worsen(Status.FAIL if required else Status.WARN, what)
            if microsoft:
                check.changes.append(
                    RecordChange(
                        ChangeAction.ADD,
                        f"{selector}._domainkey.{domain}",
                        "CNAME",
                        microsoft_dkim_target(domain, selector, tenant),
                        SUGGESTED_TTL,
                        reason="then enable signing: Set-DkimSigningConfig -Identity "
                        f"{domain} -Enabled $true",
                    )
                )
            else:
                check.changes.append(
                    RecordChange(
                        ChangeAction.ADD,
                        f"{selector}._domainkey.{domain}",
                        "TXT",
                        "v=DKIM1; k=rsa; p=<key from Google Admin > Apps > Google Workspace > "
                        "Gmail > Authenticate email>",
                        SUGGESTED_TTL,
                    )
                )
        checks.append(check)
    return checks


async def check_dmarc(domain: str, lookup: LookupFn) -> RecordCheck:
    """A valid DMARC policy at ``_dmarc.<domain>``; reports to other domains authorised."""
    check = RecordCheck("dmarc", "DMARC (what receivers do with forged mail)", required=False)
    evaluation = await evaluate_dmarc(domain, lookup)
    check.lookups.extend(evaluation.lookups)
    check.facts = evaluation.to_dict()
    suggested = f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"
    check.expected = suggested + " (then quarantine, then reject)"
    if evaluation.status == "temperror":
        check.worsen(Status.FAIL, "the DMARC lookup failed (SERVFAIL or timeout): not checked")
        return check
    organisation = organisational_domain(domain)
    if evaluation.status == "none" and organisation != domain:
        inherited = await evaluate_dmarc(organisation, lookup)
        check.lookups.extend(inherited.lookups)
        if inherited.parsed is not None and inherited.status == "pass":
            parsed = inherited.parsed
            policy = parsed.subdomain_policy or parsed.policy
            check.found = [f"(inherited from _dmarc.{organisation}) {inherited.record}"]
            check.messages.append(
                f"no record of its own: receivers apply {organisation}'s policy "
                f"for subdomains (sp={policy})"
            )
            if parsed.testing and policy in TEST_MODE_STEP_DOWN and policy != "none":
                check.worsen(
                    Status.WARN,
                    f"{organisation}'s record has t=y (test mode): the policy is not enforced; "
                    f"receivers apply {TEST_MODE_STEP_DOWN[policy]} instead of {policy}",
                )
            return check
    if evaluation.status == "none":
        check.worsen(Status.WARN, "no DMARC record: start monitoring with p=none")
        check.changes.append(
            RecordChange(ChangeAction.ADD, f"_dmarc.{domain}", "TXT", suggested, SUGGESTED_TTL)
        )
        return check
    check.found = list(evaluation.records)
    for error in evaluation.errors:
        check.worsen(Status.FAIL, error)
    for warning in evaluation.warnings:
        check.worsen(Status.WARN, warning)
    for change in evaluation.changes:
        check.changes.append(change)
    if check.status is Status.PASS:
        check.messages.append("valid policy")
    return check
