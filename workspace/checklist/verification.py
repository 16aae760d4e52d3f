"""Run the checks behind checklist items, store the results, tick or flag items.

Probe checks pick the accounts the spec names (side and role), probe each
with its secret from the keyring, and pass when every one passes. DNS checks
audit the checklist's domain once per profile and read the named record's
verdict. Every probe and audit runs concurrently; identical probes asked by
several items run once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from probes.dns.audit import DnsAudit, audit_domain
from probes.dns.client import DnsClient
from probes.dns.profiles import Profile
from probes.dns.sts import HttpsOptions
from probes.mail.model import ProbeResult, Protocol, Target
from probes.mail.runner import EventSink, ProbeOptions, run_probes
from probes.status import Status, worst
from workspace.accounts.model import GOOGLE_PROVIDERS, Account, Side
from workspace.accounts.targets import account_targets
from workspace.auth.readiness import basic_auth_readiness, platform_of
from workspace.checklist.book import ChecklistError
from workspace.checklist.check_spec import CheckKind, CheckSpec
from workspace.checklist.model import Checklist, ChecklistItem, CheckOutcome
from workspace.history import RunRecord, probe_subject
from workspace.session import Workspace


def matching_accounts(spec: CheckSpec, accounts: Sequence[Account]) -> list[Account]:
    """The accounts a probe check is about.

    A service account counts on the side of its provider: on the target side
    when it is a Microsoft 365 mailbox, on the source side when it is Gmail.
    """
    protocol = spec.protocol or Protocol.IMAP
    chosen: list[Account] = []
    for account in accounts:
        side_ok = spec.side is None or account.side is spec.side
        if not side_ok and account.side is Side.SERVICE:
            if spec.side is Side.TARGET:
                side_ok = account.provider == "office365"
            elif spec.side is Side.SOURCE:
                side_ok = account.provider in GOOGLE_PROVIDERS
        if not side_ok or account.endpoint(protocol) is None:
            continue
        if spec.role is not None and spec.role not in account.roles:
            continue
        chosen.append(account)
    return chosen


def readiness_outcome(item_id: str, accounts: Sequence[Account]) -> CheckOutcome:
    """Pass when no account's login depends on Basic auth; the findings are the evidence."""
    mail = [a for a in accounts if platform_of(a) != "other"]
    if not mail:
        return CheckOutcome(
            item_id,
            Status.SKIPPED,
            "no Microsoft 365 or Google account yet: 'mxpilot accounts add'",
        )
    findings = basic_auth_readiness(mail)
    if not findings:
        names = ", ".join(a.name for a in mail)
        return CheckOutcome(
            item_id, Status.PASS, f"every account signs in without Basic auth: {names}"
        )
    lines = [
        f"{f.account} {f.protocol.value.upper()} on {f.auth_label}: {f.urgency.value}, "
        f"{f.deadline.isoformat()}"
        for f in findings
    ]
    return CheckOutcome(item_id, Status.FAIL, "; ".join(lines))


def _worst(statuses: Sequence[Status]) -> Status:
    return worst(statuses, default=Status.PASS)


def dns_verdict(spec: CheckSpec, audit: DnsAudit) -> tuple[Status, str]:
    """The verdict of the record a DNS check names, from an audit."""
    record = spec.record or ""
    found = [c for c in audit.checks if c.id == record or c.id.startswith(record + ":")]
    if not found:
        return Status.SKIPPED, f"the {audit.profile.value} audit has no {record} check"
    status = _worst([c.status for c in found])
    parts = []
    for check in found:
        line = f"{check.id}: {check.status.value}"
        if check.status is not Status.PASS and check.messages:
            line += f" ({check.messages[0]})"
        parts.append(line)
    return status, "; ".join(parts)


@dataclass
class _ProbePlan:
    item: ChecklistItem
    pairs: list[tuple[Account, Target]] = field(default_factory=list)
    problem: str = ""


