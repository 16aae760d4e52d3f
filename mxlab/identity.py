"""A local OAuth 2.0 identity provider for the lab: Microsoft and Google styles over HTTPS.

``LabIdentityProvider`` listens on 127.0.0.1 (ephemeral port) with the lab certificate and
speaks just enough of Microsoft's identity platform (device code flow, ``/{tenant}/oauth2/
v2.0/...``) and Google's OAuth 2.0 server (loopback redirect + PKCE, ``/o/oauth2/v2/auth``,
``/token``, ``/revoke``) for sign-in tests, plus RFC 7662 ``/introspect`` so the lab's mail
servers (Dovecot's oauth2 passdb, the SMTP lab) can validate the access tokens it issues.

What "the user in the browser" does is set by the behaviour controls (``approve()``,
``auto_approve``, ``browser_user``, ...). Tokens are random and never logged; ``requests``
records only (method, path, monotonic time).

Usage::

    with LabIdentityProvider(certs) as idp:
        register_lab_accounts(idp)
        idp.auto_approve = LAB_USER
        ...  # point the client at idp.base_url, trust idp.ca_file
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.server
import json
import re
import secrets
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from mxlab.certs import LabCertificates
from mxlab.service import LabService

LAB_MS_CLIENT = "11111111-2222-3333-4444-555555555555"
LAB_GOOGLE_CLIENT = "lab-desktop.apps.googleusercontent.com"
LAB_GOOGLE_SECRET = "GOCSPX-lab-secret"
LAB_USER = "user@lab.test"
LAB_NOCONSENT_USER = "noconsent@lab.test"
LAB_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"

OUTLOOK_RESOURCE = "https://outlook.office.com"
OUTLOOK_IMAP_SCOPE = f"{OUTLOOK_RESOURCE}/IMAP.AccessAsUser.All"
OUTLOOK_SMTP_SCOPE = f"{OUTLOOK_RESOURCE}/SMTP.Send"
GOOGLE_MAIL_SCOPE = "https://mail.google.com/"
LAB_MS_SCOPES = (
    OUTLOOK_IMAP_SCOPE,
    OUTLOOK_SMTP_SCOPE,
    "offline_access",
    "openid",
    "profile",
    "email",
)
LAB_GOOGLE_SCOPES = (GOOGLE_MAIL_SCOPE, "openid", "email")
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

_OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
_HANDSHAKE_TIMEOUT = 5.0
_IDLE_TIMEOUT = 5.0
_MAX_BODY = 1 << 20
_AUTH_CODE_LIFETIME = 600.0
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
_MS_PATH = re.compile(r"^/([^/]+)/oauth2/v2\.0/(devicecode|token|authorize)$")

Style = Literal["microsoft", "google"]

_AADSTS_NOT_CONSENTED = (
    "AADSTS65001: The user or administrator has not consented to use the application "
    "with ID '{client}'. Send an interactive authorization request for this user and resource."
)
_AADSTS_REFRESH = (
    "AADSTS70008: The provided authorization code or refresh token has expired due to "
    "inactivity. Send a new interactive authorization request for this user and resource."
)
_GOOGLE_REFRESH = "Token has been expired or revoked."


@dataclass(frozen=True)
class _Client:
    client_id: str
    secret: str | None = field(repr=False)
    allowed: frozenset[str] | None


@dataclass(frozen=True)
class _Grant:
    """Who got which scopes through which client (shared by the tokens of one sign-in)."""

    username: str
    client_id: str
    scopes: tuple[str, ...]
    tid: str
    offline: bool


@dataclass
class _AccessToken:
    grant: _Grant
    style: Style
    exp: int
    expired: bool = False


@dataclass
class _DeviceCode:
    client_id: str
    scopes: tuple[str, ...]
    tid: str
    user_code: str
    expires_at: float
    last_poll: float | None = None
    polls: int = 0
    approved_by: str | None = None
    declined: bool = False
    redeemed: bool = False


@dataclass
class _AuthCode:
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: tuple[str, ...]
    username: str
    offline: bool
    expires_at: float
    used: bool = False


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    location: str | None = None


class _OAuthError(Exception):
    """An OAuth error answer (HTTP 400 JSON unless ``status`` says otherwise)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(error)
        self.error, self.description, self.status = error, description, status


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT (``header.payload.signature``), decoded without verification."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if not isinstance(claims, dict):
        raise ValueError("a JWT payload is a JSON object")
    return claims


