"""The propagation view: each record as each authoritative server answers it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from probes.dns.audit import PropagationRow
from render.text import REPLY_LIMIT, one_line

DISAGREE = "≠"
AGREE = "="


class PropagationView(Vertical):
    """A note and a table: one row per record and server, disagreements marked."""

    DEFAULT_CSS = """
    PropagationView {
        height: 1fr;
    }
    PropagationView > Static {
        height: auto;
    }
    PropagationView > DataTable {
        height: 1fr;
    }
    """

    def compose(self) -> ComposeResult:
        """The note and the table."""
        yield Static("No audit yet.", id="dns-propagation-note")
        table: DataTable[str | Text] = DataTable(cursor_type="row", zebra_stripes=True)
        table.id = "dns-propagation-table"
        yield table

    def on_mount(self) -> None:
        """The columns."""
        table = self.query_one(DataTable)
        table.add_columns("", "Record", "Answer", "Server")

    def show(self, rows: Sequence[PropagationRow]) -> None:
        """Show ``rows`` (empty: fewer than two authoritative servers answered)."""
        table = self.query_one(DataTable)
        table.clear()
        note = self.query_one("#dns-propagation-note", Static)
        if not rows:
            note.update("Fewer than two authoritative servers found: nothing to compare.")
            return
        split = sum(not row.agree for row in rows)
        note.update(
            f"{DISAGREE} {split} record(s) differ between the servers: a change is still "
            "propagating."
            if split
            else "Every authoritative server gives the same answers."
        )
        for row in rows:
            for index, (server, answers) in enumerate(row.answers.items()):
                record = f"{row.name} {row.rtype}" if index == 0 else ""
                mark = Text(DISAGREE, "bold red") if not row.agree else Text(AGREE, "green")
                table.add_row(
                    mark,
                    one_line(record, style="bold red" if not row.agree else ""),
                    one_line(" | ".join(answers) or "(none)", REPLY_LIMIT),
                    one_line(server),
                    key=f"{row.name} {row.rtype} {server}",
                )
