"""The lab DNS server itself, checked with dnspython over UDP and TCP."""

from __future__ import annotations

from collections.abc import Iterator

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from mxlab.dns_server import DnsLab, mail_lab_zone


@pytest.fixture
def lab() -> Iterator[DnsLab]:
    with DnsLab() as server:
        mail_lab_zone(server)
        server.add("long.lab.test", "TXT", "v=spf1 " + "include:a.example " * 30 + "-all")
        yield server


def ask(lab: DnsLab, name: str, rtype: str, tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, lab.host, port=lab.port, timeout=2)


@pytest.mark.parametrize("tcp", [False, True])
def test_answers_over_udp_and_tcp(lab: DnsLab, tcp: bool) -> None:
    reply = ask(lab, "mail.lab.test", "A", tcp)
    assert reply.flags & dns.flags.AA
    assert [r.to_text() for r in reply.answer[0]] == ["127.0.0.1"]


def test_cname_chain_mx_and_long_txt(lab: DnsLab) -> None:
    reply = ask(lab, "smtp.lab.test", "A")
    assert [rrset.rdtype for rrset in reply.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]
    assert ask(lab, "lab.test", "MX").answer[0][0].to_text() == "10 mail.lab.test."
    txt = ask(lab, "long.lab.test", "TXT", tcp=True).answer[0][0]
    assert len(txt.strings) > 1 and b"".join(txt.strings).endswith(b"-all")


def test_nxdomain_nodata_servfail_and_silence(lab: DnsLab) -> None:
    assert ask(lab, "absent.lab.test", "A").rcode() == dns.rcode.NXDOMAIN
    nodata = ask(lab, "nodata.lab.test", "A")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert ask(lab, "x.servfail.lab.test", "A").rcode() == dns.rcode.SERVFAIL
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(
            dns.message.make_query("slow.lab.test", "A"), lab.host, port=lab.port, timeout=0.5
        )
