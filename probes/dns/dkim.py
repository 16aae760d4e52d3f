"""DKIM selectors (RFC 6376, RFC 8463): the key record, its type and size, and the lookup.

Microsoft 365 publishes ``selector1``/``selector2`` as CNAMEs to keys it hosts
(``selector1-contoso-com._domainkey.<tenant>.onmicrosoft.com``, or the newer
``….dkim.mail.microsoft``); Google Workspace uses a TXT at ``google._domainkey``.
A selector whose lookup failed is ``lookup_failed``, never ``missing``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from probes.dns.model import Lookup, LookupFn, LookupStatus

DEFAULT_SELECTORS: dict[str, tuple[str, ...]] = {
    "office365": ("selector1", "selector2"),
    "google": ("google",),
}
"""The selectors each provider publishes by default."""

KEY_TYPES = ("rsa", "ed25519")
MIN_RSA_BITS = 1024  # below: verifiers must not accept the key (RFC 8301)
GOOD_RSA_BITS = 2048
ED25519_BITS = 256

DkimStatus = Literal["ok", "missing", "revoked", "invalid", "lookup_failed"]
CnameStyle = Literal["onmicrosoft", "dkim.mail.microsoft", "other"]

_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_WHITESPACE = re.compile(r"\s+")


@dataclass
class DkimKey:
    """A parsed DKIM key record; ``errors`` make it unusable, ``warnings`` do not."""

    record: str
    tags: dict[str, str] = field(default_factory=dict)
    version: str | None = None
    key_type: str = "rsa"
    key_bits: int | None = None
    public_key: str = ""
    revoked: bool = False
    testing: bool = False
    hash_algorithms: tuple[str, ...] = ()
    service_types: tuple[str, ...] = ()
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """True when a verifier could check signatures with this key."""
        return not self.errors and not self.revoked

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the key itself shortened)."""
        return {
            "record": self.record,
            "tags": dict(self.tags),
            "version": self.version,
            "key_type": self.key_type,
            "key_bits": self.key_bits,
            "revoked": self.revoked,
            "testing": self.testing,
            "hash_algorithms": list(self.hash_algorithms),
            "service_types": list(self.service_types),
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }


def parse_dkim(text: str) -> DkimKey:
    """Parse a DKIM key record (``v=DKIM1; k=rsa; p=…``); never raises."""
    key = DkimKey(record=text)
    tags = _parse_tags(text, key)
    key.tags = tags
    key.version = tags.get("v")
    if key.version is not None and key.version != "DKIM1":
        key.errors.append(f"v={key.version}: the version must be DKIM1")
    key.key_type = tags.get("k", "rsa").lower()
    if key.key_type not in KEY_TYPES:
        key.errors.append(f"k={key.key_type}: unknown key type (expected rsa or ed25519)")
    _read_flags(tags, key)
    if "p" not in tags:
        key.errors.append("no p= tag: the record holds no public key")
        return key
    key.public_key = _WHITESPACE.sub("", tags["p"])
    if not key.public_key:
        key.revoked = True
        return key
    if key.key_type in KEY_TYPES:
        _read_public_key(key)
    return key


def _parse_tags(text: str, key: DkimKey) -> dict[str, str]:
    """The tag=value list of RFC 6376 §3.2; problems go to ``key.errors``."""
    tags: dict[str, str] = {}
    parts = [part.strip() for part in text.split(";")]
    if parts and not parts[-1]:
        parts.pop()  # a trailing ";" is allowed
    for position, part in enumerate(parts):
        if not part:
            key.errors.append("empty tag (two ';' in a row)")
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not _TAG_NAME.match(name):
            key.errors.append(f"{part[:40]!r} is not a tag=value pair")
            continue
        if name in tags:
            key.errors.append(f"tag {name}= appears twice")
            continue
        if name == "v" and position != 0:
            key.errors.append("v= must be the first tag")
        tags[name] = value.strip()
    return tags


def _read_flags(tags: dict[str, str], key: DkimKey) -> None:
    """The t=, h= and s= tags."""
    flags = [f.strip().lower() for f in tags.get("t", "").split(":") if f.strip()]
    if "y" in flags:
        key.testing = True
        key.warnings.append("t=y: the domain is testing DKIM; verifiers may ignore failures")
    if "h" in tags:
        key.hash_algorithms = tuple(h.strip().lower() for h in tags["h"].split(":") if h.strip())
        if "sha256" not in key.hash_algorithms:
            key.warnings.append(f"h={tags['h']}: sha256 is not allowed; sha1 is obsolete")
    if "s" in tags:
        key.service_types = tuple(s.strip().lower() for s in tags["s"].split(":") if s.strip())
        if not {"*", "email"} & set(key.service_types):
            key.errors.append(f"s={tags['s']}: the key is not for email (s=* or s=email)")


