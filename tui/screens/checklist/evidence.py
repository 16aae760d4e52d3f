"""The stored result behind a checklist item's check, rendered readably from its JSON.

Probe runs show their target, phases and diagnosis; DNS runs show the checks
of the audit, the record the item is about first. ``j`` switches to the raw
JSON as stored (it holds no secret: the workspace masks them on the way in).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.console import Console, Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from probes.status import Status
from render.dns import stored_dns_lines
from render.probe import stored_probe_lines
from render.status import status_text
from render.text import REPLY_LIMIT, STORED_LIMIT, one_line, plain
from tui.widgets.checklist_rows import local_time
from tui.widgets.footer import Footer
from workspace.history import RunRecord


@dataclass(frozen=True)
class StoredRun:
    """One stored run to show, with why it is shown (``Evidence``, ``Last check``)."""

    role: str
    record: RunRecord
    result: Mapping[str, Any]


def run_renderable(run: StoredRun, record: str | None = None) -> RenderableType:
    """One stored run: heading, then the probe or DNS view of its JSON."""
    rec = run.record
    heading = one_line(f"{run.role}: ", style="bold reverse")
    heading.append(" ")
    heading.append_text(status_text(Status(rec.status)))
    heading.append_text(one_line(f"  run #{rec.id} {rec.kind} — {rec.subject}", style="bold"))
    meta = one_line(
        f"{local_time(rec.started_at)} · {rec.duration_ms:.0f} ms"
        + (f" · account {rec.account_name}" if rec.account_name else ""),
        style="dim",
    )
    body = (
        stored_probe_lines(run.result)
        if rec.kind == "probe"
        else stored_dns_lines(run.result, record)
    )
    return Group(heading, meta, one_line(rec.summary, REPLY_LIMIT), *body, Text(""))


class EvidenceDialog(ModalScreen[None]):
    """The stored result(s) of an item's check; j switches to the raw JSON."""

    DEFAULT_CSS = """
    EvidenceDialog {
        align: center middle;
    }
    EvidenceDialog > Vertical {
        width: 95%;
        height: 95%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    EvidenceDialog VerticalScroll {
        height: 1fr;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="checklist_evidence.close"),
        Binding("j", "toggle_json", "Raw JSON", id="checklist_evidence.json"),
    ]

    def __init__(self, title: str, runs: Sequence[StoredRun], record: str | None = None) -> None:
        super().__init__()
        self.item_title = title
        self.runs = list(runs)
        self.record = record
        self.raw = False

    def compose(self) -> ComposeResult:
        """Title and the runs."""
        with Vertical():
            yield Label(one_line(f"Stored result — {self.item_title}"), id="evidence-title")
            with VerticalScroll(id="evidence-scroll"):
                yield Static("", id="evidence-body")
        yield Footer()

    def on_mount(self) -> None:
        """Render, and let the arrows scroll."""
        self._render_runs()
        self.query_one("#evidence-scroll").focus()

    def action_toggle_json(self) -> None:
        """Readable view <-> the JSON as stored."""
        self.raw = not self.raw
        self._render_runs()

    def _render_runs(self) -> None:
        body = self.query_one("#evidence-body", Static)
        if self.raw:
            text = "\n\n".join(
                f"# run {run.record.id}\n" + json.dumps(run.result, indent=2, ensure_ascii=False)
                for run in self.runs
            )
            body.update(plain(text, limit=STORED_LIMIT * 4))
            return
        body.update(Group(*(run_renderable(run, self.record) for run in self.runs)))

    def plain_text(self, width: int = 120) -> str:
        """The readable view as plain text (for tests, and to paste into a ticket)."""
        console = Console(width=width, record=True, file=io.StringIO())
        for run in self.runs:
            console.print(run_renderable(run, self.record))
        return console.export_text()
