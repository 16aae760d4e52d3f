"""The rules of checklist checks: which accounts a check is about, and what proves an item.

Probe checks pick the accounts the spec names (side and role) and pass when
every one passes; DNS checks read the named record's verdict from an audit of
the checklist's domain; the readiness check passes when no login depends on
Basic auth. Running the checks is the ``workspace.usecases.verify_checklist``
use case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from probes.dns.audit import DnsAudit
from probes.mail.model import ProbeResult, Protocol, Target
from probes.status import Status, worst
from workspace.accounts.model import GOOGLE_PROVIDERS, Account, Side
from workspace.auth.readiness import basic_auth_readiness, platform_of
from workspace.checklist.book import ChecklistError
from workspace.checklist.check_spec import CheckSpec
from workspace.checklist.model import Checklist, ChecklistItem, CheckOutcome
from workspace.history import RunRecord, probe_subject


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


def dns_verdict(spec: CheckSpec, audit: DnsAudit) -> tuple[Status, str]:
    """The verdict of the record a DNS check names, from an audit."""
    record = spec.record or ""
    found = [c for c in audit.checks if c.id == record or c.id.startswith(record + ":")]
    if not found:
        return Status.SKIPPED, f"the {audit.profile.value} audit has no {record} check"
    status = worst((c.status for c in found), Status.PASS)
    parts = []
    for check in found:
        line = f"{check.id}: {check.status.value}"
        if check.status is not Status.PASS and check.messages:
            line += f" ({check.messages[0]})"
        parts.append(line)
    return status, "; ".join(parts)


def items_to_check(checklist: Checklist, item_ids: Sequence[str] = ()) -> list[ChecklistItem]:
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


def no_account_problem(spec: CheckSpec) -> str:
    """Why a probe check cannot run: no account of its side, protocol and role."""
    protocol = (spec.protocol or Protocol.IMAP).value.upper()
    role = f" with the role {spec.role.value}" if spec.role else ""
    side = spec.side.value if spec.side else "any"
    return f"no {side} account with {protocol}{role}: add one with 'mxpilot accounts add'"


def login_problem(problems: Sequence[str], missing: Sequence[str]) -> str:
    """Why some accounts of a login check were not probed: refused sign-ins, no password."""
    lines = list(problems)
    if missing:
        lines.append(
            f"no password in the keyring for {', '.join(missing)}: "
            "'mxpilot accounts edit NAME --set-password'"
        )
    return "; ".join(lines)


def probe_outcome(
    item_id: str,
    pairs: Sequence[tuple[Account, Target]],
    runs: Mapping[Target, tuple[RunRecord, ProbeResult]],
    problem: str = "",
) -> CheckOutcome:
    """A probe check's outcome: the worst of its accounts' probes, each stored run as evidence.

    Accounts that could not be probed (``problem``) turn a pass into "skipped".
    """
    if not pairs:
        return CheckOutcome(item_id, Status.SKIPPED, problem)
    statuses: list[Status] = []
    lines: list[str] = []
    run_ids: list[int] = []
    for account, target in pairs:
        record, result = runs[target]
        statuses.append(result.status)
        run_ids.append(record.id)
        lines.append(f"{account.name} {probe_subject(target)}: {record.summary}")
    status = worst(statuses, Status.PASS)
    if problem:
        lines.append(problem)
        status = status if status is Status.FAIL else Status.SKIPPED
    return CheckOutcome(item_id, status, "; ".join(lines), run_ids)


def dns_outcome(item: ChecklistItem, audit: DnsAudit, record: RunRecord) -> CheckOutcome:
    """A DNS check's outcome from the stored audit of its profile."""
    assert item.check is not None
    status, summary = dns_verdict(item.check, audit)
    return CheckOutcome(item.item_id, status, summary, [record.id])
