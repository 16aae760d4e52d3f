"""The Accounts screen (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from tui.screens.base import MxScreen


class AccountsScreen(MxScreen):
    """Accounts."""

    TITLE = "Accounts"

    def compose(self) -> ComposeResult:
        """Header, body, footer."""
        yield Header()
        yield Static("Accounts", id="accounts-body")
        yield Footer()
