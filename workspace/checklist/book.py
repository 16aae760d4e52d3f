"""Checklist instances in the workspace: create from a template, tick, note, verify.

Every change is one transaction that also appends an event (who, when,
what), so the history of an item can be shown and a crash never leaves a
state without its event.
"""

from __future__ import annotations

import getpass
import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from probes.status import Status
from workspace.checklist.check_spec import CheckSpec
from workspace.checklist.model import (
    Checklist,
    ChecklistItem,
    CheckOutcome,
    ItemCheck,
    ItemState,
)
from workspace.checklist.template import RemediationCommand, load_template
from workspace.store import Store, now

CHECKER = "mxpilot (check)"
MAX_NOTE = 4000
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DOMAIN = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def current_user() -> str:
    """Who is making a change (the OS login name)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def tenant_name(text: str) -> str:
    """The tenant's short name: ``contoso`` from ``contoso.onmicrosoft.com`` or ``contoso``."""
    name = text.strip().lower().rstrip(".")
    if name.endswith(".onmicrosoft.com"):
        name = name[: -len(".onmicrosoft.com")]
    if name and not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", name):
        raise ChecklistError(f"tenant {text!r}: give the name before .onmicrosoft.com")
    return name


class ChecklistError(ValueError):
    """A checklist request that cannot be done, with a message for the user."""


@dataclass(frozen=True)
class ChecklistEvent:
    """One change of one item."""

    at: str
    actor: str
    item_id: str
    action: str
    detail: str


def _check(row: sqlite3.Row | None) -> ItemCheck | None:
    if row is None:
        return None
    return ItemCheck(
        id=int(row["id"]),
        at=row["at"],
        status=row["status"],
        summary=row["summary"],
        run_ids=tuple(int(r) for r in json.loads(row["run_ids"])),
    )


