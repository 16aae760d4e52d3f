"""Record changes as zone-file lines (``name TTL IN TYPE value``), ready to paste."""

from __future__ import annotations

from collections.abc import Iterable

from probes.dns.model import ChangeAction, RecordChange

_NAME_VALUED = ("CNAME", "NS", "PTR")
_TXT_CHUNK = 255


def _absolute(name: str) -> str:
    """A name with its final dot, so the line means the same under any ``$ORIGIN``."""
    return name if name.endswith(".") else f"{name}."


def _txt(value: str) -> str:
    """A TXT value quoted, in 255-character strings, quotes and backslashes escaped."""
    chunks = [value[i : i + _TXT_CHUNK] for i in range(0, len(value), _TXT_CHUNK)] or [""]
    escaped = (c.replace("\\", "\\\\").replace('"', '\\"') for c in chunks)
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
            return f"{preference} {_absolute(host.strip())}"
    return value


def zone_line(change: RecordChange) -> str:
    """``name. TTL IN TYPE value`` for the record the change leaves in the zone."""
    value = record_value(change.rtype, change.value)
    return f"{_absolute(change.name)} {change.ttl} IN {change.rtype.upper()} {value}"


def change_lines(changes: Iterable[RecordChange]) -> list[str]:
    """Zone-file lines for ``changes``: a comment says what to do; removals stay commented out."""
    lines: list[str] = []
    for change in changes:
        note = change.action.value
        if change.action is ChangeAction.CHANGE and change.current:
            note += f" (now: {change.current})"
        if change.reason:
            note += f" — {change.reason}"
        lines.append(f"; {note}")
        line = zone_line(change)
        lines.append(f"; {line}" if change.action is ChangeAction.REMOVE else line)
    return lines
