"""The pure-Python IMAP lab server, checked with mxpilot's own probes and with raw sessions."""

from __future__ import annotations

import base64
import imaplib
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest

from mxlab.certs import LabCertificates
from mxlab.imap import IMAP_PERSONALITIES, ImapLabServer
from probes.mail.model import AuthMethod, Credentials, PhaseName, Protocol, Security, Target
from probes.mail.runner import ProbeOptions, run_probe
from probes.status import Status

USER = "owner@lab.test"
PASSWORD = 'pw with "quotes" and \\ spaces'
EMPTY = "empty@lab.test"


@pytest.fixture
def imap_lab(lab_certs: LabCertificates) -> Iterator[ImapLabServer]:
    """A running IMAP lab server with one full and one empty mailbox."""
    server = ImapLabServer(
        lab_certs, users={USER: PASSWORD, EMPTY: "empty-pass"}, messages={USER: 3}
    )
    with server:
        yield server


def target(
    server: ImapLabServer,
    security: Security,
    password: str = PASSWORD,
    method: AuthMethod = AuthMethod.AUTO,
) -> Target:
    port = server.tls_port if security is Security.TLS else server.plain_port
    return Target(
        server.host,
        port,
        Protocol.IMAP,
        security,
        Credentials(USER, password, method),
        check_inbox=True,
    )


@pytest.mark.parametrize("security", [Security.TLS, Security.STARTTLS, Security.AUTO])
@pytest.mark.parametrize("method", [AuthMethod.LOGIN, AuthMethod.PLAIN])
async def test_probe_logs_in_and_counts_the_inbox(
    imap_lab: ImapLabServer, lab_options: ProbeOptions, security: Security, method: AuthMethod
) -> None:
    result = await run_probe(target(imap_lab, security, method=method), lab_options)
    assert result.status is Status.PASS, [(p.title, p.summary) for p in result.phases]
    inbox = result.phase(PhaseName.INBOX)
    assert inbox is not None and inbox.facts["messages"] == 3
    auth = result.phase(PhaseName.AUTH)
    assert auth is not None and method.value.upper() in auth.facts["mechanism"]


async def test_starttls_port_disables_login_before_tls(
    imap_lab: ImapLabServer, lab_options: ProbeOptions
) -> None:
    result = await run_probe(target(imap_lab, Security.STARTTLS), lab_options)
    before, after = result.phases[3], result.phase(PhaseName.CAPABILITIES)
    assert before.facts["starttls"] is True and before.facts["login_disabled"] is True
    assert after is not None and after.facts["login_disabled"] is False
    assert "PLAIN" in after.facts["auth_mechanisms"]


async def test_wrong_password_is_invalid_credentials(
    imap_lab: ImapLabServer, lab_options: ProbeOptions
) -> None:
    result = await run_probe(target(imap_lab, Security.TLS, "wrong"), lab_options)
    assert result.failure is not None and result.failure.kind == "imap.login_failed"
    assert "[AUTHENTICATIONFAILED]" in result.failure.summary
    assert result.diagnoses[0].id == "imap.invalid_credentials"


@pytest.mark.parametrize(
    ("personality", "method", "reply", "diagnosis"),
    [
        ("exchange_basic_auth_disabled", AuthMethod.PLAIN, "NO AUTHENTICATE failed.",
         "o365.imap_authenticate_failed"),
        ("exchange_basic_auth_disabled", AuthMethod.LOGIN, "NO LOGIN failed.",
         "o365.imap_login_failed"),
        ("gmail_app_password_required", AuthMethod.LOGIN,
         "NO [ALERT] Application-specific password required: "
         "https://support.google.com/accounts/answer/185833 (Failure)",
         "gmail.app_password_required"),
        ("gmail_app_password_required", AuthMethod.PLAIN, "Application-specific password",
         "gmail.app_password_required"),
    ],
)  # fmt: skip
async def test_personalities_refuse_like_the_provider_and_switch_at_runtime(
    imap_lab: ImapLabServer,
    lab_options: ProbeOptions,
    personality: str,
    method: AuthMethod,
    reply: str,
    diagnosis: str,
) -> None:
    imap_lab.personality = personality
    result = await run_probe(target(imap_lab, Security.TLS, method=method), lab_options)
    assert result.status is Status.FAIL
    assert result.failure is not None and result.failure.kind == "imap.login_failed"
    assert reply in result.failure.summary
    assert result.diagnoses[0].id == diagnosis
    imap_lab.personality = IMAP_PERSONALITIES["ok"]
    again = await run_probe(target(imap_lab, Security.TLS, method=method), lab_options)
    assert again.status is Status.PASS


def test_imaplib_authenticate_continuation_and_examine(
    imap_lab: ImapLabServer, lab_certs: LabCertificates
) -> None:
    client = imaplib.IMAP4(imap_lab.host, imap_lab.plain_port, timeout=5)
    try:
        assert "LOGINDISABLED" in client.capabilities
        client.starttls(lab_certs.client_context())
        assert "AUTH=PLAIN" in client.capabilities
        # imaplib sends no initial response: the server asks with "+ "
        status, _ = client.authenticate("PLAIN", lambda _: f"\0{EMPTY}\0empty-pass".encode())
        assert status == "OK"
        assert client.select("INBOX", readonly=True) == ("OK", [b"0"])
        assert "READ-ONLY" in client.untagged_responses
        assert client.select("Archive")[0] == "NO"
    finally:
        client.logout()