class ChecklistBook:
    """The checklist instances of a workspace."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(
        self,
        domain: str,
        *,
        template: str = "gmail-to-m365",
        lang: str = "en",
        name: str | None = None,
        tenant: str = "",
    ) -> Checklist:
        """A new checklist instance of ``template`` for ``domain``."""
        domain = domain.strip().rstrip(".").lower()
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ChecklistError(f"{domain!r} is not a valid domain name") from None
        if not DOMAIN.match(domain):
            raise ChecklistError(f"{domain!r} is not a domain name like example.com")
        chosen = load_template(template, lang)
        tenant = tenant_name(tenant)
        name = (name or domain).strip()
        if not NAME.match(name):
            raise ChecklistError(
                f"checklist name {name!r}: 1-64 letters, digits, dot, dash or underscore"
            )
        stamp = now()
        with self.store.transaction() as conn:
            try:
                cursor = conn.execute(
                    "INSERT INTO checklists (name, template, template_version, lang, title, "
                    "domain, tenant, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, chosen.id, chosen.version, lang, chosen.title, domain, tenant, stamp),
                )
            except sqlite3.IntegrityError:
                raise ChecklistError(f"a checklist named {name!r} exists") from None
            checklist_id = int(cursor.lastrowid or 0)
            for position, item in enumerate(chosen.items):
                phase = next(p for p in chosen.phases if p.id == item.phase)
                conn.execute(
                    "INSERT INTO checklist_items (checklist_id, item_id, position, phase_id, "
                    "phase_title, title, help, commands, check_spec) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        checklist_id,
                        item.id,
                        position,
                        phase.id,
                        phase.title,
                        item.title,
                        item.help,
                        json.dumps([_command_dict(c) for c in item.commands], ensure_ascii=False),
                        json.dumps(item.check.to_dict()) if item.check else None,
                    ),
                )
        return self.get(name)

    def names(self) -> list[str]:
        """Checklist names, oldest first."""
        return [str(r["name"]) for r in self.store.query("SELECT name FROM checklists ORDER BY id")]

    def get(self, name: str | None = None) -> Checklist:
        """A checklist by name; without a name the only (or the newest) one."""
        if name is None:
            rows = self.store.query("SELECT * FROM checklists ORDER BY id DESC LIMIT 1")
            if not rows:
                raise ChecklistError("no checklist yet: create one with 'mxpilot checklist new'")
        else:
            rows = self.store.query("SELECT * FROM checklists WHERE name = ?", (name,))
            if not rows:
                known = ", ".join(self.names()) or "none"
                raise ChecklistError(f"no checklist named {name!r} (checklists: {known})")
        head = rows[0]
        checks = {
            int(r["id"]): r
            for r in self.store.query("SELECT * FROM checks WHERE checklist_id = ?", (head["id"],))
        }
        items = tuple(
            _item(row, checks)
            for row in self.store.query(
                "SELECT * FROM checklist_items WHERE checklist_id = ? ORDER BY position",
                (head["id"],),
            )
        )
        return Checklist(
            id=int(head["id"]),
            name=head["name"],
            template=head["template"],
            lang=head["lang"],
            title=head["title"],
            domain=head["domain"],
            tenant=head["tenant"],
            created_at=head["created_at"],
            items=items,
        )

    def _item_row(self, conn: sqlite3.Connection, checklist: Checklist, item_id: str) -> Any:
        checklist.item(item_id)  # KeyError with suggestions
        return conn.execute(
            "SELECT * FROM checklist_items WHERE checklist_id = ? AND item_id = ?",
            (checklist.id, item_id),
        ).fetchone()

    def _event(
        self,
        conn: sqlite3.Connection,
        checklist: Checklist,
        item_id: str,
        actor: str,
        action: str,
        detail: str = "",
    ) -> None:
        conn.execute(
            "INSERT INTO checklist_events (checklist_id, item_id, at, actor, action, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (checklist.id, item_id, now(), actor, action, detail),
        )

    def set_state(
        self,
        checklist: Checklist,
        item_id: str,
        state: ItemState,
        *,
        actor: str | None = None,
        note: str | None = None,
    ) -> ChecklistItem:
        """Tick (or reopen, skip, block) an item by hand."""
        actor = actor or current_user()
        with self.store.transaction() as conn:
            row = self._item_row(conn, checklist, item_id)
            verified = bool(row["verified"]) and state is ItemState.DONE
            regressed = bool(row["regressed"]) and state is ItemState.DONE
            conn.execute(
                "UPDATE checklist_items SET state = ?, verified = ?, regressed = ?, "
                "changed_at = ?, changed_by = ?, revision = revision + 1 "
                "WHERE checklist_id = ? AND item_id = ?",
                (state.value, verified, regressed, now(), actor, checklist.id, item_id),
            )
            self._event(conn, checklist, item_id, actor, state.value)
            if note is not None:
                self._set_note(conn, checklist, item_id, note, actor)
        return self.get(checklist.name).item(item_id)

    def set_note(
        self, checklist: Checklist, item_id: str, note: str, *, actor: str | None = None
    ) -> ChecklistItem:
        """Replace an item's note."""
        actor = actor or current_user()
        with self.store.transaction() as conn:
            self._item_row(conn, checklist, item_id)
            self._set_note(conn, checklist, item_id, note, actor)
        return self.get(checklist.name).item(item_id)

    def _set_note(
        self, conn: sqlite3.Connection, checklist: Checklist, item_id: str, note: str, actor: str
    ) -> None:
        if len(note) > MAX_NOTE:
            raise ChecklistError(f"a note has at most {MAX_NOTE} characters")
        conn.execute(
            "UPDATE checklist_items SET note = ?, revision = revision + 1 "
            "WHERE checklist_id = ? AND item_id = ?",
            (note, checklist.id, item_id),
        )
        self._event(conn, checklist, item_id, actor, "note", note)

    def record_check(
        self,
        checklist: Checklist,
        item_id: str,
        status: Status,
        summary: str,
        run_ids: list[int],
    ) -> ChecklistItem:
        """Store the outcome of one item's check and apply it (see :meth:`record_checks`)."""
        self.record_checks(checklist, [CheckOutcome(item_id, status, summary, run_ids)])
        return self.get(checklist.name).item(item_id)

    def record_checks(self, checklist: Checklist, outcomes: Sequence[CheckOutcome]) -> None:
        """Store the outcomes of items' checks and apply them, in one transaction.

        A pass ticks the item (verified, with this check as evidence) and
        clears a regression; a failure of an item that was done marks it
        regressed; ``skipped`` (the check could not run) changes nothing but
        is kept.
        """
        stamp = now()
        with self.store.transaction() as conn:
            for outcome in outcomes:
                self._apply(conn, checklist, outcome, stamp)

    def _apply(
        self, conn: sqlite3.Connection, checklist: Checklist, outcome: CheckOutcome, stamp: str
    ) -> None:
        item_id, status, summary = outcome.item_id, outcome.status, outcome.summary
        row = self._item_row(conn, checklist, item_id)
        cursor = conn.execute(
            "INSERT INTO checks (checklist_id, item_id, at, status, summary, run_ids) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (checklist.id, item_id, stamp, status.value, summary, json.dumps(outcome.run_ids)),
        )
        check_id = int(cursor.lastrowid or 0)
        where = (checklist.id, item_id)
        if status in (Status.PASS, Status.WARN):
            was = "verified" if row["verified"] and row["state"] == "done" else None
            conn.execute(
                "UPDATE checklist_items SET state = 'done', verified = 1, regressed = 0, "
                "evidence_check_id = ?, last_check_id = ?, revision = revision + 1, "
                "changed_at = CASE WHEN ? IS NULL THEN ? ELSE changed_at END, "
                "changed_by = CASE WHEN ? IS NULL THEN ? ELSE changed_by END "
                "WHERE checklist_id = ? AND item_id = ?",
                (check_id, check_id, was, stamp, was, CHECKER, *where),
            )
            action = "recovered" if row["regressed"] else "verified"
        elif status is Status.FAIL:
            regressed = row["state"] == "done"
            conn.execute(
                "UPDATE checklist_items SET last_check_id = ?, regressed = ?, "
                "revision = revision + 1 WHERE checklist_id = ? AND item_id = ?",
                (check_id, regressed or bool(row["regressed"]), *where),
            )
            action = "regressed" if regressed else "check failed"
        else:
            conn.execute(
                "UPDATE checklist_items SET last_check_id = ? "
                "WHERE checklist_id = ? AND item_id = ?",
                (check_id, *where),
            )
            action = "check not run"
        self._event(conn, checklist, item_id, CHECKER, action, summary)

    def events(self, checklist: Checklist, item_id: str | None = None) -> list[ChecklistEvent]:
        """The change log of a checklist (or one item), oldest first."""
        sql = "SELECT * FROM checklist_events WHERE checklist_id = ?"
        params: tuple[object, ...] = (checklist.id,)
        if item_id is not None:
            sql += " AND item_id = ?"
            params += (item_id,)
        return [
            ChecklistEvent(r["at"], r["actor"], r["item_id"], r["action"], r["detail"])
            for r in self.store.query(sql + " ORDER BY id", params)
        ]


def _command_dict(command: RemediationCommand) -> dict[str, str]:
    return {"shell": command.shell, "command": command.command, "note": command.note}


def _item(row: sqlite3.Row, checks: dict[int, sqlite3.Row]) -> ChecklistItem:
    spec = json.loads(row["check_spec"]) if row["check_spec"] else None
    evidence = checks.get(row["evidence_check_id"]) if row["evidence_check_id"] else None
    last = checks.get(row["last_check_id"]) if row["last_check_id"] else None
    return ChecklistItem(
        item_id=row["item_id"],
        position=int(row["position"]),
        phase_id=row["phase_id"],
        phase_title=row["phase_title"],
        title=row["title"],
        help=row["help"],
        commands=tuple(RemediationCommand(**c) for c in json.loads(row["commands"])),
        check=CheckSpec.from_dict(spec) if spec else None,
        state=ItemState(row["state"]),
        changed_at=row["changed_at"],
        changed_by=row["changed_by"],
        note=row["note"],
        verified=bool(row["verified"]),
        regressed=bool(row["regressed"]),
        evidence=_check(evidence),
        last_check=_check(last),
        revision=int(row["revision"]),
    )
