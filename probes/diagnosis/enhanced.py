"""Generic explanations of SMTP enhanced status codes (RFC 3463, the IANA registry).

The catalogue explains the codes it knows with provider-specific entries
(``535 5.7.139`` from Exchange Online, ``550-5.7.26`` from Gmail). Every
other code in an error still says something: its class (temporary or
permanent), its subject (addressing, mailbox, mail system, network, protocol,
content, security) and its detail, as the IANA "SMTP Enhanced Status Codes"
registry names them. The registry is data, in ``enhanced_codes.toml``.

Two ways in:

* :func:`code_diagnosis` explains one code (``5.1.1``, optionally with its
  reply code ``550``) as a :class:`~probes.diagnosis.model.Diagnosis`;
* :func:`fallback_findings` finds the codes in pasted text that no catalogue
  finding explains and adds a generic diagnosis for each.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from probes.diagnosis.entry import Entry, ScannedText, is_spanish, snippet
from probes.diagnosis.model import Diagnosis, Fix
from probes.mail.model import Phase
from probes.status import Status

CODE = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})$")
"""An enhanced status code: class 2, 4 or 5, a subject and a detail of 1-3 digits."""

_REGISTRY_CODE = re.compile(r"^X\.([0-7])\.(\d{1,3})$")
_BEFORE = re.compile(
    r"(?:(?<![\w.])[2-5][0-5]\d[ -]|\(\s*[2-5][0-5]\d\s*,\s*b?['\"]|#"
    r"|\b(?:status|dsn|code|said|response(?:\s+was)?|reply)\s*[:=]?\s*)$",
    re.IGNORECASE,
)
"""What must come right before a code in free text for it to count (a reply code, ``Status:``)."""

_REPLY_BEFORE = re.compile(r"(?<![\w.])([2-5][0-5]\d)(?:[ -]|\s*,\s*b?['\"])$")
_LOOKBEHIND = 24


class RegistryError(ValueError):
    """The registry data is malformed."""


@dataclass(frozen=True)
class Part:
    """A class or subject of the registry, in both languages."""

    title: str
    es_title: str
    meaning: str
    es_meaning: str
    fix: str = ""
    es_fix: str = ""

    def text(self, lang: str | None) -> tuple[str, str, str]:
        """(title, meaning, fix) in ``lang``."""
        if is_spanish(lang):
            return self.es_title, self.es_meaning, self.es_fix
        return self.title, self.meaning, self.fix


@dataclass(frozen=True)
class CodeInfo:
    """One enumerated code of the registry (``X.1.1``), in both languages."""

    code: str
    title: str
    es_title: str
    meaning: str
    es_meaning: str
    reference: str
    note: str = ""

    @property
    def key(self) -> tuple[int, int]:
        """(subject, detail)."""
        found = _REGISTRY_CODE.match(self.code)
        assert found is not None
        return int(found.group(1)), int(found.group(2))

    def text(self, lang: str | None) -> tuple[str, str]:
        """(title, meaning) in ``lang``."""
        if is_spanish(lang):
            return self.es_title, self.es_meaning
        return self.title, self.meaning


@dataclass(frozen=True)
class Registry:
    """The IANA registry: classes, subjects and enumerated codes."""

    classes: Mapping[int, Part]
    subjects: Mapping[int, Part]
    codes: Mapping[tuple[int, int], CodeInfo]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Registry:
        """The registry from parsed TOML (RegistryError when a field is missing)."""
        try:
            classes = {int(k): _part(v) for k, v in data["class"].items()}
            subjects = {int(k): _part(v) for k, v in data["subject"].items()}
            infos = [CodeInfo(**record) for record in data["code"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistryError(f"enhanced_codes.toml: {exc}") from None
        codes: dict[tuple[int, int], CodeInfo] = {}
        for info in infos:
            if not _REGISTRY_CODE.match(info.code):
                raise RegistryError(f"enhanced_codes.toml: bad code {info.code!r}")
            if info.key in codes:
                raise RegistryError(f"enhanced_codes.toml: duplicate code {info.code!r}")
            codes[info.key] = info
        if set(classes) != {2, 4, 5} or set(subjects) != set(range(8)):
            raise RegistryError("enhanced_codes.toml: classes 2, 4, 5 and subjects 0-7 needed")
        return cls(classes, subjects, codes)

    def lookup(self, subject: int, detail: int) -> CodeInfo | None:
        """The enumerated code, if the registry has it."""
        return self.codes.get((subject, detail))


def _part(table: Mapping[str, str]) -> Part:
    return Part(**table)


@cache
def registry() -> Registry:
    """The registry shipped with the package (parsed once)."""
    text = resources.files("probes.diagnosis").joinpath("enhanced_codes.toml").read_text("utf-8")
    return Registry.parse(tomllib.loads(text))


def code_diagnosis(
    enhanced: str,
    reply: int | None = None,
    lang: str | None = "en",
    evidence: str = "",
) -> Diagnosis | None:
    """A generic diagnosis of ``enhanced`` by class, subject and detail (None if malformed).

    A detail the registry does not list (``5.7.139``) is the server's own
    code: the class and subject still say what kind of failure it is.
    """
    found = CODE.match(enhanced)
    if found is None:
        return None
    klass, subject, detail = (int(part) for part in found.groups())
    if subject > 7:
        return None
    data = registry()
    class_title, class_meaning, _ = data.classes[klass].text(lang)
    subject_title, subject_meaning, subject_fix = data.subjects[subject].text(lang)
    info = data.lookup(subject, detail)
    spanish = is_spanish(lang)
    shown = f"{reply} {enhanced}" if reply else enhanced
    if info is not None:
        detail_title, detail_meaning = info.text(lang)
    elif spanish:
        detail_title = f"código {enhanced} propio del servidor"
        detail_meaning = (
            "no figura en el registro IANA: es un código propio del servidor, y su texto dice más."
        )
    else:
        detail_title = f"server-specific code {enhanced}"
        detail_meaning = (
            "not in the IANA registry: it is the server's own code, and its text says more."
        )
    title = f"{shown}: {detail_title} ({class_title.lower()})"
    if spanish:
        cause = (
            f"{class_title} ({klass}.x.x): {class_meaning} Tema {subject}, "
            f"{subject_title.lower()}: {subject_meaning} Detalle {detail}: {detail_meaning}"
        )
    else:
        cause = (
            f"{class_title} ({klass}.x.x): {class_meaning} Subject {subject}, "
            f"{subject_title.lower()}: {subject_meaning} Detail {detail}: {detail_meaning}"
        )
    return Diagnosis(
        id=f"enhanced.{klass}.{subject}.{detail}",
        title=title,
        cause=cause,
        fixes=_fixes(klass, subject_fix, spanish),
        evidence=evidence,
        severity=Status.FAIL if klass == 5 else Status.WARN if klass == 4 else Status.PASS,
    )


def _fixes(klass: int, subject_fix: str, spanish: bool) -> tuple[Fix, ...]:
    fixes: list[Fix] = []
    if klass == 4:
        fixes.append(
            Fix(
                "Reintentar más tarde con una espera creciente: un fallo 4.x.x suele pasar solo"
                if spanish
                else "Retry later with a growing delay: a 4.x.x failure usually clears by itself"
            )
        )
    if subject_fix:
        fixes.append(Fix(subject_fix))
    return tuple(fixes)


def phase_code_diagnosis(phase: Phase, lang: str | None = "en") -> list[Diagnosis]:
    """The generic diagnosis of a failed or warned phase's enhanced code, if it has one."""
    if not phase.enhanced or phase.status not in (Status.FAIL, Status.WARN):
        return []
    evidence = f"{phase.title}: {phase.summary}"[:300]
    found = code_diagnosis(phase.enhanced, phase.code, lang, evidence)
    return [found] if found is not None and found.severity is not Status.PASS else []


