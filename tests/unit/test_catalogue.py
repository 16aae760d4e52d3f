"""The diagnosis catalogue: validation, diagnose() on hand-built results, lookups."""

from __future__ import annotations

import pytest

from probes.diagnosis.catalogue import Catalogue, CatalogueError, fill
from probes.mail.model import Phase, PhaseName, ProbeResult, Protocol, Security, Target
from probes.status import Status

TARGET = Target("smtp.office365.com", 587, Protocol.SMTP, Security.STARTTLS)
CONTEXT = {"host": "smtp.office365.com", "port": "587", "mailbox": "ops@contoso.com"}

VALID = """
[[failure]]
id = "x.one"
title = "One"
cause = "Because"
example = "535 5.7.3 nope"
  [[failure.match]]
  code = 535
  enhanced = "5.7.3"
  [[failure.fix]]
  text = "Do {mailbox}"
  command = "Set-Thing {mailbox} {$_.Name}"
  shell = "powershell"
"""


def result(*phases: Phase) -> ProbeResult:
    passed = [Phase(PhaseName.RESOLVE), Phase(PhaseName.CONNECT)]
    return ProbeResult(target=TARGET, phases=[*passed, *phases])


def auth_phase(code: int, enhanced: str, text: str) -> Phase:
    return Phase(
        PhaseName.AUTH,
        status=Status.FAIL,
        kind="auth.rejected",
        code=code,
        enhanced=enhanced,
        summary=f"AUTH LOGIN was refused: {code} {enhanced} {text}",
        transcript=["C: AUTH LOGIN", "S: 334 VXNlcm5hbWU6", f"S: {code} {enhanced} {text}"],
    )


def test_shipped_catalogue_loads_and_is_cached() -> None:
    assert Catalogue.load() is Catalogue.load()
    assert len(Catalogue.load().entries) > 50


