"""DNS audit results round-trip: ``from_dict(to_dict())`` against audits of real lab servers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mxlab.dns_server import DnsLab
from mxlab.dns_zones import full_lab, propagation_zone
from probes.dns.audit import DnsAudit, PropagationRow, audit_domain
from probes.dns.client import DnsClient
from probes.dns.findings import (
    DkimFacts,
    DmarcFacts,
    MtaStsFacts,
    MxFacts,
    SpfFacts,
    check_facts,
)
from probes.dns.model import ChangeAction, Lookup, LookupStatus, RecordChange, RecordCheck
from probes.dns.mtasts import PolicyFetch
from probes.dns.profiles import Profile
from probes.dns.stored import StoredAuditError
from probes.dns.sts import HttpsOptions
from probes.mail.resolve import Nameserver
from probes.status import Status
from render.dns import audit_lines, stored_dns_lines
from tests.labkit.dns_fixture import PROVIDER_ZONE, load_zone
from tests.labkit.https_server import LabHttpsServer
from tui.screens.checklist import evidence

POLICY = (
    b"version: STSv1\r\nmode: enforce\r\nmx: *.mail.protection.outlook.com\r\nmax_age: 604800\r\n"
)

BROKEN_ZONE = {
    **PROVIDER_ZONE,
    "broken.lab.test MX": "servfail",
    "_dmarc.broken.lab.test TXT": ["v=DMARC1; p=quarantine; rua=mailto:d@elsewhere.test"],
    "autodiscover.broken.lab.test CNAME": ["autodiscover.outlook.com."],
    "_mta-sts.broken.lab.test TXT": ["v=STSv1; id=1"],
    "_smtp._tls.broken.lab.test TXT": ["v=TLSRPTv1; rua=http://bad.test"],
    "silent.lab.test TXT": "timeout",
}


class Servers:
    """The lab's DNS servers (the full lab, two disagreeing authoritatives) and HTTPS."""

    def __init__(self, main: DnsLab, zoned: DnsLab, https: LabHttpsServer) -> None:
        self.main = main
        self.zoned = zoned
        self.https = https

    def audit(self, domain: str, profile: Profile, zoned: bool = False) -> DnsAudit:
        server = self.zoned if zoned else self.main
        client = DnsClient([Nameserver(server.host, server.port)], 0.5)
        https = HttpsOptions(self.https.client_context(), timeout=3.0, port=self.https.port)
        return asyncio.run(
            audit_domain(
                domain, profile, client, https=https, authoritative_port=server.port, tenant="t"
            )
        )


@pytest.fixture(scope="module", name="servers")
def servers_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    main = DnsLab()
    full_lab(main)
    main.start()
    first = DnsLab("127.0.0.2", main.port)
    second = DnsLab("127.0.0.3", main.port)
    propagation_zone(main, first, second)
    first.start()
    second.start()
    zoned = DnsLab()
    load_zone(zoned, BROKEN_ZONE)
    zoned.start()
    https = LabHttpsServer(
        tmp_path_factory.mktemp("https"),
        ["mta-sts.m365.lab.test"],
        {"/.well-known/mta-sts.txt": (200, "text/plain", POLICY)},
    )
    https.start()
    yield Servers(main, zoned, https)
    https.stop()
    for server in (main, first, second, zoned):
        server.stop()


AUDITS = [
    ("m365.lab.test", Profile.OFFICE365, False),
    ("gmail.lab.test", Profile.OFFICE365, False),
    ("gmail.lab.test", Profile.GMAIL, False),
    ("coexist.lab.test", Profile.COEXISTENCE, False),
    ("baddmarc.lab.test", Profile.OFFICE365, False),
    ("twospf.lab.test", Profile.COEXISTENCE, False),
    ("prop.lab.test", Profile.OFFICE365, False),
    ("servfail-zone.lab.test", Profile.OFFICE365, False),
    ("broken.lab.test", Profile.COEXISTENCE, True),
    ("silent.lab.test", Profile.GMAIL, True),
]


@pytest.mark.parametrize(("domain", "profile", "zoned"), AUDITS)
def test_lab_audit_round_trips(
    servers: Servers, domain: str, profile: Profile, zoned: bool
) -> None:
    audit = servers.audit(domain, profile, zoned)
    data = audit.to_dict()
    again = DnsAudit.from_dict(data)
    assert again.to_dict() == data
    assert again.status is audit.status and again.changes == audit.changes
    assert again.checks == audit.checks and again.propagation == audit.propagation
    # as the history keeps it: JSON text, read back
    stored = json.loads(json.dumps(data, ensure_ascii=False))
    assert DnsAudit.from_dict(stored).to_dict() == data
    assert json.dumps(DnsAudit.from_dict(stored).to_dict()) == json.dumps(data)


