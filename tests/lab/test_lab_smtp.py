"""Self-test of the SMTP lab: modes, submission rules, personalities and bad certificates."""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from mxlab.certs import LabCertificates
from mxlab.smtp import PERSONALITIES, SmtpLabServer

USER = "user@lab.test"
PASSWORD = "s3cret-pass"
TIMEOUT_S = 5.0
TROUBLE = sorted(name for name in PERSONALITIES if name != "ok")


@pytest.fixture
def certs(tmp_path: Path) -> LabCertificates:
    """Fresh lab certificates in this test's temporary directory."""
    return LabCertificates.create(tmp_path / "certs")


def _plain_auth(user: str = USER, password: str = PASSWORD) -> str:
    return "PLAIN " + base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def _starttls_client(server: SmtpLabServer, certs: LabCertificates) -> smtplib.SMTP:
    client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_S)
    client.starttls(context=certs.client_context())
    client.ehlo()
    return client


def test_starttls_login_succeeds_with_the_lab_ca(certs: LabCertificates) -> None:
    with SmtpLabServer("starttls", certs=certs) as server:
        assert server.host == "127.0.0.1" and server.port > 0
        with _starttls_client(server, certs) as client:
            assert client.has_extn("auth")
            assert client.login(USER, PASSWORD) == (235, b"2.7.0 Authentication successful")


def test_starttls_server_hides_auth_and_refuses_it_before_tls(certs: LabCertificates) -> None:
    with (
        SmtpLabServer("starttls", certs=certs) as server,
        smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_S) as client,
    ):
        client.ehlo()
        assert client.has_extn("starttls") and not client.has_extn("auth")
        expected = (530, b"5.7.0 Must issue a STARTTLS command first")
        assert client.docmd("AUTH", _plain_auth()) == expected
        assert client.docmd("MAIL", "FROM:<user@lab.test>") == expected


def test_wrong_password_gets_535_5_7_8(certs: LabCertificates) -> None:
    with SmtpLabServer("starttls", certs=certs) as server, _starttls_client(server, certs) as c:
        with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
            c.login(USER, "not-the-password")
        assert (caught.value.smtp_code, caught.value.smtp_error) == (
            535,
            b"5.7.8 Authentication credentials invalid",
        )


def test_implicit_tls_login_succeeds(certs: LabCertificates) -> None:
    with (
        SmtpLabServer("tls", certs=certs) as server,
        smtplib.SMTP_SSL(
            server.host, server.port, timeout=TIMEOUT_S, context=certs.client_context()
        ) as client,
    ):
        client.ehlo()
        assert not client.has_extn("starttls")
        assert client.login(USER, PASSWORD)[0] == 235


def test_plain_mode_allows_auth_in_clear() -> None:
    with (
        SmtpLabServer("plain", users={"other@lab.test": "pw-2"}) as server,
        smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_S) as client,
    ):
        client.ehlo()
        assert not client.has_extn("starttls") and client.has_extn("auth")
        assert client.login("other@lab.test", "pw-2")[0] == 235


def test_accepts_a_message_only_after_auth(certs: LabCertificates) -> None:
    with SmtpLabServer("starttls", certs=certs) as server, _starttls_client(server, certs) as c:
        assert c.docmd("MAIL", "FROM:<user@lab.test>") == (
            530,
            b"5.7.0 Authentication required",
        )
        c.login(USER, PASSWORD)
        c.sendmail(USER, ["admin@lab.test"], b"Subject: lab\r\n\r\nhello\r\n")
    [message] = server.messages
    assert message.mail_from == USER and message.rcpt_tos == ("admin@lab.test",)
    assert message.login == USER and b"hello" in message.content


@pytest.mark.parametrize("name", TROUBLE)
def test_personality_answers_auth_with_its_exact_reply(certs: LabCertificates, name: str) -> None:
    personality = PERSONALITIES[name]
    with (
        SmtpLabServer("tls", name, certs) as server,
        smtplib.SMTP_SSL(
            server.host, server.port, timeout=TIMEOUT_S, context=certs.client_context()
        ) as client,
    ):
        client.ehlo()
        assert client.ehlo_resp is not None
        assert client.ehlo_resp.startswith(personality.host.encode())
        reply = client.docmd("AUTH", _plain_auth())
        assert reply == (personality.auth_code, str(personality.auth_text).encode())
        if personality.close_after:
            with pytest.raises(smtplib.SMTPServerDisconnected):
                client.noop()


