"""IMAP probes against a real Dovecot on loopback (implicit TLS and STARTTLS ports)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from probes.mail.model import AuthMethod, Credentials, PhaseName, Protocol, Security, Target
from probes.mail.runner import ProbeOptions, run_probe
from probes.status import Status
from tests.conftest import IMAP_USERS, secret_free

USER = "imap@lab.test"
PASSWORD = IMAP_USERS[USER]


def imap(
    host: str, port: int, security: Security, creds: Credentials | None = None, inbox: bool = False
) -> Target:
    return Target(host, port, Protocol.IMAP, security, creds, check_inbox=inbox)


async def test_implicit_tls_login_and_inbox_count(dovecot: Any, lab_options: ProbeOptions) -> None:
    target = imap(dovecot.host, dovecot.imaps_port, Security.TLS, Credentials(USER, PASSWORD), True)
    result = await run_probe(target, lab_options)
    assert result.status is Status.PASS, [(p.title, p.summary) for p in result.phases]
    assert [p.title for p in result.phases] == [
        "resolve",
        "connect",
        "tls (implicit)",
        "greeting",
        "capabilities",
        "auth",
        "inbox",
    ]
    inbox = result.phase(PhaseName.INBOX)
    assert inbox is not None and inbox.facts["messages"] == 3
    auth = result.phase(PhaseName.AUTH)
    assert auth is not None and "****" in "\n".join(auth.transcript)
    assert secret_free(json.dumps(result.to_dict()), PASSWORD)


async def test_starttls_port_capabilities_before_and_after(
    dovecot: Any, lab_options: ProbeOptions
) -> None:
    target = imap(dovecot.host, dovecot.imap_port, Security.STARTTLS, Credentials(USER, PASSWORD))
    result = await run_probe(target, lab_options)
    assert result.status is Status.PASS, [(p.title, p.summary) for p in result.phases]
    before = result.phases[3]
    after = result.phase(PhaseName.CAPABILITIES)
    assert before.title == "capabilities" and after is not None
    assert before.facts["starttls"] is True and before.facts["login_disabled"] is True
    assert after.title == "capabilities (after TLS)" and after.facts["login_disabled"] is False
    assert "PLAIN" in after.facts["auth_mechanisms"]


@pytest.mark.parametrize("method", [AuthMethod.LOGIN, AuthMethod.PLAIN])
async def test_login_and_authenticate_plain(
    dovecot: Any, lab_options: ProbeOptions, method: AuthMethod
) -> None:
    creds = Credentials(USER, PASSWORD, method)
    result = await run_probe(
        imap(dovecot.host, dovecot.imaps_port, Security.TLS, creds), lab_options
    )
    auth = result.phase(PhaseName.AUTH)
    assert auth is not None and auth.status is Status.PASS
    assert method.value.upper() in auth.facts["mechanism"]


async def test_wrong_password_is_diagnosed(dovecot: Any, lab_options: ProbeOptions) -> None:
    creds = Credentials(USER, "wrong-password")
    result = await run_probe(
        imap(dovecot.host, dovecot.imaps_port, Security.TLS, creds), lab_options
    )
    auth = result.failure
    assert auth is not None and auth.kind == "imap.login_failed"
    assert "AUTHENTICATIONFAILED" in auth.summary or "failed" in auth.summary.lower()
    assert result.diagnoses and not result.diagnoses[0].id.startswith("generic.")


async def test_login_disabled_before_tls(dovecot: Any, lab_options: ProbeOptions) -> None:
    allowed = replace(lab_options, allow_plaintext_auth=True)
    creds = Credentials(USER, PASSWORD)
    result = await run_probe(imap(dovecot.host, dovecot.imap_port, Security.NONE, creds), allowed)
    assert result.failure is not None and result.failure.kind == "imap.logindisabled"


@pytest.mark.parametrize(
    ("port_name", "expected"), [("imaps_port", "tls"), ("imap_port", "starttls")]
)
async def test_auto_mode(
    dovecot: Any, lab_options: ProbeOptions, port_name: str, expected: str
) -> None:
    port = getattr(dovecot, port_name)
    result = await run_probe(imap(dovecot.host, port, Security.AUTO), lab_options)
    assert result.security_used is Security(expected)
    assert result.status is Status.PASS, [(p.title, p.summary) for p in result.phases]


async def test_mode_mismatch_on_imap(dovecot: Any, lab_options: ProbeOptions) -> None:
    wrong = await run_probe(imap(dovecot.host, dovecot.imaps_port, Security.STARTTLS), lab_options)
    assert wrong.phase(PhaseName.DETECT).kind == "mode.implicit_tls"  # type: ignore[union-attr]
    other = await run_probe(imap(dovecot.host, dovecot.imap_port, Security.TLS), lab_options)
    assert other.phase(PhaseName.DETECT).kind == "mode.starttls"  # type: ignore[union-attr]
