"""The catalogue's building blocks: entries, match groups, fix templates, placeholders.

How one entry recognises a failure (a phase of a probe, or pasted text) and
renders its diagnosis in a language with a context filled in. Reading the
TOML lives in :mod:`probes.diagnosis.schema`; choosing among entries in
:mod:`probes.diagnosis.catalogue`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from probes.commands.refusal import fill_or_refuse
from probes.commands.template import Value
from probes.diagnosis.model import Diagnosis, Fix
from probes.mail.model import Phase, PhaseName
from probes.status import Status

SHELLS = frozenset({"powershell", "bash", "python", "django", "admin-centre", "setting", "dotnet"})
"""Where a fix's command is typed (``setting``: a client setting or a .env line).

Each is a label :class:`probes.commands.quote.Shell` knows: a command's values are
quoted for it.
"""

NUMBERS = frozenset({"port", "suggested_port"})
"""Placeholders whose value goes into a command as a number (``smtplib.SMTP(h, 587)``)."""

PLACEHOLDERS = frozenset(
    {
        "mailbox",
        "user",
        "host",
        "port",
        "protocol",
        "security",
        "suggested_port",
        "suggested_security",
        "domain",
    }
)
"""The names a fix, title or cause may use as ``{name}``."""

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
_KIND = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$")
_ENHANCED_FORMAT = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")

_REPLY_CODE = re.compile(r"(?<![\w.:/\-])([2-5][0-5]\d)(?![\w.:/])")
"""An SMTP reply code as it appears in pasted text: ``535 5.7.3``, ``534-5.7.9``, ``(535, b'``."""

_ENHANCED_CODE = re.compile(r"(?<![\w.])([245]\.\d{1,3}\.\d{1,3})(?![\w]|\.\d)")
"""An RFC 3463 enhanced status code: ``5.7.139``, alone or after a reply code."""

_ENTRY_FIELDS = frozenset(
    {"id", "title", "cause", "severity", "priority", "family", "es", "example", "match", "fix"}
)
_MATCH_FIELDS = frozenset({"phase", "kind", "code", "enhanced", "pattern"})
_FIX_FIELDS = frozenset({"text", "es", "command", "shell", "protocol"})
_ES_FIELDS = frozenset({"title", "cause"})
_SNIPPET = 90
"""Characters of context kept on each side of a match in an evidence snippet."""


class CatalogueError(ValueError):
    """The catalogue data is malformed (unknown field, bad regex, duplicate id, ...)."""


def is_spanish(lang: str | None) -> bool:
    """True for ``es`` and its regional forms (``es-CL``, ``es_ES``)."""
    return bool(lang) and str(lang).lower().startswith("es")


def fill(template: str, context: Mapping[str, str]) -> str:
    """``template`` with each ``{name}`` the context knows replaced; others stay as written.

    As text: for titles, causes and fix texts. Commands are filled by
    :meth:`FixTemplate.render`, which quotes each value for the fix's shell.
    A regular expression rather than ``str.format_map`` so that literal braces
    in PowerShell (``{$_.Name}``) or JSON never break a command.
    """

    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        filled = context.get(name)
        return str(filled) if filled else found.group(0)

    return _PLACEHOLDER.sub(value, template)


def command_values(context: Mapping[str, str]) -> dict[str, Value]:
    """The context as a command is filled with: ports as ``int``, everything else text."""
    return {
        name: int(value) if name in NUMBERS and value.isascii() and value.isdigit() else value
        for name, value in context.items()
    }


@dataclass(frozen=True)
class ScannedText:
    """Free text with the reply codes and enhanced status codes found in it."""

    text: str
    codes: tuple[tuple[int, int], ...]
    enhanced: tuple[tuple[str, int], ...]

    @classmethod
    def scan(cls, text: str) -> ScannedText:
        """Find every SMTP reply code and enhanced status code (with their positions)."""
        codes = tuple((int(m.group(1)), m.start(1)) for m in _REPLY_CODE.finditer(text))
        enhanced = tuple((m.group(1), m.start(1)) for m in _ENHANCED_CODE.finditer(text))
        return cls(text, codes, enhanced)

    def code_at(self, code: int) -> int | None:
        """Where ``code`` first appears, if it does."""
        return next((pos for found, pos in self.codes if found == code), None)

    def enhanced_at(self, enhanced: str) -> int | None:
        """Where ``enhanced`` first appears, if it does."""
        return next((pos for found, pos in self.enhanced if found == enhanced), None)


def snippet(text: str, start: int, end: int) -> str:
    """The line around ``text[start:end]``, cut to a readable window."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    if line_end < 0:
        line_end = len(text)
    left = max(line_start, start - _SNIPPET)
    right = min(line_end, end + _SNIPPET)
    if left > line_start:  # cut at a word boundary
        space = text.find(" ", left, start)
        left = space + 1 if space >= 0 else left
    if right < line_end:
        space = text.rfind(" ", end, right)
        right = space if space >= 0 else right
    piece = text[left:right].strip()
    if left > line_start:
        piece = "…" + piece
    if right < line_end:
        piece += "…"
    return piece


@dataclass(frozen=True)
class MatchGroup:
    """One way to recognise a failure; every field given must hold."""

    phase: PhaseName | None = None
    kind: str | None = None
    code: int | None = None
    enhanced: str | None = None
    pattern: re.Pattern[str] | None = None

    @property
    def size(self) -> int:
        """How many fields the group gives (its specificity)."""
        fields = (self.phase, self.kind, self.code, self.enhanced, self.pattern)
        return sum(1 for f in fields if f is not None)

    @property
    def structured(self) -> bool:
        """True when it names something the engine reports (phase, kind, code, enhanced).

        A group with only a pattern is written for free text; ``diagnose``
        uses such groups only when no structured group matches the phase.
        """
        return self.size > (1 if self.pattern is not None else 0)

    @property
    def textual(self) -> bool:
        """True when free text can satisfy it (a pattern or a code)."""
        return self.pattern is not None or self.code is not None or self.enhanced is not None

    def kind_holds(self, kind: str) -> bool:
        """Exact kind, or a prefix written ``tls.*``."""
        if self.kind is None:
            return True
        if self.kind.endswith(".*"):
            return kind.startswith(self.kind[:-1])
        return kind == self.kind

    def against_phase(self, phase: Phase, text: str) -> bool:
        """True when the phase (and its summary plus server lines) satisfies the group."""
        if self.phase is not None and phase.name is not self.phase:
            return False
        if not self.kind_holds(phase.kind):
            return False
        if self.code is not None and phase.code != self.code:
            return False
        if self.enhanced is not None and phase.enhanced != self.enhanced:
            return False
        return self.pattern is None or self.pattern.search(text) is not None

    def against_text(self, scanned: ScannedText) -> tuple[int, str] | None:
        """(fields that held, evidence snippet) when free text satisfies the group."""
        if not self.textual:
            return None
        spans: list[tuple[int, int]] = []
        if self.code is not None:
            pos = scanned.code_at(self.code)
            if pos is None:
                return None
            spans.append((pos, pos + 3))
        if self.enhanced is not None:
            pos = scanned.enhanced_at(self.enhanced)
            if pos is None:
                return None
            spans.append((pos, pos + len(self.enhanced)))
        if self.pattern is not None:
            found = self.pattern.search(scanned.text)
            if found is None:
                return None
            spans.insert(0, found.span())
        start, end = spans[0]
        for other_start, other_end in spans[1:]:  # widen to nearby codes on the same line
            lo, hi = min(start, other_start), max(end, other_end)
            if hi - lo <= 2 * _SNIPPET and "\n" not in scanned.text[lo:hi]:
                start, end = lo, hi
        return len(spans), snippet(scanned.text, start, end)


@dataclass(frozen=True)
class FixTemplate:
    """A fix as written in the catalogue, before templating."""

    text: str
    es: str | None = None
    command: str | None = None
    shell: str | None = None
    protocol: str | None = None

    def render(self, context: Mapping[str, str], lang: str | None) -> Fix:
        """The fix in ``lang`` with the context's values filled in.

        The text is filled as text; the command with each value quoted for its
        shell (:func:`probes.commands.template.fill_command`). A value that
        cannot be quoted safely refuses the command: the fix then has no
        command, and its text ends with the refusal saying why (in ``lang``).
        """
        text = fill(self.es if is_spanish(lang) and self.es else self.text, context)
        if not self.command:
            return Fix(text=text, command=None, shell=self.shell)
        filled = fill_or_refuse(self.command, command_values(context), self.shell or "text", lang)
        if filled.refused:
            return Fix(text=f"{text} — {filled.text}", command=None, shell=None)
        return Fix(text=text, command=filled.text, shell=self.shell)

    def applies(self, context: Mapping[str, str]) -> bool:
        """False when the fix is for another protocol than the context's."""
        wanted = context.get("protocol")
        return self.protocol is None or not wanted or wanted == self.protocol


@dataclass(frozen=True)
class Entry:
    """One known failure of the catalogue."""

    id: str
    title: str
    cause: str
    severity: Status = Status.FAIL
    priority: int = 0
    family: str | None = None
    es_title: str | None = None
    es_cause: str | None = None
    examples: tuple[str, ...] = ()
    matches: tuple[MatchGroup, ...] = ()
    fixes: tuple[FixTemplate, ...] = ()

    @property
    def textual(self) -> bool:
        """True when free text can reach this entry (``explain``)."""
        return any(group.textual for group in self.matches)

    def diagnosis(
        self,
        context: Mapping[str, str] | None = None,
        evidence: str = "",
        lang: str | None = "en",
        severity: Status | None = None,
    ) -> Diagnosis:
        """The entry as a Diagnosis in ``lang``, templated from ``context``."""
        values = context or {}
        spanish = is_spanish(lang)
        title = self.es_title if spanish and self.es_title else self.title
        cause = self.es_cause if spanish and self.es_cause else self.cause
        fixes = tuple(f.render(values, lang) for f in self.fixes if f.applies(values))
        return Diagnosis(
            id=self.id,
            title=fill(title, values),
            cause=fill(cause, values),
            fixes=fixes,
            evidence=evidence,
            severity=severity or self.severity,
        )
