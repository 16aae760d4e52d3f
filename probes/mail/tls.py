"""TLS for probes: contexts, the handshake, certificate facts and their verdicts.

Certificate facts are read from the DER bytes with ``cryptography`` so they
are available even when verification failed, which is exactly when they
matter: an expired certificate, a self-signed one, or one issued by an
antivirus or proxy product that intercepts TLS.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import os
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from probes.mail.channel import Channel, PhaseFailed
from probes.mail.facts import CertificateFacts
from probes.mail.model import Phase
from probes.status import Status

INTERCEPTION_PRODUCTS: tuple[str, ...] = (
    "avast",
    "avg ",
    "avg technologies",
    "kaspersky",
    "eset",
    "bitdefender",
    "fortinet",
    "fortigate",
    "zscaler",
    "sophos",
    "palo alto",
    "cisco umbrella",
    "netskope",
    "blue coat",
    "symantec web",
    "mcafee",
    "norton",
    "trend micro",
    "check point",
    "watchguard",
    "barracuda",
    "untangle",
    "mitmproxy",
    "charles proxy",
    "fiddler",
    "portswigger",
    "burp",
    "forcepoint",
    "websense",
    "smoothwall",
    "lightspeed",
    "securly",
    "cyberoam",
)
"""Issuer names of products known to re-sign TLS (antivirus mail shields, proxies)."""


@dataclass(frozen=True)
class TlsSettings:
    """What the user told us about trust: an extra CA file and whether to go on unverified."""

    ca_file: Path | None = None
    insecure: bool = False

    def verifying_context(self) -> ssl.SSLContext:
        """A client context that verifies the chain and the host name.

        The system trust store (``SSL_CERT_FILE`` honoured by OpenSSL) plus
        ``ca_file`` when given. Built once per trust setting: loading the
        system store costs tens of milliseconds, and a context serves many
        connections.
        """
        ca_file = str(self.ca_file) if self.ca_file is not None else None
        return _verifying_context(ca_file, os.environ.get("SSL_CERT_FILE"))

    @staticmethod
    def unverified_context() -> ssl.SSLContext:
        """A client context that encrypts but checks nothing (to read the certificate)."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with warnings.catch_warnings():  # old versions allowed on purpose: to report them
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
        return context


@functools.lru_cache(maxsize=8)
def _verifying_context(ca_file: str | None, _ssl_cert_file: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=ca_file)
    return context


def interception_product(issuer: str) -> str | None:
    """The product name when a certificate issuer looks like a TLS interceptor."""
    lowered = issuer.lower() + " "
    for product in INTERCEPTION_PRODUCTS:
        if product in lowered:
            return product.strip()
    return None


def _name(name: x509.Name) -> str:
    return name.rfc4514_string()


