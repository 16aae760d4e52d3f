"""Small modals of the Checklist screen: edit an item's note, choose where a report goes."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, TextArea

from render.text import one_line

REPORT_SUFFIXES = (".md", ".markdown", ".html", ".htm")


class NoteDialog(ModalScreen[str | None]):
    """Edit a note: ctrl+s saves (the new text), escape cancels (None)."""

    DEFAULT_CSS = """
    NoteDialog {
        align: center middle;
    }
    NoteDialog > Vertical {
        width: 90%;
        max-width: 100;
        height: auto;
        max-height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    NoteDialog TextArea {
        height: 8;
    }
    NoteDialog Horizontal {
        height: auto;
        align-horizontal: right;
    }
    NoteDialog Button {
        margin-left: 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="checklist_note.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="checklist_note.cancel"),
    ]

    def __init__(self, title: str, note: str) -> None:
        super().__init__()
        self.item_title = title
        self.note = note

    def compose(self) -> ComposeResult:
        """Title, text area, buttons."""
        with Vertical():
            yield Label(one_line(f"Note — {self.item_title}"), id="note-title")
            yield TextArea(self.note, id="note-text")
            with Horizontal():
                yield Button("Save (ctrl+s)", variant="primary", id="note-save", compact=True)
                yield Button("Cancel (esc)", id="note-cancel", compact=True)

    def on_mount(self) -> None:
        """Start typing at the end of the note."""
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    @on(Button.Pressed, "#note-save")
    def action_save(self) -> None:
        """Hand the text back."""
        self.dismiss(self.query_one(TextArea).text.strip())

    @on(Button.Pressed, "#note-cancel")
    def action_cancel(self) -> None:
        """Close without a change."""
        self.dismiss(None)


def report_paths(answer: str) -> tuple[Path, Path]:
    """The Markdown and HTML files for a typed path (``~`` expanded, a report suffix dropped)."""
    path = Path(answer.strip()).expanduser()
    if path.suffix.lower() in REPORT_SUFFIXES:
        path = path.with_suffix("")
    return path.parent / f"{path.name}.md", path.parent / f"{path.name}.html"


class ExportDialog(ModalScreen[Path | None]):
    """Ask where the report goes: a path without suffix gets ``.md`` and ``.html``."""

    DEFAULT_CSS = """
    ExportDialog {
        align: center middle;
    }
    ExportDialog > Vertical {
        width: 90%;
        max-width: 100;
        height: auto;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    ExportDialog Input {
        margin: 1 0;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="checklist_export.cancel"),
    ]

    def __init__(self, default: Path) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        """Explanation and the path."""
        with Vertical():
            yield Label(
                "Export the report: Markdown and HTML, written as PATH.md and PATH.html. "
                "Enter writes, escape cancels."
            )
            yield Input(str(self.default), id="export-path", compact=True)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(Path(event.value.strip()))

    def action_cancel(self) -> None:
        """Close without writing."""
        self.dismiss(None)
