"""A mailbox account of a migration: who it is, where its servers are, what it does.

An account never holds its secret: the password (or app password, or OAuth
refresh token) lives in the OS keyring under the account's ``uid``
(:mod:`workspace.secrets`). Everything here is plain data that may be stored
in SQLite, shown and exported.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field, replace

from probes.mail.address import parse_host, parse_port
from probes.mail.model import Protocol, Security
from probes.mail.presets import PRESETS, Role
from workspace.accounts.address import address_problem


class Side(enum.StrEnum):
    """Which side of the migration an account is on."""

    SOURCE = "source"  # Gmail / Google Workspace, being left
    TARGET = "target"  # Microsoft 365, being moved to
    SERVICE = "service"  # an application's mailbox (sender, monitoring inbox)


class AccountRole(enum.StrEnum):
    """What an account is used for; each role implies the protocol it needs.

    The seeds' order-tracking system uses one mailbox in three roles: the
    monitoring inbox (IMAP), the sender (SMTP) and the purchase-order inbox
    (IMAP).
    """

    MAILBOX = "mailbox"  # a person's mailbox being migrated: IMAP and SMTP
    MONITORING = "monitoring"  # an application reads confirmations over IMAP
    SENDER = "sender"  # an application sends over SMTP
    ORDER_INBOX = "order-inbox"  # an application reads incoming orders over IMAP
    MIGRATION = "migration"  # read by the Microsoft IMAP migration batch

    @property
    def protocols(self) -> frozenset[Protocol]:
        """The protocols this role needs working."""
        if self is AccountRole.SENDER:
            return frozenset({Protocol.SMTP})
        if self is AccountRole.MAILBOX:
            return frozenset({Protocol.IMAP, Protocol.SMTP})
        return frozenset({Protocol.IMAP})


class AuthKind(enum.StrEnum):
    """How the account logs in."""

    PASSWORD = "password"
    APP_PASSWORD = "app-password"
    OAUTH = "oauth"


PROVIDERS: tuple[str, ...] = tuple(PRESETS)
GOOGLE_PROVIDERS = frozenset({"gmail", "google-workspace"})
MICROSOFT_PROVIDERS = frozenset({"office365", "microsoft365"})
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_NOTES = 4000


_NOT_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def account_name(address: str) -> str:
    """An account name from an address's local part (ASCII letters, digits, ``. _ -``)."""
    local = address.rpartition("@")[0] or address
    folded = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_NAME.sub("-", folded).strip("._-")[:64]
    return slug if NAME.match(slug) else "account"


def unique_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is free (case-insensitively); taken."""
    candidate = base
    number = 2
    while candidate.lower() in taken:
        suffix = f"-{number}"
        candidate = base[: 64 - len(suffix)] + suffix
        number += 1
    taken.add(candidate.lower())
    return candidate


class AccountError(ValueError):
    """An account that cannot be stored, with one message per bad field."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{name}: {text}" for name, text in problems.items()))


@dataclass(frozen=True)
class MailEndpoint:
    """Where one protocol of an account is served."""

    host: str
    port: int
    security: Security

    @property
    def label(self) -> str:
        """``host:port security``."""
        return f"{self.host}:{self.port} {self.security.value}"


@dataclass(frozen=True)
class Account:
    """One mailbox of the migration (never its secret)."""

    name: str
    address: str
    side: Side = Side.TARGET
    provider: str = "custom"
    roles: tuple[AccountRole, ...] = (AccountRole.MAILBOX,)
    imap: MailEndpoint | None = None
    smtp: MailEndpoint | None = None
    username: str = ""
    auth: AuthKind = AuthKind.PASSWORD
    notes: str = ""
    uid: str = ""
    revision: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def login(self) -> str:
        """The username to log in with (the address when none is set)."""
        return self.username or self.address

    @property
    def domain(self) -> str:
        """The domain part of the address."""
        return self.address.rpartition("@")[2].lower()

    def endpoint(self, protocol: Protocol) -> MailEndpoint | None:
        """The IMAP or SMTP endpoint."""
        return self.imap if protocol is Protocol.IMAP else self.smtp

    @property
    def protocols(self) -> frozenset[Protocol]:
        """The protocols the roles need."""
        needed: frozenset[Protocol] = frozenset()
        for role in self.roles:
            needed |= role.protocols
        return needed


