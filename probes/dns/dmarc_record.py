"""A DMARC record as text (RFC 7489): every tag parsed and checked.

``parse_dmarc`` never raises: whatever the text, it returns a
:class:`DmarcRecord` whose ``errors`` name the offending tag and whose
``warnings`` point at what is valid but weak. Tag names are case-insensitive
here (lower-cased), as are the keyword values (``p=Reject``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

POLICIES = ("none", "quarantine", "reject")
KNOWN_TAGS = frozenset(
    {"v", "p", "sp", "np", "adkim", "aspf", "pct", "rua", "ruf", "fo", "rf", "ri", "psd", "t"}
)
"""RFC 7489 tags, plus ``np`` (RFC 9091) and ``psd``/``t`` (DMARCbis), accepted unchecked."""

_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SIZE = re.compile(r"\d+[kmgtKMGT]?")
_FO = frozenset({"0", "1", "d", "s"})


def is_dmarc_text(text: str) -> bool:
    """True when a TXT string is a DMARC record: ``v=DMARC1`` then ``;``, space or the end."""
    return re.match(r"v\s*=\s*DMARC1\s*(;|$)", text.strip(), re.IGNORECASE) is not None


def report_address(uri: str) -> str | None:
    """The e-mail address of a ``mailto:`` report URI (size limit removed), or None."""
    if uri[:7].lower() != "mailto:":
        return None
    address = uri[7:].split("!", 1)[0].strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address):
        return None
    return address


@dataclass
class DmarcRecord:
    """A parsed DMARC record: the tags, their meaning with defaults, errors and warnings."""

    text: str
    tags: dict[str, str] = field(default_factory=dict)
    policy: str | None = None  # p; None when missing or invalid
    subdomain_policy: str | None = None  # sp, defaults to p
    adkim: str = "r"
    aspf: str = "r"
    pct: int = 100
    rua: list[str] = field(default_factory=list)
    ruf: list[str] = field(default_factory=list)
    fo: str = "0"
    rf: str = "afrf"
    ri: int = 86400
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "text": self.text,
            "tags": self.tags,
            "policy": self.policy,
            "subdomain_policy": self.subdomain_policy,
            "adkim": self.adkim,
            "aspf": self.aspf,
            "pct": self.pct,
            "rua": self.rua,
            "ruf": self.ruf,
            "fo": self.fo,
            "rf": self.rf,
            "ri": self.ri,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def _split_tags(record: DmarcRecord) -> list[tuple[str, str]]:
    """The (name, value) pairs in order; malformed pieces become errors."""
    pairs: list[tuple[str, str]] = []
    for piece in record.text.split(";"):
        piece = piece.strip()
        if not piece:
            continue
        name, equals, value = piece.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not _TAG_NAME.fullmatch(name):
            record.errors.append(f"'{piece}' is not a tag=value pair")
            continue
        pairs.append((name.lower(), value))
    return pairs


def _uris(record: DmarcRecord, name: str, value: str) -> list[str]:
    """The valid mailto: URIs of a rua/ruf tag; the others become errors."""
    uris: list[str] = []
    for uri in (u.strip() for u in value.split(",")):
        if uri[:7].lower() != "mailto:":
            record.errors.append(f"{name}={uri} is not a mailto: URI")
        elif report_address(uri) is None:
            record.errors.append(f"{name}={uri} is not an e-mail address")
        elif "!" in uri and not _SIZE.fullmatch(uri.split("!", 1)[1]):
            record.errors.append(f"{name}={uri} has a bad size limit (like !10m)")
        else:
            uris.append(uri)
    return uris


def _number(record: DmarcRecord, name: str, value: str, top: int | None) -> int | None:
    """An integer tag value within 0..top, or None (and an error)."""
    if not value.isdigit() or not value.isascii():
        bound = f" 0-{top}" if top is not None else ""
        record.errors.append(f"{name}={value} is not a number{bound}")
        return None
    number = int(value)
    if top is not None and number > top:
        record.errors.append(f"{name}={value} out of range 0-{top}")
        return None
    return number


def _apply(record: DmarcRecord, name: str, value: str) -> None:
    """Check one tag and set the field it stands for."""
    low = value.lower()
    if name in ("p", "sp", "np"):
        if low in POLICIES:
            if name == "p":
                record.policy = low
            elif name == "sp":
                record.subdomain_policy = low
        else:
            record.errors.append(f"{name}={value} is not none/quarantine/reject")
    elif name in ("adkim", "aspf"):
        if low in ("r", "s"):
            setattr(record, name, low)
        else:
            record.errors.append(f"{name}={value} is not r (relaxed) or s (strict)")
    elif name == "pct":
        pct = _number(record, name, value, 100)
        record.pct = record.pct if pct is None else pct
    elif name == "ri":
        ri = _number(record, name, value, None)
        record.ri = record.ri if ri is None else ri
    elif name in ("rua", "ruf"):
        setattr(record, name, _uris(record, name, value))
    elif name == "fo":
        options = [o.strip().lower() for o in value.split(":")]
        if all(o in _FO for o in options):
            record.fo = ":".join(options)
        else:
            record.errors.append(f"fo={value} is not 0, 1, d or s (colon-separated)")
    elif name == "rf":
        if all(f.strip().lower() == "afrf" for f in value.split(":")):
            record.rf = low
        else:
            record.errors.append(f"rf={value}: only afrf is defined")


def parse_dmarc(text: str) -> DmarcRecord:
    """Parse a DMARC record; never raises. Errors and warnings name the tag at fault."""
    record = DmarcRecord(text)
    pairs = _split_tags(record)
    if not pairs or pairs[0][0] != "v":
        where = "missing" if all(n != "v" for n, _ in pairs) else "found later"
        record.errors.append(f"v=DMARC1 must be the first tag ({where})")
    for name, value in pairs:
        if name in record.tags:
            record.errors.append(f"duplicate tag {name}")
            continue
        record.tags[name] = value
        if name == "v":
            if value.upper() != "DMARC1":
                record.errors.append(f"v={value} is not DMARC1")
            elif value != "DMARC1":
                record.warnings.append(f"v={value}: write v=DMARC1 (some receivers are strict)")
        elif name not in KNOWN_TAGS:
            record.warnings.append(f"unknown tag {name} (ignored)")
        else:
            _apply(record, name, value)
    if "p" not in record.tags:
        record.errors.append("p is required")
    if record.subdomain_policy is None:
        record.subdomain_policy = record.policy
    _warn(record)
    return record


def _warn(record: DmarcRecord) -> None:
    """Valid but weak settings."""
    if record.policy == "none":
        record.warnings.append("p=none only monitors: forged mail is still delivered")
    elif record.policy is not None and record.subdomain_policy == "none":
        record.warnings.append("sp=none leaves subdomains unprotected")
    if record.pct < 100 and record.policy in ("quarantine", "reject"):
        record.warnings.append(
            f"pct={record.pct}: pct<100 applies the policy to part of the mail only"
        )
    if not record.rua:
        record.warnings.append("no rua: you get no aggregate reports")
    if record.ruf:
        record.warnings.append(
            "ruf: failure reports carry message content (privacy); few receivers send them"
        )
