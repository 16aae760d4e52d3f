"""How one phase of the Checklist screen reads: its heading line with a progress bar, its rows.

Plain functions from the workspace's items to Rich text; the list widget
(``checklist_phases``) lays them out, one line each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from rich.style import Style
from rich.text import Text

from render.text import one_line, shown
from workspace.checklist.book import CHECKER
from workspace.checklist.model import Checklist, ChecklistItem, ItemState, PhaseProgress

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
BAR_WIDTH = 14


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
    line = Text(shown(" ".join(text.split())), style=style, no_wrap=True, overflow="ellipsis")
    line.truncate(width, overflow="ellipsis")
    return line


def who_note(item: ChecklistItem, widths: RowWidths) -> Text:
    """Who/when, then the note (shortened): ``alice 14:03 ✎ waiting for the DNS admin``."""
    cell = Text(shown(who_when(item, widths.wide)), style="dim")
    note = " ".join(item.note.split())
    if note:
        if cell.plain:
            cell.append(" ")
        cell.append(shown(f"✎ {note}"), style="italic")
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


@dataclass(frozen=True)
class BarStyles:
    """Colours of a progress bar: done so far, all done, still to do."""

    done: Style
    complete: Style
    rest: Style


def progress_text(finished: int, total: int, styles: BarStyles, width: int = BAR_WIDTH) -> Text:
    """A one-line progress bar, the percentage and done/total: ``━━━━╺━━━━  25%  4/16``."""
    share = finished / total if total else 0.0
    full, half = divmod(round(share * width * 2), 2)
    done = "━" * full + ("╸" if half else "")
    rest = (("╺" if done and not half else "") + "━" * width)[: width - len(done)]
    text = Text(no_wrap=True)
    text.append(done, styles.complete if total and finished >= total else styles.done)
    text.append(rest, styles.rest)
    text.append(f" {round(share * 100):3d}%  {finished}/{total}")
    return text


def heading_text(phase: PhaseProgress, width: int, styles: BarStyles) -> Text:
    """A phase's heading: its title, then the progress on the right, ``width`` cells."""
    progress = progress_text(phase.finished, phase.total, styles)
    room = max(1, width - progress.cell_len - 1)
    title = _cut(phase.title, room)
    title.stylize("bold")
    title.pad_right(room - title.cell_len)
    line = Text(no_wrap=True)
    line.append_text(title)
    line.append(" ")
    line.append_text(progress)
    return line


def row_columns(cells: list[Text], widths: RowWidths) -> list[Text]:
    """An item's cells, each in its column with a space either side (the filling unstyled:
    a cell's style covers its text only)."""
    columns = []
    for cell, width in zip(cells, (3, 11, widths.title, widths.who), strict=True):
        cell = cell.copy()
        cell.truncate(width, overflow="ellipsis")
        column = Text(" ", no_wrap=True)
        column.append_text(cell)
        column.append(" " * (width - cell.cell_len + 1))
        columns.append(column)
    return columns


def summary_text(checklist: Checklist | None, checking: int = 0) -> Text | str:
    """The screen's summary line: title, domain, done, verified, regressed, checking."""
    if checklist is None:
        return "Checklist"
    text = one_line(f"{checklist.title} — {checklist.domain}", style="bold")
    text.append(f" · {checklist.finished}/{len(checklist.items)} done")
    verified = sum(1 for i in checklist.items if i.status_label == "verified")
    text.append(f" · ✔ {verified} verified" if verified else "", style="green")
    regressed = sum(1 for i in checklist.items if i.regressed)
    if regressed:
        text.append(f" · ⚠ {regressed} regressed", style="bold red")
    if checking:
        text.append(f" · checking {checking}…", style="bold yellow")
    return text
