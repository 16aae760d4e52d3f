"""Waiting in TUI tests, in one place: bounded polls, never a bare sleep.

A test waits for what it needs to see (``wait_until``) or for the app to be idle
(``settle``); both give up with an assertion, so a hang fails with a reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.pilot import Pilot

WAIT = 15.0
"""Seconds a test waits for the app before it fails."""

POLL = 0.05
"""Seconds between two looks at the app."""

SETTLE_ROUNDS = 3
"""Rounds of "workers done, then a repaint" that ``settle`` lets run."""


async def wait_until(
    pilot: Pilot[Any],
    condition: Callable[[], object],
    what: str = "the app",
    seconds: float = WAIT,
) -> None:
    """Let the app run until ``condition()`` is true; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(POLL)


async def settle(app: App[Any], pilot: Pilot[Any]) -> None:
    """Let workers (keyring, SQLite, file reads, probes) finish and the screen repaint."""
    for _ in range(SETTLE_ROUNDS):
        await app.workers.wait_for_complete()
        await pilot.pause()
