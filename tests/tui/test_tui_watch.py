"""Watch mode's controller, and the Probes job's messages that coalesce."""

from __future__ import annotations

import time
from typing import Any

from textual import on
from textual.app import App, ComposeResult

from probes.mail.model import PhaseName, PhaseStarted, Protocol, Security, Target
from tui.screens.probes.board import RunPlan
from tui.screens.probes.job import ProbeJob
from tui.widgets.watch import WatchController


class WatchApp(App[None]):
    """A controller alone, counting the rounds it asks for."""

    def __init__(self, interval: float) -> None:
        super().__init__()
        self.watcher = WatchController(interval, minimum=0.05, id="watch")
        self.rounds: list[float] = []
        self.changes = 0

    def compose(self) -> ComposeResult:
        yield self.watcher

    @on(WatchController.Elapsed, "#watch")
    def _round(self) -> None:
        self.rounds.append(time.monotonic())
        self.watcher.round_ended()  # a round that ends at once

    @on(WatchController.Changed, "#watch")
    def _changed(self) -> None:
        self.changes += 1


async def test_rounds_come_one_interval_after_the_last_ended_until_stopped() -> None:
    app = WatchApp(0.1)
    async with app.run_test() as pilot:
        watcher = app.watcher
        assert not watcher.display and watcher.countdown() == ""
        watcher.round_ended()  # off: nothing armed
        assert not watcher.armed
        watcher.start()
        assert watcher.countdown() == "checking now"
        watcher.round_ended()
        assert watcher.armed and watcher.countdown() == "next check in 1 s"
        await pilot.pause(0.45)
        assert 2 <= len(app.rounds) <= 5
        assert all(b - a >= 0.09 for a, b in zip(app.rounds, app.rounds[1:], strict=False))
        watcher.stop()
        count = len(app.rounds)
        await pilot.pause(0.3)
        assert len(app.rounds) == count and not watcher.armed and not watcher.active
        assert app.changes >= count


async def test_the_countdown_moves_every_second() -> None:
    app = WatchApp(30.0)
    async with app.run_test() as pilot:
        app.watcher.interval = 0.01
        assert app.watcher.interval == 0.05  # the minimum
        app.watcher.interval = 30.0
        app.watcher.start()
        app.watcher.round_ended()
        assert app.watcher.countdown() == "next check in 30 s"
        before = app.changes
        await pilot.pause(1.3)
        assert app.changes > before
        assert app.watcher.countdown() == "next check in 29 s"
        assert not app.rounds


def test_queued_phase_batches_merge_in_order() -> None:
    job: Any = ProbeJob.__new__(ProbeJob)
    target = Target("127.0.0.1", 25, Protocol.SMTP, Security.NONE)
    plan = RunPlan()
    first = ProbeJob.PhasesAdvanced(job, [(plan, PhaseStarted(target, PhaseName.CONNECT))])
    second = ProbeJob.PhasesAdvanced(job, [(plan, PhaseStarted(target, PhaseName.GREETING))])
    assert first.can_replace(second)
    assert [event for _, event in second.events] == [
        PhaseStarted(target, PhaseName.CONNECT),
        PhaseStarted(target, PhaseName.GREETING),
    ]
    other: Any = ProbeJob.__new__(ProbeJob)
    assert not second.can_replace(ProbeJob.PhasesAdvanced(other, []))
    assert not second.can_replace(ProbeJob.RunBegan(job, [], replaced=True))
