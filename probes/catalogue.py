"""The diagnosis catalogue: known failures, how to recognise them, their causes and fixes.

The data lives in ``catalogue.toml`` (shipped inside the package, read with
``importlib.resources``). Each ``[[failure]]`` entry has match groups — any
one group matching is enough; within a group every given field must hold —
and fix templates whose ``{mailbox}``, ``{host}``, ... placeholders are filled
from a context (a placeholder the context does not fill stays as written).

Two ways in:

* :meth:`Catalogue.diagnose` explains a probe's failed and warned phases
  (phase name, failure kind, reply code, enhanced code, server text);
* :meth:`Catalogue.explain_text` explains free text (phase and kind are
  ignored; patterns and the reply codes found in the text are used).

Scores: a group scores the number of its fields that held plus
``priority / 100`` (priority is limited to -99..99, so it only breaks ties
between equally specific groups). Entries of one ``family`` are alternatives
(five readings of ``535 5.7.139``): only the best-scoring one is kept. In
``diagnose`` the engine's facts come first: a group with only a pattern
(written for pasted text) counts only when no group naming a phase, kind or
code matches, so words in a summary never outrank the failure kind.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

from probes.model import Diagnosis, Fix, Phase, PhaseName, ProbeResult, Status

SHELLS = frozenset({"powershell", "bash", "python", "django", "admin-centre", "setting", "dotnet"})
"""Where a fix's command is typed (``setting``: a client setting or a .env line)."""

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

    A regular expression rather than ``str.format_map`` so that literal braces
    in PowerShell (``{$_.Name}``) or JSON never break a command.
    """

    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        filled = context.get(name)
        return str(filled) if filled else found.group(0)

    return _PLACEHOLDER.sub(value, template)


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
        """The fix in ``lang`` with the context's values filled in."""
        text = self.es if is_spanish(lang) and self.es else self.text
        command = fill(self.command, context) if self.command else None
        return Fix(text=fill(text, context), command=command, shell=self.shell)

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


@dataclass(frozen=True)
class _Hit:
    entry: Entry
    score: float
    evidence: str
    order: int


def _best_per_family(hits: Iterable[_Hit]) -> list[_Hit]:
    """Each entry once (its best hit) and, per family, only the best entry."""
    best: dict[str, _Hit] = {}
    for hit in hits:
        key = hit.entry.family or "=" + hit.entry.id
        kept = best.get(key)
        if kept is None or (hit.score, -hit.order) > (kept.score, -kept.order):
            best[key] = hit
    return sorted(best.values(), key=lambda h: (-h.score, h.order))


def phase_text(phase: Phase) -> str:
    """What the patterns see of a phase: its summary and the server's transcript lines."""
    lines = [phase.summary]
    lines += [line[3:] for line in phase.transcript if line.startswith("S: ")]
    return "\n".join(lines)


def generic_diagnosis(phase: Phase, lang: str | None = "en") -> Diagnosis:
    """A diagnosis built from the phase alone, for a failure the catalogue does not know."""
    failed = phase.status is Status.FAIL
    if is_spanish(lang):
        title = f"Falló la fase {phase.title}" if failed else f"Aviso en la fase {phase.title}"
        cause = phase.summary or "La fase no dio más detalles."
    else:
        title = f"{phase.title} failed" if failed else f"{phase.title}: warning"
        cause = phase.summary or "The phase gave no further detail."
    return Diagnosis(
        id=f"generic.{phase.kind or phase.name.value}",
        title=title,
        cause=cause,
        evidence=f"{phase.title}: {phase.summary}"[:300],
        severity=phase.status,
    )


