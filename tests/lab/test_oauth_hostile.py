"""A token endpoint that misbehaves: silence, garbage, HTML, a wrong certificate — clear errors."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mxlab.certs import LabCertificates
from probes.oauth.client import OAuthClient
from probes.oauth.endpoints import IdentityPlatform, OAuthApp
from probes.oauth.errors import OAuthError
from probes.oauth.tokens import jwt_payload, token_set
from tests.labkit.hostile import HostilePeer

CLIENT = "11111111-2222-3333-4444-555555555555"


def client_for(
    port: int, verify: ssl.SSLContext | bool = True, timeout: float = 1.0
) -> OAuthClient:
    app = OAuthApp(IdentityPlatform.MICROSOFT, CLIENT, authority=f"https://127.0.0.1:{port}")
    return OAuthClient(app, verify=verify, timeout=timeout)


async def test_silent_endpoint_times_out(hostile_peer: Callable[..., HostilePeer]) -> None:
    peer = hostile_peer("silent")
    started = time.monotonic()
    with pytest.raises(OAuthError) as caught:
        await client_for(peer.port, timeout=0.5).start_device_flow()
    assert caught.value.error == "timeout" and "127.0.0.1" in caught.value.message
    assert time.monotonic() - started < 5


async def test_garbage_instead_of_tls(hostile_peer: Callable[..., HostilePeer]) -> None:
    peer = hostile_peer("garbage")
    with pytest.raises(OAuthError) as caught:
        await client_for(peer.port).refresh("refresh-token-never-shown")
    assert caught.value.error in {"network", "timeout"}
    assert "refresh-token-never-shown" not in str(caught.value)


async def test_certificate_not_trusted(lab_certs: LabCertificates, identity: Any) -> None:
    with pytest.raises(OAuthError) as caught:
        await client_for(identity.port, verify=True).start_device_flow()  # system CAs only
    assert caught.value.error == "network" and "CERTIFICATE_VERIFY_FAILED" in caught.value.message


ANSWERS = {
    "html": (200, "text/html", b"<html>captive portal: log in to the hotel wifi</html>"),
    "array": (200, "application/json", b"[1, 2]"),
    "wrong-types": (200, "application/json", b'{"user_code": 5, "device_code": null}'),
    "huge": (200, "application/json", b"{" + b" " * (400 * 1024) + b"}"),
    "redirect": (302, "text/plain", b""),
    "server-error": (500, "text/plain", b"upstream timeout"),
}


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read one request (headers and body) and send the answer its path names."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await asyncio.wait_for(reader.readexactly(length), 5)
        tenant = head.split(b" ", 2)[1].decode().split("/")[1]
        status, kind, body = ANSWERS[tenant]
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
            "Location: https://elsewhere.invalid/\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
    finally:
        writer.close()


@pytest.mark.parametrize("tenant", sorted(ANSWERS))
async def test_answers_that_make_no_sense(lab_certs: LabCertificates, tenant: str) -> None:
    server = await asyncio.start_server(_answer, "127.0.0.1", 0, ssl=lab_certs.server_context())
    port = server.sockets[0].getsockname()[1]
    app = OAuthApp(IdentityPlatform.MICROSOFT, CLIENT, tenant, f"https://127.0.0.1:{port}")
    verify = ssl.create_default_context(cafile=str(lab_certs.ca_pem))
    try:
        with pytest.raises(OAuthError) as caught:
            await OAuthClient(app, verify=verify, timeout=3).start_device_flow()
    finally:
        server.close()
        await server.wait_closed()
    expected = "http_500" if tenant == "server-error" else "invalid_response"
    assert caught.value.error == expected, caught.value.message
    assert len(caught.value.message) < 700


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@example({"access_token": "x", "expires_in": float("inf")})
@example({"access_token": "x", "expires_in": 10**400, "scope": ["a"], "id_token": "a.b.c"})
@given(
    st.dictionaries(
        st.sampled_from(
            ["access_token", "token_type", "expires_in", "refresh_token", "scope", "id_token"]
        ),
        _JSON,
    )
)
def test_any_token_answer_is_a_token_set_or_an_oauth_error(body: dict[str, Any]) -> None:
    try:
        tokens = token_set(body)
    except OAuthError as exc:
        assert exc.error == "invalid_response"
    else:
        assert tokens.access_token and tokens.expires_at is not None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_jwt_payload_never_raises(text: str) -> None:
    assert jwt_payload(text) is None or isinstance(jwt_payload(text), dict)
