"""The DNS audit against the lab's fixture zones (dnslib servers, an HTTPS server)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from mxlab.dns_server import DnsLab
from mxlab.dns_zones import full_lab, propagation_zone
from probes.dns.audit import DnsAudit, audit_domain
from probes.dns.client import DnsClient
from probes.dns.model import ChangeAction
from probes.dns.profiles import Profile
from probes.dns.sts import HttpsOptions
from probes.mail.resolve import Nameserver
from probes.status import Status
from tests.conftest import ROOT
from tests.labkit.https_server import LabHttpsServer

POLICY = (
    b"version: STSv1\r\nmode: enforce\r\nmx: *.mail.protection.outlook.com\r\nmax_age: 604800\r\n"
)


@dataclass
class AuditLab:
    dns: DnsLab
    https: LabHttpsServer

    def client(self, timeout: float = 1.0) -> DnsClient:
        return DnsClient([Nameserver(self.dns.host, self.dns.port)], timeout)

    def options(self) -> HttpsOptions:
        return HttpsOptions(verify=self.https.client_context(), timeout=3.0, port=self.https.port)

    def audit(self, domain: str, profile: Profile, **kwargs: object) -> DnsAudit:
        return asyncio.run(
            audit_domain(
                domain,
                profile,
                self.client(),
                https=self.options(),
                authoritative_port=self.dns.port,
                **kwargs,  # type: ignore[arg-type]
            )
        )


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditLab]:
    main = DnsLab()
    full_lab(main)
    main.start()
    first = DnsLab("127.0.0.2", main.port)
    second = DnsLab("127.0.0.3", main.port)
    propagation_zone(main, first, second)
    first.start()
    second.start()
    https = LabHttpsServer(
        tmp_path_factory.mktemp("https"),
        ["mta-sts.m365.lab.test"],
        {"/.well-known/mta-sts.txt": (200, "text/plain", POLICY)},
    )
    https.start()
    yield AuditLab(main, https)
    https.stop()
    for server in (main, first, second):
        server.stop()


def by_id(audit: DnsAudit) -> dict[str, object]:
    return {check.id: check for check in audit.checks}


def test_ready_office365_domain_passes(lab: AuditLab) -> None:
    audit = lab.audit("m365.lab.test", Profile.OFFICE365, tenant="labtenant")
    checks = by_id(audit)
    assert audit.status is Status.PASS, [(c.id, c.status, c.messages) for c in audit.checks]
    assert set(checks) >= {
        "mx",
        "spf",
        "dkim:selector1",
        "dkim:selector2",
        "dmarc",
        "autodiscover",
        "ms_verification",
        "mta_sts",
        "tls_rpt",
    }
    assert audit.changes == []


def test_gmail_domain_against_office365_lists_every_change(lab: AuditLab) -> None:
    audit = lab.audit("gmail.lab.test", Profile.OFFICE365, tenant="labtenant")
    assert audit.status is Status.FAIL
    changes = {(c.action, c.rtype, c.name): c for c in audit.changes}
    assert (ChangeAction.REMOVE, "MX", "gmail.lab.test") in changes
    add_mx = changes[(ChangeAction.ADD, "MX", "gmail.lab.test")]
    assert add_mx.value == "0 gmail-lab-test.mail.protection.outlook.com"
    spf = changes[(ChangeAction.CHANGE, "TXT", "gmail.lab.test")]
    assert "include:spf.protection.outlook.com" in spf.value
    assert (ChangeAction.ADD, "CNAME", "autodiscover.gmail.lab.test") in changes
    dkim = changes[(ChangeAction.ADD, "CNAME", "selector1._domainkey.gmail.lab.test")]
    assert dkim.value == "selector1-gmail-lab-test._domainkey.labtenant.onmicrosoft.com"
    # never a second SPF record: only CHANGE of the existing one
    assert not any(
        c.rtype == "TXT" and c.action is ChangeAction.ADD and "spf1" in c.value
        for c in audit.changes
    )


def test_gmail_domain_today_passes(lab: AuditLab) -> None:
    audit = lab.audit("gmail.lab.test", Profile.GMAIL)
    assert audit.status is not Status.FAIL, [(c.id, c.messages) for c in audit.checks]


def test_coexistence_needs_low_ttl_and_merged_spf(lab: AuditLab) -> None:
    good = lab.audit("coexist.lab.test", Profile.COEXISTENCE)
    assert good.status is not Status.FAIL, [(c.id, c.messages) for c in good.checks]
    gmail = lab.audit("gmail.lab.test", Profile.COEXISTENCE)
    mx = by_id(gmail)["mx"]
    assert mx.status is Status.WARN and "TTL" in " ".join(mx.messages)  # type: ignore[attr-defined]
    assert any(c.rtype == "MX" and c.ttl == 3600 for c in gmail.changes)
    spf = [c for c in gmail.changes if c.rtype == "TXT" and "spf1" in c.value]
    assert len(spf) == 1 and spf[0].action is ChangeAction.CHANGE
    assert "include:_spf.google.com" in spf[0].value
    assert "include:spf.protection.outlook.com" in spf[0].value


@pytest.mark.parametrize(
    ("domain", "words"),
    [
        ("twospf.lab.test", "more than one"),
        ("eleven.lab.test", "limit 10"),
        ("loop.lab.test", "loop"),
        ("void.lab.test", "void"),
    ],
)
def test_broken_spf(lab: AuditLab, domain: str, words: str) -> None:
    spf = by_id(lab.audit(domain, Profile.OFFICE365))["spf"]
    assert spf.status is Status.FAIL  # type: ignore[attr-defined]
    assert words in " ".join(spf.messages).lower()  # type: ignore[attr-defined]


def test_bad_dmarc_and_missing_dkim(lab: AuditLab) -> None:
    dmarc = by_id(lab.audit("baddmarc.lab.test", Profile.OFFICE365))["dmarc"]
    text = " ".join(dmarc.messages)  # type: ignore[attr-defined]
    assert dmarc.status is Status.FAIL and "rejct" in text and "pct" in text  # type: ignore[attr-defined]
    audit = lab.audit("nodkim.lab.test", Profile.OFFICE365)
    assert by_id(audit)["dkim:selector1"].status is Status.FAIL  # type: ignore[attr-defined]
    assert audit.status is Status.FAIL


def test_servfail_and_silence_are_never_missing_records(lab: AuditLab) -> None:
    for domain in ("servfail-zone.lab.test", "silent-zone.lab.test"):
        audit = lab.audit(domain, Profile.OFFICE365)
        assert audit.status is Status.FAIL
        assert audit.changes == [], "a failed lookup must not propose records"
        assert all(
            "not checked" in " ".join(c.messages)
            or "could not" in " ".join(c.messages)
            or c.status is not Status.FAIL
            for c in audit.checks
        )


def test_propagation_shows_disagreeing_servers(lab: AuditLab) -> None:
    audit = lab.audit("prop.lab.test", Profile.COEXISTENCE)
    rows = {(row.name, row.rtype): row for row in audit.propagation}
    assert not rows[("prop.lab.test", "MX")].agree
    assert rows[("prop.lab.test", "TXT")].agree
    assert len(rows[("prop.lab.test", "MX")].answers) == 2


def test_cli_json_and_exit_codes(lab: AuditLab) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "mxpilot",
                "dns",
                *args,
                "--nameserver",
                f"{lab.dns.host}:{lab.dns.port}",
                "--timeout",
                "1",
                "--authoritative-port",
                str(lab.dns.port),
                "--https-port",
                str(lab.https.port),
                "--ca-file",
                str(lab.https.ca_pem),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            check=False,
        )

    ok = run("m365.lab.test", "--expect", "office365", "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    data = json.loads(ok.stdout)
    assert data["status"] == "pass" and data["profile"] == "office365"
    assert {"id", "status", "found", "expected", "messages", "changes"} <= set(data["checks"][0])
    bad = run("gmail.lab.test", "--expect", "office365")
    assert bad.returncode == 1 and "Records to change" in bad.stdout
    idn = run("exámple.lab.test", "--json")
    assert idn.returncode == 1 and json.loads(idn.stdout)["domain"] == "xn--exmple-qta.lab.test"
    usage = run("not a domain")
    assert usage.returncode == 2
    direct = run("m365.lab.test", "--authoritative", "--json")
    assert json.loads(direct.stdout)["resolver"].startswith("authoritative: ns1.m365.lab.test")
    assert direct.returncode == 0, direct.stdout


def test_subdomain_inherits_the_organisational_dmarc_policy(lab: AuditLab) -> None:
    from probes.dns.mailauth import check_dmarc

    check = asyncio.run(check_dmarc("shop.gmail.lab.test", lab.client().lookup))
    assert check.status is Status.PASS, check.messages
    assert "inherited from _dmarc.lab.test" in check.found[0]
    assert "sp=reject" in " ".join(check.messages)
    alone = asyncio.run(check_dmarc("alone.invalid", lab.client().lookup))
    assert alone.status is Status.WARN and alone.changes
