"""TLS for probes: contexts, the handshake, certificate facts and their verdicts.

Certificate facts are read from the DER bytes with ``cryptography`` so they
are available even when verification failed, which is exactly when they
matter: an expired certificate, a self-signed one, or one issued by an
antivirus or proxy product that intercepts TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import os
import ssl
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from probes.mail.channel import Channel, PhaseFailed
from probes.mail.facts import CertificateFacts
from probes.mail.model import Phase
from probes.status import Status

_T = TypeVar("_T")

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

    @staticmethod
    def legacy_context() -> ssl.SSLContext:
        """A context that accepts TLS 1.0 and weak ciphers: to diagnose, never to log in.

        Used only to learn which version a server speaks (or which mode a
        port speaks) after a handshake failed; no probe goes on over it.
        """
        context = TlsSettings.unverified_context()
        with contextlib.suppress(ssl.SSLError):
            context.set_ciphers("ALL:@SECLEVEL=0")
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
    """Subject, SANs, issuer, validity and days to expiry of a DER certificate.

    Never raises: a field that cannot be read (a duplicated extension, a bad
    date, an odd name) is left out and said in the ``error`` fact.
    """
    moment = now or dt.datetime.now(dt.UTC)
    try:
        cert = x509.load_der_x509_certificate(der)
    except Exception as exc:  # any parse failure is a fact, never a crash
        return CertificateFacts(error=f"unreadable certificate: {exc}").to_facts()
    problems: list[str] = []

    def read(what: str, get: Callable[[], _T], default: _T) -> _T:
        try:
            return get()
        except Exception as exc:  # an unreadable field is a fact
            problems.append(f"{what}: {exc.__class__.__name__}: {exc}")
            return default

    issuer = read("issuer", lambda: _name(cert.issuer), None)
    subject = read("subject", lambda: _name(cert.subject), None)
    not_after = read("not after", lambda: cert.not_valid_after_utc, None)
    not_before = read("not before", lambda: cert.not_valid_before_utc, None)
    return CertificateFacts(
        subject=subject,
        subject_cn=read("subject CN", lambda: _first(cert.subject, NameOID.COMMON_NAME), None),
        sans=tuple(read("extensions", lambda: _sans(cert), [])),
        issuer=issuer,
        issuer_org=read("issuer O", lambda: _first(cert.issuer, NameOID.ORGANIZATION_NAME), None),
        not_before=not_before.isoformat() if not_before else None,
        not_after=not_after.isoformat() if not_after else None,
        days_to_expiry=(not_after - moment).days if not_after else None,
        self_signed=issuer is not None and issuer == subject,
        interception_product=interception_product(issuer) if issuer else None,
        error="; ".join(problems) or None,
    ).to_facts()


def _sans(cert: x509.Certificate) -> list[str]:
    """The DNS names and IP addresses of the SubjectAlternativeName extension."""
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return []
    san = ext.value
    if not isinstance(san, x509.SubjectAlternativeName):
        return []
    found = [str(v) for v in san.get_values_for_type(x509.DNSName)]
    return found + [str(v) for v in san.get_values_for_type(x509.IPAddress)]


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


OLD_VERSIONS = {"SSLv2": "SSL 2", "SSLv3": "SSL 3", "TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1"}
"""Protocol versions current clients refuse (Python's name: the usual name)."""

_VERSION_ERRORS = (
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "UNSUPPORTED_PROTOCOL",
    "NO_PROTOCOLS_AVAILABLE",
    "VERSION_TOO_LOW",
    "VERSION_TOO_HIGH",
)


def version_words(version: str) -> str:
    """A protocol version as people name it: ``TLSv1`` is ``TLS 1.0``."""
    return OLD_VERSIONS.get(version) or version.replace("TLSv", "TLS ")


def classify_handshake(error: BaseException) -> tuple[str, str]:
    """Map any other handshake failure to (kind, plain-words reason)."""
    text = str(error)
    upper = text.upper()
    if any(code in upper for code in _VERSION_ERRORS):
        return "tls.protocol_version", (
            f"the server and this client have no TLS version in common ({text})"
        )
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
        detail = f" ({text})" if text else ""
        return "tls.closed", f"the server closed the connection during the TLS handshake{detail}"
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
    elif cert.error is not None:
        phase.status = Status.WARN
        phase.kind = "tls.cert_unreadable"
        phase.summary = f"part of the certificate could not be read ({cert.error}); {base}"
    elif version in ("TLSv1", "TLSv1.1", "SSLv3"):
        phase.status = Status.WARN
        phase.kind = "tls.old_version"
        phase.summary = f"{version} is obsolete; {base}"
    elif days is not None and days < 14:
        phase.status = Status.WARN
        phase.kind = "tls.cert_expiring"
        phase.summary = f"the certificate expires in {days} days; {base}"
