"""The lab identity provider: Microsoft device code flow, Google loopback + PKCE, introspection."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mxlab.certs import LabCertificates
from mxlab.identity import (
    DEVICE_CODE_GRANT,
    GOOGLE_MAIL_SCOPE,
    LAB_GOOGLE_CLIENT,
    LAB_GOOGLE_SECRET,
    LAB_MS_CLIENT,
    LAB_NOCONSENT_USER,
    LAB_TENANT_ID,
    LAB_USER,
    OUTLOOK_IMAP_SCOPE,
    OUTLOOK_SMTP_SCOPE,
    LabIdentityProvider,
    jwt_claims,
)

MS = "/organizations/oauth2/v2.0"
MS_SCOPE = f"{OUTLOOK_IMAP_SCOPE} {OUTLOOK_SMTP_SCOPE} offline_access"
GOOGLE_SCOPE = f"{GOOGLE_MAIL_SCOPE} openid email"
REDIRECT = "http://127.0.0.1:53682/"


@pytest.fixture
def http(identity: LabIdentityProvider) -> Iterator[httpx.Client]:
    """A client of the identity provider that trusts the lab CA only."""
    context = ssl.create_default_context(cafile=str(identity.ca_file))
    with httpx.Client(base_url=identity.base_url, verify=context, timeout=5.0) as client:
        yield client


def start_device(http: httpx.Client, scope: str = MS_SCOPE, tenant: str = "organizations") -> Any:
    """Ask for a device code; the JSON answer."""
    response = http.post(
        f"/{tenant}/oauth2/v2.0/devicecode", data={"client_id": LAB_MS_CLIENT, "scope": scope}
    )
    assert response.status_code == 200, response.text
    return response.json()


def poll(http: httpx.Client, device_code: str, tenant: str = "organizations") -> httpx.Response:
    """One device-code token poll."""
    return http.post(
        f"/{tenant}/oauth2/v2.0/token",
        data={
            "grant_type": DEVICE_CODE_GRANT,
            "client_id": LAB_MS_CLIENT,
            "device_code": device_code,
        },
    )


def error_of(response: httpx.Response) -> str:
    """The OAuth error code of a 400 answer."""
    assert response.status_code == 400, response.text
    return str(response.json()["error"])


def ms_tokens(http: httpx.Client, identity: LabIdentityProvider, scope: str = MS_SCOPE) -> Any:
    """A completed device code sign-in of the lab user; the token answer."""
    device = start_device(http, scope)
    identity.approve(device["user_code"], LAB_USER)
    response = poll(http, device["device_code"])
    assert response.status_code == 200, response.text
    return response.json()


def pkce() -> tuple[str, str]:
    """A verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(http: httpx.Client, challenge: str, **overrides: str) -> httpx.Response:
    """The browser's GET of the Google authorize URL (redirect not followed)."""
    params = {
        "response_type": "code",
        "client_id": LAB_GOOGLE_CLIENT,
        "redirect_uri": REDIRECT,
        "scope": GOOGLE_SCOPE,
        "state": "st-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "login_hint": LAB_USER,
        "access_type": "offline",
    }
    params.update(overrides)
    return http.get("/o/oauth2/v2/auth", params=params)


def redirected(response: httpx.Response) -> dict[str, str]:
    """The query of a 302 back to the loopback redirect URI."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def redeem(http: httpx.Client, code: str, verifier: str, **overrides: str) -> httpx.Response:
    """Exchange an authorization code at Google's token endpoint."""
    data = {
        "grant_type": "authorization_code",
        "client_id": LAB_GOOGLE_CLIENT,
        "client_secret": LAB_GOOGLE_SECRET,
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": REDIRECT,
    }
    data.update(overrides)
    return http.post("/token", data=data)


def google_tokens(http: httpx.Client) -> Any:
    """A completed Google sign-in of the lab user; the token answer."""
    verifier, challenge = pkce()
    response = redeem(http, redirected(authorize(http, challenge))["code"], verifier)
    assert response.status_code == 200, response.text
    return response.json()


def introspect(http: httpx.Client, token: str) -> Any:
    """RFC 7662 introspection of a token."""
    response = http.post("/introspect", data={"token": token})
    assert response.status_code == 200
    return response.json()


# -- Microsoft device code flow ------------------------------------------------------------