def test_valid_catalogue_parses_and_keeps_foreign_braces() -> None:
    catalogue = Catalogue.parse(VALID)
    diagnosis = catalogue.get("x.one", {"mailbox": "a@b.c"})
    assert diagnosis.fixes[0].text == "Do a@b.c"
    assert diagnosis.fixes[0].command == "Set-Thing 'a@b.c' {$_.Name}"  # quoted for PowerShell


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('title = "One"', 'title = "One"\ncolour = "red"'), "unknown field 'colour'"),
        (("code = 535", 'code = 535\n  regex = "x"'), "unknown field 'regex'"),
        (('shell = "powershell"', 'shell = "cmd"'), "unknown shell 'cmd'"),
        (("code = 535", 'code = 535\n  pattern = "(unclosed"'), "bad regular expression"),
        (("code = 535", "code = 999"), "bad reply code 999"),
        (('enhanced = "5.7.3"', 'enhanced = "57.3"'), "bad enhanced status code"),
        (("code = 535", 'code = 535\n  phase = "handshake"'), "unknown phase 'handshake'"),
        (("code = 535", 'code = 535\n  kind = "Auth Rejected"'), "bad kind"),
        (('id = "x.one"', 'id = "nodots"'), "bad or missing id"),
        (('title = "One"\n', ""), "missing field 'title'"),
        (('example = "535 5.7.3 nope"\n', ""), "needs an example"),
        (('text = "Do {mailbox}"', 'text = "Do {mailbx}"'), "unknown placeholder {mailbx}"),
        (('cause = "Because"', 'cause = "Because"\nseverity = "error"'), "severity"),
        (('cause = "Because"', 'cause = "Because"\npriority = 500'), "priority"),
        (('cause = "Because"', 'cause = "Because"\nes.colour = "rojo"'), "unknown field 'colour'"),
        (
            ('[[failure.match]]\n  code = 535\n  enhanced = "5.7.3"\n', "[[failure.match]]\n"),
            "empty match group",
        ),
    ],
)
def test_validation_errors_are_clear(change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in VALID
    with pytest.raises(CatalogueError, match=message.replace("(", r"\(").replace("{", r"\{")):
        Catalogue.parse(VALID.replace(old, new, 1))


def test_validation_error_names_the_entry() -> None:
    with pytest.raises(CatalogueError, match=r"failure #1 \(x\.one\)"):
        Catalogue.parse(VALID.replace('shell = "powershell"', 'shell = "cmd"'))


def test_duplicate_id_is_rejected() -> None:
    with pytest.raises(CatalogueError, match=r"duplicate id 'x\.one'"):
        Catalogue.parse(VALID + VALID)


def test_bad_toml_and_unknown_top_level() -> None:
    with pytest.raises(CatalogueError, match="not valid TOML"):
        Catalogue.parse("[[failure]\n")
    with pytest.raises(CatalogueError, match="unknown top-level field 'entries'"):
        Catalogue.parse("entries = 1\n")
    assert issubclass(CatalogueError, ValueError)


def test_fill_keeps_unknown_placeholders() -> None:
    assert fill("{mailbox} {host} {nope} {}", {"mailbox": "m@x.y"}) == "m@x.y {host} {nope} {}"
    assert fill("{mailbox}", {"mailbox": "{host}", "host": "h"}) == "{host}"


@pytest.mark.parametrize(
    ("code", "enhanced", "text", "expected"),
    [
        (
            535,
            "5.7.139",
            "Authentication unsuccessful, SmtpClientAuthentication is disabled "
            "for the Tenant. Visit https://aka.ms/smtp_auth_disabled",
            "o365.smtp_auth_disabled_tenant",
        ),
        (
            535,
            "5.7.139",
            "Authentication unsuccessful, the request did not meet the criteria "
            "to be authenticated successfully.",
            "o365.auth_criteria_not_met",
        ),
        (
            535,
            "5.7.139",
            "Authentication unsuccessful, basic authentication is disabled.",
            "o365.basic_auth_disabled",
        ),
        (535, "5.7.139", "Authentication unsuccessful [XYZ.prod.outlook.com]", "o365.auth_5_7_139"),
        (535, "5.7.3", "Authentication unsuccessful", "o365.bad_credentials"),
        (534, "5.7.9", "Application-specific password required.", "gmail.app_password_required"),
        (535, "5.7.8", "Username and Password not accepted.", "gmail.bad_credentials"),
        (454, "4.7.0", "Too many login attempts, please try again later.", "smtp.too_many_logins"),
        (535, "5.7.1", "Something unusual", "smtp.auth_failed"),
    ],
)
def test_diagnose_picks_the_auth_entry(code: int, enhanced: str, text: str, expected: str) -> None:
    found = Catalogue.load().diagnose(result(auth_phase(code, enhanced, text)), CONTEXT)
    assert [d.id for d in found] == [expected]
    assert found[0].severity is Status.FAIL
    assert found[0].evidence.startswith("auth: AUTH LOGIN was refused")


def test_diagnose_fills_templates_from_context() -> None:
    phase = auth_phase(535, "5.7.139", "SmtpClientAuthentication is disabled for the Tenant")
    found = Catalogue.load().diagnose(result(phase), CONTEXT)
    assert (
        found[0].fixes[0].command
        and "Set-CASMailbox -Identity 'ops@contoso.com'" in found[0].fixes[0].command
    )


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (
            Phase(PhaseName.CONNECT, Status.FAIL, kind="connect.timeout", summary="no answer"),
            "net.connect_timeout",
        ),
        (
            Phase(PhaseName.CONNECT, Status.FAIL, kind="connect.refused", summary="refused"),
            "net.connect_refused",
        ),
        (
            Phase(PhaseName.RESOLVE, Status.FAIL, kind="dns.nxdomain", summary="no such name"),
            "dns.nxdomain",
        ),
        (
            Phase(PhaseName.RESOLVE, Status.FAIL, kind="dns.servfail", summary="SERVFAIL"),
            "dns.servfail",
        ),
        (
            Phase(PhaseName.RESOLVE, Status.FAIL, kind="dns.timeout", summary="no DNS answer"),
            "dns.timeout",
        ),
        (
            Phase(
                PhaseName.TLS,
                Status.FAIL,
                kind="tls.wrong_version",
                summary="the server answered the TLS handshake with plain text",
            ),
            "tls.wrong_version",
        ),
        (
            Phase(
                PhaseName.TLS,
                Status.FAIL,
                kind="tls.cert_untrusted",
                summary="the certificate is not trusted (self-signed certificate in certificate "
                "chain)",
            ),
            "tls.self_signed_in_chain",
        ),
        (
            Phase(
                PhaseName.TLS,
                Status.FAIL,
                kind="tls.cert_untrusted",
                summary="the certificate is not trusted (self-signed certificate)",
            ),
            "tls.cert_untrusted",
        ),
        (
            Phase(
                PhaseName.TLS,
                Status.WARN,
                kind="tls.interception",
                summary="the certificate was issued by CN=Avast Web/Mail Shield Root",
            ),
            "tls.interception",
        ),
        (
            Phase(PhaseName.GREETING, Status.FAIL, kind="greeting.timeout", summary="no banner"),
            "greeting.never_received",
        ),
        (
            Phase(PhaseName.GREETING, Status.FAIL, kind="greeting.closed", summary="closed"),
            "io.closed_unexpectedly",
        ),
        (
            Phase(
                PhaseName.CAPABILITIES,
                Status.FAIL,
                kind="starttls.not_offered",
                summary="the server does not offer STARTTLS on this port",
            ),
            "smtp.starttls_not_offered",
        ),
        (
            Phase(
                PhaseName.AUTH,
                Status.FAIL,
                kind="auth.requires_tls",
                code=530,
                enhanced="5.7.0",
                summary="AUTH PLAIN was refused: 530 5.7.0 Must issue a STARTTLS command first",
            ),
            "smtp.must_issue_starttls",
        ),
        (
            Phase(
                PhaseName.AUTH,
                Status.FAIL,
                kind="imap.login_failed",
                summary="LOGIN failed: NO LOGIN failed.",
                transcript=['C: a2 LOGIN "u" ****', "S: a2 NO LOGIN failed."],
            ),
            "o365.imap_login_failed",
        ),
        (
            Phase(
                PhaseName.AUTH,
                Status.FAIL,
                kind="imap.login_failed",
                summary="LOGIN failed: NO [AUTHENTICATIONFAILED] Authentication failed.",
            ),
            "imap.invalid_credentials",
        ),
        (
            Phase(
                PhaseName.AUTH,
                Status.FAIL,
                kind="imap.login_failed",
                summary="AUTHENTICATE XOAUTH2 failed: NO AUTHENTICATE failed.",
            ),
            "o365.imap_authenticate_failed",
        ),
        (
            Phase(
                PhaseName.AUTH,
                Status.FAIL,
                kind="imap.login_failed",
                summary="LOGIN failed: NO [UNAVAILABLE] try later",
            ),
            "imap.login_refused",
        ),
        (
            Phase(
                PhaseName.INBOX,
                Status.FAIL,
                kind="imap.select_failed",
                summary="cannot open Enviados: NO [NONEXISTENT] Unknown Mailbox",
            ),
            "imap.select_failed",
        ),
        (
            Phase(
                PhaseName.DETECT,
                Status.FAIL,
                kind="mode.implicit_tls",
                summary="security mode mismatch",
            ),
            "mode.implicit_tls",
        ),
        (
            Phase(PhaseName.AUTH, Status.WARN, kind="auth.skipped_plaintext", summary="skipped"),
            "auth.skipped_plaintext",
        ),
    ],
)
def test_diagnose_by_kind(phase: Phase, expected: str) -> None:
    found = Catalogue.load().diagnose(result(phase), CONTEXT)
    assert [d.id for d in found] == [expected]
    assert found[0].severity is phase.status


