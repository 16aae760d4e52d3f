"""The lab's real servers check XOAUTH2 tokens against the lab identity provider.

Tokens come from the provider's own flows (Microsoft device code, Google loopback + PKCE),
driven with httpx here; Dovecot (oauth2 passdb) and the SMTP lab validate them by RFC 7662
introspection. The real probes authenticate with them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mxlab.identity import (
    DEVICE_CODE_GRANT,
    GOOGLE_MAIL_SCOPE,
    LAB_GOOGLE_CLIENT,
    LAB_GOOGLE_SECRET,
    LAB_MS_CLIENT,
    LAB_USER,
    OUTLOOK_IMAP_SCOPE,
    OUTLOOK_SMTP_SCOPE,
)
from mxlab.smtp import SmtpLabServer
from probes.mail.model import AuthMethod, Credentials, PhaseName, Protocol, Security, Target
from probes.mail.runner import ProbeOptions, run_probe
from probes.status import Status
from tests.conftest import IMAP_USERS, LAB_PASSWORD, OAUTH_IMAP_MESSAGES, secret_free

Start = Callable[..., SmtpLabServer]
MS_ALL = f"{OUTLOOK_IMAP_SCOPE} {OUTLOOK_SMTP_SCOPE} offline_access"
MAX_POLLS = 10
IMAP_PORTS = [("imaps_port", Security.TLS), ("imap_port", Security.STARTTLS)]


def microsoft_token(identity: Any, scope: str = MS_ALL) -> str:
    """An access token from the device code flow, approved by LAB_USER "in the browser"."""
    identity.auto_approve = LAB_USER
    base = f"{identity.base_url}/organizations/oauth2/v2.0"
    with httpx.Client(verify=_verify(identity), timeout=5.0) as client:
        code = client.post(f"{base}/devicecode", data={"client_id": LAB_MS_CLIENT, "scope": scope})
        code.raise_for_status()
        form = {
            "grant_type": DEVICE_CODE_GRANT,
            "client_id": LAB_MS_CLIENT,
            "device_code": code.json()["device_code"],
        }
        for _ in range(MAX_POLLS):
            answer = client.post(f"{base}/token", data=form).json()
            if "access_token" in answer:
                token: str = answer["access_token"]
                return token
            assert answer["error"] == "authorization_pending", answer["error"]
    raise AssertionError("the device code was never approved")


def google_token(identity: Any) -> str:
    """An access token from the loopback redirect + PKCE flow, signed in as LAB_USER."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    redirect_uri = "http://127.0.0.1:8765/"  # never contacted: the Location header is enough
    with httpx.Client(verify=_verify(identity), timeout=5.0) as client:
        authorize = client.get(
            f"{identity.base_url}/o/oauth2/v2/auth",
            params={
                "response_type": "code",
                "client_id": LAB_GOOGLE_CLIENT,
                "redirect_uri": redirect_uri,
                "scope": GOOGLE_MAIL_SCOPE,
                "state": "lab-state",
                "code_challenge": challenge.decode().rstrip("="),
                "code_challenge_method": "S256",
                "login_hint": LAB_USER,
            },
        )
        assert authorize.status_code == 302
        code = parse_qs(urlsplit(authorize.headers["location"]).query)["code"][0]
        answer = client.post(
            f"{identity.base_url}/token",
            data={
                "grant_type": "authorization_code",
                "client_id": LAB_GOOGLE_CLIENT,
                "client_secret": LAB_GOOGLE_SECRET,
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": redirect_uri,
            },
        )
        answer.raise_for_status()
        token: str = answer.json()["access_token"]
        return token


def _verify(identity: Any) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(identity.ca_file))


def _oauth(user: str, token: str) -> Credentials:
    return Credentials(user, token, AuthMethod.XOAUTH2)


def _evidence(result: Any) -> str:
    return json.dumps(result.to_dict())


def assert_imap_refused(result: Any, token: str, refined: str) -> None:
    """Dovecot said NO; the probe may name the cause from the token's claims (``refined``)."""
    failure = result.failure
    assert failure is not None, [(p.title, p.summary) for p in result.phases]
    assert failure.facts.get("server_kind", failure.kind) == "imap.login_failed", failure
    assert failure.kind in {"imap.login_failed", refined}, failure.kind
    assert "NO [AUTHENTICATIONFAILED]" in failure.summary
    assert secret_free(_evidence(result), token)


# -- IMAP: Dovecot's oauth2 passdb -------------------------------------------------------


def imap_target(lab: Any, port_name: str, security: Security, creds: Credentials) -> Target:
    return Target(
        lab.host, getattr(lab, port_name), Protocol.IMAP, security, creds, check_inbox=True
    )


