"""The use cases both front ends call, against the lab: probe, audit, verify, start, values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from mxlab.certs import LabCertificates
from mxlab.dns_server import DnsLab
from mxlab.dns_zones import TENANT
from mxlab.smtp import SmtpLabServer
from probes.dns.profiles import Profile
from probes.mail.model import PhaseName, ProbeEvent, ProbeFinished, Protocol, Security
from probes.mail.resolve import Nameserver
from probes.mail.runner import ProbeOptions
from probes.status import Status
from tests.conftest import IMAP_USERS
from tests.lab.test_workspace_oauth import _m365, _sign_in
from workspace.accounts.model import Account, AccountRole, MailEndpoint, Side
from workspace.connection import ConnectionSettings
from workspace.history import dns_subject
from workspace.session import Workspace
from workspace.usecases.audit_domain import (
    AuditNetwork,
    DomainAuditRequest,
    audit_and_record,
    audit_network,
)
from workspace.usecases.checklist_values import checklist_values
from workspace.usecases.probe_accounts import (
    accounts_named,
    plan_account_probes,
    record_probe_results,
    refreshed_target,
    run_account_probes,
)
from workspace.usecases.start_migration import MigrationAnswers, start_migration
from workspace.usecases.verify_checklist import verify_checklist

IMAP_USER = "imap@lab.test"


def lab_settings(certs: LabCertificates, zones: DnsLab, **kwargs: Any) -> ConnectionSettings:
    """Trust the lab CA, ask the lab's DNS server; MTA-STS over HTTPS is not served (port 1)."""
    return ConnectionSettings(
        ca_file=certs.ca_pem,
        nameserver=Nameserver("127.0.0.1", zones.port),
        timeout=2.0,
        https_port=1,
        **kwargs,
    )


@pytest.fixture
def mailbox(
    workspace: Workspace, smtp_server: Callable[..., SmtpLabServer], dovecot: Any
) -> tuple[Workspace, SmtpLabServer]:
    """A Microsoft 365 target mailbox on the lab (Dovecot IMAP, lab SMTP), password stored."""
    password = IMAP_USERS[IMAP_USER]
    smtp = smtp_server("starttls", users={IMAP_USER: password})
    workspace.accounts.add(
        Account(
            name="mailbox",
            address=IMAP_USER,
            side=Side.TARGET,
            provider="office365",
            roles=(AccountRole.MAILBOX,),
            imap=MailEndpoint("127.0.0.1", dovecot.imaps_port, Security.TLS),
            smtp=MailEndpoint("127.0.0.1", smtp.port, Security.STARTTLS),
        ),
        password,
    )
    return workspace, smtp


async def test_probe_accounts_plans_runs_and_records_for_the_account(
    mailbox: tuple[Workspace, SmtpLabServer], lab_options: ProbeOptions
) -> None:
    ws, _ = mailbox
    accounts = accounts_named(ws, ["mailbox", "removed-meanwhile"])
    assert [a.name for a in accounts] == ["mailbox"]
    plan = await plan_account_probes(ws, accounts)
    assert not plan.without_login
    assert [t.protocol for t in plan.targets] == [Protocol.IMAP, Protocol.SMTP]
    assert all(t.credentials is not None for t in plan.targets)

    events: list[ProbeEvent] = []
    probed = await run_account_probes(ws, plan, lab_options, events.append)
    assert [p.result.status for p in probed] == [Status.PASS, Status.PASS]
    assert sum(isinstance(e, ProbeFinished) for e in events) == 2
    account_id = ws.accounts.account_id("mailbox")
    for p in probed:
        assert p.account.name == "mailbox" and p.record is not None
        assert p.record.account_name == "mailbox" and p.record.status == "pass"
    rows = ws.store.query("SELECT account_id FROM runs")
    assert {row["account_id"] for row in rows} == {account_id}
    assert [r.account_name for r in ws.history.recent(account_name="mailbox")] == [
        "mailbox",
        "mailbox",
    ]


async def test_an_account_without_a_password_is_planned_without_login_or_left_out(
    mailbox: tuple[Workspace, SmtpLabServer], lab_options: ProbeOptions, dovecot: Any
) -> None:
    ws, _ = mailbox
    nopass = ws.accounts.add(
        Account(
            name="nopass",
            address="nopass@lab.test",
            side=Side.SOURCE,
            provider="gmail",
            roles=(AccountRole.MIGRATION,),
            imap=MailEndpoint("127.0.0.1", dovecot.imaps_port, Security.TLS),
        )
    )
    plan = await plan_account_probes(ws, [nopass])
    [planned] = plan.without_login
    assert planned.secret_missing and not planned.problem
    assert [t.credentials for t in plan.targets] == [None]
    [probed] = await run_account_probes(ws, plan, lab_options)
    assert probed.result.phase(PhaseName.AUTH) is None  # connected, never tried to log in
    skipped = await plan_account_probes(ws, [nopass], skip_without_secret=True)
    assert skipped.targets == [] and skipped.without_login


