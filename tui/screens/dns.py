"""The DNS records screen (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from tui.screens.base import MxScreen


class DnsScreen(MxScreen):
    """DNS records."""

    TITLE = "DNS records"

    def compose(self) -> ComposeResult:
        """Header, body, footer."""
        yield Header()
        yield Static("DNS records", id="dns-body")
        yield Footer()
