"""The MTA-STS policy file (RFC 8461 §3.2): ``key: value`` lines, and which MX it covers.

``parse_policy`` never raises: any text gives a policy whose ``errors`` say what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from probes.dns import stored
from probes.dns.mtasts.records import FIELD_NAME

MAX_AGE_LIMIT = 31_557_600  # one year (RFC 8461 §3.2)
MIN_ENFORCE_MAX_AGE = 86_400  # one day; RFC 8461 suggests weeks
STS_MODES = ("enforce", "testing", "none")

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")
_MAX_AGE = re.compile(r"[0-9]{1,10}\Z")


@dataclass
class StsPolicy:
    """The policy file served at ``https://mta-sts.<domain>/.well-known/mta-sts.txt``."""

    text: str
    version: str | None = None
    mode: str | None = None
    mx: list[str] = field(default_factory=list)
    max_age: int | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "version": self.version,
            "mode": self.mode,
            "mx": list(self.mx),
            "max_age": self.max_age,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StsPolicy:
        """The policy :meth:`to_dict` wrote (its text and raw fields are not kept there)."""
        what = "MTA-STS policy"
        data = stored.record(data, what)
        return cls(
            text="",
            version=stored.optional_text(data, "version", what),
            mode=stored.optional_text(data, "mode", what),
            mx=stored.text_list(data, "mx", what),
            max_age=stored.optional_integer(data, "max_age", what),
            errors=stored.text_list(data, "errors", what),
            warnings=stored.text_list(data, "warnings", what),
        )


def parse_policy(text: str) -> StsPolicy:
    """Parse an MTA-STS policy (CRLF or LF lines of ``key: value``); never raises."""
    policy = StsPolicy(text=text)
    single: dict[str, str] = {}
    for number, raw in enumerate(re.split(r"\r?\n", text), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not FIELD_NAME.match(key):
            policy.errors.append(f"line {number} {line[:40]!r} is not 'key: value'")
            continue
        policy.fields.append((key, value))
        if key == "mx":
            _add_mx(policy, value)
        elif key in ("version", "mode", "max_age"):
            if key in single:
                policy.warnings.append(f"{key} appears twice; the first one counts")
            else:
                single[key] = value
    _read_single_fields(policy, single)
    return policy


def _add_mx(policy: StsPolicy, pattern: str) -> None:
    """One ``mx:`` line: a host name or ``*.`` and a host name."""
    host = pattern[2:] if pattern.startswith("*.") else pattern
    labels = host.rstrip(".").split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        policy.errors.append(f"mx: {pattern[:60]!r} is not a host name or *.host pattern")
        return
    policy.mx.append(pattern.rstrip(".").lower())


def _read_single_fields(policy: StsPolicy, single: dict[str, str]) -> None:
    """version, mode and max_age: each required once."""
    policy.version = single.get("version")
    if policy.version is None:
        policy.errors.append("no version field (version: STSv1)")
    elif policy.version != "STSv1":
        policy.errors.append(f"version: {policy.version[:40]}: must be STSv1")
    policy.mode = single.get("mode")
    if policy.mode is None:
        policy.errors.append("no mode field (enforce, testing or none)")
    elif policy.mode not in STS_MODES:
        policy.errors.append(f"mode: {policy.mode[:40]}: must be enforce, testing or none")
    elif policy.mode != "none" and not policy.mx:
        policy.errors.append(f"mode {policy.mode} without any mx line: no MX can be used")
    age = single.get("max_age")
    if age is None:
        policy.errors.append("no max_age field")
    elif not _MAX_AGE.match(age):
        policy.errors.append(f"max_age: {age[:40]}: must be a number of seconds")
    else:
        policy.max_age = int(age)
        if policy.max_age > MAX_AGE_LIMIT:
            policy.errors.append(f"max_age {policy.max_age} is above {MAX_AGE_LIMIT} (one year)")
        elif policy.mode == "enforce" and policy.max_age < MIN_ENFORCE_MAX_AGE:
            policy.warnings.append(
                f"max_age {policy.max_age} is below one day ({MIN_ENFORCE_MAX_AGE}): "
                "senders forget the policy too soon; use weeks (e.g. 604800)"
            )


def mx_matches(pattern: str, host: str) -> bool:
    """True when an MTA-STS ``mx`` pattern covers ``host`` (``*.`` is exactly one label)."""
    pattern = pattern.rstrip(".").lower()
    host = host.rstrip(".").lower()
    if pattern.startswith("*."):
        first, dot, rest = host.partition(".")
        return bool(first) and bool(dot) and rest == pattern[2:]
    return host == pattern


def policy_covers(policy: StsPolicy, mx_hosts: Iterable[str]) -> list[str]:
    """The MX hosts that no ``mx`` pattern of the policy matches (empty: all covered)."""
    return [
        host for host in mx_hosts if not any(mx_matches(pattern, host) for pattern in policy.mx)
    ]
