"""Fixture zones for the DNS audit, served by the lab's DNS servers on loopback.

Providers' names the audit looks up (``smtp.google.com``, the SPF includes,
the Microsoft 365 MX host) are served here too, as loopback copies, so no
test ever asks a real server.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mxlab.dns_server import DnsLab

GOOGLE_SPF = "v=spf1 ip4:127.0.1.0/24 ~all"
MICROSOFT_SPF = "v=spf1 ip4:127.0.2.0/24 -all"
TENANT = "labtenant"


@lru_cache(maxsize=4)
def dkim_public_key(bits: int = 2048) -> str:
    """A real RSA public key, base64 DER, as a DKIM ``p=`` value."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def provider_records(lab: DnsLab) -> None:
    """Loopback copies of the providers' names the audit looks up (Google, Microsoft)."""
    lab.add("smtp.google.com", "A", "127.0.1.1")
    lab.add("_spf.google.com", "TXT", GOOGLE_SPF)
    lab.add("spf.protection.outlook.com", "TXT", MICROSOFT_SPF)
    lab.add("autodiscover.outlook.com", "A", "127.0.2.2")


def _soa(lab: DnsLab, domain: str) -> None:
    lab.add(domain, "SOA", f"ns1.{domain}. admin.{domain}. 1 3600 600 86400 300")
    lab.add(domain, "NS", f"ns1.{domain}.")
    lab.add(f"ns1.{domain}", "A", lab.host)


def gmail_zone(lab: DnsLab, domain: str = "gmail.lab.test") -> None:
    """Gmail-era domain: MX at Google, SPF for Google, google DKIM, DMARC p=none."""
    _soa(lab, domain)
    lab.add(domain, "MX", "1 smtp.google.com.", ttl=86400)
    lab.add(domain, "TXT", "v=spf1 include:_spf.google.com ~all")
    lab.add(f"google._domainkey.{domain}", "TXT", f"v=DKIM1; k=rsa; p={dkim_public_key()}")
    lab.add(f"_dmarc.{domain}", "TXT", f"v=DMARC1; p=none; rua=mailto:dmarc@{domain}")