def test_mode_fixes_follow_the_protocol_and_port() -> None:
    detect = Phase(PhaseName.DETECT, Status.FAIL, kind="mode.implicit_tls", summary="mismatch")
    smtp = Catalogue.load().diagnose(result(detect), {**CONTEXT, "port": "465", "protocol": "smtp"})
    commands = "\n".join(f.command or "" for f in smtp[0].fixes)
    assert "EMAIL_PORT = 465\nEMAIL_USE_SSL = True" in commands
    assert "smtplib.SMTP_SSL('smtp.office365.com', 465" in commands
    assert "IMAP4_SSL" not in commands
    assert (
        smtp[0].title == "Port 465 speaks implicit TLS: the client must use SSL/TLS from the start"
    )
    imap = Catalogue.load().diagnose(
        result(detect), {"host": "h", "port": "993", "protocol": "imap"}
    )
    commands = "\n".join(f.command or "" for f in imap[0].fixes)
    assert "IMAP4_SSL" in commands and "EMAIL_USE_SSL" not in commands


def test_diagnose_order_and_each_entry_once() -> None:
    tls = Phase(PhaseName.TLS, Status.WARN, kind="tls.old_version", summary="TLSv1.1 is obsolete")
    auth = auth_phase(535, "5.7.3", "Authentication unsuccessful")
    auth_again = auth_phase(535, "5.7.3", "Authentication unsuccessful")
    found = Catalogue.load().diagnose(result(tls, auth, auth_again), CONTEXT)
    assert [d.id for d in found] == ["tls.old_version", "o365.bad_credentials"]
    assert found[0].severity is Status.WARN


def test_passed_and_skipped_phases_are_not_diagnosed() -> None:
    skipped = Phase(PhaseName.DETECT, Status.SKIPPED, summary="no other mode answered")
    assert Catalogue.load().diagnose(result(skipped), CONTEXT) == []


