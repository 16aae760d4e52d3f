"""Self-test of the lab's hostile peers and latency proxy, with raw sockets and bounded waits."""

from __future__ import annotations

import random
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Iterator

import pytest
import trustme

from tests.labkit.hostile import (
    BEHAVIOURS,
    DRIP_BANNER,
    PLAIN_IMAP_GREETING,
    PLAIN_SMTP_BANNER,
    TLS_IMAP_GREETING,
    TLS_SMTP_BANNER,
    HostilePeer,
)
from tests.labkit.latency import LatencyProxy

WAIT = 2.0  # every blocking socket call in this module is bounded by this


@pytest.fixture(autouse=True)
def no_thread_leak() -> Iterator[None]:
    """Every peer and proxy a test starts must have joined its thread when the test ends."""
    before = set(threading.enumerate())
    yield
    leaked = [thread.name for thread in threading.enumerate() if thread not in before]
    assert not leaked, f"threads left running: {leaked}"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A throwaway certificate authority."""
    return trustme.CA()


@pytest.fixture(scope="module")
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    """A server context with a certificate for 127.0.0.1 and localhost."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts the throwaway CA."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def connect(host: str, port: int, timeout: float = WAIT) -> socket.socket:
    """A client socket with every operation bounded by ``timeout``."""
    return socket.create_connection((host, port), timeout=timeout)


def read_until(sock: socket.socket, marker: bytes, limit: int = 65536) -> bytes:
    """Read until ``marker`` appears (each recv bounded by the socket's timeout)."""
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise EOFError(f"EOF before {marker!r}; got {data!r}")
        data += chunk
        assert len(data) < limit
    return data


def test_behaviours_are_exported() -> None:
    assert set(BEHAVIOURS) == {
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
    }


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown behaviour"):
        HostilePeer("nonsense")
    with pytest.raises(TypeError, match="ssl_context"):
        HostilePeer("plain_on_tls")
    with pytest.raises(TypeError, match="interval"):
        HostilePeer("silent", interval=1.0)


def test_silent_sends_nothing() -> None:
    with HostilePeer("silent") as peer, connect(peer.host, peer.port, timeout=0.5) as sock:
        assert peer.host == "127.0.0.1"
        assert peer.port > 0
        with pytest.raises(TimeoutError):
            sock.recv(1)


def test_drip_sends_one_byte_per_interval() -> None:
    with HostilePeer("drip", interval=0.1) as peer, connect(peer.host, peer.port) as sock:
        first = sock.recv(100)
        assert first == DRIP_BANNER[:1]
        started = time.monotonic()
        second = sock.recv(100)
        assert second == DRIP_BANNER[1:2]
        assert time.monotonic() - started >= 0.05
        rest = read_until(sock, b"\r\n")
        assert first + second + rest == DRIP_BANNER


def test_endless_line_never_ends_the_line() -> None:
    with HostilePeer("endless_line") as peer, connect(peer.host, peer.port) as sock:
        received = 0
        while received <= 1024 * 1024:
            chunk = sock.recv(65536)
            assert chunk, "EOF before 1 MB"
            assert chunk == b"A" * len(chunk)
            received += len(chunk)


def test_endless_line_sends_its_total_then_stays_open() -> None:
    with (
        HostilePeer("endless_line", total=100_000, chunk=7_000) as peer,
        connect(peer.host, peer.port, timeout=0.5) as sock,
    ):
        received = 0
        while received < 100_000:
            received += len(sock.recv(65536))
        assert received == 100_000
        with pytest.raises(TimeoutError):
            sock.recv(1)


def test_endless_line_stops_when_the_client_leaves() -> None:
    with HostilePeer("endless_line") as peer:
        for _ in range(3):
            with connect(peer.host, peer.port) as sock:
                sock.recv(1000)


def test_garbage_is_binary_and_repeatable() -> None:
    with HostilePeer("garbage", size=4096) as peer:
        payloads = []
        for _ in range(2):
            with connect(peer.host, peer.port) as sock:
                data = b""
                while len(data) < 4096:
                    chunk = sock.recv(4096)
                    assert chunk
                    data += chunk
                payloads.append(data)
    assert len(payloads[0]) == 4096
    assert any(byte >= 0x80 for byte in payloads[0])
    with pytest.raises(UnicodeDecodeError):
        payloads[0].decode("ascii")
    assert payloads[0] == payloads[1]
    assert payloads[0] != random.Random(1).randbytes(4096)


