"""A local HTTPS server for the lab: MTA-STS policies (and other fixed answers) on loopback.

It has its own ``trustme`` CA and a server certificate for the host names it is
given (e.g. ``mta-sts.m365.lab.test``), listens on 127.0.0.1 on an ephemeral
port, and answers from a fixed route table. A client reaches it by connecting to
127.0.0.1:PORT while using the real host name for SNI and verification.

Routes map ``(host, path)`` or ``path`` to ``(status, content type, body)``; the
``(host, path)`` entry wins. A 3xx route sends its body as the ``Location``; an
empty content type sends no ``Content-Type`` header. Anything else is a 404.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import trustme

from mxlab.service import LabService

Route = tuple[int, str, bytes]
RouteKey = str | tuple[str, str]

HANDSHAKE_TIMEOUT = 5.0


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers GET/HEAD from the server's route table."""

    server: _TlsHttpServer
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, with_body: bool) -> None:
        host = _host_name(self.headers.get("Host") or "")
        path = self.path.split("?", 1)[0]
        self.server.lab.requests.append((host, path))
        routes = self.server.lab.routes
        status, content_type, body = routes.get(
            (host, path), routes.get(path, (404, "text/plain", b"not found\n"))
        )
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if 300 <= status < 400:
            self.send_header("Location", body.decode("utf-8", "replace"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the lab records requests in ``LabHttpsServer.requests`` instead."""


def _host_name(header: str) -> str:
    """The host of a Host header, without the port (``[::1]:8443`` -> ``::1``)."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0].lower()
    return header.rsplit(":", 1)[0].lower() if header.count(":") == 1 else header.lower()


class _TlsHttpServer(http.server.ThreadingHTTPServer):
    """A threading HTTP server that does the TLS handshake in each request's thread."""

    daemon_threads = True

    def __init__(self, lab: LabHttpsServer) -> None:
        self.lab = lab
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls = self.lab.server_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client gave up (e.g. it did not trust the certificate)
        try:
            _Handler(tls, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            tls.close()


class LabHttpsServer(LabService):
    """An HTTPS server on 127.0.0.1:0 with its own CA and a certificate for ``hostnames``."""

    def __init__(
        self,
        certs_dir: Path,
        hostnames: list[str],
        routes: Mapping[str, Route] | Mapping[tuple[str, str], Route] | Mapping[RouteKey, Route],
    ) -> None:
        self.hostnames = list(hostnames)
        self.routes: dict[RouteKey, Route] = {}
        for key, route in routes.items():
            if isinstance(key, tuple):
                self.routes[(key[0].lower(), key[1])] = route
            else:
                self.routes[key] = route
        self.requests: list[tuple[str, str]] = []
        self.sni_names: list[str | None] = []
        directory = Path(tempfile.mkdtemp(prefix="https-", dir=certs_dir))
        self.ca = trustme.CA(organization_name="mxpilot lab HTTPS CA")
        self.ca_pem = directory / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_pem))
        leaf = self.ca.issue_cert(*self.hostnames)
        self.cert_pem = directory / "cert.pem"
        self.key_pem = directory / "key.pem"
        self.cert_pem.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        leaf.private_key_pem.write_to_path(str(self.key_pem))
        self.server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_context.load_cert_chain(str(self.cert_pem), str(self.key_pem))
        self.server_context.sni_callback = self._record_sni
        self._server: _TlsHttpServer | None = None
        self._thread: threading.Thread | None = None

    def _record_sni(self, _sock: Any, server_name: str | None, _context: Any) -> None:
        self.sni_names.append(server_name)

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return "127.0.0.1"

    @property
    def port(self) -> int:
        """The ephemeral port chosen at ``start()``."""
        if self._server is None:
            raise RuntimeError("LabHttpsServer is not started")
        return int(self._server.server_address[1])

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this server's CA and nothing else."""
        return ssl.create_default_context(cafile=str(self.ca_pem))

    def start(self) -> None:
        """Listen and serve in a background thread."""
        if self._server is not None:
            return
        self._server = _TlsHttpServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"lab-https-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket (bounded: a few seconds at most)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5.0)


def free_port() -> int:
    """A loopback port with nothing listening on it (for 'connection refused' tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
