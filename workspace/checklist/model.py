"""A checklist instance as the workspace holds it: items, states, evidence."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from probes.status import Status
from workspace.checklist.check_spec import CheckSpec
from workspace.checklist.template import RemediationCommand


class ItemState(enum.StrEnum):
    """Where an item stands (set by hand, or ``done`` by a passing check)."""

    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"
    BLOCKED = "blocked"


@dataclass
class CheckOutcome:
    """What one run of an item's check found, before it is stored."""

    item_id: str
    status: Status
    summary: str
    run_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ItemCheck:
    """One run of an item's check: when, the verdict, and the stored runs behind it."""

    id: int
    at: str
    status: str
    summary: str
    run_ids: tuple[int, ...]

    @property
    def passed(self) -> bool:
        """True when the check proved the item (pass, or pass with warnings)."""
        return self.status in ("pass", "warn")


@dataclass(frozen=True)
class ChecklistItem:
    """One item of a checklist instance with its state and evidence."""

    item_id: str
    position: int
    phase_id: str
    phase_title: str
    title: str
    help: str
    commands: tuple[RemediationCommand, ...] = ()
    check: CheckSpec | None = None
    state: ItemState = ItemState.OPEN
    changed_at: str | None = None
    changed_by: str | None = None
    note: str = ""
    verified: bool = False
    regressed: bool = False
    evidence: ItemCheck | None = None
    last_check: ItemCheck | None = None
    revision: int = 1

    @property
    def finished(self) -> bool:
        """Done or skipped: counts towards progress."""
        return self.state in (ItemState.DONE, ItemState.SKIPPED)

    def filled_commands(
        self, values: Mapping[str, str], lang: str = "en"
    ) -> tuple[RemediationCommand, ...]:
        """The item's commands ready to show and copy: values quoted for each shell.

        A command whose value cannot be quoted safely comes back ``refused``,
        its ``command`` the message saying why in ``lang`` (never the command).
        """
        return tuple(command.render(values, lang) for command in self.commands)

    @property
    def status_label(self) -> str:
        """What the item shows: regressed, verified, done, open, skipped, blocked."""
        if self.regressed:
            return "regressed"
        if self.state is ItemState.DONE and self.verified:
            return "verified"
        return self.state.value


@dataclass(frozen=True)
class PhaseProgress:
    """The items of one phase and how far they are."""

    id: str
    title: str
    items: tuple[ChecklistItem, ...]

    @property
    def finished(self) -> int:
        """Items done or skipped."""
        return sum(1 for item in self.items if item.finished)

    @property
    def total(self) -> int:
        """Items in the phase."""
        return len(self.items)


@dataclass(frozen=True)
class Checklist:
    """A checklist instance: a template's items for one domain, with progress."""

    id: int
    name: str
    template: str
    lang: str
    title: str
    domain: str
    tenant: str
    created_at: str
    items: tuple[ChecklistItem, ...] = field(default=())

    def item(self, item_id: str) -> ChecklistItem:
        """One item by id (KeyError naming the close ids otherwise)."""
        for item in self.items:
            if item.item_id == item_id:
                return item
        close = [i.item_id for i in self.items if item_id.lower() in i.item_id]
        hint = f"; did you mean {', '.join(close[:5])}?" if close else ""
        raise KeyError(f"no item {item_id!r} in checklist {self.name!r}{hint}")

    def phases(self) -> list[PhaseProgress]:
        """Items grouped by phase, in order."""
        order: dict[str, list[ChecklistItem]] = {}
        titles: dict[str, str] = {}
        for item in self.items:
            order.setdefault(item.phase_id, []).append(item)
            titles.setdefault(item.phase_id, item.phase_title)
        return [PhaseProgress(pid, titles[pid], tuple(items)) for pid, items in order.items()]

    @property
    def finished(self) -> int:
        """Items done or skipped."""
        return sum(1 for item in self.items if item.finished)

    @property
    def open_items(self) -> list[ChecklistItem]:
        """Items still to do (open, blocked, or regressed)."""
        return [i for i in self.items if not i.finished or i.regressed]

    def values(self, mailbox: str = "", source_mailbox: str = "") -> dict[str, str]:
        """Placeholder values for help texts and commands."""
        values = {
            "domain": self.domain,
            "domain_dashed": self.domain.replace(".", "-"),
        }
        if self.tenant:
            values["tenant"] = f"{self.tenant}.onmicrosoft.com"
        if mailbox:
            values["mailbox"] = mailbox
        if source_mailbox:
            values["source_mailbox"] = source_mailbox
        return values
