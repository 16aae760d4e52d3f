"""Reading and validating ``catalogue.toml``: unknown fields, bad regexes, duplicates fail."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from probes.diagnosis.entry import (
    _ENHANCED_FORMAT,
    _ENTRY_FIELDS,
    _ES_FIELDS,
    _FIX_FIELDS,
    _ID,
    _KIND,
    _MATCH_FIELDS,
    _PLACEHOLDER,
    PLACEHOLDERS,
    SHELLS,
    CatalogueError,
    Entry,
    FixTemplate,
    MatchGroup,
)
from probes.mail.model import PhaseName
from probes.status import Status


def _fail(where: str, message: str) -> CatalogueError:
    return CatalogueError(f"{where}: {message}")


def _check_fields(table: Any, allowed: frozenset[str], where: str) -> Mapping[str, Any]:
    if not isinstance(table, Mapping):
        raise _fail(where, f"expected a table, got {type(table).__name__}")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _fail(where, f"unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
    return table


def _text(table: Mapping[str, Any], name: str, where: str, required: bool = False) -> str | None:
    value = table.get(name)
    if value is None:
        if required:
            raise _fail(where, f"missing field {name!r}")
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"{name!r} must be a non-empty string")
    _check_placeholders(value, f"{where}: {name}")
    return value


def _check_placeholders(value: str, where: str) -> None:
    for found in _PLACEHOLDER.finditer(value):
        if found.group(1) not in PLACEHOLDERS:
            raise _fail(
                where,
                f"unknown placeholder {{{found.group(1)}}} "
                f"(known: {', '.join(sorted(PLACEHOLDERS))})",
            )


def _parse_group(table: Any, where: str) -> MatchGroup:
    group = _check_fields(table, _MATCH_FIELDS, where)
    if not group:
        raise _fail(where, "an empty match group would match everything")
    phase = group.get("phase")
    if phase is not None and phase not in {p.value for p in PhaseName}:
        raise _fail(where, f"unknown phase {phase!r}")
    kind = group.get("kind")
    if kind is not None and (not isinstance(kind, str) or not _KIND.match(kind)):
        raise _fail(where, f"bad kind {kind!r} (dotted words, optionally ending in '.*')")
    code = group.get("code")
    if code is not None and (
        isinstance(code, bool) or not isinstance(code, int) or not 200 <= code <= 599
    ):
        raise _fail(where, f"bad reply code {code!r} (an integer 200-599)")
    enhanced = group.get("enhanced")
    if enhanced is not None and (
        not isinstance(enhanced, str) or not _ENHANCED_FORMAT.match(enhanced)
    ):
        raise _fail(where, f"bad enhanced status code {enhanced!r} (like '5.7.139')")
    raw = group.get("pattern")
    pattern: re.Pattern[str] | None = None
    if raw is not None:
        if not isinstance(raw, str) or not raw:
            raise _fail(where, "pattern must be a non-empty string")
        try:
            pattern = re.compile(raw, re.IGNORECASE)
        except re.error as exc:
            raise _fail(where, f"bad regular expression {raw!r}: {exc}") from None
    return MatchGroup(
        phase=PhaseName(phase) if phase is not None else None,
        kind=kind,
        code=code,
        enhanced=enhanced,
        pattern=pattern,
    )


def _parse_fix(table: Any, where: str) -> FixTemplate:
    fix = _check_fields(table, _FIX_FIELDS, where)
    text = _text(fix, "text", where, required=True)
    shell = fix.get("shell")
    if shell is not None and shell not in SHELLS:
        raise _fail(where, f"unknown shell {shell!r} (known: {', '.join(sorted(SHELLS))})")
    command = _text(fix, "command", where)
    if command is not None and shell is None:
        raise _fail(where, "a fix with a command needs its shell (values are quoted for it)")
    protocol = fix.get("protocol")
    if protocol is not None and protocol not in ("smtp", "imap"):
        raise _fail(where, f"unknown protocol {protocol!r} (smtp or imap)")
    assert text is not None
    return FixTemplate(
        text=text,
        es=_text(fix, "es", where),
        command=command,
        shell=shell,
        protocol=protocol,
    )


def _list_of_tables(value: Any, name: str, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(where, f"{name!r} must be an array of tables ([[failure.{name}]])")
    return value


def _parse_entry(table: Any, where: str) -> Entry:
    raw = _check_fields(table, _ENTRY_FIELDS, where)
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        raise _fail(where, f"bad or missing id {entry_id!r} (dotted, like 'o365.smtp_auth')")
    where = f"{where} ({entry_id})"
    severity = raw.get("severity", "fail")
    if severity not in ("fail", "warn"):
        raise _fail(where, f"severity must be 'fail' or 'warn', not {severity!r}")
    priority = raw.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or not -99 <= priority <= 99:
        raise _fail(where, f"priority must be an integer from -99 to 99, not {priority!r}")
    family = raw.get("family")
    if family is not None and (not isinstance(family, str) or not family):
        raise _fail(where, "family must be a non-empty string")
    es = _check_fields(raw.get("es", {}), _ES_FIELDS, f"{where}: es")
    examples = raw.get("example", ())
    if isinstance(examples, str):
        examples = (examples,)
    if not isinstance(examples, (list, tuple)) or not all(
        isinstance(e, str) and e.strip() for e in examples
    ):
        raise _fail(where, "example must be a string or an array of strings")
    groups = tuple(
        _parse_group(g, f"{where}: match #{n}")
        for n, g in enumerate(_list_of_tables(raw.get("match"), "match", where), 1)
    )
    fixes = tuple(
        _parse_fix(f, f"{where}: fix #{n}")
        for n, f in enumerate(_list_of_tables(raw.get("fix"), "fix", where), 1)
    )
    entry = Entry(
        id=entry_id,
        title=_text(raw, "title", where, required=True) or "",
        cause=_text(raw, "cause", where, required=True) or "",
        severity=Status(severity),
        priority=priority,
        family=family,
        es_title=_text(es, "title", f"{where}: es"),
        es_cause=_text(es, "cause", f"{where}: es"),
        examples=tuple(examples),
        matches=groups,
        fixes=fixes,
    )
    if entry.textual and not entry.examples:
        raise _fail(where, "an entry that free text can match needs an example")
    return entry


def parse_entries(data: Mapping[str, Any], source: str) -> list[Entry]:
    """Every ``[[failure]]`` of parsed TOML as entries; CatalogueError names what is wrong."""
    unknown = sorted(set(data) - {"failure"})
    if unknown:
        raise _fail(source, f"unknown top-level field {unknown[0]!r} (only [[failure]])")
    entries: list[Entry] = []
    seen: set[str] = set()
    for number, table in enumerate(_list_of_tables(data.get("failure"), "failure", source), 1):
        entry = _parse_entry(table, f"{source}: failure #{number}")
        if entry.id in seen:
            raise _fail(source, f"duplicate id {entry.id!r} (failure #{number})")
        seen.add(entry.id)
        entries.append(entry)
    return entries