def default_port(protocol: Protocol, security: Security) -> int:
    """The usual port of IMAP / SMTP with implicit TLS (993 / 465), else STARTTLS (143 / 587)."""
    if protocol is Protocol.IMAP:
        return 993 if security is Security.TLS else 143
    return 465 if security is Security.TLS else 587


def preset_endpoints(provider: str) -> tuple[MailEndpoint | None, MailEndpoint | None]:
    """The IMAP (993) and SMTP (587) endpoints a provider preset names."""
    chosen = PRESETS.get(provider)
    if chosen is None:
        return None, None
    imap = smtp = None
    for endpoint in chosen.endpoints:
        if not endpoint.host:  # the custom preset names roles, not servers
            continue
        if endpoint.role is Role.IMAPS:
            imap = MailEndpoint(endpoint.host, endpoint.port, endpoint.security)
        elif endpoint.role is Role.SUBMISSION:
            smtp = MailEndpoint(endpoint.host, endpoint.port, endpoint.security)
    return imap, smtp


def guess_provider(host: str) -> str:
    """The preset whose servers include ``host`` (``custom`` when none does)."""
    host = host.lower().rstrip(".")
    for name, chosen in PRESETS.items():
        if name in ("custom", "google-workspace"):
            continue
        if any(e.host == host for e in chosen.endpoints):
            return name
    return "custom"


def with_preset_endpoints(account: Account) -> Account:
    """Fill missing endpoints the roles need from the provider preset."""
    imap, smtp = preset_endpoints(account.provider)
    needed = account.protocols
    return replace(
        account,
        imap=account.imap or (imap if Protocol.IMAP in needed else None),
        smtp=account.smtp or (smtp if Protocol.SMTP in needed else None),
    )


def _check_endpoint(
    endpoint: MailEndpoint | None, key: str, problems: dict[str, str]
) -> MailEndpoint | None:
    if endpoint is None:
        return None
    try:
        host = parse_host(endpoint.host)
    except ValueError as exc:
        problems[f"{key}-host"] = str(exc)
        return None
    try:
        port = parse_port(endpoint.port)
    except ValueError as exc:
        problems[f"{key}-port"] = str(exc)
        return None
    if endpoint.security is Security.AUTO:
        problems[f"{key}-security"] = "choose tls, starttls or none (auto is for probes only)"
    return MailEndpoint(host, port, endpoint.security)


def validate(account: Account) -> Account:
    """The account cleaned up (trimmed names and hosts), or :class:`AccountError`."""
    problems: dict[str, str] = {}
    name = account.name.strip()
    if not NAME.match(name):
        problems["name"] = (
            "1-64 characters: letters, digits, dot, dash, underscore; starting with a letter "
            "or digit"
        )
    address = account.address.strip()
    wrong = address_problem(address)
    if wrong is not None:
        problems["address"] = f"{address!r} is not an e-mail address: {wrong}"
    if account.provider not in PROVIDERS:
        problems["provider"] = (
            f"unknown provider {account.provider!r}; one of {', '.join(PROVIDERS)}"
        )
    if not account.roles:
        problems["roles"] = "give at least one role: " + ", ".join(r.value for r in AccountRole)
    username = account.username.strip()
    if any(ch.isspace() for ch in username):
        problems["username"] = "a username has no spaces (usually it is the full address)"
    if len(account.notes) > MAX_NOTES:
        problems["notes"] = f"at most {MAX_NOTES} characters"
    imap = _check_endpoint(account.imap, "imap", problems)
    smtp = _check_endpoint(account.smtp, "smtp", problems)
    for protocol in account.protocols:
        if account.endpoint(protocol) is None and f"{protocol.value}-host" not in problems:
            roles = ", ".join(r.value for r in account.roles if protocol in r.protocols)
            problems[f"{protocol.value}-host"] = (
                f"the role {roles} needs an {protocol.value.upper()} server: give its host, "
                "or a provider preset"
            )
    if problems:
        raise AccountError(problems)
    unique_roles = tuple(dict.fromkeys(account.roles))
    return replace(
        account,
        name=name,
        address=address,
        username=username,
        roles=unique_roles,
        imap=imap,
        smtp=smtp,
    )
