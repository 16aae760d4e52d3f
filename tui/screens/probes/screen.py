"""Probes: run SMTP/IMAP probes for accounts or a preset, live, and watch them until fixed.

Probes run in a worker (group ``probes``, see :mod:`tui.screens.probes.job`);
the engine's events reach the screen as messages and update the table phase by
phase. Watch mode (a :class:`~tui.widgets.watch.WatchController`) re-runs the
failing probes every N seconds: one-shot workers, the next armed when the
previous round ends, so rounds never overlap. A verdict that changes is
announced (toast and bell).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.validation import Number
from textual.widgets import DataTable, Header, Input, Label, OptionList, Select, SelectionList
from textual.worker import Worker, WorkerState

from probes.mail.model import ProbeFinished
from probes.mail.presets import PRESETS
from render.text import one_line, shown
from tui.screens.base import MxScreen
from tui.screens.probes.board import ProbeBoard, ProbeRow, VerdictChange
from tui.screens.probes.detail import ProbeDetail
from tui.screens.probes.job import ProbeJob
from tui.screens.probes.plan import PresetChoice, preset_choice
from tui.screens.probes.status_line import status_line, verdict_notice
from tui.screens.probes.table import ProbeTable
from tui.widgets.footer import Footer
from tui.widgets.watch import WatchController

GROUP = "probes"
DEFAULT_INTERVAL = 30.0
MIN_INTERVAL = 0.1


class ProbesScreen(MxScreen):
    """Pick accounts or a preset and host; probes run live; watch the failing ones until fixed."""

    TITLE = "Probes"
    CSS_PATH = "probes.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "Run", id="probes.run"),
        Binding("x", "cancel", "Cancel", id="probes.cancel"),
        Binding("c", "copy", "Copy fix", id="probes.copy"),
        Binding("w", "watch", "Watch", id="probes.watch"),
        Binding("i", "interval", "Interval", id="probes.interval", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.board = ProbeBoard()
        self.job = ProbeJob(self, self.board)
        self.watcher = WatchController(DEFAULT_INTERVAL, minimum=MIN_INTERVAL, id="probes-watch")
        self.highlighted: str | None = None
        self.copy_index = 0
        self._frame = 0
        self._spinner: Timer | None = None

    @property
    def watching(self) -> bool:
        """True in watch mode."""
        return self.watcher.active

    @property
    def watch_interval(self) -> float:
        """Seconds between the end of a watch round and the next."""
        return self.watcher.interval

    @watch_interval.setter
    def watch_interval(self, seconds: float) -> None:
        self.watcher.interval = seconds

    def compose(self) -> ComposeResult:
        """Selection (accounts, preset + host, interval), the probe table, the detail pane."""
        yield Header()
        with Horizontal(id="probes-pick"):
            yield SelectionList[str](id="probes-accounts")
            with Vertical(id="probes-form"):
                presets = [(f"{p.title} ({name})", name) for name, p in PRESETS.items()]
                yield Select(presets, prompt="preset…", compact=True, id="probes-preset")
                yield Input(placeholder="host[,imap host]", compact=True, id="probes-host")
                with Horizontal(id="probes-interval-row"):
                    yield Label("watch every ", classes="probes-caption")
                    yield Input(
                        str(int(DEFAULT_INTERVAL)),
                        compact=True,
                        id="probes-interval",
                        validators=[Number(minimum=MIN_INTERVAL, maximum=86400)],
                    )
                    yield Label(" s", classes="probes-caption")
        yield Label("", id="probes-status")
        with Container(id="probes-results"):
            yield ProbeTable(id="probes-table", cursor_type="row")
            yield ProbeDetail(id="probes-detail")
        yield Footer()
        yield self.watcher

    def on_mount(self) -> None:
        """Titles, the account list, a paused spinner."""
        self.query_one("#probes-accounts").border_title = "Accounts (space)"
        self.query_one("#probes-detail", ProbeDetail).border_title = "Detail"
        self._spinner = self.set_interval(0.1, self._spin, pause=True, name="probes-spinner")
        self.reload()
        self._show_status()

    def reload(self) -> None:
        """List the workspace's accounts again, keeping what was checked."""
        accounts = self.query_one("#probes-accounts", SelectionList)
        checked = set(accounts.selected)
        accounts.clear_options()
        for account in self.workspace.accounts.list():
            label = one_line(f"{account.name}  {account.address}  {account.side.value}")
            accounts.add_option((label, account.name, account.name in checked))
        if accounts.option_count and accounts.highlighted is None:
            accounts.highlighted = 0

    def on_screen_resume(self) -> None:
        """Accounts may have changed on another screen."""
        self.reload()

    # Running -----------------------------------------------------------------------------

    def _busy(self) -> bool:
        return any(
            w.group == GROUP and w.node is self and not w.is_finished for w in self.app.workers
        )

    def action_run(self) -> None:
        """Run the checked accounts (or the highlighted one) and the preset on its host."""
        if self._busy():
            self.notify("Probes are running: wait, or press x to cancel.", severity="warning")
            return
        accounts = self.query_one("#probes-accounts", SelectionList)
        names: list[str] = list(accounts.selected)
        if not names and accounts.highlighted is not None and accounts.has_focus:
            names = [accounts.get_option_at_index(accounts.highlighted).value]
        choice: PresetChoice | None = None
        preset = self.query_one("#probes-preset", Select).value
        if preset is not Select.NULL:
            host = self.query_one("#probes-host", Input).value
            try:
                choice = preset_choice(str(preset), host)
            except ValueError as exc:
                self.notify(shown(exc), title="Preset and host", severity="error", markup=False)
                return
        if not names and choice is None:
            self.notify(
                "Check one or more accounts (space), or pick a preset and a host.",
                title="Nothing to probe",
                severity="warning",
            )
            return
        self.run_job(lambda: self.job.run_selection(names, choice), name="probes: run", group=GROUP)
        self._show_status()

    # What the job reports -------------------------------------------------------------

    @on(ProbeJob.RunBegan)
    def _run_began(self, message: ProbeJob.RunBegan) -> None:
        """New rows: the whole table again, or a watch round's rows redrawn."""
        if message.replaced:
            self._rebuild_table()
            return
        for key in message.keys:
            row = self.board.get(key)
            if row is not None:
                self._draw_row(row)

    @on(ProbeJob.PhasesAdvanced)
    def _phases_advanced(self, message: ProbeJob.PhasesAdvanced) -> None:
        """Phases moved on: apply them, then draw each changed row once."""
        changed: dict[str, ProbeRow] = {}
        for plan, event in message.events:
            rows, _ = self.board.apply(plan, event)
            changed.update((row.key, row) for row in rows)
        self._rows_changed(list(changed.values()))

    @on(ProbeJob.ProbeEnded)
    def _probe_ended(self, message: ProbeJob.ProbeEnded) -> None:
        """A probe finished: its rows show the verdict; a changed verdict is announced."""
        rows, changes = self.board.apply(message.plan, ProbeFinished(message.result))
        if self._rows_changed(rows):
            for change in changes:
                self._announce(change)

    @on(ProbeJob.PresetConcluded)
    def _preset_concluded(self, message: ProbeJob.PresetConcluded) -> None:
        """The preset's conclusions go with each of its rows."""
        for keys in message.plan.rows.values():
            for key in keys:
                row = self.board.get(key)
                if row is not None:
                    row.conclusions = list(message.conclusions)
        self._show_detail()

    def _rows_changed(self, rows: list[ProbeRow]) -> bool:
        """Redraw ``rows`` (and the detail if it shows one); False while torn down."""
        if not self.is_mounted:
            return False
        try:
            for row in rows:
                self._draw_row(row)
            if self.highlighted in {row.key for row in rows}:
                self._show_detail()
            if self._spinner is not None and self.board.running:
                self._spinner.resume()
        except NoMatches:  # the screen is being torn down
            return False
        return True

    def _announce(self, change: VerdictChange) -> None:
        message, title, severity = verdict_notice(change)
        self.notify(shown(message), title=shown(title), severity=severity, timeout=15, markup=False)
        self.app.bell()

    def action_cancel(self) -> None:
        """Cancel the running probes (and stop watching)."""
        cancelled = self.app.workers.cancel_group(self, GROUP)
        was_watching = self.watching
        self.watcher.stop()
        if cancelled or was_watching:
            self.notify("Probes cancelled" + ("; watch mode off" if was_watching else ""))
        else:
            self.notify("Nothing is running.", severity="warning")
        self._show_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """When a round ends: stop its spinners, then re-arm the watch (errors: MxScreen)."""
        finished = (WorkerState.SUCCESS, WorkerState.CANCELLED, WorkerState.ERROR)
        if event.worker.group != GROUP or event.state not in finished:
            return
        if self.watching and event.state is WorkerState.SUCCESS:
            self._watch_round_ended()
        elif self.watching:
            self.watcher.stop()
        reason = {WorkerState.CANCELLED: "cancelled", WorkerState.ERROR: "error"}
        stopped = self.board.stop_all(reason.get(event.state, "stopped"))
        if not self.is_mounted:
            return
        try:
            for row in stopped:
                self._draw_row(row)
            self._show_detail()
            self._show_status()
        except NoMatches:  # the screen is being torn down
            return

    # Watch mode ----------------------------------------------------------------------------

    def action_watch(self) -> None:
        """Turn watch mode on or off: re-run the failing probes every N seconds."""
        if self.watching:
            self.watcher.stop()
            self.notify("Watch mode off")
        elif not self.board.failing and not self._busy():
            self.notify(
                "Nothing is failing: run probes first; watch re-runs the failing ones.",
                severity="warning",
            )
        else:
            self.watcher.start()
            self.notify(f"Re-running the failing probes every {self.watch_interval:g} s")
            if not self._busy():
                self._watch_round_ended()
        self._show_status()

    def _watch_round_ended(self) -> None:
        """Arm the next round, or end watch mode when nothing fails any more."""
        if not self.board.failing:
            self.watcher.stop()
            self.notify("Every watched probe passes now.", title="Watch mode ended")
            return
        self.watcher.round_ended()

    @on(WatchController.Elapsed, "#probes-watch")
    def _watch_round(self) -> None:
        """The next watch round: the failing probes again."""
        if not self.watching or self._busy():
            return  # the running round re-arms the watch when it ends
        failing = self.board.failing
        self.run_job(lambda: self.job.rerun(failing), name="probes: watch", group=GROUP)
        self._show_status()

    @on(WatchController.Changed, "#probes-watch")
    def _watch_changed(self) -> None:
        """The status line shows watch mode and its countdown."""
        if self.is_mounted:
            self._show_status()

    def action_interval(self) -> None:
        """Focus the watch interval."""
        self.query_one("#probes-interval", Input).focus()

    @on(Input.Changed, "#probes-interval")
    def _interval_changed(self, event: Input.Changed) -> None:
        """A valid interval applies from the next round on."""
        valid = event.validation_result is not None and event.validation_result.is_valid
        if valid:
            self.watch_interval = max(MIN_INTERVAL, float(event.value))
            self._show_status()

    @on(Input.Submitted, "#probes-host")
    def _host_submitted(self) -> None:
        """Enter in the host field runs."""
        self.action_run()

    # Drawing -------------------------------------------------------------------------------

    def _rebuild_table(self) -> None:
        if self.highlighted not in self.board.rows and self.board.rows:
            self.highlighted = next(iter(self.board.rows))
        table = self.query_one("#probes-table", ProbeTable)
        table.show_rows(self.board.rows.values(), self._frame, self.highlighted)
        self._show_detail()

    def _draw_row(self, row: ProbeRow) -> None:
        self.query_one("#probes-table", ProbeTable).draw(row, self._frame)

    def _spin(self) -> None:
        self._frame += 1
        running = self.board.running
        for row in running:
            self._draw_row(row)
        if self.highlighted in {row.key for row in running}:
            self._show_detail(fixes=False)
        if not running and self._spinner is not None:
            self._spinner.pause()

    @on(DataTable.RowHighlighted, "#probes-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the highlighted probe in the detail pane."""
        key = event.row_key.value
        if key != self.highlighted:
            self.highlighted = key
            self.copy_index = 0
            self._show_detail()
            self.query_one("#probes-detail", ProbeDetail).scroll_home(animate=False)

    def _show_detail(self, fixes: bool = True) -> None:
        detail = self.query_one("#probes-detail", ProbeDetail)
        detail.show(self.board.get(self.highlighted), self._frame, fixes)

    def _show_status(self) -> None:
        text = status_line(
            self.board,
            watch=self.watcher.countdown() if self.watching else None,
            interval=self.watch_interval,
            busy=self._busy(),
            accounts=bool(self.query_one("#probes-accounts", SelectionList).option_count),
        )
        self.query_one("#probes-status", Label).update(text)

    # Copying -------------------------------------------------------------------------------

    def action_copy(self) -> None:
        """Copy a fix command of the highlighted probe; again for the next one."""
        row = self.board.get(self.highlighted)
        commands = row.commands if row and not row.running else []
        if not commands:
            self.notify("The highlighted probe has no fix command to copy.", severity="warning")
            return
        index = self.copy_index % len(commands)
        self._copy(commands, index)
        self.copy_index = index + 1

    @on(OptionList.OptionSelected, "#probes-fixes")
    def _fix_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a fix command copies it."""
        row = self.board.get(self.highlighted)
        if row is not None and row.commands:
            self._copy(row.commands, event.option_index)

    def _copy(self, commands: list[tuple[str, str]], index: int) -> None:
        title, command = commands[index]
        self.app.copy_to_clipboard(command)
        more = (
            f" ({index + 1} of {len(commands)}: c again for the next)" if len(commands) > 1 else ""
        )
        self.notify(shown(f"{index + 1}. {title}{more}"), title="Fix command copied", markup=False)