async def test_a_password_fixed_meanwhile_counts_in_the_next_round(
    mailbox: tuple[Workspace, SmtpLabServer], lab_options: ProbeOptions
) -> None:
    ws, _ = mailbox
    account = ws.accounts.get("mailbox")
    ws.accounts.set_secret(account, "wrong-password")
    plan = await plan_account_probes(ws, [account], protocols=[Protocol.IMAP])
    [refused] = await run_account_probes(ws, plan, lab_options)
    assert refused.result.status is Status.FAIL
    ws.accounts.set_secret(account, IMAP_USERS[IMAP_USER])
    target = await refreshed_target(ws, "mailbox", plan.targets[0])
    assert target.credentials is not None
    assert target.credentials.secret == IMAP_USERS[IMAP_USER]
    plan = replace(plan, accounts=(replace(plan.accounts[0], targets=(target,)),))
    [fixed] = await run_account_probes(ws, plan, lab_options)
    assert fixed.result.status is Status.PASS
    subject = fixed.record.subject if fixed.record else ""
    since = ws.history.passing_since(subject)
    assert since is not None and fixed.record is not None and since.id == fixed.record.id


async def test_a_refused_oauth_login_drops_the_kept_token(
    workspace: Workspace, identity: Any, smtp_server: Any, lab_options: ProbeOptions
) -> None:
    """The token keeper hears of the refusal from the use case: the next plan refreshes."""
    workspace.use_connection(ConnectionSettings(ca_file=identity.ca_file, timeout=5.0))
    smtp = smtp_server(
        "starttls",
        "o365_basic_disabled",
        users={},
        oauth_introspection_url=f"{identity.base_url}/introspect",
        oauth_ca_file=identity.ca_file,
    )
    account = workspace.accounts.add(
        replace(
            _m365(),
            imap=None,
            roles=(AccountRole.SENDER,),
            smtp=MailEndpoint("127.0.0.1", smtp.port, Security.STARTTLS),
        )
    )
    account = (await _sign_in(workspace, identity, account)).account

    async def probe() -> Status:
        plan = await plan_account_probes(workspace, [account])
        [probed] = await run_account_probes(workspace, plan, lab_options)
        return probed.result.status

    assert await probe() is Status.PASS
    identity.expire_access_tokens()
    assert await probe() is Status.FAIL
    assert workspace.tokens.cached(account) is None  # dropped by the run
    assert await probe() is Status.PASS


async def test_results_recorded_for_rows_keep_a_removed_account_s_name(
    mailbox: tuple[Workspace, SmtpLabServer], lab_options: ProbeOptions
) -> None:
    ws, _ = mailbox
    plan = await plan_account_probes(ws, ws.accounts.list(), protocols=[Protocol.SMTP])
    [probed] = await run_account_probes(ws, plan, lab_options)
    ws.accounts.remove("mailbox")
    records = record_probe_results(ws, [(probed.result, "mailbox"), (probed.result, None)])
    assert [r.account_name for r in records] == ["mailbox", None]
    assert all(r.status == "pass" for r in records)


async def test_audit_a_domain_and_keep_it(
    workspace: Workspace, lab_certs: LabCertificates, zones: DnsLab
) -> None:
    network = audit_network(lab_settings(lab_certs, zones))
    request = DomainAuditRequest(
        "m365.lab.test", Profile.OFFICE365, tenant=f"{TENANT}.onmicrosoft.com"
    )
    audited = await audit_and_record(workspace, request, network)
    assert audited is not None and audited.record is not None
    assert audited.audit.domain == "m365.lab.test" and audited.seconds > 0
    mx = next(c for c in audited.audit.checks if c.id == "mx")
    assert mx.status is Status.PASS
    stored = workspace.history.get(audited.record.id)
    assert stored is not None and stored.subject == dns_subject("m365.lab.test", "office365")
    # no workspace: the audit alone
    alone = await audit_and_record(None, request, network)
    assert alone is not None and alone.record is None


