"""The Probes screen's job: run the probes in a worker; what to show reaches the screen as messages.

The job does the data work (rows begun on the board, finished results kept in
the history) and turns the engine's events into Textual messages posted to
the screen, in the order they happened: :class:`ProbeJob.RunBegan`, then
:class:`ProbeJob.PhasesAdvanced` (phase events, coalesced while the screen is
busy) and :class:`ProbeJob.ProbeEnded` per probe, and for a preset
:class:`ProbeJob.PresetConcluded`. The screen applies them to its board and
redraws; it never hears from the engine directly.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from textual.message import Message

from probes.diagnosis.model import Diagnosis
from probes.mail.matrix import run_matrix
from probes.mail.model import PhaseFinished, PhaseStarted, ProbeEvent, ProbeFinished, ProbeResult
from probes.mail.runner import EventSink, run_probes
from render.text import shown
from tui.screens.base import MxScreen
from tui.screens.probes.board import ProbeBoard, ProbeRow, RowSpec, RunPlan
from tui.screens.probes.plan import (
    PresetChoice,
    account_specs,
    preset_specs,
    record_result,
    refreshed_spec,
)

PhaseEvent = PhaseStarted | PhaseFinished


class ProbeJob:
    """Runs probes for a screen and posts what happens to it as messages."""

    @dataclass
    class RunBegan(Message):
        """Rows were (re)started: all of the board (``replaced``) or a watch round's rows."""

        job: ProbeJob
        keys: list[str]
        replaced: bool

        @property
        def control(self) -> MxScreen:
            """The screen the job runs for."""
            return self.job.screen

    @dataclass
    class PhasesAdvanced(Message):
        """Probes started or finished phases; consecutive batches in the queue become one."""

        job: ProbeJob
        events: list[tuple[RunPlan, PhaseEvent]]

        @property
        def control(self) -> MxScreen:
            """The screen the job runs for."""
            return self.job.screen

        def can_replace(self, message: Message) -> bool:
            """A newer batch queued right behind this one takes its events (order kept)."""
            if isinstance(message, ProbeJob.PhasesAdvanced) and message.job is self.job:
                message.events[:0] = self.events
                return True
            return False

    @dataclass
    class ProbeEnded(Message):
        """A probe finished (or was cancelled) with its diagnosed result."""

        job: ProbeJob
        plan: RunPlan
        result: ProbeResult

        @property
        def control(self) -> MxScreen:
            """The screen the job runs for."""
            return self.job.screen

    @dataclass
    class PresetConcluded(Message):
        """A preset's ports were all probed: the conclusions drawn across them."""

        job: ProbeJob
        plan: RunPlan
        conclusions: list[Diagnosis]

        @property
        def control(self) -> MxScreen:
            """The screen the job runs for."""
            return self.job.screen

    def __init__(self, screen: MxScreen, board: ProbeBoard) -> None:
        self.screen = screen
        self.board = board

    async def run_selection(self, names: list[str], choice: PresetChoice | None) -> None:
        """Probe the accounts ``names`` and the preset ``choice``, replacing the board."""
        specs, no_secret = await account_specs(self.screen.workspace, names)
        if no_secret:
            self.screen.notify(
                shown(f"{'; '.join(no_secret)}: probing without logging in."),
                severity="warning",
                markup=False,
            )
        extra = preset_specs(choice) if choice else []
        self.board.begin([*specs, *extra])
        self.screen.post_message(self.RunBegan(self, list(self.board.rows), replaced=True))
        jobs = []
        if specs:
            jobs.append(self._probe(RunPlan.of(specs)))
        if choice is not None:
            jobs.append(self._matrix(choice, RunPlan.of(extra)))
        await asyncio.gather(*jobs)

    async def rerun(self, rows: list[ProbeRow]) -> None:
        """A watch round: these rows again (logins read afresh), the others left as they are."""
        specs: list[RowSpec] = [await refreshed_spec(self.screen.workspace, row) for row in rows]
        plan = self.board.begin(specs, keep_others=True)
        self.screen.post_message(self.RunBegan(self, [row.key for row in rows], replaced=False))
        await self._probe(plan)

    async def _probe(self, plan: RunPlan) -> None:
        options = self.screen.settings.probe_options()
        await run_probes(plan.targets, options, self._sink(plan))

    async def _matrix(self, choice: PresetChoice, plan: RunPlan) -> None:
        options = self.screen.settings.probe_options()
        matrix = await run_matrix(choice.preset, None, options, self._sink(plan))
        self.screen.post_message(self.PresetConcluded(self, plan, list(matrix.conclusions)))

    def _sink(self, plan: RunPlan) -> EventSink:
        """The engine's sink (on the event loop): keep finished results, post every event."""

        def sink(event: ProbeEvent) -> None:
            if isinstance(event, ProbeFinished):
                if not event.result.cancelled:
                    self._record(plan, event.result)
                self.screen.post_message(self.ProbeEnded(self, plan, event.result))
            else:
                self.screen.post_message(self.PhasesAdvanced(self, [(plan, event)]))

        return sink

    def _record(self, plan: RunPlan, result: ProbeResult) -> None:
        rows = [self.board.rows[k] for k in plan.keys(result.target) if k in self.board.rows]
        try:
            record_result(self.screen.workspace, result, rows)
        except Exception as exc:  # the run goes on; the evidence is what is lost
            self.screen.notify(
                f"Could not store the result: {exc.__class__.__name__}",
                title="History",
                severity="warning",
            )
