"""The Checklist screen (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from tui.screens.base import MxScreen


class ChecklistScreen(MxScreen):
    """Checklist."""

    TITLE = "Checklist"

    def compose(self) -> ComposeResult:
        """Header, body, footer."""
        yield Header()
        yield Static("Checklist", id="checklist-body")
        yield Footer()
