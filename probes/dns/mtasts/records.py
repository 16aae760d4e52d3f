"""The MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) TXT records: ``name=value;`` tag lists.

The parsers never raise: any text gives a result whose ``errors`` say what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

FIELD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}\Z")
"""A field name, in the TXT records and the policy alike."""

_STS_ID = re.compile(r"[A-Za-z0-9]{1,32}\Z")


@dataclass
class StsTxt:
    """The ``_mta-sts.<domain>`` TXT record: ``v=STSv1; id=…;``."""

    record: str
    version: str | None = None
    id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return asdict(self)


@dataclass
class TlsRptRecord:
    """The ``_smtp._tls.<domain>`` TXT record: ``v=TLSRPTv1; rua=mailto:…,https://…``."""

    record: str
    version: str | None = None
    rua: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return asdict(self)


def _tag_list(text: str, errors: list[str], warnings: list[str]) -> list[tuple[str, str]]:
    """``name=value; name=value;`` as RFC 8460/8461 write TXT records."""
    pairs: list[tuple[str, str]] = []
    parts = [part.strip() for part in text.split(";")]
    if parts and not parts[-1]:
        parts.pop()
    seen: set[str] = set()
    for part in parts:
        if not part:
            errors.append("empty field (two ';' in a row)")
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not FIELD_NAME.match(name):
            errors.append(f"{part[:40]!r} is not a name=value field")
            continue
        if name in seen:
            warnings.append(f"field {name}= appears twice; the first one counts")
            continue
        seen.add(name)
        pairs.append((name, value.strip()))
    return pairs


def _check_version(pairs: list[tuple[str, str]], expected: str, errors: list[str]) -> str | None:
    """The ``v=`` field, which must come first and be exactly ``expected``."""
    version = dict(pairs).get("v")
    if version is None:
        errors.append(f"no v= field (v={expected} must come first)")
    elif pairs[0][0] != "v":
        errors.append(f"v={version} must be the first field")
    elif version != expected:
        errors.append(f"v={version}: the version must be {expected}")
    return version


def parse_sts_txt(text: str) -> StsTxt:
    """Parse an ``_mta-sts`` TXT record; never raises."""
    result = StsTxt(record=text)
    pairs = _tag_list(text, result.errors, result.warnings)
    result.tags = dict(pairs)
    result.version = _check_version(pairs, "STSv1", result.errors)
    result.id = result.tags.get("id")
    if result.id is None:
        result.errors.append("no id= field: senders cannot tell when the policy changes")
    elif not _STS_ID.match(result.id):
        result.errors.append(f"id={result.id[:40]}: the id must be 1 to 32 letters or digits")
    return result


def parse_tlsrpt(text: str) -> TlsRptRecord:
    """Parse an ``_smtp._tls`` TXT record; never raises."""
    result = TlsRptRecord(record=text)
    pairs = _tag_list(text, result.errors, result.warnings)
    result.tags = dict(pairs)
    result.version = _check_version(pairs, "TLSRPTv1", result.errors)
    rua = result.tags.get("rua")
    if rua is None:
        result.errors.append("no rua= field: reports have nowhere to go")
        return result
    for uri in (u.strip() for u in rua.split(",")):
        lowered = uri.lower()
        if not uri:
            result.errors.append("rua= holds an empty address")
        elif lowered.startswith("mailto:"):
            if "@" not in uri[len("mailto:") :]:
                result.errors.append(f"rua {uri[:60]}: not an e-mail address")
            else:
                result.rua.append(uri)
        elif lowered.startswith("https://"):
            result.rua.append(uri)
        elif lowered.startswith("http://"):
            result.errors.append(f"rua {uri[:60]}: reports must go over https, not http")
        else:
            result.errors.append(f"rua {uri[:60]}: only mailto: and https: are allowed")
    return result