def test_generic_fallback_for_an_unknown_kind() -> None:
    odd = Phase(PhaseName.GREETING, Status.FAIL, kind="greeting.weird", summary="a weird thing")
    found = Catalogue.load().diagnose(result(odd), CONTEXT)
    assert len(found) == 1
    assert found[0].id == "generic.greeting.weird"
    assert found[0].cause == "a weird thing"
    assert found[0].title == "greeting failed"
    spanish = Catalogue.load().diagnose(result(odd), CONTEXT, lang="es")
    assert spanish[0].title == "Falló la fase greeting"


def test_generic_fallback_without_kind_uses_the_phase_name() -> None:
    odd = Phase(PhaseName.INBOX, Status.WARN, summary="odd", label="INBOX")
    found = Catalogue.load().diagnose(result(odd), CONTEXT)
    assert found[0].id == "generic.inbox"
    assert found[0].severity is Status.WARN


def test_priority_breaks_ties_between_equal_groups() -> None:
    data = """
[[failure]]
id = "t.low"
title = "low"
cause = "c"
  [[failure.match]]
  kind = "auth.rejected"
[[failure]]
id = "t.high"
title = "high"
cause = "c"
priority = 5
  [[failure.match]]
  kind = "auth.*"
"""
    found = Catalogue.parse(data).diagnose(result(auth_phase(535, "5.7.3", "x")))
    assert [d.id for d in found] == ["t.high"]


def test_matrix_conclusions_exist_and_template() -> None:
    catalogue = Catalogue.load()
    for entry_id in (
        "net.port_blocked_587",
        "net.port25_blocked",
        "net.all_blocked",
        "net.imap_blocked",
        "net.port_blocked_465",
        "net.smtp_blocked",
    ):
        assert not catalogue.entry(entry_id).matches
    diagnosis = catalogue.get(
        "net.port_blocked_587",
        {"host": "smtp.gmail.com", "port": "587", "suggested_port": "465"},
        evidence="587 timed out, 465 answered",
    )
    commands = "\n".join(f.command or "" for f in diagnosis.fixes)
    assert "EMAIL_PORT = 465\nEMAIL_USE_SSL = True" in commands
    assert "EMAIL_USE_TLS = False" in commands
    assert "smtplib.SMTP_SSL('smtp.gmail.com', 465, context=ssl.create_default_context())" in (
        commands
    )
    assert "Test-NetConnection -ComputerName 'smtp.gmail.com' -Port 587" in commands
    assert any("python.exe" in f.text for f in diagnosis.fixes)
    assert diagnosis.evidence == "587 timed out, 465 answered"
    assert diagnosis.title == "Port 587 is blocked on this network; 465 works"
    spanish = catalogue.get(
        "net.port_blocked_587", {"port": "587", "suggested_port": "465"}, lang="es"
    )
    assert spanish.title.startswith("El puerto 587 está bloqueado")


def test_get_unknown_id_names_it() -> None:
    with pytest.raises(KeyError, match=r"no\.such"):
        Catalogue.load().get("no.such")


def test_every_entry_has_spanish_texts() -> None:
    for entry in Catalogue.load().entries:
        assert entry.es_title and entry.es_cause, entry.id
        for fix in entry.fixes:
            assert fix.es, (entry.id, fix.text)


def test_every_engine_kind_has_an_entry() -> None:
    kinds = [
        "dns.nxdomain",
        "dns.nodata",
        "dns.servfail",
        "dns.timeout",
        "dns.error",
        "connect.refused",
        "connect.timeout",
        "connect.unreachable",
        "connect.error",
        "tls.wrong_version",
        "tls.cert_expired",
        "tls.cert_untrusted",
        "tls.cert_hostname",
        "tls.interception",
        "tls.old_version",
        "tls.handshake",
        "tls.timeout",
        "tls.closed",
        "tls.cert_expiring",
        "tls.protocol_version",
        "tls.cert_unreadable",
        "io.endless_reply",
        "io.reply_too_big",
        "probe.deadline",
        "greeting.timeout",
        "greeting.closed",
        "greeting.garbage",
        "greeting.too_long",
        "greeting.rejected",
        "greeting.slow",
        "smtp.ehlo_rejected",
        "imap.capability_failed",
        "smtp.no_starttls",
        "smtp.no_auth",
        "imap.logindisabled",
        "starttls.not_offered",
        "starttls.rejected",
        "auth.rejected",
        "auth.requires_tls",
        "auth.no_mechanism",
        "imap.login_failed",
        "auth.skipped_plaintext",
        "imap.select_failed",
        "io.timeout",
        "io.closed",
        "io.line_too_long",
        "io.garbage",
        "io.slow",
        "mode.implicit_tls",
        "mode.starttls",
        "mode.plain",
        "mode.unknown",
        "internal.error",
    ]
    catalogue = Catalogue.load()
    for kind in kinds:
        phase = Phase(PhaseName.CONNECT, Status.FAIL, kind=kind, summary="s")
        found = catalogue.diagnose_phase(phase, CONTEXT)
        assert not found[0].id.startswith("generic."), kind


