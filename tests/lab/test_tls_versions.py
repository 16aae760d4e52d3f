"""A server that only speaks TLS 1.0 is named as such; odd certificates never crash a probe.

The TLS 1.0 server is real (Python ssl, ``@SECLEVEL=0``) on loopback; the local OpenSSL
serves it (checked by ``old_tls_available``, else the version tests are skipped).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

import pytest

from mxlab.certs import LabCertificates
from probes.mail.model import PhaseName, Protocol, Security, Target
from probes.mail.runner import ProbeOptions, run_probe
from probes.mail.tls import TlsSettings, certificate_facts, classify_handshake
from probes.status import Status
from tests.labkit.hostile import HostilePeer
from tests.labkit.hostile_tls import (
    duplicated_extension_certificate,
    legacy_server_context,
    old_tls_available,
)

Start = Callable[..., HostilePeer]
needs_old_tls = pytest.mark.skipif(
    not old_tls_available(), reason="the local OpenSSL cannot serve TLS 1.0"
)


@needs_old_tls
@pytest.mark.parametrize(
    ("version", "words"),
    [(ssl.TLSVersion.TLSv1, "TLS 1.0"), (ssl.TLSVersion.TLSv1_1, "TLS 1.1")],
)
@pytest.mark.parametrize("security", [Security.TLS, Security.AUTO])
async def test_an_old_only_server_is_named_and_auto_does_not_call_it_starttls(
    hostile_peer: Start,
    lab_certs: LabCertificates,
    lab_options: ProbeOptions,
    version: ssl.TLSVersion,
    words: str,
    security: Security,
) -> None:
    context = legacy_server_context(lab_certs.cert_pem, lab_certs.key_pem, version)
    peer = hostile_peer("plain_on_tls", ssl_context=context)
    result = await run_probe(Target(peer.host, peer.port, Protocol.SMTP, security), lab_options)
    failure = result.failure
    assert failure is not None and failure.name is PhaseName.TLS
    assert failure.kind == "tls.server_old_version"
    assert f"the server only speaks {words}, which current clients refuse" in failure.summary
    assert result.diagnoses[0].id == "tls.server_old_version"
    assert not any(d.id.startswith("mode.") for d in result.diagnoses)
    assert result.phase(PhaseName.AUTH) is None  # never went on over the old version


@needs_old_tls
async def test_an_old_only_starttls_server_is_named(
    hostile_peer: Start, lab_certs: LabCertificates, lab_options: ProbeOptions
) -> None:
    context = legacy_server_context(lab_certs.cert_pem, lab_certs.key_pem)
    peer = hostile_peer("tls_on_plain", ssl_context=context, protocol="imap")
    target = Target(peer.host, peer.port, Protocol.IMAP, Security.STARTTLS)
    result = await run_probe(target, lab_options)
    assert result.failure is not None and result.failure.kind == "tls.server_old_version"
    assert result.failure.facts["server_version"] == "TLSv1"


def test_version_alerts_are_told_from_plain_text() -> None:
    alert = ssl.SSLError(1, "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version")
    assert classify_handshake(alert)[0] == "tls.protocol_version"
    plain = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    assert classify_handshake(plain)[0] == "tls.wrong_version"
    assert classify_handshake(ConnectionResetError())[1].endswith("TLS handshake")


@pytest.mark.parametrize("insecure", [False, True])
async def test_a_certificate_with_a_duplicated_extension_is_a_warning(
    hostile_peer: Start, lab_options: ProbeOptions, tmp_path: Path, insecure: bool
) -> None:
    odd = duplicated_extension_certificate(tmp_path)
    peer = hostile_peer("plain_on_tls", ssl_context=odd.server_context())
    options = ProbeOptions(
        timeouts=lab_options.timeouts, tls=TlsSettings(ca_file=odd.ca_pem, insecure=insecure)
    )
    result = await run_probe(Target(peer.host, peer.port, Protocol.SMTP, Security.TLS), options)
    tls = result.phase(PhaseName.TLS)
    assert tls is not None and tls.status is Status.WARN, tls
    assert tls.kind == "tls.cert_unreadable"
    cert = tls.tls.certificate  # type: ignore[union-attr]
    assert cert is not None and cert.error is not None and "Duplicate" in cert.error
    assert cert.subject_cn == "mail.lab.test"
    assert not any(p.kind == "internal.error" for p in result.phases)
    assert result.phase(PhaseName.CAPABILITIES) is not None


def test_certificate_facts_never_raise(tmp_path: Path) -> None:
    odd = duplicated_extension_certificate(tmp_path)
    der = ssl.PEM_cert_to_DER_cert(
        odd.cert_pem.read_text().split("-----END")[0] + "-----END CERTIFICATE-----\n"
    )
    facts = certificate_facts(der)
    assert "Duplicate" in facts["error"] and facts["issuer"] == "CN=odd lab CA"
    assert certificate_facts(b"\x30\x03garbage")["error"].startswith("unreadable certificate")
