"""The mxpilot terminal app (shell): the screens come with the workspace."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Header, Static

WELCOME = """\
[b]mxpilot[/b] — Gmail → Microsoft 365 migration companion

The probe engine is ready on the command line:

  [b]mxpilot probe smtp.office365.com:587 --user you@example.com[/b]
  [b]mxpilot probe --preset office365 --user you@example.com[/b]
  [b]mxpilot explain "535 5.7.139 Authentication unsuccessful"[/b]

Accounts, live probes, DNS records and the checklist screens come next.
Press [b]ctrl+q[/b] to quit.
"""


class MxPilotApp(App[int]):
    """The application shell: header, a welcome panel, a footer of bindings."""

    CSS_PATH = "app.tcss"
    TITLE = "mxpilot"
    SUB_TITLE = "mailbox migration companion"
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("f2", "toggle_theme", "Theme", id="app.toggle_theme"),
    ]

    def compose(self) -> ComposeResult:
        """Header, welcome text, footer."""
        yield Header()
        with Vertical(id="welcome"):
            yield Static(WELCOME, id="welcome-text")
        yield Footer()

    def action_toggle_theme(self) -> None:
        """Switch between a dark and a light theme."""
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"


def run_app() -> int:
    """Run the app and return its exit code."""
    MxPilotApp().run()
    return 0
