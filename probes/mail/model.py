"""The mail probe's vocabulary: targets, phases, results and events.

Everything here is plain data (dataclasses and enums) so the engine, the CLI,
the TUI and the workspace can share it, and so results serialise to JSON.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from probes.diagnosis.model import Diagnosis
from probes.status import Status


class Protocol(enum.StrEnum):
    """The mail protocol spoken on a target port."""

    SMTP = "smtp"
    IMAP = "imap"


class Security(enum.StrEnum):
    """How a connection is secured.

    ``TLS`` is implicit TLS (SMTP 465, IMAP 993), ``STARTTLS`` is an upgrade
    after the greeting (SMTP 587, IMAP 143), ``NONE`` is plain text and
    ``AUTO`` lets the probe find the mode the port really speaks.
    """

    TLS = "tls"
    STARTTLS = "starttls"
    NONE = "none"
    AUTO = "auto"


class PhaseName(enum.StrEnum):
    """The steps a probe goes through, in order."""

    RESOLVE = "resolve"
    CONNECT = "connect"
    TLS = "tls"
    GREETING = "greeting"
    CAPABILITIES = "capabilities"
    STARTTLS = "starttls"
    AUTH = "auth"
    INBOX = "inbox"
    DETECT = "detect"


class AuthMethod(enum.StrEnum):
    """The SASL mechanism (or IMAP command) used to log in."""

    AUTO = "auto"
    PLAIN = "plain"
    LOGIN = "login"
    XOAUTH2 = "xoauth2"


@dataclass(frozen=True)
class Credentials:
    """A username and its secret (password, app password or OAuth token).

    The secret never appears in ``repr``, so it cannot leak through a log
    line or an exception message that formats this object.
    """

    username: str
    secret: str = field(repr=False)
    method: AuthMethod = AuthMethod.AUTO

    def __str__(self) -> str:
        return f"{self.username} (secret hidden)"


@dataclass(frozen=True)
class Timeouts:
    """Per-step time limits in seconds; every network step has one."""

    resolve: float = 5.0
    connect: float = 8.0
    tls: float = 8.0
    reply: float = 10.0
    detect: float = 4.0


@dataclass(frozen=True)
class Target:
    """One endpoint to probe: host, port, protocol and security mode."""

    host: str
    port: int
    protocol: Protocol
    security: Security = Security.AUTO
    credentials: Credentials | None = None
    check_inbox: bool = False
    mailbox: str = "INBOX"

    @property
    def label(self) -> str:
        """Short human name, e.g. ``smtp smtp.office365.com:587 starttls``."""
        return f"{self.protocol.value} {self.host}:{self.port} {self.security.value}"


@dataclass
class Phase:
    """One step of a probe with what it found.

    ``kind`` names the failure in a stable, machine-readable way (for
    example ``connect.timeout`` or ``tls.wrong_version``); the diagnosis
    catalogue matches on it together with the reply codes.
    """

    name: PhaseName
    status: Status = Status.PASS
    duration: float = 0.0
    summary: str = ""
    kind: str = ""
    code: int | None = None
    enhanced: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    transcript: list[str] = field(default_factory=list)
    label: str = ""

    @property
    def title(self) -> str:
        """The phase name as shown, with its qualifier (``capabilities (after TLS)``)."""
        return f"{self.name.value} ({self.label})" if self.label else self.name.value

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the phase."""
        return {
            "name": self.name.value,
            "label": self.label,
            "status": self.status.value,
            "duration_ms": round(self.duration * 1000, 1),
            "summary": self.summary,
            "kind": self.kind or None,
            "code": self.code,
            "enhanced": self.enhanced,
            "facts": self.facts,
            "transcript": self.transcript,
        }


@dataclass
class ProbeResult:
    """Everything one probe of one target found."""

    target: Target
    phases: list[Phase] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    security_used: Security | None = None
    verified: bool = True
    cancelled: bool = False
    duration: float = 0.0

    @property
    def status(self) -> Status:
        """The worst status among the phases (``skipped`` if none ran)."""
        worst = Status.SKIPPED
        for phase in self.phases:
            if phase.status.rank > worst.rank:
                worst = phase.status
        return worst

    @property
    def failure(self) -> Phase | None:
        """The first phase that failed, if any."""
        return next((p for p in self.phases if p.status is Status.FAIL), None)

    def phase(self, name: PhaseName) -> Phase | None:
        """The last phase of that name, if it ran."""
        found = [p for p in self.phases if p.name is name]
        return found[-1] if found else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the whole result (no secret in it)."""
        creds = self.target.credentials
        return {
            "target": {
                "host": self.target.host,
                "port": self.target.port,
                "protocol": self.target.protocol.value,
                "security": self.target.security.value,
                "username": creds.username if creds else None,
            },
            "status": self.status.value,
            "security_used": self.security_used.value if self.security_used else None,
            "verified": self.verified,
            "cancelled": self.cancelled,
            "duration_ms": round(self.duration * 1000, 1),
            "phases": [phase.to_dict() for phase in self.phases],
            "diagnoses": [d.to_dict() for d in self.diagnoses],
        }


@dataclass(frozen=True)
class PhaseStarted:
    """Event: a probe began a phase."""

    target: Target
    name: PhaseName
    label: str = ""


@dataclass(frozen=True)
class PhaseFinished:
    """Event: a probe finished a phase."""

    target: Target
    phase: Phase


@dataclass(frozen=True)
class ProbeFinished:
    """Event: a probe finished, with its diagnosed result."""

    result: ProbeResult


ProbeEvent = PhaseStarted | PhaseFinished | ProbeFinished
