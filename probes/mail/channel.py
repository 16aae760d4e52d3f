"""A line-oriented connection to a mail server with bounded reads and a transcript.

Every read has a deadline, every line a maximum length, and every failure is
raised as :class:`PhaseFailed` with a stable ``kind`` so that the runner and
the diagnosis catalogue can tell a silent peer from a closed one, a line that
never ends from bytes that are not a mail protocol at all.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from typing import Any

MAX_LINE = 64 * 1024
"""Longest line accepted from a server; a longer one is ``io.line_too_long``."""


class PhaseFailed(Exception):
    """A phase could not complete; ``kind`` names the failure for diagnosis."""

    def __init__(
        self,
        kind: str,
        summary: str,
        *,
        code: int | None = None,
        enhanced: str | None = None,
        facts: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(summary)
        self.kind = kind
        self.summary = summary
        self.code = code
        self.enhanced = enhanced
        self.facts = facts or {}


def _printable(data: bytes, limit: int = 60) -> str:
    """A short, safe rendering of raw bytes for a message."""
    text = data[:limit].decode("latin-1")
    shown = "".join(ch if ch.isprintable() else "." for ch in text)
    return shown + ("…" if len(data) > limit else "")


def looks_like_tls(data: bytes) -> bool:
    """True when bytes start like a TLS record (handshake or alert)."""
    return len(data) >= 2 and data[0] in (0x15, 0x16) and data[1] == 0x03


def _is_garbage(line: bytes) -> bool:
    """True when a line holds control bytes no mail protocol sends."""
    body = line.rstrip(b"\r\n")
    if looks_like_tls(body):
        return True
    return any(b < 0x20 and b not in (0x09,) for b in body) or b"\x00" in body


@dataclass
class Channel:
    """A connected stream pair with a transcript of what was said.

    ``transcript`` is the list the current phase collects into; the runner
    swaps it as phases begin. Server lines are prefixed ``S:``, client lines
    ``C:``; a line that carries a secret is written with its masked form.
    """

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    read_timeout: float
    transcript: list[str] = field(default_factory=list)
    encrypted: bool = False
    received: int = 0
    pending: bytearray = field(default_factory=bytearray)

    async def read_line(self, timeout: float | None = None) -> str:
        """Read one LF-terminated line within the deadline, or raise PhaseFailed."""
        limit = self.read_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit):
                raw = await self._read_raw_line()
        except TimeoutError:
            partial = bytes(self.pending)
            facts: dict[str, Any] = {"bytes_received": self.received + len(partial)}
            if partial:
                facts["partial"] = _printable(partial)
                msg = (
                    f"no complete line within {limit:g} s; only {len(partial)} bytes "
                    f"arrived ({_printable(partial)!r}): the peer is sending very slowly"
                )
                raise PhaseFailed("io.slow", msg, facts=facts) from None
            msg = f"the server sent nothing within {limit:g} s"
            raise PhaseFailed("io.timeout", msg, facts=facts) from None
        except ssl.SSLError as exc:
            raise PhaseFailed("tls.handshake", f"TLS error while reading: {exc}") from None
        except (ConnectionResetError, BrokenPipeError) as exc:
            msg = f"the server reset the connection ({exc.__class__.__name__})"
            raise PhaseFailed("io.closed", msg) from None
        except OSError as exc:
            raise PhaseFailed("io.closed", f"connection error: {exc}") from None
        self.received += len(raw)
        if _is_garbage(raw):
            self.transcript.append(f"S: <{len(raw)} bytes: {_printable(raw)}>")
            msg = f"the server sent bytes that are not a mail protocol: {_printable(raw)!r}"
            raise PhaseFailed("io.garbage", msg, facts={"bytes": _printable(raw)})
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        self.transcript.append(f"S: {line}")
        return line

    async def _read_raw_line(self) -> bytes:
        """One raw line from the internal buffer, reading more as needed."""
        while True:
            newline = self.pending.find(b"\n")
            if newline >= 0:
                raw = bytes(self.pending[: newline + 1])
                del self.pending[: newline + 1]
                return raw
            if len(self.pending) > MAX_LINE:
                msg = f"the server sent a line longer than {MAX_LINE} bytes without CRLF"
                raise PhaseFailed("io.line_too_long", msg, facts={"bytes": len(self.pending)})
            chunk = await self.reader.read(16384)
            if not chunk:
                partial = bytes(self.pending)
                facts = {"partial": _printable(partial)} if partial else {}
                if looks_like_tls(partial):
                    msg = "the server answered with TLS bytes"
                    raise PhaseFailed("io.garbage", msg, facts=facts)
                msg = "the server closed the connection unexpectedly"
                raise PhaseFailed("io.closed", msg, facts=facts)
            self.pending.extend(chunk)

    async def read_exact(self, count: int, timeout: float | None = None) -> bytes:
        """Read exactly ``count`` bytes (an IMAP literal) within the deadline."""
        limit = self.read_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit):
                while len(self.pending) < count:
                    chunk = await self.reader.read(16384)
                    if not chunk:
                        raise PhaseFailed("io.closed", "the server closed the connection")
                    self.pending.extend(chunk)
        except TimeoutError:
            raise PhaseFailed(
                "io.timeout", f"a literal did not arrive within {limit:g} s"
            ) from None
        data = bytes(self.pending[:count])
        del self.pending[:count]
        self.received += count
        return data

    async def send(self, line: str, *, shown: str | None = None) -> None:
        """Send one line; ``shown`` is what the transcript records (masked secrets)."""
        self.transcript.append(f"C: {line if shown is None else shown}")
        try:
            self.writer.write(line.encode("utf-8") + b"\r\n")
            async with asyncio.timeout(self.read_timeout):
                await self.writer.drain()
        except TimeoutError:
            raise PhaseFailed("io.timeout", "the server stopped reading our data") from None
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise PhaseFailed(
                "io.closed", f"the server closed the connection ({exc.__class__.__name__})"
            ) from None
        except OSError as exc:
            raise PhaseFailed("io.closed", f"connection error: {exc}") from None

    async def close(self) -> None:
        """Close the connection without waiting for the peer.

        An encrypted channel is aborted rather than shut down: what was
        written is already with the kernel, and waiting for the peer's TLS
        close_notify would cost one more round trip for nothing.
        """
        if self.encrypted:
            self.writer.transport.abort()
            return
        self.writer.close()
        try:
            async with asyncio.timeout(1.0):
                await self.writer.wait_closed()
        except (TimeoutError, OSError, ssl.SSLError):
            pass