def coexistence_zone(lab: DnsLab, domain: str = "coexist.lab.test") -> None:
    """During the migration: MX at Google with TTL 3600, merged SPF, MS= TXT."""
    _soa(lab, domain)
    lab.add(domain, "MX", "1 smtp.google.com.", ttl=3600)
    lab.add(
        domain,
        "TXT",
        "v=spf1 include:_spf.google.com include:spf.protection.outlook.com ~all",
    )
    lab.add(domain, "TXT", "MS=ms12345678")
    lab.add(f"google._domainkey.{domain}", "TXT", f"v=DKIM1; k=rsa; p={dkim_public_key()}")
    lab.add(f"_dmarc.{domain}", "TXT", f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{domain}")


def office365_zone(
    lab: DnsLab, domain: str = "m365.lab.test", mta_sts: bool = True, tenant: str = TENANT
) -> None:
    """A domain ready for Microsoft 365: MX, SPF, DKIM CNAMEs, DMARC, autodiscover, MS=.

    The DKIM CNAMEs point into ``tenant``.onmicrosoft.com.
    """
    _soa(lab, domain)
    dashed = domain.replace(".", "-")
    mx = f"{dashed}.mail.protection.outlook.com"
    lab.add(domain, "MX", f"0 {mx}.", ttl=3600)
    lab.add(mx, "A", "127.0.2.1")
    lab.add(domain, "TXT", "v=spf1 include:spf.protection.outlook.com -all")
    lab.add(domain, "TXT", "MS=ms87654321")
    for selector in ("selector1", "selector2"):
        target = f"{selector}-{dashed}._domainkey.{tenant}.onmicrosoft.com"
        lab.add(f"{selector}._domainkey.{domain}", "CNAME", f"{target}.")
        lab.add(target, "TXT", f"v=DKIM1; k=rsa; p={dkim_public_key()}")
    lab.add(f"_dmarc.{domain}", "TXT", f"v=DMARC1; p=reject; rua=mailto:dmarc@{domain}")
    lab.add(f"autodiscover.{domain}", "CNAME", "autodiscover.outlook.com.")
    if mta_sts:
        lab.add(f"_mta-sts.{domain}", "TXT", "v=STSv1; id=20261121T000000")
        lab.add(f"mta-sts.{domain}", "A", "127.0.0.1")
        lab.add(f"_smtp._tls.{domain}", "TXT", f"v=TLSRPTv1; rua=mailto:tls@{domain}")


def broken_zones(lab: DnsLab) -> None:
    """Domains that are wrong in one way each."""
    office365_zone(lab, "twospf.lab.test", mta_sts=False)
    lab.add("twospf.lab.test", "TXT", "v=spf1 include:_spf.google.com ~all")
    # eleven DNS lookups: a chain of includes
    office365_zone(lab, "eleven.lab.test", mta_sts=False)
    lab.records = [
        r
        for r in lab.records
        if not (r.name == "eleven.lab.test." and r.rtype == "TXT" and r.value.startswith('"v=spf1'))
    ]
    includes = " ".join(f"include:s{i}.eleven.lab.test" for i in range(10))
    lab.add("eleven.lab.test", "TXT", f"v=spf1 include:spf.protection.outlook.com {includes} -all")
    for i in range(10):
        lab.add(f"s{i}.eleven.lab.test", "TXT", f"v=spf1 ip4:127.0.3.{i} -all")
    # an include loop
    office365_zone(lab, "loop.lab.test", mta_sts=False)
    lab.add("a.loop.lab.test", "TXT", "v=spf1 include:b.loop.lab.test -all")
    lab.add("b.loop.lab.test", "TXT", "v=spf1 include:a.loop.lab.test -all")
    _replace_spf(
        lab,
        "loop.lab.test",
        "v=spf1 include:spf.protection.outlook.com include:a.loop.lab.test -all",
    )
    # three void lookups
    office365_zone(lab, "void.lab.test", mta_sts=False)
    _replace_spf(
        lab,
        "void.lab.test",
        "v=spf1 include:spf.protection.outlook.com a:n1.void.lab.test "
        "a:n2.void.lab.test a:n3.void.lab.test -all",
    )
    # DMARC with bad tags
    office365_zone(lab, "baddmarc.lab.test", mta_sts=False)
    lab.records = [r for r in lab.records if r.name != "_dmarc.baddmarc.lab.test."]
    lab.add("_dmarc.baddmarc.lab.test", "TXT", "v=DMARC1; p=rejct; pct=150; rua=https://x.example")
    # Microsoft 365 without its DKIM CNAMEs
    office365_zone(lab, "nodkim.lab.test", mta_sts=False)
    lab.records = [r for r in lab.records if "._domainkey.nodkim.lab.test" not in r.name]
    # a zone whose server fails, and one that never answers
    lab.servfail("servfail-zone.lab.test")
    lab.blackhole("silent-zone.lab.test")


def _replace_spf(lab: DnsLab, domain: str, record: str) -> None:
    name = domain.rstrip(".") + "."
    lab.records = [
        r
        for r in lab.records
        if not (r.name == name and r.rtype == "TXT" and r.value.lower().startswith('"v=spf1'))
    ]
    lab.add(domain, "TXT", record)


def propagation_zone(main: DnsLab, first: DnsLab, second: DnsLab) -> None:
    """``prop.lab.test`` served by two authoritative servers that disagree on MX."""
    domain = "prop.lab.test"
    main.add(domain, "NS", f"ns1.{domain}.")
    main.add(domain, "NS", f"ns2.{domain}.")
    main.add(f"ns1.{domain}", "A", first.host)
    main.add(f"ns2.{domain}", "A", second.host)
    for server, mx in (
        (first, "1 smtp.google.com."),
        (second, "0 prop-lab-test.mail.protection.outlook.com."),
    ):
        server.add(domain, "NS", f"ns1.{domain}.")
        server.add(domain, "NS", f"ns2.{domain}.")
        server.add(domain, "MX", mx)
        server.add(
            domain, "TXT", "v=spf1 include:_spf.google.com include:spf.protection.outlook.com ~all"
        )
    main.add(domain, "MX", "1 smtp.google.com.")


HOSTILE_DOMAIN = "hostile.lab.test"

HOSTILE_TXT = (
    "v=spf1 include:spf.protection.outlook.com [/bold] [link=https://evil.test]x[/link] "
    "\x1b[2J\x1b]0;owned title\x07 \x9b2J \u202egnp.exe -all",
    "MS=ms12345678 [/bold] \x1b[2J \x9b2J \u202e",
    "[link=https://evil.test]x[/link] verify me",
    "\x1b[2J\x1b[H screen cleared",
    "\x1b]0;owned title\x07 window title",
    "\x9b2J C1 control sequence introducer",
    "invoice\u202efdp.exe bidi override",
    "[bold red]loud[/] \x1b[31m red \x1b[0m\x7f\x00",
)
"""TXT data a hostile zone publishes: markup, ESC/OSC sequences, C1 and bidi characters."""


def hostile_zone(lab: DnsLab, domain: str = HOSTILE_DOMAIN) -> None:
    """A zone whose data tries to steer the terminal: markup, escapes, C1 and bidi text.

    TXT records carry Rich markup (``[/bold]``, ``[link=…]``), ESC sequences
    (clear screen, an OSC window title ended by BEL, an OSC 8 hyperlink), the C1
    CSI U+009B and the bidi override U+202E; the MX target and the DMARC ``rua``
    carry markup too. Served as raw bytes by the lab's dnslib server.
    """
    _soa(lab, domain)
    lab.add(domain, "MX", f"10 [bold]mx.{domain}.", ttl=3600)
    lab.add(f"[bold]mx.{domain}", "A", "127.0.0.1")
    for text in HOSTILE_TXT:
        lab.add(domain, "TXT", text)
    lab.add(
        f"_dmarc.{domain}",
        "TXT",
        "v=DMARC1; p=none; rua=mailto:[link=https://evil.test]d[/link]@evil.test\x1b[2J",
    )
    lab.add(f"selector1._domainkey.{domain}", "TXT", "v=DKIM1; k=rsa; p=[/bold]\x9b\u202e")


def full_lab(lab: DnsLab) -> None:
    """Every fixture zone on one server."""
    provider_records(lab)
    # the organisational domain's policy, which subdomains without a record inherit
    lab.add("_dmarc.lab.test", "TXT", "v=DMARC1; p=quarantine; sp=reject; rua=mailto:d@lab.test")
    gmail_zone(lab)
    coexistence_zone(lab)
    office365_zone(lab)
    broken_zones(lab)


def _replace_dmarc(lab: DnsLab, domain: str, record: str) -> None:
    name = f"_dmarc.{domain.rstrip('.')}."
    lab.records = [r for r in lab.records if r.name != name]
    lab.add(f"_dmarc.{domain}", "TXT", record)


def dmarcbis_zones(lab: DnsLab) -> None:
    """DMARC records read as RFC 9989 reads them: removed tags, test mode, np and psd."""
    # pct, rf and ri: removed by RFC 9989, ignored by receivers (a warning each)
    office365_zone(lab, "legacy-dmarc.lab.test", mta_sts=False)
    _replace_dmarc(
        lab,
        "legacy-dmarc.lab.test",
        "v=DMARC1; p=reject; pct=50; rf=afrf; ri=3600; rua=mailto:dmarc@legacy-dmarc.lab.test",
    )
    # a removed tag out of range: still only a warning, never a permerror
    office365_zone(lab, "range-dmarc.lab.test", mta_sts=False)
    _replace_dmarc(
        lab,
        "range-dmarc.lab.test",
        "v=DMARC1; p=quarantine; pct=150; ri=soon; rua=mailto:dmarc@range-dmarc.lab.test",
    )
    # t=y: test mode, the policy is not enforced; np and psd set
    office365_zone(lab, "testmode-dmarc.lab.test", mta_sts=False)
    _replace_dmarc(
        lab,
        "testmode-dmarc.lab.test",
        "v=DMARC1; p=reject; np=reject; psd=n; t=y; rua=mailto:dmarc@testmode-dmarc.lab.test",
    )
    # np, psd and t with values RFC 9989 does not define
    office365_zone(lab, "badnew-dmarc.lab.test", mta_sts=False)
    _replace_dmarc(
        lab,
        "badnew-dmarc.lab.test",
        "v=DMARC1; p=reject; np=drop; psd=maybe; t=yes; rua=mailto:dmarc@badnew-dmarc.lab.test",
    )


def spf_limit_zones(lab: DnsLab) -> None:
    """SPF records whose limits break some senders, and void lookups of each kind."""
    # Microsoft 365 last, after ten includes: its mail fails SPF
    domain = "late365.lab.test"
    office365_zone(lab, domain, mta_sts=False)
    includes = " ".join(f"include:s{i}.{domain}" for i in range(10))
    _replace_spf(lab, domain, f"v=spf1 {includes} include:spf.protection.outlook.com -all")
    for i in range(10):
        lab.add(f"s{i}.{domain}", "TXT", f"v=spf1 ip4:127.0.4.{i} -all")
    # an include that needs lookups 9 to 11 (broken in part), then an ip4 never reached
    domain = "straddle.lab.test"
    office365_zone(lab, domain, mta_sts=False)
    includes = " ".join(f"include:s{i}.{domain}" for i in range(7))
    _replace_spf(
        lab,
        domain,
        f"v=spf1 include:spf.protection.outlook.com {includes} include:hub.{domain} "
        "ip4:192.0.2.0/24 -all",
    )
    for i in range(7):
        lab.add(f"s{i}.{domain}", "TXT", f"v=spf1 ip4:127.0.5.{i} -all")
    lab.add(f"hub.{domain}", "TXT", f"v=spf1 include:a.hub.{domain} include:b.hub.{domain} -all")
    lab.add(f"a.hub.{domain}", "TXT", "v=spf1 ip4:127.0.6.1 -all")
    lab.add(f"b.hub.{domain}", "TXT", "v=spf1 ip4:127.0.6.2 -all")
    # three void lookups of three kinds: NXDOMAIN for A, NODATA for MX, NODATA for A and AAAA
    domain = "voidmix.lab.test"
    office365_zone(lab, domain, mta_sts=False)
    _replace_spf(
        lab,
        domain,
        f"v=spf1 include:spf.protection.outlook.com a:gone.{domain} mx:nomx.{domain} "
        f"a:noaddr.{domain} -all",
    )
    lab.add(f"nomx.{domain}", "A", "127.0.7.1")
    lab.add(f"noaddr.{domain}", "TXT", "no address here")
