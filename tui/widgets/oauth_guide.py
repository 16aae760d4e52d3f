"""No app registration yet: the steps to create one, and the commands to copy."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from tui.widgets.oauth_outcome import CommandsToCopy


def registration_guide(
    platform: str, tenant: str, mailbox: str, lang: str
) -> tuple[str, list[str], list[tuple[str, str]]]:
    """Title, steps and ``(shell, command)`` pairs for the platform's app registration."""
    try:
        from probes.oauth.registration import (
            google_registration_guide,
            microsoft_registration_guide,
        )
    except ImportError:
        return (
            "The registration guide is not available in this build",
            ["Run 'mxpilot auth setup --provider microsoft|google' for the steps."],
            [],
        )
    try:
        if platform == "google":
            guide = google_registration_guide(lang)
        else:
            try:
                guide = microsoft_registration_guide(tenant, lang, mailbox=mailbox)
            except ValueError:
                guide = microsoft_registration_guide("organizations", lang)
    except ValueError as exc:
        return ("The registration guide could not be made", [str(exc)], [])
    return guide.title, list(guide.steps), list(guide.commands)


class OAuthGuide(VerticalScroll):
    """How to register an app for mxpilot (Microsoft Entra ID or Google Cloud)."""

    DEFAULT_CSS = """
    OAuthGuide { height: 1fr; }
    OAuthGuide #oauth-guide-text { height: auto; }
    OAuthGuide #oauth-guide-commands-label { margin-top: 1; color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = ""

    def compose(self) -> ComposeResult:
        """The steps, then the commands."""
        yield Static("", id="oauth-guide-text", markup=False)
        yield Label("Commands — enter copies:", id="oauth-guide-commands-label")
        yield CommandsToCopy(id="oauth-guide-commands")

    def show(self, platform: str, tenant: str, mailbox: str, lang: str) -> None:
        """Fill in the guide for this platform and tenant."""
        title, steps, commands = registration_guide(platform, tenant, mailbox, lang)
        text = Text(title + "\n", style="bold")
        for number, step in enumerate(steps, 1):
            text.append(f"{number}. ", style="bold")
            text.append(step + "\n", style="")
        self.text = text.plain
        self.query_one("#oauth-guide-text", Static).update(text)
        self.query_one("#oauth-guide-commands-label").display = bool(commands)
        self.query_one(CommandsToCopy).set_commands(commands)
