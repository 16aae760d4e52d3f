"""DNS audits as text: one check's detail, its verdict, and a whole audit, live or stored.

A stored audit (the JSON the history keeps) is read back with
``DnsAudit.from_dict`` and drawn by the same functions as a live one. Record
data, names and findings are other people's text: they go through
:mod:`render.text` (escaped, cut, never markup); zone lines are safe by
construction (:mod:`render.zone_lines`) and only cut.
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
from render.text import LINE_LIMIT, REPLY_LIMIT, cut, one_line
from render.zone_lines import change_lines

ZONE_LINE_LIMIT = 4_000
"""Characters of one zone line shown (a DKIM key fits; a cut line says so)."""


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
    head = one_line(check.title, LINE_LIMIT, "bold")
    head.append("  ")
    head.append_text(verdict_text(check))
    parts: list[RenderableType] = [head]
    expected = Text("expected ", style="dim")
    expected.append_text(one_line(check.expected or "—", REPLY_LIMIT))
    parts.append(expected)
    found = check.found or ["—"]
    for index, value in enumerate(found):
        line = Text("found    " if index == 0 else "         ", style="dim")
        line.append_text(one_line(value, REPLY_LIMIT))
        parts.append(line)
    parts.extend(_bullet(message, 2) for message in check.messages)
    if check.changes:
        parts.append(Text(f"Records to write ({copy_key} copies them):", style="bold underline"))
        for zone_line in change_lines(check.changes):
            style = "dim" if zone_line.startswith(";") else "bold cyan"
            parts.append(Text(cut(zone_line, ZONE_LINE_LIMIT), style=style))
    return Group(*parts)


def _bullet(message: str, indent: int) -> Text:
    """``  • message``: one finding (it may quote a record), escaped and cut."""
    return Text(" " * indent + "• ").append_text(one_line(message, REPLY_LIMIT))


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
    line.append(" ")
    line.append_text(one_line(check.id, LINE_LIMIT, "bold"))
    line.append(" — ")
    line.append_text(one_line(check.title))
    if not check.required:
        line.append(" (optional)", style="dim")
    lines = [line]
    lines += [
        _indented(6, ("found:    ", "dim"), one_line(found, REPLY_LIMIT)) for found in check.found
    ]
    if check.expected:
        lines.append(_indented(6, ("expected: ", "dim"), one_line(check.expected, REPLY_LIMIT)))
    lines += [_bullet(message, 6) for message in check.messages]
    return lines


def check_brief(check: RecordCheck) -> Text:
    """One check in a line: verdict and id, and its first finding unless it passed."""
    line = _indented(2, status_text(check.status))
    line.append(" ")
    line.append_text(one_line(check.id, LINE_LIMIT, "bold"))
    if check.status is not Status.PASS and check.messages:
        line.append(" — ")
        line.append_text(one_line(check.messages[0]))
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
            one_line(audit.domain),
            (f" — profile {audit.profile.value}, ", ""),
            ("resolver ", "dim"),
            one_line(audit.resolver, LINE_LIMIT, "dim"),
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
        why = Text("The stored DNS audit cannot be read: ", style="yellow")
        return [why.append_text(one_line(str(exc)))]
    return audit_lines(audit, record)
