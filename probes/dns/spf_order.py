"""Which senders the SPF lookup limit breaks: the terms a receiver reaches after the 10th lookup.

A receiver evaluates a record left to right, depth first into each
``include:`` (and into ``redirect=`` last, when nothing matched), and stops
with ``permerror`` at the 11th term that needs a DNS lookup (RFC 7208
4.6.4). Mail that matches a term before that point still passes; mail that
only a later term authorises fails. :func:`late_terms` replays that order
over the records the audit fetched and names the top-level terms reached
after the 10th lookup (wholly or in part).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from probes.dns.spf_record import DNS_MECHANISMS, SpfRecord, SpfTerm, has_macro

LOOKUP_LIMIT = 10


@dataclass(frozen=True)
class LateTerm:
    """A top-level term of the record that a receiver reaches after the 10th DNS lookup."""

    term: str  # as written: "include:spf.protection.outlook.com", "ip4:192.0.2.0/24"
    first: int  # the number of its first lookup (a term without any: the lookups before it)
    last: int  # the number of its last lookup (a term without any: == first)
    provider: str | None = None  # the provider an include belongs to, when known

    @property
    def partly(self) -> bool:
        """True when some of its lookups are within the limit (it breaks only in part)."""
        return self.first <= LOOKUP_LIMIT

    @property
    def message(self) -> str:
        """What breaks, in one sentence naming the term and its senders."""
        who = self.provider
        if self.partly:
            senders = f"some mail from {who}" if who else "part of the mail it authorises"
            return (
                f"{self.term} needs lookups {self.first}-{self.last}, past the 10th: "
                f"{senders} fails SPF"
            )
        senders = f"mail from {who}" if who else _senders(self.term)
        return f"{self.term} is evaluated after the 10th lookup: {senders} fails SPF"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "term": self.term,
            "first": self.first,
            "last": self.last,
            "provider": self.provider,
            "partly": self.partly,
        }


def _senders(term: str) -> str:
    """Who a term without a known provider authorises, in words."""
    name, _, value = term.lstrip("+-~?").partition(":")
    if name in ("ip4", "ip6"):
        return f"mail from {value}"
    return "mail from the servers it authorises"


def _lookups(
    domain: str,
    record: SpfRecord,
    records: Mapping[str, SpfRecord],
    chain: tuple[str, ...],
) -> int:
    """The DNS-lookup terms a receiver meets evaluating all of ``record`` (nothing matching)."""
    count = 0
    for term in record.mechanisms:
        count += _term_lookups(domain, term, records, chain)
    if record.all_term is None and record.redirect is not None:
        count += _follow_lookups(record.redirect, records, chain)
    return count


def _term_lookups(
    domain: str, term: SpfTerm, records: Mapping[str, SpfRecord], chain: tuple[str, ...]
) -> int:
    """The lookups of one mechanism: 1, plus an include's own."""
    if term.name not in DNS_MECHANISMS:
        return 0
    if term.name != "include":
        return 1
    return _follow_lookups(term.value or domain, records, chain)


def _follow_lookups(target: str, records: Mapping[str, SpfRecord], chain: tuple[str, ...]) -> int:
    """1 for the include or redirect, plus the lookups of the record it points to."""
    name = target.lower().rstrip(".")
    record = records.get(name)
    if has_macro(name) or record is None or name in chain:
        return 1
    return 1 + _lookups(name, record, records, (*chain, name))


def late_terms(
    domain: str,
    record: SpfRecord,
    records: Mapping[str, SpfRecord],
    provider_for: Callable[[str], str | None],
) -> list[LateTerm]:
    """The top-level terms of ``domain``'s ``record`` reached after the 10th lookup.

    ``records`` holds the SPF record of each include or redirect target the
    audit fetched (by lower-case name); ``provider_for`` names the provider of
    an include or redirect target, when it is a known one. ``all`` is left
    out: it authorises no sender.
    """
    chain = (domain.lower().rstrip("."),)
    late: list[LateTerm] = []
    count = 0
    items: list[tuple[str, int, str | None]] = []
    for term in record.mechanisms:
        if term.name == "all":
            continue
        spent = _term_lookups(domain, term, records, chain)
        target = (term.value or domain).lower().rstrip(".")
        items.append((term.raw, spent, provider_for(target) if term.name == "include" else None))
    if record.all_term is None and record.redirect is not None:
        target = record.redirect.lower().rstrip(".")
        spent = _follow_lookups(target, records, chain)
        items.append((f"redirect={record.redirect}", spent, provider_for(target)))
    for text, spent, provider in items:
        first, last = (count + 1, count + spent) if spent else (count, count)
        count += spent
        if last > LOOKUP_LIMIT:
            late.append(LateTerm(text, first, last, provider))
    return late
