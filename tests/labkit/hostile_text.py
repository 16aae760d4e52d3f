"""A hostile SMTP peer whose words try to steer the terminal: C1 controls, markup, escapes.

``HostileTextSmtp`` listens on 127.0.0.1 (``.host``/``.port``) and speaks plain SMTP without
STARTTLS: its banner, EHLO lines and every other reply carry ``HOSTILE_WORDS`` (the C1 CSI
U+009B, an OSC title in C1 form, Rich markup ``[/bold]`` and ``[link=…]``, a bidi override),
so a probe of it shows those words in every phase::

    with HostileTextSmtp() as peer:
        mxpilot probe 127.0.0.1:<peer.port> --security none
"""

from __future__ import annotations

import asyncio

from mxlab.loop_thread import LoopThreadServer

HOSTILE_WORDS = (
    "\x9b2J \x9d0;owned\x9c [/bold] [link=https://evil.test]click[/link] "
    "\u202egnp.exe [bold red]loud[/] \u2028x"
)
"""What the peer puts in every line it says: C1 controls (CSI, an OSC title ended by ST),
markup, a bidi override and a line separator. No C0 byte: the probe calls a line with one
not a mail protocol at all (and shows it escaped), so these words get past the greeting."""


def _line(code: int, text: str, last: bool = True) -> bytes:
    return f"{code}{' ' if last else '-'}{text}\r\n".encode()


class HostileTextSmtp(LoopThreadServer):
    """A plain SMTP server (no STARTTLS) that says ``HOSTILE_WORDS`` in every reply."""

    def __init__(self) -> None:
        super().__init__("hostile-text-smtp")

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Banner, then EHLO/HELO, AUTH, QUIT and everything else answered with the words."""
        writer.write(_line(220, f"hostile.lab.test ESMTP {HOSTILE_WORDS}"))
        await writer.drain()
        while line := await reader.readline():
            verb = line.decode("latin-1").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                writer.write(_line(250, f"hostile.lab.test {HOSTILE_WORDS}", last=False))
                writer.write(_line(250, f"X-{HOSTILE_WORDS}", last=False))
                writer.write(_line(250, "AUTH PLAIN LOGIN", last=False))
                writer.write(_line(250, "8BITMIME"))
            elif verb == "QUIT":
                writer.write(_line(221, f"bye {HOSTILE_WORDS}"))
                await writer.drain()
                return
            elif verb == "AUTH":
                writer.write(_line(535, f"5.7.8 rejected {HOSTILE_WORDS}"))
            else:
                writer.write(_line(250, f"ok {HOSTILE_WORDS}"))
            await writer.drain()
