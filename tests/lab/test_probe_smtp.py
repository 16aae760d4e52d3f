"""SMTP probes against the lab's aiosmtpd servers: every phase, mode and personality."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from mxlab.certs import LabCertificates
from mxlab.smtp import PERSONALITIES, SmtpLabServer
from probes.mail.model import (
    AuthMethod,
    Credentials,
    PhaseFinished,
    PhaseName,
    PhaseStarted,
    ProbeEvent,
    ProbeFinished,
    Protocol,
    Security,
    Target,
)
from probes.mail.runner import ProbeOptions, run_probe
from probes.status import Status
from tests.conftest import LAB_PASSWORD, secret_free

Start = Callable[..., SmtpLabServer]


def smtp(server: SmtpLabServer, security: Security, creds: Credentials | None = None) -> Target:
    return Target(server.host, server.port, Protocol.SMTP, security, creds)


def names(result: object) -> list[str]:
    return [p.title for p in result.phases]  # type: ignore[attr-defined]


async def test_starttls_submission_passes_every_phase(
    smtp_server: Start, lab_options: ProbeOptions, lab_credentials: Credentials
) -> None:
    server = smtp_server("starttls")
    events: list[ProbeEvent] = []
    result = await run_probe(
        smtp(server, Security.STARTTLS, lab_credentials), lab_options, events.append
    )
    assert result.status is Status.PASS, [(p.title, p.summary) for p in result.phases]
    assert names(result) == [
        "resolve",
        "connect",
        "greeting",
        "capabilities",
        "starttls",
        "tls (after STARTTLS)",
        "capabilities (after TLS)",
        "auth",
    ]
    before = result.phases[3].facts
    after = result.phases[6].facts
    assert before["starttls"] is True and before["auth_mechanisms"] == []
    assert {"PLAIN", "LOGIN"} <= set(after["auth_mechanisms"])
    tls = result.phase(PhaseName.TLS)
    assert tls is not None and tls.facts["verified"] is True
    assert tls.facts["version"] in ("TLSv1.2", "TLSv1.3")
    cert = tls.facts["certificate"]
    assert "127.0.0.1" in cert["sans"] and cert["days_to_expiry"] > 0
    assert "mxpilot lab CA" in cert["issuer"]
    auth = result.phase(PhaseName.AUTH)
    assert auth is not None and "AUTH PLAIN ****" in "\n".join(auth.transcript)
    assert result.diagnoses == []
    # events: every phase started and finished, then the probe finished, in order
    started = [e.name for e in events if isinstance(e, PhaseStarted)]
    finished = [e.phase.name for e in events if isinstance(e, PhaseFinished)]
    assert started == finished == [p.name for p in result.phases]
    assert isinstance(events[-1], ProbeFinished)
    assert secret_free(json.dumps(result.to_dict()), LAB_PASSWORD)


async def test_implicit_tls_passes(
    smtp_server: Start, lab_options: ProbeOptions, lab_credentials: Credentials
) -> None:
    server = smtp_server("tls")
    result = await run_probe(smtp(server, Security.TLS, lab_credentials), lab_options)
    assert result.status is Status.PASS
    assert names(result)[:4] == ["resolve", "connect", "tls (implicit)", "greeting"]
    assert result.security_used is Security.TLS


@pytest.mark.parametrize("method", [AuthMethod.PLAIN, AuthMethod.LOGIN])
async def test_auth_mechanisms_and_masking(
    smtp_server: Start, lab_options: ProbeOptions, method: AuthMethod
) -> None:
    server = smtp_server("starttls")
    creds = Credentials("user@lab.test", LAB_PASSWORD, method)
    result = await run_probe(smtp(server, Security.STARTTLS, creds), lab_options)
    auth = result.phase(PhaseName.AUTH)
    assert auth is not None and auth.status is Status.PASS
    assert auth.facts["mechanism"] == method.value.upper()
    assert secret_free("\n".join(auth.transcript), LAB_PASSWORD)


async def test_wrong_password_is_rejected_with_codes(
    smtp_server: Start, lab_options: ProbeOptions
) -> None:
    server = smtp_server("starttls")
    creds = Credentials("user@lab.test", "not-the-password")
    result = await run_probe(smtp(server, Security.STARTTLS, creds), lab_options)
    auth = result.failure
    assert auth is not None and auth.name is PhaseName.AUTH
    assert (auth.kind, auth.code, auth.enhanced) == ("auth.rejected", 535, "5.7.8")
    assert result.diagnoses, "every failure is explained"


async def test_plain_server_logs_in_only_when_plaintext_allowed(
    smtp_server: Start, lab_options: ProbeOptions, lab_credentials: Credentials
) -> None:
    server = smtp_server("plain")
    refused = await run_probe(smtp(server, Security.NONE, lab_credentials), lab_options)
    auth = refused.phase(PhaseName.AUTH)
    assert auth is not None and auth.status is Status.WARN
    assert auth.kind == "auth.skipped_plaintext"
    assert not any(line.startswith("C: AUTH") for line in auth.transcript)
    caps = refused.phase(PhaseName.CAPABILITIES)
    assert caps is not None and caps.kind == "smtp.no_starttls"
    allowed = replace(lab_options, allow_plaintext_auth=True)
    ok = await run_probe(smtp(server, Security.NONE, lab_credentials), allowed)
    assert ok.phase(PhaseName.AUTH).status is Status.PASS  # type: ignore[union-attr]


async def test_auth_before_starttls_gets_530_5_7_0(
    smtp_server: Start, lab_options: ProbeOptions, lab_credentials: Credentials
) -> None:
    server = smtp_server("starttls")
    allowed = replace(lab_options, allow_plaintext_auth=True)
    result = await run_probe(smtp(server, Security.NONE, lab_credentials), allowed)
    auth = result.failure
    assert auth is not None
    assert (auth.kind, auth.code, auth.enhanced) == ("auth.requires_tls", 530, "5.7.0")
    assert "Must issue a STARTTLS command first" in auth.summary


PROVIDER_PERSONALITIES = [name for name in PERSONALITIES if name != "ok"]


@pytest.mark.parametrize("personality", PROVIDER_PERSONALITIES)
async def test_provider_personalities_are_reported_exactly(
    smtp_server: Start, lab_options: ProbeOptions, lab_credentials: Credentials, personality: str
) -> None:
    server = smtp_server("starttls", personality)
    result = await run_probe(smtp(server, Security.STARTTLS, lab_credentials), lab_options)
    expected = PERSONALITIES[personality]
    auth = result.phase(PhaseName.AUTH)
    assert auth is not None and auth.status is Status.FAIL
    assert auth.code == expected.auth_code
    assert expected.auth_text is not None
    first_line_words = expected.auth_text.split()[:3]
    assert " ".join(first_line_words) in " ".join(auth.transcript)
    assert auth.enhanced is not None and auth.enhanced in expected.auth_text
    assert result.diagnoses and result.diagnoses[0].id != f"generic.{auth.kind}"


async def test_expired_certificate_is_named_and_insecure_goes_on(
    smtp_server: Start,
    lab_options: ProbeOptions,
    lab_certs: LabCertificates,
    lab_credentials: Credentials,
) -> None:
    server = smtp_server("tls", server_context=lab_certs.expired_server_context())
    result = await run_probe(smtp(server, Security.TLS, lab_credentials), lab_options)
    tls = result.failure
    assert tls is not None and tls.kind == "tls.cert_expired"
    assert tls.facts["certificate"]["days_to_expiry"] < 0
    assert result.phase(PhaseName.AUTH) is None
    insecure = replace(lab_options, tls=replace(lab_options.tls, insecure=True))
    onward = await run_probe(smtp(server, Security.TLS, lab_credentials), insecure)
    assert onward.verified is False
    assert onward.phase(PhaseName.TLS).status is Status.WARN  # type: ignore[union-attr]
    assert onward.phase(PhaseName.AUTH).status is Status.PASS  # type: ignore[union-attr]
    assert onward.to_dict()["verified"] is False


async def test_expired_certificate_after_starttls_reads_facts(
    smtp_server: Start, lab_options: ProbeOptions, lab_certs: LabCertificates
) -> None:
    server = smtp_server("starttls", server_context=lab_certs.expired_server_context())
    result = await run_probe(smtp(server, Security.STARTTLS), lab_options)
    tls = result.failure
    assert tls is not None and tls.kind == "tls.cert_expired"
    assert tls.facts["certificate"]["days_to_expiry"] < 0


async def test_wrong_name_and_interception(
    smtp_server: Start, lab_options: ProbeOptions, lab_certs: LabCertificates
) -> None:
    wrong = smtp_server("tls", server_context=lab_certs.wrong_name_server_context())
    result = await run_probe(smtp(wrong, Security.TLS), lab_options)
    assert result.failure is not None and result.failure.kind == "tls.cert_hostname"
    shield = smtp_server("tls", server_context=lab_certs.interception_server_context())
    result = await run_probe(smtp(shield, Security.TLS), lab_options)
    tls = result.failure
    assert tls is not None and tls.kind == "tls.interception"
    assert "Avast" in tls.facts["certificate"]["issuer"]
    assert tls.facts["certificate"]["interception_product"] == "avast"


async def test_interception_trusted_is_still_flagged(
    smtp_server: Start, lab_options: ProbeOptions, lab_certs: LabCertificates
) -> None:
    """Antivirus products install their root: verification passes, the warning stays."""
    shield = smtp_server("tls", server_context=lab_certs.interception_server_context())
    trusting = replace(
        lab_options, tls=replace(lab_options.tls, ca_file=lab_certs.interception_ca_pem)
    )
    result = await run_probe(smtp(shield, Security.TLS), trusting)
    tls = result.phase(PhaseName.TLS)
    assert tls is not None and tls.status is Status.WARN and tls.kind == "tls.interception"


async def test_starttls_against_implicit_tls_port_is_diagnosed(
    smtp_server: Start, lab_options: ProbeOptions
) -> None:
    server = smtp_server("tls")
    result = await run_probe(smtp(server, Security.STARTTLS), lab_options)
    greeting = result.phase(PhaseName.GREETING)
    assert greeting is not None and greeting.kind == "greeting.timeout"
    detect = result.phase(PhaseName.DETECT)
    assert detect is not None and detect.kind == "mode.implicit_tls"
    assert detect.facts["detected"] == "tls"
    assert result.diagnoses[0].id.startswith("mode.")


async def test_implicit_tls_against_starttls_port_is_diagnosed(
    smtp_server: Start, lab_options: ProbeOptions
) -> None:
    server = smtp_server("starttls")
    result = await run_probe(smtp(server, Security.TLS), lab_options)
    tls = result.phase(PhaseName.TLS)
    assert tls is not None and tls.kind == "tls.wrong_version"
    detect = result.phase(PhaseName.DETECT)
    assert detect is not None and detect.kind == "mode.starttls"
    assert result.diagnoses[0].id.startswith("mode.")


@pytest.mark.parametrize("mode", ["tls", "starttls", "plain"])
async def test_auto_finds_the_mode_the_port_speaks(
    smtp_server: Start, lab_options: ProbeOptions, mode: str
) -> None:
    server = smtp_server(mode)
    result = await run_probe(smtp(server, Security.AUTO), lab_options)
    expected = {"tls": Security.TLS, "starttls": Security.STARTTLS, "plain": Security.NONE}[mode]
    assert result.security_used is expected
    assert result.status is not Status.FAIL, [(p.title, p.summary) for p in result.phases]


async def test_auto_on_a_tls_port_after_a_plain_guess_keeps_the_attempt(
    smtp_server: Start, lab_options: ProbeOptions
) -> None:
    """An unusual port guesses STARTTLS only for known ports; 587-like ports guess plain."""
    server = smtp_server("tls")
    target = Target(server.host, server.port, Protocol.SMTP, Security.AUTO)
    result = await run_probe(target, lab_options)
    assert result.security_used is Security.TLS
    assert result.status is Status.PASS


async def test_xoauth2_token_accepted_and_rejected(
    smtp_server: Start, lab_options: ProbeOptions
) -> None:
    """OAuth 2.0 is a first-class path: a good token logs in, a bad one is explained."""
    server = smtp_server("starttls", users={"app@lab.test": "ya29.lab-access-token"})
    good = Credentials("app@lab.test", "ya29.lab-access-token", AuthMethod.XOAUTH2)
    result = await run_probe(smtp(server, Security.STARTTLS, good), lab_options)
    auth = result.phase(PhaseName.AUTH)
    assert auth is not None and auth.status is Status.PASS, auth
    assert auth.facts["mechanism"] == "XOAUTH2"
    assert "C: AUTH XOAUTH2 ****" in auth.transcript
    bad = Credentials("app@lab.test", "expired-token", AuthMethod.XOAUTH2)
    result = await run_probe(smtp(server, Security.STARTTLS, bad), lab_options)
    auth = result.failure
    assert auth is not None and (auth.code, auth.enhanced) == (535, "5.7.3")
    assert "401" in auth.summary  # the decoded error challenge is kept as evidence
    assert secret_free("\n".join(auth.transcript), "expired-token")