def _first(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def certificate_facts(der: bytes, now: dt.datetime | None = None) -> dict[str, Any]:
    """Subject, SANs, issuer, validity and days to expiry of a DER certificate."""
    moment = now or dt.datetime.now(dt.UTC)
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        return CertificateFacts(error=f"unreadable certificate: {exc}").to_facts()
    sans: list[str] = []
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        san = ext.value
        if isinstance(san, x509.SubjectAlternativeName):
            sans = [str(v) for v in san.get_values_for_type(x509.DNSName)]
            sans += [str(v) for v in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    not_after = cert.not_valid_after_utc
    issuer = _name(cert.issuer)
    return CertificateFacts(
        subject=_name(cert.subject),
        subject_cn=_first(cert.subject, NameOID.COMMON_NAME),
        sans=tuple(sans),
        issuer=issuer,
        issuer_org=_first(cert.issuer, NameOID.ORGANIZATION_NAME),
        not_before=cert.not_valid_before_utc.isoformat(),
        not_after=not_after.isoformat(),
        days_to_expiry=(not_after - moment).days,
        self_signed=cert.issuer == cert.subject,
        interception_product=interception_product(issuer),
    ).to_facts()


def classify_verification(error: ssl.SSLCertVerificationError) -> tuple[str, str]:
    """Map an OpenSSL verification error to (kind, plain-words reason)."""
    message = (error.verify_message or str(error)).strip()
    lowered = message.lower()
    if "expired" in lowered:
        return "tls.cert_expired", f"the certificate has expired ({message})"
    if "not yet valid" in lowered:
        return "tls.cert_expired", f"the certificate is not valid yet ({message})"
    if "hostname" in lowered or "ip address mismatch" in lowered:
        return "tls.cert_hostname", f"the certificate is for another name ({message})"
    return "tls.cert_untrusted", f"the certificate is not trusted ({message})"


def classify_handshake(error: BaseException) -> tuple[str, str]:
    """Map any other handshake failure to (kind, plain-words reason)."""
    text = str(error)
    upper = text.upper()
    if (
        "WRONG_VERSION_NUMBER" in upper
        or "RECORD_LAYER_FAILURE" in upper
        or ("PACKET_LENGTH_TOO_LONG" in upper or "HTTP_REQUEST" in upper)
    ):
        return "tls.wrong_version", (
            f"the server answered the TLS handshake with plain text ({text}): "
            "this port does not speak implicit TLS"
        )
    if isinstance(error, (ConnectionResetError, asyncio.IncompleteReadError, EOFError)) or (
        "EOF" in upper or "UNEXPECTED_EOF" in upper
    ):
        return "tls.closed", f"the server closed the connection during the TLS handshake ({text})"
    return "tls.handshake", f"the TLS handshake failed ({text or error.__class__.__name__})"


async def handshake(
    channel: Channel, context: ssl.SSLContext, server_hostname: str, timeout: float
) -> dict[str, Any]:
    """Upgrade the channel to TLS and return the connection's TLS facts.

    Raises PhaseFailed with a ``tls.*`` kind; a verification failure carries
    ``facts['verify_code']``.
    """
    if channel.pending:
        raise PhaseFailed(
            "tls.handshake",
            "the server sent data before the TLS handshake (possible injection); refusing",
        )
    try:
        await channel.writer.start_tls(
            context, server_hostname=server_hostname, ssl_handshake_timeout=timeout
        )
    except ssl.SSLCertVerificationError as exc:
        kind, reason = classify_verification(exc)
        raise PhaseFailed(kind, reason, facts={"verify_code": exc.verify_code}) from None
    except TimeoutError:
        raise PhaseFailed("tls.timeout", f"no TLS handshake within {timeout:g} s") from None
    except (ssl.SSLError, OSError, EOFError) as exc:
        kind, reason = classify_handshake(exc)
        raise PhaseFailed(kind, reason) from None
    channel.encrypted = True
    return connection_facts(channel)


def connection_facts(channel: Channel) -> dict[str, Any]:
    """Version, cipher and certificate facts of an encrypted channel."""
    ssl_object = channel.writer.get_extra_info("ssl_object")
    facts: dict[str, Any] = {}
    if ssl_object is None:
        return facts
    cipher = ssl_object.cipher()
    facts["version"] = ssl_object.version()
    if cipher:
        facts["cipher"] = cipher[0]
        facts["bits"] = cipher[2]
    der = ssl_object.getpeercert(binary_form=True)
    if der:
        facts["certificate"] = certificate_facts(der)
    return facts


def tls_verdict(phase: Phase) -> None:
    """Warn on an intercepting issuer, an old protocol version or a near expiry."""
    tls = phase.tls
    if phase.status is not Status.PASS or tls is None:
        return
    cert = tls.certificate or CertificateFacts()
    version = tls.version or ""
    issuer = cert.issuer if cert.issuer is not None else "?"
    name = cert.sans[0] if cert.sans else cert.subject_cn
    days = cert.days_to_expiry
    base = f"{version} {tls.cipher or ''}, certificate for {name}"
    phase.summary = f"{base}, issued by {issuer}, {days} days left"
    if cert.interception_product:
        phase.status = Status.WARN
        phase.kind = "tls.interception"
        phase.summary = (
            f"the certificate was issued by {issuer}: {cert.interception_product} is "
            "intercepting TLS (trusted here, but it sees your passwords)"
        )
    elif version in ("TLSv1", "TLSv1.1", "SSLv3"):
        phase.status = Status.WARN
        phase.kind = "tls.old_version"
        phase.summary = f"{version} is obsolete; {base}"
    elif days is not None and days < 14:
        phase.status = Status.WARN
        phase.kind = "tls.cert_expiring"
        phase.summary = f"the certificate expires in {days} days; {base}"
