"""Masking a probe's secrets in everything a server says back, in every encoding it was sent.

A server may echo what it was given in its error reply: the password, the
OAuth token, the SASL blob (base64 of ``\\0user\\0pass`` or of XOAUTH2's
``user=…\\x01auth=Bearer …\\x01\\x01``), AUTH LOGIN's base64 password, IMAP's
quoted password. :class:`SecretMask` replaces each of those forms with
:data:`MASK`, also a base64 blob the server cut short and a secret cut at
the end of the text, before anything is shown, recorded or stored. The
workspace history uses the same masking (:func:`redact`) as a second line.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

MASK = "••••••"
MIN_SECRET = 4
"""Shorter forms are not masked: they would blank out ordinary words and numbers."""

_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _blobs(secret: str, usernames: Collection[str]) -> list[tuple[str, int]]:
    """Base64 forms of the secret, each with how many leading characters hold no secret."""
    found = [(_b64(secret.encode()), 0)]
    for user in usernames:
        for before, after in ((f"\0{user}\0", ""), (f"user={user}\x01auth=Bearer ", "\x01\x01")):
            head = before.encode()
            found.append((_b64(head + secret.encode() + after.encode()), len(head) // 3 * 4))
    return found


def secret_variants(secret: str, usernames: Collection[str] = ()) -> list[str]:
    """Every form of ``secret`` a server could echo, longest first (short ones left out)."""
    found = {secret, secret.replace("\\", "\\\\").replace('"', '\\"')}
    for blob, _ in _blobs(secret, usernames):
        found.add(blob)
        found.add(blob.rstrip("="))
    for variant in list(found):
        found.add(json.dumps(variant)[1:-1])
    return sorted((v for v in found if len(v) >= MIN_SECRET), key=len, reverse=True)


@dataclass(frozen=True)
class SecretMask:
    """Replaces the secrets of one probe (and their encodings) with :data:`MASK`."""

    variants: tuple[str, ...] = ()
    blobs: tuple[tuple[str, int], ...] = ()
    plain: tuple[str, ...] = ()

    @classmethod
    def of(cls, secrets: Collection[str], usernames: Collection[str] = ()) -> SecretMask:
        """The mask of these secrets, sent as these users would send them."""
        variants: list[str] = []
        blobs: list[tuple[str, int]] = []
        plain: list[str] = []
        for secret in secrets:
            if len(secret) < MIN_SECRET:
                continue
            variants += secret_variants(secret, usernames)
            blobs += _blobs(secret, usernames)
            plain.append(secret)
        ordered = sorted(set(variants), key=len, reverse=True)
        return cls(tuple(ordered), tuple(blobs), tuple(plain))

    def __bool__(self) -> bool:
        return bool(self.variants)

    def __call__(self, text: str) -> str:
        """``text`` with every secret form masked, a blob cut short and a secret cut at the end."""
        return self._cut_tail(self.whole(text))

    def whole(self, text: str) -> str:
        """``text`` with every secret form and every blob cut short masked (not the end)."""
        if not self.variants or not text:
            return text
        for variant in self.variants:
            if variant in text:
                text = text.replace(variant, MASK)
        return _BASE64_RUN.sub(self._blob_prefix, text) if self.blobs else text

    def _blob_prefix(self, found: re.Match[str]) -> str:
        run = found.group(0).rstrip("=")
        for blob, safe in self.blobs:
            if len(run) > max(safe, MIN_SECRET) and blob.startswith(run):
                return MASK
        return found.group(0)

    def _cut_tail(self, text: str) -> str:
        """Mask the end of ``text`` when it is the start of a secret (an echo cut short)."""
        for secret in self.plain:
            for size in range(min(len(secret) - 1, len(text)), MIN_SECRET - 1, -1):
                if text.endswith(secret[:size]):
                    return text[: len(text) - size] + MASK
        return text

    def facts(self, value: Any) -> Any:
        """A JSON-ready value with every string in it masked (dicts and lists walked)."""
        if not self.variants:
            return value
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {key: self.facts(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.facts(item) for item in value]
        return value


def redact(text: str, secrets: Collection[str], usernames: Collection[str] = ()) -> str:
    """``text`` with every secret (and its SASL, base64, quoted and JSON forms) masked."""
    return SecretMask.of([s for s in secrets if s], usernames).whole(text)
