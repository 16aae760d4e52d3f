"""A DMARC record as text (RFC 9989, DMARCbis): every tag parsed and checked.

``parse_dmarc`` never raises: whatever the text, it returns a
:class:`DmarcRecord` whose ``errors`` name the offending tag and whose
``warnings`` point at what is valid but weak. Tag names are case-insensitive
here (lower-cased), as are the keyword values (``p=Reject``).

RFC 9989 (which replaces RFC 7489) removed ``pct``, ``rf`` and ``ri``:
receivers that follow it ignore them, so a record that still has them gets a
warning naming each one (even with a value out of range: an ignored tag
cannot break the record), and their values are kept only as stated. It added
``np`` (policy for non-existent subdomains), ``psd`` (public suffix domain)
and ``t`` (test mode: ``t=y`` applies one level below ``p``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

POLICIES = ("none", "quarantine", "reject")
KNOWN_TAGS = frozenset(
    {"v", "p", "sp", "np", "adkim", "aspf", "rua", "ruf", "fo", "psd", "t", "pct", "rf", "ri"}
)
"""The RFC 9989 tags, plus the removed ones (checked apart, see :data:`REMOVED_TAGS`)."""
REMOVED_TAGS = ("pct", "rf", "ri")
"""Tags of RFC 7489 that RFC 9989 removed (IANA: historic): receivers ignore them."""
PSD_VALUES = ("y", "n", "u")
TEST_MODE_STEP_DOWN = {"reject": "quarantine", "quarantine": "none", "none": "none"}
"""With ``t=y`` receivers apply one level below the stated policy (RFC 9989 4.7)."""

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
    """A parsed DMARC record: the tags, their meaning with defaults, errors and warnings.

    ``pct``, ``rf`` and ``ri`` hold what the record states (RFC 7489's defaults
    when absent or invalid); receivers following RFC 9989 ignore them, and
    ``removed`` names the ones the record has.
    """

    text: str
    tags: dict[str, str] = field(default_factory=dict)
    policy: str | None = None  # p; None when missing or invalid
    subdomain_policy: str | None = None  # sp, defaults to p
    nonexistent_policy: str | None = None  # np, defaults to sp, then p
    psd: str = "u"  # y: a public suffix domain; n: an organisational domain; u: unknown
    testing: bool = False  # t=y: receivers apply one level below p
    adkim: str = "r"
    aspf: str = "r"
    pct: int = 100  # removed by RFC 9989: as stated, ignored by receivers
    rua: list[str] = field(default_factory=list)
    ruf: list[str] = field(default_factory=list)
    fo: str = "0"
    rf: str = "afrf"  # removed by RFC 9989: as stated, ignored by receivers
    ri: int = 86400  # removed by RFC 9989: as stated, ignored by receivers
    removed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def applied_policy(self) -> str | None:
        """The policy receivers apply to the domain: ``p``, one level lower with ``t=y``."""
        if self.policy is None or not self.testing:
            return self.policy
        return TEST_MODE_STEP_DOWN[self.policy]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "text": self.text,
            "tags": self.tags,
            "policy": self.policy,
            "subdomain_policy": self.subdomain_policy,
            "nonexistent_policy": self.nonexistent_policy,
            "psd": self.psd,
            "testing": self.testing,
            "applied_policy": self.applied_policy,
            "adkim": self.adkim,
            "aspf": self.aspf,
            "pct": self.pct,
            "rua": self.rua,
            "ruf": self.ruf,
            "fo": self.fo,
            "rf": self.rf,
            "ri": self.ri,
            "removed": self.removed,
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


def _number(value: str, top: int | None) -> tuple[int | None, str]:
    """An integer tag value within 0..top, or None and what is wrong with it."""
    if not value.isdigit() or not value.isascii():
        bound = f" 0-{top}" if top is not None else ""
        return None, f"is not a number{bound}"
    number = int(value)
    if top is not None and number > top:
        return None, f"out of range 0-{top}"
    return number, ""


def _removed(record: DmarcRecord, name: str, value: str) -> None:
    """A tag RFC 9989 removed: keep its value as stated, warn that receivers ignore it."""
    record.removed.append(name)
    problem = ""
    if name == "pct":
        pct, problem = _number(value, 100)
        record.pct = record.pct if pct is None else pct
    elif name == "ri":
        ri, problem = _number(value, None)
        record.ri = record.ri if ri is None else ri
    elif all(f.strip().lower() == "afrf" for f in value.split(":")):
        record.rf = value.lower()
    else:
        problem = "is not afrf"
    stated = f"{name}={value} ({problem}) is ignored" if problem else f"{name}={value} is ignored"
    record.warnings.append(f"{stated}: RFC 9989 removed {name}; {_REMOVED_ADVICE[name]}")


_REMOVED_ADVICE = {
    "pct": "receivers apply the policy to all failing mail (to test a policy, use t=y)",
    "rf": "failure reports are always AFRF; remove the tag",
    "ri": "receivers send aggregate reports at least daily; remove the tag",
}


def _apply(record: DmarcRecord, name: str, value: str) -> None:
    """Check one tag and set the field it stands for."""
    low = value.lower()
    if name in ("p", "sp", "np"):
        if low in POLICIES:
            field_name = {"p": "policy", "sp": "subdomain_policy", "np": "nonexistent_policy"}
            setattr(record, field_name[name], low)
        else:
            record.errors.append(f"{name}={value} is not none/quarantine/reject")
    elif name == "psd":
        if low in PSD_VALUES:
            record.psd = low
        else:
            record.errors.append(f"psd={value} is not y, n or u")
    elif name == "t":
        if low in ("y", "n"):
            record.testing = low == "y"
        else:
            record.errors.append(f"t={value} is not y (test mode) or n")
    elif name in REMOVED_TAGS:
        _removed(record, name, value)
    elif name in ("adkim", "aspf"):
        if low in ("r", "s"):
            setattr(record, name, low)
        else:
            record.errors.append(f"{name}={value} is not r (relaxed) or s (strict)")
    elif name in ("rua", "ruf"):
        setattr(record, name, _uris(record, name, value))
    elif name == "fo":
        options = [o.strip().lower() for o in value.split(":")]
        if all(o in _FO for o in options):
            record.fo = ":".join(options)
        else:
            record.errors.append(f"fo={value} is not 0, 1, d or s (colon-separated)")


def parse_dmarc(text: str) -> DmarcRecord:
    """Parse a DMARC record; never raises. Errors and warnings name the tag at fault."""
    record = DmarcRecord(text)
    pairs = _split_tags(record)
    if not pairs or pairs[0][0] != "v":
        where = "missing" if all(n != "v" for n, _ in pairs) else "found later"
        record.errors.append(f"v=DMARC1 must be the first tag ({where})")
    for name, value in pairs:
        if name in record.tags:
            if name in REMOVED_TAGS:
                record.warnings.append(f"duplicate tag {name} (removed by RFC 9989: ignored)")
            else:
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
    if record.nonexistent_policy is None:
        record.nonexistent_policy = record.subdomain_policy
    _warn(record)
    return record


def _warn(record: DmarcRecord) -> None:
    """Valid but weak settings."""
    if record.policy == "none":
        record.warnings.append("p=none only monitors: forged mail is still delivered")
    elif record.policy is not None and record.subdomain_policy == "none":
        record.warnings.append("sp=none leaves subdomains unprotected")
    elif record.policy is not None and record.nonexistent_policy == "none":
        record.warnings.append(
            "np=none leaves non-existent subdomains unprotected (forgers can invent any name)"
        )
    if record.testing and record.policy in ("quarantine", "reject"):
        record.warnings.append(
            f"t=y (test mode): the policy is not enforced; receivers apply "
            f"p={record.applied_policy} instead of p={record.policy}; remove t=y to enforce"
        )
    if record.psd == "y":
        record.warnings.append(
            "psd=y declares a public suffix domain (for registries only): receivers do not "
            "treat this domain as an organisational domain"
        )
    if not record.rua:
        record.warnings.append("no rua: you get no aggregate reports")
    if record.ruf:
        record.warnings.append(
            "ruf: failure reports carry message content (privacy); few receivers send them"
        )