class ChecklistVerifier:
    """Runs the checks of a checklist's items and records what they prove."""

    def __init__(
        self,
        workspace: Workspace,
        options: ProbeOptions | None = None,
        dns: DnsClient | None = None,
        https: HttpsOptions | None = None,
        sink: EventSink | None = None,
    ) -> None:
        self.workspace = workspace
        self.options = options or ProbeOptions()
        self.dns = dns or DnsClient()
        self.https = https
        self.sink = sink

    def items_to_check(
        self, checklist: Checklist, item_ids: Sequence[str] = ()
    ) -> list[ChecklistItem]:
        """The items to verify: those named (each must have a check) or all with one."""
        if not item_ids:
            return [item for item in checklist.items if item.check is not None]
        chosen = []
        for item_id in item_ids:
            item = checklist.item(item_id)
            if item.check is None:
                raise ChecklistError(f"item {item_id!r} has no automatic check; tick it by hand")
            chosen.append(item)
        return chosen

    def _plan_probe(
        self,
        item: ChecklistItem,
        accounts: Sequence[Account],
        secrets: dict[str, tuple[str | None, str]],
    ) -> _ProbePlan:
        spec = item.check
        assert spec is not None and spec.protocol is not None
        plan = _ProbePlan(item)
        chosen = matching_accounts(spec, accounts)
        if not chosen:
            role = f" with the role {spec.role.value}" if spec.role else ""
            side = spec.side.value if spec.side else "any"
            plan.problem = (
                f"no {side} account with {spec.protocol.value.upper()}{role}: "
                "add one with 'mxpilot accounts add'"
            )
            return plan
        missing = []
        problems = []
        for account in chosen:
            secret = None
            if spec.login:
                secret, problem = secrets.get(account.uid, (None, ""))
                if problem:
                    problems.append(problem)
                    continue
            if spec.login and not secret:
                missing.append(account.name)
                continue
            for target in account_targets(
                account, secret, protocols=[spec.protocol], login=spec.login
            ):
                plan.pairs.append((account, target))
        if missing:
            problems.append(
                f"no password in the keyring for {', '.join(missing)}: "
                "'mxpilot accounts edit NAME --set-password'"
            )
        plan.problem = "; ".join(problems)
        return plan

    async def _login_secrets(
        self, items: Sequence[ChecklistItem], accounts: Sequence[Account]
    ) -> dict[str, tuple[str | None, str]]:
        """The secrets of every account a login check needs, fetched (refreshed) together."""
        needed = [
            account
            for item in items
            if item.check is not None and item.check.kind is CheckKind.PROBE and item.check.login
            for account in matching_accounts(item.check, accounts)
        ]
        return await self.workspace.tokens.login_secrets(needed)

    async def run(self, checklist: Checklist, item_ids: Sequence[str] = ()) -> list[CheckOutcome]:
        """Verify the items; every outcome is stored and applied to the checklist."""
        items = self.items_to_check(checklist, item_ids)
        accounts = self.workspace.accounts.list()
        secrets = await self._login_secrets(items, accounts)
        probe_plans = [
            self._plan_probe(item, accounts, secrets)
            for item in items
            if item.check is not None and item.check.kind is CheckKind.PROBE
        ]
        dns_items = [i for i in items if i.check is not None and i.check.kind is CheckKind.DNS]
        targets: list[Target] = []
        for plan in probe_plans:
            for _, target in plan.pairs:
                if target not in targets:
                    targets.append(target)
        profiles = sorted(
            {i.check.profile for i in dns_items if i.check and i.check.profile}, key=str
        )
        probe_job = asyncio.ensure_future(run_probes(targets, self.options, self.sink))
        audit_jobs = [self._audit(checklist, profile) for profile in profiles]
        audited = await asyncio.gather(*audit_jobs)
        results = await probe_job
        audits = dict(zip(profiles, audited, strict=True))
        runs = self._record_probes(targets, results, probe_plans)
        outcomes = [self._probe_outcome(plan, runs) for plan in probe_plans]
        outcomes += [self._dns_outcome(item, audits) for item in dns_items]
        outcomes += [
            readiness_outcome(item.item_id, accounts)
            for item in items
            if item.check is not None and item.check.kind is CheckKind.READINESS
        ]
        order = {item.item_id: n for n, item in enumerate(items)}
        outcomes.sort(key=lambda o: order[o.item_id])
        self.workspace.checklists.record_checks(checklist, outcomes)
        return outcomes

    async def _audit(self, checklist: Checklist, profile: Profile) -> tuple[DnsAudit, RunRecord]:
        started = time.monotonic()
        audit = await audit_domain(
            checklist.domain, profile, self.dns, tenant=checklist.tenant or None, https=self.https
        )
        record = self.workspace.history.record_dns(audit, time.monotonic() - started)
        return audit, record

    def _record_probes(
        self, targets: list[Target], results: list[ProbeResult], plans: list[_ProbePlan]
    ) -> dict[Target, tuple[RunRecord, ProbeResult]]:
        owner: dict[Target, Account] = {}
        for plan in plans:
            for account, target in plan.pairs:
                owner.setdefault(target, account)
        accounts = [owner[target] for target in targets]
        for result, account in zip(results, accounts, strict=True):
            self.workspace.tokens.note_result(account, result)
        records = self.workspace.history.record_probes(
            [
                (result, self.workspace.accounts.account_id(account.name), account.name)
                for result, account in zip(results, accounts, strict=True)
            ]
        )
        return {
            target: (record, result)
            for target, record, result in zip(targets, records, results, strict=True)
        }

    def _probe_outcome(
        self, plan: _ProbePlan, runs: dict[Target, tuple[RunRecord, ProbeResult]]
    ) -> CheckOutcome:
        item_id = plan.item.item_id
        if not plan.pairs:
            return CheckOutcome(item_id, Status.SKIPPED, plan.problem)
        statuses: list[Status] = []
        lines: list[str] = []
        run_ids: list[int] = []
        for account, target in plan.pairs:
            record, result = runs[target]
            statuses.append(result.status)
            run_ids.append(record.id)
            lines.append(f"{account.name} {probe_subject(target)}: {record.summary}")
        status = _worst(statuses)
        if plan.problem:
            lines.append(plan.problem)
            status = status if status is Status.FAIL else Status.SKIPPED
        return CheckOutcome(item_id, status, "; ".join(lines), run_ids)

    def _dns_outcome(
        self, item: ChecklistItem, audits: dict[Profile, tuple[DnsAudit, RunRecord]]
    ) -> CheckOutcome:
        spec = item.check
        assert spec is not None and spec.profile is not None
        audit, record = audits[spec.profile]
        status, summary = dns_verdict(spec, audit)
        return CheckOutcome(item.item_id, status, summary, [record.id])