def test_lab_audits_cover_the_interesting_shapes(servers: Servers) -> None:
    """The audits above hold propagation rows, failed lookups, facts and changes."""
    prop = servers.audit("prop.lab.test", Profile.OFFICE365)
    assert prop.propagation and not all(row.agree for row in prop.propagation)
    broken = servers.audit("broken.lab.test", Profile.COEXISTENCE, zoned=True)
    lookups = [lk for check in broken.checks for lk in check.lookups]
    assert any(lk.status is LookupStatus.SERVFAIL for lk in lookups)
    m365 = servers.audit("m365.lab.test", Profile.OFFICE365)
    assert all(check.facts for check in m365.checks if check.id in ("mx", "spf", "mta_sts"))


def test_unknown_keys_are_ignored(servers: Servers) -> None:
    data = servers.audit("gmail.lab.test", Profile.OFFICE365).to_dict()
    noisy = json.loads(json.dumps(data))
    noisy["schema"] = 9
    noisy["checks"][0]["extra"] = {"x": 1}
    noisy["checks"][0]["lookups"][0]["extra"] = None
    noisy["changes"][0]["extra"] = []
    assert DnsAudit.from_dict(noisy).to_dict() == data


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("domain"),
        lambda d: d.update(profile="exchange2010"),
        lambda d: d.update(checks={}),
        lambda d: d["checks"][0].update(status="great"),
        lambda d: d["checks"][0].update(required="yes"),
        lambda d: d["checks"][0].update(found="one"),
        lambda d: d["checks"][0].update(facts=[1]),
        lambda d: d["checks"][0]["lookups"][0].update(ttl="3600"),
        lambda d: d["checks"][0]["lookups"][0].update(ttl=True),
        lambda d: d["checks"][0]["lookups"][0].pop("type"),
        lambda d: d["checks"][0]["changes"].append({"action": "add"}),
        lambda d: d["checks"][0]["changes"].append(7),
        lambda d: d["propagation"].append({"name": "x", "type": "MX", "answers": [], "agree": 1}),
    ],
)
def test_malformed_input_raises_one_error(servers: Servers, breakage: Any) -> None:
    data = json.loads(json.dumps(servers.audit("gmail.lab.test", Profile.OFFICE365).to_dict()))
    breakage(data)
    with pytest.raises(StoredAuditError):
        DnsAudit.from_dict(data)


@pytest.mark.parametrize("junk", [None, [], "audit", 3, {1: "x"}])
def test_not_an_object_raises(junk: object) -> None:
    with pytest.raises(StoredAuditError):
        DnsAudit.from_dict(junk)  # type: ignore[arg-type]
    assert issubclass(StoredAuditError, ValueError)


# --- hypothesis: the small models ---------------------------------------------------------------

