"""Access token claims read without verification, what they show is wrong, and the refusal."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probes.mail.channel import PhaseFailed
from probes.mail.model import AuthMethod, Credentials, Protocol
from probes.mail.oauth_claims import (
    VALID_TOKEN_REFUSED,
    TokenClaims,
    read_claims,
    refine_refusal,
    token_facts,
    token_problems,
)

NOW = datetime(2026, 1, 9, 16, 0, tzinfo=UTC)
USER = "ops@contoso.com"


def part(value: dict[str, Any]) -> str:
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def jwt(**claims: Any) -> str:
    """An unsigned-looking JWT (the signature is never checked)."""
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk"


def microsoft(**overrides: Any) -> str:
    claims: dict[str, Any] = {
        "aud": "https://outlook.office.com",
        "iss": "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
        "iat": int((NOW - timedelta(minutes=5)).timestamp()),
        "exp": int((NOW + timedelta(minutes=55)).timestamp()),
        "scp": "IMAP.AccessAsUser.All SMTP.Send",
        "upn": USER,
        "unique_name": USER,
        "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "appid": "c1f0a7e2-0000-4000-8000-00000000abcd",
    }
    claims.update(overrides)
    return jwt(**{k: v for k, v in claims.items() if v is not None})


def kinds(token: str, protocol: Protocol = Protocol.SMTP, user: str = USER) -> list[str]:
    claims = read_claims(token)
    assert claims is not None
    return [p.kind for p in token_problems(claims, protocol, user, NOW)]


def test_claims_of_a_microsoft_access_token() -> None:
    claims = read_claims(microsoft())
    assert claims == TokenClaims(
        audience="https://outlook.office.com",
        scopes=("IMAP.AccessAsUser.All", "SMTP.Send"),
        user=USER,
        tenant="72f988bf-86f1-41af-91ab-2d7cd011db47",
        app_id="c1f0a7e2-0000-4000-8000-00000000abcd",
        issued_at=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(minutes=55),
        issuer="https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
    )
    assert claims.microsoft
    assert claims.summary() == {
        "audience": "https://outlook.office.com",
        "scopes": "IMAP.AccessAsUser.All SMTP.Send",
        "user": USER,
        "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "app_id": "c1f0a7e2-0000-4000-8000-00000000abcd",
        "expires": "2026-01-09T16:55:00+00:00",
    }


def test_user_claim_order_roles_full_scopes_and_audience_lists() -> None:
    claims = read_claims(
        jwt(
            aud=["https://graph.microsoft.com", "https://outlook.office365.com/"],
            scp="https://outlook.office.com/SMTP.Send offline_access",
            roles=["IMAP.AccessAsApp"],
            preferred_username="pref@contoso.com",
            email="mail@contoso.com",
            azp="azp-client",
        )
    )
    assert claims is not None
    assert claims.audience == "https://outlook.office365.com/"
    assert claims.scopes == ("SMTP.Send", "offline_access", "IMAP.AccessAsApp")
    assert claims.user == "pref@contoso.com"
    assert claims.app_id == "azp-client"
    assert claims.expires_at is None and not claims.microsoft


@pytest.mark.parametrize(
    "token",
    [
        "",
        "ya29.a0AfB_byC-opaque-google-access-token",
        "1//0gLab-refresh-token",
        "not a token at all",
        "a.b.c",
        "....",
        f"{part({'alg': 'RS256'})}.{part({'x': 1})}",  # two parts
        f"{part({'alg': 'dir', 'enc': 'A256GCM'})}.a.b.c.d",  # JWE: five parts, encrypted
        f"{part({'typ': 'JWT'})}.{part({'upn': USER})}.sig",  # no alg: not a JWS header
        f"{part({'alg': 'RS256'})}.W10.sig",  # payload is a JSON list
        f"{part({'alg': 'RS256'})}.!!!.sig",
        "eyJhbGciOiJSUzI1NiJ9." + "A" * 40_000 + ".sig",
    ],
)
def test_garbage_and_opaque_tokens_give_none(token: str) -> None:
    assert read_claims(token) is None


def test_bad_claim_types_are_ignored() -> None:
    claims = read_claims(jwt(exp=10**20, iat="yesterday", upn=42, scp=["IMAP.AccessAsUser.All"]))
    assert claims is not None
    assert (claims.expires_at, claims.issued_at, claims.user) == (None, None, None)
    assert claims.scopes == ("IMAP.AccessAsUser.All",)
    assert read_claims(jwt(exp=True)) == TokenClaims()


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=300)
    | st.binary(max_size=300).map(
        lambda b: part({"alg": "x"}) + "." + base64.urlsafe_b64encode(b).decode() + ".s"
    )
)
def test_any_text_never_raises(token: str) -> None:
    read_claims(token)


def test_a_good_token_has_no_problem() -> None:
    assert kinds(microsoft()) == []
    assert kinds(microsoft(), Protocol.IMAP, user="OPS@Contoso.com") == []
    app_only = microsoft(scp=None, roles=["SMTP.SendAsApp"], upn=None, unique_name=None)
    assert kinds(app_only) == []


@pytest.mark.parametrize(
    ("token", "protocol", "expected"),
    [
        (
            microsoft(exp=int((NOW - timedelta(seconds=1)).timestamp())),
            Protocol.SMTP,
            ["oauth.token_expired"],
        ),
        (microsoft(scp="IMAP.AccessAsUser.All"), Protocol.SMTP, ["oauth.wrong_scope"]),
        (microsoft(scp="SMTP.Send offline_access"), Protocol.IMAP, ["oauth.wrong_scope"]),
        (
            microsoft(aud="https://graph.microsoft.com", scp="Mail.Send User.Read"),
            Protocol.SMTP,
            ["oauth.wrong_audience", "oauth.wrong_scope"],
        ),
        (microsoft(aud="00000002-0000-0ff1-ce00-000000000000"), Protocol.SMTP, []),
        (microsoft(upn="sales@contoso.com"), Protocol.SMTP, ["oauth.user_mismatch"]),
        (
            microsoft(
                upn="sales@contoso.com", scp="", exp=int((NOW - timedelta(hours=2)).timestamp())
            ),
            Protocol.IMAP,
            ["oauth.wrong_scope", "oauth.user_mismatch", "oauth.token_expired"],
        ),
    ],
)
def test_problems_most_specific_first(token: str, protocol: Protocol, expected: list[str]) -> None:
    assert kinds(token, protocol) == expected


def test_problem_messages_and_naive_now() -> None:
    claims = read_claims(microsoft(scp="Mail.Read", upn="sales@contoso.com"))
    assert claims is not None
    naive = NOW.replace(tzinfo=None) + timedelta(hours=3)
    problems = token_problems(claims, Protocol.SMTP, USER, naive)
    assert [p.kind for p in problems] == [
        "oauth.wrong_scope",
        "oauth.user_mismatch",
        "oauth.token_expired",
    ]
    assert "SMTP.Send" in problems[0].message and "Mail.Read" in problems[0].message
    assert "sales@contoso.com" in problems[1].message and USER in problems[1].message
    assert problems[2].message.startswith("the access token expired at 2026-01-09T16:55:00")


def test_non_microsoft_tokens_skip_audience_and_scope_checks() -> None:
    google_id_token = jwt(
        aud="123.apps.googleusercontent.com", email=USER, iss="accounts.google.com"
    )
    assert kinds(google_id_token) == []
    assert kinds(google_id_token, user="other@contoso.com") == ["oauth.user_mismatch"]


def test_the_token_never_appears_in_claims_summary_or_problems() -> None:
    token = microsoft(exp=int((NOW - timedelta(hours=1)).timestamp()), upn="sales@contoso.com")
    claims = read_claims(token)
    assert claims is not None
    problems = token_problems(claims, Protocol.SMTP, USER, NOW)
    shown = "\n".join([repr(claims), str(claims), json.dumps(claims.summary()), repr(problems)])
    for piece in token.split("."):
        assert piece not in shown
    assert "c2lnbmF0dXJl" not in shown


def smtp_refusal(enhanced: str = "5.7.3", text: str = "Authentication unsuccessful") -> PhaseFailed:
    return PhaseFailed(
        "auth.rejected",
        f"AUTH XOAUTH2 was refused: 535 {enhanced} {text}",
        code=535,
        enhanced=enhanced,
        facts={"reply": f"535 {enhanced} {text}"},
    )


def creds(token: str) -> Credentials:
    return Credentials(USER, token, AuthMethod.XOAUTH2)


def test_refusal_takes_the_most_specific_problem_and_keeps_the_reply() -> None:
    token = microsoft(scp="Mail.Read", exp=int((NOW - timedelta(hours=1)).timestamp()))
    refined = refine_refusal(smtp_refusal(), creds(token), Protocol.SMTP, NOW)
    assert refined.kind == "oauth.wrong_scope"
    assert (refined.code, refined.enhanced) == (535, "5.7.3")
    assert refined.summary.endswith(
        "Server: AUTH XOAUTH2 was refused: 535 5.7.3 Authentication unsuccessful"
    )
    assert "expired at" in refined.summary
    assert refined.facts["reply"] == "535 5.7.3 Authentication unsuccessful"
    assert refined.facts["server_kind"] == "auth.rejected"
    assert [p["kind"] for p in refined.facts["token_problems"]] == [
        "oauth.wrong_scope",
        "oauth.token_expired",
    ]
    assert refined.facts["token"]["scopes"] == "Mail.Read"
    text = f"{refined} {refined.summary} {json.dumps(refined.facts)}"
    assert token not in text and token.split(".")[1] not in text


def test_5_7_139_wins_over_the_claims() -> None:
    token = microsoft(exp=int((NOW - timedelta(hours=1)).timestamp()))
    failure = smtp_refusal(
        "5.7.139",
        "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.",
    )
    refined = refine_refusal(failure, creds(token), Protocol.SMTP, NOW)
    assert refined.kind == "auth.rejected"
    assert refined.summary == failure.summary
    assert refined.facts["token_problems"][0]["kind"] == "oauth.token_expired"
    assert "server_kind" not in refined.facts


def test_a_good_microsoft_token_refused_is_named_so() -> None:
    refined = refine_refusal(smtp_refusal(), creds(microsoft()), Protocol.SMTP, NOW)
    assert refined.kind == VALID_TOKEN_REFUSED
    assert "token_problems" not in refined.facts
    assert refined.summary.startswith("the access token looks right")


def test_opaque_tokens_leave_the_refusal_alone() -> None:
    failure = smtp_refusal()
    assert refine_refusal(failure, creds("ya29.opaque"), Protocol.SMTP, NOW) is failure
    assert token_facts(creds("ya29.opaque")) == {}
    assert token_facts(creds(microsoft()))["token"]["user"] == USER


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("NO AUTHENTICATE failed.", "oauth.user_mismatch"),
        ("NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)", "oauth.user_mismatch"),
        ("NO [UNAVAILABLE] Temporary authentication failure", "imap.login_failed"),
        ("BAD Unsupported mechanism", "imap.login_failed"),
        ("NO [ALERT] Your account is not enabled for IMAP use.", "imap.login_failed"),
    ],
)
def test_imap_refusals(reply: str, expected: str) -> None:
    failure = PhaseFailed(
        "imap.login_failed", f"AUTHENTICATE XOAUTH2 failed: {reply}", facts={"reply": reply}
    )
    token = microsoft(upn="sales@contoso.com")
    refined = refine_refusal(failure, creds(token), Protocol.IMAP, NOW)
    assert refined.kind == expected
    assert reply in refined.summary
    assert refined.facts["token"]["user"] == "sales@contoso.com"
