"""Reading ``.env`` files faithfully, without ever echoing a value in a message.

The syntax is the common subset of python-dotenv, docker compose and the
shell: blank lines, full-line ``#`` comments, ``export KEY=value``, spaces
around ``=``, unquoted values whose comment starts at a ``#`` preceded by
whitespace (``pass#word`` keeps its ``#``), single-quoted values (literal),
double-quoted values (escapes ``\\n \\t \\" \\\\``), blank values, CRLF files
and a UTF-8 byte-order mark.

What is not supported becomes an :class:`EnvProblem` with its line number:
lines without ``=``, bad keys, unterminated quotes and text after a closing
quote. Values spanning several lines (a quote opened on one line and closed
on a later one) are not supported either: they are reported as one problem
on the opening line naming the lines they span, and those lines are skipped.
No ``${VAR}`` expansion is done.

Values may be secrets, so problems name keys and line numbers, never values,
and ``repr`` of an entry leaves the value out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
BOM = "\ufeff"
_EXPORT = re.compile(r"^export\s+(?=\S)")
_DEFINITION = re.compile(r"^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=(?!=)")
_ENV_STYLE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
_SHOWN = 20


@dataclass(frozen=True)
class EnvEntry:
    """One ``KEY=value`` definition (the value, maybe a secret, is kept out of ``repr``)."""

    key: str
    value: str = field(repr=False)
    line: int
    raw: str = field(repr=False)


@dataclass(frozen=True)
class EnvProblem:
    """A line that could not be read; the message never contains a value."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass
class EnvFile:
    """A parsed ``.env`` file: its definitions, its problems and its raw lines."""

    entries: list[EnvEntry]
    problems: list[EnvProblem]
    newline: str = "\n"
    lines: list[str] = field(default_factory=list, repr=False)

    def get(self, key: str) -> EnvEntry | None:
        """The definition of ``key`` in effect: the last one, as dotenv and docker do."""
        found = None
        for entry in self.entries:
            if entry.key == key:
                found = entry
        return found

    def duplicates(self) -> dict[str, list[int]]:
        """Keys defined more than once, with the lines defining them."""
        seen: dict[str, list[int]] = {}
        for entry in self.entries:
            seen.setdefault(entry.key, []).append(entry.line)
        return {key: lines for key, lines in seen.items() if len(lines) > 1}


class _LineError(Exception):
    """A malformed line (internal); the message is already value-free."""


class _Unterminated(_LineError):
    """A quote not closed on its line (internal)."""

    def __init__(self, key: str, quote: str) -> None:
        kind = "double" if quote == '"' else "single"
        super().__init__(f"unterminated {kind} quote in the value of {key}")
        self.key = key
        self.quote = quote


def split_lines(text: str) -> list[tuple[str, str]]:
    """``text`` as (content, ending) pairs; endings are ``\\r\\n``, ``\\n`` or ``""`` (last line).

    Only ``\\n`` ends a line (a lone ``\\r`` stays in the content), and a text
    ending with a newline has no empty last line.
    """
    pairs: list[tuple[str, str]] = []
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            pairs.append((text[start:], ""))
            break
        if end > start and text[end - 1] == "\r":
            pairs.append((text[start : end - 1], "\r\n"))
        else:
            pairs.append((text[start:end], "\n"))
        start = end + 1
    return pairs


def _detect_newline(pairs: list[tuple[str, str]]) -> str:
    crlf = sum(1 for _, ending in pairs if ending == "\r\n")
    lf = sum(1 for _, ending in pairs if ending == "\n")
    return "\r\n" if crlf > lf else "\n"


def _shown_key(before_equals: str) -> str:
    """What a problem may show of a bad key: no word after a space (it may be a value)."""
    words = before_equals.split()
    if len(words) > 1:
        return f" {words[0] + ' ...'!r}" if KEY.match(words[0]) else ""
    text = words[0]
    return f" {text if len(text) <= _SHOWN else text[:_SHOWN] + '...'!r}"


def _no_equals(text: str) -> str:
    words = text.split()
    if len(words) > 1 and KEY.match(words[0]):
        return f"no '=' in {words[0] + ' ...'!r} (expected KEY=value)"
    if len(words) == 1 and _ENV_STYLE.match(words[0]):
        return f"no '=' after {words[0]!r} (expected KEY=value)"
    return f"no '=' in a line of {len(text)} characters (expected KEY=value or a # comment)"


def _after_quote(rest: str, key: str) -> None:
    rest = rest.strip()
    if rest and not rest.startswith("#"):
        raise _LineError(f"text after the closing quote of the value of {key}")


