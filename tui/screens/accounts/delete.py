"""Confirm deleting an account: its secrets leave the OS keyring with it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from render.text import shown


class ConfirmDeleteScreen(ModalScreen[bool]):
    """Asks before deleting ``name``; dismissed with True to delete."""

    CSS_PATH = "account_delete.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "keep", "Keep it", id="account_delete.keep"),
    ]

    def __init__(self, name: str, address: str) -> None:
        super().__init__()
        self.account_name = name
        self.address = address

    def compose(self) -> ComposeResult:
        """The question and the two answers (Keep has the focus)."""
        with Vertical(id="delete-dialog"):
            yield Static(
                shown(f"Delete the account {self.account_name} <{self.address}>?"),
                id="delete-question",
                markup=False,
            )
            yield Static(
                "Its secrets (password, OAuth token) are deleted from the OS keyring too. "
                "Probe history stays.",
                id="delete-warning",
            )
            with Horizontal(id="delete-buttons"):
                yield Button("Delete", variant="error", id="delete-yes", compact=True)
                yield Button("Keep it", id="delete-no", compact=True)

    def on_mount(self) -> None:
        """Start on the safe answer."""
        self.query_one("#delete-no", Button).focus()

    @on(Button.Pressed, "#delete-yes")
    def _delete(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#delete-no")
    def action_keep(self) -> None:
        """Close without deleting."""
        self.dismiss(False)
