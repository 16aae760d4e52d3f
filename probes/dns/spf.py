"""SPF evaluation of a domain (RFC 7208): one record, its include tree, its limits.

``evaluate_spf`` fetches the domain's TXT records, keeps the SPF one and
expands every ``include:`` and ``redirect=`` (concurrently), counting:

* DNS lookups: each ``include``, ``a``, ``mx``, ``ptr``, ``exists`` and an
  honoured ``redirect`` counts 1, across the whole tree (limit 10);
* void lookups: DNS answers NXDOMAIN or NODATA for those terms (limit 2),
  each named with the term that asked it.
  ``a`` asks A, then AAAA when the name has no A; ``mx`` asks MX (counted),
  then the A/AAAA of each MX host (not counted toward 10, void when empty).
  ``ptr`` and ``exists`` are counted but not asked (they depend on the
  sender's address), nor are terms with macros (``%{i}``).

Over the lookup limit, the limit is said once, then each top-level term a
receiver reaches after the 10th lookup, with the senders that therefore fail
(:mod:`probes.dns.spf_order`).

A lookup that failed (SERVFAIL, timeout) gives ``temperror``, never
``none``. Definite errors (two records, over a limit, a loop, an include
without SPF, a syntax error anywhere in the tree) give ``permerror``, even if
another branch failed. The audit expands every term, where a receiver would
stop at the first match: it checks what every receiver may have to evaluate.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from probes.dns.model import Lookup, LookupFn, LookupStatus
from probes.dns.spf_order import LOOKUP_LIMIT, LateTerm, late_terms
from probes.dns.spf_record import (
    DNS_MECHANISMS,
    SpfRecord,
    SpfTerm,
    has_macro,
    is_spf_text,
    merge_spf,
    parse_spf,
)

__all__ = [
    "LOOKUP_LIMIT",
    "PROVIDERS",
    "VOID_LIMIT",
    "SpfEvaluation",
    "SpfRecord",
    "SpfTerm",
    "VoidLookup",
    "evaluate_spf",
    "merge_spf",
    "parse_spf",
    "provider_for",
]

VOID_LIMIT = 2
MAX_MX_HOSTS = 10
MAX_QUERIES = 60  # a guard against hostile trees: the audit asks no more than this
MAX_DEPTH = 12

PROVIDERS: dict[str, str] = {
    "_spf.google.com": "Google",
    "spf.protection.outlook.com": "Microsoft 365",
    "spf.protection.office365.us": "Microsoft 365",
    "sendgrid.net": "SendGrid",
    "servers.mcsv.net": "Mailchimp",
    "spf.mandrillapp.com": "Mailchimp (Mandrill)",
    "amazonses.com": "Amazon SES",
    "zoho.com": "Zoho",
    "zoho.eu": "Zoho",
    "zohomail.com": "Zoho",
    "mailgun.org": "Mailgun",
    "_spf.salesforce.com": "Salesforce",
    "hubspotemail.net": "HubSpot",
}
"""Known include targets (the name itself or any name under it) and their provider."""


def provider_for(target: str) -> str | None:
    """The provider an include target belongs to, if it is a known one."""
    name = target.lower().rstrip(".")
    for suffix, provider in PROVIDERS.items():
        if name == suffix or name.endswith("." + suffix):
            return provider
    return None


@dataclass(frozen=True)
class VoidLookup:
    """A DNS question of the SPF tree answered NXDOMAIN or NODATA, and the term that asked it."""

    name: str
    rtype: str
    status: LookupStatus
    term: str  # as written: "a:n1.example.com", "include:gone.example.com", "mx"
    domain: str  # the domain whose record holds the term

    @property
    def message(self) -> str:
        """The void lookup in words: the name, the answer, and where it comes from."""
        answer = f"{self.status.value} for {self.rtype}"
        return f"{self.name} ({answer}, from '{self.term}' in {self.domain})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "name": self.name,
            "type": self.rtype,
            "status": self.status.value,
            "term": self.term,
            "domain": self.domain,
        }


@dataclass
class SpfEvaluation:
    """The verdict on a domain's SPF: the record, its tree, its counts and findings."""

    domain: str
    record: str | None = None
    records: list[str] = field(default_factory=list)
    parsed: SpfRecord | None = None
    status: str = "none"  # "pass", "none", "permerror", "temperror"
    lookup_count: int = 0
    void_count: int = 0
    void_lookups: list[VoidLookup] = field(default_factory=list)
    late_terms: list[LateTerm] = field(default_factory=list)
    tree: list[dict[str, Any]] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    all_qualifier: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lookups: list[Lookup] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "domain": self.domain,
            "record": self.record,
            "records": self.records,
            "parsed": self.parsed.to_dict() if self.parsed else None,
            "status": self.status,
            "lookup_count": self.lookup_count,
            "lookup_limit": LOOKUP_LIMIT,
            "void_count": self.void_count,
            "void_limit": VOID_LIMIT,
            "void_lookups": [v.to_dict() for v in self.void_lookups],
            "late_terms": [t.to_dict() for t in self.late_terms],
            "tree": self.tree,
            "providers": self.providers,
            "all_qualifier": self.all_qualifier,
            "errors": self.errors,
            "warnings": self.warnings,
            "lookups": [lk.to_dict() for lk in self.lookups],
        }


