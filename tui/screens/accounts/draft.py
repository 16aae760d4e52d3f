"""What the account form holds, as plain text, and the account it would store (no textual)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from probes.mail.address import parse_port
from probes.mail.model import Protocol, Security
from workspace.accounts.model import (
    Account,
    AccountError,
    AccountRole,
    AuthKind,
    MailEndpoint,
    Side,
    default_port,
    preset_endpoints,
    validate,
    with_preset_endpoints,
)

# The provider a side usually has: picked for the user when the side changes.
SIDE_PROVIDER = {Side.SOURCE: "google-workspace", Side.TARGET: "office365"}


def security_of_port(protocol: str, port: int) -> str | None:
    """The security a well-known port implies (None for other ports)."""
    known = {"imap": {993: "tls", 143: "starttls"}, "smtp": {465: "tls", 587: "starttls"}}
    return known[protocol].get(port)


@dataclass(frozen=True)
class EndpointDraft:
    """An IMAP or SMTP server as typed: an empty host means none (or the provider preset)."""

    host: str = ""
    port: str = ""
    security: str = "tls"

    @classmethod
    def of(cls, endpoint: MailEndpoint | None, protocol: str) -> EndpointDraft:
        """The fields showing ``endpoint``."""
        if endpoint is None:
            return cls(security="tls" if protocol == "imap" else "starttls")
        return cls(endpoint.host, str(endpoint.port), endpoint.security.value)


@dataclass(frozen=True)
class AccountDraft:
    """Every field of the form as typed (never the password: it is not account data)."""

    name: str = ""
    address: str = ""
    side: Side = Side.TARGET
    provider: str = "office365"
    roles: tuple[AccountRole, ...] = (AccountRole.MAILBOX,)
    username: str = ""
    auth: AuthKind = AuthKind.PASSWORD
    notes: str = ""
    imap: EndpointDraft = field(default_factory=lambda: EndpointDraft.of(None, "imap"))
    smtp: EndpointDraft = field(default_factory=lambda: EndpointDraft.of(None, "smtp"))

    @classmethod
    def of(cls, account: Account) -> AccountDraft:
        """The form's fields for an existing account."""
        return cls(
            name=account.name,
            address=account.address,
            side=account.side,
            provider=account.provider,
            roles=account.roles,
            username=account.username,
            auth=account.auth,
            notes=account.notes,
            imap=EndpointDraft.of(account.imap, "imap"),
            smtp=EndpointDraft.of(account.smtp, "smtp"),
        )

    def build(self, base: Account | None = None) -> tuple[Account | None, dict[str, str]]:
        """The validated account (``base`` keeps uid, revision, extra) or None and problems.

        Problems are keyed like :class:`AccountError` (``name``, ``imap-port``...).
        An empty host falls back to the provider preset when a role needs it.
        """
        problems: dict[str, str] = {}
        account = replace(
            base or Account(name="", address=""),
            name=self.name,
            address=self.address,
            side=self.side,
            provider=self.provider,
            roles=self.roles,
            username=self.username,
            auth=self.auth,
            notes=self.notes,
            imap=_endpoint(self.imap, "imap", problems),
            smtp=_endpoint(self.smtp, "smtp", problems),
        )
        account = with_preset_endpoints(account)
        try:
            cleaned = validate(account)
        except AccountError as exc:
            for key, text in exc.problems.items():
                problems.setdefault(key, text)
            return None, problems
        return (None, problems) if problems else (cleaned, {})


def _endpoint(draft: EndpointDraft, protocol: str, problems: dict[str, str]) -> MailEndpoint | None:
    host = draft.host.strip()
    port_text = draft.port.strip()
    if not host:
        if port_text:
            try:
                parse_port(port_text)
            except ValueError as exc:
                problems[f"{protocol}-port"] = str(exc)
            else:
                problems[f"{protocol}-host"] = "give the host for this port (or clear the port)"
        return None
    port = default_port(Protocol(protocol), Security(draft.security))
    if port_text:
        try:
            port = parse_port(port_text)
        except ValueError as exc:
            problems[f"{protocol}-port"] = str(exc)
    return MailEndpoint(host, port, Security(draft.security))


def preset_hint(provider: str, roles: tuple[AccountRole, ...], protocol: str) -> str:
    """The placeholder of an empty host: the preset server used, or why none is needed."""
    needed = any(protocol in {p.value for p in role.protocols} for role in roles)
    if not needed:
        return "none (the roles do not need it)"
    imap, smtp = preset_endpoints(provider)
    preset = imap if protocol == "imap" else smtp
    if preset is None:
        return "host (required by the roles)"
    return f"{preset.host} (preset)"
