"""The lab identity provider's HTTPS transport: a threaded TLS HTTP server and its handler.

``IdentityHttpServer`` listens on 127.0.0.1 (ephemeral port), does the TLS handshake in each
request thread (bounded), parses the query string and form-encoded body of every request and
sends whatever ``answer`` returns as a ``Reply``. It knows nothing about OAuth: the
``LabIdentityProvider`` (``mxlab.identity``) supplies ``answer`` and ``record``. Nothing is
logged; ``record`` gets only the method and the path.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_HANDSHAKE_TIMEOUT = 5.0
_IDLE_TIMEOUT = 5.0
_MAX_BODY = 1 << 20

Answer = Callable[[str, str, dict[str, str], str], "Reply"]
"""(method, path, params, Authorization header) -> the reply to send."""

Record = Callable[[str, str], None]
"""(method, path): told about every request before it is answered."""


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, body, content type and an optional ``Location``."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    location: str | None = None


def json_reply(status: int, body: dict[str, Any]) -> Reply:
    """A JSON answer."""
    return Reply(status, json.dumps(body).encode("utf-8"))


def page_reply(status: int, title: str, text: str) -> Reply:
    """A minimal HTML page answer (what a browser would show)."""
    html = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{text}</p>\n"
    return Reply(status, html.encode("utf-8"), "text/html; charset=utf-8")


class _Handler(http.server.BaseHTTPRequestHandler):
    """Parses one request (query or form body) and sends the provider's answer."""

    server: IdentityHttpServer
    protocol_version = "HTTP/1.1"
    timeout = _IDLE_TIMEOUT

    def do_GET(self) -> None:
        """Answer a GET (authorize, device login page, introspection by query)."""
        self._dispatch("GET")

    def do_POST(self) -> None:
        """Answer a form-encoded POST."""
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        self.server.record(method, parts.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        declared = self.headers.get("Content-Length") or "0"
        length = int(declared) if declared.isdigit() else -1
        if not 0 <= length <= _MAX_BODY:
            self.close_connection = True
            self._send(
                json_reply(400, {"error": "invalid_request", "error_description": "body size"})
            )
            return
        if length > 0:
            body = self.rfile.read(length).decode("utf-8", "replace")
            params.update(parse_qsl(body, keep_blank_values=True))
        self._send(
            self.server.answer(method, parts.path, params, self.headers.get("Authorization", ""))
        )

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Cache-Control", "no-store")
        if reply.location is not None:
            self.send_header("Location", reply.location)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: requests are recorded (without secrets) through ``record`` instead."""


class IdentityHttpServer(http.server.ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1:0 doing the TLS handshake per request thread."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext, answer: Answer, record: Record) -> None:
        """Bind 127.0.0.1:0; ``context`` wraps each connection, ``answer`` answers requests."""
        self.context = context
        self.answer = answer
        self.record = record
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Handshake (bounded), then serve the connection's requests (keep-alive, idle timeout)."""
        with self._open_lock:
            self._open.add(request)
        try:
            request.settimeout(_HANDSHAKE_TIMEOUT)
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            self._forget(request)
            return  # the client gave up (e.g. it did not trust the certificate)
        self._forget(request)  # wrap_socket detached it: track the TLS socket instead
        with self._open_lock:
            self._open.add(tls)
        try:
            _Handler(tls, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            self._forget(tls)
            tls.close()

    def _forget(self, request: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(request)

    def drop_connections(self) -> None:
        """Shut down every open connection (kept-alive clients) so handler threads end."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
