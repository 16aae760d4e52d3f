"""Checklist checks run against the lab: probes with keyring passwords, DNS audits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mxlab.dns_server import DnsLab
from mxlab.dns_zones import TENANT
from mxlab.smtp import PERSONALITIES, SmtpLabServer
from probes.dns.client import DnsClient
from probes.mail.model import Security
from probes.mail.resolve import Nameserver
from probes.mail.runner import ProbeOptions
from probes.status import Status
from tests.conftest import IMAP_USERS
from workspace.accounts.model import Account, AccountRole, MailEndpoint, Side
from workspace.checklist.check_spec import CheckKind
from workspace.checklist.model import Checklist, ChecklistItem
from workspace.session import Workspace
from workspace.usecases.verify_checklist import ChecklistVerifier

IMAP_USER = "imap@lab.test"
SOURCE_USER = "empty@lab.test"


def items(checklist: Checklist, **spec: Any) -> list[ChecklistItem]:
    found = []
    for item in checklist.items:
        if item.check is None:
            continue
        data = item.check.to_dict()
        if all(data.get(k) == v for k, v in spec.items()):
            found.append(item)
    return found


@pytest.fixture
def migration(
    workspace: Workspace, smtp_server: Callable[..., SmtpLabServer], dovecot: Any
) -> tuple[Workspace, SmtpLabServer]:
    """The seed's system on the lab: one target mailbox in three roles, one Gmail source."""
    password = IMAP_USERS[IMAP_USER]
    smtp = smtp_server("starttls", users={IMAP_USER: password})
    workspace.accounts.add(
        Account(
            name="controloc",
            address=IMAP_USER,
            side=Side.SERVICE,
            provider="office365",
            roles=(AccountRole.MONITORING, AccountRole.SENDER, AccountRole.ORDER_INBOX),
            imap=MailEndpoint("127.0.0.1", dovecot.imaps_port, Security.TLS),
            smtp=MailEndpoint("127.0.0.1", smtp.port, Security.STARTTLS),
        ),
        password,
    )
    workspace.accounts.add(
        Account(
            name="gmail-source",
            address=SOURCE_USER,
            side=Side.SOURCE,
            provider="gmail",
            roles=(AccountRole.MIGRATION,),
            imap=MailEndpoint("127.0.0.1", dovecot.imap_port, Security.STARTTLS),
        ),
        IMAP_USERS[SOURCE_USER],
    )
    return workspace, smtp


def verifier(ws: Workspace, options: ProbeOptions, zones: DnsLab) -> ChecklistVerifier:
    dns = DnsClient([Nameserver("127.0.0.1", zones.port)], timeout=2.0)
    return ChecklistVerifier(ws, options, dns)


async def test_verify_ticks_items_with_evidence_and_flags_regressions(
    migration: tuple[Workspace, SmtpLabServer], lab_options: ProbeOptions, zones: DnsLab
) -> None:
    ws, smtp = migration
    checklist = ws.checklists.create("m365.lab.test", tenant=f"{TENANT}.onmicrosoft.com")
    outcomes = await verifier(ws, lab_options, zones).run(checklist)
    by_id = {o.item_id: o for o in outcomes}
    assert set(by_id) == {i.item_id for i in checklist.items if i.check}
    after = ws.checklists.get()

    smtp_items = items(after, kind="probe", protocol="smtp", side="target")
    imap_items = items(after, kind="probe", protocol="imap", side="target")
    source_items = items(after, kind="probe", protocol="imap", side="source")
    mx_items = items(after, kind="dns", record="mx", profile="office365")
    assert smtp_items and imap_items and source_items and mx_items
    for item in smtp_items + imap_items + source_items + mx_items:
        assert item.status_label == "verified", (item.item_id, by_id[item.item_id].summary)
        assert item.evidence is not None and item.evidence.run_ids
        for run_id in item.evidence.run_ids:
            run = ws.history.get(run_id)
            assert run is not None and run.status in ("pass", "warn")
    gmail_mx = items(after, kind="dns", record="mx", profile="gmail")
    for item in gmail_mx:  # the lab domain already points at Microsoft 365
        assert by_id[item.item_id].status is Status.FAIL and item.status_label == "open"

    # each distinct probe ran once even when several items asked for it
    probe_runs = [r for r in ws.history.recent(200) if r.kind == "probe"]
    assert len(probe_runs) == len({r.subject for r in probe_runs})

    # Microsoft turns SMTP AUTH off for the tenant: the sender items regress
    smtp.personality = PERSONALITIES["o365_tenant_disabled"]
    again = await verifier(ws, lab_options, zones).run(after, [smtp_items[0].item_id])
    assert [o.status for o in again] == [Status.FAIL]
    assert "5.7.139" in again[0].summary
    regressed = ws.checklists.get().item(smtp_items[0].item_id)
    assert regressed.status_label == "regressed"
    assert regressed.evidence is not None and regressed.last_check is not None
    assert regressed.evidence.id != regressed.last_check.id

    # fixed: it passes again, and the history says since when
    smtp.personality = PERSONALITIES["ok"]
    await verifier(ws, lab_options, zones).run(after, [smtp_items[0].item_id])
    fixed = ws.checklists.get().item(smtp_items[0].item_id)
    assert fixed.status_label == "verified"
    assert fixed.evidence is not None
    subject = ws.history.get(fixed.evidence.run_ids[0]).subject  # type: ignore[union-attr]
    since = ws.history.passing_since(subject)
    assert since is not None and since.id == fixed.evidence.run_ids[0]


async def test_checks_that_cannot_run_say_why(
    workspace: Workspace, lab_options: ProbeOptions, zones: DnsLab
) -> None:
    checklist = workspace.checklists.create("m365.lab.test")
    probe_items = [i for i in checklist.items if i.check and i.check.kind is CheckKind.PROBE]
    outcomes = await verifier(workspace, lab_options, zones).run(
        checklist, [probe_items[0].item_id]
    )
    assert outcomes[0].status is Status.SKIPPED
    assert "mxpilot accounts add" in outcomes[0].summary
    workspace.accounts.add(
        Account(
            name="nopass",
            address="nopass@m365.lab.test",
            side=Side.TARGET,
            provider="office365",
            imap=MailEndpoint("127.0.0.1", 9, Security.TLS),
            smtp=MailEndpoint("127.0.0.1", 9, Security.STARTTLS),
        )
    )
    login_items = [i for i in probe_items if i.check and i.check.login and i.check.role is None]
    target_login = next(i for i in login_items if i.check and i.check.side is Side.TARGET)
    outcomes = await verifier(workspace, lab_options, zones).run(checklist, [target_login.item_id])
    assert outcomes[0].status is Status.SKIPPED
    assert "no password in the keyring for nopass" in outcomes[0].summary
    manual = next(i for i in checklist.items if i.check is None)
    with pytest.raises(ValueError, match="no automatic check"):
        verifier(workspace, lab_options, zones).items_to_check(checklist, [manual.item_id])
