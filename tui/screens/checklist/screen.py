"""The Checklist screen: the migration phase by phase, items ticked by hand or by passing checks.

Each phase is a heading with a progress bar, then its items (checkbox, state,
who/when, note, "(auto)" when a check can prove it). The highlighted item is
shown in full below (or on the right when the terminal is wide): help with
the placeholders filled, commands to copy, the check, its evidence and log.
Checks run in workers (group ``checklist``); their results are stored in the
workspace, tick the items they prove and mark the regressions.

The first compose reads the checklist and builds the list and the detail
filled, so the first frame is the finished screen; the empty state, the
dialogs, the evidence view and the check engine are built or imported when
first needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical
from textual.widget import Widget
from textual.widgets import Header, Static

from render.text import shown
from tui.screens.base import MxScreen
from tui.widgets.checklist_detail import ItemDetail, ItemView
from tui.widgets.checklist_phases import WIDE, PhaseList
from tui.widgets.checklist_rows import summary_text
from tui.widgets.footer import Footer
from workspace.checklist.book import ChecklistError
from workspace.checklist.model import Checklist, ChecklistItem, CheckOutcome, ItemState
from workspace.usecases.checklist_values import checklist_values as mailbox_values

if TYPE_CHECKING:
    from textual.widgets import Button

EMPTY_TEXT = (
    "[b]No checklist yet.[/b]\n\n"
    "Start a migration with the first-run form (press enter): the domain, the Gmail source, "
    "the Microsoft 365 target and the checklist's language (English or Spanish).\n\n"
    "Or from a shell:\n"
    "  mxpilot checklist new --domain example.com --lang es --tenant contoso"
)
ITEM_ACTIONS = frozenset({"tick", "skip", "block", "note", "run", "evidence", "copy"})


class ChecklistScreen(MxScreen):
    """The migration checklist with progress, evidence and checks one key away."""

    TITLE = "Checklist"
    CSS_PATH = "checklist.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "tick", "Tick", id="checklist.toggle"),
        Binding("r", "run", "Run", id="checklist.run"),
        Binding("v", "evidence", "Evidence", id="checklist.evidence"),
        Binding("n", "note", "Note", id="checklist.note"),
        Binding("c", "copy", "Copy", id="checklist.copy"),
        Binding("s", "skip", "Skip", id="checklist.skip"),
        Binding("b", "block", "Block", id="checklist.block"),
        Binding("R", "run_all", "Run all", id="checklist.run_all"),
        Binding("x", "export", "Export", id="checklist.export"),
        Binding("enter", "start", "Start a migration", id="checklist.start"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._fresh = False
        self.checklist: Checklist | None = None
        self.actor: str | None = None  # None: the OS login name
        self.checking: set[str] = set()
        self._enabled: bool | None = None

    def compose(self) -> ComposeResult:
        """Summary, phases and detail (or how to start), footer: filled from the start."""
        self._load()
        self._fresh = True
        width = self.app.size.width
        self.set_class(width < WIDE, "-narrow")  # as the first resize will: no restyle then
        self.set_class(width >= WIDE, "-wide")
        self._enabled = self.checklist is not None  # the footer's first keys are the right ones
        yield Header()
        yield Static(summary_text(self.checklist, len(self.checking)), id="checklist-summary")
        if self.checklist is None:
            yield self._empty_state()
        with Container(id="checklist-main"):
            phases = PhaseList(self.checklist, self.checking, id="checklist-phases")
            yield phases
            yield ItemDetail(self._item_view(phases.current_id), id="checklist-detail")
        yield Footer()

    @staticmethod
    def _empty_state() -> Widget:
        """What to do without a checklist (built only when there is none)."""
        from textual.widgets import Button

        return Vertical(
            Static(EMPTY_TEXT, id="checklist-empty-text"),
            Button("Start a migration", variant="primary", id="checklist-start"),
            id="checklist-empty",
        )

    def on_screen_resume(self) -> None:
        """Back from another screen or a modal: accounts and states may have changed."""
        if self._fresh:  # just composed from the workspace: nothing changed since
            self._fresh = False
            return
        self.reload()

    # -- loading ---------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            self.checklist = self.workspace.checklists.get() if self._has_checklist() else None
        except ChecklistError:
            self.checklist = None
        self.set_class(self.checklist is None, "-empty")

    def _has_checklist(self) -> bool:
        return bool(self.workspace.checklists.names())

    def reload(self) -> None:
        """Read the checklist again from the workspace and show it."""
        if not self.is_mounted:
            return
        self._fresh = False
        self._load()
        phases = self.query_one(PhaseList)
        if self.checklist is None:
            phases.clear_phases()
            self._summary()
            if not self.query("#checklist-empty"):
                self.mount(self._empty_state(), after="#checklist-summary")
            self.set_focus(None)  # enter opens the first-run form (footer says so)
            self._refresh_keys()
            return
        another = phases.shape != phases.shape_of(self.checklist)
        self._fill()
        if another:  # a new checklist: the list takes the keys
            self.set_focus(phases, scroll_visible=False)

    def _fill(self) -> None:
        """Show the loaded checklist: summary, rows, the current item."""
        self._summary()
        if self.checklist is None:
            return
        self.query_one(PhaseList).show(self.checklist, self.checking)
        self._show_detail()
        self._refresh_keys()

    def _summary(self) -> None:
        self.query_one("#checklist-summary", Static).update(
            summary_text(self.checklist, len(self.checking))
        )

    def _show_detail(self) -> None:
        self.query_one(ItemDetail).show(self._item_view(self.current_id))

    def _item_view(self, item_id: str | None) -> ItemView | None:
        """What the detail pane shows about an item, gathered from the workspace."""
        if self.checklist is None or item_id is None:
            return None
        try:
            item = self.checklist.item(item_id)
        except KeyError:
            return None
        since = None
        if item.evidence is not None and item.evidence.run_ids and not item.regressed:
            first = self.workspace.history.get(item.evidence.run_ids[0])
            since = self.workspace.history.passing_since(first.subject) if first else None
        return ItemView(
            item=item,
            lang=self.checklist.lang,
            values=mailbox_values(self.workspace, self.checklist),
            events=self.workspace.checklists.events(self.checklist, item.item_id),
            since=since,
            checking=item.item_id in self.checking,
        )

    # -- the current item ------------------------------------------------------------------

    @property
    def current_id(self) -> str | None:
        """The highlighted item's id."""
        return self.query_one(PhaseList).current_id

    @property
    def current_item(self) -> ChecklistItem | None:
        """The highlighted item."""
        if self.checklist is None or self.current_id is None:
            return None
        try:
            return self.checklist.item(self.current_id)
        except KeyError:
            return None

    @on(PhaseList.ItemHighlighted)
    def _highlighted(self, event: PhaseList.ItemHighlighted) -> None:
        self._show_detail()

    def _refresh_keys(self) -> None:
        """Refresh the footer when keys come or go (not on every move: it is costly)."""
        enabled = self.checklist is not None
        if enabled != self._enabled:
            self._enabled = enabled
            self.refresh_bindings()

    # -- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Item keys need a checklist; the first-run form is offered only without one.

        Keys stay enabled from item to item (a key that does not apply says why when
        pressed): the footer is rebuilt only when a checklist appears or goes.
        """
        if action == "start":
            return self.checklist is None
        if action in ITEM_ACTIONS | {"run_all", "export"}:
            return self.checklist is not None
        return True

    def _set_state(self, flip_to: ItemState) -> None:
        item = self.current_item
        if item is None or self.checklist is None:
            return
        state = ItemState.OPEN if item.state is flip_to else flip_to
        try:
            self.workspace.checklists.set_state(
                self.checklist, item.item_id, state, actor=self.actor
            )
        except (ChecklistError, KeyError) as exc:
            self.notify(
                shown(exc), title="Could not change the item", severity="error", markup=False
            )
        self.reload()

    def action_tick(self) -> None:
        """Tick the item (done), or reopen it."""
        self._set_state(ItemState.DONE)

    def action_skip(self) -> None:
        """Skip the item (or reopen it)."""
        self._set_state(ItemState.SKIPPED)

    def action_block(self) -> None:
        """Mark the item blocked (or reopen it)."""
        self._set_state(ItemState.BLOCKED)

    def action_note(self) -> None:
        """Edit the item's note in a modal."""
        item = self.current_item
        checklist = self.checklist
        if item is None or checklist is None:
            return

        def save(text: str | None) -> None:
            if text is None or text == item.note:
                return
            try:
                self.workspace.checklists.set_note(checklist, item.item_id, text, actor=self.actor)
            except (ChecklistError, KeyError) as exc:
                self.notify(shown(exc), title="Note not saved", severity="error", markup=False)
            self.reload()

        from tui.screens.checklist.dialogs import NoteDialog

        self.app.push_screen(NoteDialog(item.title, item.note), save)

    def action_copy(self) -> None:
        """Copy the item's first command (placeholders filled)."""
        item = self.current_item
        if item is None or self.checklist is None:
            return
        if not item.commands:
            self.notify("This item has no command to copy.", severity="warning")
            return
        values = mailbox_values(self.workspace, self.checklist)
        first_command = item.filled_commands(values, self.checklist.lang)[0]
        if first_command.refused:  # a value could not be quoted safely: nothing to copy
            self.notify(
                shown(first_command.command), title="Not copied", severity="warning", markup=False
            )
            return
        command = first_command.command
        self.app.copy_to_clipboard(command)
        first = command.splitlines()[0] if command else ""
        self.notify(shown(first, 120), title="Copied to the clipboard", markup=False)

    def action_start(self) -> None:
        """Open the first-run form."""
        from tui.screens.first_run import FirstRunScreen

        self.app.push_screen(FirstRunScreen(), self.mx.start_migration)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """The empty state's button: the first-run form."""
        if event.button.id == "checklist-start":
            self.action_start()

    def action_run(self) -> None:
        """Run the highlighted item's check now."""
        item = self.current_item
        if item is None:
            return
        if item.check is None:
            self.notify("No automatic check: tick it by hand (space).", severity="warning")
            return
        self._run_checks([item.item_id])

    def action_run_all(self) -> None:
        """Run every check of the checklist."""
        if self.checklist is None:
            return
        ids = [i.item_id for i in self.checklist.items if i.check is not None]
        if not ids:
            self.notify("No item of this checklist has an automatic check.")
            return
        self._run_checks(ids)

    def _run_checks(self, item_ids: list[str]) -> None:
        from tui.screens.checklist.jobs import outcome_notice, run_checks

        checklist = self.checklist
        ids = [i for i in item_ids if i not in self.checking]
        if checklist is None or not ids:
            self.notify("Already checking.", severity="warning")
            return
        self.checking.update(ids)
        self._fill()

        async def check() -> list[CheckOutcome]:
            try:
                outcomes = await run_checks(self.workspace, self.settings, checklist, ids)
            finally:
                self.checking.difference_update(ids)
                self.reload()
            notice = outcome_notice(self.checklist or checklist, outcomes)
            self.notify(
                shown(notice.text),
                title=shown(notice.title),
                severity=notice.severity,
                timeout=8,
                markup=False,
            )
            return outcomes

        name = f"check {ids[0]}" if len(ids) == 1 else f"check {len(ids)} items"
        self.run_job(check, name=name, group="checklist")

    def action_evidence(self) -> None:
        """Show the stored result of the item's check (evidence, and the failing last check)."""
        item = self.current_item
        if item is None:
            return
        from tui.screens.checklist.evidence import EvidenceDialog
        from tui.screens.checklist.jobs import stored_runs

        runs = stored_runs(self.workspace, item)
        if not runs:
            self.notify("No stored result yet: r runs the check.", severity="warning")
            return
        record = item.check.record if item.check is not None else None
        self.app.push_screen(EvidenceDialog(item.title, runs, record))

    def action_export(self) -> None:
        """Ask where, then write the Markdown and HTML reports."""
        checklist = self.checklist
        if checklist is None:
            return
        from tui.screens.checklist.dialogs import ExportDialog
        from tui.screens.checklist.jobs import default_report_path, write_reports

        def write(answer: object) -> None:
            if answer is None:
                return
            try:
                markdown, html = write_reports(self.workspace, checklist.name, str(answer))
            except OSError as exc:
                self.notify(
                    shown(exc.strerror or exc),
                    title="Report not written",
                    severity="error",
                    markup=False,
                )
                return
            self.notify(
                f"{shown(markdown)}\n{shown(html)}",
                title="Report written",
                timeout=10,
                markup=False,
            )

        self.app.push_screen(ExportDialog(default_report_path(self.workspace, checklist)), write)
