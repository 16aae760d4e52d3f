"""A diagnosed failure and its fixes: what the catalogue and ``explain`` produce."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from probes.status import Status


@dataclass(frozen=True)
class Fix:
    """One way to resolve a diagnosed failure."""

    text: str
    command: str | None = None
    shell: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the fix."""
        return {"text": self.text, "command": self.command, "shell": self.shell}


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
