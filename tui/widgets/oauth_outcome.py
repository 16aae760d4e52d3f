"""How a sign-in ended: who signed in with what, or the error with the catalogue's explanation.

:class:`CommandsToCopy` lists commands (fixes, registration steps); enter or a click copies
the highlighted one to the clipboard.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from render.text import one_line, shown, shown_block

if TYPE_CHECKING:
    from probes.diagnosis.model import Diagnosis
    from workspace.auth.sign_in import SignInResult


def local_time(when: datetime) -> str:
    """``2026-11-21 22:45`` in the local time zone."""
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


class CommandsToCopy(OptionList):
    """Commands, first line shown; enter (or a click) copies the whole command."""

    DEFAULT_CSS = """
    CommandsToCopy { height: auto; max-height: 6; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.commands: list[str] = []

    def set_commands(self, commands: list[tuple[str, str]]) -> None:
        """``(shell, command)`` pairs; hidden when there are none."""
        self.clear_options()
        self.commands = [command for _, command in commands]
        for shell, command in commands:
            prompt = one_line(f"{shell}> " if shell else "> ", style="dim")
            first = command.split("\n", 1)[0] if command else ""
            prompt.append_text(one_line(first, 200, style="bold"))
            self.add_option(Option(prompt))
        self.display = bool(commands)
        if commands:
            self.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Copy the chosen command."""
        event.stop()
        self.app.copy_to_clipboard(self.commands[event.option_index])
        self.notify("Copied to the clipboard.", title="Command")


class OAuthOutcome(VerticalScroll):
    """The end of a sign-in: success (no token shown) or failure (message and explanation)."""

    DEFAULT_CSS = """
    OAuthOutcome { height: 1fr; }
    OAuthOutcome #oauth-outcome-text { height: auto; }
    OAuthOutcome #oauth-outcome-commands-label { margin-top: 1; color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.succeeded = False
        self.text = ""

    def compose(self) -> ComposeResult:
        """The outcome, then the commands to copy."""
        yield Static("", id="oauth-outcome-text", markup=False)
        yield Label("Commands — enter copies:", id="oauth-outcome-commands-label")
        yield CommandsToCopy(id="oauth-outcome-commands")

    def _show(self, text: Text, commands: list[tuple[str, str]]) -> None:
        self.text = text.plain
        self.query_one("#oauth-outcome-text", Static).update(text)
        self.query_one("#oauth-outcome-commands-label").display = bool(commands)
        self.query_one(CommandsToCopy).set_commands(commands)

    def show_success(self, result: SignInResult) -> None:
        """Signed in as, granted scopes, access token expiry (local time), warnings."""
        self.succeeded = True
        tokens = result.tokens
        text = Text()
        text.append("Signed in", style="bold green")
        text.append(shown(f" as {tokens.signed_in_as or '(the platform did not say who)'}") + "\n")
        text.append("Granted: ", style="bold")
        text.append(shown(", ".join(tokens.scopes) or "(not stated)") + "\n")
        text.append("Access token: ", style="bold")
        text.append(f"valid until {local_time(tokens.expires_at)} (local time), in memory only\n")
        text.append("Refresh token: ", style="bold")
        text.append(
            shown(f"in the OS keyring; {result.account.name} now logs in with OAuth (XOAUTH2).")
            + "\n"
        )
        for warning in result.warnings:
            text.append("Warning: ", style="bold yellow")
            text.append(shown_block(warning) + "\n")
        self._show(text, [])

    def show_failure(self, message: str, diagnosis: Diagnosis | None) -> None:
        """The error as the platform said it, and what the catalogue knows about it."""
        self.succeeded = False
        text = Text()
        text.append("Sign-in failed\n", style="bold red")
        text.append(shown_block(message) + "\n")
        commands: list[tuple[str, str]] = []
        if diagnosis is not None:
            text.append(f"\n{shown(diagnosis.title)}\n", style="bold")
            text.append(shown_block(diagnosis.cause) + "\n")
            if diagnosis.fixes:
                text.append("What to do:\n", style="bold")
            for fix in diagnosis.fixes:
                text.append(f" • {shown_block(fix.text)}\n")
                if fix.command:
                    commands.append((fix.shell or "", fix.command))
        self._show(text, commands)
