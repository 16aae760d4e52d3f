"""Provider presets: the hosts, ports and security modes each provider serves.

Hosts and ports come from the seeds and the providers' documentation. Every
endpoint has a *role* (``submission`` for 587, ``smtps`` for 465, ...) so the
matrix conclusions reason about roles, not literal port numbers; the lab maps
roles to its own loopback ports.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from probes.mail.model import Credentials, Protocol, Security, Target


class Role(enum.StrEnum):
    """What a port is for."""

    SUBMISSION = "submission"  # SMTP 587, STARTTLS
    SMTPS = "smtps"  # SMTP 465, implicit TLS
    RELAY = "relay"  # SMTP 25
    IMAPS = "imaps"  # IMAP 993, implicit TLS
    IMAP = "imap"  # IMAP 143, STARTTLS


ROLE_DEFAULTS: dict[Role, tuple[Protocol, int, Security]] = {
    Role.SUBMISSION: (Protocol.SMTP, 587, Security.STARTTLS),
    Role.SMTPS: (Protocol.SMTP, 465, Security.TLS),
    Role.RELAY: (Protocol.SMTP, 25, Security.STARTTLS),
    Role.IMAPS: (Protocol.IMAP, 993, Security.TLS),
    Role.IMAP: (Protocol.IMAP, 143, Security.STARTTLS),
}


@dataclass(frozen=True)
class Endpoint:
    """One (role, host, port, protocol, security) a preset expects to work."""

    role: Role
    host: str
    port: int
    protocol: Protocol
    security: Security
    note: str = ""

    def target(self, credentials: Credentials | None, check_inbox: bool = False) -> Target:
        """The probe target for this endpoint (credentials only where they make sense)."""
        creds = None if self.role is Role.RELAY else credentials
        return Target(
            host=self.host,
            port=self.port,
            protocol=self.protocol,
            security=self.security,
            credentials=creds,
            check_inbox=check_inbox and self.protocol is Protocol.IMAP and creds is not None,
        )


def _endpoint(role: Role, host: str, note: str = "") -> Endpoint:
    protocol, port, security = ROLE_DEFAULTS[role]
    return Endpoint(role, host, port, protocol, security, note)


@dataclass(frozen=True)
class Preset:
    """A provider's endpoints, as a user picks them by name."""

    name: str
    title: str
    endpoints: tuple[Endpoint, ...]

    def with_host(self, smtp_host: str, imap_host: str | None = None) -> Preset:
        """The same roles on other hosts (a custom server, or the lab)."""
        endpoints = tuple(
            replace(e, host=smtp_host if e.protocol is Protocol.SMTP else imap_host or smtp_host)
            for e in self.endpoints
        )
        return replace(self, endpoints=endpoints)

    def with_ports(self, ports: dict[Role, int]) -> Preset:
        """The same roles on other ports (the lab's loopback ports)."""
        endpoints = tuple(replace(e, port=ports[e.role]) for e in self.endpoints if e.role in ports)
        return replace(self, endpoints=endpoints)


def _all_roles(smtp: str, imap: str) -> tuple[Endpoint, ...]:
    return (
        _endpoint(Role.SUBMISSION, smtp),
        _endpoint(Role.SMTPS, smtp),
        _endpoint(Role.RELAY, smtp, "port 25 is for server-to-server mail; ISPs often block it"),
        _endpoint(Role.IMAPS, imap),
        _endpoint(Role.IMAP, imap),
    )


PRESETS: dict[str, Preset] = {
    "gmail": Preset("gmail", "Gmail", _all_roles("smtp.gmail.com", "imap.gmail.com")),
    "google-workspace": Preset(
        "google-workspace",
        "Google Workspace",
        _all_roles("smtp.gmail.com", "imap.gmail.com"),
    ),
    "office365": Preset(
        "office365",
        "Microsoft 365 (Exchange Online)",
        (
            _endpoint(Role.SUBMISSION, "smtp.office365.com"),
            _endpoint(
                Role.SMTPS,
                "smtp.office365.com",
                "Microsoft 365 does not offer implicit TLS on 465 for client submission",
            ),
            _endpoint(Role.RELAY, "smtp.office365.com"),
            _endpoint(Role.IMAPS, "outlook.office365.com"),
            _endpoint(Role.IMAP, "outlook.office365.com"),
        ),
    ),
    "outlook": Preset(
        "outlook",
        "Outlook.com / Hotmail",
        (
            _endpoint(Role.SUBMISSION, "smtp-mail.outlook.com"),
            _endpoint(Role.IMAPS, "outlook.office365.com"),
            _endpoint(Role.IMAP, "outlook.office365.com"),
        ),
    ),
    "yahoo": Preset(
        "yahoo",
        "Yahoo Mail",
        (
            _endpoint(Role.SUBMISSION, "smtp.mail.yahoo.com"),
            _endpoint(Role.SMTPS, "smtp.mail.yahoo.com"),
            _endpoint(Role.IMAPS, "imap.mail.yahoo.com"),
        ),
    ),
    "custom": Preset("custom", "Custom server", _all_roles("", "")),
}
PRESETS["microsoft365"] = replace(PRESETS["office365"], name="microsoft365")


def preset(name: str) -> Preset:
    """The preset of that name (case-insensitive); KeyError lists the known ones."""
    key = name.strip().lower()
    if key not in PRESETS:
        known = ", ".join(sorted(PRESETS))
        raise KeyError(f"unknown preset {name!r}; known presets: {known}")
    return PRESETS[key]
