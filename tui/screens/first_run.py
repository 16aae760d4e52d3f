"""First run: start a migration — the domain, the source and the target — in one form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from render.text import one_line
from workspace.accounts.address import is_mailbox_address
from workspace.checklist.book import DOMAIN


@dataclass(frozen=True)
class MigrationStart:
    """What the first-run form asks: enough to create the checklist and the accounts."""

    domain: str
    source: str  # gmail or google-workspace
    source_address: str
    target_address: str
    tenant: str
    lang: str


class FirstRunScreen(ModalScreen[MigrationStart | None]):
    """Offered when the workspace is empty: start a Gmail -> Microsoft 365 migration."""

    CSS_PATH = "first_run.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "skip", "Not now", id="first_run.skip"),
    ]

    def compose(self) -> ComposeResult:
        """The form."""
        with Vertical(id="first-run-dialog"):
            yield Static(
                "[b]Start a migration[/b] — Gmail / Google Workspace → Microsoft 365\n"
                "mxpilot creates the checklist and the accounts' servers from presets; "
                "passwords come later, straight into the OS keyring.",
                id="first-run-intro",
            )
            with Grid(id="first-run-form"):
                yield Label("Domain")
                yield Input(placeholder="example.com", id="first-run-domain", compact=True)
                yield Label("Source")
                yield Select(
                    [("Google Workspace", "google-workspace"), ("Gmail", "gmail")],
                    value="google-workspace",
                    allow_blank=False,
                    id="first-run-source",
                    compact=True,
                )
                yield Label("Source mailbox")
                yield Input(
                    placeholder="ops@example.com or name@gmail.com",
                    id="first-run-source-address",
                    compact=True,
                )
                yield Label("Target mailbox")
                yield Input(
                    placeholder="ops@example.com (Microsoft 365)",
                    id="first-run-target-address",
                    compact=True,
                )
                yield Label("Tenant (optional)")
                yield Input(
                    placeholder="contoso (.onmicrosoft.com)", id="first-run-tenant", compact=True
                )
                yield Label("Checklist language")
                yield Select(
                    [("English", "en"), ("Español", "es")],
                    value="en",
                    allow_blank=False,
                    id="first-run-lang",
                    compact=True,
                )
            yield Static("", id="first-run-problem")
            with Horizontal(id="first-run-buttons"):
                yield Button("Create", variant="primary", id="first-run-create", compact=True)
                yield Button("Not now", id="first-run-skip", compact=True)

    def _value(self, name: str) -> str:
        return self.query_one(f"#first-run-{name}", Input).value.strip()

    def problems(self) -> list[str]:
        """What is wrong with the form as typed (empty when it can be created)."""
        found = []
        if not DOMAIN.match(self._value("domain")):
            found.append("the domain looks like example.com")
        for name, label in (("source-address", "source"), ("target-address", "target")):
            if self._value(name) and not is_mailbox_address(self._value(name)):
                found.append(f"the {label} mailbox is an address like user@example.com")
        return found

    @on(Input.Changed)
    def _validate(self) -> None:
        problems = self.problems()
        self.query_one("#first-run-problem", Static).update(one_line("; ".join(problems)))
        self.query_one("#first-run-create", Button).disabled = bool(problems)

    def on_mount(self) -> None:
        """Start with the domain field, the Create button off until it is valid."""
        self.query_one("#first-run-create", Button).disabled = True
        self.query_one("#first-run-domain", Input).focus()

    @on(Button.Pressed, "#first-run-create")
    def action_create(self) -> None:
        """Hand the answers back."""
        if self.problems():
            return
        domain = self._value("domain").lower()
        target = self._value("target-address") or self._value("source-address")
        source = self._value("source-address") or target
        self.dismiss(
            MigrationStart(
                domain=domain,
                source=str(self.query_one("#first-run-source", Select).value),
                source_address=source,
                target_address=target,
                tenant=self._value("tenant"),
                lang=str(self.query_one("#first-run-lang", Select).value),
            )
        )

    @on(Button.Pressed, "#first-run-skip")
    def action_skip(self) -> None:
        """Close without creating anything."""
        self.dismiss(None)
