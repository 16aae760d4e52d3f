"""What an access token says about itself, read WITHOUT verifying it, and what looks wrong.

Microsoft access tokens for ``outlook.office.com`` are JWTs (``header.payload.signature``,
base64url): their claims name the audience, the scopes, the user, the tenant and the expiry.
Google's ``ya29.`` tokens are opaque: nothing to read. The claims are only a diagnostic
hint (the signature is never checked: the mail server does that); the token itself is
never kept, logged or put into a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from probes.mail.channel import PhaseFailed
from probes.mail.facts import TokenFacts, TokenProblem, reply_of
from probes.mail.model import Credentials, Protocol
from probes.oauth.endpoints import short_scope
from probes.oauth.tokens import jwt_payload

MICROSOFT_AUDIENCES = frozenset(
    {
        "https://outlook.office.com",
        "https://outlook.office365.com",
        "00000002-0000-0ff1-ce00-000000000000",
    }
)
"""Audiences Exchange Online accepts for IMAP and SMTP AUTH (lower case, no trailing slash)."""

REQUIRED_SCOPES: dict[Protocol, tuple[str, ...]] = {
    Protocol.IMAP: ("IMAP.AccessAsUser.All", "IMAP.AccessAsApp"),
    Protocol.SMTP: ("SMTP.Send", "SMTP.SendAsApp"),
}
"""Per protocol: the delegated scope first, then the app-only role that also works."""

_MICROSOFT_ISSUERS = ("sts.windows.net", "login.microsoftonline", "login.windows.net")
_IMAP_SERVER_VERDICTS = (
    "[UNAVAILABLE]",
    "[LIMIT]",
    "[INUSE]",
    "[SERVERBUG]",
    "FOR IMAP",
    "IMAP ACCESS",
)
"""IMAP refusals that say why themselves: the token's claims do not override them."""

VALID_TOKEN_REFUSED = "oauth.valid_token_refused"
"""The kind of an XOAUTH2 refusal whose (Microsoft) token shows nothing wrong."""
_LOOKS_RIGHT = (
    "the access token looks right (audience, scope, user and expiry) but the server refused it"
)


@dataclass(frozen=True)
class TokenClaims:
    """The readable claims of an access token (never the token itself)."""

    audience: str | None = None
    scopes: tuple[str, ...] = ()
    user: str | None = None
    tenant: str | None = None
    app_id: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    issuer: str | None = None

    @property
    def microsoft(self) -> bool:
        """True when Microsoft's identity platform issued it (a tenant id or its issuer)."""
        issuer = (self.issuer or "").lower()
        return self.tenant is not None or any(name in issuer for name in _MICROSOFT_ISSUERS)

    def has_scope(self, name: str) -> bool:
        """True when ``name`` is among the scopes (case-insensitive)."""
        return name.lower() in {scope.lower() for scope in self.scopes}

    def facts(self) -> TokenFacts:
        """The non-secret claims a phase keeps: audience, scopes, user, tenant, app, expiry."""
        return TokenFacts(
            audience=self.audience,
            scopes=" ".join(self.scopes),
            user=self.user,
            tenant=self.tenant,
            app_id=self.app_id,
            expires=self.expires_at.isoformat() if self.expires_at is not None else None,
        )

    def summary(self) -> dict[str, str]:
        """Non-secret facts for a probe phase: audience, scopes, user, tenant, app, expiry."""
        return self.facts().to_facts()


def read_claims(token: str) -> TokenClaims | None:
    """The claims of a JWT access token; None when it is opaque or not a readable JWT.

    Never raises, whatever the input; nothing of the token is kept.
    """
    try:
        payload = jwt_payload(token)
        if payload is None:
            return None
        return TokenClaims(
            audience=_audience(payload.get("aud")),
            scopes=_scopes(payload),
            user=_first_text(payload, "upn", "preferred_username", "unique_name", "email"),
            tenant=_first_text(payload, "tid"),
            app_id=_first_text(payload, "appid", "azp"),
            issued_at=_time(payload.get("iat")),
            expires_at=_time(payload.get("exp")),
            issuer=_first_text(payload, "iss"),
        )
    except (ValueError, TypeError, UnicodeError, RecursionError):
        return None