async def test_audit_settings_choose_the_dns_server_and_the_query_timeout(
    lab_certs: LabCertificates, zones: DnsLab
) -> None:
    settings = lab_settings(lab_certs, zones, authoritative_port=zones.port)
    network = audit_network(settings, query_timeout=1.5)
    assert network.authoritative_port == zones.port
    assert network.https is not None and network.https.port == 1
    assert f"127.0.0.1:{zones.port}" in network.dns.label or str(zones.port) in network.dns.label
    request = DomainAuditRequest("no-such-zone.lab.test", Profile.OFFICE365, authoritative=True)
    assert await audit_and_record(None, request, network) is None  # no NS: nothing to ask


async def test_a_history_that_cannot_be_written_costs_a_note_not_the_audit(
    workspace: Workspace, lab_certs: LabCertificates, zones: DnsLab
) -> None:
    network = audit_network(lab_settings(lab_certs, zones))
    request = DomainAuditRequest("gmail.lab.test", Profile.GMAIL)
    workspace.close()
    notes: list[Exception] = []
    audited = await audit_and_record(workspace, request, network, on_history_error=notes.append)
    assert audited is not None and audited.record is None and len(notes) == 1


async def test_verify_checklist_with_the_session_settings(
    mailbox: tuple[Workspace, SmtpLabServer], lab_certs: LabCertificates, zones: DnsLab
) -> None:
    ws, _ = mailbox
    checklist = ws.checklists.create("m365.lab.test", tenant=f"{TENANT}.onmicrosoft.com")
    wanted = [
        item.item_id
        for item in checklist.items
        if item.check is not None
        and (
            (item.check.kind.value == "dns" and item.check.record == "mx")
            or (item.check.kind.value == "probe" and item.check.side is Side.TARGET)
        )
    ]
    events: list[ProbeEvent] = []
    outcomes = await verify_checklist(
        ws, lab_settings(lab_certs, zones), checklist, wanted, events.append
    )
    assert [o.item_id for o in outcomes] == wanted
    assert events
    after = ws.checklists.get()
    verified = 0
    for outcome in outcomes:
        item = after.item(outcome.item_id)
        assert item.check is not None
        if item.check.kind.value == "dns" and item.check.profile is not Profile.OFFICE365:
            continue  # the lab domain points at Microsoft 365 already
        if item.check.role not in (None, AccountRole.MAILBOX):
            continue  # no account in that role: skipped, and it says so
        assert outcome.status in (Status.PASS, Status.WARN), (outcome.item_id, outcome.summary)
        assert item.status_label == "verified" and outcome.run_ids
        verified += 1
    assert verified >= 3  # the MX record, and the mailbox's IMAP and SMTP logins


def test_start_migration_creates_the_accounts_and_the_checklist(workspace: Workspace) -> None:
    answers = MigrationAnswers(
        domain="contoso.lab.test",
        source="google-workspace",
        source_address="old@contoso.lab.test",
        target_address="new@contoso.lab.test",
        tenant="contoso.onmicrosoft.com",
        lang="es",
    )
    checklist = start_migration(workspace, answers)
    assert checklist.domain == "contoso.lab.test" and checklist.lang == "es"
    source, target = workspace.accounts.get("source"), workspace.accounts.get("target")
    assert source.side is Side.SOURCE and source.roles == (AccountRole.MIGRATION,)
    assert source.imap is not None  # the provider's servers filled in
    assert target.provider == "office365" and target.smtp is not None
    values = checklist_values(workspace, checklist)
    assert "new@contoso.lab.test" in values.values()
    assert "old@contoso.lab.test" in values.values()
    with pytest.raises(ValueError):
        start_migration(workspace, answers)  # the accounts exist already


def test_checklist_values_fall_back_to_a_microsoft_365_service_account(
    workspace: Workspace,
) -> None:
    workspace.accounts.add(
        Account(
            name="alerts",
            address="alerts@contoso.lab.test",
            side=Side.SERVICE,
            provider="office365",
            roles=(AccountRole.SENDER,),
            smtp=MailEndpoint("127.0.0.1", 2587, Security.STARTTLS),
        )
    )
    checklist = workspace.checklists.create("contoso.lab.test")
    assert "alerts@contoso.lab.test" in checklist_values(workspace, checklist).values()


def test_an_audit_network_can_be_given_directly(zones: DnsLab) -> None:
    from probes.dns.client import client_for

    network = AuditNetwork(client_for(Nameserver("127.0.0.1", zones.port), 1.0))
    assert network.https is None and network.authoritative_port is None