def test_close_gives_eof() -> None:
    with HostilePeer("close") as peer, connect(peer.host, peer.port) as sock:
        assert sock.recv(100) == b""


def test_close_with_reset_gives_connection_reset() -> None:
    with HostilePeer("close", reset=True) as peer:
        for _ in range(20):  # connect() itself must succeed; the reset comes on read
            with connect(peer.host, peer.port) as sock, pytest.raises(ConnectionResetError):
                sock.recv(100)


def test_tls_on_plain_smtp_speaks_plain_text() -> None:
    with HostilePeer("tls_on_plain") as peer, connect(peer.host, peer.port) as sock:
        assert read_until(sock, b"\r\n") == PLAIN_SMTP_BANNER
        sock.sendall(b"EHLO client.lab.test\r\n")
        assert read_until(sock, b"250 STARTTLS\r\n") == b"250-plain.lab.test\r\n250 STARTTLS\r\n"
        sock.sendall(b"STARTTLS\r\n")
        assert read_until(sock, b"\r\n").startswith(b"454 ")
        sock.sendall(b"QUIT\r\n")
        assert read_until(sock, b"\r\n").startswith(b"221 ")
        assert sock.recv(100) == b""


def test_tls_on_plain_fails_a_tls_client(client_context: ssl.SSLContext) -> None:
    with HostilePeer("tls_on_plain") as peer, connect(peer.host, peer.port) as sock:
        with pytest.raises(ssl.SSLError) as caught:
            client_context.wrap_socket(sock, server_hostname="localhost")
        assert caught.value.reason == "WRONG_VERSION_NUMBER"


def test_tls_on_plain_imap_greeting(client_context: ssl.SSLContext) -> None:
    with HostilePeer("tls_on_plain", protocol="imap") as peer:
        with connect(peer.host, peer.port) as sock:
            assert read_until(sock, b"\r\n") == PLAIN_IMAP_GREETING
            sock.sendall(b"a1 CAPABILITY\r\n")
            reply = read_until(sock, b"a1 OK")
            assert b"* CAPABILITY IMAP4rev1 STARTTLS\r\n" in reply
            sock.sendall(b"a2 LOGOUT\r\n")
            assert b"* BYE" in read_until(sock, b"a2 OK")
        with connect(peer.host, peer.port) as sock, pytest.raises(ssl.SSLError):
            client_context.wrap_socket(sock, server_hostname="localhost")


