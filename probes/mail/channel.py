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

from probes.mail.bounds import MAX_LINE, MAX_REPLY_BYTES, SHOWN_LINE, ReplyBudget, cut, kib
from probes.mail.secrets_mask import SecretMask

__all__ = ["MAX_LINE", "Channel", "PhaseFailed", "looks_like_tls"]


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


def _printable(text: str, limit: int = 60) -> str:
    """A short, safe rendering of (already masked) server text for a message."""
    shown = "".join(ch if ch.isprintable() else "." for ch in text[:limit])
    return shown + ("…" if len(text) > limit else "")


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
    ``C:``; every line is recorded with the probe's secrets masked (``mask``)
    and cut to a sane length. Reads are bounded three ways: each read by
    ``read_timeout``, everything in the current phase by ``deadline`` (a loop
    time, see :meth:`start_phase`), and each reply by its byte and line
    budget (see :meth:`start_reply`).
    """

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    read_timeout: float
    transcript: list[str] = field(default_factory=list)
    encrypted: bool = False
    received: int = 0
    pending: bytearray = field(default_factory=bytearray)
    mask: SecretMask = field(default_factory=SecretMask)
    deadline: float | None = None
    phase_started: float = 0.0
    phase_received: int = 0
    budget: ReplyBudget = field(default_factory=ReplyBudget)

    def start_phase(self, started: float, deadline: float | None) -> None:
        """A new phase began at loop time ``started``; its replies end by ``deadline``."""
        self.phase_started = started
        self.deadline = deadline
        self.phase_received = 0

    def start_reply(self) -> None:
        """A new reply begins: its byte and line budgets start again."""
        self.budget = ReplyBudget()

    def record(self, line: str) -> None:
        """Add a line to the transcript, its secrets masked and its length cut."""
        self.transcript.append(cut(self.mask(line), SHOWN_LINE))

    def _limit(self, timeout: float | None) -> tuple[float, bool]:
        """(seconds this read may take, whether the phase deadline is what limits it)."""
        limit = self.read_timeout if timeout is None else timeout
        if self.deadline is None:
            return limit, False
        remaining = self.deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise self._deadline_passed()
        return (remaining, True) if remaining < limit else (limit, False)

    def _deadline_passed(self) -> PhaseFailed:
        """The verdict when the phase deadline ends a read."""
        elapsed = asyncio.get_running_loop().time() - self.phase_started
        received = self.phase_received + len(self.pending)
        facts: dict[str, Any] = {
            "seconds": round(elapsed, 1),
            "bytes_received": received,
            "lines_received": self.budget.lines,
        }
        if not received:
            msg = f"the server sent nothing within {elapsed:.0f} s"
            return PhaseFailed("io.timeout", msg, facts=facts)
        msg = (
            f"the server kept talking for {elapsed:.0f} s without finishing its reply "
            f"({received:,} bytes, {self.budget.lines:,} lines in this reply)"
        )
        return PhaseFailed("io.endless_reply", msg, facts=facts)

    def _spend(self, size: int, lines: int) -> None:
        """Count ``size`` bytes and ``lines`` lines against the reply's budget."""
        self.budget.size += size
        self.budget.lines += lines
        self.phase_received += size
        self.received += size
        over = self.budget.over()
        if over is not None:
            facts = {"bytes": self.budget.size, "lines": self.budget.lines}
            raise PhaseFailed("io.reply_too_big", over, facts=facts)

    async def read_line(self, timeout: float | None = None) -> str:
        """Read one LF-terminated line within the deadlines, or raise PhaseFailed.

        The line comes back with the probe's secrets masked, so nothing built
        from it (a summary, a fact, an exception) can carry one.
        """
        limit, by_deadline = self._limit(timeout)
        try:
            async with asyncio.timeout(limit):
                raw = await self._read_raw_line()
        except TimeoutError:
            if by_deadline:
                raise self._deadline_passed() from None
            partial = self.mask(bytes(self.pending).decode("utf-8", "replace"))
            facts: dict[str, Any] = {"bytes_received": self.received + len(self.pending)}
            if partial:
                facts["partial"] = _printable(partial)
                msg = (
                    f"no complete line within {limit:g} s; only {len(self.pending)} bytes "
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
        line = self.mask(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        if _is_garbage(raw):
            shown = _printable(line)
            self.transcript.append(f"S: <{len(raw)} bytes: {shown}>")
            msg = f"the server sent bytes that are not a mail protocol: {shown!r}"
            raise PhaseFailed("io.garbage", msg, facts={"bytes": shown})
        self.record(f"S: {line}")
        self._spend(len(raw), 1)
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
                shown = _printable(self.mask(partial.decode("utf-8", "replace")))
                facts = {"partial": shown} if partial else {}
                if looks_like_tls(partial):
                    msg = "the server answered with TLS bytes"
                    raise PhaseFailed("io.garbage", msg, facts=facts)
                msg = "the server closed the connection unexpectedly"
                raise PhaseFailed("io.closed", msg, facts=facts)
            self.pending.extend(chunk)

    async def read_exact(self, count: int, timeout: float | None = None) -> bytes:
        """Read exactly ``count`` bytes (an IMAP literal) within the deadlines and budget.

        A literal that would take the reply past its byte budget is refused
        before a byte of it is read: memory stays bounded whatever is announced.
        """
        if self.budget.size + count > MAX_REPLY_BYTES:
            raise PhaseFailed(
                "io.reply_too_big",
                f"the server sent more than {kib(MAX_REPLY_BYTES)} in one reply "
                f"(a literal of {count:,} bytes after {self.budget.size:,})",
                facts={"bytes": self.budget.size + count, "lines": self.budget.lines},
            )
        limit, by_deadline = self._limit(timeout)
        try:
            async with asyncio.timeout(limit):
                while len(self.pending) < count:
                    chunk = await self.reader.read(min(16384, count - len(self.pending)))
                    if not chunk:
                        raise PhaseFailed("io.closed", "the server closed the connection")
                    self.pending.extend(chunk)
        except TimeoutError:
            if by_deadline:
                raise self._deadline_passed() from None
            raise PhaseFailed(
                "io.timeout", f"a literal did not arrive within {limit:g} s"
            ) from None
        data = bytes(self.pending[:count])
        del self.pending[:count]
        self._spend(count, 0)
        return data

    async def send(self, line: str, *, shown: str | None = None) -> None:
        """Send one line; ``shown`` is what the transcript records (masked secrets)."""
        self.record(f"C: {line if shown is None else shown}")
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