def _json(status: int, body: dict[str, Any]) -> _Reply:
    return _Reply(status, json.dumps(body).encode("utf-8"))


def _page(status: int, title: str, text: str) -> _Reply:
    html = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{text}</p>\n"
    return _Reply(status, html.encode("utf-8"), "text/html; charset=utf-8")


def _is_loopback_redirect(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")


def _with_query(uri: str, params: dict[str, str]) -> str:
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(params)}"


def _granted(requested: str, allowed: frozenset[str] | None) -> tuple[str, ...]:
    """Requested ∩ allowed, in request order; ``resource/.default`` means all of resource."""
    granted: list[str] = []
    for scope in requested.split():
        if scope.endswith("/.default") and allowed is not None:
            prefix = scope.removesuffix(".default")
            granted.extend(sorted(s for s in allowed if s.startswith(prefix)))
        elif allowed is None or scope in allowed:
            granted.append(scope)
    return tuple(dict.fromkeys(granted))


def _tenant_id(tenant: str) -> str:
    try:
        return str(uuid.UUID(tenant))
    except ValueError:
        return LAB_TENANT_ID


class LabIdentityProvider(LabService):
    """An HTTPS OAuth 2.0 server on 127.0.0.1:0 in Microsoft and Google styles (see module).

    Behaviour controls: ``auto_approve`` (a username) answers ``authorization_pending`` to the
    first ``approve_after_polls`` polls of a device code, then approves it; ``slow_down_polls``
    makes the next N polls answer ``slow_down`` (as does any poll sooner than
    ``device_interval`` seconds after the previous one); ``browser_user`` (else ``login_hint``),
    ``browser_decline`` and ``browser_state_override`` drive the authorize endpoint.
    ``reset_behaviour()`` restores the defaults; clients, users and tokens stay.
    """

    def __init__(self, certs: LabCertificates, *, access_token_lifetime: int = 3600) -> None:
        """Bind 127.0.0.1:0 with the lab certificate; ``start()`` begins serving."""
        self._certs = certs
        self._default_lifetime = access_token_lifetime
        self._lock = threading.RLock()
        self._key = secrets.token_bytes(32)
        self._clients: dict[str, _Client] = {}
        self._users: dict[str, bool] = {}
        self._devices: dict[str, _DeviceCode] = {}
        self._user_codes: dict[str, str] = {}
        self._codes: dict[str, _AuthCode] = {}
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _Grant] = {}
        self.revoked: set[str] = set()
        self.requests: list[tuple[str, str, float]] = []
        self.access_token_lifetime = access_token_lifetime
        self.auto_approve: str | None = None
        self.approve_after_polls = 1
        self.slow_down_polls = 0
        self.device_interval = 5
        self.device_code_lifetime = 900
        self.browser_user: str | None = None
        self.browser_decline = False
        self.browser_state_override: str | None = None
        self._context = certs.server_context()
        self._server: _IdentityHttpServer | None = _IdentityHttpServer(self)
        self._thread: threading.Thread | None = None

    # -- the LabService shape -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The ephemeral port the server listens on."""
        if self._server is None:
            raise RuntimeError("LabIdentityProvider is stopped")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:PORT`` (the lab certificate is valid for 127.0.0.1)."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        """The lab CA a client must trust to talk to this server."""
        return self._certs.ca_pem

    def start(self) -> None:
        """Serve in a background thread (returns at once; the socket is already listening)."""
        if self._server is None:
            raise RuntimeError("LabIdentityProvider was stopped and cannot be restarted")
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"lab-identity-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, drop open connections, close the socket (bounded: seconds at most)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        if thread is not None:
            server.shutdown()
        server.server_close()
        server.drop_connections()
        if thread is not None:
            thread.join(timeout=5.0)

    # -- setup and behaviour controls -----------------------------------------------------

    def register_client(
        self,
        client_id: str,
        *,
        client_secret: str | None = None,
        allowed_scopes: list[str] | tuple[str, ...] | set[str] | frozenset[str] | None = None,
    ) -> None:
        """Register an app; ``allowed_scopes=None`` allows whatever it asks for."""
        allowed = None if allowed_scopes is None else frozenset(allowed_scopes)
        with self._lock:
            self._clients[client_id] = _Client(client_id, client_secret, allowed)

    def add_user(self, username: str, *, consented: bool = True) -> None:
        """Add (or update) a user who can sign in; ``consented=False``: consent missing."""
        with self._lock:
            self._users[username] = consented

    def approve(self, user_code: str, username: str) -> None:
        """The user signed in at the device login page and entered ``user_code``."""
        with self._lock:
            if username not in self._users:
                raise KeyError("unknown lab user")
            self._device_by_user_code(user_code).approved_by = username

    def decline(self, user_code: str) -> None:
        """The user refused the sign-in for ``user_code``."""
        with self._lock:
            self._device_by_user_code(user_code).declined = True

    def expire_access_tokens(self) -> None:
        """Every access token issued so far becomes expired (introspection: inactive)."""
        with self._lock:
            for token in self._access.values():
                token.expired = True

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far is revoked."""
        with self._lock:
            self.revoked.update(self._refresh)

    def reset_behaviour(self) -> None:
        """Behaviour controls back to their defaults and ``requests`` emptied.

        Clients, users and issued tokens stay.
        """
        with self._lock:
            self.access_token_lifetime = self._default_lifetime
            self.auto_approve = None
            self.approve_after_polls = 1
            self.slow_down_polls = 0
            self.device_interval = 5
            self.device_code_lifetime = 900
            self.browser_user = None
            self.browser_decline = False
            self.browser_state_override = None
            self.requests.clear()

    def _device_by_user_code(self, user_code: str) -> _DeviceCode:
        device_code = self._user_codes.get(user_code.strip().upper().replace("-", ""))
        if device_code is None:
            raise KeyError("unknown user code")
        return self._devices[device_code]

    # -- request dispatch (called by the HTTP handler threads) ----------------------------

    def _answer(self, method: str, path: str, params: dict[str, str], authorization: str) -> _Reply:
        match = _MS_PATH.match(path)
        style: Style = "microsoft" if match else "google"
        try:
            with self._lock:
                if match and method == "POST" and match.group(2) == "devicecode":
                    return _json(200, self._device_code(match.group(1), params))
                if match and method == "POST" and match.group(2) == "token":
                    return _json(200, self._token("microsoft", match.group(1), params, ""))
                if (match and match.group(2) == "authorize") or path == "/o/oauth2/v2/auth":
                    return self._authorize(params) if method == "GET" else _page(405, "405", "")
                if path == "/token" and method == "POST":
                    return _json(200, self._token("google", "", params, authorization))
                if path == "/revoke" and method == "POST":
                    return _json(200, self._revoke(params))
                if path == "/introspect":
                    return _json(200, self._introspect(params, authorization))
                if path == "/devicelogin" and method == "GET":
                    return _page(200, "Enter code", "Enter the code shown on your device.")
            return _json(404, {"error": "not_found", "error_description": "No such endpoint."})
        except _OAuthError as error:
            body: dict[str, Any] = {"error": error.error, "error_description": error.description}
            codes = re.match(r"AADSTS(\d+)", error.description)
            if style == "microsoft" and codes:
                body["error_codes"] = [int(codes.group(1))]
            return _json(error.status, body)

    def _client(self, style: Style, tenant: str, client_id: str) -> _Client:
        client = self._clients.get(client_id)
        if client is not None:
            return client
        if style == "google":
            raise _OAuthError("invalid_client", "The OAuth client was not found.")
        raise _OAuthError(
            "unauthorized_client",
            f"AADSTS700016: Application with identifier '{client_id}' was not found in the "
            f"directory '{tenant}'. This can happen if the application has not been installed "
            "by the administrator of the tenant or consented to by any user in the tenant. "
            "You may have sent your authentication request to the wrong tenant.",
        )

    def _scopes(self, style: Style, requested: str, client: _Client) -> tuple[str, ...]:
        if not requested.strip():
            raise _OAuthError(
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: 'scope'."
                if style == "microsoft"
                else "Missing required parameter: scope",
            )
        granted = _granted(requested, client.allowed)
        if not granted:
            raise _OAuthError(
                "invalid_scope",
                "AADSTS70011: The provided request must include a 'scope' input parameter. "
                "The provided value for the input parameter 'scope' is not valid."
                if style == "microsoft"
                else "Some requested scopes were invalid.",
            )
        return granted

    # -- Microsoft device code flow -------------------------------------------------------

    def _device_code(self, tenant: str, params: dict[str, str]) -> dict[str, Any]:
        client = self._client("microsoft", tenant, params.get("client_id", ""))
        scopes = self._scopes("microsoft", params.get("scope", ""), client)
        device_code = secrets.token_urlsafe(48)
        raw = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(8))
        user_code = f"{raw[:4]}-{raw[4:]}"
        lifetime = self.device_code_lifetime
        self._devices[device_code] = _DeviceCode(
            client.client_id, scopes, _tenant_id(tenant), user_code, time.monotonic() + lifetime
        )
        self._user_codes[raw] = device_code
        uri = f"{self.base_url}/devicelogin"
        return {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": uri,
            "expires_in": lifetime,
            "interval": self.device_interval,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the "
            f"code {user_code} to authenticate.",
        }

    def _poll_device(self, client: _Client, params: dict[str, str]) -> dict[str, Any]:
        device = self._devices.get(params.get("device_code", ""))
        if device is None or device.client_id != client.client_id:
            raise _OAuthError(
                "bad_verification_code",
                "AADSTS70000: The provided value for the 'device_code' is not valid.",
            )
        now = time.monotonic()
        if now >= device.expires_at:
            raise _OAuthError(
                "expired_token",
                "AADSTS70020: The provided value for the input parameter 'device_code' is not "
                "valid. This device code has expired.",
            )
        if device.declined:
            raise _OAuthError(
                "authorization_declined", "AADSTS70000: The user declined to authorize the app."
            )
        if device.redeemed:
            raise _OAuthError(
                "invalid_grant", "AADSTS54005: OAuth2 Authorization code was already redeemed."
            )
        previous, device.last_poll = device.last_poll, now
        if previous is not None and now - previous < self.device_interval:
            raise _OAuthError("slow_down", "AADSTS70016: Polling too fast: slow down.")
        if self.slow_down_polls > 0:
            self.slow_down_polls -= 1
            raise _OAuthError("slow_down", "AADSTS70016: Polling too fast: slow down.")
        auto = self.auto_approve
        if device.approved_by is None and auto and device.polls >= self.approve_after_polls:
            device.approved_by = auto
        device.polls += 1
        if device.approved_by is None:
            raise _OAuthError(
                "authorization_pending",
                "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. "
                "Continue polling.",
            )
        username = device.approved_by
        self._check_user("microsoft", username, client.client_id)
        device.redeemed = True
        grant = _Grant(
            username, client.client_id, device.scopes, device.tid, "offline_access" in device.scopes
        )
        return self._issue("microsoft", grant, refresh=grant.offline)

    def _check_user(self, style: Style, username: str, client_id: str) -> None:
        consented = self._users.get(username)
        if consented is None:
            raise _OAuthError(
                "invalid_grant",
                "AADSTS50034: The user account does not exist in the directory."
                if style == "microsoft"
                else "Account not found.",
            )
        if not consented:
            raise _OAuthError(
                "invalid_grant",
                _AADSTS_NOT_CONSENTED.format(client=client_id)
                if style == "microsoft"
                else "The user has not granted the app access.",
            )

    # -- the token endpoint (both styles) -------------------------------------------------

    def _token(
        self, style: Style, tenant: str, params: dict[str, str], authorization: str
    ) -> dict[str, Any]:
        client_id, secret = params.get("client_id", ""), params.get("client_secret")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
            except ValueError:
                decoded = ":"
            client_id, _, secret = decoded.partition(":")
        client = self._client(style, tenant, client_id)
        if client.secret is not None and not hmac.compare_digest(
            (secret or "").encode(), client.secret.encode()
        ):
            raise _OAuthError("invalid_client", "Unauthorized")
        grant_type = params.get("grant_type", "")
        if grant_type == DEVICE_CODE_GRANT and style == "microsoft":
            return self._poll_device(client, params)
        if grant_type == "authorization_code":
            return self._redeem_code(style, client, params)
        if grant_type == "refresh_token":
            return self._refresh_grant(style, client, params)
        raise _OAuthError(
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type."
            if style == "microsoft"
            else f"Invalid grant_type: {grant_type}",
        )

    def _redeem_code(self, style: Style, client: _Client, params: dict[str, str]) -> dict[str, Any]:
        code = self._codes.get(params.get("code", ""))
        if code is None:
            raise _OAuthError("invalid_grant", "Malformed auth code.")
        if code.used or code.client_id != client.client_id or time.monotonic() > code.expires_at:
            raise _OAuthError("invalid_grant", "Bad Request")
        if params.get("redirect_uri", "") != code.redirect_uri:
            raise _OAuthError("redirect_uri_mismatch", "Bad Request")
        verifier = params.get("code_verifier", "")
        if not verifier:
            raise _OAuthError("invalid_request", "Missing code verifier.")
        expected = _b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
        if not hmac.compare_digest(expected, code.challenge):
            raise _OAuthError("invalid_grant", "Invalid code verifier.")
        code.used = True
        tid = LAB_TENANT_ID
        grant = _Grant(code.username, client.client_id, code.scopes, tid, code.offline)
        offline = code.offline if style == "google" else "offline_access" in code.scopes
        return self._issue(style, grant, refresh=offline)

    def _refresh_grant(
        self, style: Style, client: _Client, params: dict[str, str]
    ) -> dict[str, Any]:
        token = params.get("refresh_token", "")
        grant = self._refresh.get(token)
        if grant is None or token in self.revoked or grant.client_id != client.client_id:
            raise _OAuthError(
                "invalid_grant", _AADSTS_REFRESH if style == "microsoft" else _GOOGLE_REFRESH
            )
        self._check_user(style, grant.username, client.client_id)
        if style == "google":
            return self._issue(style, grant, refresh=False)
        requested = params.get("scope", "")
        if requested.strip():
            scopes = self._scopes(style, requested, client)
            grant = _Grant(grant.username, grant.client_id, scopes, grant.tid, grant.offline)
        return self._issue(style, grant, refresh=True)  # Microsoft rotates

    # -- Google-style authorize (loopback redirect + PKCE) --------------------------------

    def _authorize(self, params: dict[str, str]) -> _Reply:
        client = self._clients.get(params.get("client_id", ""))
        if client is None:
            return _page(400, "Error 401: invalid_client", "The OAuth client was not found.")
        redirect_uri = params.get("redirect_uri", "")
        if not _is_loopback_redirect(redirect_uri):
            return _page(
                400,
                "Error 400: redirect_uri_mismatch",
                "The redirect URI must be http://127.0.0.1:PORT/ or http://localhost:PORT/.",
            )
        state = self.browser_state_override or params.get("state", "")
        answer: dict[str, str] = {}
        granted = _granted(params.get("scope", ""), client.allowed)
        username = self.browser_user or params.get("login_hint", "")
        if params.get("response_type") != "code":
            answer = {"error": "unsupported_response_type"}
        elif params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            answer = {"error": "invalid_request", "error_description": "PKCE S256 required"}
        elif not granted:
            answer = {"error": "invalid_scope"}
        elif self.browser_decline or username not in self._users:
            answer = {"error": "access_denied"}
        elif not self._users[username]:
            answer = {"error": "consent_required", "error_description": "consent missing"}
        else:
            code = secrets.token_urlsafe(32)
            self._codes[code] = _AuthCode(
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
        return _Reply(302, b"", "text/plain", _with_query(redirect_uri, answer))

    # -- issuing, revoking, introspecting -------------------------------------------------

    def _issue(self, style: Style, grant: _Grant, *, refresh: bool) -> dict[str, Any]:
        now, lifetime = int(time.time()), self.access_token_lifetime
        exp = now + lifetime
        if style == "microsoft":
            access = self._jwt(self._access_claims(grant, now, exp))
        else:
            access = f"ya29.{secrets.token_urlsafe(64)}"
        self._access[access] = _AccessToken(grant, style, exp)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
            "expires_in": lifetime,
            "access_token": access,
        }
        if style == "microsoft":
            body["ext_expires_in"] = lifetime
        if refresh:
            prefix = "0.A" if style == "microsoft" else "1//"
            token = f"{prefix}{secrets.token_urlsafe(48)}"
            self._refresh[token] = grant
            body["refresh_token"] = token
        body["id_token"] = self._jwt(self._id_claims(style, grant, now, exp))
        return body

    def _jwt(self, claims: dict[str, Any]) -> str:
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "lab"}).encode())
        signing_input = f"{header}.{_b64url(json.dumps(claims).encode())}"
        signature = hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{_b64url(signature)}"

    def verify_jwt(self, token: str) -> dict[str, Any]:
        """The claims of a JWT this provider signed; ``ValueError`` when the signature is bad."""
        signing_input, _, signature = token.rpartition(".")
        expected = hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(_b64url(expected), signature):
            raise ValueError("bad JWT signature")
        return jwt_claims(token)

    @staticmethod
    def _oid(username: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mxlab:{username}"))

    @staticmethod
    def _google_sub(username: str) -> str:
        return str(int.from_bytes(hashlib.sha256(username.encode()).digest()[:9], "big"))

    def _access_claims(self, grant: _Grant, now: int, exp: int) -> dict[str, Any]:
        resource = [s for s in grant.scopes if s not in _OIDC_SCOPES and "/" in s]
        audience = resource[0].rsplit("/", 1)[0] if resource else OUTLOOK_RESOURCE
        short = [s.rsplit("/", 1)[1] for s in resource if s.startswith(f"{audience}/")]
        return {
            "aud": audience,
            "iss": f"https://sts.windows.net/{grant.tid}/",
            "iat": now,
            "nbf": now,
            "exp": exp,
            "appid": grant.client_id,
            "scp": " ".join(short),
            "upn": grant.username,
            "preferred_username": grant.username,
            "unique_name": grant.username,
            "tid": grant.tid,
            "oid": self._oid(grant.username),
            "uti": secrets.token_urlsafe(16),
            "ver": "1.0",
        }

    def _id_claims(self, style: Style, grant: _Grant, now: int, exp: int) -> dict[str, Any]:
        if style == "google":
            return {
                "iss": "https://accounts.google.com",
                "azp": grant.client_id,
                "aud": grant.client_id,
                "sub": self._google_sub(grant.username),
                "email": grant.username,
                "email_verified": True,
                "iat": now,
                "exp": exp,
            }
        return {
            "aud": grant.client_id,
            "iss": f"https://login.microsoftonline.com/{grant.tid}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": exp,
            "name": grant.username.split("@", 1)[0].capitalize(),
            "oid": self._oid(grant.username),
            "preferred_username": grant.username,
            "sub": self._oid(grant.username),
            "tid": grant.tid,
            "ver": "2.0",
        }

    def _revoke(self, params: dict[str, str]) -> dict[str, Any]:
        token = params.get("token", "")
        if token in self.revoked or (token not in self._refresh and token not in self._access):
            raise _OAuthError("invalid_token", "Token expired or revoked")
        self.revoked.add(token)
        return {}

    def _introspect(self, params: dict[str, str], authorization: str) -> dict[str, Any]:
        token = params.get("token", "")
        if not token and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        access = self._access.get(token)
        if access is None or access.expired or token in self.revoked or time.time() >= access.exp:
            return {"active": False}
        grant = access.grant
        sub = self._oid(grant.username) if access.style == "microsoft" else None
        return {
            "active": True,
            "scope": " ".join(grant.scopes),
            "username": grant.username,
            "email": grant.username,
            "sub": sub or self._google_sub(grant.username),
            "client_id": grant.client_id,
            "exp": access.exp,
            "token_type": "Bearer",
        }


def register_lab_accounts(provider: LabIdentityProvider) -> None:
    """Register the lab's Microsoft and Google apps and its two users (one without consent)."""
    provider.register_client(LAB_MS_CLIENT, allowed_scopes=LAB_MS_SCOPES)
    provider.register_client(
        LAB_GOOGLE_CLIENT, client_secret=LAB_GOOGLE_SECRET, allowed_scopes=LAB_GOOGLE_SCOPES
    )
    provider.add_user(LAB_USER)
    provider.add_user(LAB_NOCONSENT_USER, consented=False)


class _Handler(http.server.BaseHTTPRequestHandler):
    """Parses one request (query or form body) and sends the provider's answer."""

    server: _IdentityHttpServer
    protocol_version = "HTTP/1.1"
    timeout = _IDLE_TIMEOUT

    def do_GET(self) -> None:
        """Answer a GET (authorize, device login page, introspection by query)."""
        self._dispatch("GET")

    def do_POST(self) -> None:
        """Answer a form-encoded POST."""
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        provider = self.server.provider
        parts = urlsplit(self.path)
        provider.requests.append((method, parts.path, time.monotonic()))
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        declared = self.headers.get("Content-Length") or "0"
        length = int(declared) if declared.isdigit() else -1
        if not 0 <= length <= _MAX_BODY:
            self.close_connection = True
            self._send(_json(400, {"error": "invalid_request", "error_description": "body size"}))
            return
        if length > 0:
            body = self.rfile.read(length).decode("utf-8", "replace")
            params.update(parse_qsl(body, keep_blank_values=True))
        self._send(
            provider._answer(method, parts.path, params, self.headers.get("Authorization", ""))
        )

    def _send(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Cache-Control", "no-store")
        if reply.location is not None:
            self.send_header("Location", reply.location)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: requests are recorded (without secrets) in ``requests`` instead."""


class _IdentityHttpServer(http.server.ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1:0 doing the TLS handshake per request thread."""

    daemon_threads = True

    def __init__(self, provider: LabIdentityProvider) -> None:
        self.provider = provider
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Handshake (bounded), then serve the connection's requests (keep-alive, idle timeout)."""
        with self._open_lock:
            self._open.add(request)
        try:
            request.settimeout(_HANDSHAKE_TIMEOUT)
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self.provider._context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            self._forget(request)
            return  # the client gave up (e.g. it did not trust the certificate)
        self._forget(request)  # wrap_socket detached it: track the TLS socket instead
        with self._open_lock:
            self._open.add(tls)
        try:
            _Handler(tls, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            self._forget(tls)
            tls.close()

    def _forget(self, request: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(request)

    def drop_connections(self) -> None:
        """Shut down every open connection (kept-alive clients) so handler threads end."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
