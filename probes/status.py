"""The one verdict scale shared by every check: pass, warn, fail, skipped."""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Status(enum.StrEnum):
    """The outcome of a phase or a probe."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"

    @property
    def rank(self) -> int:
        """Severity order, so the worst of several statuses can be taken."""
        return {"skipped": 0, "pass": 1, "warn": 2, "fail": 3}[self.value]


def worst(statuses: Iterable[Status], default: Status = Status.SKIPPED) -> Status:
    """The most severe of ``statuses`` (``default`` when there are none)."""
    found = default
    for status in statuses:
        if status.rank > found.rank:
            found = status
    return found