def test_device_flow_pending_then_approved(
    http: httpx.Client, identity: LabIdentityProvider
) -> None:
    device = start_device(http)
    assert device["verification_uri"] == f"{identity.base_url}/devicelogin"
    assert len(device["user_code"]) == 9 and device["user_code"][4] == "-"
    assert device["expires_in"] == 900 and device["interval"] == 0
    assert device["user_code"] in device["message"]
    assert error_of(poll(http, device["device_code"])) == "authorization_pending"

    identity.approve(device["user_code"].lower(), LAB_USER)
    tokens = poll(http, device["device_code"]).json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == MS_SCOPE
    assert tokens["expires_in"] == tokens["ext_expires_in"] == 3600
    assert tokens["refresh_token"] and tokens["id_token"]
    assert error_of(poll(http, device["device_code"])) == "invalid_grant"  # already redeemed


def test_auto_approve_after_polls(http: httpx.Client, identity: LabIdentityProvider) -> None:
    identity.auto_approve = LAB_USER
    device = start_device(http)
    assert error_of(poll(http, device["device_code"])) == "authorization_pending"
    assert poll(http, device["device_code"]).status_code == 200

    identity.approve_after_polls = 0
    assert poll(http, start_device(http)["device_code"]).status_code == 200


def test_device_decline(http: httpx.Client, identity: LabIdentityProvider) -> None:
    device = start_device(http)
    identity.decline(device["user_code"])
    assert error_of(poll(http, device["device_code"])) == "authorization_declined"


def test_device_code_expired_and_unknown(http: httpx.Client, identity: LabIdentityProvider) -> None:
    identity.device_code_lifetime = 0
    device = start_device(http)
    assert device["expires_in"] == 0
    assert error_of(poll(http, device["device_code"])) == "expired_token"
    assert error_of(poll(http, "no-such-code")) == "bad_verification_code"
    with pytest.raises(KeyError):
        identity.approve("ZZZZ-ZZZZ", LAB_USER)


def test_slow_down_polls(http: httpx.Client, identity: LabIdentityProvider) -> None:
    identity.slow_down_polls = 2
    device = start_device(http)
    answers = [error_of(poll(http, device["device_code"])) for _ in range(3)]
    assert answers == ["slow_down", "slow_down", "authorization_pending"]


def test_polling_faster_than_interval(http: httpx.Client, identity: LabIdentityProvider) -> None:
    identity.device_interval = 1
    device = start_device(http)
    assert device["interval"] == 1
    assert error_of(poll(http, device["device_code"])) == "authorization_pending"
    assert error_of(poll(http, device["device_code"])) == "slow_down"
    identity.device_interval = 0  # (instead of waiting a second)
    assert error_of(poll(http, device["device_code"])) == "authorization_pending"


def test_consent_missing(http: httpx.Client, identity: LabIdentityProvider) -> None:
    device = start_device(http)
    identity.approve(device["user_code"], LAB_NOCONSENT_USER)
    response = poll(http, device["device_code"])
    assert error_of(response) == "invalid_grant"
    assert response.json()["error_description"].startswith("AADSTS65001: The user or admin")


def test_unknown_client(http: httpx.Client) -> None:
    response = http.post(
        "/contoso.com/oauth2/v2.0/devicecode", data={"client_id": "nope", "scope": MS_SCOPE}
    )
    assert error_of(response) == "unauthorized_client"
    description = response.json()["error_description"]
    assert description.startswith("AADSTS700016: Application with identifier 'nope' was not")
    assert "'contoso.com'" in description
    assert response.json()["error_codes"] == [700016]


def test_granted_scope_is_requested_and_allowed(
    http: httpx.Client, identity: LabIdentityProvider
) -> None:
    tokens = ms_tokens(
        http, identity, f"{OUTLOOK_IMAP_SCOPE} https://graph.microsoft.com/Mail.Read"
    )
    assert tokens["scope"] == OUTLOOK_IMAP_SCOPE
    assert "refresh_token" not in tokens  # no offline_access asked for
    response = http.post(
        f"{MS}/devicecode", data={"client_id": LAB_MS_CLIENT, "scope": "https://x.test/Nope"}
    )
    assert error_of(response) == "invalid_scope"


