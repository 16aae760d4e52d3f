"""The status words every result shows: PASS, WARN, FAIL, SKIP, each in its colour."""

from __future__ import annotations

from rich.text import Text

from probes.status import Status

STATUS_STYLE = {
    Status.PASS: ("PASS", "bold green"),
    Status.WARN: ("WARN", "bold yellow"),
    Status.FAIL: ("FAIL", "bold red"),
    Status.SKIPPED: ("SKIP", "dim"),
}
"""Per status: the word shown and its Rich style."""


def status_text(status: Status) -> Text:
    """A coloured status word."""
    word, style = STATUS_STYLE[status]
    return Text(word, style=style)
