"""Record changes as zone-file lines (``name TTL IN TYPE value``), ready to paste.

Names and values come from DNS answers and user input, so the lines are made
safe by construction: a character :func:`render.text.is_unsafe` refuses (a
control, a bidi override) is written with the zone file's own ``\\DDD`` escape
(one per UTF-8 byte), which means the same byte to a DNS server and shows as
plain digits on a terminal; the comments escape such characters visibly.
"""

from __future__ import annotations

from collections.abc import Iterable

from probes.dns.model import ChangeAction, RecordChange
from render.text import escape_controls, is_unsafe

_NAME_VALUED = ("CNAME", "NS", "PTR")
_TXT_CHUNK = 255


def _zone_escaped(text: str) -> str:
    """``text`` with every unsafe character as ``\\DDD`` (decimal, per UTF-8 byte)."""
    return "".join(
        "".join(f"\\{byte:03d}" for byte in char.encode("utf-8", "surrogatepass"))
        if is_unsafe(char)
        else char
        for char in text
    )


def _absolute(name: str) -> str:
    """A name with its final dot, so the line means the same under any ``$ORIGIN``."""
    name = _zone_escaped(name)
    return name if name.endswith(".") else f"{name}."


def _txt(value: str) -> str:
    """A TXT value quoted, in 255-character strings, quotes and backslashes escaped."""
    chunks = [value[i : i + _TXT_CHUNK] for i in range(0, len(value), _TXT_CHUNK)] or [""]
    escaped = (_zone_escaped(c.replace("\\", "\\\\").replace('"', '\\"')) for c in chunks)
    return " ".join(f'"{c}"' for c in escaped)


def record_value(rtype: str, value: str) -> str:
    """The value as a zone file writes it: absolute target names, quoted TXT."""
    kind = rtype.upper()
    if kind == "TXT":
        return _txt(value)
    if kind in _NAME_VALUED:
        return _absolute(value.strip())
    if kind == "MX":
        preference, _, host = value.strip().partition(" ")
        if host:
            return f"{_zone_escaped(preference)} {_absolute(host.strip())}"
    return _zone_escaped(value)


def zone_line(change: RecordChange) -> str:
    """``name. TTL IN TYPE value`` for the record the change leaves in the zone."""
    value = record_value(change.rtype, change.value)
    kind = _zone_escaped(change.rtype.upper())
    return f"{_absolute(change.name)} {change.ttl} IN {kind} {value}"


def change_lines(changes: Iterable[RecordChange]) -> list[str]:
    """Zone-file lines for ``changes``: a comment says what to do; removals stay commented out."""
    lines: list[str] = []
    for change in changes:
        note = change.action.value
        if change.action is ChangeAction.CHANGE and change.current:
            note += f" (now: {change.current})"
        if change.reason:
            note += f" — {change.reason}"
        lines.append(f"; {escape_controls(note)}")
        line = zone_line(change)
        lines.append(f"; {line}" if change.action is ChangeAction.REMOVE else line)
    return lines