def test_ms_refresh_rotates_and_old_stays_valid(
    http: httpx.Client, identity: LabIdentityProvider
) -> None:
    first = ms_tokens(http, identity)["refresh_token"]

    def refresh(token: str, **extra: str) -> httpx.Response:
        data = {"grant_type": "refresh_token", "client_id": LAB_MS_CLIENT, "refresh_token": token}
        return http.post(f"{MS}/token", data={**data, **extra})

    second = refresh(first).json()
    assert second["refresh_token"] != first and second["access_token"]
    assert refresh(first).status_code == 200  # Microsoft keeps the old one valid
    narrowed = refresh(second["refresh_token"], scope=OUTLOOK_SMTP_SCOPE).json()
    assert narrowed["scope"] == OUTLOOK_SMTP_SCOPE
    assert jwt_claims(narrowed["access_token"])["scp"] == "SMTP.Send"

    identity.revoke_refresh_tokens()
    response = refresh(second["refresh_token"])
    assert error_of(response) == "invalid_grant"
    assert response.json()["error_description"].startswith("AADSTS70008:")
    assert error_of(refresh("unknown")) == "invalid_grant"


def test_unsupported_grant_type(http: httpx.Client) -> None:
    response = http.post(f"{MS}/token", data={"client_id": LAB_MS_CLIENT, "grant_type": "password"})
    assert error_of(response) == "unsupported_grant_type"


# -- Google loopback + PKCE ----------------------------------------------------------------


def test_google_code_flow(http: httpx.Client, identity: LabIdentityProvider) -> None:
    verifier, challenge = pkce()
    answer = redirected(authorize(http, challenge))
    assert answer["state"] == "st-123"
    tokens = redeem(http, answer["code"], verifier).json()
    assert tokens["access_token"].startswith("ya29.")
    assert tokens["refresh_token"].startswith("1//")
    assert tokens["scope"] == GOOGLE_SCOPE and tokens["token_type"] == "Bearer"
    claims = jwt_claims(tokens["id_token"])
    assert claims["email"] == LAB_USER and claims["aud"] == LAB_GOOGLE_CLIENT
    assert identity.verify_jwt(tokens["id_token"]) == claims

    again = redeem(http, answer["code"], verifier)
    assert error_of(again) == "invalid_grant"  # a code is single use


def test_google_wrong_verifier_and_redirect(http: httpx.Client) -> None:
    verifier, challenge = pkce()
    code = redirected(authorize(http, challenge))["code"]
    wrong = redeem(http, code, pkce()[0])
    assert error_of(wrong) == "invalid_grant"
    assert wrong.json()["error_description"] == "Invalid code verifier."
    assert error_of(redeem(http, code, verifier, redirect_uri="http://127.0.0.1:1/")) == (
        "redirect_uri_mismatch"
    )
    assert error_of(redeem(http, code, verifier, client_secret="wrong")) == "invalid_client"
    assert error_of(redeem(http, "garbage", verifier)) == "invalid_grant"


def test_google_refresh_does_not_rotate(http: httpx.Client) -> None:
    refresh_token = google_tokens(http)["refresh_token"]
    data = {
        "grant_type": "refresh_token",
        "client_id": LAB_GOOGLE_CLIENT,
        "client_secret": LAB_GOOGLE_SECRET,
        "refresh_token": refresh_token,
    }
    refreshed = http.post("/token", data=data).json()
    assert refreshed["access_token"].startswith("ya29.") and "refresh_token" not in refreshed
    assert http.post("/token", data=data).status_code == 200

    assert http.post("/revoke", data={"token": refresh_token}).json() == {}
    response = http.post("/token", data=data)
    assert error_of(response) == "invalid_grant"
    assert response.json()["error_description"] == "Token has been expired or revoked."


def test_authorize_browser_controls(http: httpx.Client, identity: LabIdentityProvider) -> None:
    challenge = pkce()[1]
    identity.browser_state_override = "evil"
    assert redirected(authorize(http, challenge))["state"] == "evil"
    identity.browser_state_override = None

    identity.browser_decline = True
    assert redirected(authorize(http, challenge))["error"] == "access_denied"
    identity.browser_decline = False

    identity.browser_user = LAB_NOCONSENT_USER
    assert redirected(authorize(http, challenge))["error"] == "consent_required"
    identity.browser_user = None

    plain = authorize(http, challenge, code_challenge_method="plain")
    assert redirected(plain)["error"] == "invalid_request"
    assert redirected(authorize(http, challenge, login_hint="stranger@lab.test"))["error"] == (
        "access_denied"
    )


