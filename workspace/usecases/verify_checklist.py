"""Verify a checklist: run the checks behind its items, store the runs, tick or flag items.

Probe checks probe the accounts the spec names with their login secrets
(:mod:`workspace.usecases.probe_accounts`); DNS checks audit the checklist's
domain once per profile (:mod:`workspace.usecases.audit_domain`); the readiness
check reads the accounts. Every probe and audit runs concurrently; identical
probes asked by several items run once. The CLI, the TUI and the demo call
:func:`verify_checklist` (or the :class:`ChecklistVerifier` under it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from probes.dns.audit import DnsAudit
from probes.dns.client import DnsClient
from probes.dns.profiles import Profile
from probes.dns.sts import HttpsOptions
from probes.mail.model import ProbeResult, Target
from probes.mail.runner import EventSink, ProbeOptions
from workspace.accounts.model import Account
from workspace.checklist.check_spec import CheckKind
from workspace.checklist.model import Checklist, ChecklistItem, CheckOutcome
from workspace.checklist.verification import (
    dns_outcome,
    items_to_check,
    login_problem,
    matching_accounts,
    no_account_problem,
    probe_outcome,
    readiness_outcome,
)
from workspace.connection import ConnectionSettings
from workspace.history import RunRecord
from workspace.session import Workspace
from workspace.usecases.audit_domain import AuditNetwork, DomainAuditRequest, audit_and_record
from workspace.usecases.probe_accounts import (
    LoginSecrets,
    ProbePlan,
    plan_with_secrets,
    run_account_probes,
)

__all__ = ["ChecklistVerifier", "items_to_check", "verify_checklist"]


@dataclass(frozen=True)
class _ItemPlan:
    item: ChecklistItem
    plan: ProbePlan
    problem: str = ""


def _kind(item: ChecklistItem, kind: CheckKind) -> bool:
    return item.check is not None and item.check.kind is kind


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
        return items_to_check(checklist, item_ids)

    def _plan_item(
        self, item: ChecklistItem, accounts: Sequence[Account], secrets: LoginSecrets
    ) -> _ItemPlan:
        spec = item.check
        assert spec is not None and spec.protocol is not None
        chosen = matching_accounts(spec, accounts)
        if not chosen:
            return _ItemPlan(item, ProbePlan(), no_account_problem(spec))
        plan = plan_with_secrets(
            chosen,
            secrets,
            protocols=[spec.protocol],
            login=spec.login,
            skip_without_secret=True,
        )
        problems = [p.problem for p in plan.accounts if p.problem]
        missing = [p.account.name for p in plan.accounts if p.secret_missing]
        return _ItemPlan(item, plan, login_problem(problems, missing))

    async def _login_secrets(
        self, items: Sequence[ChecklistItem], accounts: Sequence[Account]
    ) -> LoginSecrets:
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
        item_plans = [
            self._plan_item(item, accounts, secrets)
            for item in items
            if _kind(item, CheckKind.PROBE)
        ]
        dns_items = [item for item in items if _kind(item, CheckKind.DNS)]
        profiles = sorted(
            {i.check.profile for i in dns_items if i.check and i.check.profile}, key=str
        )
        plan = ProbePlan.combine(p.plan for p in item_plans)
        probe_job = asyncio.ensure_future(
            run_account_probes(self.workspace, plan, self.options, self.sink)
        )
        audited = await asyncio.gather(*(self._audit(checklist, p) for p in profiles))
        probed = await probe_job
        runs: dict[Target, tuple[RunRecord, ProbeResult]] = {
            target: (p.record, p.result)
            for target, p in zip(plan.targets, probed, strict=True)
            if p.record is not None
        }
        audits = dict(zip(profiles, audited, strict=True))
        outcomes = [
            probe_outcome(p.item.item_id, p.plan.pairs, runs, p.problem) for p in item_plans
        ]
        for item in dns_items:
            assert item.check is not None and item.check.profile is not None
            outcomes.append(dns_outcome(item, *audits[item.check.profile]))
        outcomes += [
            readiness_outcome(item.item_id, accounts)
            for item in items
            if _kind(item, CheckKind.READINESS)
        ]
        order = {item.item_id: n for n, item in enumerate(items)}
        outcomes.sort(key=lambda o: order[o.item_id])
        self.workspace.checklists.record_checks(checklist, outcomes)
        return outcomes

    async def _audit(self, checklist: Checklist, profile: Profile) -> tuple[DnsAudit, RunRecord]:
        request = DomainAuditRequest(checklist.domain, profile, tenant=checklist.tenant or None)
        audited = await audit_and_record(
            self.workspace, request, AuditNetwork(self.dns, self.https)
        )
        assert audited is not None and audited.record is not None  # not authoritative: found
        return audited.audit, audited.record


async def verify_checklist(
    ws: Workspace,
    settings: ConnectionSettings,
    checklist: Checklist,
    item_ids: Sequence[str] = (),
    on_event: EventSink | None = None,
) -> list[CheckOutcome]:
    """Run the items' checks (default: every item with one) with the session's network
    settings; each outcome is stored, ticks or flags its item, and is returned in item order.
    """
    verifier = ChecklistVerifier(
        ws, settings.probe_options(), settings.dns_client(), settings.https(), on_event
    )
    return await verifier.run(checklist, item_ids)