def _double_quoted(body: str, key: str) -> str:
    """The value of ``"..."`` (``body`` starts after the opening quote)."""
    out: list[str] = []
    index = 0
    while index < len(body):
        ch = body[index]
        if ch == "\\" and index + 1 < len(body):
            nxt = body[index + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            index += 2
            continue
        if ch == '"':
            _after_quote(body[index + 1 :], key)
            return "".join(out)
        out.append(ch)
        index += 1
    raise _Unterminated(key, '"')


def _single_quoted(body: str, key: str) -> str:
    end = body.find("'")
    if end < 0:
        raise _Unterminated(key, "'")
    _after_quote(body[end + 1 :], key)
    return body[:end]


def _unquoted(text: str) -> str:
    """An unquoted value: a ``#`` after whitespace starts a comment."""
    match = re.search(r"\s#", text)
    if match is not None:
        text = text[: match.start()]
    return text.strip()


def _closing_line(pairs: list[tuple[str, str]], start: int, quote: str) -> int | None:
    """The index of the line after ``start`` that closes a multi-line ``quote``, if any."""
    for index in range(start + 1, len(pairs)):
        content = pairs[index][0]
        if _DEFINITION.match(content):
            return None  # reached another definition: the quote is simply unterminated
        if quote == "'":
            if "'" in content:
                return index
            continue
        escaped = False
        for ch in content:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                return index
    return None


def line_key(text: str) -> str | None:
    """The key a raw line defines or tries to define (also for malformed lines), if any."""
    stripped = _EXPORT.sub("", text.strip(), count=1)
    if not stripped or stripped.startswith("#"):
        return None
    before, equals, _ = stripped.partition("=")
    candidate = before.strip() if equals else (stripped.split() or [""])[0]
    return candidate if KEY.match(candidate) else None


def _parse_line(text: str) -> tuple[str, str] | None:
    """(key, value) of one line, None for blank and comment lines, or :class:`_LineError`."""
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return None
    stripped = _EXPORT.sub("", stripped, count=1)
    before, equals, after = stripped.partition("=")
    if not equals:
        raise _LineError(_no_equals(stripped))
    key = before.strip()
    if not KEY.match(key):
        if not key:
            raise _LineError("no key before '='")
        raise _LineError(
            f"bad key{_shown_key(key)} before '=': a key is letters, digits, '_', '.' or '-', "
            "not starting with a digit"
        )
    value_text = after.lstrip()
    if value_text.startswith('"'):
        return key, _double_quoted(value_text[1:], key)
    if value_text.startswith("'"):
        return key, _single_quoted(value_text[1:], key)
    if after[:1].isspace() and value_text.startswith("#"):
        return key, ""
    return key, _unquoted(value_text)


def parse_env(text: str) -> EnvFile:
    """Parse the text of a ``.env`` file; never raises (bad lines become problems).

    A byte-order mark at the start is dropped; ``lines`` holds every line
    without its ending (line ``n`` is ``lines[n - 1]``); ``newline`` is the
    ending most lines use.
    """
    if text.startswith(BOM):
        text = text[len(BOM) :]
    pairs = split_lines(text)
    entries: list[EnvEntry] = []
    problems: list[EnvProblem] = []
    index = 0
    while index < len(pairs):
        content = pairs[index][0]
        number = index + 1
        try:
            parsed = _parse_line(content)
        except _Unterminated as exc:
            closing = _closing_line(pairs, index, exc.quote)
            if closing is None:
                problems.append(EnvProblem(number, str(exc)))
            else:
                problems.append(
                    EnvProblem(
                        number,
                        f"the value of {exc.key} spans lines {number}-{closing + 1}; "
                        "multi-line values are not supported",
                    )
                )
                index = closing
        except _LineError as exc:
            problems.append(EnvProblem(number, str(exc)))
        else:
            if parsed is not None:
                entries.append(EnvEntry(parsed[0], parsed[1], number, content))
        index += 1
    return EnvFile(entries, problems, _detect_newline(pairs), [content for content, _ in pairs])


def read_env(path: Path) -> EnvFile:
    """Read and parse a ``.env`` file (UTF-8, with or without BOM).

    A file that is not UTF-8 gives an empty :class:`EnvFile` with the single
    problem ``not UTF-8 text`` (line 0); :class:`OSError` propagates as-is.
    """
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return EnvFile([], [EnvProblem(0, "not UTF-8 text")], "\n", [])
    return parse_env(text)