def token_problems(
    claims: TokenClaims, protocol: Protocol, user: str, now: datetime
) -> list[TokenProblem]:
    """What the claims show is wrong for logging in as ``user`` over ``protocol``.

    The most specific first: a token for another resource, without the mail scope or for
    another user needs a new sign-in (which also gives a fresh token), so those come
    before expiry, which a refresh alone fixes. Audience and scope are checked only for
    Microsoft tokens.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    problems: list[TokenProblem] = []
    audience = claims.audience
    if claims.microsoft and audience and _normal_audience(audience) not in MICROSOFT_AUDIENCES:
        problems.append(
            TokenProblem(
                "oauth.wrong_audience",
                f"the access token is for {audience}, not for Exchange Online "
                "(https://outlook.office.com): request the scopes "
                "https://outlook.office.com/IMAP.AccessAsUser.All and "
                "https://outlook.office.com/SMTP.Send",
            )
        )
    if claims.microsoft:
        wanted = REQUIRED_SCOPES[protocol]
        if not any(claims.has_scope(name) for name in wanted):
            held = " ".join(claims.scopes) or "none"
            problems.append(
                TokenProblem(
                    "oauth.wrong_scope",
                    f"the access token lacks the {wanted[0]} permission that "
                    f"{protocol.value.upper()} needs (it has: {held})",
                )
            )
    if claims.user and user and claims.user.strip().lower() != user.strip().lower():
        problems.append(
            TokenProblem(
                "oauth.user_mismatch",
                f"the access token belongs to {claims.user}, but the login is {user}: "
                "sign in as the mailbox that logs in",
            )
        )
    if claims.expires_at is not None and claims.expires_at <= now:
        problems.append(
            TokenProblem(
                "oauth.token_expired",
                f"the access token expired at {claims.expires_at.isoformat()}: "
                "refresh it (or sign in again)",
            )
        )
    return problems


def token_facts(credentials: Credentials) -> dict[str, Any]:
    """``{"token": summary}`` for an XOAUTH2 login whose access token is readable, else ``{}``."""
    claims = read_claims(credentials.secret)
    return {"token": claims.summary()} if claims is not None else {}


def refine_refusal(
    failure: PhaseFailed,
    credentials: Credentials,
    protocol: Protocol,
    now: datetime | None = None,
) -> PhaseFailed:
    """An XOAUTH2 refusal named after what the token shows, the server's reply kept.

    The kind becomes the first of :func:`token_problems` (``oauth.token_expired``...), or
    ``oauth.valid_token_refused`` when a Microsoft token shows nothing wrong. A reply that
    names its own reason wins over the claims: SMTP ``5.7.139`` (SMTP AUTH disabled for the
    mailbox or tenant, security defaults, Conditional Access), anything but ``535``, an IMAP
    ``BAD`` or a response code such as ``[UNAVAILABLE]``; then only facts are added. The
    reply's code, enhanced code and text stay in the phase (summary and facts).
    """
    claims = read_claims(credentials.secret)
    if claims is None:
        return failure
    facts = {**failure.facts, "token": claims.summary()}
    problems = token_problems(claims, protocol, credentials.username, now or datetime.now(UTC))
    if problems:
        facts["token_problems"] = [problem.to_dict() for problem in problems]
    kind, said = failure.kind, ""
    if not _server_says_why(failure, protocol) and (problems or claims.microsoft):
        facts["server_kind"] = failure.kind
        kind = problems[0].kind if problems else VALID_TOKEN_REFUSED
        said = "; ".join(p.message for p in problems) if problems else _LOOKS_RIGHT
    summary = f"{said}. Server: {failure.summary}" if said else failure.summary
    return PhaseFailed(kind, summary, code=failure.code, enhanced=failure.enhanced, facts=facts)


def _server_says_why(failure: PhaseFailed, protocol: Protocol) -> bool:
    if protocol is Protocol.SMTP:
        return (
            failure.kind != "auth.rejected" or failure.code != 535 or failure.enhanced == "5.7.139"
        )
    reply = (reply_of(failure.facts) or "").upper()
    return (
        failure.kind != "imap.login_failed"
        or not reply.startswith("NO")
        or any(verdict in reply for verdict in _IMAP_SERVER_VERDICTS)
    )


# --- reading ---------------------------------------------------------------------------


def _first_text(payload: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = payload.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:320]
    return None


def _audience(value: Any) -> str | None:
    if isinstance(value, list):
        texts = [v for v in value if isinstance(v, str) and v]
        known = [v for v in texts if _normal_audience(v) in MICROSOFT_AUDIENCES]
        value = (known or texts or [""])[0]
    return value[:320] if isinstance(value, str) and value else None


def _normal_audience(audience: str) -> str:
    return audience.strip().lower().rstrip("/")


def _scopes(payload: dict[str, Any]) -> tuple[str, ...]:
    """Short scope names from ``scp`` (space separated) or ``roles`` (app-only)."""
    found: list[str] = []
    scp = payload.get("scp")
    if isinstance(scp, str):
        found += scp.split()
    elif isinstance(scp, list):
        found += [s for s in scp if isinstance(s, str)]
    roles = payload.get("roles")
    if isinstance(roles, list):
        found += [r for r in roles if isinstance(r, str)]
    short = (short_scope(s) for s in found)
    return tuple(dict.fromkeys(s for s in short if s))[:50]


def _time(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
