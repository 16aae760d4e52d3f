"""The catalogue's OAuth 2.0 entries: XOAUTH2 refusals, sign-in errors, and the probes' kinds."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mxlab.smtp import SmtpLabServer
from probes.diagnosis.catalogue import Catalogue
from probes.diagnosis.explain import explain
from probes.mail.channel import PhaseFailed
from probes.mail.connect import open_channel
from probes.mail.imap import ImapDialect
from probes.mail.model import (
    AuthMethod,
    Credentials,
    Phase,
    PhaseName,
    ProbeResult,
    Protocol,
    Security,
    Target,
)
from probes.mail.runner import ProbeOptions, run_probe
from probes.mail.smtp import Capabilities
from probes.status import Status
from tests.conftest import secret_free

USER = "ops@contoso.com"
NEW_ENTRIES = (
    "gmail.xoauth2_rejected",
    "oauth.token_expired",
    "oauth.wrong_scope",
    "oauth.wrong_audience",
    "oauth.user_mismatch",
    "oauth.valid_token_refused",
    "o365.imap_disabled_mailbox",
    "entra.consent_missing",
    "entra.app_not_found",
    "entra.public_client_disabled",
    "entra.user_not_in_tenant",
    "entra.refresh_token_expired",
    "entra.mfa_required",
    "entra.conditional_access_blocked",
    "entra.invalid_request",
    "google.invalid_client",
    "google.redirect_uri_mismatch",
    "google.access_denied",
    "google.token_revoked",
    "google.admin_policy_enforced",
    "oauth.device_declined",
    "oauth.device_code_expired",
)
GMAIL_CHALLENGE = '{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}'


def jwt(**claims: Any) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.bGFiLXNpZ25hdHVyZQ"


def ms_token(
    user: str = USER, minutes: int = 60, scp: str = "IMAP.AccessAsUser.All SMTP.Send"
) -> str:
    now = datetime.now(UTC)
    return jwt(
        aud="https://outlook.office.com",
        scp=scp,
        upn=user,
        tid="11111111-2222-3333-4444-555555555555",
        appid="lab-client",
        iat=int(now.timestamp()),
        exp=int((now + timedelta(minutes=minutes)).timestamp()),
    )


def result(phase: Phase, protocol: Protocol = Protocol.SMTP) -> ProbeResult:
    target = Target("smtp.office365.com", 587, protocol, Security.STARTTLS)
    return ProbeResult(target=target, phases=[Phase(PhaseName.CONNECT), phase])


def ids(phase: Phase, protocol: Protocol = Protocol.SMTP, lang: str = "en") -> list[str]:
    context = {"mailbox": USER, "protocol": protocol.value}
    return [d.id for d in Catalogue.load().diagnose(result(phase, protocol), context, lang)]


def oauth_phase(
    kind: str, message: str, reply: str = "535 5.7.3 Authentication unsuccessful"
) -> Phase:
    code = int(reply[:3]) if reply[:1].isdigit() else None
    enhanced = reply.split()[1] if code else None
    return Phase(
        PhaseName.AUTH,
        Status.FAIL,
        kind=kind,
        code=code,
        enhanced=enhanced,
        summary=f"{message}. Server: AUTH XOAUTH2 was refused: {reply}",
        facts={"reply": reply, "server_kind": "auth.rejected"},
        transcript=["C: AUTH XOAUTH2 ****", f"S: {reply}"],
    )


def test_every_new_entry_exists_with_spanish_text() -> None:
    catalogue = Catalogue.load()
    for entry_id in NEW_ENTRIES:
        entry = catalogue.entry(entry_id)
        assert entry.es_title and entry.es_cause, entry_id
        assert entry.fixes and all(fix.es for fix in entry.fixes), entry_id


@pytest.mark.parametrize("entry_id", [e for e in NEW_ENTRIES if e != "oauth.valid_token_refused"])
def test_every_example_maps_to_its_entry(entry_id: str) -> None:
    entry = Catalogue.load().entry(entry_id)
    assert entry.examples
    for example in entry.examples:
        found = explain(example)
        assert found.findings and found.findings[0].id == entry_id, [d.id for d in found.findings]
        spanish = explain(example, lang="es").findings[0]
        assert spanish.title == entry.es_title


@pytest.mark.parametrize(
    ("kind", "message", "expected"),
    [
        (
            "oauth.token_expired",
            "the access token expired at 2026-01-09T16:55:00+00:00",
            "oauth.token_expired",
        ),
        (
            "oauth.wrong_scope",
            "the access token lacks the SMTP.Send permission",
            "oauth.wrong_scope",
        ),
        (
            "oauth.wrong_audience",
            "the access token is for https://graph.microsoft.com",
            "oauth.wrong_audience",
        ),
        (
            "oauth.user_mismatch",
            "the access token belongs to sales@contoso.com",
            "oauth.user_mismatch",
        ),
        ("oauth.valid_token_refused", "the access token looks right", "oauth.valid_token_refused"),
    ],
)
def test_diagnose_picks_the_oauth_entry_over_the_reply_code(
    kind: str, message: str, expected: str
) -> None:
    assert ids(oauth_phase(kind, message)) == [expected]
    assert ids(oauth_phase(kind, message), Protocol.IMAP) == [expected]


def test_valid_token_refused_fixes_follow_the_protocol() -> None:
    phase = oauth_phase("oauth.valid_token_refused", "the access token looks right")
    context = {"mailbox": USER, "protocol": "smtp"}
    smtp = Catalogue.load().diagnose(result(phase), context)[0]
    commands = "\n".join(f.command or "" for f in smtp.fixes)
    assert f"Set-CASMailbox -Identity '{USER}' -SmtpClientAuthenticationDisabled $false" in commands
    assert "ImapEnabled" not in commands


def test_imap_authenticate_failed_with_a_good_token_is_imap_disabled() -> None:
    phase = Phase(
        PhaseName.AUTH,
        Status.FAIL,
        kind="oauth.valid_token_refused",
        summary="the access token looks right (audience, scope, user and expiry) but the server "
        "refused it. Server: AUTHENTICATE XOAUTH2 failed: NO AUTHENTICATE failed.",
    )
    found = Catalogue.load().diagnose(result(phase, Protocol.IMAP), {"mailbox": USER})
    assert [d.id for d in found] == ["o365.imap_disabled_mailbox"]
    assert f"Set-CASMailbox -Identity '{USER}' -ImapEnabled $true" in (
        found[0].fixes[0].command or ""
    )
    spanish = Catalogue.load().diagnose(result(phase, Protocol.IMAP), {"mailbox": USER}, "es")
    assert spanish[0].title == "IMAP está deshabilitado para este buzón (Exchange Online)"


def test_smtp_auth_disabled_for_the_mailbox_even_with_oauth() -> None:
    reply = (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
        "Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information."
    )
    phase = Phase(
        PhaseName.AUTH,
        Status.FAIL,
        kind="auth.rejected",  # refine_refusal leaves 5.7.139 to the server
        code=535,
        enhanced="5.7.139",
        summary=f"AUTH XOAUTH2 was refused: {reply}",
        facts={"token_problems": [{"kind": "oauth.token_expired", "message": "expired"}]},
    )
    found = Catalogue.load().diagnose(result(phase), {"mailbox": USER})
    assert [d.id for d in found] == ["o365.smtp_auth_disabled_mailbox"]
    assert "OAuth does not bypass" in found[0].fixes[0].text
    assert "XOAUTH2" in found[0].cause


@pytest.mark.parametrize(
    ("kind", "reply", "protocol"),
    [
        ("auth.rejected", "535 5.7.8 Username and Password not accepted.", Protocol.SMTP),
        (
            "imap.login_failed",
            "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
            Protocol.IMAP,
        ),
    ],
)
def test_gmail_xoauth2_rejection(kind: str, reply: str, protocol: Protocol) -> None:
    code = 535 if protocol is Protocol.SMTP else None
    phase = Phase(
        PhaseName.AUTH,
        Status.FAIL,
        kind=kind,
        code=code,
        enhanced="5.7.8" if code else None,
        summary=f"XOAUTH2 failed: {reply} {GMAIL_CHALLENGE}",
    )
    assert ids(phase, protocol) == ["gmail.xoauth2_rejected"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "invalid_grant: AADSTS65001: The user or administrator has not consented to use the "
            "application with ID 'x'.",
            "entra.consent_missing",
        ),
        (
            "unauthorized_client: AADSTS700016: Application with identifier 'x' was not found in "
            "the directory 'Contoso'.",
            "entra.app_not_found",
        ),
        (
            "invalid_client: AADSTS7000218: The request body must contain the following parameter: "
            "'client_assertion' or 'client_secret'.",
            "entra.public_client_disabled",
        ),
        (
            "AADSTS50034: The user account does not exist in the contoso.com directory.",
            "entra.user_not_in_tenant",
        ),
        (
            "invalid_grant: AADSTS700082: The refresh token has expired due to inactivity.",
            "entra.refresh_token_expired",
        ),
        (
            "invalid_grant: AADSTS50079: you must enroll in multi-factor authentication",
            "entra.mfa_required",
        ),
        (
            "AADSTS53003: Access has been blocked by Conditional Access policies.",
            "entra.conditional_access_blocked",
        ),
        ("invalid_request: AADSTS9002313: Invalid request.", "entra.invalid_request"),
        (
            '{"error": "invalid_client", "error_description": "Unauthorized"}',
            "google.invalid_client",
        ),
        ("Error 400: redirect_uri_mismatch", "google.redirect_uri_mismatch"),
        ("access_denied: the user declined", "google.access_denied"),
        ("invalid_grant: Token has been expired or revoked.", "google.token_revoked"),
        ("admin_policy_enforced", "google.admin_policy_enforced"),
        ("authorization_declined: declined", "oauth.device_declined"),
        ("expired_token: too late", "oauth.device_code_expired"),
    ],
)
def test_sign_in_errors_as_oauth_error_messages(text: str, expected: str) -> None:
    found = explain(text, {"domain": "contoso.com"})
    assert found.findings[0].id == expected
    assert len([d for d in found.findings if d.id.split(".")[0] in ("entra", "google")]) <= 1


def test_consent_fix_fills_the_tenant_domain() -> None:
    found = explain("AADSTS65001: not consented", {"domain": "contoso.com"}).findings[0]
    commands = "\n".join(f.command or "" for f in found.fixes)
    assert "https://login.microsoftonline.com/contoso.com/adminconsent?client_id=" in commands
    assert "Enterprise applications > <app> > Permissions > Grant admin consent" in commands


# -- through the probes: SMTP against the lab, IMAP against a scripted server -------------


async def test_smtp_probe_with_an_expired_jwt_is_diagnosed_as_expired(
    smtp_server: Callable[..., SmtpLabServer], lab_options: ProbeOptions
) -> None:
    good, expired = ms_token(), ms_token(minutes=-5)
    server = smtp_server("starttls", users={USER: good})
    target = Target(server.host, server.port, Protocol.SMTP, Security.STARTTLS)
    ok = await run_probe(
        replace(target, credentials=Credentials(USER, good, AuthMethod.XOAUTH2)), lab_options
    )
    auth = ok.phase(PhaseName.AUTH)
    assert auth is not None and auth.status is Status.PASS
    assert auth.facts["token"]["user"] == USER
    bad = await run_probe(
        replace(target, credentials=Credentials(USER, expired, AuthMethod.XOAUTH2)), lab_options
    )
    failed = bad.failure
    assert failed is not None and failed.kind == "oauth.token_expired"
    assert (failed.code, failed.enhanced) == (535, "5.7.3")
    assert "Server: AUTH XOAUTH2 was refused: 535 5.7.3" in failed.summary
    assert [d.id for d in bad.diagnoses] == ["oauth.token_expired"]
    everything = json.dumps(bad.to_dict())
    assert secret_free(everything, expired) and expired.split(".")[1] not in everything
    assert "C: AUTH XOAUTH2 ****" in failed.transcript


async def test_smtp_5_7_139_beats_an_expired_token(
    smtp_server: Callable[..., SmtpLabServer], lab_options: ProbeOptions
) -> None:
    server = smtp_server("starttls", "o365_tenant_disabled")
    creds = Credentials(USER, ms_token(minutes=-5), AuthMethod.XOAUTH2)
    found = await run_probe(
        Target(server.host, server.port, Protocol.SMTP, Security.STARTTLS, creds), lab_options
    )
    failed = found.failure
    assert failed is not None and failed.kind == "auth.rejected" and failed.enhanced == "5.7.139"
    assert failed.facts["token_problems"][0]["kind"] == "oauth.token_expired"
    assert [d.id for d in found.diagnoses] == ["o365.smtp_auth_disabled_tenant"]


async def _scripted_imap(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, challenge: str, final: str
) -> None:
    writer.write(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready\r\n")
    while line := (await reader.readline()).decode().strip():
        tag, _, command = line.partition(" ")
        if command.upper().startswith("AUTHENTICATE"):
            if challenge:
                encoded = base64.b64encode(challenge.encode()).decode()
                writer.write(f"+ {encoded}\r\n".encode())
                await writer.drain()
                await reader.readline()
            writer.write(f"{tag} {final}\r\n".encode())
        elif command.upper() == "LOGOUT":
            writer.write(f"* BYE\r\n{tag} OK bye\r\n".encode())
            break
    await writer.drain()
    writer.close()


async def _imap_auth(token: str, challenge: str, final: str) -> Phase:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _scripted_imap(reader, writer, challenge, final)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    phase = Phase(PhaseName.AUTH)
    try:
        async with asyncio.timeout(5):
            channel = await open_channel("127.0.0.1", port, 2.0, 2.0)
            channel.transcript = phase.transcript
            dialect = ImapDialect()
            await dialect.greet(channel)
            caps = Capabilities(keywords=["SASL-IR"], auth=["XOAUTH2"])
            try:
                phase.facts.update(
                    await dialect.authenticate(
                        channel, Credentials(USER, token, AuthMethod.XOAUTH2), caps
                    )
                )
            except PhaseFailed as failure:  # recorded as the runner does
                phase.status = Status.FAIL
                phase.kind = failure.kind
                phase.summary = failure.summary
                phase.facts.update(failure.facts)
            finally:
                await channel.close()
    finally:
        server.close()
        await server.wait_closed()
    return phase


async def test_imap_gmail_challenge_is_decoded_into_the_summary() -> None:
    phase = await _imap_auth(
        "ya29.opaque-token",
        GMAIL_CHALLENGE,
        "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
    )
    assert phase.kind == "imap.login_failed"
    assert GMAIL_CHALLENGE in phase.summary
    assert ids(phase, Protocol.IMAP) == ["gmail.xoauth2_rejected"]
    assert secret_free("\n".join(phase.transcript) + phase.summary, "ya29.opaque-token")


async def test_imap_exchange_refusing_a_good_token_is_imap_disabled() -> None:
    token = ms_token()
    phase = await _imap_auth(token, "", "NO AUTHENTICATE failed.")
    assert phase.kind == "oauth.valid_token_refused"
    assert phase.facts["token"]["scopes"] == "IMAP.AccessAsUser.All SMTP.Send"
    assert ids(phase, Protocol.IMAP) == ["o365.imap_disabled_mailbox"]
    assert secret_free("\n".join(phase.transcript) + json.dumps(phase.facts), token)


async def test_imap_wrong_user_token() -> None:
    phase = await _imap_auth(ms_token(user="sales@contoso.com"), "", "NO AUTHENTICATE failed.")
    assert phase.kind == "oauth.user_mismatch"
    assert "NO AUTHENTICATE failed." in phase.summary
    good = await _imap_auth(ms_token(), "", "OK AUTHENTICATE completed")
    assert good.status is Status.PASS and good.facts["token"]["user"] == USER
