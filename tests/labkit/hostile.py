"""Hostile peers: TCP servers on 127.0.0.1 that misbehave the way real networks do.

Each ``HostilePeer`` listens on 127.0.0.1 on a port the kernel chooses (``.port``) and is used
as a context manager::

    with HostilePeer("drip", interval=0.1) as peer:
        probe(peer.host, peer.port)

Behaviours (``BEHAVIOURS``):

- ``silent``: accepts and never sends anything (no banner, ever).
- ``drip``: sends ``220 drip.lab.test ESMTP\\r\\n`` one byte every ``interval`` seconds.
- ``endless_line``: sends ``total`` bytes (10 MiB) of ``A`` with no CRLF, then stays open.
- ``garbage``: sends ``size`` random bytes (fixed ``seed``), then stays open.
- ``close``: accepts and closes at once (FIN); ``reset=True`` sends a RST instead, 50 ms after
  the accept so that the client's ``connect()`` has returned (it sees the reset on read).
- ``tls_on_plain``: a plain-text SMTP (or ``protocol="imap"``) server that advertises STARTTLS;
  a client that speaks TLS first gets ``WRONG_VERSION_NUMBER``.
- ``plain_on_tls``: an implicit-TLS server (``ssl_context`` required); a plain-text client
  waiting for a banner gets nothing, a TLS client gets the banner.
- ``dropped_syn``: a listener whose accept queue is full, so the kernel drops new SYNs and
  ``connect()`` times out instead of being refused.
- ``refused``: nothing listens; ``connect()`` is refused (RST).
- ``talker``, ``literals``, ``huge_ehlo``, ``echo``: peers that talk too slowly, too much, or
  back with the client's secret (see :mod:`tests.labkit.hostile_talk`); the TLS-version server
  and the odd certificate are ``plain_on_tls``/``tls_on_plain`` with a context from
  :mod:`tests.labkit.hostile_tls`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import ssl
import struct
import time
from typing import Literal, TypedDict, Unpack

from mxlab.loop_thread import LOOPBACK, LoopThreadServer
from mxlab.service import LabService
from tests.labkit import hostile_talk as talk

BEHAVIOURS: tuple[str, ...] = (
    "silent",
    "drip",
    "endless_line",
    "garbage",
    "close",
    "tls_on_plain",
    "plain_on_tls",
    "dropped_syn",
    "refused",
    "talker",
    "literals",
    "huge_ehlo",
    "echo",
)

DRIP_BANNER = b"220 drip.lab.test ESMTP\r\n"
PLAIN_SMTP_BANNER = b"220 plain.lab.test ESMTP\r\n"
PLAIN_IMAP_GREETING = b"* OK [CAPABILITY IMAP4rev1 STARTTLS] plain.lab.test ready\r\n"
TLS_SMTP_BANNER = b"220 tls.lab.test ESMTP\r\n"
TLS_IMAP_GREETING = b"* OK tls.lab.test ready\r\n"

_ALLOWED_OPTIONS: dict[str, frozenset[str]] = {
    "silent": frozenset(),
    "drip": frozenset({"interval"}),
    "endless_line": frozenset({"total", "chunk"}),
    "garbage": frozenset({"size", "seed"}),
    "close": frozenset({"reset"}),
    "tls_on_plain": frozenset({"protocol", "ssl_context"}),
    "plain_on_tls": frozenset({"protocol", "ssl_context", "handshake_timeout"}),
    "dropped_syn": frozenset(),
    "refused": frozenset(),
    "talker": frozenset({"interval", "protocol"}),
    "literals": frozenset({"size"}),
    "huge_ehlo": frozenset({"total"}),
    "echo": frozenset({"protocol"}),
}
_ACCEPT_QUEUE_TIMEOUT = 2.0
_LINE_LIMIT = 8192
_RESET_GRACE = 0.05


class PeerOptions(TypedDict, total=False):
    """Options of ``HostilePeer``; each behaviour accepts only the ones that concern it."""

    interval: float  # drip: seconds between bytes; talker: between lines (default 1.0)
    total: int  # endless_line, huge_ehlo: bytes to send (default 10 MiB)
    chunk: int  # endless_line: bytes per write (default 64 KiB)
    size: int  # garbage: bytes to send; literals: bytes per literal (default 4096)
    seed: int  # garbage: random seed (default 0x6D78)
    reset: bool  # close: a RST (50 ms after accept) instead of a FIN (default False)
    protocol: Literal["smtp", "imap"]  # tls_on_plain, plain_on_tls, talker, echo (default smtp)
    ssl_context: ssl.SSLContext  # plain_on_tls (required); tls_on_plain: enables STARTTLS
    handshake_timeout: float  # plain_on_tls: seconds to wait for a ClientHello (default 30)


class HostilePeer(LabService):
    """A misbehaving TCP peer on 127.0.0.1; ``behaviour`` is one of ``BEHAVIOURS``.

    ``host`` and ``port`` are valid right after construction; ``start()`` / ``stop()`` (or the
    context manager) run and tear down the peer. Async behaviours run on a private asyncio loop
    thread; ``dropped_syn`` and ``refused`` need no thread at all.
    """

    def __init__(self, behaviour: str, **options: Unpack[PeerOptions]) -> None:
        """Validate ``behaviour`` and ``options`` and reserve the port."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {BEHAVIOURS}")
        unknown = set(options) - _ALLOWED_OPTIONS[behaviour]
        if unknown:
            raise TypeError(f"behaviour {behaviour!r} takes no option(s) {sorted(unknown)}")
        if behaviour == "plain_on_tls" and "ssl_context" not in options:
            raise TypeError("behaviour 'plain_on_tls' needs ssl_context (a server SSLContext)")
        protocol = options.get("protocol", "smtp")
        if protocol not in ("smtp", "imap"):
            raise ValueError(f"protocol must be 'smtp' or 'imap', not {protocol!r}")
        self.behaviour = behaviour
        self._server: _HostileServer | None = None
        self._socket_peer: _DroppedSynListener | _RefusingPort | None = None
        if behaviour == "dropped_syn":
            self._socket_peer = _DroppedSynListener()
        elif behaviour == "refused":
            self._socket_peer = _RefusingPort()
        else:
            self._server = _HostileServer(behaviour, options)
        endpoint = self._server if self._server is not None else self._socket_peer
        assert endpoint is not None
        self.host: str = endpoint.host
        self.port: int = endpoint.port

    def start(self) -> None:
        """Start misbehaving; returns once the peer is in place."""
        if self._server is not None:
            self._server.start()
        elif self._socket_peer is not None:
            self._socket_peer.start()

    def stop(self) -> None:
        """Stop, closing every socket and joining the thread (idempotent)."""
        if self._server is not None:
            self._server.stop()
        elif self._socket_peer is not None:
            self._socket_peer.stop()

    def __repr__(self) -> str:
        """Show the behaviour and the address."""
        return f"HostilePeer({self.behaviour!r}, {self.host}:{self.port})"


