"""Socket, name-resolution and TLS errors as the operating system words them, in five languages.

The wordings live in ``os_errors.toml`` (see its header). :func:`find_os_errors`
finds them in pasted text by their words (ignoring case, accents, quotes and
line breaks, and needing only the first words, since pastes are often cut
with "..."), by Windows code (``WinError 10061``, ``SocketException (10061)``,
``os error 10061``) or by symbolic name (``WSAECONNREFUSED``). Each hit names
the catalogue entry the error means and the English wording that entry
recognises.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "es", "pt", "fr", "de")
KEY_LENGTH = 48
"""Normalised characters of a wording that must appear (a paste may cut the rest)."""

_QUOTES = re.compile(r"[`'\"’‘´«»“”]")
_SPACES = re.compile(r"\s+")
_WINERROR = re.compile(
    r"(?:WinError|Errno|error|SocketException|os\s+error|code|Fehlercode)\W{0,3}(1[01]\d{3})\b",
    re.IGNORECASE,
)
_ERRNO = re.compile(r"\[Errno\s+(-?\d{1,3})\]")
"""A Linux errno as Python prints it (the first number of each error's ``errno``)."""


@dataclass(frozen=True, eq=False)
class OsError:
    """One OS or runtime error: its codes, its wordings per language, the entry it means."""

    name: str
    entry: str
    says: str
    winerror: int | None
    errno: tuple[int, ...]
    texts: dict[str, tuple[str, ...]]
    sources: tuple[str, ...]

    def wordings(self) -> list[tuple[str, str]]:
        """Every (language, wording) pair."""
        return [(lang, text) for lang in LANGUAGES for text in self.texts.get(lang, ())]


@dataclass(frozen=True)
class OsErrorHit:
    """An OS error found in text, with the line it was found on."""

    error: OsError
    line: str

    @property
    def annotation(self) -> str:
        """A line the catalogue recognises: the English wording, the name, the pasted line."""
        return f"{self.error.says} [{self.error.name}]: {self.line}"


def normalise(text: str) -> str:
    """Lower case, without accents, quotes or repeated spaces (line breaks are spaces)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", _QUOTES.sub("", plain)).strip().casefold()


def _key(text: str) -> str:
    """The first words of a normalised wording, at most KEY_LENGTH characters."""
    words = normalise(text)
    if len(words) <= KEY_LENGTH:
        return words
    cut = words.rfind(" ", 0, KEY_LENGTH)
    return words[: cut if cut > 0 else KEY_LENGTH]


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"os_errors.toml: {where} must be a string or a list of strings")
    return tuple(value)


def _parse(table: Any) -> OsError:
    if not isinstance(table, dict):
        raise ValueError("os_errors.toml: every [[error]] must be a table")
    name = table.get("name")
    entry = table.get("entry")
    says = table.get("says")
    if not all(isinstance(v, str) and v for v in (name, entry, says)):
        raise ValueError(f"os_errors.toml: {name!r} needs name, entry and says")
    texts_table = table.get("text", {})
    unknown = set(texts_table) - set(LANGUAGES)
    if unknown:
        raise ValueError(f"os_errors.toml: {name}: unknown language {sorted(unknown)[0]!r}")
    winerror = table.get("winerror")
    errno = table.get("errno", [])
    if winerror is not None and not isinstance(winerror, int):
        raise ValueError(f"os_errors.toml: {name}: winerror must be an integer")
    if not isinstance(errno, list) or not all(isinstance(n, int) for n in errno):
        raise ValueError(f"os_errors.toml: {name}: errno must be a list of integers")
    return OsError(
        name=str(name),
        entry=str(entry),
        says=str(says),
        winerror=winerror,
        errno=tuple(errno),
        texts={lang: _strings(v, f"{name}.text.{lang}") for lang, v in texts_table.items()},
        sources=_strings(table.get("source", []), f"{name}.source") if table.get("source") else (),
    )


@cache
def os_errors() -> tuple[OsError, ...]:
    """Every error of ``os_errors.toml`` (parsed once)."""
    resource = resources.files("probes.diagnosis").joinpath("os_errors.toml")
    data = tomllib.loads(resource.read_text(encoding="utf-8"))
    return tuple(_parse(table) for table in data.get("error", []))


@cache
def _keys() -> tuple[tuple[str, OsError], ...]:
    """(normalised first words, error) for every wording, longest first."""
    owners: dict[str, set[str]] = {}
    for error in os_errors():
        for _, text in error.wordings():
            owners.setdefault(_key(text), set()).add(error.name)
    pairs = {
        # Two errors whose wordings start alike ("A socket operation was attempted to an
        # unreachable host / network") are told apart by their whole wording.
        (_key(text) if len(owners[_key(text)]) == 1 else normalise(text), error)
        for error in os_errors()
        for _, text in error.wordings()
    }
    return tuple(sorted(pairs, key=lambda pair: (-len(pair[0]), pair[1].name)))


@cache
def _names() -> re.Pattern[str]:
    """Symbolic names of the socket errors (errors with POSIX numbers; not EACCES, too broad)."""
    names = "|".join(sorted({e.name for e in os_errors() if e.errno}, key=len, reverse=True))
    return re.compile(rf"\b(?:WSA)?({names})\b")


def _line_of(lines: list[str], normalised_lines: list[str], key: str) -> str | None:
    for line, plain in zip(lines, normalised_lines, strict=True):
        if key in plain:
            return line.strip()
    return None


def find_os_errors(text: str) -> list[OsErrorHit]:
    """The OS errors the text names (each once, in the order of the table)."""
    lines = text.splitlines() or [text]
    plain_lines = [normalise(line) for line in lines]
    whole = " ".join(plain_lines)
    found: dict[str, OsErrorHit] = {}
    for key, error in _keys():
        if error.name in found or key not in whole:
            continue
        # A wording wrapped over lines is found in the whole text; its first words name the line.
        line = _line_of(lines, plain_lines, key) or _line_of(
            lines, plain_lines, " ".join(key.split()[:3])
        )
        found[error.name] = OsErrorHit(error, line or key)
    by_code = {e.winerror: e for e in os_errors() if e.winerror is not None}
    by_name = {e.name: e for e in os_errors()}
    by_errno = {e.errno[0]: e for e in os_errors() if e.errno}
    for line in lines:
        coded = [by_code.get(int(m.group(1))) for m in _WINERROR.finditer(line)]
        coded += [by_errno.get(int(m.group(1))) for m in _ERRNO.finditer(line)]
        for known in coded:
            if known is not None and known.name not in found:
                found[known.name] = OsErrorHit(known, line.strip())
        for match in _names().finditer(line):
            error = by_name[match.group(1)]
            if error.name not in found:
                found[error.name] = OsErrorHit(error, line.strip())
    order = {e.name: n for n, e in enumerate(os_errors())}
    return sorted(found.values(), key=lambda hit: order[hit.error.name])
