"""DNS audits as text: one check's detail, its verdict, and a whole audit, live or stored.

A stored audit (the JSON the history keeps) is read back with
``DnsAudit.from_dict`` and drawn by the same functions as a live one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from probes.dns.audit import DnsAudit
from probes.dns.model import RecordCheck
from probes.dns.stored import StoredAuditError
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


def _indented(indent: int, *parts: tuple[str, str] | Text) -> Text:
    """One line: ``indent`` spaces, then the parts (``(text, style)`` or ready Text)."""
    line = Text(" " * indent)
    for part in parts:
        if isinstance(part, Text):
            line.append_text(part)
        else:
            line.append(*part)
    return line


def check_lines(check: RecordCheck) -> list[Text]:
    """One check in full: verdict, id and title, what was found and expected, the findings."""
    line = _indented(2, status_text(check.status))
    line.append(f" {check.id}", style="bold")
    line.append(f" — {check.title}")
    if not check.required:
        line.append(" (optional)", style="dim")
    lines = [line]
    lines += [_indented(6, ("found:    ", "dim"), (found, "")) for found in check.found]
    if check.expected:
        lines.append(_indented(6, ("expected: ", "dim"), (check.expected, "")))
    lines += [_indented(6, (f"• {message}", "")) for message in check.messages]
    return lines


def check_brief(check: RecordCheck) -> Text:
    """One check in a line: verdict and id, and its first finding unless it passed."""
    line = _indented(2, status_text(check.status))
    line.append(f" {check.id}", style="bold")
    if check.status is not Status.PASS and check.messages:
        line.append(f" — {check.messages[0]}")
    return line


def _about(check: RecordCheck, record: str) -> bool:
    """True when ``check`` is the ``record`` (``dkim`` covers ``dkim:selector1``)."""
    return check.id == record or check.id.startswith(record + ":")


def audit_lines(audit: DnsAudit, record: str | None = None) -> list[Text]:
    """An audit: the checks of ``record`` in full, then the others in a line each.

    Without ``record`` every check is shown in full.
    """
    lines = [
        _indented(
            0,
            ("Domain: ", "bold"),
            (f"{audit.domain} — profile {audit.profile.value}, ", ""),
            (f"resolver {audit.resolver}", "dim"),
        )
    ]
    focused = [c for c in audit.checks if _about(c, record)] if record else audit.checks
    others = [c for c in audit.checks if not _about(c, record)] if record else []
    lines.append(Text("Checks", style="bold"))
    for check in focused:
        lines.extend(check_lines(check))
    if others:
        lines.append(Text("Other checks of the same audit", style="bold"))
    lines.extend(check_brief(check) for check in others)
    return lines


def stored_dns_lines(data: Mapping[str, Any], record: str | None = None) -> list[Text]:
    """A stored audit (the history's JSON) drawn as :func:`audit_lines` draws a live one.

    JSON that is not an audit gives one line saying so instead of raising.
    """
    try:
        audit = DnsAudit.from_dict(data)
    except StoredAuditError as exc:
        return [Text(f"The stored DNS audit cannot be read: {exc}", style="yellow")]
    return audit_lines(audit, record)
