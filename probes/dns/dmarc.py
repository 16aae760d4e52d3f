"""DMARC evaluation of a domain (RFC 9989): the policy record and its report addresses.

``evaluate_dmarc`` fetches TXT at ``_dmarc.<domain>``, keeps the records
starting ``v=DMARC1``, parses the one there should be, and, for each
``rua``/``ruf`` address in another organisational domain, checks the
authorisation record ``<domain>._report._dmarc.<report-domain>`` (RFC 9990
section 4, formerly RFC 7489 7.1). A failed lookup gives ``temperror``, never ``none``.

The organisational domain is approximated without the Public Suffix List:
the last two labels, or the last three when the last two are a common
second-level public suffix (``co.uk``, ``com.br``, ``com.mx``, ... see
:data:`SECOND_LEVEL_SUFFIXES`). ``example.cl`` needs no entry.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from probes.dns.dmarc_record import DmarcRecord, is_dmarc_text, parse_dmarc, report_address
from probes.dns.model import ChangeAction, Lookup, LookupFn, RecordChange

__all__ = [
    "SECOND_LEVEL_SUFFIXES",
    "DmarcEvaluation",
    "DmarcRecord",
    "evaluate_dmarc",
    "organisational_domain",
    "parse_dmarc",
    "report_address",
]

SECOND_LEVEL_SUFFIXES = frozenset(
    [
        "co.uk",
        "org.uk",
        "ac.uk",
        "gov.uk",
        "me.uk",
        "com.au",
        "net.au",
        "org.au",
        "co.nz",
        "org.nz",
        "com.br",
        "net.br",
        "org.br",
        "com.mx",
        "org.mx",
        "gob.mx",
        "com.ar",
        "gob.ar",
        "com.co",
        "gov.co",
        "gob.cl",
        "com.pe",
        "gob.pe",
        "com.uy",
        "com.ve",
        "com.ec",
        "co.jp",
        "ne.jp",
        "co.kr",
        "com.cn",
        "com.tw",
        "com.hk",
        "com.sg",
        "co.in",
        "co.za",
        "co.il",
        "com.tr",
        "com.es",
        "gob.es",
    ]
)
"""Second-level public suffixes under which the organisational domain has three labels."""


def organisational_domain(domain: str) -> str:
    """The organisational domain of ``domain`` (see the module docstring for the rule)."""
    labels = domain.lower().rstrip(".").split(".")
    keep = 3 if ".".join(labels[-2:]) in SECOND_LEVEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


@dataclass
class DmarcEvaluation:
    """The verdict on a domain's DMARC record and its external report addresses."""

    domain: str
    name: str
    record: str | None = None
    records: list[str] = field(default_factory=list)
    parsed: DmarcRecord | None = None
    status: str = "none"  # "pass", "none", "permerror", "temperror"
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    authorisations: list[dict[str, Any]] = field(default_factory=list)
    changes: list[RecordChange] = field(default_factory=list)
    lookups: list[Lookup] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "domain": self.domain,
            "name": self.name,
            "record": self.record,
            "records": self.records,
            "parsed": self.parsed.to_dict() if self.parsed else None,
            "status": self.status,
            "errors": self.errors,
            "warnings": self.warnings,
            "authorisations": self.authorisations,
            "changes": [c.to_dict() for c in self.changes],
            "lookups": [lk.to_dict() for lk in self.lookups],
        }


async def _authorisation(
    domain: str, report_domain: str, addresses: list[str], lookup: LookupFn
) -> tuple[dict[str, Any], Lookup]:
    """Whether ``report_domain`` agrees to receive ``domain``'s reports."""
    name = f"{domain}._report._dmarc.{report_domain}"
    found = await lookup(name, "TXT")
    authorised: bool | None = None
    if not found.failed:
        authorised = any(is_dmarc_text(r) for r in found.records)
    row = {
        "report_domain": report_domain,
        "addresses": addresses,
        "name": name,
        "authorised": authorised,
        "lookup": found.status.value,
    }
    return row, found


async def evaluate_dmarc(domain: str, lookup: LookupFn) -> DmarcEvaluation:
    """Fetch and check ``_dmarc.<domain>``; see the module docstring."""
    domain = domain.lower().rstrip(".")
    name = f"_dmarc.{domain}"
    evaluation = DmarcEvaluation(domain, name)
    found = await lookup(name, "TXT")
    evaluation.lookups.append(found)
    if found.failed:
        evaluation.status = "temperror"
        detail = f" ({found.detail})" if found.detail else ""
        evaluation.errors.append(f"TXT lookup for {name} failed: {found.status}{detail}")
        return evaluation
    evaluation.records = [r for r in found.records if is_dmarc_text(r)]
    if not evaluation.records:
        return evaluation
    if len(evaluation.records) > 1:
        evaluation.status = "permerror"
        evaluation.errors.append(
            f"more than one DMARC record at {name} ({len(evaluation.records)}): "
            "receivers ignore them all; keep one"
        )
        return evaluation
    evaluation.record = evaluation.records[0]
    parsed = parse_dmarc(evaluation.record)
    evaluation.parsed = parsed
    evaluation.errors += parsed.errors
    evaluation.warnings += parsed.warnings
    external: dict[str, list[str]] = {}
    own = organisational_domain(domain)
    for uri in [*parsed.rua, *parsed.ruf]:
        address = report_address(uri)
        if address is None:
            continue
        report_domain = address.rpartition("@")[2].lower().rstrip(".")
        if organisational_domain(report_domain) != own:
            external.setdefault(report_domain, [])
            if address not in external[report_domain]:
                external[report_domain].append(address)
    checks = await asyncio.gather(
        *(_authorisation(domain, rd, addrs, lookup) for rd, addrs in external.items())
    )
    for row, answer in checks:
        evaluation.lookups.append(answer)
        evaluation.authorisations.append(row)
        addresses = ", ".join(row["addresses"])
        if row["authorised"] is None:
            evaluation.warnings.append(
                f"could not check that {row['report_domain']} accepts reports for {domain} "
                f"(lookup {answer.status})"
            )
        elif not row["authorised"]:
            evaluation.warnings.append(
                f"reports to {addresses} are not authorised: {row['report_domain']} must "
                f'publish TXT {row["name"]} "v=DMARC1", or receivers drop them'
            )
            evaluation.changes.append(
                RecordChange(
                    ChangeAction.ADD,
                    row["name"],
                    "TXT",
                    "v=DMARC1",
                    reason=f"in {row['report_domain']}'s zone (the report receiver's DNS)",
                )
            )
    evaluation.status = "permerror" if evaluation.errors else "pass"
    return evaluation
