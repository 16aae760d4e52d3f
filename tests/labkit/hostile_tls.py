"""TLS for hostile peers: a server stuck on TLS 1.0, a certificate with an extension twice.

Both are served by the ``plain_on_tls`` (implicit TLS) or ``tls_on_plain``
(STARTTLS) behaviours of :class:`tests.labkit.hostile.HostilePeer`, with the
server context made here.

``cryptography`` refuses to build a certificate with the same extension twice,
so :func:`duplicated_extension_certificate` builds one with two private
extensions whose OIDs have the same length, rewrites the second OID into the
first in the to-be-signed bytes, and signs those bytes again with its own CA.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

FIRST_OID = x509.ObjectIdentifier("1.3.6.1.4.1.55555.1")
SECOND_OID = x509.ObjectIdentifier("1.3.6.1.4.1.55555.2")


def legacy_server_context(
    cert_pem: Path, key_pem: Path, version: ssl.TLSVersion = ssl.TLSVersion.TLSv1
) -> ssl.SSLContext:
    """A server context that speaks only ``version`` (TLS 1.0 by default), weak ciphers allowed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile=str(cert_pem), keyfile=str(key_pem))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = version
        context.maximum_version = version
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


def old_tls_available() -> bool:
    """Whether the local OpenSSL can still negotiate TLS 1.0 with itself (SECLEVEL 0)."""
    try:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        return False
    return bool(context.get_ciphers())


@dataclass(frozen=True)
class OddCertificate:
    """PEM files: a CA, and a leaf it signed that carries one extension twice."""

    ca_pem: Path
    cert_pem: Path
    key_pem: Path

    def server_context(self) -> ssl.SSLContext:
        """A server context presenting the odd certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile=str(self.cert_pem), keyfile=str(self.key_pem))
        return context


def duplicated_extension_certificate(directory: Path) -> OddCertificate:
    """Write a CA and a leaf for 127.0.0.1/mail.lab.test whose private extension appears twice."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "odd lab CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [
        x509.DNSName("mail.lab.test"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.lab.test")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.UnrecognizedExtension(FIRST_OID, b"\x05\x00"), critical=False)
        .add_extension(x509.UnrecognizedExtension(SECOND_OID, b"\x05\x00"), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    first, second = _der_oid(FIRST_OID), _der_oid(SECOND_OID)
    tbs = leaf.tbs_certificate_bytes
    assert tbs.count(second) == 1 and len(first) == len(second)
    tbs = tbs.replace(second, first)
    signature = ca_key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    algorithm = _element_after(leaf.public_bytes(serialization.Encoding.DER), 0)
    der = _sequence(tbs + algorithm + _bit_string(signature))
    pem = serialization.Encoding.PEM
    directory.mkdir(parents=True, exist_ok=True)
    odd = OddCertificate(
        directory / "odd-ca.pem", directory / "odd-cert.pem", directory / "odd-key.pem"
    )
    odd.ca_pem.write_bytes(ca.public_bytes(pem))
    odd.cert_pem.write_bytes(
        x509.load_der_x509_certificate(der).public_bytes(pem) + ca.public_bytes(pem)
    )
    odd.key_pem.write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return odd


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _sequence(body: bytes) -> bytes:
    return b"\x30" + _length(len(body)) + body


def _bit_string(data: bytes) -> bytes:
    return b"\x03" + _length(len(data) + 1) + b"\x00" + data


def _der_oid(oid: x509.ObjectIdentifier) -> bytes:
    """The DER encoding of an OID (tag, length, arcs)."""
    arcs = [int(part) for part in oid.dotted_string.split(".")]
    body = bytes([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return b"\x06" + _length(len(body)) + body


def _element_after(der: bytes, skip: int) -> bytes:
    """The element after the ``skip``-th one inside the outer SEQUENCE of ``der`` (whole TLV)."""
    position = _header_size(der, 0)
    for _ in range(skip + 1):
        position += _element_size(der, position)
    return der[position : position + _element_size(der, position)]


def _header_size(der: bytes, at: int) -> int:
    first = der[at + 1]
    return 2 if first < 0x80 else 2 + (first & 0x7F)


def _element_size(der: bytes, at: int) -> int:
    first = der[at + 1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    return 2 + count + int.from_bytes(der[at + 2 : at + 2 + count], "big")
