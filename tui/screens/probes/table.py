"""The Probes screen's table: one line per probe on the board (title, phase, status, time)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import DataTable

from tui.screens.probes.board import ProbeRow
from tui.screens.probes.detail import row_cells

COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("Probe", "probe", None),
    ("Phase", "phase", 18),
    ("Status", "status", 9),
    ("Time", "time", 8),
)


class ProbeTable(DataTable[Text]):
    """The board's rows as table lines; a running row's phase spins with ``frame``."""

    def on_mount(self) -> None:
        """The columns."""
        for label, key, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def show_rows(self, rows: Iterable[ProbeRow], frame: int, cursor: str | None) -> None:
        """Every row again, the cursor on the row ``cursor`` (when shown)."""
        self.clear()
        for row in rows:
            self.add_row(*row_cells(row, frame), key=row.key)
        if cursor is not None and cursor in self.rows:
            self.move_cursor(row=self.get_row_index(cursor))

    def draw(self, row: ProbeRow, frame: int) -> None:
        """Redraw one row's cells (a row not in the table is left out)."""
        if row.key not in self.rows:
            return
        for (_, column, _), value in zip(COLUMNS, row_cells(row, frame), strict=True):
            self.update_cell(row.key, column, value)