@pytest.mark.parametrize("name", sorted(PERSONALITIES))
def test_personality_greets_like_its_provider(name: str) -> None:
    personality = PERSONALITIES[name]
    with SmtpLabServer("plain", name) as server:
        client = smtplib.SMTP(timeout=TIMEOUT_S)
        try:
            code, banner = client.connect(server.host, server.port)
        finally:
            client.close()
    assert code == 220
    if "{date}" in personality.banner:
        fixed_part = personality.banner.split("{date}")[0]
        assert banner.decode().startswith(f"{personality.host} {fixed_part}")
    else:
        assert f"220 {banner.decode()}" == personality.greeting()


def test_exchange_greeting_carries_a_date(certs: LabCertificates) -> None:
    with SmtpLabServer("starttls", "o365_basic_disabled", certs) as server:
        client = smtplib.SMTP(timeout=TIMEOUT_S)
        try:
            _, banner = client.connect(server.host, server.port)
        finally:
            client.close()
    prefix = "SN4PR0501CA0054.outlook.office365.com Microsoft ESMTP MAIL Service ready at "
    text = banner.decode()
    assert text.startswith(prefix)
    assert parsedate_to_datetime(text.removeprefix(prefix)).tzinfo is not None


def test_personality_also_answers_auth_login_after_the_challenges(
    certs: LabCertificates,
) -> None:
    with (
        SmtpLabServer("starttls", "o365_tenant_disabled", certs) as server,
        _starttls_client(server, certs) as client,
    ):
        client.user, client.password = USER, PASSWORD
        with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
            client.auth("LOGIN", client.auth_login, initial_response_ok=False)
        assert caught.value.smtp_code == 535
        error = caught.value.smtp_error
        assert isinstance(error, bytes)
        assert error.startswith(b"5.7.139 Authentication unsuccessful, SmtpClientAuthentication")


def test_multiline_reply_is_sent_with_continuation_lines() -> None:
    expected = "".join(f"{line}\r\n" for line in PERSONALITIES["gmail_app_password"].auth_reply)
    with (
        SmtpLabServer("plain", "gmail_app_password") as server,
        socket.create_connection(server.address, timeout=TIMEOUT_S) as sock,
    ):
        stream = sock.makefile("rwb")
        assert stream.readline().startswith(b"220 smtp.gmail.com ESMTP ")
        stream.write(f"EHLO probe.lab.test\r\nAUTH {_plain_auth()}\r\n".encode())
        stream.flush()
        while not stream.readline().startswith(b"250 "):
            pass
        assert stream.readline() + stream.readline() == expected.encode()


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        ("expired", "certificate has expired"),
        ("wrong_name", "mismatch"),
        ("interception", "unable to get local issuer certificate"),
    ],
)
def test_bad_certificates_fail_verification(
    certs: LabCertificates, variant: str, reason: str
) -> None:
    context = getattr(certs, f"{variant}_server_context")()
    with (
        SmtpLabServer("starttls", certs=certs, server_context=context) as server,
        smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_S) as client,
    ):
        with pytest.raises(ssl.SSLCertVerificationError) as caught:
            client.starttls(context=certs.client_context())
        assert reason in str(caught.value.verify_message)


def test_interception_chain_is_an_antivirus_root(certs: LabCertificates) -> None:
    root = x509.load_pem_x509_certificate(certs.interception_ca_pem.read_bytes())
    subject = root.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "Avast Web/Mail Shield Root"
    )
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "Avast Software s.r.o."
    )
    trusting = ssl.create_default_context(cafile=str(certs.interception_ca_pem))
    with (
        SmtpLabServer("tls", server_context=certs.interception_server_context()) as server,
        socket.create_connection(server.address, timeout=TIMEOUT_S) as raw,
        trusting.wrap_socket(raw, server_hostname="mail.lab.test") as tls,
    ):
        assert tls.recv(1024).startswith(b"220 ")


def test_stopped_server_has_no_port(certs: LabCertificates) -> None:
    server = SmtpLabServer("tls", certs=certs)
    with server:
        assert server.port > 0
    with pytest.raises(RuntimeError):
        _ = server.port
    server.stop()