@dataclass
class _Walk:
    """The state shared by every branch of one evaluation."""

    lookup: LookupFn
    lookups: list[Lookup] = field(default_factory=list)
    lookup_count: int = 0
    voids: list[VoidLookup] = field(default_factory=list)
    records: dict[str, SpfRecord] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    providers: set[str] = field(default_factory=set)
    queries: int = 0

    async def ask(self, name: str, rtype: str) -> Lookup | None:
        """One DNS question, recorded; None once the query budget is spent."""
        if self.queries >= MAX_QUERIES:
            return None
        self.queries += 1
        found = await self.lookup(name, rtype)
        self.lookups.append(found)
        if found.failed:
            detail = f" ({found.detail})" if found.detail else ""
            self.failures.append(f"{rtype} lookup for {name} failed: {found.status}{detail}")
        return found

    def void(self, found: Lookup | None, term: str, domain: str) -> None:
        """Remember a void answer (NXDOMAIN, NODATA) with the term that asked for it."""
        if found is not None and found.empty:
            self.voids.append(VoidLookup(found.name, found.rtype, found.status, term, domain))

    async def addresses(self, name: str, term: str, domain: str) -> None:
        """A, then AAAA when there is no A; one void lookup when neither exists."""
        found = await self.ask(name, "A")
        if found is not None and found.status is LookupStatus.NODATA:
            found = await self.ask(name, "AAAA")
        self.void(found, term, domain)

    async def expand(
        self, domain: str, record: SpfRecord, chain: tuple[str, ...], via: str
    ) -> tuple[dict[str, Any], str | None]:
        """The tree node of ``record`` and its effective ``all`` qualifier."""
        all_term = record.all_term
        redirect = record.redirect if all_term is None else None
        mechanisms = asyncio.gather(*(self.term(domain, t, chain) for t in record.mechanisms))
        qualifier = all_term.qualifier if all_term else None
        extra: dict[str, Any] | None = None
        if redirect is not None:
            found, (extra, qualifier) = await asyncio.gather(
                mechanisms, self.redirect(domain, redirect, chain)
            )
        else:
            found = await mechanisms
        children = [child for child in [*found, extra] if child is not None]
        node = {"domain": domain, "via": via, "record": record.text, "includes": children}
        return node, qualifier

    async def redirect(
        self, domain: str, redirect: str, chain: tuple[str, ...]
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The redirect target's node and qualifier (the domain's own when no ``all``)."""
        self.lookup_count += 1
        target = redirect.lower().rstrip(".")
        if has_macro(target):
            self.warnings.append(f"{domain}: 'redirect={redirect}' has a macro: not expanded")
            return None, None
        return await self.follow(domain, target, chain, "redirect")

    def note_provider(self, target: str, via: str) -> None:
        """Remember the provider of a known include target, or the unknown include."""
        provider = provider_for(target)
        if provider is not None:
            self.providers.add(provider)
        elif via == "include":
            self.providers.add(f"include:{target}")

    async def term(
        self, domain: str, term: SpfTerm, chain: tuple[str, ...]
    ) -> dict[str, Any] | None:
        """Count and ask what one mechanism needs; an include's tree node."""
        if term.name not in DNS_MECHANISMS:
            return None
        self.lookup_count += 1
        target = (term.value or domain).lower().rstrip(".")
        if term.name in ("ptr", "exists"):
            return None
        if has_macro(target):
            self.warnings.append(f"{domain}: '{term.raw}' has a macro: not expanded")
            return None
        if term.name == "a":
            await self.addresses(target, term.raw, domain)
        elif term.name == "mx":
            await self.mx(domain, target, term)
        else:
            child, _ = await self.follow(domain, target, chain, "include")
            return child
        return None

    async def mx(self, domain: str, target: str, term: SpfTerm) -> None:
        """The MX lookup (counted) and each MX host's addresses (not counted)."""
        found = await self.ask(target, "MX")
        if found is None or found.failed:
            return
        if found.empty:
            self.void(found, term.raw, domain)
            return
        hosts = [r.split()[-1].rstrip(".") for r in found.records if r.split()]
        hosts = [h for h in hosts if h]  # a null MX ("0 .") has no host
        if len(hosts) > MAX_MX_HOSTS:
            self.errors.append(f"{domain}: '{term.raw}' finds {len(hosts)} MX hosts, limit 10")
            return
        await asyncio.gather(*(self.addresses(h, f"{term.raw} (MX host)", domain) for h in hosts))

    async def follow(
        self, parent: str, target: str, chain: tuple[str, ...], via: str
    ) -> tuple[dict[str, Any], str | None]:
        """The SPF record an include or redirect points to, expanded."""
        node: dict[str, Any] = {"domain": target, "via": via, "record": None, "includes": []}
        if target in chain:
            loop = " -> ".join((*chain, target))
            self.errors.append(f"{via} loop: {loop}")
            node["loop"] = True
            return node, None
        self.note_provider(target, via)
        if len(chain) >= MAX_DEPTH:
            self.errors.append(f"{via}:{target} from {parent}: includes nested too deep")
            return node, None
        found = await self.ask(target, "TXT")
        if found is None or found.failed:
            return node, None
        self.void(found, f"{via}:{target}", parent)
        records = [r for r in found.records if is_spf_text(r)]
        if len(records) != 1:
            problem = "no SPF record" if not records else "more than one SPF record"
            self.errors.append(f"{via}:{target} (from {parent}) has {problem}")
            return node, None
        record = parse_spf(records[0])
        self.records[target] = record
        self.errors += [f"{target}: {e}" for e in record.errors]
        if via == "redirect":  # the redirect target's record stands for the domain's
            self.warnings += [f"{target}: {w}" for w in record.warnings]
        else:
            self.warnings += [f"{target}: {w}" for w in record.warnings if "ptr" in w]
        return await self.expand(target, record, (*chain, target), via)


