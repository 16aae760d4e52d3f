"""Waiting for the user to sign in: the device code (large) or the browser URL, and time left.

The countdown runs on a one-second timer from the last progress report (a device poll may
be minutes apart after ``slow_down``), so the time left moves smoothly.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import ProgressBar, Static

from render.text import REPLY_LIMIT, one_line

if TYPE_CHECKING:
    from probes.oauth.client import DeviceCode
    from probes.oauth.device import DeviceWait


def clock(seconds: float) -> str:
    """``14:05`` (minutes and seconds), never negative."""
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


class OAuthWait(VerticalScroll):
    """What the user must do, and how long is left."""

    DEFAULT_CSS = """
    OAuthWait { height: 1fr; }
    OAuthWait #oauth-wait-intro { height: auto; }
    OAuthWait #oauth-wait-url { height: auto; text-style: bold; color: $accent; }
    OAuthWait #oauth-wait-code {
        width: auto; height: 3; margin: 1 0 0 2; padding: 0 3;
        border: heavy $accent; text-style: bold; content-align: center middle;
    }
    OAuthWait #oauth-wait-bar { margin-top: 1; height: 1; }
    OAuthWait #oauth-wait-progress { height: auto; color: $text-muted; }
    OAuthWait #oauth-wait-slow { height: auto; color: $warning; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, can_focus=False)
        self.deadline: float | None = None
        self.total = 0.0
        self.polls = 0
        self.user_code = ""
        self.url = ""
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        """Intro, URL, code, time left."""
        yield Static("Asking for a code…", id="oauth-wait-intro", markup=False)
        yield Static("", id="oauth-wait-url", markup=False)
        yield Static("", id="oauth-wait-code", markup=False)
        yield ProgressBar(show_percentage=False, show_eta=False, id="oauth-wait-bar")
        yield Static("", id="oauth-wait-progress", markup=False)
        yield Static("", id="oauth-wait-slow", markup=False)

    def on_mount(self) -> None:
        """Nothing to wait for yet."""
        self.query_one("#oauth-wait-code").display = False
        self.query_one("#oauth-wait-slow").display = False

    def _start(self, seconds: float) -> None:
        self.total = seconds
        self.deadline = time.monotonic() + seconds
        self.query_one("#oauth-wait-bar", ProgressBar).update(total=seconds, progress=seconds)
        if self._timer is None:
            self._timer = self.set_interval(1.0, self.tick)
        self.tick()

    def show_code(self, device: DeviceCode) -> None:
        """The device flow: open this URL, enter this code (copied already)."""
        self.user_code, self.url = device.user_code, device.verification_uri
        self.query_one("#oauth-wait-intro", Static).update(
            "On any device, open this page and enter the code (it is in your clipboard):"
        )
        self.query_one("#oauth-wait-url", Static).update(
            one_line(device.verification_uri, REPLY_LIMIT)
        )
        code = self.query_one("#oauth-wait-code", Static)
        code.update(one_line(device.user_code))
        code.display = True
        self._start(device.expires_in)

    def show_url(self, url: str, seconds: float) -> None:
        """The browser flow: the sign-in page (the browser opens it; c copies it)."""
        self.url = url
        self.query_one("#oauth-wait-intro", Static).update(
            "Your browser opens the sign-in page. If it does not, open this URL (c copies it):"
        )
        self.query_one("#oauth-wait-url", Static).update(one_line(url, REPLY_LIMIT))
        self._start(seconds)

    def browser_failed(self) -> None:
        """No browser could be opened: the user opens the URL."""
        self.query_one("#oauth-wait-intro", Static).update(
            "No browser could be opened here: open this URL yourself (c copies it):"
        )

    def progress(self, wait: DeviceWait) -> None:
        """A device poll: polls so far, time left from the server's clock, slow_down."""
        self.polls = wait.polls
        self.deadline = time.monotonic() + wait.seconds_left
        slow = self.query_one("#oauth-wait-slow", Static)
        slow.update(
            f"The server asked to poll slower: now every {wait.interval} s."
            if wait.slowed_down
            else ""
        )
        slow.display = wait.slowed_down
        self.tick()

    def tick(self) -> None:
        """Redraw the time left."""
        if self.deadline is None:
            return
        left = max(0.0, self.deadline - time.monotonic())
        self.query_one("#oauth-wait-bar", ProgressBar).update(progress=left)
        polls = f" · {self.polls} poll{'s' if self.polls != 1 else ''}" if self.user_code else ""
        self.query_one("#oauth-wait-progress", Static).update(
            f"Waiting for the sign-in: {clock(left)} left{polls}"
        )

    def stop(self) -> None:
        """The wait is over (signed in, failed or cancelled)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.deadline = None