def test_authorize_rejects_unknown_client_and_bad_redirects(http: httpx.Client) -> None:
    challenge = pkce()[1]
    unknown = authorize(http, challenge, client_id="nope.apps.googleusercontent.com")
    assert unknown.status_code == 400 and "Error 401: invalid_client" in unknown.text
    for uri in ("https://127.0.0.1:8080/", "http://example.com/", "http://127.0.0.1.evil.test/"):
        bad = authorize(http, challenge, redirect_uri=uri)
        assert bad.status_code == 400 and "redirect_uri_mismatch" in bad.text
    local = authorize(http, challenge, redirect_uri="http://localhost:8080/cb?x=1")
    assert local.status_code == 302
    assert local.headers["location"].startswith("http://localhost:8080/cb?x=1&")


# -- introspection and token contents ------------------------------------------------------


def test_introspection(http: httpx.Client, identity: LabIdentityProvider) -> None:
    tokens = ms_tokens(http, identity)
    answer = introspect(http, tokens["access_token"])
    assert answer["active"] is True
    assert answer["scope"] == MS_SCOPE
    assert answer["username"] == answer["email"] == LAB_USER
    assert answer["client_id"] == LAB_MS_CLIENT and answer["token_type"] == "Bearer"
    assert answer["exp"] == jwt_claims(tokens["access_token"])["exp"] and answer["sub"]
    bearer = http.get("/introspect", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert bearer.json()["active"] is True

    assert introspect(http, tokens["refresh_token"]) == {"active": False}
    assert introspect(http, "garbage") == {"active": False}
    identity.expire_access_tokens()
    assert introspect(http, tokens["access_token"]) == {"active": False}

    google = google_tokens(http)
    assert introspect(http, google["access_token"])["scope"] == GOOGLE_SCOPE
    assert http.post("/revoke", data={"token": google["access_token"]}).status_code == 200
    assert introspect(http, google["access_token"]) == {"active": False}
    assert error_of(http.post("/revoke", data={"token": "garbage"})) == "invalid_token"


def test_short_lifetime_expires(http: httpx.Client, identity: LabIdentityProvider) -> None:
    identity.access_token_lifetime = 0
    assert introspect(http, google_tokens(http)["access_token"]) == {"active": False}


def test_jwt_claims(http: httpx.Client, identity: LabIdentityProvider) -> None:
    tokens = ms_tokens(http, identity, f"{MS_SCOPE} openid profile")
    header = json.loads(base64.urlsafe_b64decode(tokens["access_token"].split(".")[0] + "=="))
    assert header["alg"] == "HS256"
    claims = identity.verify_jwt(tokens["access_token"])
    assert claims["aud"] == "https://outlook.office.com"
    assert claims["scp"] == "IMAP.AccessAsUser.All SMTP.Send"
    assert claims["upn"] == claims["preferred_username"] == claims["unique_name"] == LAB_USER
    assert claims["appid"] == LAB_MS_CLIENT and claims["tid"] == LAB_TENANT_ID
    assert claims["oid"] and claims["iat"] == claims["nbf"]
    assert claims["exp"] - claims["iat"] == 3600 and claims["exp"] > time.time()
    id_claims = jwt_claims(tokens["id_token"])
    assert id_claims["preferred_username"] == LAB_USER and id_claims["aud"] == LAB_MS_CLIENT
    assert id_claims["oid"] == claims["oid"] and id_claims["tid"] == LAB_TENANT_ID
    with pytest.raises(ValueError):
        identity.verify_jwt(tokens["access_token"][:-4] + "AAAA")


def test_tenant_guid_becomes_tid(http: httpx.Client) -> None:
    tenant = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    device = start_device(http, tenant=tenant)
    assert error_of(poll(http, device["device_code"], tenant)) == "authorization_pending"


def test_requests_recorded_without_secrets(
    http: httpx.Client, identity: LabIdentityProvider
) -> None:
    tokens = google_tokens(http)
    introspect(http, tokens["access_token"])
    assert [(method, path) for method, path, _ in identity.requests] == [
        ("GET", "/o/oauth2/v2/auth"),
        ("POST", "/token"),
        ("POST", "/introspect"),
    ]
    assert tokens["access_token"] not in repr(identity.requests)


def test_stop_is_prompt_with_open_connections(lab_certs: LabCertificates) -> None:
    provider = LabIdentityProvider(lab_certs)
    provider.start()
    context = ssl.create_default_context(cafile=str(provider.ca_file))
    with httpx.Client(base_url=provider.base_url, verify=context, timeout=5.0) as client:
        assert client.get("/devicelogin").status_code == 200  # connection kept alive
        started = time.monotonic()
        provider.stop()
        assert time.monotonic() - started < 2.0
        with pytest.raises(httpx.TransportError):
            client.get("/devicelogin")
