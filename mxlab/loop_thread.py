"""An asyncio TCP server on 127.0.0.1 that runs in its own thread with its own event loop.

The lab's hostile peers and latency proxy are synchronous objects that tests use as context
managers; this base class owns the thread, the loop, the listening socket and the per-connection
tasks, and tears all of them down promptly on ``stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

from mxlab.service import LabService

LOOPBACK = "127.0.0.1"
_START_TIMEOUT = 5.0
_STOP_TIMEOUT = 5.0


class LoopThreadServer(LabService):
    """A TCP server on 127.0.0.1 served by ``handle`` in a private asyncio loop thread.

    Subclasses implement ``handle(reader, writer)``; every connection runs as its own task,
    which ``stop()`` cancels. The listening socket is bound in ``__init__`` (port 0, so the
    kernel chooses), so ``host`` and ``port`` are known before ``start()``.
    """

    def __init__(self, name: str) -> None:
        """Bind the listening socket on 127.0.0.1:0; ``name`` names the thread."""
        self._name = name
        # proto given explicitly: asyncio disables Nagle only on sockets with IPPROTO_TCP.
        self._listener: socket.socket | None = socket.socket(
            socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
        )
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self.host: str = LOOPBACK
        self.port: int = self._listener.getsockname()[1]
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one accepted connection (subclasses override)."""
        raise NotImplementedError

    def start(self) -> None:
        """Start the loop thread and begin accepting; returns once the server listens."""
        if self._thread is not None:
            raise RuntimeError(f"{self._name} already started")
        if self._listener is None:
            raise RuntimeError(f"{self._name} was stopped and cannot be restarted")
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT):
            raise RuntimeError(f"{self._name} did not start within {_START_TIMEOUT} s")
        if self._failure is not None:
            raise RuntimeError(f"{self._name} failed to start") from self._failure

    def stop(self) -> None:
        """Stop accepting, cancel every connection, close sockets and join the thread."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is not None and loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stopping.set)
            thread.join(_STOP_TIMEOUT)
            if thread.is_alive():
                raise RuntimeError(f"{self._name} did not stop within {_STOP_TIMEOUT} s")
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as error:  # surfaced to start() if it happened before "ready"
            self._failure = error
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        listener = self._listener
        if listener is None:
            raise RuntimeError("listener closed before start")
        server = await asyncio.start_server(self._accepted, sock=listener, backlog=64)
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self.handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, OSError):
            pass  # the peer went away or misbehaved: nothing to report in a lab server
        except asyncio.CancelledError:
            # stop() cancelled us. End normally: on Python 3.11 asyncio's done-callback for
            # client_connected_cb tasks calls task.exception(), which raises on a cancelled
            # task and logs a spurious "Exception in callback" error.
            pass
        finally:
            if self._stopping is not None and self._stopping.is_set():
                writer.transport.abort()  # shutting down: do not wait for buffered bytes
            else:
                writer.close()
            if task is not None:
                self._tasks.discard(task)