LAB_PERSONALITY_ENTRIES = {
    "o365_tenant_disabled": "o365.smtp_auth_disabled_tenant",
    "o365_basic_disabled": "o365.basic_auth_disabled",
    "o365_criteria": "o365.auth_criteria_not_met",
    "o365_bad_credentials": "o365.bad_credentials",
    "o365_not_authenticated": "o365.client_not_authenticated",
    "o365_throttled": "smtp.temporary_421",
    "o365_tls_required_client": "o365.starttls_required",
    "gmail_app_password": "gmail.app_password_required",
    "gmail_bad_credentials": "gmail.bad_credentials",
    "gmail_too_many": "smtp.too_many_logins",
}


def test_every_lab_personality_has_its_entry() -> None:
    """The lab's Exchange/Gmail replies (mxlab/smtp.py) are the catalogue's, line by line."""
    from mxlab.smtp import PERSONALITIES

    for name, personality in PERSONALITIES.items():
        if not personality.auth_reply:
            continue
        assert name in LAB_PERSONALITY_ENTRIES, f"add the entry for lab personality {name}"
        last = personality.auth_reply[-1]
        code, enhanced = int(last[:3]), last[4:].split()[0]
        text = " ".join(line[4:] for line in personality.auth_reply)
        phase = Phase(
            PhaseName.AUTH,
            Status.FAIL,
            kind="auth.rejected",
            code=code,
            enhanced=enhanced,
            summary=f"AUTH PLAIN was refused: {code} {text}",
            transcript=[f"S: {line}" for line in personality.auth_reply],
        )
        found = Catalogue.load().diagnose(result(phase), CONTEXT)
        assert [d.id for d in found] == [LAB_PERSONALITY_ENTRIES[name]], name


def test_imap_failure_never_gets_an_smtp_entry() -> None:
    phase = Phase(
        PhaseName.AUTH,
        Status.FAIL,
        kind="imap.login_failed",
        summary="LOGIN failed: NO Authentication failed.",
    )
    found = Catalogue.load().diagnose(result(phase), CONTEXT)
    assert [d.id for d in found] == ["imap.login_refused"]


@pytest.mark.parametrize(
    ("kind", "summary", "expected"),
    [
        (
            "io.closed",
            "connection error: [Errno 104] Connection reset by peer",
            "net.connection_reset",
        ),
        (
            "tls.handshake",
            "the TLS handshake failed ([SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert)",
            "tls.old_version",
        ),
        (
            "imap.login_failed",
            "LOGIN failed: NO [ALERT] Your account is not enabled for IMAP use. (Failure)",
            "gmail.imap_disabled",
        ),
        (
            "imap.login_failed",
            "LOGIN failed: NO [ALERT] Application-specific password required: "
            "https://support.google.com/accounts/answer/185833 (Failure)",
            "gmail.app_password_required",
        ),
        ("connect.error", "cannot connect: [Errno 13] Permission denied", "net.socket_forbidden"),
    ],
)
def test_server_text_refines_the_kind(kind: str, summary: str, expected: str) -> None:
    phase = Phase(PhaseName.AUTH, Status.FAIL, kind=kind, summary=summary)
    assert [d.id for d in Catalogue.load().diagnose(result(phase), CONTEXT)] == [expected]


def test_words_in_a_summary_never_outrank_the_kind() -> None:
    """Pattern-only groups are for pasted text; the engine's kind wins in diagnose."""
    detect = Phase(
        PhaseName.DETECT,
        Status.FAIL,
        kind="mode.implicit_tls",
        summary="security mode mismatch: plain text timed out, certificate verify failed",
    )
    assert [d.id for d in Catalogue.load().diagnose(result(detect), CONTEXT)] == [
        "mode.implicit_tls"
    ]


def test_pattern_only_groups_are_the_fallback_before_generic() -> None:
    odd = Phase(
        PhaseName.CONNECT, Status.FAIL, kind="weird.kind", summary="Connection reset by peer"
    )
    assert [d.id for d in Catalogue.load().diagnose(result(odd), CONTEXT)] == [
        "net.connection_reset"
    ]
