"""What the Probes screen says in words: its status line, and a verdict that changed."""

from __future__ import annotations

from typing import NamedTuple

from textual.notifications import SeverityLevel

from probes.status import Status
from tui.screens.probes.board import ProbeBoard, VerdictChange

CHANGED_WORDS = {Status.PASS: "passes now", Status.FAIL: "fails now", Status.WARN: "warns now"}


class Notice(NamedTuple):
    """A notification to show: message, title, severity."""

    message: str
    title: str
    severity: SeverityLevel


def verdict_notice(change: VerdictChange) -> Notice:
    """``sender smtp: FAIL → PASS``, titled ``Verdict changed: passes now``."""
    return Notice(
        f"{change.title}: {change.before.value.upper()} → {change.after.value.upper()}",
        f"Verdict changed: {CHANGED_WORDS.get(change.after, change.after.value)}",
        "information" if change.after is Status.PASS else "warning",
    )


def status_line(
    board: ProbeBoard, *, watch: str | None, interval: float, busy: bool, accounts: bool
) -> str:
    """The line above the table: watching (``watch`` is its countdown), probing, or what to do."""
    if watch is not None:
        return (
            f"Watching {len(board.failing)} failing probe(s) every "
            f"{interval:g} s, {watch} — w stops, x cancels"
        )
    if busy:
        return "Probing… x cancels"
    if board.rows:
        failing = len(board.failing)
        return f"{len(board)} probe(s), {failing} failing — w watches until fixed"
    if accounts:
        return "Check accounts (space) or pick a preset and a host, then r"
    return "No accounts yet (add them on screen 1): pick a preset and a host, then r"
