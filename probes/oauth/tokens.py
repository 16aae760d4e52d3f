"""Tokens from a token endpoint: the access token (memory only) and the refresh token.

``TokenSet`` keeps every token out of ``repr``/``str``; what may be shown (who signed in,
the scopes, when the access token expires) is in plain fields.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from probes.oauth.endpoints import short_scope
from probes.oauth.errors import OAuthError

REFRESH_MARGIN = timedelta(minutes=5)
MAX_JWT = 32_768  # longer "tokens" are not read at all (Microsoft's are a few KB)


def jwt_payload(token: str) -> dict[str, Any] | None:
    """The payload of a signed JWT, unverified (None for an opaque token, a JWE, or garbage)."""
    if not isinstance(token, str) or len(token) > MAX_JWT:
        return None
    parts = token.strip().split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:  # JWS only (a JWE has five parts)
        return None
    header, payload = _json_part(parts[0]), _json_part(parts[1])
    if header is None or payload is None or "alg" not in header:
        return None
    return payload


def _json_part(part: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _identity(claims: Mapping[str, Any] | None) -> str:
    if not claims:
        return ""
    for key in ("preferred_username", "upn", "email", "unique_name"):
        value = claims.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


@dataclass(frozen=True)
class TokenSet:
    """An answer of a token endpoint, the tokens hidden from ``repr``."""

    access_token: str = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...] = ()
    refresh_token: str | None = field(default=None, repr=False)
    signed_in_as: str = ""
    tenant: str = ""

    def expires_soon(self, now: datetime | None = None, margin: timedelta = REFRESH_MARGIN) -> bool:
        """True when the access token expires within ``margin`` (refresh before use)."""
        return (now or datetime.now(UTC)) + margin >= self.expires_at

    def has_scope(self, scope: str) -> bool:
        """True when ``scope`` was granted (full URI or Microsoft's short name)."""
        wanted = short_scope(scope)
        return any(short_scope(granted) == wanted for granted in self.scopes)


def token_set(body: Mapping[str, Any], now: datetime | None = None) -> TokenSet:
    """A :class:`TokenSet` from a successful token answer (``invalid_response`` if malformed)."""
    access = body.get("access_token")
    if not isinstance(access, str) or not access.strip():
        raise OAuthError("invalid_response", "the token endpoint answered without an access token")
    token_type = str(body.get("token_type", "Bearer"))
    if token_type.lower() != "bearer":
        raise OAuthError("invalid_response", f"unexpected token type {token_type[:40]!r}")
    try:
        lifetime = int(body.get("expires_in", 3600))
    except (TypeError, ValueError, OverflowError):
        raise OAuthError("invalid_response", "expires_in is not a number") from None
    lifetime = max(0, min(lifetime, 7 * 24 * 3600))
    refresh = body.get("refresh_token")
    scope = body.get("scope", "")
    id_claims = jwt_payload(str(body.get("id_token", "")))
    access_claims = jwt_payload(access)
    tenant = (id_claims or {}).get("tid") or (access_claims or {}).get("tid") or ""
    return TokenSet(
        access_token=access.strip(),
        expires_at=(now or datetime.now(UTC)) + timedelta(seconds=lifetime),
        scopes=tuple(str(scope).split()) if isinstance(scope, str) else (),
        refresh_token=refresh.strip() if isinstance(refresh, str) and refresh.strip() else None,
        signed_in_as=_identity(id_claims) or _identity(access_claims),
        tenant=str(tenant),
    )