async def evaluate_spf(domain: str, lookup: LookupFn) -> SpfEvaluation:
    """Fetch, parse and expand ``domain``'s SPF record; see the module docstring."""
    name = domain.lower().rstrip(".")
    walk = _Walk(lookup)
    evaluation = SpfEvaluation(name, lookups=walk.lookups)
    root = await walk.ask(name, "TXT")
    assert root is not None  # the first question is always within the budget
    if root.failed:
        evaluation.status = "temperror"
        evaluation.errors = list(walk.failures)
        return evaluation
    evaluation.records = [r for r in root.records if is_spf_text(r)]
    if not evaluation.records:
        return evaluation
    if len(evaluation.records) > 1:
        evaluation.status = "permerror"
        evaluation.errors.append(
            f"more than one SPF record ({len(evaluation.records)}): receivers reject both; "
            "merge them into one record, never add another"
        )
        for text in evaluation.records:
            for term in parse_spf(text).terms:
                if term.name in ("include", "redirect") and not has_macro(term.value):
                    walk.note_provider(term.value.lower().rstrip("."), via=term.name)
        evaluation.providers = sorted(walk.providers)
        return evaluation
    evaluation.record = evaluation.records[0]
    parsed = parse_spf(evaluation.record)
    evaluation.parsed = parsed
    walk.errors += parsed.errors
    walk.warnings += parsed.warnings
    node, evaluation.all_qualifier = await walk.expand(name, parsed, (name,), "root")
    evaluation.tree = [node]
    evaluation.lookup_count = walk.lookup_count
    evaluation.void_lookups = list(walk.voids)
    evaluation.void_count = len(walk.voids)
    if walk.lookup_count > LOOKUP_LIMIT:
        walk.errors.append(f"{walk.lookup_count} DNS lookups, limit {LOOKUP_LIMIT}")
        evaluation.late_terms = late_terms(name, parsed, walk.records, provider_for)
        walk.errors += [late.message for late in evaluation.late_terms]
    if evaluation.void_count > VOID_LIMIT:
        named = "; ".join(v.message for v in walk.voids)
        walk.errors.append(
            f"{evaluation.void_count} void lookups (NXDOMAIN/NODATA), limit {VOID_LIMIT}: {named}"
        )
    if walk.queries >= MAX_QUERIES:
        walk.warnings.append(f"stopped after {MAX_QUERIES} DNS questions: the counts are minimums")
    evaluation.providers = sorted(walk.providers)
    evaluation.errors = walk.errors + walk.failures
    evaluation.warnings = walk.warnings
    evaluation.status = "permerror" if walk.errors else "temperror" if walk.failures else "pass"
    return evaluation
