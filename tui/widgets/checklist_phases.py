"""The Checklist screen's list: every phase as a section, one cursor running across them all."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from textual import on
from textual.containers import VerticalScroll
from textual.events import DescendantFocus
from textual.geometry import Region
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable

from tui.widgets.checklist_phase import PhaseSection, PhaseTable, RowWidths
from workspace.checklist_model import Checklist


class PhaseList(VerticalScroll):
    """Phases with their items; up/down cross from one phase to the next, tab jumps a phase."""

    @dataclass
    class ItemHighlighted(Message):
        """The cursor is on another item."""

        phase_list: PhaseList
        item_id: str

        @property
        def control(self) -> PhaseList:
            """The list."""
            return self.phase_list

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.current_id: str | None = None
        self.shape: tuple[int, tuple[str, ...]] | None = None

    @staticmethod
    def shape_of(checklist: Checklist) -> tuple[int, tuple[str, ...]]:
        """What decides whether the sections must be built again: the checklist and its items."""
        return checklist.id, tuple(item.item_id for item in checklist.items)

    async def rebuild(self, checklist: Checklist, checking: Collection[str]) -> None:
        """Mount one section per phase, fill them, and put the cursor on the current item."""
        self.shape = self.shape_of(checklist)
        await self.remove_children()
        if self.current_id not in {item.item_id for item in checklist.items}:
            self.current_id = checklist.items[0].item_id if checklist.items else None
        await self.mount_all(PhaseSection(phase) for phase in checklist.phases())
        self.show(checklist, checking)
        table = self.table_of(self.current_id)
        if table is not None:
            table.focus(scroll_visible=False)

    def clear_sections(self) -> None:
        """No checklist: nothing to show."""
        self.shape = None
        self.current_id = None
        self.remove_children()

    def widths(self) -> RowWidths:
        """Column widths for the list's width (the screen's before the first layout)."""
        width = self.size.width or self.app.size.width
        return RowWidths.for_width(width)

    def show(self, checklist: Checklist, checking: Collection[str]) -> bool:
        """Show newer states of the same items; False when the sections are not (yet) built."""
        sections = list(self.query(PhaseSection))
        phases = checklist.phases()
        if [s.phase.id for s in sections] != [p.id for p in phases]:
            return False
        widths = self.widths()
        for section, phase in zip(sections, phases, strict=True):
            section.show(phase, widths, checking)
        current = self.table_of(self.current_id)
        for table in self.query(PhaseTable):
            table.show_cursor = table is current
        if current is not None and self.current_id is not None:
            row = current.item_ids.index(self.current_id)
            if current.cursor_row != row:
                current.move_cursor(row=row, animate=False, scroll=False)
            self.call_after_refresh(self._scroll_to_row, current)
        return True

    def table_of(self, item_id: str | None) -> PhaseTable | None:
        """The table holding an item."""
        for table in self.query(PhaseTable):
            if item_id in table.item_ids:
                return table
        return None

    def select(self, table: PhaseTable, row: int) -> None:
        """Put the cursor on ``row`` of ``table`` and say so."""
        if not table.item_ids:
            return
        row = max(0, min(row, len(table.item_ids) - 1))
        self.current_id = table.item_ids[row]
        for other in self.query(PhaseTable):
            other.show_cursor = other is table
        if table.cursor_row != row:
            table.move_cursor(row=row, animate=False, scroll=False)
        self.post_message(self.ItemHighlighted(self, self.current_id))
        self.call_after_refresh(self._scroll_to_row, table)

    def _scroll_to_row(self, table: PhaseTable) -> None:
        section = table.parent
        if not isinstance(section, Widget) or not table.is_mounted:
            return
        top = section.virtual_region.y + table.virtual_region.y + table.cursor_row
        header = 1 if table.cursor_row == 0 else 0  # show the phase's header with its first row
        region = Region(0, top - header, 1, 1 + header)
        self.scroll_to_region(region, animate=False, immediate=True, force=True)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        table = event.data_table
        if isinstance(table, PhaseTable) and table.has_focus:
            self.select(table, event.cursor_row)

    @on(PhaseTable.EdgeReached)
    def _edge(self, event: PhaseTable.EdgeReached) -> None:
        event.stop()
        tables = list(self.query(PhaseTable))
        index = tables.index(event.table) + event.step
        if 0 <= index < len(tables):
            target = tables[index]
            target.focus(scroll_visible=False)
            self.select(target, 0 if event.step > 0 else len(target.item_ids) - 1)

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        """Tab (or a click) into a phase: its highlighted row becomes the current item."""
        if isinstance(event.widget, PhaseTable) and event.widget.item_ids:
            self.select(event.widget, event.widget.cursor_row)
