"""Typed views of a DNS check's ``facts``: what each check found, by check, not by string key.

``RecordCheck.facts`` stays the JSON object the audit stores (so the
``mxpilot dns --json`` schema and the history do not change); read it through
these views. Each has ``of(check)`` (None for a check of another kind) and
``from_dict(facts)``, which raises :class:`~probes.dns.stored.StoredAuditError`
when the facts are not what the audit writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from probes.dns import stored
from probes.dns.model import RecordCheck
from probes.dns.mtasts import PolicyFetch


@dataclass(frozen=True)
class MxFacts:
    """The MX check: the TTL of the MX set and whose servers it names."""

    lookup_failed: bool = False
    ttl: int | None = None
    providers: tuple[str, ...] | None = None  # None: not classified (no MX, null MX)

    @classmethod
    def of(cls, check: RecordCheck) -> MxFacts | None:
        """The facts of an ``mx`` check; None for any other check."""
        return cls.from_dict(check.facts) if check.id == "mx" else None

    @classmethod
    def from_dict(cls, facts: Mapping[str, Any]) -> MxFacts:
        """Read the facts the MX check writes."""
        what = "mx facts"
        facts = stored.record(facts, what)
        if facts.get("lookup_failed"):
            return cls(lookup_failed=True)
        if not facts:
            return cls()
        providers = stored.text_list(facts, "providers", what) if "providers" in facts else None
        return cls(
            ttl=stored.optional_integer(facts, "ttl", what),
            providers=None if providers is None else tuple(providers),
        )


@dataclass(frozen=True)
class SpfFacts:
    """The SPF evaluation: its verdict, records, lookup counts and the senders it authorises."""

    status: str
    record: str | None
    records: tuple[str, ...]
    lookup_count: int
    void_count: int
    providers: tuple[str, ...]
    all_qualifier: str | None
    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @classmethod
    def of(cls, check: RecordCheck) -> SpfFacts | None:
        """The facts of an ``spf`` check; None for any other check."""
        return cls.from_dict(check.facts) if check.id == "spf" else None

    @classmethod
    def from_dict(cls, facts: Mapping[str, Any]) -> SpfFacts:
        """Read the facts the SPF check writes (an SPF evaluation)."""
        what = "spf facts"
        facts = stored.record(facts, what)
        return cls(
            status=stored.text(facts, "status", what),
            record=stored.optional_text(facts, "record", what),
            records=tuple(stored.text_list(facts, "records", what)),
            lookup_count=stored.integer(facts, "lookup_count", what),
            void_count=stored.integer(facts, "void_count", what),
            providers=tuple(stored.text_list(facts, "providers", what)),
            all_qualifier=stored.optional_text(facts, "all_qualifier", what),
            errors=tuple(stored.text_list(facts, "errors", what)),
            warnings=tuple(stored.text_list(facts, "warnings", what)),
        )


@dataclass(frozen=True)
class DkimFacts:
    """One DKIM selector: what the DNS says, and the key's type and size when one is published."""

    selector: str
    name: str
    status: str
    cname_target: str | None
    key_type: str | None
    key_bits: int | None

    @classmethod
    def of(cls, check: RecordCheck) -> DkimFacts | None:
        """The facts of a ``dkim:<selector>`` check; None for any other check."""
        return cls.from_dict(check.facts) if check.id.startswith("dkim:") else None

    @classmethod
    def from_dict(cls, facts: Mapping[str, Any]) -> DkimFacts:
        """Read the facts a DKIM check writes (a selector's result)."""
        what = "dkim facts"
        facts = stored.record(facts, what)
        key = facts.get("key")
        key = None if key is None else stored.record(key, f"{what}.key")
        return cls(
            selector=stored.text(facts, "selector", what),
            name=stored.text(facts, "name", what),
            status=stored.text(facts, "status", what),
            cname_target=stored.optional_text(facts, "cname_target", what),
            key_type=None if key is None else stored.text(key, "key_type", f"{what}.key"),
            key_bits=None if key is None else stored.optional_integer(key, "key_bits", what),
        )


@dataclass(frozen=True)
class DmarcFacts:
    """The DMARC evaluation: its verdict, the record and the policy it sets."""

    status: str
    record: str | None
    policy: str | None
    subdomain_policy: str | None
    pct: int | None
    rua: tuple[str, ...]

    @classmethod
    def of(cls, check: RecordCheck) -> DmarcFacts | None:
        """The facts of the ``dmarc`` check; None for any other check."""
        return cls.from_dict(check.facts) if check.id == "dmarc" else None

    @classmethod
    def from_dict(cls, facts: Mapping[str, Any]) -> DmarcFacts:
        """Read the facts the DMARC check writes (a DMARC evaluation)."""
        what = "dmarc facts"
        facts = stored.record(facts, what)
        parsed = facts.get("parsed")
        tags = None if parsed is None else stored.record(parsed, f"{what}.parsed")
        return cls(
            status=stored.text(facts, "status", what),
            record=stored.optional_text(facts, "record", what),
            policy=None if tags is None else stored.optional_text(tags, "policy", what),
            subdomain_policy=(
                None if tags is None else stored.optional_text(tags, "subdomain_policy", what)
            ),
            pct=None if tags is None else stored.integer(tags, "pct", what),
            rua=() if tags is None else tuple(stored.text_list(tags, "rua", what)),
        )


@dataclass(frozen=True)
class MtaStsFacts:
    """The MTA-STS check: the policy fetch (when the TXT record led to one) and its mode."""

    fetch: PolicyFetch | None = None
    mode: str | None = None

    @classmethod
    def of(cls, check: RecordCheck) -> MtaStsFacts | None:
        """The facts of the ``mta_sts`` check; None for any other check."""
        return cls.from_dict(check.facts) if check.id == "mta_sts" else None

    @classmethod
    def from_dict(cls, facts: Mapping[str, Any]) -> MtaStsFacts:
        """Read the facts the MTA-STS check writes."""
        what = "mta_sts facts"
        facts = stored.record(facts, what)
        fetch = facts.get("fetch")
        return cls(
            fetch=None if fetch is None else PolicyFetch.from_dict(fetch),
            mode=stored.optional_text(facts, "mode", what) if "mode" in facts else None,
        )


CheckFacts = MxFacts | SpfFacts | DkimFacts | DmarcFacts | MtaStsFacts
"""What one check found, typed; the other checks keep no facts."""


def check_facts(check: RecordCheck) -> CheckFacts | None:
    """The typed facts of ``check``, or None for a check that keeps none."""
    for kind in (MxFacts, SpfFacts, DkimFacts, DmarcFacts, MtaStsFacts):
        found = kind.of(check)
        if found is not None:
            return found
    return None
