"""The mail probe's vocabulary: targets, phases, results and events.

Everything here is plain data (dataclasses and enums) so the engine, the CLI,
the TUI and the workspace can share it, and so results serialise to JSON and
read back: ``X.from_dict(x.to_dict())`` gives ``x`` again (a target keeps its
username, never a secret), and a malformed stored result raises
:class:`probes.stored.StoredResultError`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from probes.diagnosis.model import Diagnosis
from probes.mail.bounds import PHASE_FACTOR, PROBE_FACTOR
from probes.mail.facts import (
    AuthFacts,
    CapabilityFacts,
    DetectFacts,
    EndpointFacts,
    GreetingFacts,
    InboxFacts,
    ResolveFacts,
    TlsFacts,
    reply_of,
)
from probes.status import Status, worst
from probes.stored import (
    StoredResultError,
    choice,
    flag,
    integer,
    items,
    number,
    optional_integer,
    optional_text,
    record,
    text,
    texts,
)


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
    """Per-step time limits in seconds; every network step has one.

    Besides each step's own limit, a phase's replies end within
    ``phase_deadline`` and the whole probe within ``probe_deadline``
    (see :mod:`probes.mail.bounds`).
    """

    resolve: float = 5.0
    connect: float = 8.0
    tls: float = 8.0
    reply: float = 10.0
    detect: float = 4.0

    @property
    def step(self) -> float:
        """The longest step timeout (``--timeout`` sets them all)."""
        return max(self.resolve, self.connect, self.tls, self.reply)

    @property
    def phase_deadline(self) -> float:
        """Seconds within which everything the server says in one phase must be complete."""
        return PHASE_FACTOR * self.step

    @property
    def probe_deadline(self) -> float:
        """Seconds within which the whole probe ends, whatever the server does."""
        return PROBE_FACTOR * self.step


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

    @property
    def username(self) -> str | None:
        """The login name, if the target logs in."""
        return self.credentials.username if self.credentials else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the target: the username, never the secret."""
        return {
            "host": self.host,
            "port": self.port,
            "protocol": self.protocol.value,
            "security": self.security.value,
            "username": self.username,
        }

    @classmethod
    def from_dict(cls, data: object) -> Target:
        """The target ``to_dict`` wrote; its credentials hold the username and no secret."""
        found = record(data, "target")
        username = optional_text(found, "username", "target")
        return cls(
            host=text(found, "host", "target"),
            port=integer(found, "port", "target"),
            protocol=choice(Protocol, found.get("protocol"), "target.protocol"),
            security=choice(Security, found.get("security", "auto"), "target.security"),
            credentials=Credentials(username, "") if username is not None else None,
        )


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

    def _facts_of(self, name: PhaseName) -> dict[str, Any] | None:
        return self.facts if self.name is name else None

    @property
    def resolved(self) -> ResolveFacts | None:
        """A resolve phase's addresses (None for any other phase)."""
        facts = self._facts_of(PhaseName.RESOLVE)
        return None if facts is None else ResolveFacts.read(facts)

    @property
    def endpoints(self) -> EndpointFacts | None:
        """A connect phase's local and remote addresses (None for any other phase)."""
        facts = self._facts_of(PhaseName.CONNECT)
        return None if facts is None else EndpointFacts.read(facts)

    @property
    def tls(self) -> TlsFacts | None:
        """A TLS phase's version, cipher and certificate (None for any other phase)."""
        facts = self._facts_of(PhaseName.TLS)
        return None if facts is None else TlsFacts.read(facts)

    @property
    def greeting(self) -> GreetingFacts | None:
        """A greeting phase's banner (None for any other phase)."""
        facts = self._facts_of(PhaseName.GREETING)
        return None if facts is None else GreetingFacts.read(facts)

    @property
    def capabilities(self) -> CapabilityFacts | None:
        """A capabilities phase's keywords and mechanisms (None for any other phase)."""
        facts = self._facts_of(PhaseName.CAPABILITIES)
        return None if facts is None else CapabilityFacts.read(facts)

    @property
    def auth(self) -> AuthFacts | None:
        """An auth phase's mechanism, reply and token claims (None for any other phase)."""
        facts = self._facts_of(PhaseName.AUTH)
        return None if facts is None else AuthFacts.read(facts)

    @property
    def inbox(self) -> InboxFacts | None:
        """An inbox phase's mailbox and message count (None for any other phase)."""
        facts = self._facts_of(PhaseName.INBOX)
        return None if facts is None else InboxFacts.read(facts)

    @property
    def detection(self) -> DetectFacts | None:
        """A detect phase's tried and detected modes (None for any other phase)."""
        facts = self._facts_of(PhaseName.DETECT)
        return None if facts is None else DetectFacts.read(facts)

    @property
    def reply(self) -> str | None:
        """The server reply this phase recorded (any phase), if any."""
        return reply_of(self.facts)

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

    @classmethod
    def from_dict(cls, data: object) -> Phase:
        """The phase ``to_dict`` wrote (StoredResultError when it is malformed)."""
        found = record(data, "phase")
        facts = found.get("facts")
        if facts is None:
            facts = {}
        if not isinstance(facts, dict):
            raise StoredResultError("phase.facts: expected an object")
        return cls(
            name=choice(PhaseName, found.get("name"), "phase.name"),
            status=choice(Status, found.get("status", "pass"), "phase.status"),
            duration=number(found, "duration_ms", "phase") / 1000,
            summary=text(found, "summary", "phase", default=""),
            kind=text(found, "kind", "phase", default=""),
            code=optional_integer(found, "code", "phase"),
            enhanced=optional_text(found, "enhanced", "phase"),
            facts=dict(facts),
            transcript=texts(found, "transcript", "phase"),
            label=text(found, "label", "phase", default=""),
        )


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
        return worst(phase.status for phase in self.phases)

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
        return {
            "target": self.target.to_dict(),
            "status": self.status.value,
            "security_used": self.security_used.value if self.security_used else None,
            "verified": self.verified,
            "cancelled": self.cancelled,
            "duration_ms": round(self.duration * 1000, 1),
            "phases": [phase.to_dict() for phase in self.phases],
            "diagnoses": [d.to_dict() for d in self.diagnoses],
        }

    @classmethod
    def from_dict(cls, data: object) -> ProbeResult:
        """The result ``to_dict`` wrote, as stored in the history.

        Unknown keys are ignored (a matrix row's ``role``); ``status`` is not
        read, it follows from the phases. Raises StoredResultError when a
        field is missing or of the wrong type.
        """
        found = record(data, "probe result")
        used = found.get("security_used")
        return cls(
            target=Target.from_dict(found.get("target")),
            phases=[Phase.from_dict(p) for p in items(found, "phases", "probe result")],
            diagnoses=[Diagnosis.from_dict(d) for d in items(found, "diagnoses", "probe result")],
            security_used=None if used is None else choice(Security, used, "security_used"),
            verified=flag(found, "verified", "probe result", default=True),
            cancelled=flag(found, "cancelled", "probe result", default=False),
            duration=number(found, "duration_ms", "probe result") / 1000,
        )


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
