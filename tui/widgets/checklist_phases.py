"""The Checklist screen's list: every phase as a heading line with its items below, one cursor.

One widget draws the whole list line by line (only the lines on screen are
rendered): a phase is a heading (title, progress bar, done/total) and a row
per item. Up and down run across the phases, tab and shift+tab jump a phase.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.widgets.checklist_rows import (
    BarStyles,
    RowWidths,
    heading_text,
    item_cells,
    row_columns,
)
from workspace.checklist.model import Checklist, ChecklistItem, PhaseProgress

WIDE = 120  # from this width on, the item's detail is on the right (45% of the width)


@dataclass(frozen=True)
class Line:
    """One line of the list: a phase's heading (``item`` None) or one of its items."""

    phase: int
    item: ChecklistItem | None = None


class PhaseList(ScrollView, can_focus=True):
    """Phases with their items; up/down cross from one phase to the next, tab jumps a phase."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Previous item", show=False, id="checklist.item_up"),
        Binding("down", "cursor(1)", "Next item", show=False, id="checklist.item_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="checklist.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="checklist.page_down"),
        Binding("home", "edge(0)", "First item", show=False, id="checklist.first_item"),
        Binding("end", "edge(-1)", "Last item", show=False, id="checklist.last_item"),
        Binding("tab", "phase(1)", "Next phase", show=False, id="checklist.next_phase"),
        Binding("shift+tab", "phase(-1)", "Previous phase", show=False, id="checklist.prev_phase"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "phase-list--heading",
        "phase-list--row",
        "phase-list--cursor",
        "phase-list--hover",
        "phase-list--bar",
        "phase-list--bar-complete",
        "phase-list--bar-rest",
    }
    DEFAULT_CSS = """
    PhaseList {
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    PhaseList > .phase-list--heading {
        background: $panel;
    }
    PhaseList > .phase-list--row {
        background: $surface;
    }
    PhaseList:focus > .phase-list--row {
        background-tint: $foreground 5%;
    }
    PhaseList > .phase-list--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    PhaseList:focus > .phase-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    PhaseList > .phase-list--hover {
        background: $block-hover-background;
    }
    PhaseList > .phase-list--bar {
        color: $primary;
    }
    PhaseList > .phase-list--bar-complete {
        color: $success;
    }
    PhaseList > .phase-list--bar-rest {
        color: $surface;
    }
    """

    @dataclass
    class ItemHighlighted(Message):
        """The cursor is on another item."""

        phase_list: PhaseList
        item_id: str

        @property
        def control(self) -> PhaseList:
            """The list."""
            return self.phase_list

    def __init__(
        self,
        checklist: Checklist | None = None,
        checking: Collection[str] = (),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.current_id: str | None = None
        self.shape: tuple[int, tuple[str, ...]] | None = None
        self.phases: list[PhaseProgress] = []
        self._lines: list[Line] = []
        self._checking: frozenset[str] = frozenset()
        self._rows: dict[tuple[str, int], list[Segment]] = {}  # drawn rows by (item, width)
        self._hover: int | None = None
        self._layer_cache: dict[tuple[str, ...], Style] = {}
        if checklist is not None:
            self.show(checklist, checking)

    @staticmethod
    def shape_of(checklist: Checklist) -> tuple[int, tuple[str, ...]]:
        """What decides whether the cursor starts again at the top: the checklist and its items."""
        return checklist.id, tuple(item.item_id for item in checklist.items)

    # -- contents ----------------------------------------------------------------------------

    def show(self, checklist: Checklist, checking: Collection[str]) -> None:
        """Show the checklist (newer states, or another checklist); the cursor stays if it can."""
        self.shape = self.shape_of(checklist)
        self.phases = checklist.phases()
        self._lines = [
            line
            for index, phase in enumerate(self.phases)
            for line in (Line(index), *(Line(index, item) for item in phase.items))
        ]
        self._checking = frozenset(checking)
        self._rows.clear()
        if self.current_id not in {item.item_id for item in checklist.items}:
            self.current_id = checklist.items[0].item_id if checklist.items else None
        self._set_virtual_height(len(self._lines))
        self.refresh()
        if self.is_mounted:
            self.call_after_refresh(self._scroll_to_cursor)

    def clear_phases(self) -> None:
        """No checklist: nothing to show."""
        self.shape = None
        self.current_id = None
        self.phases = []
        self._lines = []
        self._rows.clear()
        self._set_virtual_height(0)
        self.refresh()

    def _set_virtual_height(self, height: int) -> None:
        if self.is_mounted:
            self.virtual_size = Size(0, height)
        else:  # before the first layout: no watcher to run yet
            self.set_reactive(ScrollView.virtual_size, Size(0, height))

    def widths(self) -> RowWidths:
        """Column widths for the list's width (the screen's share before the first layout)."""
        return RowWidths.for_width(self.size.width or self.expected_width())

    def expected_width(self) -> int:
        """Before the first layout: the list's share of the screen (all of it when narrow)."""
        width = self.app.size.width
        return width - int(width * 0.45) if width >= WIDE else width

    def row_cells(self, item_id: str) -> list[Text]:
        """The cells shown for an item: checkbox, state, title, who/when and note."""
        for line in self._lines:
            if line.item is not None and line.item.item_id == item_id:
                return item_cells(line.item, self.widths(), item_id in self._checking)
        raise KeyError(item_id)

    def heading(self, index: int) -> Text:
        """The heading shown for a phase (by position): its title, progress bar and count."""
        width = self.scrollable_content_region.width or self.expected_width() - 1
        return heading_text(self.phases[index], width - 2, self._bar)  # less the margins

    # -- drawing -----------------------------------------------------------------------------

    @property
    def _bar(self) -> BarStyles:
        def colour(name: str) -> Style:
            return Style.from_color(self.get_component_rich_style(name).color)

        return BarStyles(
            colour("phase-list--bar"),
            colour("phase-list--bar-complete"),
            colour("phase-list--bar-rest"),
        )

    def render_line(self, y: int) -> Strip:
        """One line of the list (``y`` counts from the top of the visible area)."""
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, self.rich_style)
        line = self._lines[index]
        if line.item is None:  # a cell of margin either side, as padding is drawn
            style = self._layered("phase-list--heading")
            margin = Style.from_color(bgcolor=style.bgcolor)
            text = heading_text(self.phases[line.phase], width - 2, self._bar)
            drawn = Segment.apply_style(text.render(self.app.console, end=""), style)
            return Strip([Segment(" ", margin), *drawn]).adjust_cell_length(width, margin)
        if line.item.item_id == self.current_id:
            style = self._layered("phase-list--row", "phase-list--cursor")
        elif index == self._hover:
            style = self._layered("phase-list--row", "phase-list--hover")
        else:
            style = self._layered("phase-list--row")
        drawn = Segment.apply_style(self._row(line.item, width), style)
        return Strip(drawn).adjust_cell_length(width, style)

    def _layered(self, *names: str) -> Style:
        """The list's style with component styles laid over it in turn, the way Textual lays
        a widget over its parent: backgrounds blend (a translucent cursor shows the row's
        background through), the last colour and text style win."""
        style = self._layer_cache.get(names)
        if style is None:
            background, color = self.background_colors[1], self.colors[3]
            text_style = Style()
            for name in names:
                layer = self.get_component_styles(name)
                if layer.has_rule("background"):
                    background += layer.background.tint(layer.background_tint)
                if layer.has_rule("color"):
                    color = layer.color
                text_style += layer.text_style
            style = text_style + Style.from_color(
                (background + color).rich_color, background.rich_color
            )
            self._layer_cache[names] = style
        return style

    def notify_style_update(self) -> None:
        """Focus, hover or the theme changed the component styles: compute them again."""
        self._layer_cache.clear()
        super().notify_style_update()

    def _row(self, item: ChecklistItem, width: int) -> list[Segment]:
        """An item's row as segments, a column at a time (cached until it or the width change)."""
        key = (item.item_id, width)
        row = self._rows.get(key)
        if row is None:
            widths = self.widths()
            cells = item_cells(item, widths, item.item_id in self._checking)
            console = self.app.console
            row = [  # each column tagged with its number, as a table's cells are
                segment
                for number, column in enumerate(row_columns(cells, widths))
                for segment in Segment.apply_style(
                    column.render(console, end=""), post_style=Style.from_meta({"column": number})
                )
            ]
            self._rows[key] = row
        return row

    def on_resize(self) -> None:
        """Columns follow the width."""
        self._rows.clear()

    # -- the cursor --------------------------------------------------------------------------

    def _item_lines(self) -> list[int]:
        return [n for n, line in enumerate(self._lines) if line.item is not None]

    def _cursor_line(self) -> int | None:
        for n, line in enumerate(self._lines):
            if line.item is not None and line.item.item_id == self.current_id:
                return n
        return None

    def select_line(self, index: int) -> None:
        """Put the cursor on the item of line ``index`` (a heading: its phase's first item)."""
        if not 0 <= index < len(self._lines):
            return
        if self._lines[index].item is None and index + 1 < len(self._lines):
            index += 1
        item = self._lines[index].item
        if item is None:
            return
        self._scroll_to_line(index)
        if item.item_id != self.current_id:
            self.current_id = item.item_id
            self.refresh()
            self.post_message(self.ItemHighlighted(self, item.item_id))

    def action_cursor(self, step: int) -> None:
        """The next (``step`` 1) or previous (-1) item, across phases."""
        lines, current = self._item_lines(), self._cursor_line()
        if current is None or not lines:
            return
        position = max(0, min(lines.index(current) + step, len(lines) - 1))
        self.select_line(lines[position])

    def action_page(self, step: int) -> None:
        """A page down (``step`` 1) or up (-1)."""
        lines, current = self._item_lines(), self._cursor_line()
        if current is None or not lines:
            return
        target = current + step * max(1, self.scrollable_content_region.height - 1)
        candidates = [n for n in lines if (n >= target if step < 0 else n <= target)]
        self.select_line((candidates[0] if step < 0 else candidates[-1]) if candidates else current)

    def action_edge(self, end: int) -> None:
        """The first (``end`` 0) or the last (-1) item."""
        lines = self._item_lines()
        if lines:
            self.select_line(lines[end])

    def action_phase(self, step: int) -> None:
        """The first item of the next (``step`` 1) or previous (-1) phase; past the last or
        the first phase, the focus moves on as tab usually does."""
        current = self._cursor_line()
        phase = self._lines[current].phase + step if current is not None else -1
        if not 0 <= phase < len(self.phases):
            if step > 0:
                self.screen.focus_next()
            else:
                self.screen.focus_previous()
            return
        heading = next(n for n, line in enumerate(self._lines) if line.phase == phase)
        self.select_line(heading)

    def _scroll_to_cursor(self) -> None:
        line = self._cursor_line()
        if line is not None:
            self._scroll_to_line(line)

    def _scroll_to_line(self, index: int) -> None:
        """Scroll so the line shows (with its phase's heading when it is the first item)."""
        heading = 1 if index > 0 and self._lines[index - 1].item is None else 0
        region = Region(0, index - heading, 1, 1 + heading)
        self.scroll_to_region(region, animate=False, immediate=True, force=True)

    # -- the mouse ---------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on the item (a heading: on its first item)."""
        self.select_line(event.y + self.scroll_offset.y)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        """Highlight the row under the pointer."""
        hover = event.y + self.scroll_offset.y
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self) -> None:
        """No row under the pointer."""
        if self._hover is not None:
            self._hover = None
            self.refresh()
