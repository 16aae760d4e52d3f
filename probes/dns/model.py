"""The vocabulary of the DNS audit: lookups, checks, and the record changes to make.

A lookup that failed (SERVFAIL, timeout) is never a record that is missing:
``Lookup.status`` keeps the two apart everywhere, and a check built on a
failed lookup says "could not check", not "absent".
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from probes.dns import stored
from probes.status import Status, worst


class LookupStatus(enum.StrEnum):
    """How a DNS question was answered."""

    OK = "ok"  # records found
    NXDOMAIN = "nxdomain"  # the name does not exist
    NODATA = "nodata"  # the name exists, no record of this type
    SERVFAIL = "servfail"  # the server failed (DNSSEC, broken delegation)
    TIMEOUT = "timeout"  # no answer in time
    ERROR = "error"  # anything else (refused, malformed)

    @property
    def answered(self) -> bool:
        """True when the DNS gave a definite answer (records, NXDOMAIN or NODATA)."""
        return self in (LookupStatus.OK, LookupStatus.NXDOMAIN, LookupStatus.NODATA)


@dataclass(frozen=True)
class Lookup:
    """One question and its answer: records as zone-file text, TXT strings joined."""

    name: str
    rtype: str
    status: LookupStatus
    records: tuple[str, ...] = ()
    ttl: int | None = None
    server: str = ""
    detail: str = ""

    @property
    def failed(self) -> bool:
        """True when the lookup itself failed (SERVFAIL, timeout, error)."""
        return not self.status.answered

    @property
    def empty(self) -> bool:
        """True when the DNS said definitely that there is no such record."""
        return self.status in (LookupStatus.NXDOMAIN, LookupStatus.NODATA)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "name": self.name,
            "type": self.rtype,
            "status": self.status.value,
            "records": list(self.records),
            "ttl": self.ttl,
            "server": self.server,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lookup:
        """The lookup :meth:`to_dict` wrote; :class:`~probes.dns.stored.StoredAuditError` if not."""
        what = "lookup"
        data = stored.record(data, what)
        return cls(
            name=stored.text(data, "name", what),
            rtype=stored.text(data, "type", what),
            status=stored.choice(data, "status", what, LookupStatus),
            records=tuple(stored.text_list(data, "records", what)),
            ttl=stored.optional_integer(data, "ttl", what),
            server=stored.text(data, "server", what),
            detail=stored.text(data, "detail", what),
        )


LookupFn = Callable[[str, str], Awaitable[Lookup]]
"""``await lookup(name, rtype)``: how the record checks ask the DNS."""


class ChangeAction(enum.StrEnum):
    """What to do with a record."""

    ADD = "add"
    CHANGE = "change"
    REMOVE = "remove"


@dataclass(frozen=True)
class RecordChange:
    """A record to add, change or remove, exactly as it goes into the DNS console."""

    action: ChangeAction
    name: str
    rtype: str
    value: str
    ttl: int = 3600
    current: str | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "action": self.action.value,
            "name": self.name,
            "type": self.rtype,
            "value": self.value,
            "ttl": self.ttl,
            "current": self.current,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordChange:
        """The change :meth:`to_dict` wrote; :class:`~probes.dns.stored.StoredAuditError` if not."""
        what = "change"
        data = stored.record(data, what)
        return cls(
            action=stored.choice(data, "action", what, ChangeAction),
            name=stored.text(data, "name", what),
            rtype=stored.text(data, "type", what),
            value=stored.text(data, "value", what),
            ttl=stored.integer(data, "ttl", what),
            current=stored.optional_text(data, "current", what),
            reason=stored.text(data, "reason", what),
        )


@dataclass
class RecordCheck:
    """The verdict on one record (MX, SPF, a DKIM selector, DMARC, ...)."""

    id: str
    title: str
    status: Status = Status.PASS
    found: list[str] = field(default_factory=list)
    expected: str = ""
    messages: list[str] = field(default_factory=list)
    changes: list[RecordChange] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    lookups: list[Lookup] = field(default_factory=list)
    required: bool = True

    def worsen(self, status: Status, message: str) -> None:
        """Record a finding; the check's status becomes the worst seen."""
        self.status = worst((self.status, status))
        self.messages.append(message)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "required": self.required,
            "found": self.found,
            "expected": self.expected,
            "messages": self.messages,
            "changes": [c.to_dict() for c in self.changes],
            "facts": self.facts,
            "lookups": [lk.to_dict() for lk in self.lookups],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordCheck:
        """The check :meth:`to_dict` wrote; :class:`~probes.dns.stored.StoredAuditError` if not.

        ``facts`` stay the JSON object they were (read them through
        :mod:`probes.dns.findings`).
        """
        data = stored.record(data, "check")
        what = f"check {data.get('id')!r:.40}"
        return cls(
            id=stored.text(data, "id", what),
            title=stored.text(data, "title", what),
            status=stored.choice(data, "status", what, Status),
            found=stored.text_list(data, "found", what),
            expected=stored.text(data, "expected", what),
            messages=stored.text_list(data, "messages", what),
            changes=stored.objects(data, "changes", what, RecordChange.from_dict),
            facts=copy.deepcopy(dict(stored.record(data.get("facts"), f"{what}.facts"))),
            lookups=stored.objects(data, "lookups", what, Lookup.from_dict),
            required=stored.boolean(data, "required", what),
        )
