"""explain(): the corpus of real error text (the seeds) and every catalogue example."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probes.diagnosis.catalogue import Catalogue, Entry
from probes.diagnosis.explain import context_from_text, explain, readable_text

# Seed 001, verbatim: an application's JSON error log around 535 5.7.139.
SEED_001_JSON = r"""{
  "userName": "desarrollo moises",
  "emailType": "password_recovery",
  "last_error": "SMTP Error Details:\n  Status Code: MustIssueStartTlsFirst\n  Message: The SMTP server requires a secure connection or the client was not authenticated. The server response was: 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator. [CH0PR08CA0021.namprd08.prod.outlook.com 2026-01-09T16:12:30.678Z 08DE4F6D4916B5B3]\n  To Email: moisesmurillo@sanmarino.com.co\n  SMTP Host: smtp.office365.com\n  SMTP Port: 587\n  SSL Enabled: True\n  From Email: zootecnico@sanmarino.com.co\n",
  "error_history": "Attempt 3: ...",
  "last_error_at": "2026-01-09 16:12:49 UTC",
  "total_retries": 3
}"""  # noqa: E501

# Seed 003, verbatim: the error log of port 587 silently dropped.
SEED_003_TRACEBACK = """TimeoutError: [WinError 10060] Se produjo un error durante el intento de conexión ya que la parte conectada no respondió adecuadamente...
File "smtplib.py", line 262, in __init__
    (code, msg) = self.connect(host, port)"""  # noqa: E501

# Seed 000, verbatim.
SEED_000_ERRORS = """SMTP Error: SmtpClientAuthentication is disabled for the Tenant
IMAP Error: LOGIN failed"""

GMAIL_534 = """534-5.7.9 Application-specific password required. Learn more at
534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor 5b1f17b1804b1-43d2b1f1f0esm1234567f8f.33 - gsmtp"""  # noqa: E501


def ids(text: str, **kwargs: str) -> list[str]:
    return [d.id for d in explain(text, **kwargs).findings]  # type: ignore[arg-type]


def test_seed_001_json_blob_criteria_first_then_5_7_57_then_dotnet() -> None:
    found = explain(SEED_001_JSON)
    order = [d.id for d in found.findings]
    assert order[0] == "o365.auth_criteria_not_met"
    assert "o365.client_not_authenticated" in order
    assert "dotnet.must_issue_starttls_first" in order
    assert order.index("dotnet.must_issue_starttls_first") > order.index(
        "o365.client_not_authenticated"
    )
    first = found.findings[0]
    assert "5.7.139" in first.evidence and "criteria" in first.evidence
    dotnet = found.findings[order.index("dotnet.must_issue_starttls_first")]
    assert "not the cause" in dotnet.cause
    assert any("MustIssueStartTlsFirst" in f for f in found.fragments)
    assert any("535 5.7.139" in f for f in found.fragments)


def test_seed_001_context_comes_from_the_text() -> None:
    found = explain(SEED_001_JSON)
    assert found.context["host"] == "smtp.office365.com"
    assert found.context["port"] == "587"
    assert found.context["mailbox"] == "zootecnico@sanmarino.com.co"
    commands = "\n".join(f.command or "" for f in found.findings[0].fixes)
    assert "Set-CASMailbox -Identity 'zootecnico@sanmarino.com.co'" in commands


def test_caller_context_wins_over_the_text() -> None:
    found = explain(SEED_001_JSON, {"mailbox": "ops@example.com"})
    commands = "\n".join(f.command or "" for f in found.findings[0].fixes)
    assert "-Identity 'ops@example.com'" in commands
    assert "zootecnico" not in commands


def test_seed_003_traceback_is_a_timeout_with_test_netconnection() -> None:
    found = explain(SEED_003_TRACEBACK)
    first = found.findings[0]
    assert first.id == "net.connect_timeout"
    assert any((f.command or "").startswith("Test-NetConnection") for f in first.fixes)
    assert any("EMAIL_USE_SSL = True" in (f.command or "") for f in first.fixes)
    assert found.fragments == [SEED_003_TRACEBACK.splitlines()[0]]


def test_seed_003_host_fills_the_command() -> None:
    found = explain(SEED_003_TRACEBACK, {"host": "smtp.gmail.com", "port": "587"})
    commands = [f.command for f in found.findings[0].fixes]
    assert "Test-NetConnection -ComputerName 'smtp.gmail.com' -Port 587" in commands


def test_seed_004_spanish_closed_unexpectedly() -> None:
    assert ids("Conexión cerrada inesperadamente")[0] == "io.closed_unexpectedly"
    assert ids("❌ Error inesperado\nDetalle: Conexion cerrada inesperadamente")[0] == (
        "io.closed_unexpectedly"
    )


def test_seed_000_both_errors() -> None:
    assert ids(SEED_000_ERRORS) == ["o365.smtp_auth_disabled_tenant", "o365.imap_login_failed"]
    assert ids(SEED_000_ERRORS.splitlines()[0]) == ["o365.smtp_auth_disabled_tenant"]
    assert ids(SEED_000_ERRORS.splitlines()[1]) == ["o365.imap_login_failed"]


def test_tenant_entry_has_every_documented_fix() -> None:
    found = explain(SEED_000_ERRORS, {"mailbox": "recordatorio.oc@hotelsales.cl"})
    commands = "\n".join(f.command or "" for f in found.findings[0].fixes)
    assert (
        "Set-CASMailbox -Identity 'recordatorio.oc@hotelsales.cl' "
        "-SmtpClientAuthenticationDisabled $false" in commands
    )
    assert "Set-TransportConfig -SmtpClientAuthenticationDisabled $false" in commands
    assert "Manage email apps > Authenticated SMTP" in commands
    imap = "\n".join(f.command or "" for f in found.findings[1].fixes)
    assert "Set-CASMailbox -Identity 'recordatorio.oc@hotelsales.cl' -ImapEnabled $true" in imap


def test_gmail_534_two_line_reply() -> None:
    found = explain(GMAIL_534)
    assert found.findings[0].id == "gmail.app_password_required"
    assert any("apppasswords" in (f.command or "") for f in found.findings[0].fixes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "smtplib.SMTPServerDisconnected: Connection unexpectedly closed",
            "io.closed_unexpectedly",
        ),
        (
            "smtplib.SMTPServerDisconnected: Connection unexpectedly closed: timed out",
            "greeting.never_received",
        ),
        (
            "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Username and Password not accepted. "
            "Learn more at\\n5.7.8  https://support.google.com/mail/?p=BadCredentials')",
            "gmail.bad_credentials",
        ),
        (
            "smtplib.SMTPNotSupportedError: SMTP AUTH extension not supported by server.",
            "smtp.no_auth_offered",
        ),
        (
            "imaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'",
            "imap.invalid_credentials",
        ),
        ("imaplib.error: LOGIN failed.", "o365.imap_login_failed"),
        ("imaplib.IMAP4.error: AUTHENTICATE failed.", "o365.imap_authenticate_failed"),
        (
            "ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1129)",
            "tls.wrong_version",
        ),
        (
            "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
            "failed: self-signed certificate in certificate chain (_ssl.c:1006)",
            "tls.self_signed_in_chain",
        ),
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired",
            "tls.cert_expired",
        ),
        (
            "ConnectionRefusedError: [WinError 10061] No connection could be made because the "
            "target machine actively refused it",
            "net.connect_refused",
        ),
        ("ConnectionRefusedError: [Errno 111] Connection refused", "net.connect_refused"),
        (
            "No se puede establecer una conexión ya que el equipo de destino denegó expresamente "
            "dicha conexión",
            "net.connect_refused",
        ),
        ("TimeoutError: timed out", "net.connect_timeout"),
        ("socket.timeout: timed out", "net.connect_timeout"),
        ("Se agotó el tiempo de espera de la operación", "net.connect_timeout"),
        ("socket.gaierror: [Errno -2] Name or service not known", "dns.nxdomain"),
        ("socket.gaierror: [Errno 11001] getaddrinfo failed", "dns.nxdomain"),
        ("socket.gaierror: [Errno 8] nodename nor servname provided, or not known", "dns.nxdomain"),
        (
            "535 5.7.3 Authentication unsuccessful [BN6PR03CA0021.namprd03.prod.outlook.com]",
            "o365.bad_credentials",
        ),
        (
            "550 5.7.60 SMTP; Client does not have permissions to send as this sender",
            "o365.sendas_denied",
        ),
        ("530 5.7.0 Must issue a STARTTLS command first", "smtp.must_issue_starttls"),
        ("451 5.7.3 STARTTLS is required to send mail", "o365.starttls_required"),
        ("454 4.7.0 Too many login attempts, please try again later.", "smtp.too_many_logins"),
        ("421 4.7.0 Try again later, closing connection.", "smtp.temporary_421"),
        (
            "550 5.7.30 Basic authentication is not supported for Client Submission.",
            "o365.basic_auth_not_supported",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",
            "o365.basic_auth_disabled",
        ),
    ],
)
def test_common_error_text(text: str, expected: str) -> None:
    assert ids(text)[0] == expected


def test_dotnet_status_ranks_below_the_real_code() -> None:
    text = (
        "System.Net.Mail.SmtpException: The SMTP server requires a secure connection or the "
        "client was not authenticated. The server response was: 5.7.57 Client not "
        "authenticated to send mail. Status Code: MustIssueStartTlsFirst"
    )
    assert ids(text) == ["o365.client_not_authenticated", "dotnet.must_issue_starttls_first"]


def test_stack_frames_are_not_meaningful() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "C:\\new\\app.py", line 3, in <module>\n'
        '    server = smtplib.SMTP_SSL("smtp.office365.com", 587)\n'
        "ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1129)\n"
    )
    document = readable_text(text)
    assert "SMTP_SSL" not in document and "Traceback" not in document
    found = explain(text)
    assert found.fragments == [
        "ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1129)"
    ]


def test_escaped_log_line_and_nested_json() -> None:
    inner = '{\\"error\\": \\"535 5.7.3 Authentication unsuccessful\\", \\"port\\": 587}'
    text = '2026-01-09 ERROR mailer {"payload": "' + inner + '"}'
    found = explain(text)
    assert found.findings[0].id == "o365.bad_credentials"
    assert found.context.get("port") == "587"


def test_context_from_env_and_django_settings() -> None:
    env = "SMTP_HOST=smtp.office365.com\nSMTP_PORT=587\nSMTP_USERNAME=controloc@hotelsales.cl\n"
    assert context_from_text(env) == {
        "host": "smtp.office365.com",
        "port": "587",
        "mailbox": "controloc@hotelsales.cl",
        "user": "controloc@hotelsales.cl",
        "domain": "hotelsales.cl",
    }
    django = "EMAIL_HOST = 'smtp.gmail.com'\nEMAIL_PORT = 465\nEMAIL_HOST_USER = 'a@b.example'"
    assert context_from_text(django)["host"] == "smtp.gmail.com"
    assert context_from_text(django)["port"] == "465"
    assert context_from_text(django)["user"] == "a@b.example"


def test_context_values_cannot_inject_commands() -> None:
    found = explain(
        "From Email: a@b.co; Remove-Mailbox x\n535 5.7.139 the request did not meet "
        "the criteria to be authenticated"
    )
    assert found.context["mailbox"] == "a@b.co"


def test_mailbox_placeholder_filled_or_kept() -> None:
    text = (
        "535 5.7.139 Authentication unsuccessful, "
        "SmtpClientAuthentication is disabled for the Tenant"
    )
    kept = explain(text).findings[0].fixes[0].command or ""
    assert "-Identity {mailbox}" in kept
    filled = explain(text, {"mailbox": "ops@contoso.com"}).findings[0].fixes[0].command or ""
    assert "-Identity 'ops@contoso.com'" in filled


def test_spanish_titles_and_fixes() -> None:
    found = explain(SEED_000_ERRORS, lang="es")
    assert found.findings[0].title == "SMTP AUTH está deshabilitado para la organización (tenant)"
    assert found.findings[0].fixes[0].text.startswith("Habilitar SMTP AUTH solo para este buzón")
    assert "Conexión" in explain("Connection unexpectedly closed", lang="es").findings[0].title


def test_unknown_language_falls_back_to_english() -> None:
    found = explain(SEED_000_ERRORS, lang="fr")
    assert found.findings[0].title == "SMTP AUTH is disabled for the tenant"


@pytest.mark.parametrize("text", ["", "   \n\t ", "all good, message sent"])
def test_nothing_to_explain(text: str) -> None:
    found = explain(text)
    assert found.findings == []


def _examples() -> list[tuple[Entry, str]]:
    return [
        (entry, example)
        for entry in Catalogue.load().entries
        if entry.textual
        for example in entry.examples
    ]


@pytest.mark.parametrize(("entry", "example"), _examples(), ids=[e.id for e, _ in _examples()])
def test_every_catalogue_example_maps_to_its_entry_first(entry: Entry, example: str) -> None:
    found = explain(example)
    assert found.findings, f"nothing recognised in the example of {entry.id}"
    assert found.findings[0].id == entry.id, [d.id for d in found.findings]
    assert found.findings[0].evidence


def test_every_textual_entry_has_an_example() -> None:
    missing = [e.id for e in Catalogue.load().entries if e.textual and not e.examples]
    assert missing == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_never_raises(text: str) -> None:
    explain(text)
    explain(text, {"mailbox": "{host}"}, lang="es")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "{",
                "}",
                '"',
                "\\n",
                "535 ",
                "5.7.139 ",
                "[",
                "]",
                'File "x", line 1',
                "\n",
                "Traceback (most recent call last):",
                "  at X.Y()",
                "SMTP Host: ",
                "a@b.c",
                ":",
            ]
        ),
        max_size=200,
    ).map("".join)
)
def test_structured_garbage_never_raises(text: str) -> None:
    explain(text)
