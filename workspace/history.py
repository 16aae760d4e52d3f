"""Probe and DNS results kept as history: evidence, and "since when does it work".

A result is stored as its JSON view (``to_dict``), which holds no secret by
construction (credentials are not serialised, transcripts mask AUTH). As a
second line of defence every secret the run used is searched for in the
JSON, also base64-encoded as SASL would send it, and replaced (with the probe's
own masking, :func:`probes.mail.secrets_mask.redact`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from probes.mail.model import ProbeResult, Target
from probes.mail.secrets_mask import MASK, redact
from workspace.store import Store, now
from workspace.stored_result import RESULT_SCHEMA, bounded, typed_result, upgrade

if TYPE_CHECKING:
    from probes.dns.audit import DnsAudit

__all__ = ["MASK", "RunHistory", "RunRecord", "dns_subject", "probe_subject", "redact"]


def probe_subject(target: Target) -> str:
    """What a probe run is about: protocol, endpoint and login (never the secret)."""
    user = target.credentials.username if target.credentials else "-"
    return f"{target.label} {user}"


def dns_subject(domain: str, profile: str) -> str:
    """What a DNS audit run is about."""
    return f"dns {domain} {profile}"


@dataclass(frozen=True)
class RunRecord:
    """One stored run."""

    id: int
    kind: str
    subject: str
    account_name: str | None
    status: str
    summary: str
    started_at: str
    duration_ms: float
    result_schema: int = RESULT_SCHEMA

    def result(self, store: Store) -> dict[str, Any]:
        """The stored JSON view of the result, upgraded to this release's schema."""
        rows = store.query("SELECT result FROM runs WHERE id = ?", (self.id,))
        if not rows:
            return {}
        return upgrade(self.kind, self.result_schema, json.loads(rows[0]["result"]))

    def typed(self, store: Store) -> ProbeResult | DnsAudit | None:
        """The stored result as the typed model a live run gives (``None`` if it is gone)."""
        data = self.result(store)
        return typed_result(self.kind, data) if data else None


def _record(row: Any) -> RunRecord:
    return RunRecord(
        id=int(row["id"]),
        kind=row["kind"],
        subject=row["subject"],
        account_name=row["account_name"],
        status=row["status"],
        summary=row["summary"],
        started_at=row["started_at"],
        duration_ms=float(row["duration_ms"]),
        result_schema=int(row["result_schema"]),
    )


@dataclass(frozen=True)
class _RunRow:
    kind: str
    subject: str
    status: str
    summary: str
    duration_ms: float
    payload: str
    account_id: int | None = None
    account_name: str | None = None


def _probe_row(result: ProbeResult, account_id: int | None, account_name: str | None) -> _RunRow:
    creds = result.target.credentials
    secrets = [creds.secret] if creds else []
    users = [creds.username] if creds else []
    failure = result.failure
    summary = f"{failure.title}: {failure.summary}" if failure else "all phases passed"
    if result.diagnoses:
        summary += f" — {result.diagnoses[0].title}"
    return _RunRow(
        "probe",
        probe_subject(result.target),
        result.status.value,
        bounded(redact(summary, secrets, users)),
        round(result.duration * 1000, 1),
        _stored_json(redact(json.dumps(result.to_dict(), ensure_ascii=False), secrets, users)),
        account_id,
        account_name,
    )


def _stored_json(payload: str) -> str:
    """The (already redacted) JSON with long strings and lists cut: a cut never halves a secret."""
    return json.dumps(bounded(json.loads(payload)), ensure_ascii=False)


_COLUMNS = (
    "id, kind, subject, account_name, status, summary, started_at, duration_ms, result_schema"
)


class RunHistory:
    """Stores and queries probe and DNS runs."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _insert(self, conn: sqlite3.Connection, row: _RunRow) -> RunRecord:
        started = now()
        cursor = conn.execute(
            "INSERT INTO runs (kind, subject, account_id, account_name, status, summary, "
            "started_at, duration_ms, result, result_schema) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.kind,
                row.subject,
                row.account_id,
                row.account_name,
                row.status,
                row.summary,
                started,
                row.duration_ms,
                row.payload,
                RESULT_SCHEMA,
            ),
        )
        return RunRecord(
            int(cursor.lastrowid or 0),
            row.kind,
            row.subject,
            row.account_name,
            row.status,
            row.summary,
            started,
            row.duration_ms,
        )

    def record_probe(
        self,
        result: ProbeResult,
        *,
        account_id: int | None = None,
        account_name: str | None = None,
    ) -> RunRecord:
        """Store a probe result (its secret masked if it ever appeared)."""
        return self.record_probes([(result, account_id, account_name)])[0]

    def record_probes(
        self, results: Sequence[tuple[ProbeResult, int | None, str | None]]
    ) -> list[RunRecord]:
        """Store probe results with their accounts (id, name), in one transaction."""
        rows = [_probe_row(result, aid, name) for result, aid, name in results]
        with self.store.transaction() as conn:
            return [self._insert(conn, row) for row in rows]

    def record_dns(self, audit: DnsAudit, duration: float) -> RunRecord:
        """Store a DNS audit."""
        failing = [c.id for c in audit.checks if c.status.value == "fail"]
        summary = "fails: " + ", ".join(failing) if failing else f"{len(audit.checks)} checks"
        row = _RunRow(
            "dns",
            dns_subject(audit.domain, audit.profile.value),
            audit.status.value,
            summary,
            round(duration * 1000, 1),
            json.dumps(bounded(audit.to_dict()), ensure_ascii=False),
        )
        with self.store.transaction() as conn:
            return self._insert(conn, row)

    def get(self, run_id: int) -> RunRecord | None:
        """One run by id."""
        rows = self.store.query(f"SELECT {_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        return _record(rows[0]) if rows else None

    def recent(self, limit: int = 50, account_name: str | None = None) -> list[RunRecord]:
        """The latest runs, newest first."""
        if account_name is None:
            rows = self.store.query(
                f"SELECT {_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?", (limit,)
            )
        else:
            rows = self.store.query(
                f"SELECT {_COLUMNS} FROM runs WHERE account_name = ? ORDER BY id DESC LIMIT ?",
                (account_name, limit),
            )
        return [_record(row) for row in rows]

    def for_subject(self, subject: str) -> list[RunRecord]:
        """Every run of one subject, oldest first."""
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM runs WHERE subject = ? ORDER BY id", (subject,)
        )
        return [_record(row) for row in rows]

    def streak_start(self, subject: str) -> RunRecord | None:
        """The first run of the current streak: since when it works (or fails)."""
        start: RunRecord | None = None
        for run in self.for_subject(subject):
            if start is None or _passed(run) != _passed(start):
                start = run
        return start

    def passing_since(self, subject: str) -> RunRecord | None:
        """The first run of the current passing streak (when it started working)."""
        start = self.streak_start(subject)
        return start if start is not None and _passed(start) else None


def _passed(run: RunRecord) -> bool:
    return run.status in ("pass", "warn")
