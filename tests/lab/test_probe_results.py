"""Probe results round-trip (to_dict -> from_dict), typed facts, and stored results render."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console, RenderableType

from mxlab.smtp import SmtpLabServer
from probes.diagnosis.model import Diagnosis, Fix
from probes.mail.facts import CertificateFacts, TokenFacts
from probes.mail.model import Credentials, Phase, PhaseName, ProbeResult, Protocol, Security, Target
from probes.mail.runner import ProbeOptions, run_probe
from probes.mail.smtp import Capabilities
from probes.status import Status, worst
from probes.stored import StoredResultError
from render.probe import evidence_lines, result_block, stored_probe_lines
from tests.conftest import LAB_PASSWORD

Start = Callable[..., SmtpLabServer]

# --- strategies ----------------------------------------------------------------------

words = st.text(max_size=20)
json_leaf = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | words
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
    max_leaves=8,
)
durations = st.floats(0, 100, allow_nan=False).map(lambda s: round(s * 1000, 1) / 1000)

fixes = st.builds(Fix, text=words, command=st.none() | words, shell=st.none() | words)
diagnoses = st.builds(
    Diagnosis,
    id=words,
    title=words,
    cause=words,
    fixes=st.lists(fixes, max_size=3).map(tuple),
    evidence=words,
    severity=st.sampled_from(Status),
)
credentials = st.none() | st.builds(Credentials, username=words, secret=st.just(""))
targets = st.builds(
    Target,
    host=words,
    port=st.integers(0, 65535),
    protocol=st.sampled_from(Protocol),
    security=st.sampled_from(Security),
    credentials=credentials,
)
phases = st.builds(
    Phase,
    name=st.sampled_from(PhaseName),
    status=st.sampled_from(Status),
    duration=durations,
    summary=words,
    kind=words,
    code=st.none() | st.integers(0, 999),
    enhanced=st.none() | words,
    facts=st.dictionaries(words, json_value, max_size=4),
    transcript=st.lists(words, max_size=3),
    label=words,
)
results = st.builds(
    ProbeResult,
    target=targets,
    phases=st.lists(phases, max_size=4),
    diagnoses=st.lists(diagnoses, max_size=2),
    security_used=st.none() | st.sampled_from(Security),
    verified=st.booleans(),
    cancelled=st.booleans(),
    duration=durations,
)


def through_json(data: dict[str, Any]) -> dict[str, Any]:
    """As the history stores it: JSON text and back."""
    loaded: dict[str, Any] = json.loads(json.dumps(data, ensure_ascii=False))
    return loaded


def plain(*renderables: RenderableType) -> str:
    console = Console(width=160, record=True, file=io.StringIO())
    for renderable in renderables:
        console.print(renderable)
    return console.export_text()


# --- round trips ---------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(results)
def test_probe_result_round_trips(result: ProbeResult) -> None:
    data = result.to_dict()
    assert ProbeResult.from_dict(data).to_dict() == data
    assert ProbeResult.from_dict(through_json(data)).to_dict() == through_json(data)


@settings(max_examples=100, deadline=None)
@given(targets, phases, diagnoses, fixes)
def test_parts_round_trip(target: Target, phase: Phase, diagnosis: Diagnosis, fix: Fix) -> None:
    assert Target.from_dict(target.to_dict()).to_dict() == target.to_dict()
    assert Phase.from_dict(phase.to_dict()).to_dict() == phase.to_dict()
    assert Diagnosis.from_dict(diagnosis.to_dict()) == diagnosis
    assert Fix.from_dict(fix.to_dict()) == fix


def test_target_keeps_the_username_never_the_secret() -> None:
    target = Target("mail.lab.test", 587, Protocol.SMTP, Security.STARTTLS)
    target = Target(
        target.host, target.port, target.protocol, target.security, Credentials("u@x", "pw")
    )
    back = Target.from_dict(target.to_dict())
    assert back.username == "u@x" and back.credentials is not None
    assert back.credentials.secret == ""
    assert Target.from_dict({**target.to_dict(), "username": None}).credentials is None


def test_unknown_keys_are_ignored() -> None:
    data = ProbeResult(Target("h", 25, Protocol.SMTP), [Phase(PhaseName.CONNECT)]).to_dict()
    data["role"] = "relay"  # a matrix row
    data["target"]["tenant"] = "contoso"
    data["phases"][0]["new_field"] = [1, 2]
    data["diagnoses"] = [{**Diagnosis("x", "t", "c").to_dict(), "weight": 3}]
    back = ProbeResult.from_dict(data)
    assert back.phases[0].name is PhaseName.CONNECT and back.diagnoses[0].id == "x"


@pytest.mark.parametrize(
    "change",
    [
        lambda d: [],
        lambda d: {**d, "target": "smtp://h"},
        lambda d: {**d, "target": {**d["target"], "port": "587"}},
        lambda d: {**d, "target": {**d["target"], "protocol": "pop3"}},
        lambda d: {**d, "target": {k: v for k, v in d["target"].items() if k != "host"}},
        lambda d: {**d, "phases": {"name": "connect"}},
        lambda d: {**d, "phases": [{"name": "handshake"}]},
        lambda d: {**d, "phases": [{**d["phases"][0], "status": "ok"}]},
        lambda d: {**d, "phases": [{**d["phases"][0], "facts": []}]},
        lambda d: {**d, "phases": [{**d["phases"][0], "code": "535"}]},
        lambda d: {**d, "phases": [{**d["phases"][0], "transcript": [1]}]},
        lambda d: {**d, "verified": "yes"},
        lambda d: {**d, "duration_ms": "fast"},
        lambda d: {**d, "security_used": "ssl"},
        lambda d: {**d, "diagnoses": [{"title": "no id"}]},
        lambda d: {**d, "diagnoses": [{"id": "x", "fixes": [{"command": "x"}]}]},
    ],
)
def test_malformed_input_raises_one_clear_error(change: Callable[[Any], Any]) -> None:
    data = ProbeResult(
        Target("h", 587, Protocol.SMTP), [Phase(PhaseName.CONNECT, code=250)]
    ).to_dict()
    with pytest.raises(StoredResultError) as caught:
        ProbeResult.from_dict(change(data))
    assert isinstance(caught.value, ValueError) and str(caught.value)


async def test_a_live_lab_result_round_trips_and_renders_the_same(
    smtp_server: Start, lab_options: ProbeOptions, lab_credentials: Credentials
) -> None:
    server = smtp_server("starttls")
    target = Target(server.host, server.port, Protocol.SMTP, Security.STARTTLS, lab_credentials)
    live = await run_probe(target, lab_options)
    assert live.status is Status.PASS
    stored = through_json(live.to_dict())
    back = ProbeResult.from_dict(stored)
    assert back.to_dict() == stored
    assert LAB_PASSWORD not in json.dumps(stored)
    assert plain(result_block(back, verbose=True)) == plain(result_block(live, verbose=True))
    assert plain(*evidence_lines(back)) == plain(*stored_probe_lines(stored))
    # the typed facts read the same from the live and the stored result
    for name in (PhaseName.TLS, PhaseName.CAPABILITIES, PhaseName.AUTH, PhaseName.CONNECT):
        a, b = live.phase(name), back.phase(name)
        assert a is not None and b is not None
        assert (a.tls, a.capabilities, a.auth, a.endpoints) == (
            b.tls,
            b.capabilities,
            b.auth,
            b.endpoints,
        )


async def test_a_failed_lab_result_keeps_its_diagnosis_and_fixes(
    smtp_server: Start, lab_options: ProbeOptions, lab_credentials: Credentials
) -> None:
    server = smtp_server("starttls", "o365_tenant_disabled")
    target = Target(server.host, server.port, Protocol.SMTP, Security.STARTTLS, lab_credentials)
    live = await run_probe(target, lab_options)
    assert live.status is Status.FAIL and live.diagnoses
    stored = through_json(live.to_dict())
    back = ProbeResult.from_dict(stored)
    assert back.diagnoses == live.diagnoses and back.to_dict() == stored
    text = plain(*stored_probe_lines(stored))
    assert "Target: smtp 127.0.0.1" in text and "Phases" in text and "Diagnosis" in text
    assert "5.7.139" in text and "FAIL" in text
    assert live.diagnoses[0].title in text


# --- typed facts ---------------------------------------------------------------------


async def test_typed_facts_of_a_live_probe(
    smtp_server: Start, lab_options: ProbeOptions, lab_credentials: Credentials
) -> None:
    server = smtp_server("starttls")
    target = Target(server.host, server.port, Protocol.SMTP, Security.STARTTLS, lab_credentials)
    result = await run_probe(target, lab_options)
    resolved = result.phases[0].resolved
    assert resolved is not None and resolved.used == "127.0.0.1"
    connect = result.phase(PhaseName.CONNECT)
    assert connect is not None and connect.endpoints is not None
    assert connect.endpoints.peer == f"127.0.0.1:{server.port}"
    tls = result.phase(PhaseName.TLS)
    assert tls is not None and tls.tls is not None and tls.tls.verified is True
    cert = tls.tls.certificate
    assert cert is not None and "127.0.0.1" in cert.names and (cert.days_to_expiry or 0) > 0
    assert CertificateFacts.read(cert.to_facts()) == cert
    assert tls.facts["certificate"] == cert.to_facts()  # the stored schema, key for key
    assert list(tls.facts["certificate"]) == [
        "subject",
        "subject_cn",
        "sans",
        "issuer",
        "issuer_org",
        "not_before",
        "not_after",
        "days_to_expiry",
        "self_signed",
    ]
    caps = result.phases[6].capabilities
    assert caps is not None and {"PLAIN", "LOGIN"} <= set(caps.auth_mechanisms)
    auth = result.phase(PhaseName.AUTH)
    assert auth is not None and auth.auth is not None and auth.auth.mechanism == "PLAIN"
    assert auth.reply is not None and auth.reply.startswith("235")
    greeting = result.phase(PhaseName.GREETING)
    assert greeting is not None and greeting.greeting is not None
    assert greeting.greeting.code == 220
    # an accessor of another phase's kind is None
    assert connect.tls is None and greeting.auth is None and tls.capabilities is None


def test_facts_read_tolerantly() -> None:
    phase = Phase(
        PhaseName.TLS,
        facts={"version": 3, "certificate": "not a dict", "verified": "yes", "bits": True},
    )
    tls = phase.tls
    assert tls is not None
    assert (tls.version, tls.certificate, tls.verified, tls.bits) == (None, None, None, None)
    auth = Phase(
        PhaseName.AUTH,
        facts={"token": {"scopes": "SMTP.Send", "user": "a@b"}, "token_problems": ["old", {}]},
    ).auth
    assert auth is not None and auth.token == TokenFacts(scopes="SMTP.Send", user="a@b")
    assert [p.message for p in auth.token_problems] == ["old", ""]
    assert Phase(PhaseName.AUTH, facts={"token": {}}).auth.token is None  # type: ignore[union-attr]
    detect = Phase(PhaseName.DETECT, facts={"tried": "starttls", "detected": "tls"}).detection
    assert detect is not None and detect.detected == "tls"
    inbox = Phase(PhaseName.INBOX, facts={"mailbox": "INBOX", "messages": 3}).inbox
    assert inbox is not None and inbox.messages == 3


def test_capabilities_write_the_same_facts_as_before() -> None:
    caps = Capabilities(["PIPELINING", "AUTH PLAIN"], ["PLAIN"], True, False)
    assert caps.to_facts() == {
        "keywords": ["PIPELINING", "AUTH PLAIN"],
        "auth_mechanisms": ["PLAIN"],
        "starttls": True,
        "login_disabled": False,
    }


def test_stored_probe_lines_says_when_a_row_cannot_be_read() -> None:
    text = plain(*stored_probe_lines({"target": {"host": "h"}}))
    assert "cannot be read" in text and "port" in text


def test_worst_status() -> None:
    assert worst([]) is Status.SKIPPED
    assert worst([], default=Status.PASS) is Status.PASS
    assert worst([Status.PASS, Status.FAIL, Status.WARN]) is Status.FAIL
