"""SPF limits over the lab DNS server: void lookups named, the lookup limit said once, and
which senders it breaks (the terms a receiver reaches after the 10th lookup, RFC 7208 4.6.4)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from mxlab.dns_server import DnsLab
from mxlab.dns_zones import provider_records, spf_limit_zones
from probes.dns.audit import DnsAudit, audit_domain
from probes.dns.client import DnsClient
from probes.dns.findings import SpfFacts
from probes.dns.model import LookupStatus, RecordCheck
from probes.dns.profiles import Profile
from probes.dns.spf import LOOKUP_LIMIT, evaluate_spf
from probes.dns.spf_order import LateTerm
from probes.mail.resolve import Nameserver
from probes.status import Status
from tests.labkit.dns_fixture import PROVIDER_ZONE, LabZones, lab_zones

MICROSOFT = "include:spf.protection.outlook.com"


@pytest.fixture(name="zone")
def zone_fixture() -> Iterator[LabZones]:
    """Lab DNS zones: the providers' SPF records plus each test's own."""
    yield from lab_zones(PROVIDER_ZONE)


def _includes(count: int, domain: str = "example.com") -> dict[str, list[str]]:
    """``count`` include targets under ``domain``, each a record without lookups."""
    return {f"s{i}.{domain} TXT": [f"v=spf1 ip4:192.0.2.{i} -all"] for i in range(count)}


def _chain(count: int, domain: str = "example.com") -> str:
    return " ".join(f"include:s{i}.{domain}" for i in range(count))


# ---- which senders the lookup limit breaks ---------------------------------------------------


async def test_microsoft_after_the_tenth_lookup_fails(zone: LabZones) -> None:
    dns = zone({**_includes(10), "example.com TXT": [f"v=spf1 {_chain(10)} {MICROSOFT} -all"]})
    result = await evaluate_spf("example.com", dns)
    assert result.status == "permerror" and result.lookup_count == 11
    assert result.late_terms == [LateTerm(MICROSOFT, 11, 11, "Microsoft 365")]
    assert (
        "include:spf.protection.outlook.com is evaluated after the 10th lookup: "
        "mail from Microsoft 365 fails SPF"
    ) in result.errors
    limit = [e for e in result.errors if f"limit {LOOKUP_LIMIT}" in e]
    assert limit == ["11 DNS lookups, limit 10"], "the limit is said once"
    json.dumps(result.to_dict())
    assert result.to_dict()["late_terms"][0]["provider"] == "Microsoft 365"


async def test_microsoft_first_passes_and_the_last_include_breaks(zone: LabZones) -> None:
    dns = zone({**_includes(10), "example.com TXT": [f"v=spf1 {MICROSOFT} {_chain(10)} -all"]})
    result = await evaluate_spf("example.com", dns)
    assert [t.term for t in result.late_terms] == ["include:s9.example.com"]
    assert not any("Microsoft 365 fails" in e for e in result.errors)
    assert any(
        e.startswith("include:s9.example.com is evaluated after the 10th lookup: mail from the")
        for e in result.errors
    )


async def test_nested_include_breaks_in_part_and_later_addresses_fail(zone: LabZones) -> None:
    records = {
        **_includes(8),
        "hub.example.com TXT": ["v=spf1 include:_spf.google.com include:sendgrid.net -all"],
        "example.com TXT": [f"v=spf1 {_chain(8)} include:hub.example.com ip4:203.0.113.9 -all"],
    }
    result = await evaluate_spf("example.com", zone(records))
    assert result.lookup_count == 11
    assert result.late_terms == [
        LateTerm("include:hub.example.com", 9, 11),
        LateTerm("ip4:203.0.113.9", 11, 11),
    ]
    assert result.late_terms[0].partly and not result.late_terms[1].partly
    text = "\n".join(result.errors)
    assert "include:hub.example.com needs lookups 9-11, past the 10th" in text
    assert "ip4:203.0.113.9 is evaluated after the 10th lookup: mail from 203.0.113.9" in text
    assert text.count("limit 10") == 1


async def test_redirect_after_the_limit_names_its_provider(zone: LabZones) -> None:
    dns = zone(
        {**_includes(10), "example.com TXT": [f"v=spf1 {_chain(10)} redirect=_spf.google.com"]}
    )
    result = await evaluate_spf("example.com", dns)
    assert result.late_terms == [LateTerm("redirect=_spf.google.com", 11, 11, "Google")]
    assert any("mail from Google fails SPF" in e for e in result.errors)


async def test_within_the_limit_nothing_is_late(zone: LabZones) -> None:
    dns = zone({**_includes(9), "example.com TXT": [f"v=spf1 {_chain(9)} {MICROSOFT} -all"]})
    result = await evaluate_spf("example.com", dns)
    assert result.status == "pass" and result.lookup_count == 10 and result.late_terms == []


# ---- void lookups named -------------------------------------------------------------------------


async def test_each_void_lookup_is_named_with_the_term_that_asked(zone: LabZones) -> None:
    records = {
        "example.com TXT": [
            "v=spf1 a:gone.example.com mx:nomx.example.com a:noaddr.example.com -all"
        ],
        "nomx.example.com A": ["192.0.2.7"],
        "noaddr.example.com TXT": ["no address"],
    }
    result = await evaluate_spf("example.com", zone(records))
    assert result.status == "permerror" and result.void_count == 3
    voids = {(v.name, v.rtype, v.status, v.term) for v in result.void_lookups}
    assert voids == {
        ("gone.example.com", "A", LookupStatus.NXDOMAIN, "a:gone.example.com"),
        ("nomx.example.com", "MX", LookupStatus.NODATA, "mx:nomx.example.com"),
        ("noaddr.example.com", "AAAA", LookupStatus.NODATA, "a:noaddr.example.com"),
    }
    (error,) = [e for e in result.errors if "void lookups" in e]
    assert error.startswith("3 void lookups (NXDOMAIN/NODATA), limit 2: ")
    for name in ("gone.example.com", "nomx.example.com", "noaddr.example.com"):
        assert name in error
    assert "'mx:nomx.example.com' in example.com" in error
    assert result.to_dict()["void_lookups"][0]["domain"] == "example.com"


async def test_void_lookups_inside_an_include_name_the_include(zone: LabZones) -> None:
    records = {
        "example.com TXT": ["v=spf1 include:inner.example.com include:gone.example.com -all"],
        "inner.example.com TXT": ["v=spf1 a:missing.example.com -all"],
    }
    result = await evaluate_spf("example.com", zone(records))
    assert {(v.name, v.term, v.domain) for v in result.void_lookups} == {
        ("missing.example.com", "a:missing.example.com", "inner.example.com"),
        ("gone.example.com", "include:gone.example.com", "example.com"),
    }


async def test_an_mx_host_without_address_is_named(zone: LabZones) -> None:
    records = {
        "example.com TXT": ["v=spf1 mx -all"],
        "example.com MX": ["10 ghost.example.com."],
    }
    result = await evaluate_spf("example.com", zone(records))
    (void,) = result.void_lookups
    assert (void.name, void.term, void.status) == (
        "ghost.example.com",
        "mx (MX host)",
        LookupStatus.NXDOMAIN,
    )
    assert result.status == "pass"  # one void lookup is within the limit


# ---- the audit over the lab's zones ----------------------------------------------------------


@pytest.fixture(scope="module", name="lab")
def lab_fixture() -> Iterator[DnsLab]:
    lab = DnsLab()
    provider_records(lab)
    spf_limit_zones(lab)
    lab.start()
    yield lab
    lab.stop()


def _spf_check(lab: DnsLab, domain: str) -> RecordCheck:
    client = DnsClient([Nameserver(lab.host, lab.port)], 1.0)
    audit = asyncio.run(
        audit_domain(domain, Profile.OFFICE365, client, authoritative_port=lab.port)
    )
    stored = DnsAudit.from_dict(json.loads(json.dumps(audit.to_dict())))
    assert stored.to_dict() == audit.to_dict()
    (check,) = [c for c in stored.checks if c.id == "spf"]
    return check


def test_audit_says_microsoft_365_fails_after_the_tenth_lookup(lab: DnsLab) -> None:
    check = _spf_check(lab, "late365.lab.test")
    assert check.status is Status.FAIL
    assert (
        "include:spf.protection.outlook.com is evaluated after the 10th lookup: "
        "mail from Microsoft 365 fails SPF"
    ) in check.messages
    assert sum("limit 10" in m for m in check.messages) == 1
    facts = SpfFacts.of(check)
    assert facts is not None and facts.lookup_count == 11
    assert check.facts["late_terms"][0]["term"] == MICROSOFT


def test_audit_names_the_straddling_include_and_the_unreached_addresses(lab: DnsLab) -> None:
    check = _spf_check(lab, "straddle.lab.test")
    text = "\n".join(check.messages)
    assert "include:hub.straddle.lab.test needs lookups 9-11, past the 10th" in text
    assert "ip4:192.0.2.0/24 is evaluated after the 10th lookup: mail from 192.0.2.0/24" in text
    assert MICROSOFT + " is evaluated" not in text  # first in the record: it still passes
    assert text.count("limit 10") == 1


def test_audit_names_each_void_lookup(lab: DnsLab) -> None:
    check = _spf_check(lab, "voidmix.lab.test")
    assert check.status is Status.FAIL
    (void,) = [m for m in check.messages if "void lookups" in m]
    for name in ("gone.voidmix.lab.test", "nomx.voidmix.lab.test", "noaddr.voidmix.lab.test"):
        assert name in void
    assert "limit 2" in void
    assert sum("limit 2" in m for m in check.messages) == 1
    assert "4 DNS lookups (limit 10)" in check.messages
