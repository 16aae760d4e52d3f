"""The Probes screen (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from tui.screens.base import MxScreen


class ProbesScreen(MxScreen):
    """Probes."""

    TITLE = "Probes"

    def compose(self) -> ComposeResult:
        """Header, body, footer."""
        yield Header()
        yield Static("Probes", id="probes-body")
        yield Footer()
