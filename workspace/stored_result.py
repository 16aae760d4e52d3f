"""Stored results read back as the typed models a live run gives.

Every run row carries ``result_schema``, the version of the JSON view it was
written with. :func:`upgrade` brings an older view to this release's shape
before :func:`typed_result` parses it, so a workspace written by an earlier
release renders exactly like a live result; a row written by a newer release
is refused with a clear message instead of being misread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from probes.mail.model import ProbeResult
from probes.stored import StoredResultError

if TYPE_CHECKING:  # the DNS engine loads on first use (start-up stays light)
    from probes.dns.audit import DnsAudit

RESULT_SCHEMA = 1
"""The version of ``ProbeResult.to_dict`` / ``DnsAudit.to_dict`` this release writes."""

MAX_STORED_TEXT = 8_000
"""Characters kept of one stored string (a reply, a banner, a transcript line)."""
MAX_STORED_ITEMS = 1_000
"""Items kept of one stored list (transcript lines, capabilities, records)."""

_UPGRADES: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}
"""``(kind, version) -> step`` turning a version's JSON view into the next version's."""


def bounded(value: Any) -> Any:
    """A JSON-ready ``value`` with long strings and lists cut, each cut said in place.

    A peer can answer with megabytes (an EHLO of 12 MB, an endless reply); the
    probe's own budgets stop most of it, and this keeps a stored result small
    whatever reached it.
    """
    if isinstance(value, str):
        if len(value) <= MAX_STORED_TEXT:
            return value
        return (
            f"{value[:MAX_STORED_TEXT]}… [cut: {len(value):,} characters, kept {MAX_STORED_TEXT:,}]"
        )
    if isinstance(value, dict):
        return {key: bounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        kept = [bounded(item) for item in value[:MAX_STORED_ITEMS]]
        if len(value) > MAX_STORED_ITEMS:
            kept.append(f"… [cut: {len(value):,} items, kept {MAX_STORED_ITEMS:,}]")
        return kept
    return value


def upgrade(kind: str, schema: int, data: object) -> dict[str, Any]:
    """``data`` (stored with ``schema``) as this release's JSON view of a ``kind`` run."""
    if not isinstance(data, dict):
        raise StoredResultError(f"stored {kind} result is not a JSON object")
    if schema > RESULT_SCHEMA:
        raise StoredResultError(
            f"stored {kind} result has schema {schema}, this mxpilot reads up to "
            f"{RESULT_SCHEMA}: upgrade mxpilot to read it"
        )
    view: dict[str, Any] = dict(data)
    for version in range(max(schema, 1), RESULT_SCHEMA):
        view = _UPGRADES[(kind, version)](view)
    return view


def typed_result(kind: str, data: dict[str, Any]) -> ProbeResult | DnsAudit:
    """The typed model of an (upgraded) stored result."""
    try:
        if kind == "probe":
            return ProbeResult.from_dict(data)
        if kind == "dns":
            from probes.dns.audit import DnsAudit

            return DnsAudit.from_dict(data)
    except StoredResultError as exc:
        raise StoredResultError(f"stored {kind} result cannot be read: {exc}") from exc
    raise StoredResultError(f"unknown kind of stored result: {kind!r}")