def test_tls_on_plain_with_context_really_starts_tls(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    with (
        HostilePeer("tls_on_plain", ssl_context=server_context) as peer,
        connect(peer.host, peer.port) as sock,
    ):
        read_until(sock, b"\r\n")
        sock.sendall(b"STARTTLS\r\n")
        assert read_until(sock, b"\r\n").startswith(b"220 ")
        with client_context.wrap_socket(sock, server_hostname="localhost") as tls:
            tls.sendall(b"EHLO client.lab.test\r\n")
            assert read_until(tls, b"250 8BITMIME\r\n").startswith(b"250-plain.lab.test")


def test_plain_on_tls_gives_a_plain_client_nothing(server_context: ssl.SSLContext) -> None:
    with (
        HostilePeer("plain_on_tls", ssl_context=server_context) as peer,
        connect(peer.host, peer.port, timeout=0.5) as sock,
    ):
        with pytest.raises(TimeoutError):
            sock.recv(100)
        # A plain-text command is not a ClientHello: the server gives up on the connection.
        sock.settimeout(WAIT)
        sock.sendall(b"EHLO client.lab.test\r\n")
        try:
            data = sock.recv(100)
        except ConnectionResetError:
            data = b""
        assert not data.startswith(b"220")


@pytest.mark.parametrize(
    ("protocol", "greeting"), [("smtp", TLS_SMTP_BANNER), ("imap", TLS_IMAP_GREETING)]
)
def test_plain_on_tls_greets_a_tls_client(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    protocol: str,
    greeting: bytes,
) -> None:
    with (
        HostilePeer("plain_on_tls", ssl_context=server_context, protocol=protocol) as peer,  # type: ignore[arg-type]
        connect(peer.host, peer.port) as sock,
        client_context.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        assert read_until(tls, b"\r\n") == greeting


def test_dropped_syn_times_out_instead_of_refusing() -> None:
    with HostilePeer("dropped_syn") as peer:
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                socket.create_connection((peer.host, peer.port), timeout=1)
            assert time.monotonic() - started >= 0.9


def test_dropped_syn_is_reliable_across_many_peers() -> None:
    for _ in range(20):
        with HostilePeer("dropped_syn") as peer, pytest.raises(TimeoutError):
            socket.create_connection((peer.host, peer.port), timeout=0.05)


def test_refused_refuses() -> None:
    with HostilePeer("refused") as peer, pytest.raises(ConnectionRefusedError):
        socket.create_connection((peer.host, peer.port), timeout=WAIT)


def test_stop_is_clean_with_clients_still_connected(server_context: ssl.SSLContext) -> None:
    """Stopping with live (even blocked) clients joins the thread; the fixture checks it."""
    clients: list[socket.socket] = []
    try:
        for behaviour in ("silent", "drip", "endless_line", "garbage", "tls_on_plain"):
            with HostilePeer(behaviour) as peer:
                clients.append(connect(peer.host, peer.port))
                time.sleep(0.05)
        with HostilePeer("plain_on_tls", ssl_context=server_context) as peer:
            clients.append(connect(peer.host, peer.port))
            time.sleep(0.05)
    finally:
        for client in clients:
            client.close()


class _EchoHandler(socketserver.BaseRequestHandler):
    """Echo everything back; close after the client's EOF."""

    def handle(self) -> None:
        self.request.settimeout(WAIT * 5)
        while chunk := self.request.recv(65536):
            self.request.sendall(chunk)


@pytest.fixture
def echo_server() -> Iterator[tuple[str, int]]:
    """A threaded echo server on 127.0.0.1 (threads joined on teardown)."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _EchoHandler)
    server.daemon_threads = False
    server.block_on_close = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield str(host), int(port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(WAIT)


def test_latency_proxy_adds_rtt_per_round_trip() -> None:
    with (
        HostilePeer("tls_on_plain") as upstream,
        LatencyProxy(upstream.host, upstream.port, rtt=0.1) as proxy,
    ):
        started = time.monotonic()
        with connect(proxy.host, proxy.port) as sock:
            assert read_until(sock, b"\r\n") == PLAIN_SMTP_BANNER
            # connect (rtt) + the banner's one-way trip (rtt/2)
            assert time.monotonic() - started >= 0.14
            for _ in range(2):
                started = time.monotonic()
                sock.sendall(b"EHLO client.lab.test\r\n")
                read_until(sock, b"250 STARTTLS\r\n")
                assert time.monotonic() - started >= 0.09


def test_latency_proxy_keeps_order_and_connections_apart(echo_server: tuple[str, int]) -> None:
    host, port = echo_server
    with LatencyProxy(host, port, rtt=0.02) as proxy:
        clients = [connect(proxy.host, proxy.port) for _ in range(5)]
        try:
            payloads = [
                b"".join(b"%d:%05d;" % (index, n) for n in range(2000)) for index in range(5)
            ]
            step = len(payloads[0]) // 4
            for offset in range(0, len(payloads[0]), step):  # interleave the connections
                for sock, payload in zip(clients, payloads, strict=True):
                    sock.sendall(payload[offset : offset + step])
                    time.sleep(0.001)
            for sock in clients:
                sock.shutdown(socket.SHUT_WR)
            for sock, payload in zip(clients, payloads, strict=True):
                received = b""
                while chunk := sock.recv(65536):
                    received += chunk
                assert received == payload
        finally:
            for sock in clients:
                sock.close()


def test_latency_proxy_closes_the_client_when_upstream_refuses() -> None:
    with (
        HostilePeer("refused") as upstream,
        LatencyProxy(upstream.host, upstream.port, rtt=0.02) as proxy,
        connect(proxy.host, proxy.port) as sock,
    ):
        assert sock.recv(100) == b""


def test_latency_proxy_refuses_non_loopback_upstreams() -> None:
    with pytest.raises(ValueError, match="loopback"):
        LatencyProxy("192.0.2.1", 25, rtt=0.1)
