"""Typed views of what a phase found, read from the facts dict it carries.

A phase keeps its facts as the JSON-ready dict that goes to ``--json`` and to
the history; that schema does not change. These models read it back with
types, tolerantly (a missing or odd value reads as absent, never raises), so
the renderers, the runner and the diagnosis context never index strings.
``Phase`` offers them as accessors (``phase.tls``, ``phase.capabilities``...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _strs(value: object) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(str(item) for item in value)


@dataclass(frozen=True)
class CertificateFacts:
    """The peer certificate as read from its DER bytes (``error`` when unreadable)."""

    subject: str | None = None
    subject_cn: str | None = None
    sans: tuple[str, ...] = ()
    issuer: str | None = None
    issuer_org: str | None = None
    not_before: str | None = None
    not_after: str | None = None
    days_to_expiry: int | None = None
    self_signed: bool = False
    interception_product: str | None = None
    error: str | None = None

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> CertificateFacts:
        """The certificate facts of a ``certificate`` dict."""
        return cls(
            subject=_str(data.get("subject")),
            subject_cn=_str(data.get("subject_cn")),
            sans=_strs(data.get("sans")),
            issuer=_str(data.get("issuer")),
            issuer_org=_str(data.get("issuer_org")),
            not_before=_str(data.get("not_before")),
            not_after=_str(data.get("not_after")),
            days_to_expiry=_int(data.get("days_to_expiry")),
            self_signed=bool(data.get("self_signed")),
            interception_product=_str(data.get("interception_product")) or None,
            error=_str(data.get("error")),
        )

    def to_facts(self) -> dict[str, Any]:
        """The ``certificate`` dict as a phase stores it (``error``: what could not be read)."""
        if self.error is not None and self.subject is None and self.issuer is None:
            return {"error": self.error}
        facts: dict[str, Any] = {
            "subject": self.subject,
            "subject_cn": self.subject_cn,
            "sans": list(self.sans),
            "issuer": self.issuer,
            "issuer_org": self.issuer_org,
            "not_before": self.not_before,
            "not_after": self.not_after,
            "days_to_expiry": self.days_to_expiry,
            "self_signed": self.self_signed,
        }
        if self.interception_product:
            facts["interception_product"] = self.interception_product
        if self.error is not None:
            facts["error"] = self.error
        return facts

    @property
    def names(self) -> tuple[str, ...]:
        """The names it is valid for: its SANs, else its common name."""
        return self.sans or (self.subject_cn or "?",)


@dataclass(frozen=True)
class TlsFacts:
    """A TLS phase: protocol version, cipher, certificate and whether it was verified."""

    version: str | None = None
    cipher: str | None = None
    bits: int | None = None
    certificate: CertificateFacts | None = None
    verified: bool | None = None
    verify_error: str | None = None
    verify_code: int | None = None

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> TlsFacts:
        """The TLS facts of a phase's facts dict."""
        cert = data.get("certificate")
        return cls(
            version=_str(data.get("version")),
            cipher=_str(data.get("cipher")),
            bits=_int(data.get("bits")),
            certificate=CertificateFacts.read(cert) if isinstance(cert, Mapping) else None,
            verified=_bool(data.get("verified")),
            verify_error=_str(data.get("verify_error")),
            verify_code=_int(data.get("verify_code")),
        )


@dataclass(frozen=True)
class CapabilityFacts:
    """What the server advertised: keywords, AUTH mechanisms, STARTTLS, LOGINDISABLED."""

    keywords: tuple[str, ...] = ()
    auth_mechanisms: tuple[str, ...] = ()
    starttls: bool = False
    login_disabled: bool = False

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> CapabilityFacts:
        """The capabilities of a phase's facts dict."""
        return cls(
            keywords=_strs(data.get("keywords")),
            auth_mechanisms=_strs(data.get("auth_mechanisms")),
            starttls=bool(data.get("starttls")),
            login_disabled=bool(data.get("login_disabled")),
        )

    def to_facts(self) -> dict[str, Any]:
        """The capabilities as phase facts."""
        return {
            "keywords": list(self.keywords),
            "auth_mechanisms": list(self.auth_mechanisms),
            "starttls": self.starttls,
            "login_disabled": self.login_disabled,
        }