@pytest.mark.parametrize(("port_name", "security"), IMAP_PORTS)
async def test_imap_xoauth2_token_signs_in(
    dovecot_oauth: Any, identity: Any, lab_options: ProbeOptions, port_name: str, security: Any
) -> None:
    token = microsoft_token(identity)
    target = imap_target(dovecot_oauth, port_name, security, _oauth(LAB_USER, token))
    result = await run_probe(target, lab_options)
    assert result.status is Status.PASS, [(p.title, p.summary) for p in result.phases]
    auth = result.phase(PhaseName.AUTH)
    assert auth is not None and auth.facts["mechanism"] == "AUTHENTICATE XOAUTH2"
    inbox = result.phase(PhaseName.INBOX)
    assert inbox is not None and inbox.facts["messages"] == OAUTH_IMAP_MESSAGES
    caps = result.phase(PhaseName.CAPABILITIES)
    assert caps is not None and {"XOAUTH2", "OAUTHBEARER"} <= set(caps.facts["auth_mechanisms"])
    assert secret_free(_evidence(result), token)
    assert secret_free(dovecot_oauth.log_text(), token)


@pytest.mark.parametrize(("port_name", "security"), IMAP_PORTS)
async def test_imap_expired_token_is_refused(
    dovecot_oauth: Any, identity: Any, lab_options: ProbeOptions, port_name: str, security: Any
) -> None:
    """Expired at the provider (its exp claim still ahead): only the server can tell."""
    token = microsoft_token(identity)
    identity.expire_access_tokens()
    target = imap_target(dovecot_oauth, port_name, security, _oauth(LAB_USER, token))
    result = await run_probe(target, lab_options)
    assert_imap_refused(result, token, "oauth.valid_token_refused")


async def test_imap_token_past_its_lifetime_is_refused(
    dovecot_oauth: Any, identity: Any, lab_options: ProbeOptions
) -> None:
    identity.access_token_lifetime = 0  # dead on arrival: introspection says inactive
    token = microsoft_token(identity)
    target = imap_target(dovecot_oauth, "imap_port", Security.STARTTLS, _oauth(LAB_USER, token))
    result = await run_probe(target, lab_options)
    assert_imap_refused(result, token, "oauth.token_expired")


async def test_imap_token_without_the_imap_scope_is_refused(
    dovecot_oauth: Any, identity: Any, lab_options: ProbeOptions
) -> None:
    token = microsoft_token(identity, scope=f"{OUTLOOK_SMTP_SCOPE} offline_access")
    target = imap_target(dovecot_oauth, "imaps_port", Security.TLS, _oauth(LAB_USER, token))
    result = await run_probe(target, lab_options)
    assert_imap_refused(result, token, "oauth.wrong_scope")


async def test_imap_token_of_another_user_is_refused(
    dovecot_oauth: Any, identity: Any, lab_options: ProbeOptions
) -> None:
    token = microsoft_token(identity)
    creds = _oauth("imap@lab.test", token)
    result = await run_probe(
        imap_target(dovecot_oauth, "imaps_port", Security.TLS, creds), lab_options
    )
    assert_imap_refused(result, token, "oauth.user_mismatch")


@pytest.mark.parametrize(
    ("user", "password", "method"),
    [
        ("imap@lab.test", IMAP_USERS["imap@lab.test"], AuthMethod.LOGIN),
        (LAB_USER, LAB_PASSWORD, AuthMethod.PLAIN),
    ],
)
async def test_imap_passwords_still_work_next_to_oauth(
    dovecot_oauth: Any, lab_options: ProbeOptions, user: str, password: str, method: AuthMethod
) -> None:
    creds = Credentials(user, password, method)
    target = imap_target(dovecot_oauth, "imap_port", Security.STARTTLS, creds)
    result = await run_probe(target, lab_options)
    assert result.status is Status.PASS, [(p.title, p.summary) for p in result.phases]


async def test_imap_token_is_no_password(
    dovecot_oauth: Any, identity: Any, lab_options: ProbeOptions
) -> None:
    """PLAIN goes to the passwd-file only: a good token is not a password."""
    token = microsoft_token(identity)
    creds = Credentials(LAB_USER, token, AuthMethod.PLAIN)
    result = await run_probe(
        imap_target(dovecot_oauth, "imaps_port", Security.TLS, creds), lab_options
    )
    assert result.failure is not None and result.failure.kind == "imap.login_failed"
    assert secret_free(_evidence(result), token)


# -- SMTP: the aiosmtpd lab asking the identity provider ----------------------------------


def smtp_target(server: SmtpLabServer, creds: Credentials) -> Target:
    return Target(server.host, server.port, Protocol.SMTP, Security.STARTTLS, creds)


def oauth_smtp(smtp_server: Start, identity: Any, personality: str = "ok") -> SmtpLabServer:
    return smtp_server(
        "starttls",
        personality,
        oauth_introspection_url=f"{identity.base_url}/introspect",
        oauth_ca_file=identity.ca_file,
    )


async def _smtp_auth(server: SmtpLabServer, creds: Credentials, options: ProbeOptions) -> Any:
    result = await run_probe(smtp_target(server, creds), options)
    auth = result.phase(PhaseName.AUTH)
    assert auth is not None
    assert secret_free(_evidence(result), creds.secret)
    return auth


