"""The Checklist screen's detail pane: one item's help, commands, check, evidence and log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from render.text import REPLY_LIMIT, one_line, plain
from tui.widgets.checklist_commands import CommandList, command_prompt
from tui.widgets.checklist_rows import STATE_CELLS, display_label, local_time, who_when
from workspace.checklist.book import ChecklistEvent
from workspace.checklist.model import ChecklistItem, ItemCheck
from workspace.checklist.template import fill_placeholders
from workspace.history import RunRecord

CHECK_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skipped": "dim"}
COMMANDS_LABEL = "Commands — enter copies one, c the first:"


@dataclass(frozen=True)
class ItemView:
    """What the pane shows about one item (gathered by the screen from the workspace)."""

    item: ChecklistItem
    lang: str
    values: Mapping[str, str]
    events: Sequence[ChecklistEvent] = ()
    since: RunRecord | None = None
    checking: bool = False


def check_line(label: str, check: ItemCheck) -> Text:
    """``Evidence: PASS 2025-05-12 14:03 — summary (runs #3, #4)``."""
    line = Text(f"{label}: ", style="bold")
    line.append_text(one_line(check.status.upper(), style=CHECK_STYLE.get(check.status, "")))
    line.append_text(one_line(f" {local_time(check.at)} — {check.summary}", REPLY_LIMIT))
    if check.run_ids:
        line.append(f" (runs {', '.join(f'#{r}' for r in check.run_ids)})", style="dim")
    return line


def info_renderable(view: ItemView) -> RenderableType:
    """Title, state, help with placeholders filled, check, evidence, note."""
    item = view.item
    word, style = STATE_CELLS[display_label(item, view.checking)]
    head = one_line(item.title, style="bold")
    meta = one_line(f"{item.item_id} · {item.phase_title} · ", style="dim")
    meta.append(word, style=style)
    if item.changed_at:
        meta.append_text(one_line(f" · {who_when(item, wide=True)}", style="dim"))
    parts: list[RenderableType] = [head, meta, plain(fill_placeholders(item.help, view.values))]
    if item.check is not None:
        line = Text("Automatic check: ", style="bold")
        line.append_text(one_line(item.check.label(view.lang)))
        line.append("  (r runs it now)", style="dim")
        parts.append(line)
    else:
        parts.append(Text("No automatic check: tick it by hand (space).", style="dim"))
    if item.evidence is not None:
        parts.append(check_line("Evidence", item.evidence))
    last = item.last_check
    if last is not None and (item.evidence is None or last.id != item.evidence.id):
        parts.append(check_line("Last check", last))
    if item.evidence is not None or last is not None:
        parts.append(Text("v shows the stored result", style="dim"))
    if view.since is not None and not item.regressed:
        parts.append(
            one_line(f"Working since {local_time(view.since.started_at)} (run #{view.since.id})")
        )
    if item.note:
        note = Text("Note: ", style="bold")
        note.append_text(plain(item.note, style="italic"))
        parts.append(note)
    return Group(*parts)


def log_renderable(events: Sequence[ChecklistEvent]) -> RenderableType:
    """The item's change log, oldest first."""
    if not events:
        return Text("No changes yet.", style="dim")
    lines = [Text("Log", style="bold")]
    for event in events:
        line = one_line(f"{local_time(event.at)} ", style="dim")
        line.append_text(one_line(f"{event.actor}: "))
        line.append_text(one_line(event.action, style="bold"))
        if event.detail:
            line.append_text(one_line(f" {' '.join(event.detail.split())}", REPLY_LIMIT))
        lines.append(line)
    return Group(*lines)


class ItemDetail(VerticalScroll):
    """The highlighted item in full; enter on a command copies it."""

    DEFAULT_CSS = """
    ItemDetail > #checklist-detail-log {
        margin-bottom: 1;
    }
    """

    def __init__(self, view: ItemView | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.commands: list[str] = []
        self._info = Static("", id="checklist-detail-info")
        self._commands = CommandList(id="checklist-commands")
        self._log = Static("", id="checklist-detail-log")
        self.show(view)

    def compose(self) -> ComposeResult:
        """Info, commands, log (showing the item given at construction)."""
        yield self._info
        yield self._commands
        yield self._log

    def show(self, view: ItemView | None) -> None:
        """Show an item (or nothing)."""
        self.commands = []
        if view is None:
            self._info.update("")
            self._commands.set_prompts([])
            self._commands.display = False
            self._log.update("")
            return
        prompts: list[Text] = []
        for rendered in view.item.filled_commands(view.values, view.lang):
            self.commands.append("" if rendered.refused else rendered.command)
            prompts.append(
                command_prompt(rendered.command, rendered.shell, rendered.note, rendered.refused)
            )
        info = [info_renderable(view), Text()]
        if prompts:
            info.append(Text(COMMANDS_LABEL))
        self._info.update(Group(*info))
        self._commands.set_prompts(prompts)
        self._commands.display = bool(prompts)
        self._log.update(log_renderable(view.events))

    @on(CommandList.CommandChosen)
    def _copy(self, event: CommandList.CommandChosen) -> None:
        event.stop()
        command = self.commands[event.index]
        if not command:  # refused: a value could not be quoted safely, nothing to copy
            self.notify("This command is not shown, so not copied.", severity="warning")
            return
        self.app.copy_to_clipboard(command)
        self.notify("Copied to the clipboard", title="Command")