@dataclass(frozen=True)
class TokenFacts:
    """What an XOAUTH2 access token says of itself (its claims, never the token)."""

    audience: str | None = None
    scopes: str = ""
    user: str | None = None
    tenant: str | None = None
    app_id: str | None = None
    expires: str | None = None

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> TokenFacts:
        """The claims of a ``token`` dict."""
        return cls(
            audience=_str(data.get("audience")),
            scopes=_str(data.get("scopes")) or "",
            user=_str(data.get("user")),
            tenant=_str(data.get("tenant")),
            app_id=_str(data.get("app_id")),
            expires=_str(data.get("expires")),
        )

    def to_facts(self) -> dict[str, str]:
        """The ``token`` dict as a phase stores it (absent claims left out)."""
        facts: dict[str, str] = {}
        if self.audience:
            facts["audience"] = self.audience
        facts["scopes"] = self.scopes
        if self.user:
            facts["user"] = self.user
        if self.tenant:
            facts["tenant"] = self.tenant
        if self.app_id:
            facts["app_id"] = self.app_id
        if self.expires:
            facts["expires"] = self.expires
        return facts

    def rows(self) -> list[tuple[str, str]]:
        """The claims to show, as (name, value) in their stored order."""
        return list(self.to_facts().items())


@dataclass(frozen=True)
class TokenProblem:
    """One thing the claims show the server will not accept (``kind`` is stable)."""

    kind: str
    message: str

    @classmethod
    def read(cls, data: object) -> TokenProblem:
        """A problem from its dict (or, from a plain string, a problem without a kind)."""
        if isinstance(data, Mapping):
            return cls(_str(data.get("kind")) or "", _str(data.get("message")) or "")
        return cls("", str(data))

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready view."""
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class AuthFacts:
    """A login: who, with which mechanism, the reply, and an OAuth token's claims."""

    username: str | None = None
    mechanism: str | None = None
    reply: str | None = None
    token: TokenFacts | None = None
    token_problems: tuple[TokenProblem, ...] = ()
    server_kind: str | None = None

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> AuthFacts:
        """The login facts of a phase's facts dict."""
        token = data.get("token")
        problems = data.get("token_problems")
        return cls(
            username=_str(data.get("username")),
            mechanism=_str(data.get("mechanism")),
            reply=_str(data.get("reply")),
            token=TokenFacts.read(token) if isinstance(token, Mapping) and token else None,
            token_problems=tuple(
                TokenProblem.read(p) for p in (problems if isinstance(problems, list) else [])
            ),
            server_kind=_str(data.get("server_kind")),
        )


@dataclass(frozen=True)
class ResolveFacts:
    """The addresses a host name resolved to and the one used."""

    addresses: tuple[str, ...] = ()
    used: str | None = None

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> ResolveFacts:
        """The resolve facts of a phase's facts dict."""
        return cls(addresses=_strs(data.get("addresses")), used=_str(data.get("used")))


@dataclass(frozen=True)
class EndpointFacts:
    """Both ends of a TCP connection, as ``address:port``."""

    peer: str | None = None
    local: str | None = None

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> EndpointFacts:
        """The connect facts of a phase's facts dict."""
        return cls(peer=_str(data.get("peer")), local=_str(data.get("local")))


@dataclass(frozen=True)
class GreetingFacts:
    """The server's banner (and, for SMTP, its reply code)."""

    banner: str | None = None
    code: int | None = None

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> GreetingFacts:
        """The greeting facts of a phase's facts dict."""
        return cls(banner=_str(data.get("banner")), code=_int(data.get("code")))


@dataclass(frozen=True)
class InboxFacts:
    """The mailbox looked at and how many messages it holds."""

    mailbox: str | None = None
    messages: int | None = None

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> InboxFacts:
        """The inbox facts of a phase's facts dict."""
        return cls(mailbox=_str(data.get("mailbox")), messages=_int(data.get("messages")))


@dataclass(frozen=True)
class DetectFacts:
    """The security mode tried, the one the port really speaks, and the first attempt."""

    tried: str | None = None
    detected: str | None = None
    first_attempt: tuple[str, ...] = ()

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> DetectFacts:
        """The detect facts of a phase's facts dict."""
        return cls(
            tried=_str(data.get("tried")),
            detected=_str(data.get("detected")) or None,
            first_attempt=_strs(data.get("first_attempt")),
        )


def reply_of(facts: Mapping[str, Any]) -> str | None:
    """The server reply that a phase (or its failure) recorded, if any."""
    return _str(facts.get("reply"))
