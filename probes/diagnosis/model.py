"""A diagnosed failure and its fixes: what the catalogue and ``explain`` produce."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from probes.status import Status
from probes.stored import choice, items, optional_text, record, text


@dataclass(frozen=True)
class Fix:
    """One way to resolve a diagnosed failure."""

    text: str
    command: str | None = None
    shell: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the fix."""
        return {"text": self.text, "command": self.command, "shell": self.shell}

    @classmethod
    def from_dict(cls, data: object) -> Fix:
        """The fix ``to_dict`` wrote (StoredResultError when it is malformed)."""
        found = record(data, "fix")
        return cls(
            text=text(found, "text", "fix"),
            command=optional_text(found, "command", "fix"),
            shell=optional_text(found, "shell", "fix"),
        )


@dataclass(frozen=True)
class Diagnosis:
    """A recognised failure: what it is, why it happens and how to fix it."""

    id: str
    title: str
    cause: str
    fixes: tuple[Fix, ...] = ()
    evidence: str = ""
    severity: Status = Status.FAIL

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the diagnosis."""
        return {
            "id": self.id,
            "title": self.title,
            "cause": self.cause,
            "evidence": self.evidence,
            "severity": self.severity.value,
            "fixes": [fix.to_dict() for fix in self.fixes],
        }

    @classmethod
    def from_dict(cls, data: object) -> Diagnosis:
        """The diagnosis ``to_dict`` wrote (StoredResultError when it is malformed)."""
        found = record(data, "diagnosis")
        return cls(
            id=text(found, "id", "diagnosis"),
            title=text(found, "title", "diagnosis", default=""),
            cause=text(found, "cause", "diagnosis", default=""),
            fixes=tuple(Fix.from_dict(fix) for fix in items(found, "fixes", "diagnosis")),
            evidence=text(found, "evidence", "diagnosis", default=""),
            severity=choice(Status, found.get("severity", "fail"), "diagnosis.severity"),
        )
