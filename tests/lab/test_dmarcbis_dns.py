"""DMARC as RFC 9989 reads it, over the lab DNS server: the evaluation, the audit's check,
and the stored audit read back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from mxlab.dns_server import DnsLab
from mxlab.dns_zones import dmarcbis_zones, provider_records
from probes.dns.audit import DnsAudit, audit_domain
from probes.dns.client import DnsClient
from probes.dns.dmarc import evaluate_dmarc
from probes.dns.findings import DmarcFacts
from probes.dns.mailauth import check_dmarc
from probes.dns.model import RecordCheck
from probes.dns.profiles import Profile
from probes.mail.resolve import Nameserver
from probes.status import Status
from tests.labkit.dns_fixture import LabZones, lab_zones

RUA = "rua=mailto:d@example.com"


@pytest.fixture(name="zone")
def zone_fixture() -> Iterator[LabZones]:
    """Lab DNS zones, each test's own."""
    yield from lab_zones()


async def test_removed_tags_warn_and_the_policy_passes(zone: LabZones) -> None:
    dns = zone({"_dmarc.example.com TXT": [f"v=DMARC1; p=reject; pct=50; rf=afrf; ri=3600; {RUA}"]})
    result = await evaluate_dmarc("example.com", dns)
    assert result.status == "pass" and result.errors == []
    assert [w.split(" ", 1)[0] for w in result.warnings] == ["pct=50", "rf=afrf", "ri=3600"]
    assert all("RFC 9989 removed" in w for w in result.warnings)
    assert result.to_dict()["parsed"]["removed"] == ["pct", "rf", "ri"]


async def test_out_of_range_removed_tag_is_not_a_permerror(zone: LabZones) -> None:
    dns = zone({"_dmarc.example.com TXT": [f"v=DMARC1; p=quarantine; pct=150; {RUA}"]})
    result = await evaluate_dmarc("example.com", dns)
    assert result.status == "pass" and result.errors == []
    (warning,) = result.warnings
    assert warning.startswith("pct=150 (out of range 0-100) is ignored")


async def test_test_mode_is_a_warning_that_the_policy_is_not_enforced(zone: LabZones) -> None:
    dns = zone({"_dmarc.example.com TXT": [f"v=DMARC1; p=reject; t=y; np=reject; psd=n; {RUA}"]})
    check = await check_dmarc("example.com", dns)
    assert check.status is Status.WARN
    assert any("t=y (test mode): the policy is not enforced" in m for m in check.messages)
    parsed = check.facts["parsed"]
    assert (parsed["testing"], parsed["applied_policy"]) == (True, "quarantine")
    assert (parsed["nonexistent_policy"], parsed["psd"]) == ("reject", "n")


async def test_bad_values_of_new_tags_fail_the_check(zone: LabZones) -> None:
    dns = zone({"_dmarc.example.com TXT": [f"v=DMARC1; p=reject; np=x; psd=2; t=on; {RUA}"]})
    check = await check_dmarc("example.com", dns)
    assert check.status is Status.FAIL
    text = " ".join(check.messages)
    assert "np=x" in text and "psd=2" in text and "t=on" in text
    assert "unknown tag" not in text


async def test_inherited_test_mode_is_said(zone: LabZones) -> None:
    dns = zone({"_dmarc.example.com TXT": [f"v=DMARC1; p=reject; sp=reject; t=y; {RUA}"]})
    check = await check_dmarc("mail.example.com", dns)
    assert check.status is Status.WARN
    assert any("example.com's record has t=y" in m for m in check.messages)
    assert any("quarantine instead of reject" in m for m in check.messages)


# ---- the audit over the lab's zones, stored and read back ---------------------------------


@pytest.fixture(scope="module", name="lab")
def lab_fixture() -> Iterator[DnsLab]:
    lab = DnsLab()
    provider_records(lab)
    dmarcbis_zones(lab)
    lab.start()
    yield lab
    lab.stop()


def _dmarc_check(lab: DnsLab, domain: str) -> RecordCheck:
    """The DMARC check of an audit, after a trip through JSON (as the history stores it)."""
    client = DnsClient([Nameserver(lab.host, lab.port)], 1.0)
    audit = asyncio.run(
        audit_domain(domain, Profile.OFFICE365, client, authoritative_port=lab.port)
    )
    stored = DnsAudit.from_dict(json.loads(json.dumps(audit.to_dict())))
    assert stored.to_dict() == audit.to_dict()
    (check,) = [c for c in stored.checks if c.id == "dmarc"]
    return check


@pytest.mark.parametrize(
    ("domain", "status", "words"),
    [
        ("legacy-dmarc.lab.test", Status.WARN, ["pct=50 is ignored", "rf=afrf", "ri=3600"]),
        ("range-dmarc.lab.test", Status.WARN, ["pct=150 (out of range 0-100) is ignored"]),
        ("testmode-dmarc.lab.test", Status.WARN, ["t=y (test mode)", "p=quarantine instead"]),
        ("badnew-dmarc.lab.test", Status.FAIL, ["np=drop", "psd=maybe", "t=yes"]),
    ],
)
def test_audit_reads_dmarcbis(lab: DnsLab, domain: str, status: Status, words: list[str]) -> None:
    check = _dmarc_check(lab, domain)
    assert check.status is status, check.messages
    text = " ".join(check.messages)
    for word in words:
        assert word in text
    facts = DmarcFacts.of(check)
    assert facts is not None and facts.policy in ("reject", "quarantine")


def test_stored_facts_keep_the_stated_pct(lab: DnsLab) -> None:
    facts = DmarcFacts.of(_dmarc_check(lab, "legacy-dmarc.lab.test"))
    assert facts is not None and facts.status == "pass" and facts.pct == 50
