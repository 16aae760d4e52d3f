"""The diagnosis catalogue: known failures, how to recognise them, their causes and fixes.

The data lives in ``catalogue.toml`` (shipped inside the package, read with
``importlib.resources``). Each ``[[failure]]`` entry has match groups — any
one group matching is enough; within a group every given field must hold —
and fix templates whose ``{mailbox}``, ``{host}``, ... placeholders are filled
from a context (a placeholder the context does not fill stays as written); in a
fix's command each value is quoted for the fix's shell, and a value that cannot
be quoted safely replaces the command with a message saying why.

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

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

from probes.diagnosis.enhanced import phase_code_diagnosis
from probes.diagnosis.entry import (
    PLACEHOLDERS,
    SHELLS,
    CatalogueError,
    Entry,
    FixTemplate,
    MatchGroup,
    ScannedText,
    fill,
    is_spanish,
    snippet,
)
from probes.diagnosis.model import Diagnosis
from probes.diagnosis.schema import parse_entries
from probes.mail.model import Phase, ProbeResult
from probes.status import Status

__all__ = [
    "PLACEHOLDERS",
    "SHELLS",
    "Catalogue",
    "CatalogueError",
    "Entry",
    "FixTemplate",
    "MatchGroup",
    "ScannedText",
    "fill",
    "generic_diagnosis",
    "is_spanish",
    "phase_text",
    "snippet",
]


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
            resource = resources.files("probes.diagnosis").joinpath("catalogue.toml")
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
        return cls(parse_entries(data, source))

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
            return [generic_diagnosis(phase, lang), *phase_code_diagnosis(phase, lang)]
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
