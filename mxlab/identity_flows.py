"""The lab identity provider's OAuth flows: what it answers to each sign-in step.

``IdentityFlows`` holds the flows in progress (device codes, authorization codes) and answers
the Microsoft device code flow (``devicecode``, polling ``token``), the Google-style authorize
endpoint (loopback redirect + PKCE S256) and the token endpoint in both styles (device code,
authorization code, refresh token) with the errors real servers send. Who may sign in comes
from the ``IdentityDirectory``, what "the user in the browser" does from the provider's
behaviour controls (``FlowControls``); tokens are issued by the ``TokenStore``. Not locked
itself: the provider calls it under its lock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from mxlab.identity_directory import IdentityDirectory, granted_scopes
from mxlab.identity_http import Reply, page_reply
from mxlab.identity_tokens import (
    LAB_TENANT_ID,
    AuthCode,
    Client,
    DeviceCode,
    Grant,
    OAuthError,
    Style,
    TokenPolicy,
    TokenStore,
    b64url,
    by_style,
)

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

_AUTH_CODE_LIFETIME = 600.0
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
_AADSTS_REFRESH = (
    "AADSTS70008: The provided authorization code or refresh token has expired due to "
    "inactivity. Send a new interactive authorization request for this user and resource."
)
_GOOGLE_REFRESH = "Token has been expired or revoked."
_SLOW_DOWN = "AADSTS70016: Polling too fast: slow down."


class FlowControls(TokenPolicy, Protocol):
    """The provider's behaviour controls the flows read (see ``LabIdentityProvider``)."""

    auto_approve: str | None
    approve_after_polls: int
    slow_down_polls: int
    device_interval: int
    device_code_lifetime: int
    browser_user: str | None
    browser_decline: bool
    browser_state_override: str | None

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:PORT``."""
        ...


def _is_loopback_redirect(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")


def _with_query(uri: str, params: dict[str, str]) -> str:
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(params)}"


def _tenant_id(tenant: str) -> str:
    try:
        return str(uuid.UUID(tenant))
    except ValueError:
        return LAB_TENANT_ID


class IdentityFlows:
    """The flows in progress and the answers of the OAuth endpoints."""

    def __init__(
        self, controls: FlowControls, directory: IdentityDirectory, tokens: TokenStore
    ) -> None:
        """No flows in progress yet; ``controls`` is read at every answer."""
        self.controls = controls
        self.directory = directory
        self.tokens = tokens
        self.devices: dict[str, DeviceCode] = {}
        self.user_codes: dict[str, str] = {}
        self.codes: dict[str, AuthCode] = {}

    def device_by_user_code(self, user_code: str) -> DeviceCode:
        """The device code flow a user code (any case, with or without ``-``) belongs to."""
        device_code = self.user_codes.get(user_code.strip().upper().replace("-", ""))
        if device_code is None:
            raise KeyError("unknown user code")
        return self.devices[device_code]

    # -- Microsoft device code flow -------------------------------------------------------

    def device_code(self, tenant: str, params: dict[str, str]) -> dict[str, Any]:
        """``POST /{tenant}/oauth2/v2.0/devicecode``: start a device code flow."""
        client = self.directory.client("microsoft", tenant, params.get("client_id", ""))
        scopes = self.directory.scopes("microsoft", params.get("scope", ""), client)
        device_code = secrets.token_urlsafe(48)
        raw = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(8))
        user_code = f"{raw[:4]}-{raw[4:]}"
        lifetime = self.controls.device_code_lifetime
        self.devices[device_code] = DeviceCode(
            client.client_id, scopes, _tenant_id(tenant), user_code, time.monotonic() + lifetime
        )
        self.user_codes[raw] = device_code
        uri = f"{self.controls.base_url}/devicelogin"
        return {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": uri,
            "expires_in": lifetime,
            "interval": self.controls.device_interval,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the "
            f"code {user_code} to authenticate.",
        }

    def _poll_device(self, client: Client, params: dict[str, str]) -> dict[str, Any]:
        device = self.devices.get(params.get("device_code", ""))
        if device is None or device.client_id != client.client_id:
            raise OAuthError(
                "bad_verification_code",
                "AADSTS70000: The provided value for the 'device_code' is not valid.",
            )
        now, controls = time.monotonic(), self.controls
        if now >= device.expires_at:
            raise OAuthError(
                "expired_token",
                "AADSTS70020: The provided value for the input parameter 'device_code' is not "
                "valid. This device code has expired.",
            )
        if device.declined:
            raise OAuthError(
                "authorization_declined", "AADSTS70000: The user declined to authorize the app."
            )
        if device.redeemed:
            raise OAuthError(
                "invalid_grant", "AADSTS54005: OAuth2 Authorization code was already redeemed."
            )
        previous, device.last_poll = device.last_poll, now
        if previous is not None and now - previous < controls.device_interval:
            raise OAuthError("slow_down", _SLOW_DOWN)
        if controls.slow_down_polls > 0:
            controls.slow_down_polls -= 1
            raise OAuthError("slow_down", _SLOW_DOWN)
        auto = controls.auto_approve
        if device.approved_by is None and auto and device.polls >= controls.approve_after_polls:
            device.approved_by = auto
        device.polls += 1
        if device.approved_by is None:
            raise OAuthError(
                "authorization_pending",
                "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. "
                "Continue polling.",
            )
        username = device.approved_by
        self.directory.check_user("microsoft", username, client.client_id)
        device.redeemed = True
        grant = Grant(
            username, client.client_id, device.scopes, device.tid, "offline_access" in device.scopes
        )
        return self.tokens.issue("microsoft", grant, refresh=grant.offline)

    # -- the token endpoint (both styles) -------------------------------------------------

    def token(
        self, style: Style, tenant: str, params: dict[str, str], authorization: str
    ) -> dict[str, Any]:
        """``POST token``: client authentication, then the grant the request names."""
        client_id, secret = params.get("client_id", ""), params.get("client_secret")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
            except ValueError:
                decoded = ":"
            client_id, _, secret = decoded.partition(":")
        client = self.directory.client(style, tenant, client_id)
        if client.secret is not None and not hmac.compare_digest(
            (secret or "").encode(), client.secret.encode()
        ):
            raise OAuthError("invalid_client", "Unauthorized")
        grant_type = params.get("grant_type", "")
        if grant_type == DEVICE_CODE_GRANT and style == "microsoft":
            return self._poll_device(client, params)
        if grant_type == "authorization_code":
            return self._redeem_code(style, client, params)
        if grant_type == "refresh_token":
            return self._refresh_grant(style, client, params)
        raise OAuthError(
            "unsupported_grant_type",
            by_style(
                style,
                "AADSTS70003: The app requested an unsupported grant type.",
                f"Invalid grant_type: {grant_type}",
            ),
        )

    def _redeem_code(self, style: Style, client: Client, params: dict[str, str]) -> dict[str, Any]:
        code = self.codes.get(params.get("code", ""))
        if code is None:
            raise OAuthError("invalid_grant", "Malformed auth code.")
        if code.used or code.client_id != client.client_id or time.monotonic() > code.expires_at:
            raise OAuthError("invalid_grant", "Bad Request")
        if params.get("redirect_uri", "") != code.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "Bad Request")
        verifier = params.get("code_verifier", "")
        if not verifier:
            raise OAuthError("invalid_request", "Missing code verifier.")
        expected = b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
        if not hmac.compare_digest(expected, code.challenge):
            raise OAuthError("invalid_grant", "Invalid code verifier.")
        code.used = True
        grant = Grant(code.username, client.client_id, code.scopes, LAB_TENANT_ID, code.offline)
        offline = code.offline if style == "google" else "offline_access" in code.scopes
        return self.tokens.issue(style, grant, refresh=offline)

    def _refresh_grant(
        self, style: Style, client: Client, params: dict[str, str]
    ) -> dict[str, Any]:
        token = params.get("refresh_token", "")
        grant = self.tokens.refresh.get(token)
        if grant is None or token in self.controls.revoked or grant.client_id != client.client_id:
            raise OAuthError("invalid_grant", by_style(style, _AADSTS_REFRESH, _GOOGLE_REFRESH))
        self.directory.check_user(style, grant.username, client.client_id)
        if style == "google":
            return self.tokens.issue(style, grant, refresh=False)
        requested = params.get("scope", "")
        if requested.strip():
            scopes = self.directory.scopes(style, requested, client)
            grant = Grant(grant.username, grant.client_id, scopes, grant.tid, grant.offline)
        return self.tokens.issue(style, grant, refresh=True)  # Microsoft rotates

    # -- Google-style authorize (loopback redirect + PKCE) --------------------------------

    def authorize(self, params: dict[str, str]) -> Reply:
        """``GET /o/oauth2/v2/auth``: the browser's answer, a redirect to the loopback URI."""
        client = self.directory.clients.get(params.get("client_id", ""))
        if client is None:
            return page_reply(400, "Error 401: invalid_client", "The OAuth client was not found.")
        redirect_uri = params.get("redirect_uri", "")
        if not _is_loopback_redirect(redirect_uri):
            return page_reply(
                400,
                "Error 400: redirect_uri_mismatch",
                "The redirect URI must be http://127.0.0.1:PORT/ or http://localhost:PORT/.",
            )
        controls = self.controls
        state = controls.browser_state_override or params.get("state", "")
        answer: dict[str, str] = {}
        granted = granted_scopes(params.get("scope", ""), client.allowed)
        username = controls.browser_user or params.get("login_hint", "")
        if params.get("response_type") != "code":
            answer = {"error": "unsupported_response_type"}
        elif params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            answer = {"error": "invalid_request", "error_description": "PKCE S256 required"}
        elif not granted:
            answer = {"error": "invalid_scope"}
        elif controls.browser_decline or username not in self.directory.users:
            answer = {"error": "access_denied"}
        elif not self.directory.users[username]:
            answer = {"error": "consent_required", "error_description": "consent missing"}
        else:
            code = secrets.token_urlsafe(32)
            self.codes[code] = AuthCode(
                client.client_id,
                redirect_uri,
                params["code_challenge"],
                granted,
                username,
                params.get("access_type", "offline") != "online",
                time.monotonic() + _AUTH_CODE_LIFETIME,
            )
            answer = {"code": code, "scope": " ".join(granted)}
        if state:
            answer["state"] = state
        return Reply(302, b"", "text/plain", _with_query(redirect_uri, answer))
