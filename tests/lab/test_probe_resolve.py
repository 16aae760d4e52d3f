"""Name resolution in probes against the lab's dnslib server on 127.0.0.1:PORT."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from probes.mail.channel import PhaseFailed
from probes.mail.model import PhaseName, Protocol, Security, Target
from probes.mail.resolve import Nameserver, resolve
from probes.mail.runner import ProbeOptions, run_probe
from probes.status import Status


def ns(lab: Any) -> Nameserver:
    return Nameserver(lab.host, lab.port)


async def test_every_address_ipv4_first(dns_lab: Any) -> None:
    assert await resolve("mail.lab.test", 2.0, ns(dns_lab)) == ["127.0.0.1", "::1"]
    assert await resolve("smtp.lab.test", 2.0, ns(dns_lab)) == ["127.0.0.1", "::1"]  # CNAME
    assert await resolve("v4only.lab.test", 2.0, ns(dns_lab)) == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("nothing-here.lab.test", "dns.nxdomain"),
        ("nodata.lab.test", "dns.nodata"),
        ("servfail.lab.test", "dns.servfail"),
        ("slow.lab.test", "dns.timeout"),
    ],
)
async def test_failures_are_told_apart(dns_lab: Any, name: str, kind: str) -> None:
    with pytest.raises(PhaseFailed) as failure:
        await resolve(name, 1.0, ns(dns_lab))
    assert failure.value.kind == kind


async def test_literals_skip_dns() -> None:
    assert await resolve("127.0.0.1", 0.1, None) == ["127.0.0.1"]
    assert await resolve("[::1]", 0.1, None) == ["::1"]


async def test_system_resolver_localhost() -> None:
    addresses = await resolve("localhost", 2.0, None)
    assert "127.0.0.1" in addresses or "::1" in addresses


def test_nameserver_parsing() -> None:
    assert Nameserver.parse("127.0.0.1:5353") == Nameserver("127.0.0.1", 5353)
    assert Nameserver.parse("[::1]:53") == Nameserver("::1", 53)
    assert Nameserver.parse("127.0.0.1") == Nameserver("127.0.0.1", 53)
    for bad in ("dns.google", "127.0.0.1:0", "127.0.0.1:x", ""):
        with pytest.raises(ValueError):
            Nameserver.parse(bad)


async def test_probe_uses_the_named_server_and_reports_the_address(
    dns_lab: Any, smtp_server: Any, lab_options: ProbeOptions
) -> None:
    server = smtp_server("starttls")
    options = replace(lab_options, nameserver=ns(dns_lab))
    result = await run_probe(
        Target("v4only.lab.test", server.port, Protocol.SMTP, Security.STARTTLS), options
    )
    resolved = result.phase(PhaseName.RESOLVE)
    assert resolved is not None and resolved.facts == {
        "addresses": ["127.0.0.1"],
        "used": "127.0.0.1",
    }
    tls = result.phase(PhaseName.TLS)
    # the lab certificate does not name v4only.lab.test: verification must say so
    assert tls is not None and tls.kind == "tls.cert_hostname"
    missing = await run_probe(
        Target("nothing-here.lab.test", server.port, Protocol.SMTP, Security.STARTTLS), options
    )
    assert missing.failure is not None and missing.failure.kind == "dns.nxdomain"
    assert missing.status is Status.FAIL and missing.diagnoses
