"""The detail of one DNS check: expected against found, the findings, the records to write."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from probes.dns.model import RecordCheck
from probes.status import Status
from render.status import status_text
from render.zone_lines import change_lines


def verdict_text(check: RecordCheck, short: bool = False) -> Text:
    """The coloured verdict; a failed optional check says so (``(opt)`` when ``short``)."""
    verdict = status_text(check.status)
    if not check.required and check.status is Status.FAIL:
        verdict.append(" (opt)" if short else " (optional)", style="dim")
    return verdict


def short_title(check: RecordCheck) -> str:
    """The title without its explanation: ``MX (where mail …)`` -> ``MX``."""
    return check.title.split(" (", 1)[0]


def check_detail(check: RecordCheck, copy_key: str = "c") -> RenderableType:
    """Expected vs found, the messages, and the zone lines to add, change or remove."""
    head = Text(check.title, style="bold")
    head.append("  ")
    head.append_text(verdict_text(check))
    parts: list[RenderableType] = [head]
    expected = Text("expected ", style="dim")
    expected.append(check.expected or "—")
    parts.append(expected)
    found = check.found or ["—"]
    for index, value in enumerate(found):
        line = Text("found    " if index == 0 else "         ", style="dim")
        line.append(value)
        parts.append(line)
    parts.extend(Text(f"  • {message}") for message in check.messages)
    if check.changes:
        parts.append(Text(f"Records to write ({copy_key} copies them):", style="bold underline"))
        for zone_line in change_lines(check.changes):
            style = "dim" if zone_line.startswith(";") else "bold cyan"
            parts.append(Text(zone_line, style=style))
    return Group(*parts)