class Catalogue:
    """The known failures, loaded and validated from TOML."""

    _loaded: ClassVar[Catalogue | None] = None

    def __init__(self, entries: Sequence[Entry]) -> None:
        self._entries = tuple(entries)
        self._by_id = {entry.id: entry for entry in self._entries}

    @classmethod
    def load(cls) -> Catalogue:
        """The catalogue shipped with the package (parsed once, then cached)."""
        if cls._loaded is None:
            resource = resources.files("probes").joinpath("catalogue.toml")
            cls._loaded = cls.parse(resource.read_text(encoding="utf-8"), "catalogue.toml")
        return cls._loaded

    @classmethod
    def parse(cls, text: str, source: str = "<catalogue>") -> Catalogue:
        """Parse and validate catalogue TOML; raise CatalogueError on any problem."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"{source}: not valid TOML: {exc}") from None
        return cls.from_data(data, source)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], source: str = "<catalogue>") -> Catalogue:
        """Validate already-parsed catalogue data; raise CatalogueError on any problem."""
        return cls(_parse_entries(data, source))

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every entry, in file order."""
        return self._entries

    def entry(self, entry_id: str) -> Entry:
        """The entry with that id (KeyError naming it otherwise)."""
        try:
            return self._by_id[entry_id]
        except KeyError:
            raise KeyError(f"no catalogue entry {entry_id!r}") from None

    def get(
        self,
        entry_id: str,
        context: Mapping[str, str] | None = None,
        evidence: str = "",
        lang: str | None = "en",
    ) -> Diagnosis:
        """The diagnosis of one entry by id (matrix conclusions are looked up this way)."""
        return self.entry(entry_id).diagnosis(context, evidence, lang)

    def diagnose_phase(
        self, phase: Phase, context: Mapping[str, str] | None = None, lang: str | None = "en"
    ) -> list[Diagnosis]:
        """The best diagnoses of one failed or warned phase (a generic one if none matches)."""
        if phase.status not in (Status.FAIL, Status.WARN):
            return []
        text = phase_text(phase)
        hits: list[_Hit] = []
        for structured in (True, False):  # pattern-only groups only when nothing else holds
            for order, entry in enumerate(self._entries):
                sizes = [
                    g.size
                    for g in entry.matches
                    if g.structured is structured and g.against_phase(phase, text)
                ]
                if sizes:
                    hits.append(_Hit(entry, max(sizes) + entry.priority / 100, "", order))
            if hits:
                break
        if not hits:
            return [generic_diagnosis(phase, lang)]
        top = max(hit.score for hit in hits)
        evidence = f"{phase.title}: {phase.summary}"[:300]
        return [
            hit.entry.diagnosis(context, evidence, lang, severity=phase.status)
            for hit in _best_per_family(h for h in hits if h.score >= top - 1e-9)
        ]

    def diagnose(
        self,
        result: ProbeResult,
        context: Mapping[str, str] | None = None,
        lang: str | None = "en",
    ) -> list[Diagnosis]:
        """Explain every failed or warned phase of a probe, in phase order (each entry once)."""
        found: list[Diagnosis] = []
        seen: set[str] = set()
        for phase in result.phases:
            for diagnosis in self.diagnose_phase(phase, context, lang):
                if diagnosis.id not in seen:
                    seen.add(diagnosis.id)
                    found.append(diagnosis)
        return found

    def explain_text(
        self, text: str, context: Mapping[str, str] | None = None, lang: str | None = "en"
    ) -> list[Diagnosis]:
        """Entries whose patterns and codes hold in free text, most specific first."""
        if not text.strip():
            return []
        scanned = ScannedText.scan(text)
        hits: list[_Hit] = []
        for order, entry in enumerate(self._entries):
            best: tuple[int, str] | None = None
            for group in entry.matches:
                held = group.against_text(scanned)
                if held is not None and (best is None or held[0] > best[0]):
                    best = held
            if best is not None:
                hits.append(_Hit(entry, best[0] + entry.priority / 100, best[1], order))
        return [hit.entry.diagnosis(context, hit.evidence, lang) for hit in _best_per_family(hits)]


# --- validation of the TOML data ------------------------------------------------------


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
    protocol = fix.get("protocol")
    if protocol is not None and protocol not in ("smtp", "imap"):
        raise _fail(where, f"unknown protocol {protocol!r} (smtp or imap)")
    assert text is not None
    return FixTemplate(
        text=text,
        es=_text(fix, "es", where),
        command=_text(fix, "command", where),
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


def _parse_entries(data: Mapping[str, Any], source: str) -> list[Entry]:
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