def codes_in_text(scanned: ScannedText) -> list[tuple[str, int | None, int]]:
    """Failure codes (class 4 or 5) written as SMTP codes: (code, reply code, position).

    A bare ``4.2.2`` counts only after a reply code, ``Status:``, ``dsn=``,
    ``#`` or ``response was:``, so that version numbers are not read as codes.
    """
    found: list[tuple[str, int | None, int]] = []
    seen: set[str] = set()
    for code, pos in scanned.enhanced:
        if code[0] == "2" or code in seen:
            continue
        before = scanned.text[max(0, pos - _LOOKBEHIND) : pos]
        if not _BEFORE.search(before):
            continue
        reply = _REPLY_BEFORE.search(before)
        seen.add(code)
        found.append((code, int(reply.group(1)) if reply else None, pos))
    return found


def fallback_findings(
    text: str,
    findings: Sequence[Diagnosis],
    entries: Iterable[Entry],
    lang: str | None = "en",
) -> list[Diagnosis]:
    """Generic diagnoses of the codes in ``text`` that no finding already explains.

    A finding explains a code when its catalogue entry names that code in a
    match group, or when one of the entry's patterns matches text around it
    (ranges such as ``4.7.500-699`` are written as patterns). ``X.0.0`` (no detail at all)
    is left out when anything else was found.
    """
    scanned = ScannedText.scan(text)
    by_id = {entry.id: entry for entry in entries}
    covered: set[str] = set()
    spans: list[tuple[int, int]] = []
    for finding in findings:
        entry = by_id.get(finding.id)
        if entry is None:
            continue
        for group in entry.matches:
            if group.enhanced:
                covered.add(group.enhanced)
            if group.pattern is not None:
                spans += [m.span() for m in group.pattern.finditer(scanned.text)]
    added: list[Diagnosis] = []
    for code, reply, pos in codes_in_text(scanned):
        if code in covered or any(lo <= pos < hi for lo, hi in spans):
            continue
        if code.endswith(".0.0") and (findings or added):
            continue
        evidence = snippet(scanned.text, pos, pos + len(code))
        diagnosis = code_diagnosis(code, reply, lang, evidence)
        if diagnosis is not None:
            added.append(diagnosis)
    return added
