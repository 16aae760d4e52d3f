"""Tokens of the lab identity provider: the records, HS256 JWTs, claims, issuing, introspection.

``TokenStore`` mints Microsoft-style access tokens (JWTs signed HS256 with a random lab key)
and Google-style opaque ones (``ya29.``), refresh tokens and OpenID id_tokens, remembers
everything it issued, and answers RFC 7662 introspection and revocation. The data records
shared by the flows (``Client``, ``Grant``, ``DeviceCode``, ``AuthCode``, ...) and
``OAuthError`` live here too. Tokens are random (``secrets``) and never logged or repr'd.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

LAB_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
OUTLOOK_RESOURCE = "https://outlook.office.com"

_OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})

Style = Literal["microsoft", "google"]


def by_style(style: Style, microsoft: str, google: str) -> str:
    """The Microsoft or the Google wording of an answer."""
    return microsoft if style == "microsoft" else google


@dataclass(frozen=True)
class Client:
    """A registered app: its id, optional secret (never repr'd) and allowed scopes."""

    client_id: str
    secret: str | None = field(repr=False)
    allowed: frozenset[str] | None


@dataclass(frozen=True)
class Grant:
    """Who got which scopes through which client (shared by the tokens of one sign-in)."""

    username: str
    client_id: str
    scopes: tuple[str, ...]
    tid: str
    offline: bool


@dataclass
class AccessToken:
    """What an issued access token stands for, and until when."""

    grant: Grant
    style: Style
    exp: int
    expired: bool = False


@dataclass
class DeviceCode:
    """A device code flow in progress (Microsoft style)."""

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
class AuthCode:
    """An authorization code handed to a loopback redirect (PKCE S256), single use."""

    client_id: str
    redirect_uri: str
    challenge: str
    scopes: tuple[str, ...]
    username: str
    offline: bool
    expires_at: float
    used: bool = False


class OAuthError(Exception):
    """An OAuth error answer (HTTP 400 JSON unless ``status`` says otherwise)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        """``error`` is the OAuth error code, ``description`` its human text."""
        super().__init__(error)
        self.error, self.description, self.status = error, description, status


class TokenPolicy(Protocol):
    """What issuing and introspection read from the provider's behaviour controls."""

    access_token_lifetime: int
    revoked: set[str]


def b64url(data: bytes) -> str:
    """Base64url without padding (JWT segments, PKCE S256 challenges)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT (``header.payload.signature``), decoded without verification."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if not isinstance(claims, dict):
        raise ValueError("a JWT payload is a JSON object")
    return claims


def object_id(username: str) -> str:
    """A stable Microsoft-style object id (``oid``) for a lab user."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mxlab:{username}"))


def google_subject(username: str) -> str:
    """A stable Google-style numeric subject (``sub``) for a lab user."""
    return str(int.from_bytes(hashlib.sha256(username.encode()).digest()[:9], "big"))


def access_claims(grant: Grant, now: int, exp: int) -> dict[str, Any]:
    """The claims of a Microsoft-style access token (``aud``, short ``scp``, ``upn``, ...)."""
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
        "oid": object_id(grant.username),
        "uti": secrets.token_urlsafe(16),
        "ver": "1.0",
    }


def id_claims(style: Style, grant: Grant, now: int, exp: int) -> dict[str, Any]:
    """The claims of an OpenID id_token in Microsoft or Google style."""
    if style == "google":
        return {
            "iss": "https://accounts.google.com",
            "azp": grant.client_id,
            "aud": grant.client_id,
            "sub": google_subject(grant.username),
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
        "oid": object_id(grant.username),
        "preferred_username": grant.username,
        "sub": object_id(grant.username),
        "tid": grant.tid,
        "ver": "2.0",
    }


class TokenStore:
    """Issues, signs, remembers, introspects and revokes the provider's tokens.

    ``access`` and ``refresh`` map every token issued so far to what it stands for;
    ``policy`` (the provider) supplies the access token lifetime and the revoked set.
    Not locked itself: the provider calls it under its lock.
    """

    def __init__(self, policy: TokenPolicy) -> None:
        """A store with a fresh random HS256 key and no tokens."""
        self.policy = policy
        self.key = secrets.token_bytes(32)
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, Grant] = {}

    def issue(self, style: Style, grant: Grant, *, refresh: bool) -> dict[str, Any]:
        """A token endpoint success body; a refresh token too when ``refresh``."""
        now, lifetime = int(time.time()), self.policy.access_token_lifetime
        exp = now + lifetime
        if style == "microsoft":
            access = self.jwt(access_claims(grant, now, exp))
        else:
            access = f"ya29.{secrets.token_urlsafe(64)}"
        self.access[access] = AccessToken(grant, style, exp)
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
            self.refresh[token] = grant
            body["refresh_token"] = token
        body["id_token"] = self.jwt(id_claims(style, grant, now, exp))
        return body

    def jwt(self, claims: dict[str, Any]) -> str:
        """``claims`` as a JWT signed HS256 with the lab key."""
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "lab"}).encode())
        signing_input = f"{header}.{b64url(json.dumps(claims).encode())}"
        signature = hmac.new(self.key, signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(signature)}"

    def verify_jwt(self, token: str) -> dict[str, Any]:
        """The claims of a JWT this store signed; ``ValueError`` when the signature is bad."""
        signing_input, _, signature = token.rpartition(".")
        expected = hmac.new(self.key, signing_input.encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(b64url(expected), signature):
            raise ValueError("bad JWT signature")
        return jwt_claims(token)

    def revoke(self, params: dict[str, str]) -> dict[str, Any]:
        """``POST /revoke``: a known refresh or access token joins the revoked set."""
        token = params.get("token", "")
        revoked = self.policy.revoked
        if token in revoked or (token not in self.refresh and token not in self.access):
            raise OAuthError("invalid_token", "Token expired or revoked")
        revoked.add(token)
        return {}

    def introspect(self, params: dict[str, str], authorization: str) -> dict[str, Any]:
        """RFC 7662: the token (form ``token`` or a Bearer header) and whether it is active."""
        token = params.get("token", "")
        if not token and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        access = self.access.get(token)
        if (
            access is None
            or access.expired
            or token in self.policy.revoked
            or time.time() >= access.exp
        ):
            return {"active": False}
        grant = access.grant
        sub = object_id(grant.username) if access.style == "microsoft" else None
        return {
            "active": True,
            "scope": " ".join(grant.scopes),
            "username": grant.username,
            "email": grant.username,
            "sub": sub or google_subject(grant.username),
            "client_id": grant.client_id,
            "exp": access.exp,
            "token_type": "Bearer",
        }
