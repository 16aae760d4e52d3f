"""How much a probe accepts from a server, and for how long: every bound in one place.

A hostile or broken peer can talk slowly (a line every second, each read under
the timeout), endlessly (a reply that never ends), or hugely (a 12 MB EHLO,
chained IMAP literals). The probe reads with three kinds of bound:

* **per read**: the step timeout (``--timeout``, default 8 s);
* **per phase**: :data:`PHASE_FACTOR` × the step timeout for everything the
  server says in one phase (greeting, capabilities, STARTTLS, login, inbox);
* **per probe**: :data:`PROBE_FACTOR` × the step timeout for the whole probe;

and byte and line budgets per reply (:data:`MAX_REPLY_BYTES`,
:data:`MAX_REPLY_LINES`, IMAP literals included). What is kept of a reply in
a phase (summary, transcript, facts) is cut to a few thousand characters, and
the cut is said in place (:func:`cut`).
"""

from __future__ import annotations

from dataclasses import dataclass

PHASE_FACTOR = 2.0
"""A phase's replies must be complete within this many step timeouts."""

PROBE_FACTOR = 6.0
"""A whole probe (every phase, auto detection included) ends within this many step timeouts."""

MAX_LINE = 64 * 1024
"""Longest line accepted from a server; a longer one is ``io.line_too_long``."""

MAX_REPLY_BYTES = 64 * 1024
"""Bytes in one reply (all its lines and IMAP literals); more is ``io.reply_too_big``."""

MAX_REPLY_LINES = 1000
"""Lines in one reply (SMTP continuation lines, IMAP untagged lines); more is too big."""

MAX_LITERALS_PER_LINE = 16
"""IMAP literals chained on one logical response line."""

SHOWN_LINE = 1000
"""Characters of one server line kept in a transcript."""

SHOWN_TEXT = 2000
"""Characters of a summary or a text fact kept in a phase."""

SHOWN_ITEMS = 1000
"""Items of a list fact (capability keywords...) kept in a phase."""


def cut(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its start and what was cut.

    ``"AAAA…"`` becomes ``"AA… [cut: 1,048,576 characters, kept 2]"``.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [cut: {len(text):,} characters, kept {limit:,}]"


def kib(size: int) -> str:
    """A byte budget in words: ``64 KiB``."""
    return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size:,} bytes"


@dataclass
class ReplyBudget:
    """What one reply has used so far of its byte and line budgets."""

    lines: int = 0
    size: int = 0

    def over(self) -> str | None:
        """Why the reply is over budget (the words of the verdict), or None."""
        if self.size > MAX_REPLY_BYTES:
            return f"the server sent more than {kib(MAX_REPLY_BYTES)} in one reply"
        if self.lines > MAX_REPLY_LINES:
            return f"the server sent more than {MAX_REPLY_LINES:,} lines in one reply"
        return None
