"""Explain error text as users paste it: find the meaningful part, then ask the catalogue.

Real error text comes wrapped: a JSON log record whose string values hold the
message with escaped newlines, a Python traceback whose frames and source
lines are noise, a .NET ``SmtpException``, a Spanish Windows message. This
module unwraps it into plain lines (:func:`readable_text`), picks up the
host, port and mailbox the text mentions (:func:`context_from_text`) and
lets :meth:`probes.diagnosis.catalogue.Catalogue.explain_text` rank the known failures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from probes.diagnosis.catalogue import Catalogue
from probes.diagnosis.enhanced import fallback_findings
from probes.diagnosis.model import Diagnosis
from probes.diagnosis.wrappers import explain_segments, unwrap, with_recognised_lines

MAX_TEXT = 200_000
"""Longer text keeps its first and last halves of this (the error is usually at an end)."""

MAX_JSON_ATTEMPTS = 64
"""At most this many ``{`` positions are tried as the start of a JSON object."""

MAX_FRAGMENTS = 20
FRAGMENT_LENGTH = 300

_FRAME = re.compile(r'^\s*File "[^"\n]*", line \d+')
_JAVA_FRAME = re.compile(r"^\s*at [\w$.<>`\[\], ]+\(.*\)(\s+in\s+.*)?\s*$")
_CARETS = re.compile(r"^\s*[\^~]+\s*$")
_TRACEBACK_NOISE = re.compile(r"^\s*Traceback \(most recent call last\):")
"""Chain separators stay: :mod:`probes.diagnosis.wrappers` finds the cause by them."""
_ESCAPES = re.compile(r"(?<!\\)\\(r\\n|n|r|t|\")")
_ESCAPED = {"r\\n": "\n", "n": "\n", "r": "\n", "t": " ", '"': '"'}

_MEANINGFUL = re.compile(
    r"^\s*(?:[A-Za-z_][\w]*\.)*(?:[A-Z]\w*(?:Error|Exception|Disconnected|Refused)|error|abort"
    r"|gaierror|timeout)\b\s*:"
    r"|(?<![\w.])[2-5][0-5]\d[ -][245]\.\d{1,3}\.\d{1,3}"
    r"|(?<![\w.])[245]\.\d{1,3}\.\d{1,3}(?![\w]|\.\d)"
    r"|\[(?:SSL: )?[A-Z][A-Z_-]{3,}\]"
    r"|WinError \d+|Errno -?\d+|Status Code:|\b(?:NO|BAD|BYE) ",
)

_HOST_KEYS = (
    r"(?:smtp|imap|mail|email|oc_inbox)?[ _]?(?:host|server|servidor)|computername|hostname"
)
_HOST = re.compile(
    rf"(?<![\w])(?:{_HOST_KEYS})\s*[:=]\s*['\"]?(?P<value>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+)",
    re.IGNORECASE,
)
_PORT = re.compile(
    r"(?<![\w])(?:(?:smtp|imap|mail|email|oc_inbox|remote)?[ _]?(?:port|puerto))"
    r"\s*[:=]\s*['\"]?(?P<value>\d{2,5})\b",
    re.IGNORECASE,
)
_ADDRESS = r"(?P<value>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
_FROM = re.compile(
    r"(?<![\w])(?:from[ _]?e?-?mail|smtp_from_email|default_from_email|from|remitente)"
    rf"\s*[:=]\s*['\"]?(?:[^<\n]*<)?{_ADDRESS}",
    re.IGNORECASE,
)
_USER = re.compile(
    r"(?<![\w])(?:(?:smtp|imap|email_host|mail|oc_inbox)?[ _]?(?:user(?:name)?|usuario|login))"
    rf"\s*[:=]\s*['\"]?{_ADDRESS}",
    re.IGNORECASE,
)


@dataclass
class Explanation:
    """What ``explain`` found: ranked findings and the meaningful parts of the text."""

    findings: list[Diagnosis] = field(default_factory=list)
    fragments: list[str] = field(default_factory=list)
    context: dict[str, str] = field(default_factory=dict)


def explain(
    text: str, context: Mapping[str, str] | None = None, lang: str | None = "en"
) -> Explanation:
    """Explain pasted error text; the caller's context wins over what the text mentions."""
    given = dict(context or {})
    if not text or not text.strip():
        return Explanation(context=given)
    document = readable_text(text)
    merged = {**context_from_text(document), **given}
    segments = unwrap(document)
    catalogue = Catalogue.load()
    findings = explain_segments(catalogue, segments, merged, lang or "en")
    findings += fallback_findings(document, findings, catalogue.entries, lang or "en")
    fragments = with_recognised_lines(
        meaningful_fragments(document, findings), segments, MAX_FRAGMENTS, FRAGMENT_LENGTH
    )
    return Explanation(findings, fragments, merged)


def readable_text(text: str) -> str:
    """The text unwrapped: JSON string values, escapes undone, traceback frames dropped.

    Frames are dropped before escapes are undone (a Windows path such as
    ``C:\\new`` must not turn into a line break) and again after (a traceback
    logged on one line with ``\\n`` escapes).
    """
    if len(text) > MAX_TEXT:
        half = MAX_TEXT // 2
        text = text[:half] + "\n" + text[-half:]
    unwrapped = "\n".join(_drop_frames("\n".join(_unwrap_json(text)).splitlines()))
    unescaped = _ESCAPES.sub(lambda m: _ESCAPED[m.group(1)], unwrapped)
    return "\n".join(_drop_frames(unescaped.splitlines()))


def _unwrap_json(text: str) -> Iterator[str]:
    """Prose as it is, and each embedded JSON object as ``key: value`` lines."""
    decoder = json.JSONDecoder()
    pos = 0
    scan = 0
    attempts = 0
    while attempts < MAX_JSON_ATTEMPTS:
        start = text.find("{", scan)
        if start < 0:
            break
        attempts += 1
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            scan = start + 1
            continue
        if not isinstance(value, dict):
            scan = start + 1
            continue
        yield text[pos:start]
        yield from _json_lines(value)
        pos = scan = end
    yield text[pos:]


def _json_lines(value: Any) -> Iterator[str]:
    """Every scalar of a JSON value as ``key: value`` (strings that hold JSON are opened)."""
    stack: list[tuple[str, Any, int]] = [("", value, 0)]
    while stack:
        key, item, depth = stack.pop()
        if isinstance(item, dict):
            stack.extend((str(k), v, depth) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((key, v, depth) for v in reversed(item))
        elif isinstance(item, str):
            inner = item.strip()
            if depth < 3 and inner.startswith("{") and inner.endswith("}"):
                try:
                    stack.append((key, json.loads(inner), depth + 1))
                    continue
                except (ValueError, RecursionError):
                    pass
            yield f"{key}: {item}" if key else item
        elif item is not None:
            yield f"{key}: {item}" if key else str(item)


def _drop_frames(lines: list[str]) -> Iterator[str]:
    """Lines without traceback frames, their source lines, carets and headers."""
    skip_source = False
    for line in lines:
        if _FRAME.match(line):
            skip_source = True
            continue
        if skip_source and line[:1].isspace() and line.strip():
            skip_source = False
            continue
        skip_source = False
        if _JAVA_FRAME.match(line) or _CARETS.match(line) or _TRACEBACK_NOISE.match(line):
            continue
        yield line


def context_from_text(text: str) -> dict[str, str]:
    """Host, port and mailbox the text names (``SMTP Host:``, ``EMAIL_PORT =``, ``From Email:``)."""
    found: dict[str, str] = {}
    host = _HOST.search(text)
    if host:
        found["host"] = host.group("value").lower()
    port = _PORT.search(text)
    if port and 0 < int(port.group("value")) < 65536:
        found["port"] = port.group("value")
    sender = _FROM.search(text)
    user = _USER.search(text)
    mailbox = sender or user
    if mailbox:
        found["mailbox"] = mailbox.group("value")
        found["user"] = (user or mailbox).group("value")
        found["domain"] = found["mailbox"].rpartition("@")[2].lower()
    return found


def meaningful_fragments(text: str, findings: list[Diagnosis]) -> list[str]:
    """Lines that carry the error: exception lines, reply codes, and each finding's evidence."""
    evidence = [d.evidence.strip("…").strip() for d in findings if d.evidence]
    fragments: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line in fragments:
            continue
        if _MEANINGFUL.search(line) or any(e and e in line for e in evidence):
            fragments.append(line[:FRAGMENT_LENGTH])
            if len(fragments) >= MAX_FRAGMENTS:
                break
    return fragments