class RawSession:
    """A line-oriented client over implicit TLS for protocol details imaplib hides."""

    def __init__(self, server: ImapLabServer, certs: LabCertificates) -> None:
        raw = socket.create_connection((server.host, server.tls_port), timeout=5)
        self.sock = certs.client_context().wrap_socket(raw, server_hostname="localhost")
        self.file = self.sock.makefile("rb")
        self.greeting = self.line()

    def line(self) -> str:
        return self.file.readline().decode().rstrip("\r\n")

    def send(self, data: str | bytes) -> None:
        self.sock.sendall(data if isinstance(data, bytes) else data.encode() + b"\r\n")

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def raw(imap_lab: ImapLabServer, lab_certs: LabCertificates) -> Iterator[RawSession]:
    session = RawSession(imap_lab, lab_certs)
    yield session
    session.close()


def test_greeting_unknown_commands_and_select(raw: RawSession) -> None:
    assert raw.greeting.startswith("* OK [CAPABILITY IMAP4rev1")
    raw.send("a1 FROBNICATE")
    assert raw.line().startswith("a1 BAD")
    raw.send("a2 NOOP")
    assert raw.line() == "a2 OK NOOP completed."
    raw.send("a3 SELECT INBOX")
    assert raw.line().startswith("a3 BAD")  # not logged in
    raw.send("a4 STARTTLS")
    assert raw.line().startswith("a4 BAD")  # TLS already
    raw.send(f"a5 LOGIN {{{len(USER)}}}")  # a synchronising literal
    assert raw.line().startswith("+ ")
    quoted = PASSWORD.replace("\\", "\\\\").replace('"', '\\"')
    raw.send(f'{USER} "{quoted}"')
    assert raw.line().startswith("a5 OK")
    raw.send("a6 SELECT inbox")
    lines = [raw.line() for _ in range(7)]
    assert "* 3 EXISTS" in lines and "* 0 RECENT" in lines
    assert lines[-1].startswith("a6 OK [READ-WRITE]")
    raw.send("a7 EXAMINE INBOX")
    lines = [raw.line() for _ in range(7)]
    assert lines[-1].startswith("a7 OK [READ-ONLY]")
    raw.send("a8 LOGOUT")
    assert raw.line().startswith("* BYE")
    assert raw.line() == "a8 OK Logout completed."
    assert raw.line() == ""


def test_authenticate_plain_with_initial_response_and_cancel(raw: RawSession) -> None:
    raw.send("b1 AUTHENTICATE PLAIN")
    assert raw.line() == "+ "
    raw.send("*")
    assert raw.line().startswith("b1 BAD")
    raw.send("b2 AUTHENTICATE PLAIN !!notbase64")
    assert raw.line().startswith("b2 BAD")
    raw.send("b3 AUTHENTICATE CRAM-MD5")
    assert raw.line().startswith("b3 NO")
    token = base64.b64encode(f"\0{EMPTY}\0empty-pass".encode()).decode()
    raw.send(f"b4 AUTHENTICATE PLAIN {token}")
    assert raw.line().startswith("b4 OK")


def test_plain_port_refuses_login_before_tls(imap_lab: ImapLabServer) -> None:
    with socket.create_connection((imap_lab.host, imap_lab.plain_port), timeout=5) as sock:
        reader = sock.makefile("rb")
        assert b"LOGINDISABLED" in reader.readline()
        sock.sendall(f'c1 LOGIN {USER} "x"\r\n'.encode())
        assert reader.readline().startswith(b"c1 NO [PRIVACYREQUIRED]")
        reader.close()


def test_overlong_line_is_refused(raw: RawSession) -> None:
    raw.send("d1 NOOP " + "x" * 9000)
    assert raw.line() == "* BYE Too long command line."
    assert raw.line() == ""


def test_oversized_literal_is_refused_before_it_is_read(raw: RawSession) -> None:
    raw.send("d2 LOGIN {99999}")
    assert raw.line() == "* BYE Too long command line."
    assert raw.line() == ""


def test_idle_client_is_disconnected(lab_certs: LabCertificates) -> None:
    with ImapLabServer(lab_certs, idle_timeout=0.3) as server:
        session = RawSession(server, lab_certs)
        try:
            started = time.monotonic()
            assert session.line() == "* BYE Disconnected for inactivity."
            assert session.line() == ""
            assert time.monotonic() - started < 3
        finally:
            session.close()


def test_stop_closes_every_connection_and_thread(lab_certs: LabCertificates) -> None:
    server = ImapLabServer(lab_certs).start()
    tls_port, plain_port = server.tls_port, server.plain_port
    session = RawSession(server, lab_certs)
    plain = socket.create_connection((server.host, plain_port), timeout=5)
    assert plain.recv(100).startswith(b"* OK")
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 3
    assert session.file.readline() == b""
    assert plain.recv(100) == b""
    session.close()
    plain.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("imap-lab-")]
    for port in (tls_port, plain_port):
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_unknown_personality_is_refused(lab_certs: LabCertificates) -> None:
    with pytest.raises(ValueError, match="unknown IMAP personality"):
        ImapLabServer(lab_certs, personality="nope")
    with pytest.raises(ValueError, match="certs"):
        ImapLabServer()
    assert isinstance(ImapLabServer(lab_certs).server_context, ssl.SSLContext)
