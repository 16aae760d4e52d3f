"""Enhanced status codes: every IANA registry code explained, and real pasted errors recognised."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from probes.diagnosis.catalogue import Catalogue
from probes.diagnosis.enhanced import (
    Registry,
    RegistryError,
    code_diagnosis,
    codes_in_text,
    phase_code_diagnosis,
    registry,
)
from probes.diagnosis.entry import ScannedText
from probes.diagnosis.explain import explain
from probes.mail.model import Phase, PhaseName, ProbeResult, Protocol, Security, Target
from probes.status import Status

DATA = Path(__file__).parent / "data" / "pasted_errors.toml"
CASES: list[dict[str, Any]] = tomllib.loads(DATA.read_text("utf-8"))["case"]
REGISTRY_CODES = sorted(info.code for info in registry().codes.values())


def ids(text: str, lang: str = "en") -> list[str]:
    return [d.id for d in explain(text, lang=lang).findings]


def test_registry_has_every_subject_and_the_known_codes() -> None:
    data = registry()
    assert set(data.classes) == {2, 4, 5}
    assert set(data.subjects) == set(range(8))
    assert len(data.codes) >= 80
    for code in ("X.0.0", "X.1.10", "X.2.4", "X.3.6", "X.4.7", "X.5.6", "X.6.10", "X.7.30"):
        assert code in REGISTRY_CODES


@pytest.mark.parametrize("klass", ["5", "4"])
@pytest.mark.parametrize("code", REGISTRY_CODES)
def test_every_registry_code_is_explained_in_both_languages(klass: str, code: str) -> None:
    concrete = klass + code[1:]
    reply = "550" if klass == "5" else "451"
    for lang in ("en", "es"):
        found = explain(f"{reply} {concrete} something", lang=lang).findings
        assert found, f"nothing for {reply} {concrete} ({lang})"
        assert all(d.title.strip() and d.cause.strip() for d in found)


def test_generic_names_class_subject_and_detail() -> None:
    diagnosis = code_diagnosis("5.1.1", 550)
    assert diagnosis is not None
    assert diagnosis.id == "enhanced.5.1.1"
    assert diagnosis.title == "550 5.1.1: Bad destination mailbox address (permanent failure)"
    assert "Permanent failure" in diagnosis.cause
    assert "addressing" in diagnosis.cause
    assert diagnosis.severity is Status.FAIL
    spanish = code_diagnosis("4.4.1", None, "es")
    assert spanish is not None
    assert "Fallo temporal persistente" in spanish.cause
    assert spanish.severity is Status.WARN
    assert spanish.fixes[0].text.startswith("Reintentar")


def test_unknown_detail_still_says_class_and_subject() -> None:
    diagnosis = code_diagnosis("5.7.999", 550)
    assert diagnosis is not None
    assert "server-specific" in diagnosis.title
    assert "security or policy" in diagnosis.cause
    assert "Detail 999: not in the IANA registry" in diagnosis.cause
    assert code_diagnosis("5.9.1") is None
    assert code_diagnosis("not a code") is None


def test_version_numbers_are_not_codes() -> None:
    assert ids("upgraded nodemailer to version 4.2.2 yesterday") == []
    assert codes_in_text(ScannedText.scan("Status: 5.2.2")) == [("5.2.2", None, 8)]
    assert codes_in_text(ScannedText.scan("(552, b'5.3.4 too big')"))[0][1] == 552


def test_specific_entry_suppresses_the_generic_one() -> None:
    assert ids("535 5.7.3 Authentication unsuccessful") == ["o365.bad_credentials"]
    assert "enhanced.5.7.26" not in ids("550 5.7.26 This mail has been blocked")


def test_generic_added_beside_an_unrelated_finding() -> None:
    found = ids("421 4.4.5 Server busy, try again later.")
    assert found[0] == "smtp.temporary_421"
    assert "enhanced.4.4.5" in found


def test_x_0_0_only_when_nothing_else_was_found() -> None:
    assert ids("550 5.0.0 rejected") == ["enhanced.5.0.0"]
    assert "enhanced.5.0.0" not in ids("Status: 5.0.0\n550 5.1.1 user unknown")


def test_gmail_550_5_7_26_unauthenticated_bounce() -> None:
    text = (
        "550-5.7.26 This mail has been blocked because the sender is unauthenticated.\n"
        "550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.\n"
        "550 5.7.26 https://support.google.com/mail/answer/81126#authentication - gsmtp"
    )
    found = explain(text, {"domain": "example.com"}).findings
    assert found[0].id == "sender.unauthenticated"
    assert any(f.command == "mxpilot dns example.com" for f in found[0].fixes)
    assert explain(text, lang="es").findings[0].title.startswith("Bloqueado")


def test_gmail_dmarc_rejection_is_told_apart() -> None:
    text = (
        "550-5.7.26 Unauthenticated email from example.com is not accepted due to domain's "
        "DMARC policy. Please contact the administrator of example.com domain."
    )
    assert ids(text)[0] == "sender.dmarc_rejected"


def test_5_7_139_criteria_versus_plain() -> None:
    criteria = (
        "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be "
        "authenticated successfully. Contact your administrator."
    )
    plain = "535 5.7.139 Authentication unsuccessful [CH0PR08CA0021.namprd08.prod.outlook.com]"
    first = explain(criteria).findings[0]
    assert first.id == "o365.auth_criteria_not_met"
    assert "Conditional Access" in first.title
    assert "not the SMTP AUTH switch" in first.cause
    assert ids(plain)[0] == "o365.auth_5_7_139"


def test_5_7_30_is_basic_auth_retired_unless_gmail_says_dkim() -> None:
    assert ids("550 5.7.30 Basic authentication is not supported for Client Submission.")[0] == (
        "o365.basic_auth_not_supported"
    )
    gmail = "550-5.7.30 This mail has been blocked because DKIM does not pass. - gsmtp"
    assert ids(gmail)[0] == "sender.dkim_failed"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "550 5.7.750 Client blocked from sending from unregistered domains",
            "o365.unregistered_domain",
        ),
        ("550 5.7.64 TenantAttribution; Relay Access Denied", "o365.tenant_attribution"),
        ("451 4.7.550 Access denied, please try again later", "o365.temporarily_restricted"),
        ("550 5.7.620 Access denied, banned sending IP [192.0.2.1]", "o365.ip_blocklisted"),
        ("550 5.7.705 Access denied, tenant has exceeded threshold", "o365.tenant_blocked"),
        (
            "550 5.2.121 Recipient's per hour message receive limit from specific sender exceeded",
            "o365.recipient_receive_limit",
        ),
        ("550 5.7.124 Sender not in allowed-senders list", "o365.sender_not_allowed_group"),
        ("550 5.7.134 Sender was not authenticated for mailbox", "o365.external_senders_rejected"),
        (
            "550 5.7.509 Access denied, sending domain a.example does not pass DMARC verification",
            "sender.dmarc_rejected",
        ),
        (
            "550 5.7.23 The message was rejected because of Sender Policy Framework violation",
            "sender.spf_failed",
        ),
        ("550 5.4.14 Routing loop detected", "smtp.routing_loop"),
        ("554 5.7.0 Too many unauthenticated commands.", "gmail.too_many_unauthenticated"),
        (
            "553-5.1.2 We weren't able to find the recipient domain.",
            "smtp.recipient_domain_unknown",
        ),
        ("452-4.2.2 The email account that you tried to reach is over quota.", "smtp.mailbox_full"),
        ("421-4.7.0 TLS required for RCPT domain, closing connection.", "gmail.tls_required"),
        (
            "550 5.7.25 Access denied, the sending IPv6 address must have a reverse DNS record",
            "sender.ptr_missing",
        ),
        (
            "450-4.2.1 The user you are trying to contact is receiving mail too quickly.",
            "gmail.receiving_too_fast",
        ),
        ("451-4.3.0 Mail server temporarily rejected message.", "gmail.temporarily_rejected"),
    ],
)
def test_microsoft_and_google_reference_codes(text: str, expected: str) -> None:
    assert ids(text)[0] == expected


@pytest.mark.parametrize("case", CASES, ids=[c["source"] for c in CASES])
def test_real_pasted_errors_are_recognised(case: dict[str, Any]) -> None:
    assert case["source"].startswith("https://")
    found = explain(case["text"]).findings
    assert found, "nothing recognised"
    assert found[0].id == case["expected"], [d.id for d in found]
    assert found[0].title and found[0].cause


def test_corpus_expects_only_real_ids() -> None:
    known = {entry.id for entry in Catalogue.load().entries}
    for case in CASES:
        assert case["expected"] in known or case["expected"].startswith("enhanced.")


def test_probe_phase_with_an_unknown_code_gets_both_explanations() -> None:
    phase = Phase(
        PhaseName.GREETING,
        Status.FAIL,
        kind="greeting.odd",
        code=550,
        enhanced="5.3.5",
        summary="550 5.3.5 system misconfigured",
    )
    target = Target("mail.example.test", 587, Protocol.SMTP, Security.STARTTLS)
    found = Catalogue.load().diagnose(ProbeResult(target=target, phases=[phase]))
    assert [d.id for d in found] == ["generic.greeting.odd", "enhanced.5.3.5"]
    assert phase_code_diagnosis(Phase(PhaseName.GREETING, Status.PASS, enhanced="5.3.5")) == []


def test_registry_data_is_validated() -> None:
    with pytest.raises(RegistryError):
        Registry.parse({"class": {}, "subject": {}, "code": []})
    with pytest.raises(RegistryError, match="bad code"):
        good = {
            "title": "t",
            "es_title": "t",
            "meaning": "m",
            "es_meaning": "m",
        }
        Registry.parse(
            {
                "class": {str(k): good for k in (2, 4, 5)},
                "subject": {str(k): good for k in range(8)},
                "code": [{**good, "code": "Y.1.1", "reference": "r"}],
            }
        )
