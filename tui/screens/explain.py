"""Explain: paste an error as it came (log line, JSON blob, traceback), get cause and fixes."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from tui.widgets.footer import Footer


class ExplainScreen(ModalScreen[None]):
    """A modal: paste error text, read the diagnosis, copy a fix command."""

    CSS_PATH = "explain.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "explain", "Explain", id="explain.run", priority=True),
        Binding("escape", "dismiss", "Close", id="explain.close"),
    ]

    def __init__(
        self, text: str = "", lang: str = "en", context: dict[str, str] | None = None
    ) -> None:
        super().__init__()
        self.initial = text
        self.lang = lang
        self.context = context or {}
        self.commands: list[str] = []

    def compose(self) -> ComposeResult:
        """Paste area, findings, the commands to copy."""
        with Vertical(id="explain-dialog"):
            yield Label(
                "Paste the error (log line, JSON, traceback), then ctrl+r", id="explain-help"
            )
            yield TextArea(self.initial, id="explain-input")
            with VerticalScroll(id="explain-findings"):
                yield Static("", id="explain-result")
            yield Label(
                "Fix commands — enter copies to the clipboard:", id="explain-commands-label"
            )
            yield OptionList(id="explain-commands")
        yield Footer()

    def on_mount(self) -> None:
        """Explain at once when text was given."""
        if self.initial.strip():
            self.action_explain()

    def action_explain(self) -> None:
        """Run the catalogue over the pasted text."""
        from rich.console import Group

        from probes.diagnosis.explain import explain
        from render.diagnosis import diagnosis_block

        text = self.query_one("#explain-input", TextArea).text
        result = self.query_one("#explain-result", Static)
        commands = self.query_one("#explain-commands", OptionList)
        commands.clear_options()
        self.commands = []
        if not text.strip():
            result.update("Nothing to explain yet: paste the error text above.")
            return
        found = explain(text, self.context or None, lang=self.lang)
        if not found.findings:
            result.update("No known failure recognised in this text.")
            return
        result.update(Group(*(diagnosis_block(d, "") for d in found.findings)))
        for diagnosis in found.findings:
            for fix in diagnosis.fixes:
                if fix.command:
                    self.commands.append(fix.command)
                    commands.add_option(Option(fix.command.splitlines()[0][:200]))
        if self.commands:
            commands.highlighted = 0
            commands.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Copy the chosen command."""
        command = self.commands[event.option_index]
        self.app.copy_to_clipboard(command)
        self.notify("Copied to the clipboard", title="Fix command")