def _read_public_key(key: DkimKey) -> None:
    """Decode p= and check the key against k=: its type and size."""
    try:
        der = base64.b64decode(key.public_key, validate=True)
    except (binascii.Error, ValueError) as exc:
        key.errors.append(f"p= is not valid base64 ({exc})")
        return
    if key.key_type == "ed25519" and len(der) == 32:  # RFC 8463: the raw key
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(der)
        except (ValueError, UnsupportedAlgorithm) as exc:
            key.errors.append(f"p= is not an Ed25519 key ({exc})")
            return
        key.key_bits = ED25519_BITS
        return
    try:
        public = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm, TypeError):
        key.errors.append(
            f"p= cannot be read as a public key ({len(der)} bytes that are not a DER "
            "SubjectPublicKeyInfo)"
        )
        return
    if isinstance(public, rsa.RSAPublicKey):
        if key.key_type != "rsa":
            key.errors.append(f"p= holds an RSA key but k={key.key_type}")
            return
        key.key_bits = public.key_size
        if public.key_size < MIN_RSA_BITS:
            key.errors.append(
                f"RSA key of {public.key_size} bits is too weak: verifiers reject keys "
                f"below {MIN_RSA_BITS} bits; publish a {GOOD_RSA_BITS}-bit key"
            )
        elif public.key_size < GOOD_RSA_BITS:
            key.warnings.append(
                f"RSA key of {public.key_size} bits: use {GOOD_RSA_BITS} bits "
                "(Microsoft 365 and Google both offer 2048)"
            )
    elif isinstance(public, ed25519.Ed25519PublicKey):
        if key.key_type != "ed25519":
            key.errors.append(f"p= holds an Ed25519 key but k={key.key_type}")
            return
        key.key_bits = ED25519_BITS
        key.warnings.append("ed25519 p= should be the raw 32-byte key (RFC 8463), not DER")
    else:
        key.errors.append(f"p= holds a {type(public).__name__} key: DKIM uses rsa or ed25519")


@dataclass
class DkimSelectorResult:
    """What the DNS says about one selector of a domain."""

    selector: str
    name: str
    status: DkimStatus
    cname_target: str | None = None
    key: DkimKey | None = None
    lookups: list[Lookup] = field(default_factory=list)
    records: list[str] = field(default_factory=list)

    @property
    def cname_style(self) -> CnameStyle | None:
        """Where the CNAME points: Microsoft's older or newer DKIM hosts, or elsewhere."""
        if self.cname_target is None:
            return None
        return cname_style(self.cname_target)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "selector": self.selector,
            "name": self.name,
            "status": self.status,
            "cname_target": self.cname_target,
            "cname_style": self.cname_style,
            "records": list(self.records),
            "key": None if self.key is None else self.key.to_dict(),
            "lookups": [lookup.to_dict() for lookup in self.lookups],
        }


def cname_style(target: str) -> CnameStyle:
    """``onmicrosoft`` (older Microsoft 365), ``dkim.mail.microsoft`` (newer), or ``other``."""
    name = target.rstrip(".").lower()
    if name.endswith(".onmicrosoft.com"):
        return "onmicrosoft"
    if name.endswith(".dkim.mail.microsoft"):
        return "dkim.mail.microsoft"
    return "other"


async def check_dkim_selector(domain: str, selector: str, lookup: LookupFn) -> DkimSelectorResult:
    """Look ``<selector>._domainkey.<domain>`` up (CNAME and TXT) and parse the key."""
    name = f"{selector}._domainkey.{domain.rstrip('.')}"
    cname, txt = await asyncio.gather(lookup(name, "CNAME"), lookup(name, "TXT"))
    result = DkimSelectorResult(selector, name, "missing", lookups=[cname, txt])
    if cname.status is LookupStatus.OK and cname.records:
        result.cname_target = cname.records[0].rstrip(".").lower()
    if txt.status is LookupStatus.NODATA and result.cname_target:
        # a server that did not chase the CNAME: ask the target itself
        txt = await lookup(result.cname_target, "TXT")
        result.lookups.append(txt)
    if txt.failed:
        result.status = "lookup_failed"
        return result
    if txt.empty or not txt.records:
        return result
    result.records = list(txt.records)
    candidates = [r for r in txt.records if _looks_like_dkim(r)] or list(txt.records)
    key = parse_dkim(candidates[0])
    if len(candidates) > 1:
        key.warnings.append(
            f"{len(candidates)} key records at {name}: verifiers may pick any; keep one"
        )
    result.key = key
    if key.errors:
        result.status = "invalid"
    elif key.revoked:
        result.status = "revoked"
    else:
        result.status = "ok"
    return result


def _looks_like_dkim(record: str) -> bool:
    """True for a TXT string that is meant as a DKIM key (``v=DKIM1`` or a ``p=`` tag)."""
    lowered = record.strip().lower()
    return lowered.startswith("v=dkim1") or re.search(r"(^|;)\s*p\s*=", lowered) is not None