async def test_smtp_token_accepted_and_never_logged(
    smtp_server: Start,
    identity: Any,
    lab_options: ProbeOptions,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = oauth_smtp(smtp_server, identity)
    token = microsoft_token(identity)
    with caplog.at_level(logging.DEBUG):
        auth = await _smtp_auth(server, _oauth(LAB_USER, token), lab_options)
    assert auth.status is Status.PASS, auth.summary
    assert auth.facts["reply"] == "235 2.7.0 Authentication successful"
    assert secret_free(caplog.text, token)
    assert ("POST", "/introspect") in {(m, p) for m, p, _ in identity.requests}


async def test_smtp_user_name_is_case_insensitive(
    smtp_server: Start, identity: Any, lab_options: ProbeOptions
) -> None:
    server = oauth_smtp(smtp_server, identity)
    auth = await _smtp_auth(
        server, _oauth(LAB_USER.upper(), microsoft_token(identity)), lab_options
    )
    assert auth.status is Status.PASS, auth.summary


@pytest.mark.parametrize("problem", ["expired", "no_smtp_scope", "other_user"])
async def test_smtp_bad_tokens_get_the_error_challenge_then_535_5_7_3(
    smtp_server: Start, identity: Any, lab_options: ProbeOptions, problem: str
) -> None:
    server = oauth_smtp(smtp_server, identity)
    scope = f"{OUTLOOK_IMAP_SCOPE} offline_access" if problem == "no_smtp_scope" else MS_ALL
    token = microsoft_token(identity, scope=scope)
    if problem == "expired":
        identity.expire_access_tokens()
    user = "someone@lab.test" if problem == "other_user" else LAB_USER
    auth = await _smtp_auth(server, _oauth(user, token), lab_options)
    assert (auth.code, auth.enhanced) == (535, "5.7.3"), auth.summary
    assert f'"scope":"{OUTLOOK_SMTP_SCOPE}"' in auth.summary  # the decoded 334 challenge
    assert "334 " in "\n".join(auth.transcript)


async def test_smtp_auth_disabled_for_the_mailbox(
    smtp_server: Start, identity: Any, lab_options: ProbeOptions
) -> None:
    server = oauth_smtp(smtp_server, identity)
    server.smtp_auth_disabled.add(LAB_USER)  # an Exchange admin switched it off meanwhile
    auth = await _smtp_auth(server, _oauth(LAB_USER, microsoft_token(identity)), lab_options)
    assert (auth.code, auth.enhanced) == (535, "5.7.139"), auth.summary
    assert "disabled for the Mailbox" in auth.summary


async def test_smtp_basic_auth_disabled_but_oauth_works(
    smtp_server: Start, identity: Any, lab_options: ProbeOptions
) -> None:
    """Exchange with basic auth off: the password gets 5.7.139, a good token gets in."""
    server = oauth_smtp(smtp_server, identity, "o365_basic_disabled")
    password = await _smtp_auth(server, Credentials(LAB_USER, LAB_PASSWORD), lab_options)
    assert (password.code, password.enhanced) == (535, "5.7.139")
    auth = await _smtp_auth(server, _oauth(LAB_USER, microsoft_token(identity)), lab_options)
    assert auth.status is Status.PASS, auth.summary


async def test_smtp_tenant_disabled_refuses_good_tokens_too(
    smtp_server: Start, identity: Any, lab_options: ProbeOptions
) -> None:
    server = oauth_smtp(smtp_server, identity, "o365_tenant_disabled")
    auth = await _smtp_auth(server, _oauth(LAB_USER, microsoft_token(identity)), lab_options)
    assert (auth.code, auth.enhanced) == (535, "5.7.139")
    assert "disabled for the Tenant" in auth.summary


async def test_smtp_gmail_accepts_a_google_token_and_answers_like_gmail(
    smtp_server: Start, identity: Any, lab_options: ProbeOptions
) -> None:
    server = oauth_smtp(smtp_server, identity, "gmail_bad_credentials")
    token = google_token(identity)
    good = await _smtp_auth(server, _oauth(LAB_USER, token), lab_options)
    assert good.status is Status.PASS, good.summary
    microsoft = await _smtp_auth(server, _oauth(LAB_USER, microsoft_token(identity)), lab_options)
    identity.expire_access_tokens()
    expired = await _smtp_auth(server, _oauth(LAB_USER, token), lab_options)
    for auth in (microsoft, expired):
        assert (auth.code, auth.enhanced) == (535, "5.7.8"), auth.summary
        transcript = "\n".join(auth.transcript)
        assert "S: 535-5.7.8 Username and Password not accepted." in transcript
        assert "https://support.google.com/mail/?p=BadCredentials" in transcript
        assert '{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}' in (
            auth.summary
        )


async def test_smtp_unreachable_provider_is_a_temporary_failure(
    smtp_server: Start, lab_options: ProbeOptions
) -> None:
    server = smtp_server("starttls", oauth_introspection_url="https://127.0.0.1:9/introspect")
    auth = await _smtp_auth(server, _oauth(LAB_USER, "ya29.some-token"), lab_options)
    assert (auth.code, auth.enhanced) == (454, "4.7.0"), auth.summary