class _HostileServer(LoopThreadServer):
    """The asyncio side of the behaviours that accept connections."""

    def __init__(self, behaviour: str, options: PeerOptions) -> None:
        super().__init__(f"hostile-{behaviour}")
        self._behaviour = behaviour
        self._options = options

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opts = self._options
        match self._behaviour:
            case "silent":
                await _discard_until_eof(reader)
            case "drip":
                await _drip(writer, DRIP_BANNER, opts.get("interval", 1.0))
                await _discard_until_eof(reader)
            case "endless_line":
                await _endless_line(
                    writer, opts.get("total", 10 * 1024 * 1024), opts.get("chunk", 64 * 1024)
                )
                await _discard_until_eof(reader)
            case "garbage":
                writer.write(
                    random.Random(opts.get("seed", 0x6D78)).randbytes(opts.get("size", 4096))
                )
                await writer.drain()
                await _discard_until_eof(reader)
            case "close":
                if opts.get("reset", False):
                    # Let the client's connect() return first: on loopback an immediate RST
                    # can reach the client before connect() does and fail the connect itself.
                    await asyncio.sleep(_RESET_GRACE)
                    _reset_on_close(writer)
            case "tls_on_plain":
                await _converse(
                    reader,
                    writer,
                    opts.get("protocol", "smtp"),
                    "plain.lab.test",
                    opts.get("ssl_context"),
                    in_tls=False,
                )
            case "plain_on_tls":
                await writer.start_tls(
                    opts["ssl_context"], ssl_handshake_timeout=opts.get("handshake_timeout", 30.0)
                )
                await _converse(
                    reader, writer, opts.get("protocol", "smtp"), "tls.lab.test", None, in_tls=True
                )
            case "talker":
                await talk.talker(
                    reader, writer, opts.get("protocol", "smtp"), opts.get("interval", 1.0)
                )
            case "literals":
                await talk.chained_literals(reader, writer, opts.get("size", 4096))
            case "huge_ehlo":
                await talk.huge_ehlo(reader, writer, opts.get("total", 10 * 1024 * 1024))
            case "echo" if opts.get("protocol", "smtp") == "imap":
                await talk.echo_imap(reader, writer)
            case "echo":
                await talk.echo_smtp(reader, writer)
            case _:
                raise AssertionError(self._behaviour)


