"""One phase of the Checklist screen: a header with its progress bar, and its items as rows."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, ProgressBar

from workspace.checklist_model import ChecklistItem, ItemState, PhaseProgress
from workspace.checklists import CHECKER

STATE_CELLS: dict[str, tuple[str, str]] = {
    "verified": ("✔ verified", "bold green"),
    "done": ("✓ done", "green"),
    "open": ("○ open", "dim"),
    "skipped": ("– skipped", "dim"),
    "blocked": ("⊘ blocked", "bold red"),
    "failing": ("✗ failing", "red"),
    "regressed": ("⚠ regressed", "bold white on red"),
    "checking": ("… checking", "bold yellow"),
}
COLUMNS = ("box", "state", "item", "who")


@dataclass(frozen=True)
class RowWidths:
    """Column widths for a screen width: the item title takes what the others leave."""

    title: int
    who: int
    wide: bool

    @classmethod
    def for_width(cls, width: int) -> RowWidths:
        """Widths that fit ``width`` cells (a scrollbar and cell padding included)."""
        wide = width >= 110
        who = 44 if wide else 20
        fixed = (3 + 2) + (11 + 2) + (who + 2) + 2 + 1
        return cls(max(20, width - fixed), who, wide)


def _local(stamp: str) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp).astimezone()
    except ValueError:
        return None


def local_time(stamp: str) -> str:
    """A stored UTC timestamp as local ``2025-05-12 14:03`` (as is when unreadable)."""
    at = _local(stamp)
    return f"{at:%Y-%m-%d %H:%M}" if at is not None else stamp


def display_label(item: ChecklistItem, checking: bool = False) -> str:
    """The state word shown: the item's status, ``checking`` while its check runs, and
    ``failing`` for an open item whose last check failed."""
    if checking:
        return "checking"
    label = item.status_label
    if label == "open" and item.last_check is not None and item.last_check.status == "fail":
        return "failing"
    return label


def who_when(item: ChecklistItem, wide: bool, today: date | None = None) -> str:
    """Who changed the item and when: ``alice 14:03`` today, ``alice 05-12`` before."""
    if not item.changed_at:
        return ""
    who = "check" if item.changed_by == CHECKER else (item.changed_by or "?")
    at = _local(item.changed_at)
    if at is None:
        return who
    if wide:
        return f"{who} {at:%Y-%m-%d %H:%M}"
    when = f"{at:%H:%M}" if at.date() == (today or date.today()) else f"{at:%m-%d}"
    return f"{who} {when}"


def _cut(text: str, width: int, style: str = "") -> Text:
    line = Text(" ".join(text.split()), style=style, no_wrap=True, overflow="ellipsis")
    line.truncate(width, overflow="ellipsis")
    return line


def who_note(item: ChecklistItem, widths: RowWidths) -> Text:
    """Who/when, then the note (shortened): ``alice 14:03 ✎ waiting for the DNS admin``."""
    cell = Text(who_when(item, widths.wide), style="dim")
    note = " ".join(item.note.split())
    if note:
        if cell.plain:
            cell.append(" ")
        cell.append(f"✎ {note}", style="italic")
    cell.truncate(widths.who, overflow="ellipsis")
    return cell


def item_cells(item: ChecklistItem, widths: RowWidths, checking: bool = False) -> list[Text]:
    """The cells of one item's row: checkbox, state, title (auto), who/when and note."""
    word, style = STATE_CELLS[display_label(item, checking)]
    box = {ItemState.DONE: "[x]", ItemState.SKIPPED: "[-]"}.get(item.state, "[ ]")
    box_style = "bold red" if item.regressed else ("green" if item.state is ItemState.DONE else "")
    auto = " (auto)" if item.check is not None else ""
    title = _cut(item.title, widths.title - len(auto), "bold red" if item.regressed else "")
    if auto:
        title.append(auto, style="dim cyan")
    return [
        Text(box, style=box_style),
        Text(word, style=style),
        title,
        who_note(item, widths),
    ]


class PhaseTable(DataTable[Text]):
    """A phase's items, one per row; up and down go on to the next phase at the edges."""

    @dataclass
    class EdgeReached(Message):
        """The cursor tried to leave the table (``step`` -1: above the first row, +1: below)."""

        table: PhaseTable
        step: int

        @property
        def control(self) -> PhaseTable:
            """The table."""
            return self.table

    def __init__(self, phase_id: str) -> None:
        super().__init__(
            cursor_type="row", show_header=False, zebra_stripes=False, id=f"phase-{phase_id}"
        )
        self.phase_id = phase_id
        self.item_ids: list[str] = []
        self._widths: RowWidths | None = None

    def action_cursor_down(self) -> None:
        """Next row, or the next phase after the last row."""
        if self.cursor_row >= self.row_count - 1:
            self.post_message(self.EdgeReached(self, 1))
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        """Previous row, or the previous phase before the first row."""
        if self.cursor_row <= 0:
            self.post_message(self.EdgeReached(self, -1))
        else:
            super().action_cursor_up()

    def show_items(
        self, items: tuple[ChecklistItem, ...], widths: RowWidths, checking: Collection[str]
    ) -> None:
        """Fill (or refresh in place) the rows, keeping the cursor where it was."""
        ids = [item.item_id for item in items]
        same_shape = ids == self.item_ids and self.columns and self._widths == widths
        if not same_shape:
            row = self.cursor_row
            self.clear(columns=True)
            for key, width in zip(COLUMNS, (3, 11, widths.title, widths.who), strict=True):
                self.add_column(key, width=width, key=key)
            for item in items:
                cells = item_cells(item, widths, item.item_id in checking)
                self.add_row(*cells, key=item.item_id)
            self.item_ids = ids
            self._widths = widths
            if 0 <= row < len(ids):
                self.move_cursor(row=row, animate=False, scroll=False)
            return
        for item in items:
            cells = item_cells(item, widths, item.item_id in checking)
            for key, cell in zip(COLUMNS, cells, strict=True):
                self.update_cell(item.item_id, key, cell)


class PhaseSection(Vertical):
    """A phase as a section: its title, a progress bar, done/total, then its items."""

    def __init__(self, phase: PhaseProgress) -> None:
        super().__init__(classes="phase-section")
        self.phase = phase

    def compose(self) -> ComposeResult:
        """Header line and the item table."""
        with Horizontal(classes="phase-head"):
            yield Label(self.phase.title, classes="phase-title")
            yield ProgressBar(total=1, show_eta=False, classes="phase-bar")
            yield Label("", classes="phase-count")
        yield PhaseTable(self.phase.id)

    @property
    def table(self) -> PhaseTable:
        """The items."""
        return self.query_one(PhaseTable)

    def show(self, phase: PhaseProgress, widths: RowWidths, checking: Collection[str]) -> None:
        """Show ``phase`` (the same phase, newer states)."""
        self.phase = phase
        self.query_one(".phase-title", Label).update(phase.title)
        bar = self.query_one(ProgressBar)
        bar.update(total=max(phase.total, 1), progress=phase.finished)
        self.query_one(".phase-count", Label).update(f"{phase.finished}/{phase.total}")
        self.table.show_items(phase.items, widths, checking)
