"""Untrusted text made safe to show: the one funnel from outside text to output.

Server banners and replies, certificate fields, DNS data, ``.env`` and CSV
contents, account addresses and workspace paths are written by other people.
Everything here turns such a string into something that can reach a terminal,
a JSON document, a Markdown or an HTML report without steering it:

- control characters (C0, DEL, C1 U+0080–U+009F), bidi overrides and isolates,
  and every other non-printable, format, unassigned, surrogate or private-use
  character is shown *visibly escaped* (``\\x1b``, ``\\u202e``, ``\\U000e0041``);
- printable Unicode (accents, CJK, emoji) stays as it is;
- the result is never parsed as markup: :func:`plain` and :func:`one_line`
  build Rich :class:`~rich.text.Text`, so ``[bold]`` or ``[link=…]`` stay literal;
- long text is cut, and the cut is said (:func:`cut`).

The escaping is unambiguous: a backslash always starts an escape in the output
when it could be read as one (it is then doubled, ``\\\\``), and
:func:`unescape_controls` gives the original back.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from rich.text import Text

LINE_LIMIT = 300
"""Characters of untrusted text shown on one line (a table cell, a summary)."""

REPLY_LIMIT = 2_000
"""Characters of one server reply, certificate field or record shown in full views."""

STORED_LIMIT = 65_536
"""Characters of one untrusted text field kept in a stored result (the history)."""

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Controls, format (bidi, invisible), surrogates, private use, unassigned, line/paragraph
separators: never written raw."""

_JOINERS = frozenset({"\u200c", "\u200d"})
"""Zero-width (non-)joiners: format characters, but part of emoji sequences and of several
scripts, and they cannot reorder or hide text; kept as they are."""

_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
_UNNAMED = {shown: char for char, shown in _NAMED.items()}
_ESCAPE_LETTERS = frozenset("\\xuUntr")
"""What may follow a backslash in an escape: a backslash before one of these is doubled."""

_CUT = {
    "en": "… [cut: {total} characters, showing {shown}]",
    "es": "… [cortado: {total} caracteres, se muestran {shown}]",
}


