"""The commands of a checklist item, one prompt each: up and down choose, enter (or a click) copies.

A single widget drawing its prompts line by line (no child per command): the
detail pane is rebuilt on every cursor move, so it stays light. Taller than
its box, it scrolls (``2/5`` under the box says where the highlight is).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from render.text import shown


def command_prompt(command: str, shell: str, note: str, refused: bool = False) -> Text:
    """``# note`` (when there is one), then ``shell> first line  (+N lines)``.

    A ``refused`` command (a value could not be quoted safely) shows the message
    saying so, in place of the command.
    """
    prompt = Text()
    if note:
        prompt.append(f"# {shown(note)}\n", style="dim")
    if refused:
        prompt.append("! ", style="bold yellow")
        prompt.append(shown(command), style="yellow")
        return prompt
    lines = command.splitlines() or [""]
    prompt.append(f"{shell}> ", style="dim")
    prompt.append(shown(lines[0]), style="bold cyan")
    if len(lines) > 1:
        prompt.append(f"  (+{len(lines) - 1} lines)", style="dim")
    return prompt


class CommandList(ScrollView, can_focus=True):
    """Prompts to copy; the highlighted one is copied by enter or a click."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Previous command", show=False, id="checklist.command_up"),
        Binding("down", "move(1)", "Next command", show=False, id="checklist.command_down"),
        Binding("enter", "choose", "Copy the command", show=False, id="checklist.command_copy"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"command-list--highlighted"}
    DEFAULT_CSS = """
    CommandList {
        height: auto;
        max-height: 12;
        overflow-y: auto;
        scrollbar-size-vertical: 0;  /* "2/5" under the box says where you are */
        padding: 0 1;
        border: tall $border-blurred;
        background: $surface;
    }
    CommandList:focus {
        border: tall $border;
        background-tint: $foreground 5%;
    }
    CommandList > .command-list--highlighted {
        background: $block-cursor-blurred-background;
    }
    CommandList:focus > .command-list--highlighted {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: $block-cursor-text-style;
    }
    """

    highlighted: reactive[int] = reactive(0)

    @dataclass
    class CommandChosen(Message):
        """A command was chosen (enter or a click): ``index`` in the list."""

        command_list: CommandList
        index: int

        @property
        def control(self) -> CommandList:
            """The list."""
            return self.command_list

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.prompts: list[Text] = []
        self._width = 0
        self._lines: list[tuple[int, list[Segment]]] = []  # (prompt, its wrapped line)

    def set_prompts(self, prompts: list[Text]) -> None:
        """Show these prompts, the first one highlighted."""
        self.prompts = prompts
        self._width = 0
        self.set_reactive(CommandList.highlighted, 0)
        self._count()
        if self.is_mounted:
            self.virtual_size = Size(0, len(self._wrap(self.scrollable_content_region.width)))
            self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh(layout=True)

    def _wrap(self, width: int) -> list[tuple[int, list[Segment]]]:
        """Every prompt's lines at ``width`` (remembered until the width or prompts change)."""
        width = max(1, width)
        if width != self._width:
            console = self.app.console
            self._lines = [
                (index, list(line.render(console, end="")))
                for index, prompt in enumerate(self.prompts)
                for line in prompt.wrap(console, width)
            ]
            self._width = width
        return self._lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """As many lines as the prompts take at ``width`` (less the scrollbar's gutter, kept
        whether or not it shows): known at the first layout, no second one needed."""
        height = len(self._wrap(width - self.styles.scrollbar_size_vertical))
        self.set_reactive(ScrollView.virtual_size, Size(0, height))
        return height

    def on_resize(self) -> None:
        """Wrap the prompts at the new width."""
        self.virtual_size = Size(0, len(self._wrap(self.scrollable_content_region.width)))

    def render_line(self, y: int) -> Strip:
        """One line of a prompt; the highlighted prompt's lines marked across the width."""
        width = self.scrollable_content_region.width
        lines = self._wrap(width)
        index = y + self.scroll_offset.y
        base = self.rich_style
        if not 0 <= index < len(lines):
            return Strip.blank(width, base)
        prompt, segments = lines[index]
        style = base
        if prompt == self.highlighted:
            style += self.get_component_rich_style("command-list--highlighted")
        drawn = Segment.apply_style(segments, style)
        return Strip(drawn).adjust_cell_length(width, style)

    def _count(self) -> None:
        """``2/5`` under the box: which command enter copies, of how many."""
        many = len(self.prompts) > 1
        self.border_subtitle = f"{self.highlighted + 1}/{len(self.prompts)}" if many else ""

    def watch_highlighted(self, highlighted: int) -> None:
        """Mark the new one, scrolled into view when the list is taller than its box."""
        self._count()
        self.refresh()
        rows = [n for n, (prompt, _) in enumerate(self._lines) if prompt == highlighted]
        if rows and self.is_mounted:
            region = Region(0, rows[0], 1, len(rows))
            self.scroll_to_region(region, animate=False, immediate=True, force=True)

    def action_move(self, step: int) -> None:
        """The previous (``step`` -1) or next (1) prompt."""
        if self.prompts:
            self.highlighted = max(0, min(self.highlighted + step, len(self.prompts) - 1))

    def action_choose(self) -> None:
        """Copy the highlighted command."""
        if self.prompts:
            self.post_message(self.CommandChosen(self, self.highlighted))

    def on_click(self, event: events.Click) -> None:
        """A click highlights the prompt under the pointer and copies it."""
        index = event.y + self.scroll_offset.y
        if 0 <= index < len(self._lines):
            prompt = self._lines[index][0]
            self.highlighted = prompt
            self.post_message(self.CommandChosen(self, prompt))
