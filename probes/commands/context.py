"""Where each ``{name}`` placeholder of a command template sits: bare, or inside quotes.

A small lexer per shell, enough for the commands mxpilot ships: it follows
quotes and escapes, not the whole grammar. :mod:`probes.commands.quote` uses it to
quote a bare placeholder, escape one a template already put in quotes, and
refuse one where neither is safe. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
"""``{name}``: the placeholder syntax of the catalogue and the checklist templates."""

PS_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
"""The characters PowerShell reads as a single quote."""

PS_DOUBLE_QUOTES = '"\u201c\u201d\u201e'
"""The characters PowerShell reads as a double quote."""


class Context(StrEnum):
    """What surrounds a placeholder."""

    BARE = "bare"
    SINGLE = "single quotes"
    DOUBLE = "double quotes"
    RAW = "a raw, bytes or f-string literal"


@dataclass(frozen=True)
class Slot:
    """One placeholder in a template: its name, span, context and the quote that opened it."""

    name: str
    start: int
    end: int
    context: Context
    quote: str = ""


def _next_placeholder(text: str, index: int) -> re.Match[str] | None:
    return PLACEHOLDER.match(text, index) if text[index] == "{" else None


def scan_sh(text: str) -> list[Slot]:
    """POSIX sh: ``'…'`` takes everything literally, ``"…"`` and bare text honour ``\\``."""
    slots: list[Slot] = []
    state, index = "", 0
    while index < len(text):
        char = text[index]
        found = _next_placeholder(text, index)
        if found:
            context = {"": Context.BARE, "'": Context.SINGLE, '"': Context.DOUBLE}[state]
            slots.append(Slot(found.group(1), found.start(), found.end(), context, state))
            index = found.end()
            continue
        if state != "'" and char == "\\":
            index += 2
            continue
        if state == "" and char in "'\"":
            state = char
        elif state and char == state:
            state = ""
        index += 1
    return slots


def scan_powershell(text: str) -> list[Slot]:
    """PowerShell: four single and four double quote characters, doubling, backtick escapes."""
    slots: list[Slot] = []
    state, opened, index = "", "", 0
    while index < len(text):
        char = text[index]
        following = text[index + 1] if index + 1 < len(text) else ""
        found = _next_placeholder(text, index)
        if found:
            context = {"": Context.BARE, "'": Context.SINGLE, '"': Context.DOUBLE}[state]
            slots.append(Slot(found.group(1), found.start(), found.end(), context, opened))
            index = found.end()
            continue
        if state != "'" and char == "`":
            index += 2
            continue
        if state == "":
            if char in PS_SINGLE_QUOTES:
                state, opened = "'", char
            elif char in PS_DOUBLE_QUOTES:
                state, opened = '"', char
        else:
            quotes = PS_SINGLE_QUOTES if state == "'" else PS_DOUBLE_QUOTES
            if char in quotes:
                if following and following in quotes:
                    index += 2
                    continue
                state, opened = "", ""
        index += 1
    return slots


def scan_cmd(text: str) -> list[Slot]:
    """cmd.exe: ``"`` toggles quoting, ``^`` escapes the next character outside quotes."""
    slots: list[Slot] = []
    quoted, index = False, 0
    while index < len(text):
        char = text[index]
        found = _next_placeholder(text, index)
        if found:
            context = Context.DOUBLE if quoted else Context.BARE
            slots.append(Slot(found.group(1), found.start(), found.end(), context, '"' * quoted))
            index = found.end()
            continue
        if not quoted and char == "^":
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        index += 1
    return slots


_PY_STRING = re.compile(r"(?i)([rbuf]{0,2})('''|\"\"\"|'|\")")


def scan_python(text: str) -> list[Slot]:
    """Python: string literals with prefixes, triple quotes and backslash escapes; comments."""
    slots: list[Slot] = []
    index = 0
    while index < len(text):
        found = _next_placeholder(text, index)
        if found:
            slots.append(Slot(found.group(1), found.start(), found.end(), Context.BARE))
            index = found.end()
            continue
        if text[index] == "#":
            newline = text.find("\n", index)
            index = len(text) if newline < 0 else newline
            continue
        literal = _PY_STRING.match(text, index)
        before = text[index - 1] if index else ""
        if literal is None or before.isalnum() or before == "_":
            index += 1
            continue
        prefix, quote = literal.group(1).lower(), literal.group(2)
        context = (
            Context.RAW
            if set(prefix) & set("rbf")
            else (Context.SINGLE if quote[0] == "'" else Context.DOUBLE)
        )
        index = literal.end()
        while index < len(text) and not text.startswith(quote, index):
            inner = _next_placeholder(text, index)
            if inner:
                slots.append(Slot(inner.group(1), inner.start(), inner.end(), context, quote))
                index = inner.end()
            elif text[index] == "\\":
                index += 2
            else:
                index += 1
        index += len(quote)
    return slots


def scan_text(text: str) -> list[Slot]:
    """Not a command line (a setting, a path in an admin centre): every placeholder is bare."""
    return [Slot(m.group(1), m.start(), m.end(), Context.BARE) for m in PLACEHOLDER.finditer(text)]
