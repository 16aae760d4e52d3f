"""SPF (RFC 7208): the parser on any text, the evaluation over the lab DNS server, merging."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probes.dns.model import LookupStatus
from probes.dns.spf import evaluate_spf, merge_spf, parse_spf, provider_for
from probes.dns.spf_record import is_spf_text
from tests.labkit.dns_fixture import PROVIDER_ZONE, Answer, LabZones, lab_zones


@pytest.fixture(name="zone")
def zone_fixture() -> Iterator[LabZones]:
    """Lab DNS zones: the providers' SPF records plus each test's own."""
    yield from lab_zones(PROVIDER_ZONE)


# ---- parsing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("v=spf1 inclde:_spf.google.com -all", "unknown mechanism 'inclde:_spf.google.com'"),
        ("v=spf1 ip4:300.1.1.1 -all", "ip4:300.1.1.1 is not an IPv4 network"),
        ("v=spf1 ip4:2001:db8::1 -all", "ip4:2001:db8::1 is not an IPv4 network"),
        ("v=spf1 ip6:192.0.2.1 -all", "ip6:192.0.2.1 is not an IPv6 network"),
        ("v=spf1 ip4:192.0.2.0/33 -all", "ip4:192.0.2.0/33 has a bad prefix length"),
        ("include:_spf.google.com -all", "missing v=spf1"),
        ("v=spf2.0/pra -all", "missing v=spf1"),
        ("v=spf1 redirect=a.example redirect=b.example", "duplicate modifier 'redirect=b.example'"),
        ("v=spf1 exp=a.example exp=b.example -all", "duplicate modifier 'exp=b.example'"),
        ("v=spf1 -redirect=a.example", "modifier '-redirect=a.example' cannot have a qualifier"),
        ("v=spf1 include -all", "'include': include needs a domain"),
        ("v=spf1 include:localhost -all", "localhost is not a domain name"),
        ("v=spf1 a:example.com/40 -all", "'a:example.com/40': bad prefix length /40"),
        ("v=spf1 -all:x", "'-all:x': all takes no value"),
        ("v=spf1 exists:%{z}.example.com -all", "has a bad macro"),
        ("v=spf1 =x -all", "unknown mechanism '=x'"),
    ],
)
def test_parse_errors_name_the_term(text: str, error: str) -> None:
    record = parse_spf(text)
    assert any(error in e for e in record.errors), record.errors


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("v=spf1 ptr -all", "ptr is deprecated"),
        ("v=spf1 -all include:_spf.google.com", "terms after '-all' are ignored"),
        ("v=spf1 +all", "'+all' lets anyone"),
        ("v=spf1 all", "'all' lets anyone"),
        ("v=spf1 include:_spf.google.com ?all", "'?all' is neutral"),
        ("v=spf1 include:_spf.google.com", "no 'all' and no redirect"),
        ("v=spf1 foo=bar -all", "unknown modifier 'foo=bar'"),
        ("v=spf1 redirect=a.example -all", "'redirect=a.example' is ignored"),
    ],
)
def test_parse_warnings(text: str, warning: str) -> None:
    record = parse_spf(text)
    assert not record.errors
    assert any(warning in w for w in record.warnings), record.warnings


def test_parse_a_valid_record() -> None:
    text = (
        "V=SPF1 +IP4:192.0.2.0/24 ip6:2001:db8::/32 a a:mail.example.com/24//64 mx/24 "
        "include:_spf.google.com exists:%{i}._spf.%{d} ~include:x.example exp=explain.%{d} ~all"
    )
    record = parse_spf(text)
    assert record.errors == [] and record.warnings == []
    names = [t.name for t in record.terms]
    assert names == ["ip4", "ip6", "a", "a", "mx", "include", "exists", "include", "exp", "all"]
    a_term = record.terms[3]
    assert (a_term.value, a_term.cidr, a_term.qualifier) == ("mail.example.com", "/24//64", "+")
    assert record.terms[0].text == "ip4:192.0.2.0/24"
    assert record.all_term is not None and record.all_term.qualifier == "~"
    assert parse_spf("v=spf1 redirect=_spf.example.com").redirect == "_spf.example.com"


def test_is_spf_text() -> None:
    assert is_spf_text("v=spf1 -all") and is_spf_text("v=spf1") and is_spf_text("V=SPF1 ~all")
    assert not is_spf_text("v=spf10 -all") and not is_spf_text("MS=ms123")
    assert not is_spf_text(" v=spf1 -all")


# ---- property-based ----------------------------------------------------------


@given(st.text())
def test_parse_spf_never_raises(text: str) -> None:
    record = parse_spf(text)
    assert record.text == text
    assert all(isinstance(e, str) and e for e in record.errors)
    assert all(isinstance(w, str) and w for w in record.warnings)


@given(st.lists(st.sampled_from(["v=spf1", "include:", "ip4:", "/", "%{", "}", "-all", " ", "="])))
def test_parse_spf_never_raises_on_near_misses(pieces: list[str]) -> None:
    assert isinstance(parse_spf("".join(pieces)).errors, list)


_label = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
_domain = st.builds(lambda ls: ".".join(ls), st.lists(_label, min_size=2, max_size=4))
_qualifier = st.sampled_from(["", "+", "-", "~", "?"])
_ip4 = st.builds(
    lambda a, p: f"ip4:{a}" + (f"/{p}" if p is not None else ""),
    st.ip_addresses(v=4),
    st.none() | st.integers(0, 32),
)
_ip6 = st.builds(lambda a, p: f"ip6:{a}/{p}", st.ip_addresses(v=6), st.integers(0, 128))
_mechanism = st.one_of(
    _ip4,
    _ip6,
    st.builds(lambda d: f"include:{d}", _domain),
    st.builds(lambda d: f"exists:%{{i}}.{d}", _domain),
    st.just("a"),
    st.just("mx/24"),
    st.builds(lambda d, c: f"a:{d}/{c}", _domain, st.integers(0, 32)),
    st.builds(lambda d: f"mx:{d}//64", _domain),
)


@given(
    st.lists(st.tuples(_qualifier, _mechanism), max_size=8),
    st.sampled_from(["-all", "~all", "?all", "all"]),
)
def test_valid_records_have_no_errors(terms: list[tuple[str, str]], all_term: str) -> None:
    text = " ".join(["v=spf1", *(q + m for q, m in terms), all_term])
    record = parse_spf(text)
    assert record.errors == [], (text, record.errors)
    assert len(record.terms) == len(terms) + 1
    assert parse_spf(merge_spf([text], [])).errors == []


# ---- evaluation ---------------------------------------------------------------


async def test_google_and_microsoft_authorised(zone: LabZones) -> None:
    dns = zone(
        {
            "example.com TXT": [
                "MS=ms1234",
                "v=spf1 include:_spf.google.com include:spf.protection.outlook.com "
                "include:sendgrid.net include:spf.partner.example -all",
            ],
            "spf.partner.example TXT": ["v=spf1 include:_spf.google.com ip4:192.0.2.9 -all"],
        }
    )
    result = await evaluate_spf("Example.COM.", dns)
    assert result.status == "pass", result.errors
    assert result.providers == [
        "Google",
        "Microsoft 365",
        "SendGrid",
        "include:spf.partner.example",
    ]
    assert result.all_qualifier == "-"
    assert result.lookup_count == 5 and result.void_count == 0
    assert result.lookups[0].name == "example.com" and result.lookups[0].rtype == "TXT"
    tree = result.tree[0]
    assert [c["domain"] for c in tree["includes"]] == [
        "_spf.google.com",
        "spf.protection.outlook.com",
        "sendgrid.net",
        "spf.partner.example",
    ]
    assert tree["includes"][3]["includes"][0]["domain"] == "_spf.google.com"
    json.dumps(result.to_dict())


async def test_no_record_is_none(zone: LabZones) -> None:
    assert (
        await evaluate_spf("example.com", zone({"example.com TXT": ["MS=ms1"]}))
    ).status == "none"
    assert (await evaluate_spf("nothing.example", zone())).status == "none"


@pytest.mark.parametrize("status", [LookupStatus.SERVFAIL, LookupStatus.TIMEOUT])
async def test_failed_lookup_is_temperror_never_none(status: LookupStatus, zone: LabZones) -> None:
    result = await evaluate_spf("example.com", zone({"example.com TXT": status}))
    assert result.status == "temperror"
    assert result.record is None and "failed" in result.errors[0]


async def test_two_records_is_permerror_and_lists_providers(zone: LabZones) -> None:
    dns = zone(
        {
            "example.com TXT": [
                "v=spf1 include:_spf.google.com ~all",
                "v=spf1 include:spf.protection.outlook.com -all",
            ]
        }
    )
    result = await evaluate_spf("example.com", dns)
    assert result.status == "permerror"
    assert "more than one SPF record" in result.errors[0] and "merge" in result.errors[0]
    assert len(result.records) == 2 and result.record is None
    assert result.providers == ["Google", "Microsoft 365"]


async def test_eleven_lookups(zone: LabZones) -> None:
    includes = " ".join(f"include:s{i}.example.com" for i in range(10))
    records: dict[str, Answer] = {
        "example.com TXT": [f"v=spf1 include:spf.protection.outlook.com {includes} -all"]
    }
    for i in range(10):
        records[f"s{i}.example.com TXT"] = [f"v=spf1 ip4:192.0.2.{i} -all"]
    result = await evaluate_spf("example.com", zone(records))
    assert result.status == "permerror"
    assert result.lookup_count == 11
    assert "11 DNS lookups, limit 10" in result.errors


async def test_nested_lookups_count_across_the_tree(zone: LabZones) -> None:
    dns = zone(
        {
            "example.com TXT": ["v=spf1 include:one.example.com a mx -all"],
            "one.example.com TXT": [
                "v=spf1 include:_spf.google.com ptr exists:%{i}.x.example.com -all"
            ],
            "example.com A": ["192.0.2.1"],
            "example.com MX": ["10 mx1.example.com.", "20 mx2.example.com."],
            "mx1.example.com A": ["192.0.2.2"],
            "mx2.example.com AAAA": ["2001:db8::2"],
        }
    )
    result = await evaluate_spf("example.com", dns)
    # include, a, mx, include google, ptr, exists; the MX hosts' A/AAAA do not count
    assert result.lookup_count == 6
    assert result.void_count == 0
    assert ("mx2.example.com", "AAAA") in dns.asked
    assert any(
        "ptr is deprecated" in w and w.startswith("one.example.com") for w in result.warnings
    )
    assert result.status == "pass"


async def test_include_loop_names_the_chain(zone: LabZones) -> None:
    dns = zone(
        {
            "example.com TXT": ["v=spf1 include:a.example.com -all"],
            "a.example.com TXT": ["v=spf1 include:b.example.com -all"],
            "b.example.com TXT": ["v=spf1 include:a.example.com -all"],
        }
    )
    result = await evaluate_spf("example.com", dns)
    assert result.status == "permerror"
    loop = "include loop: example.com -> a.example.com -> b.example.com -> a.example.com"
    assert loop in result.errors
    assert result.providers == ["include:a.example.com", "include:b.example.com"]


async def test_three_void_lookups(zone: LabZones) -> None:
    dns = zone(
        {
            "example.com TXT": ["v=spf1 a:n1.example.com a:n2.example.com mx:n3.example.com -all"],
            "n3.example.com A": ["192.0.2.3"],
        }
    )
    result = await evaluate_spf("example.com", dns)
    assert result.void_count == 3  # two NXDOMAIN, one NODATA (MX)
    assert result.status == "permerror"
    assert any("3 void lookups" in e and "limit 2" in e for e in result.errors)


async def test_empty_mx_host_is_void_but_not_counted(zone: LabZones) -> None:
    dns = zone(
        {
            "example.com TXT": ["v=spf1 mx -all"],
            "example.com MX": ["10 gone.example.com.", "20 gone2.example.com."],
        }
    )
    result = await evaluate_spf("example.com", dns)
    assert (result.lookup_count, result.void_count) == (1, 2)
    assert result.status == "pass"


async def test_too_many_mx_hosts(zone: LabZones) -> None:
    hosts = [f"{i} mx{i}.example.com." for i in range(11)]
    result = await evaluate_spf(
        "example.com", zone({"example.com TXT": ["v=spf1 mx -all"], "example.com MX": hosts})
    )
    assert result.status == "permerror"
    assert any("11 MX hosts" in e for e in result.errors)


async def test_redirect_stands_for_the_record(zone: LabZones) -> None:
    dns = zone(
        {
            "example.com TXT": ["v=spf1 ip4:192.0.2.1 redirect=_spf.example.com"],
            "_spf.example.com TXT": ["v=spf1 include:_spf.google.com ?all"],
        }
    )
    result = await evaluate_spf("example.com", dns)
    assert result.status == "pass", result.errors
    assert result.lookup_count == 2  # redirect + include
    assert result.all_qualifier == "?"
    assert result.providers == ["Google"]
    assert result.tree[0]["includes"][0]["via"] == "redirect"
    assert any(w.startswith("_spf.example.com: '?all'") for w in result.warnings)


async def test_redirect_ignored_with_all_and_redirect_to_nothing(zone: LabZones) -> None:
    ignored = await evaluate_spf(
        "example.com", zone({"example.com TXT": ["v=spf1 redirect=nowhere.example -all"]})
    )
    assert ignored.lookup_count == 0 and ignored.status == "pass"
    missing = await evaluate_spf(
        "example.com", zone({"example.com TXT": ["v=spf1 redirect=nowhere.example"]})
    )
    assert missing.status == "permerror"
    assert "redirect:nowhere.example (from example.com) has no SPF record" in missing.errors


async def test_include_without_spf_is_permerror(zone: LabZones) -> None:
    dns = zone(
        {
            "example.com TXT": ["v=spf1 include:nospf.example.com include:gone.example.com -all"],
            "nospf.example.com TXT": ["some verification string"],
        }
    )
    result = await evaluate_spf("example.com", dns)
    assert result.status == "permerror"
    assert "include:nospf.example.com (from example.com) has no SPF record" in result.errors
    assert result.void_count == 1  # gone.example.com: NXDOMAIN


async def test_failure_in_the_tree_is_temperror_unless_something_is_surely_wrong(
    zone: LabZones,
) -> None:
    dns = zone(
        {
            "example.com TXT": ["v=spf1 include:broken.example.com -all"],
            "broken.example.com TXT": LookupStatus.SERVFAIL,
        }
    )
    result = await evaluate_spf("example.com", dns)
    assert result.status == "temperror"
    assert any("broken.example.com failed" in e for e in result.errors)
    dns = zone(
        {
            "example.com TXT": ["v=spf1 include:broken.example.com inclde:x.example -all"],
            "broken.example.com TXT": LookupStatus.TIMEOUT,
        }
    )
    assert (await evaluate_spf("example.com", dns)).status == "permerror"


async def test_syntax_error_in_an_include_is_permerror(zone: LabZones) -> None:
    dns = zone(
        {
            "example.com TXT": ["v=spf1 include:bad.example.com -all"],
            "bad.example.com TXT": ["v=spf1 ip4:999.0.0.1 -all"],
        }
    )
    result = await evaluate_spf("example.com", dns)
    assert result.status == "permerror"
    assert "bad.example.com: ip4:999.0.0.1 is not an IPv4 network" in result.errors


async def test_macros_are_counted_not_expanded(zone: LabZones) -> None:
    dns = zone({"example.com TXT": ["v=spf1 include:%{l}.users.example.com -all"]})
    result = await evaluate_spf("example.com", dns)
    assert result.lookup_count == 1 and len(dns.asked) == 1
    assert any("has a macro" in w for w in result.warnings)


def test_provider_table() -> None:
    assert provider_for("_SPF.google.com.") == "Google"
    assert provider_for("123456.spf04.hubspotemail.net") == "HubSpot"
    assert provider_for("amazonses.com") == "Amazon SES"
    assert provider_for("google.com") is None


# ---- merging -------------------------------------------------------------------


def test_merge_for_coexistence() -> None:
    merged = merge_spf([], ["_spf.google.com", "include:spf.protection.outlook.com"], "~")
    assert merged == "v=spf1 include:_spf.google.com include:spf.protection.outlook.com ~all"


def test_merge_two_records_into_one() -> None:
    merged = merge_spf(
        [
            "v=spf1 ip4:192.0.2.1 include:_spf.google.com ~all",
            "v=spf1 +include:_spf.google.com ip6:2001:db8::/32 -all exp=why.example.com",
        ],
        ["spf.protection.outlook.com", "_spf.google.com"],
    )
    assert merged == (
        "v=spf1 ip4:192.0.2.1 include:_spf.google.com ip6:2001:db8::/32 "
        "include:spf.protection.outlook.com -all exp=why.example.com"
    )
    assert parse_spf(merged).errors == [] and parse_spf(merged).warnings == []


def test_merge_all_and_redirect_rules() -> None:
    assert merge_spf(["v=spf1 ?all"], [], "-") == "v=spf1 -all"
    assert merge_spf(["v=spf1 ip4:192.0.2.1"], []) == "v=spf1 ip4:192.0.2.1 ~all"
    kept = merge_spf(["v=spf1 redirect=_spf.example.com"], ["_spf.google.com"])
    assert kept == "v=spf1 include:_spf.google.com redirect=_spf.example.com"
    folded = merge_spf(["v=spf1 redirect=_spf.example.com"], ["_spf.google.com"], "~")
    assert folded == "v=spf1 include:_spf.google.com include:_spf.example.com ~all"
    with pytest.raises(ValueError):
        merge_spf([], [], "x")
