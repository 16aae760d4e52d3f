"""Self-test of the Dovecot lab: a real Dovecot on loopback, driven with stdlib ``imaplib``."""

from __future__ import annotations

import imaplib
import os
import ssl
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import trustme

from tests.labkit.dovecot import DovecotLab

pytestmark = pytest.mark.lab

USERS = {"alice@lab.test": "alice-S3cret!pw", "empty@lab.test": "empty-pass-42"}
MESSAGES = {"alice@lab.test": 3}
TIMEOUT_S = 5.0


def _require_dovecot() -> None:
    reason = DovecotLab.available()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"lab component missing in CI: {reason}")
    pytest.skip(f"lab component missing: {reason}")


@pytest.fixture(scope="module")
def ca_and_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DovecotLab]]:
    """A lab CA (trustme) and a Dovecot presenting a certificate it issued."""
    _require_dovecot()
    certs = tmp_path_factory.mktemp("dovecot-certs")
    ca = trustme.CA()
    leaf = ca.issue_cert("localhost", "127.0.0.1")
    ca.cert_pem.write_to_path(str(certs / "ca.pem"))
    (certs / "cert.pem").write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(certs / "key.pem"))
    lab = DovecotLab(
        tmp_path_factory.mktemp("dovecot"),
        cert_pem=certs / "cert.pem",
        key_pem=certs / "key.pem",
        users=USERS,
        messages=MESSAGES,
    )
    with lab:
        yield certs / "ca.pem", lab


@pytest.fixture
def lab(ca_and_lab: tuple[Path, DovecotLab]) -> DovecotLab:
    """The running Dovecot lab."""
    return ca_and_lab[1]


@pytest.fixture
def client_context(ca_and_lab: tuple[Path, DovecotLab]) -> ssl.SSLContext:
    """A verifying client context trusting only the test CA."""
    return ssl.create_default_context(cafile=str(ca_and_lab[0]))


def _flatten(items: Sequence[object]) -> list[bytes]:
    """The bytes inside imaplib's nested FETCH answer."""
    flat: list[bytes] = []
    for item in items:
        if isinstance(item, bytes):
            flat.append(item)
        elif isinstance(item, tuple):
            flat.extend(part for part in item if isinstance(part, bytes))
    return flat


def test_available_here() -> None:
    _require_dovecot()
    assert DovecotLab.available() is None


def test_ports_are_distinct_high_loopback_ports(lab: DovecotLab) -> None:
    assert lab.host == "127.0.0.1"
    assert lab.imaps_port > 1024 and lab.imap_port > 1024
    assert lab.imaps_port != lab.imap_port


def test_instance_is_private(lab: DovecotLab) -> None:
    config = lab.config_path.read_text()
    assert "listen = 127.0.0.1" in config
    assert "/run/dovecot" not in config and "/var/lib/dovecot" not in config
    assert f"log_path = {lab.directory}" in config


def test_implicit_tls_login_and_inbox_count(
    lab: DovecotLab, client_context: ssl.SSLContext
) -> None:
    imap = imaplib.IMAP4_SSL(
        lab.host, lab.imaps_port, ssl_context=client_context, timeout=TIMEOUT_S
    )
    try:
        assert imap.welcome.startswith(b"* OK")
        assert imap.login("alice@lab.test", USERS["alice@lab.test"])[0] == "OK"
        status, data = imap.select("INBOX")
        assert status == "OK"
        assert int(data[0] or b"0") == MESSAGES["alice@lab.test"]
        status, fetched = imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert status == "OK"
        assert b"Subject: Lab message 1" in b"".join(_flatten(fetched))
    finally:
        imap.logout()


def test_user_without_messages_has_an_empty_inbox(
    lab: DovecotLab, client_context: ssl.SSLContext
) -> None:
    imap = imaplib.IMAP4_SSL(
        lab.host, lab.imaps_port, ssl_context=client_context, timeout=TIMEOUT_S
    )
    try:
        imap.login("empty@lab.test", USERS["empty@lab.test"])
        status, data = imap.select("INBOX")
        assert (status, int(data[0] or b"-1")) == ("OK", 0)
    finally:
        imap.logout()


def test_plain_port_requires_starttls_before_login(
    lab: DovecotLab, client_context: ssl.SSLContext
) -> None:
    imap = imaplib.IMAP4(lab.host, lab.imap_port, timeout=TIMEOUT_S)
    try:
        assert "STARTTLS" in imap.capabilities
        assert "LOGINDISABLED" in imap.capabilities
        with pytest.raises(imaplib.IMAP4.error) as refused:
            imap.login("alice@lab.test", USERS["alice@lab.test"])
        assert "PRIVACYREQUIRED" in str(refused.value) or "disallowed" in str(refused.value)
        imap.starttls(client_context)
        assert "LOGINDISABLED" not in imap.capabilities
        assert imap.login("alice@lab.test", USERS["alice@lab.test"])[0] == "OK"
    finally:
        imap.logout()


@pytest.mark.parametrize("port_name", ["imaps_port", "imap_port"])
def test_wrong_password_is_authenticationfailed(
    lab: DovecotLab, client_context: ssl.SSLContext, port_name: str
) -> None:
    if port_name == "imaps_port":
        imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            lab.host, lab.imaps_port, ssl_context=client_context, timeout=TIMEOUT_S
        )
    else:
        imap = imaplib.IMAP4(lab.host, lab.imap_port, timeout=TIMEOUT_S)
        imap.starttls(client_context)
    try:
        with pytest.raises(imaplib.IMAP4.error) as failed:
            imap.login("alice@lab.test", "not-the-password")
        message = str(failed.value)
        assert "AUTHENTICATIONFAILED" in message or "Authentication failed" in message
        # No auth penalty afterwards: the right password logs in at once on the same IP.
        assert imap.login("alice@lab.test", USERS["alice@lab.test"])[0] == "OK"
    finally:
        imap.logout()


def test_log_holds_no_passwords(lab: DovecotLab, client_context: ssl.SSLContext) -> None:
    imap = imaplib.IMAP4_SSL(
        lab.host, lab.imaps_port, ssl_context=client_context, timeout=TIMEOUT_S
    )
    try:
        imap.login("alice@lab.test", USERS["alice@lab.test"])
    finally:
        imap.logout()
    log = lab.log_text()
    assert "Login: user=<alice@lab.test>" in log
    assert all(password not in log for password in USERS.values())


def test_stop_frees_the_ports(tmp_path: Path, ca_and_lab: tuple[Path, DovecotLab]) -> None:
    running = ca_and_lab[1]
    lab = DovecotLab(tmp_path, running.cert_pem, running.key_pem, {"x@lab.test": "pw-x"})
    with lab:
        ports = (lab.imaps_port, lab.imap_port)
    for port in ports:
        with pytest.raises(OSError):
            imaplib.IMAP4(lab.host, port, timeout=1.0)


def test_rejects_users_a_passwd_file_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as bad:
        DovecotLab(tmp_path, tmp_path / "c", tmp_path / "k", {"a@lab.test": "pass:word"})
    assert "pass:word" not in str(bad.value)
    with pytest.raises(ValueError):
        DovecotLab(tmp_path, tmp_path / "c", tmp_path / "k", {"a b": "pw"})