async def _discard_until_eof(reader: asyncio.StreamReader) -> None:
    """Read and drop whatever the client sends until it closes (or the peer stops)."""
    while await reader.read(65536):
        pass


async def _drip(writer: asyncio.StreamWriter, data: bytes, interval: float) -> None:
    """Send ``data`` one byte at a time, ``interval`` seconds apart."""
    for index in range(len(data)):
        if index:
            await asyncio.sleep(interval)
        writer.write(data[index : index + 1])
        await writer.drain()


async def _endless_line(writer: asyncio.StreamWriter, total: int, chunk: int) -> None:
    """Send ``total`` bytes of ``A`` (no line end) in ``chunk``-sized writes."""
    block = b"A" * chunk
    sent = 0
    while sent < total and not writer.is_closing():
        piece = block[: min(chunk, total - sent)]
        writer.write(piece)
        await writer.drain()  # raises ConnectionResetError once the client has gone
        sent += len(piece)


def _reset_on_close(writer: asyncio.StreamWriter) -> None:
    """Make the coming close send a RST (SO_LINGER with a zero timeout)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def _converse(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    protocol: str,
    hostname: str,
    starttls: ssl.SSLContext | None,
    *,
    in_tls: bool,
) -> None:
    """Speak a minimal SMTP or IMAP dialogue: greeting, EHLO/CAPABILITY, STARTTLS, QUIT."""
    if protocol == "imap":
        greeting = TLS_IMAP_GREETING if in_tls else PLAIN_IMAP_GREETING
    else:
        greeting = TLS_SMTP_BANNER if in_tls else PLAIN_SMTP_BANNER
    writer.write(greeting)
    await writer.drain()
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return  # EOF, or a line too long (a TLS ClientHello, garbage): hang up
        if len(line) > _LINE_LIMIT:
            return
        text = line.decode("latin-1").strip()
        if protocol == "imap":
            replies, upgrade, done = _imap_reply(text, hostname, starttls, in_tls=in_tls)
        else:
            replies, upgrade, done = _smtp_reply(text, hostname, starttls, in_tls=in_tls)
        writer.write(replies)
        await writer.drain()
        if done:
            return
        if upgrade and starttls is not None:
            await writer.start_tls(starttls, ssl_handshake_timeout=30.0)
            in_tls = True


def _smtp_reply(
    line: str, hostname: str, starttls: ssl.SSLContext | None, *, in_tls: bool
) -> tuple[bytes, bool, bool]:
    """Reply to one SMTP command: (reply bytes, upgrade to TLS now, hang up after)."""
    verb = line.split(" ", 1)[0].upper()
    if verb == "EHLO":
        extensions = ["8BITMIME"] if in_tls else ["STARTTLS"]
        lines = [hostname, *extensions]
        body = "".join(f"250-{item}\r\n" for item in lines[:-1]) + f"250 {lines[-1]}\r\n"
        return body.encode(), False, False
    if verb == "HELO":
        return f"250 {hostname}\r\n".encode(), False, False
    if verb in ("NOOP", "RSET"):
        return b"250 2.0.0 OK\r\n", False, False
    if verb == "QUIT":
        return f"221 2.0.0 {hostname} closing connection\r\n".encode(), False, True
    if verb == "STARTTLS":
        if in_tls:
            return b"503 5.5.1 TLS already active\r\n", False, False
        if starttls is None:
            return b"454 4.7.0 TLS not available due to temporary reason\r\n", False, False
        return b"220 2.0.0 Ready to start TLS\r\n", True, False
    return b"502 5.5.2 Command not implemented\r\n", False, False


def _imap_reply(
    line: str, hostname: str, starttls: ssl.SSLContext | None, *, in_tls: bool
) -> tuple[bytes, bool, bool]:
    """Reply to one IMAP command: (reply bytes, upgrade to TLS now, hang up after)."""
    parts = line.split(" ", 2)
    if len(parts) < 2:
        return b"* BAD Missing tag or command\r\n", False, False
    tag, command = parts[0], parts[1].upper()
    if command == "CAPABILITY":
        caps = "IMAP4rev1" if in_tls else "IMAP4rev1 STARTTLS"
        return f"* CAPABILITY {caps}\r\n{tag} OK CAPABILITY completed\r\n".encode(), False, False
    if command == "NOOP":
        return f"{tag} OK NOOP completed\r\n".encode(), False, False
    if command == "LOGOUT":
        reply = f"* BYE {hostname} logging out\r\n{tag} OK LOGOUT completed\r\n"
        return reply.encode(), False, True
    if command == "STARTTLS":
        if in_tls:
            return f"{tag} BAD TLS already active\r\n".encode(), False, False
        if starttls is None:
            return f"{tag} NO STARTTLS unavailable\r\n".encode(), False, False
        return f"{tag} OK Begin TLS negotiation now\r\n".encode(), True, False
    return f"{tag} BAD Command unknown\r\n".encode(), False, False


class _DroppedSynListener:
    """A listener with backlog 0 whose accept queue is filled, so the kernel drops new SYNs.

    Linux drops a SYN outright when the listener's accept queue is full (``ListenOverflows``),
    whatever ``tcp_syncookies`` says; the client retransmits and ``connect()`` times out. With
    ``listen(0)`` one established-but-unaccepted connection fills the queue. ``start()`` makes
    that filler connection and waits (via ``TCP_INFO`` on the listener) until the kernel has
    queued it, so the first hostile connect cannot slip in while the queue still has room.
    """

    def __init__(self) -> None:
        self._listener: socket.socket | None = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((LOOPBACK, 0))
        self.host: str = LOOPBACK
        self.port: int = self._listener.getsockname()[1]
        self._fillers: list[socket.socket] = []

    def start(self) -> None:
        listener = self._listener
        if listener is None:
            raise RuntimeError("dropped_syn peer was stopped and cannot be restarted")
        listener.listen(0)
        deadline = time.monotonic() + _ACCEPT_QUEUE_TIMEOUT
        while not _accept_queue_full(listener):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("could not fill the accept queue of the dropped_syn listener")
            if len(self._fillers) < 4:
                with contextlib.suppress(TimeoutError):
                    self._fillers.append(
                        socket.create_connection((self.host, self.port), timeout=0.2)
                    )
            time.sleep(0.005)

    def stop(self) -> None:
        for filler in self._fillers:
            filler.close()
        self._fillers.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None


def _accept_queue_full(listener: socket.socket) -> bool:
    """Whether the listener's accept queue is full (Linux ``TCP_INFO``; elsewhere: a guess).

    For a listening socket Linux reports the accept-queue length in ``tcpi_unacked`` and the
    backlog in ``tcpi_sacked``; the queue is full when the length exceeds the backlog.
    """
    tcp_info = getattr(socket, "TCP_INFO", None)
    if tcp_info is None:  # not Linux: assume one filler connection suffices after a pause
        time.sleep(0.1)
        return True
    raw = listener.getsockopt(socket.IPPROTO_TCP, tcp_info, 104)
    queued, backlog = struct.unpack_from("II", raw, 24)
    return bool(queued > backlog)


class _RefusingPort:
    """A port where nothing listens: a bound, never-listening socket holds it.

    Linux answers a SYN to a bound but non-listening port with a RST, so ``connect()`` is
    refused, and holding the socket keeps any other process from taking the port meanwhile.
    """

    def __init__(self) -> None:
        self._holder: socket.socket | None = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._holder.bind((LOOPBACK, 0))
        self.host: str = LOOPBACK
        self.port: int = self._holder.getsockname()[1]

    def start(self) -> None:
        """Nothing to do: the port already refuses."""

    def stop(self) -> None:
        if self._holder is not None:
            self._holder.close()
            self._holder = None
