"""A TCP proxy on 127.0.0.1 that adds network latency between a client and a lab server."""

from __future__ import annotations

import asyncio
import contextlib

from mxlab.loop_thread import LOOPBACK, LoopThreadServer

_QUEUE_CHUNKS = 256
_READ_SIZE = 65536
_EOF = b""


class LatencyProxy(LoopThreadServer):
    """Forward TCP to ``upstream_host:upstream_port`` with a round-trip time of ``rtt`` seconds.

    Latency model:

    - Connect: after accepting a client, the proxy waits ``rtt`` before it connects upstream,
      modelling the TCP handshake round trip. The client's own ``connect()`` returns at once
      (the proxy is local), so the cost shows up as ``rtt`` before the first upstream byte
      (e.g. a banner arrives after ``rtt + rtt/2``).
    - Data: every chunk is delayed by ``rtt/2`` in each direction, so one request/response
      round trip costs about ``rtt``. A chunk is due at its arrival time + ``rtt/2``; it is
      not queued behind the previous chunk's delay, so bandwidth is not throttled, order is
      kept, and every connection (and direction) has its own pipeline.
    - EOF (half-close) is delayed like data; a reset or error on either side closes both.
      If the upstream connect fails, the client connection is closed.
    """

    def __init__(self, upstream_host: str, upstream_port: int, rtt: float) -> None:
        """Bind 127.0.0.1:0 for a proxy to ``upstream_host:upstream_port`` (loopback only)."""
        if upstream_host not in (LOOPBACK, "localhost", "::1") and not upstream_host.startswith(
            "127."
        ):
            raise ValueError(f"the lab proxies loopback only, not {upstream_host!r}")
        if rtt < 0:
            raise ValueError("rtt must be >= 0")
        super().__init__(f"latency-proxy-{upstream_port}")
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.rtt = rtt

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Connect upstream after ``rtt`` and pump both directions with ``rtt/2`` each."""
        await asyncio.sleep(self.rtt)
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection(self.upstream_host, self.upstream_port), timeout=10.0
        )
        pumps = [
            asyncio.create_task(_delayed_pipe(reader, up_writer, self.rtt / 2)),
            asyncio.create_task(_delayed_pipe(up_reader, writer, self.rtt / 2)),
        ]
        failed = True
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_EXCEPTION)
            failed = any(pump.done() and pump.exception() is not None for pump in pumps)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            if failed:  # a reset on one side resets the other; so does stopping the proxy
                up_writer.transport.abort()
                writer.transport.abort()
            else:
                up_writer.close()


async def _delayed_pipe(
    source: asyncio.StreamReader, sink: asyncio.StreamWriter, delay: float
) -> None:
    """Copy ``source`` to ``sink``, each chunk (and the EOF) released at arrival + ``delay``."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue(_QUEUE_CHUNKS)

    async def receive() -> None:
        while True:
            try:
                chunk: bytes | None = await source.read(_READ_SIZE)
            except OSError:
                chunk = None  # the source failed: pass the failure on, delayed like data
            await queue.put((loop.time() + delay, chunk))
            if not chunk:
                return

    async def release() -> None:
        while True:
            due, chunk = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if chunk is None:
                raise ConnectionResetError("the other side of the proxy failed")
            if chunk == _EOF:
                if sink.can_write_eof():
                    with contextlib.suppress(OSError):
                        sink.write_eof()
                return
            sink.write(chunk)
            await sink.drain()

    receiver = asyncio.create_task(receive())
    try:
        await release()
    finally:
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
