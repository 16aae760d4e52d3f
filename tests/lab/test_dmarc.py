"""DMARC (RFC 9989): the parser on any text, the evaluation over the lab DNS server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probes.dns.dmarc import evaluate_dmarc, organisational_domain, parse_dmarc
from probes.dns.dmarc_record import is_dmarc_text, report_address
from probes.dns.model import ChangeAction, LookupStatus
from tests.labkit.dns_fixture import PROVIDER_ZONE, LabZones, lab_zones


@pytest.fixture(name="zone")
def zone_fixture() -> Iterator[LabZones]:
    """Lab DNS zones: the providers' SPF records plus each test's own."""
    yield from lab_zones(PROVIDER_ZONE)


# ---- parsing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("p=none; v=DMARC1", "v=DMARC1 must be the first tag"),
        ("p=none", "v=DMARC1 must be the first tag"),
        ("v=DMARC1; rua=mailto:d@example.com", "p is required"),
        ("v=DMARC1; p=rejct", "p=rejct is not none/quarantine/reject"),
        ("v=DMARC1; p=none; sp=drop", "sp=drop is not none/quarantine/reject"),
        ("v=DMARC1; p=none; rua=https://x", "rua=https://x is not a mailto: URI"),
        ("v=DMARC1; p=none; rua=mailto:nobody", "rua=mailto:nobody is not an e-mail address"),
        ("v=DMARC1; p=none; rua=mailto:d@example.com!10x", "has a bad size limit"),
        ("v=DMARC1; p=none; p=reject", "duplicate tag p"),
        ("v=DMARC1; p=none; adkim=x", "adkim=x is not r (relaxed) or s (strict)"),
        ("v=DMARC1; p=none; fo=2", "fo=2 is not 0, 1, d or s"),
        ("v=DMARC1; p=none; garbage", "'garbage' is not a tag=value pair"),
        ("v=DMARC2; p=none", "v=DMARC2 is not DMARC1"),
    ],
)
def test_parse_errors_name_the_tag(text: str, error: str) -> None:
    record = parse_dmarc(text)
    assert any(error in e for e in record.errors), record.errors


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("v=DMARC1; p=none; rua=mailto:d@example.com", "p=none only monitors"),
        ("v=DMARC1; p=reject; pct=20; rua=mailto:d@example.com", "pct=20 is ignored"),
        # RFC 9989 removed pct, rf and ri: a bad value of an ignored tag is only a warning
        ("v=DMARC1; p=reject; pct=150", "pct=150 (out of range 0-100) is ignored"),
        ("v=DMARC1; p=reject; pct=half", "pct=half (is not a number 0-100) is ignored"),
        ("v=DMARC1; p=none; rf=iodef", "rf=iodef (is not afrf) is ignored"),
        ("v=DMARC1; p=none; ri=soon", "ri=soon (is not a number) is ignored"),
        ("v=DMARC1; p=reject; foo=bar; rua=mailto:d@example.com", "unknown tag foo"),
        ("v=DMARC1; p=reject", "no rua"),
        ("v=DMARC1; p=reject; rua=mailto:a@example.com; ruf=mailto:f@example.com", "privacy"),
        ("v=DMARC1; p=reject; sp=none; rua=mailto:a@example.com", "sp=none"),
    ],
)
def test_parse_warnings(text: str, warning: str) -> None:
    record = parse_dmarc(text)
    assert record.errors == []
    assert any(warning in w for w in record.warnings), record.warnings


def test_parse_every_tag() -> None:
    record = parse_dmarc(
        "v=DMARC1;P=Quarantine; sp=reject ;adkim=s; aspf=s; pct=50; "
        "rua=mailto:agg@example.com!10m, mailto:dmarc@reports.example.net; "
        "ruf=mailto:f@example.com; fo=1:d; rf=afrf; ri=3600;"
    )
    assert record.errors == []
    assert (record.policy, record.subdomain_policy) == ("quarantine", "reject")
    assert (record.adkim, record.aspf, record.pct, record.fo, record.ri) == (
        "s",
        "s",
        50,
        "1:d",
        3600,
    )
    assert record.rua == ["mailto:agg@example.com!10m", "mailto:dmarc@reports.example.net"]
    assert record.ruf == ["mailto:f@example.com"]
    assert record.tags["p"] == "Quarantine"
    defaults = parse_dmarc("v=DMARC1; p=reject; rua=mailto:a@example.com")
    assert defaults.errors == [] and defaults.warnings == []
    assert (defaults.subdomain_policy, defaults.adkim, defaults.aspf, defaults.pct) == (
        "reject",
        "r",
        "r",
        100,
    )


def test_helpers() -> None:
    assert is_dmarc_text("v=DMARC1; p=none") and is_dmarc_text("v=dmarc1")
    assert not is_dmarc_text("v=DMARC10; p=none") and not is_dmarc_text("v=spf1 -all")
    assert report_address("mailto:a@example.com!5m") == "a@example.com"
    assert report_address("https://example.com") is None
    assert organisational_domain("mail.example.cl") == "example.cl"
    assert organisational_domain("a.b.example.co.uk") == "example.co.uk"
    assert organisational_domain("reports.empresa.com.br.") == "empresa.com.br"


# ---- property-based ----------------------------------------------------------


@given(st.text())
def test_parse_dmarc_never_raises(text: str) -> None:
    record = parse_dmarc(text)
    assert record.text == text
    assert all(isinstance(e, str) and e for e in record.errors)
    assert all(isinstance(w, str) and w for w in record.warnings)


@given(st.lists(st.sampled_from(["v=DMARC1", ";", "p=", "reject", "=", "rua=mailto:", "!", "@"])))
def test_parse_dmarc_never_raises_on_near_misses(pieces: list[str]) -> None:
    assert isinstance(parse_dmarc("".join(pieces)).errors, list)


_policy = st.sampled_from(["none", "quarantine", "reject", "Reject"])
_address = st.from_regex(
    r"[a-z0-9.+_-]{1,12}@[a-z][a-z0-9-]{0,10}\.(com|cl|co\.uk)", fullmatch=True
)
_uri = st.builds(
    lambda a, s: f"mailto:{a}{s}", _address, st.sampled_from(["", "!10m", "!500k", "!1"])
)
_optional = st.fixed_dictionaries(
    {},
    optional={
        "sp": _policy,
        "adkim": st.sampled_from(["r", "s"]),
        "aspf": st.sampled_from(["r", "s"]),
        "pct": st.integers(0, 100).map(str),
        "rua": st.lists(_uri, min_size=1, max_size=3).map(",".join),
        "ruf": st.lists(_uri, min_size=1, max_size=2).map(", ".join),
        "fo": st.sampled_from(["0", "1", "d", "s", "0:1:d:s"]),
        "rf": st.just("afrf"),
        "ri": st.integers(0, 10**7).map(str),
    },
)


@given(_policy, _optional, st.data(), st.sampled_from(["; ", ";", " ; "]), st.booleans())
def test_valid_records_have_no_errors(
    policy: str, tags: dict[str, str], data: st.DataObject, separator: str, trailing: bool
) -> None:
    pairs = data.draw(st.permutations([("p", policy), *tags.items()]))
    text = separator.join(["v=DMARC1", *(f"{k}={v}" for k, v in pairs)]) + (";" if trailing else "")
    record = parse_dmarc(text)
    assert record.errors == [], (text, record.errors)
    assert record.policy == policy.lower()


# ---- evaluation ---------------------------------------------------------------


async def test_valid_policy_passes(zone: LabZones) -> None:
    dns = zone({"_dmarc.example.com TXT": ["v=DMARC1; p=reject; rua=mailto:d@example.com"]})
    result = await evaluate_dmarc("example.com", dns)
    assert result.status == "pass" and result.errors == [] and result.warnings == []
    assert result.parsed is not None and result.parsed.policy == "reject"
    assert result.authorisations == [] and len(dns.asked) == 1
    json.dumps(result.to_dict())


async def test_reports_to_a_subdomain_need_no_authorisation(zone: LabZones) -> None:
    dns = zone(
        {"_dmarc.example.co.uk TXT": ["v=DMARC1; p=reject; rua=mailto:d@reports.example.co.uk"]}
    )
    result = await evaluate_dmarc("mail.example.co.uk", dns)
    assert result.status == "none"  # the record is at the organisational domain, not here
    result = await evaluate_dmarc("example.co.uk", dns)
    assert result.status == "pass" and result.authorisations == []


async def test_bad_tags(zone: LabZones) -> None:
    dns = zone({"_dmarc.example.com TXT": ["v=DMARC1; p=rejct; pct=150; rua=https://x.example"]})
    result = await evaluate_dmarc("example.com", dns)
    assert result.status == "permerror"
    text = " ".join(result.errors)
    assert "p=rejct" in text and "rua=https://x.example" in text
    assert "pct=150" not in text  # RFC 9989 removed pct: a warning, never an error
    assert any("pct=150" in w and "ignored" in w for w in result.warnings)


async def test_none_and_other_txt(zone: LabZones) -> None:
    assert (await evaluate_dmarc("example.com", zone())).status == "none"
    dns = zone({"_dmarc.example.com TXT": ["v=spf1 -all"]})
    assert (await evaluate_dmarc("example.com", dns)).status == "none"


@pytest.mark.parametrize("status", [LookupStatus.SERVFAIL, LookupStatus.TIMEOUT])
async def test_failed_lookup_is_temperror_never_none(status: LookupStatus, zone: LabZones) -> None:
    result = await evaluate_dmarc("example.com", zone({"_dmarc.example.com TXT": status}))
    assert result.status == "temperror" and result.changes == []
    assert "failed" in result.errors[0]


async def test_two_records(zone: LabZones) -> None:
    dns = zone({"_dmarc.example.com TXT": ["v=DMARC1; p=none", "v=DMARC1; p=reject"]})
    result = await evaluate_dmarc("example.com", dns)
    assert result.status == "permerror" and "more than one DMARC record" in result.errors[0]
    assert len(result.records) == 2


async def test_external_rua_without_authorisation(zone: LabZones) -> None:
    dns = zone(
        {
            "_dmarc.example.com TXT": [
                "v=DMARC1; p=quarantine; rua=mailto:a@dmarc.vendor.example,mailto:b@example.com; "
                "ruf=mailto:f@dmarc.vendor.example"
            ]
        }
    )
    result = await evaluate_dmarc("example.com", dns)
    name = "example.com._report._dmarc.dmarc.vendor.example"
    assert (name, "TXT") in dns.asked
    assert result.authorisations[0]["authorised"] is False
    assert result.authorisations[0]["addresses"] == [
        "a@dmarc.vendor.example",
        "f@dmarc.vendor.example",
    ]
    assert any(name in w and "not authorised" in w for w in result.warnings)
    assert [(c.action, c.name, c.rtype, c.value) for c in result.changes] == [
        (ChangeAction.ADD, name, "TXT", "v=DMARC1")
    ]
    assert result.status == "pass"  # a warning: the policy itself is valid


async def test_external_rua_with_authorisation(zone: LabZones) -> None:
    dns = zone(
        {
            "_dmarc.example.com TXT": ["v=DMARC1; p=reject; rua=mailto:a@vendor.example"],
            "example.com._report._dmarc.vendor.example TXT": ["v=DMARC1"],
        }
    )
    result = await evaluate_dmarc("example.com", dns)
    assert result.authorisations[0]["authorised"] is True
    assert result.warnings == [] and result.changes == []
    assert [lk.name for lk in result.lookups] == [
        "_dmarc.example.com",
        "example.com._report._dmarc.vendor.example",
    ]


async def test_authorisation_lookup_failure_is_not_a_missing_record(zone: LabZones) -> None:
    dns = zone(
        {
            "_dmarc.example.com TXT": ["v=DMARC1; p=reject; rua=mailto:a@vendor.example"],
            "example.com._report._dmarc.vendor.example TXT": LookupStatus.SERVFAIL,
        }
    )
    result = await evaluate_dmarc("example.com", dns)
    assert result.authorisations[0]["authorised"] is None
    assert result.changes == [] and any("could not check" in w for w in result.warnings)
