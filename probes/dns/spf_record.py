"""An SPF record as text (RFC 7208): parsing it, and merging several into one.

``parse_spf`` never raises: whatever the text, it returns a :class:`SpfRecord`
whose ``errors`` name the offending term (a receiver would answer
``permerror``) and whose ``warnings`` point at what is valid but unwise.
``merge_spf`` builds the one record a domain may publish from several.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
DNS_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
QUALIFIERS = "+-~?"
STRICTNESS = {"-": 3, "~": 2, "?": 1, "+": 0}

_TERM = re.compile(r"([+\-~?]?)([A-Za-z][A-Za-z0-9_.\-]*)(.*)", re.DOTALL)
_MACRO = re.compile(r"%(?:\{[slodiphcrtvSLODIPHCRTV]\d*[rR]?[.\-+,/_=]*\}|%|_|-)")
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_\-]{0,61}[A-Za-z0-9_])?")
_CIDR = re.compile(r"(?:/(\d{1,3}))?(?://(\d{1,3}))?")


@dataclass(frozen=True)
class SpfTerm:
    """One term: a mechanism (``-ip4:192.0.2.0/24``) or a modifier (``redirect=x``)."""

    qualifier: str  # "+", "-", "~", "?"; "" for a modifier
    name: str  # mechanism or modifier name, lower case
    value: str = ""  # the domain-spec or network after ":" or "="
    cidr: str = ""  # "/24", "//64" or "/24//64" (a and mx)
    raw: str = ""  # the term as written

    @property
    def modifier(self) -> bool:
        """True for ``name=value`` terms."""
        return self.qualifier == ""

    @property
    def text(self) -> str:
        """The term in its canonical spelling (``+`` omitted, name lower case)."""
        if self.modifier:
            return f"{self.name}={self.value}"
        prefix = "" if self.qualifier == "+" else self.qualifier
        value = f":{self.value}" if self.value else ""
        return f"{prefix}{self.name}{value}{self.cidr}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "qualifier": self.qualifier,
            "name": self.name,
            "value": self.value,
            "cidr": self.cidr,
            "raw": self.raw,
        }


@dataclass
class SpfRecord:
    """A parsed SPF record: its well-formed terms, errors and warnings."""

    text: str
    terms: list[SpfTerm] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def mechanisms(self) -> list[SpfTerm]:
        """The mechanisms, in order."""
        return [t for t in self.terms if not t.modifier]

    @property
    def all_term(self) -> SpfTerm | None:
        """The first ``all`` mechanism, if any."""
        return next((t for t in self.mechanisms if t.name == "all"), None)

    @property
    def redirect(self) -> str | None:
        """The ``redirect=`` domain, if any (ignored by receivers when there is an ``all``)."""
        return next((t.value for t in self.terms if t.name == "redirect" and t.modifier), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "text": self.text,
            "terms": [t.to_dict() for t in self.terms],
            "errors": self.errors,
            "warnings": self.warnings,
        }


def is_spf_text(text: str) -> bool:
    """True when a TXT string is an SPF record: ``v=spf1`` then a space or the end."""
    head = text[:7].lower()
    return head == "v=spf1" or (head[:6] == "v=spf1" and head[6] == " ")


def has_macro(spec: str) -> bool:
    """True when a domain-spec holds a macro (``%{i}``): it depends on the sender."""
    return "%" in spec


def domain_spec_problem(spec: str) -> str | None:
    """Why ``spec`` is not a valid domain-spec, or None (macros are checked loosely)."""
    if not spec:
        return "is empty"
    if any(not 0x21 <= ord(ch) <= 0x7E for ch in spec):
        return "has characters outside visible ASCII"
    if has_macro(spec):
        return "has a bad macro" if "%" in _MACRO.sub("", spec) else None
    name = spec[:-1] if spec.endswith(".") else spec
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(lb) for lb in labels):
        return "is not a domain name"
    if labels[-1].isdigit():
        return "is not a domain name (numeric top label)"
    return None


def _split_cidr(rest: str) -> tuple[str, str]:
    """``"example.com/24"`` -> (``"example.com"``, ``"/24"``); braces of macros respected."""
    depth = 0
    for index, ch in enumerate(rest):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "/" and depth <= 0:
            return rest[:index], rest[index:]
    return rest, ""


def _network_problem(name: str, value: str) -> str | None:
    """Why an ip4/ip6 value is not a network of its family, or None."""
    address, _, prefix = value.partition("/")
    limit = 32 if name == "ip4" else 128
    family = "IPv4" if name == "ip4" else "IPv6"
    try:
        if name == "ip4":
            ipaddress.IPv4Address(address)
        elif "%" in address:
            raise ValueError(address)
        else:
            ipaddress.IPv6Address(address)
    except ValueError:
        return f"{name}:{value} is not an {family} network"
    if "/" in value and not (prefix.isdigit() and len(prefix) <= 3 and int(prefix) <= limit):
        return f"{name}:{value} has a bad prefix length (0-{limit})"
    return None


def _mechanism(qualifier: str, name: str, rest: str, raw: str) -> tuple[SpfTerm | None, str | None]:
    """A mechanism term, or the error that names it."""
    if name not in MECHANISMS or (rest and rest[0] not in ":/"):
        return None, f"unknown mechanism '{raw}'"
    if name == "all":
        if rest:
            return None, f"'{raw}': all takes no value"
        return SpfTerm(qualifier, name, raw=raw), None
    if name in ("ip4", "ip6"):
        if not rest.startswith(":"):
            return None, f"'{raw}': {name} needs a network ({name}:...)"
        problem = _network_problem(name, rest[1:])
        return (None, problem) if problem else (SpfTerm(qualifier, name, rest[1:], raw=raw), None)
    if name in ("include", "exists") and not rest.startswith(":"):
        return None, f"'{raw}': {name} needs a domain ({name}:...)"
    dual = name in ("a", "mx")
    if rest.startswith(":"):
        spec, cidr = _split_cidr(rest[1:]) if dual else (rest[1:], "")
        problem = domain_spec_problem(spec)
        if problem:
            return None, f"'{raw}': {spec or 'the domain'} {problem}"
    else:
        spec, cidr = "", rest
        if cidr and not dual:
            return None, f"'{raw}': {name} takes no prefix length"
    if cidr:
        match = _CIDR.fullmatch(cidr)
        v4, v6 = (match.group(1), match.group(2)) if match else (None, None)
        if not match or (v4 and int(v4) > 32) or (v6 and int(v6) > 128):
            return None, f"'{raw}': bad prefix length {cidr}"
    return SpfTerm(qualifier, name, spec, cidr, raw), None


def _term(raw: str) -> tuple[SpfTerm | None, str | None, str | None]:
    """(term, error, warning) for one whitespace-separated piece of a record."""
    match = _TERM.fullmatch(raw)
    if match is None:
        return None, f"unknown mechanism '{raw}'", None
    qualifier, name, rest = match.group(1), match.group(2).lower(), match.group(3)
    if rest.startswith("="):
        if qualifier:
            return None, f"modifier '{raw}' cannot have a qualifier", None
        value = rest[1:]
        if name in ("redirect", "exp"):
            problem = domain_spec_problem(value)
            if problem:
                return None, f"'{raw}': {value or 'the domain'} {problem}", None
            return SpfTerm("", name, value, raw=raw), None, None
        return SpfTerm("", name, value, raw=raw), None, f"unknown modifier '{raw}' (ignored)"
    term, error = _mechanism(qualifier or "+", name, rest, raw)
    return term, error, None


def parse_spf(text: str) -> SpfRecord:
    """Parse an SPF record; never raises. Errors and warnings name the term at fault."""
    record = SpfRecord(text)
    pieces = text.split()
    if pieces and pieces[0].lower() == "v=spf1":
        pieces = pieces[1:]
    else:
        record.errors.append("missing v=spf1 at the start of the record")
        if pieces and pieces[0].lower().startswith("v="):
            pieces = pieces[1:]
    seen_modifiers: set[str] = set()
    for raw in pieces:
        term, error, warning = _term(raw)
        if error:
            record.errors.append(error)
        if warning:
            record.warnings.append(warning)
        if term is None:
            continue
        if term.modifier and term.name in ("redirect", "exp"):
            if term.name in seen_modifiers:
                record.errors.append(f"duplicate modifier '{raw}'")
                continue
            seen_modifiers.add(term.name)
        record.terms.append(term)
    _warn(record)
    return record


def _warn(record: SpfRecord) -> None:
    """The warnings about a record's shape: ptr, all, redirect."""
    for term in record.mechanisms:
        if term.name == "ptr":
            record.warnings.append(
                f"'{term.raw}': ptr is deprecated (RFC 7208 5.5): slow and unreliable; "
                "use ip4/ip6, a or include"
            )
    all_term = record.all_term
    if all_term is None:
        if record.redirect is None:
            record.warnings.append(
                "no 'all' and no redirect: other senders get neutral (as with ?all)"
            )
        return
    after = record.mechanisms[record.mechanisms.index(all_term) + 1 :]
    if after:
        ignored = " ".join(t.raw for t in after)
        record.warnings.append(f"terms after '{all_term.raw}' are ignored: {ignored}")
    if record.redirect is not None:
        record.warnings.append(
            f"'redirect={record.redirect}' is ignored because the record has '{all_term.raw}'"
        )
    if all_term.qualifier == "+":
        record.warnings.append(f"'{all_term.raw}' lets anyone on the internet send as the domain")
    elif all_term.qualifier == "?":
        record.warnings.append(
            f"'{all_term.raw}' is neutral: forged mail is neither failed nor marked"
        )


