"""Watch mode, shared by the screens that run something again until it changes (Probes, DNS).

A :class:`WatchController` is a non-visual widget a screen composes. It owns
watch mode's state: on or off, the interval, the one timer that starts the
next round once the previous one has ended (rounds never overlap), and the
countdown to it. It does not run rounds itself: it posts
:class:`WatchController.Elapsed` when the next round is due and
:class:`WatchController.Changed` whenever what the user sees of it changes
(on, off, armed, and once a second while counting down); the screen handles
them with ``@on(WatchController.Elapsed, "#its-id")``. Its timers belong to
it, so they stop when the screen that holds it goes away.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

TICK_SECONDS = 1.0


class WatchController(Widget):
    """On/off, interval, the re-arm timer after a round ends, the countdown to the next round."""

    DEFAULT_CSS = """
    WatchController {
        display: none;
    }
    """

    @dataclass
    class Elapsed(Message):
        """The interval after a round has passed: the screen starts the next round."""

        watch: WatchController

        @property
        def control(self) -> WatchController:
            """The controller."""
            return self.watch

    @dataclass
    class Changed(Message):
        """Watch mode turned on or off, was armed, or its countdown moved: redraw it."""

        watch: WatchController

        @property
        def control(self) -> WatchController:
            """The controller."""
            return self.watch

    def __init__(self, interval: float, *, minimum: float = 0.1, id: str | None = None) -> None:
        super().__init__(id=id)
        self.active = False
        self.minimum = minimum
        self._interval = max(minimum, interval)
        self._due: float | None = None
        self._timer: Timer | None = None
        self._ticker: Timer | None = None

    @property
    def interval(self) -> float:
        """Seconds from the end of a round to the start of the next (from the next arm on)."""
        return self._interval

    @interval.setter
    def interval(self, seconds: float) -> None:
        self._interval = max(self.minimum, seconds)
        self._changed()

    @property
    def armed(self) -> bool:
        """True while waiting for the next round."""
        return self._due is not None

    @property
    def seconds_left(self) -> float | None:
        """Seconds to the next round (None unless armed)."""
        return None if self._due is None else max(0.0, self._due - time.monotonic())

    def countdown(self) -> str:
        """What to show: ``next check in 12 s`` while armed, ``checking now`` during a round."""
        left = self.seconds_left
        if not self.active:
            return ""
        if left is None:
            return "checking now"
        return f"next check in {max(1, math.ceil(left))} s"

    def start(self) -> None:
        """Turn watch mode on; the screen calls :meth:`round_ended` when a round ends."""
        self.active = True
        self._changed()

    def stop(self) -> None:
        """Turn watch mode off: no next round (a round running now is the screen's to cancel)."""
        was_active = self.active
        self.active = False
        self._disarm()
        if was_active:
            self._changed()

    def round_ended(self) -> None:
        """A round ended: in watch mode, arm the next one ``interval`` seconds from now."""
        if not self.active:
            return
        self._disarm()
        self._due = time.monotonic() + self._interval
        self._timer = self.set_timer(
            self._interval, self._elapse, name=f"{self.id or 'watch'}-round"
        )
        if self._interval > TICK_SECONDS:
            self._ticker = self.set_interval(
                TICK_SECONDS, self._changed, name=f"{self.id or 'watch'}-tick"
            )
        self._changed()

    def _elapse(self) -> None:
        self._disarm()
        if self.active:
            self.post_message(self.Elapsed(self))
            self._changed()

    def _disarm(self) -> None:
        self._due = None
        for timer in (self._timer, self._ticker):
            if timer is not None:
                timer.stop()
        self._timer = self._ticker = None

    def _changed(self) -> None:
        if self.is_attached:
            self.post_message(self.Changed(self))

    def on_unmount(self) -> None:
        """The screen went away: watch mode ends with it."""
        self.active = False
        self._disarm()