def is_unsafe(char: str) -> bool:
    """True when ``char`` (one code point) is never written raw.

    Unsafe: C0 controls, DEL, C1 controls, bidi marks/overrides/isolates and
    other format characters (except the zero-width joiners U+200C/U+200D),
    surrogates, private use, unassigned code points, U+2028/U+2029.
    """
    if char in _JOINERS:
        return False
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def _escape_char(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    point = ord(char)
    if point <= 0xFF:
        return f"\\x{point:02x}"
    if point <= 0xFFFF:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"


def escape_controls(text: str, *, keep_newlines: bool = False, keep_tabs: bool = False) -> str:
    """``text`` with every unsafe character (see :func:`is_unsafe`) visibly escaped.

    ``\\n``, ``\\t`` and ``\\r`` are written as those two characters; other
    unsafe characters as ``\\xHH`` (up to U+00FF), ``\\uHHHH`` or ``\\UHHHHHHHH``.
    By default newlines and tabs are escaped too, so the result is one line;
    ``keep_newlines`` / ``keep_tabs`` keep them raw (multi-line views, JSON,
    which escapes them itself). A carriage return is always escaped: it moves
    the cursor back over what was shown.

    A literal backslash is kept as it is unless it is followed by a backslash,
    by one of ``x u U n t r`` or by a character that gets escaped: then it is
    doubled. So ``C:\\Mail\\in`` reads unchanged while the output can always
    be decoded (:func:`unescape_controls`); distinct inputs give distinct outputs.
    """
    kept = ("\n" if keep_newlines else "") + ("\t" if keep_tabs else "")
    out: list[str] = []
    last = len(text) - 1
    for index, char in enumerate(text):
        if char == "\\":
            following = text[index + 1] if index < last else ""
            ambiguous = following in _ESCAPE_LETTERS or (
                following not in ("", *kept) and is_unsafe(following)
            )
            out.append("\\\\" if ambiguous else "\\")
        elif char in kept or not is_unsafe(char):
            out.append(char)
        else:
            out.append(_escape_char(char))
    return "".join(out)


_ESCAPE = re.compile(r"\\(?:\\|[ntr]|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def unescape_controls(shown: str) -> str:
    """The text :func:`escape_controls` was given (its inverse, for tests and tools)."""

    def one(found: re.Match[str]) -> str:
        escape = found.group(0)
        if escape == "\\\\":
            return "\\"
        named = _UNNAMED.get(escape)
        return named if named is not None else chr(int(escape[2:], 16))

    return _ESCAPE.sub(one, shown)


def _number(value: int, lang: str) -> str:
    grouped = f"{value:,}"
    return grouped.replace(",", ".") if lang == "es" else grouped


def cut_notice(total: int, shown: int, lang: str = "en") -> str:
    """The words that end a cut text: ``… [cut: 1,048,576 characters, showing 2,000]``."""
    code = "es" if lang.lower().startswith("es") else "en"
    return _CUT[code].format(total=_number(total, code), shown=_number(shown, code))


def _cut_parts(text: str, limit: int, lang: str) -> tuple[str, str]:
    """(the kept text, the notice or ``""``)."""
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, not {limit}")
    if len(text) <= limit:
        return text, ""
    kept = text[:limit]
    return kept, " " + cut_notice(len(text), len(kept), lang)


def cut(text: str, limit: int, lang: str = "en") -> str:
    """``text`` if it has at most ``limit`` characters, else its start and a notice.

    The notice says how long the text was and how much is shown, in English or
    (``lang="es"``) Spanish. Cut before escaping: ``limit`` counts characters of
    the original text, and escaping may lengthen what is kept (at most ten times).
    """
    kept, notice = _cut_parts(text, limit, lang)
    return kept + notice


def plain(text: str, style: str = "", limit: int = REPLY_LIMIT, *, lang: str = "en") -> Text:
    """Untrusted text as a Rich ``Text``: cut, escaped, never parsed as markup.

    Newlines and tabs stay (a multi-line reply stays multi-line); every other
    unsafe character is escaped. The cut notice, if any, is dim.
    """
    kept, notice = _cut_parts(text, limit, lang)
    shown = Text(escape_controls(kept, keep_newlines=True, keep_tabs=True), style=style)
    if notice:
        shown.append(notice, style="dim")
    return shown


def one_line(text: str, limit: int = LINE_LIMIT, style: str = "", *, lang: str = "en") -> Text:
    """Untrusted text for a table cell or a summary: one line, cut, escaped, no markup.

    Newlines and tabs are shown as ``\\n`` and ``\\t`` (the escaping stays
    unambiguous; a ``⏎`` sign could also be in the text itself).
    """
    kept, notice = _cut_parts(text, limit, lang)
    shown = Text(escape_controls(kept), style=style)
    if notice:
        shown.append(notice, style="dim")
    return shown


def json_safe(value: Any) -> Any:
    """A JSON-ready structure with every string (values and keys) escaped.

    ``json.dumps`` escapes C0 controls itself, but with ``ensure_ascii=False`` it
    writes C1 controls, bidi overrides and U+2028/U+2029 raw; after this it has
    nothing unsafe to write. Newlines and tabs stay (JSON escapes them and a
    reader wants them back). Mappings become dicts, lists and tuples lists; other
    values (numbers, booleans, ``None``) are returned as they are.
    """
    if isinstance(value, str):
        return escape_controls(value, keep_newlines=True, keep_tabs=True)
    if isinstance(value, Mapping):
        return {
            (json_safe(key) if isinstance(key, str) else key): json_safe(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}()#!|<>~&@\"])")
_MARKDOWN_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<=www)(\.)")
_MARKDOWN_INDENT = re.compile(r"^[ \t]+")
_MARKDOWN_MARKER = re.compile(r"^(?:([-+=])|(\d+)\.)")


def _markdown_line(line: str) -> str:
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", line)
    escaped = _MARKDOWN_AUTOLINK.sub(lambda m: "\\" + (m.group(1) or m.group(2)), escaped)
    indent = _MARKDOWN_INDENT.match(escaped)
    width = len(indent.group(0).expandtabs(4)) if indent else 0
    rest = escaped[indent.end() :] if indent else escaped
    marker = _MARKDOWN_MARKER.match(rest)
    if marker and marker.group(1):
        rest = "\\" + rest
    elif marker:
        digits = marker.group(2)
        rest = digits + "\\." + rest[len(digits) + 1 :]
    return "&#32;" * width + rest


def markdown_text(text: str, *, table_cell: bool = False) -> str:
    """Untrusted text for a Markdown report: controls escaped, no Markdown effect.

    Backslash-escapes the characters CommonMark/GFM give meaning to
    (``\\ ` * _ [ ] { } ( ) # ! | < > ~ & @ "``), list and heading markers at
    the start of a line (``-``, ``+``, ``=``, ``1.``), and the start of
    autolinks (``https://``, ``www.``). Leading indentation becomes ``&#32;``
    so it cannot open a code block. A newline ends the line with a hard break
    (``\\`` at its end); in a ``table_cell`` it becomes ``<br>``.
    """
    lines = escape_controls(text, keep_newlines=True).split("\n")
    return ("<br>" if table_cell else "\\\n").join(_markdown_line(line) for line in lines)


def html_text(text: str) -> str:
    """Untrusted text for an HTML report: controls escaped, then HTML-escaped (quotes too).

    Newlines stay (use it inside ``<pre>`` or replace them); every other unsafe
    character is visibly escaped first, so nothing raw reaches the page.
    """
    return html.escape(escape_controls(text, keep_newlines=True), quote=True)


def shown(text: object, limit: int = LINE_LIMIT, *, lang: str = "en") -> str:
    """Untrusted text for a plain ``print``: one line, cut (said), controls escaped.

    Takes any value (an exception, a path) and shows its ``str``. The result is
    a plain string, never markup: print it, do not hand it to a Rich console as
    markup (wrap it in :class:`~rich.text.Text` instead).
    """
    return one_line(str(text), limit, lang=lang).plain


def shown_block(text: object, limit: int = REPLY_LIMIT, *, lang: str = "en") -> str:
    """Like :func:`shown`, but newlines and tabs stay (a multi-line reply or help text)."""
    return plain(str(text), limit=limit, lang=lang).plain
