"""Probes: run SMTP/IMAP probes for accounts or a preset, live, and watch them until fixed.

Probes run in a worker (group ``probes``); the engine's events update the
table phase by phase. Watch mode re-runs the failing probes every N seconds:
one-shot workers re-armed with ``set_timer`` when the previous round ends, so
rounds never overlap. A verdict that changes is announced (toast and bell).
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.validation import Number
from textual.widgets import (
    DataTable,
    Header,
    Input,
    Label,
    OptionList,
    Select,
    SelectionList,
)
from textual.worker import Worker, WorkerState

from probes.mail.matrix import run_matrix
from probes.mail.model import ProbeEvent, ProbeFinished
from probes.mail.presets import PRESETS
from probes.mail.runner import run_probes
from probes.status import Status
from tui.screens.base import MxScreen
from tui.screens.probes.board import ProbeBoard, ProbeRow, RowSpec, RunPlan, VerdictChange
from tui.screens.probes.plan import (
    PresetChoice,
    account_specs,
    preset_choice,
    preset_specs,
    record_result,
    refreshed_spec,
)
from tui.widgets.footer import Footer
from tui.widgets.probe_detail import ProbeDetail, row_cells

GROUP = "probes"
DEFAULT_INTERVAL = 30.0
MIN_INTERVAL = 0.1


class ProbesScreen(MxScreen):
    """Pick accounts or a preset and host; probes run live; watch the failing ones until fixed."""

    TITLE = "Probes"
    CSS_PATH = "probes.tcss"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (120, "-wide")]  # type: ignore[misc]
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("r", "run", "Run", id="probes.run"),
        Binding("x", "cancel", "Cancel", id="probes.cancel"),
        Binding("c", "copy", "Copy fix", id="probes.copy"),
        Binding("w", "watch", "Watch", id="probes.watch"),
        Binding("i", "interval", "Interval", id="probes.interval", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.board = ProbeBoard()
        self.watching = False
        self.watch_interval = DEFAULT_INTERVAL
        self.highlighted: str | None = None
        self.copy_index = 0
        self._frame = 0
        self._watch_timer: Timer | None = None
        self._spinner: Timer | None = None

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
            yield DataTable(id="probes-table", cursor_type="row")
            yield ProbeDetail(id="probes-detail")
        yield Footer()

    def on_mount(self) -> None:
        """Columns, the account list, a paused spinner."""
        table = self.query_one("#probes-table", DataTable)
        table.add_column("Probe", key="probe")
        table.add_column("Phase", key="phase", width=18)
        table.add_column("Status", key="status", width=9)
        table.add_column("Time", key="time", width=8)
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
            label = Text(f"{account.name}  {account.address}  {account.side.value}")
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
                self.notify(str(exc), title="Preset and host", severity="error", markup=False)
                return
        if not names and choice is None:
            self.notify(
                "Check one or more accounts (space), or pick a preset and a host.",
                title="Nothing to probe",
                severity="warning",
            )
            return
        self.run_job(lambda: self._run_selection(names, choice), name="probes: run", group=GROUP)
        self._show_status()

    async def _run_selection(self, names: list[str], choice: PresetChoice | None) -> None:
        specs, no_secret = await account_specs(self.workspace, names)
        if no_secret:
            self.notify(
                f"{'; '.join(no_secret)}: probing without logging in.",
                severity="warning",
                markup=False,
            )
        extra = preset_specs(choice) if choice else []
        self.board.begin([*specs, *extra])
        self._rebuild_table()
        jobs = []
        if specs:
            jobs.append(self._probe(RunPlan.of(specs)))
        if choice is not None:
            jobs.append(self._matrix(choice, RunPlan.of(extra)))
        await asyncio.gather(*jobs)

    async def _probe(self, plan: RunPlan) -> None:
        options = self.settings.probe_options()
        await run_probes(plan.targets, options, lambda event: self._on_event(plan, event))

    async def _matrix(self, choice: PresetChoice, plan: RunPlan) -> None:
        options = self.settings.probe_options()
        matrix = await run_matrix(
            choice.preset, None, options, lambda event: self._on_event(plan, event)
        )
        for keys in plan.rows.values():
            for key in keys:
                row = self.board.get(key)
                if row is not None:
                    row.conclusions = list(matrix.conclusions)
        self._show_detail()

    def _on_event(self, plan: RunPlan, event: ProbeEvent) -> None:
        """The probes' sink (on the event loop): update the board, the rows, the history."""
        rows, changes = self.board.apply(plan, event)
        if isinstance(event, ProbeFinished) and not event.result.cancelled:
            self._record(event, rows)
        if not self.is_mounted:
            return
        try:
            for row in rows:
                self._draw_row(row)
            if self.highlighted in {row.key for row in rows}:
                self._show_detail()
            if self._spinner is not None and self.board.running:
                self._spinner.resume()
        except NoMatches:  # the screen is being torn down
            return
        for change in changes:
            self._announce(change)

    def _record(self, event: ProbeFinished, rows: list[ProbeRow]) -> None:
        try:
            record_result(self.workspace, event.result, rows)
        except Exception as exc:  # the run goes on; the evidence is what is lost
            self.notify(
                f"Could not store the result: {exc.__class__.__name__}",
                title="History",
                severity="warning",
            )

    def _announce(self, change: VerdictChange) -> None:
        word = {Status.PASS: "passes now", Status.FAIL: "fails now", Status.WARN: "warns now"}
        self.notify(
            f"{change.title}: {change.before.value.upper()} → {change.after.value.upper()}",
            title=f"Verdict changed: {word.get(change.after, change.after.value)}",
            severity="information" if change.after is Status.PASS else "warning",
            timeout=15,
            markup=False,
        )
        self.app.bell()

    def action_cancel(self) -> None:
        """Cancel the running probes (and stop watching)."""
        cancelled = self.app.workers.cancel_group(self, GROUP)
        was_watching = self.watching
        self._stop_watch()
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
            self._arm_watch()
        elif self.watching:
            self._stop_watch()
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
            self._stop_watch()
            self.notify("Watch mode off")
        elif not self.board.failing and not self._busy():
            self.notify(
                "Nothing is failing: run probes first; watch re-runs the failing ones.",
                severity="warning",
            )
        else:
            self.watching = True
            self.notify(f"Re-running the failing probes every {self.watch_interval:g} s")
            if not self._busy():
                self._arm_watch()
        self._show_status()

    def _arm_watch(self) -> None:
        if self._watch_timer is not None:
            self._watch_timer.stop()
        if not self.board.failing:
            self._stop_watch()
            self.notify("Every watched probe passes now.", title="Watch mode ended")
            return
        self._watch_timer = self.set_timer(
            self.watch_interval, self._watch_round, name="probes-watch"
        )

    def _stop_watch(self) -> None:
        self.watching = False
        if self._watch_timer is not None:
            self._watch_timer.stop()
            self._watch_timer = None

    def _watch_round(self) -> None:
        self._watch_timer = None
        if not self.watching or self._busy():
            return  # the running round re-arms the watch when it ends
        failing = self.board.failing
        self.run_job(lambda: self._rerun(failing), name="probes: watch", group=GROUP)
        self._show_status()

    async def _rerun(self, rows: list[ProbeRow]) -> None:
        specs: list[RowSpec] = [await refreshed_spec(self.workspace, row) for row in rows]
        plan = self.board.begin(specs, keep_others=True)
        for row in rows:
            self._draw_row(row)
        await self._probe(plan)

    def action_interval(self) -> None:
        """Focus the watch interval."""
        self.query_one("#probes-interval", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """A valid interval applies from the next round on."""
        valid = event.validation_result is not None and event.validation_result.is_valid
        if event.input.id == "probes-interval" and valid:
            self.watch_interval = max(MIN_INTERVAL, float(event.value))
            self._show_status()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the host field runs."""
        if event.input.id == "probes-host":
            self.action_run()

    # Drawing -------------------------------------------------------------------------------

    def _rebuild_table(self) -> None:
        table = self.query_one("#probes-table", DataTable)
        table.clear()
        for row in self.board.rows.values():
            table.add_row(*row_cells(row, self._frame), key=row.key)
        if self.highlighted not in self.board.rows and self.board.rows:
            self.highlighted = next(iter(self.board.rows))
        if self.highlighted is not None and table.row_count:
            table.move_cursor(row=table.get_row_index(self.highlighted))
        self._show_detail()

    def _draw_row(self, row: ProbeRow) -> None:
        table = self.query_one("#probes-table", DataTable)
        if row.key not in table.rows:
            return
        for column, value in zip(
            ("probe", "phase", "status", "time"), row_cells(row, self._frame), strict=True
        ):
            table.update_cell(row.key, column, value)

    def _spin(self) -> None:
        self._frame += 1
        running = self.board.running
        for row in running:
            self._draw_row(row)
        if self.highlighted in {row.key for row in running}:
            self._show_detail(fixes=False)
        if not running and self._spinner is not None:
            self._spinner.pause()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
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
        if self.watching:
            text = (
                f"Watching {len(self.board.failing)} failing probe(s) every "
                f"{self.watch_interval:g} s — w stops, x cancels"
            )
        elif self._busy():
            text = "Probing… x cancels"
        elif self.board.rows:
            failing = len(self.board.failing)
            text = f"{len(self.board)} probe(s), {failing} failing — w watches until fixed"
        elif self.query_one("#probes-accounts", SelectionList).option_count:
            text = "Check accounts (space) or pick a preset and a host, then r"
        else:
            text = "No accounts yet (add them on screen 1): pick a preset and a host, then r"
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

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a fix command copies it."""
        if event.option_list.id != "probes-fixes":
            return
        row = self.board.get(self.highlighted)
        if row is not None and row.commands:
            self._copy(row.commands, event.option_index)

    def _copy(self, commands: list[tuple[str, str]], index: int) -> None:
        title, command = commands[index]
        self.app.copy_to_clipboard(command)
        more = (
            f" ({index + 1} of {len(commands)}: c again for the next)" if len(commands) > 1 else ""
        )
        self.notify(f"{index + 1}. {title}{more}", title="Fix command copied", markup=False)