def merge_spf(records: list[str], add_includes: list[str], all_qualifier: str | None = None) -> str:
    """One SPF record authorising everything ``records`` do, plus ``add_includes``.

    Terms are deduplicated in their first order; the new includes follow the
    existing mechanisms; ``all`` goes last, with ``all_qualifier`` or else the
    strictest existing one (``~`` when none). A ``redirect=`` is kept only when
    nothing else ends the record; otherwise it becomes an ``include:`` so its
    senders stay authorised. Unparseable terms are dropped. Raises ValueError
    on a qualifier outside ``+-~?``.
    """
    if all_qualifier is not None and (len(all_qualifier) != 1 or all_qualifier not in QUALIFIERS):
        raise ValueError(f"{all_qualifier!r} is not an SPF qualifier (+, -, ~, ?)")
    parsed = [parse_spf(r) for r in records]
    mechanisms: list[str] = []
    modifiers: list[str] = []
    redirects: list[str] = []
    existing_alls: list[str] = []
    for record in parsed:
        for term in record.terms:
            if term.name == "all":
                existing_alls.append(term.qualifier)
            elif term.name == "redirect":
                redirects.append(term.value)
            elif term.modifier:
                if term.name != "exp" or not any(m.startswith("exp=") for m in modifiers):
                    modifiers.append(term.text)
            else:
                mechanisms.append(term.text)
    for include in add_includes:
        target = include.strip()
        target = target[8:] if target.lower().startswith("include:") else target
        mechanisms.append(f"include:{target}")
    ending: list[str]
    unique_redirects = list(dict.fromkeys(r.lower() for r in redirects))
    if all_qualifier is None and not existing_alls and len(unique_redirects) == 1:
        ending = [f"redirect={redirects[0]}"]
    else:
        mechanisms += [f"include:{r}" for r in redirects]
        qualifier = all_qualifier or (
            max(existing_alls, key=STRICTNESS.__getitem__) if existing_alls else "~"
        )
        ending = [f"{'' if qualifier == '+' else qualifier}all"]
    terms = _dedupe(mechanisms) + ending + _dedupe(modifiers)
    return " ".join(["v=spf1", *terms])


def _dedupe(texts: list[str]) -> list[str]:
    """The texts in first order, case-insensitively unique."""
    seen: dict[str, str] = {}
    for text in texts:
        seen.setdefault(text.lower(), text)
    return list(seen.values())