texts = st.text(max_size=20)
lookups = st.builds(
    Lookup,
    name=texts,
    rtype=st.sampled_from(["MX", "TXT", "CNAME", "A"]),
    status=st.sampled_from(list(LookupStatus)),
    records=st.lists(texts, max_size=3).map(tuple),
    ttl=st.none() | st.integers(0, 2**31),
    server=texts,
    detail=texts,
)
changes = st.builds(
    RecordChange,
    action=st.sampled_from(list(ChangeAction)),
    name=texts,
    rtype=texts,
    value=texts,
    ttl=st.integers(0, 2**31),
    current=st.none() | texts,
    reason=texts,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
checks = st.builds(
    RecordCheck,
    id=texts,
    title=texts,
    status=st.sampled_from(list(Status)),
    found=st.lists(texts, max_size=3),
    expected=texts,
    messages=st.lists(texts, max_size=3),
    changes=st.lists(changes, max_size=2),
    facts=st.dictionaries(texts, json_values, max_size=3),
    lookups=st.lists(lookups, max_size=2),
    required=st.booleans(),
)
rows = st.builds(
    PropagationRow,
    name=texts,
    rtype=texts,
    answers=st.dictionaries(texts, st.lists(texts, max_size=2), max_size=3),
    agree=st.booleans(),
)
audits = st.builds(
    DnsAudit,
    domain=texts,
    profile=st.sampled_from(list(Profile)),
    resolver=texts,
    checks=st.lists(checks, max_size=3),
    propagation=st.lists(rows, max_size=2),
)


@given(lookups)
def test_lookup_round_trips(lookup: Lookup) -> None:
    assert Lookup.from_dict(lookup.to_dict()) == lookup


@given(changes)
def test_change_round_trips(change: RecordChange) -> None:
    assert RecordChange.from_dict(change.to_dict()) == change


@given(audits)
def test_audit_round_trips(audit: DnsAudit) -> None:
    data = json.loads(json.dumps(audit.to_dict()))
    assert DnsAudit.from_dict(data).to_dict() == audit.to_dict()


# --- typed facts ---------------------------------------------------------------------------------


def test_typed_facts_of_a_ready_domain(servers: Servers) -> None:
    audit = DnsAudit.from_dict(servers.audit("m365.lab.test", Profile.OFFICE365).to_dict())
    checks = {check.id: check for check in audit.checks}
    mx = MxFacts.of(checks["mx"])
    assert mx is not None and not mx.lookup_failed
    assert mx.providers == ("microsoft",) and isinstance(mx.ttl, int)
    spf = SpfFacts.of(checks["spf"])
    assert spf is not None and spf.status == "pass" and "Microsoft 365" in spf.providers
    assert spf.lookup_count >= 1 and spf.records
    dkim = DkimFacts.of(checks["dkim:selector1"])
    assert dkim is not None and dkim.selector == "selector1" and dkim.status == "ok"
    dmarc = DmarcFacts.of(checks["dmarc"])
    assert dmarc is not None and dmarc.status == "pass" and dmarc.policy is not None
    sts = MtaStsFacts.of(checks["mta_sts"])
    assert sts is not None and sts.mode == "enforce"
    assert sts.fetch is not None and sts.fetch.ok and sts.fetch.policy is not None
    assert sts.fetch.policy.mx == ["*.mail.protection.outlook.com"]
    assert PolicyFetch.from_dict(sts.fetch.to_dict()).to_dict() == checks["mta_sts"].facts["fetch"]
    assert MxFacts.of(checks["spf"]) is None and check_facts(checks["autodiscover"]) is None
    assert isinstance(check_facts(checks["dkim:selector2"]), DkimFacts)


def test_typed_facts_of_failed_lookups(servers: Servers) -> None:
    audit = servers.audit("broken.lab.test", Profile.COEXISTENCE, zoned=True)
    checks = {check.id: check for check in audit.checks}
    assert MxFacts.of(checks["mx"]) == MxFacts(lookup_failed=True)
    sts = MtaStsFacts.of(checks["mta_sts"])
    assert sts is not None and sts.fetch is None and sts.mode is None


@pytest.mark.parametrize("name", sorted({audit[0] for audit in AUDITS}))
def test_typed_facts_read_every_lab_audit(servers: Servers, name: str) -> None:
    domain, profile, zoned = next(audit for audit in AUDITS if audit[0] == name)
    for check in servers.audit(domain, profile, zoned).checks:
        check_facts(check)  # never raises on what the audit writes


def test_malformed_facts_raise() -> None:
    with pytest.raises(StoredAuditError):
        MxFacts.from_dict({"ttl": "long"})
    with pytest.raises(StoredAuditError):
        SpfFacts.from_dict({"status": "pass"})
    with pytest.raises(StoredAuditError):
        MtaStsFacts.from_dict({"fetch": {"url": 1}})
    with pytest.raises(StoredAuditError):
        DkimFacts.from_dict([])  # type: ignore[arg-type]


# --- one renderer for a live audit and a stored one ---------------------------------------


@pytest.mark.parametrize("record", [None, "", "mx", "dkim", "spf", "mta_sts", "nothing"])
@pytest.mark.parametrize(
    ("domain", "profile", "zoned"),
    [AUDITS[0], AUDITS[1], AUDITS[6], AUDITS[8]],
)
def test_stored_lines_match_the_evidence_dialog(
    servers: Servers, domain: str, profile: Profile, zoned: bool, record: str | None
) -> None:
    """``stored_dns_lines`` draws what the checklist evidence dialog draws today, span for span."""
    audit = servers.audit(domain, profile, zoned)
    data = json.loads(json.dumps(audit.to_dict(), ensure_ascii=False))
    stored = stored_dns_lines(data, record)
    legacy = getattr(evidence, "dns_lines", None)  # the dialog's own renderer, until it switches
    if legacy is not None:
        assert stored == legacy(data, record)
    assert [line.plain for line in stored] == [line.plain for line in audit_lines(audit, record)]
    assert stored == audit_lines(audit, record)


def test_stored_lines_of_junk_say_so() -> None:
    (line,) = stored_dns_lines({"domain": "x.test"})
    assert "cannot be read" in line.plain and "profile" in line.plain


def test_migration_phase_is_the_profile_and_compares_as_text() -> None:
    from probes.dns.profiles import EXPECTATIONS, MailProvider, MigrationPhase, mx_provider

    assert Profile is MigrationPhase
    assert [phase.value for phase in MigrationPhase] == ["gmail", "coexistence", "office365"]
    assert MigrationPhase("office365") is MigrationPhase.OFFICE365
    phase: str = MigrationPhase.OFFICE365
    assert phase == "office365" and f"{phase}" == "office365"
    assert EXPECTATIONS["coexistence"].mx_provider is MailProvider.GOOGLE  # type: ignore[index]
    assert mx_provider("x.mail.protection.outlook.com.") == "microsoft"
