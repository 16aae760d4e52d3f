"""The installed-app flow with a loopback redirect and PKCE (RFC 8252, RFC 7636), as Google runs it.

``LoopbackSignIn`` listens on 127.0.0.1 on a free port, builds the authorisation URL
(``state`` and an S256 code challenge), waits for the browser to come back with a code,
checks the state, and exchanges the code. The listener answers one redirect and closes;
it reads at most a few kilobytes per request, each request with a time limit.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import secrets
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

from probes.oauth.client import OAuthClient
from probes.oauth.errors import OAuthError
from probes.oauth.tokens import TokenSet

LISTEN_HOST = "127.0.0.1"
REQUEST_TIMEOUT = 10.0
_MAX_REQUEST = 8192

PAGE = """<!doctype html><meta charset="utf-8"><title>mxpilot</title>
<body style="font-family:sans-serif;margin:3em"><h1>{title}</h1><p>{text}</p></body>"""
DONE = ("Signed in", "You can close this tab and go back to mxpilot. / Puede cerrar esta pestaña.")
FAILED = ("Sign-in failed", "Go back to mxpilot for the details. / Vuelva a mxpilot.")


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class LoopbackSignIn:
    """One browser sign-in through a loopback redirect."""

    def __init__(self, client: OAuthClient, *, login_hint: str = "") -> None:
        self.client = client
        self.login_hint = login_hint
        self.state = secrets.token_urlsafe(24)
        self._verifier, self._challenge = pkce_pair()
        self._server: asyncio.Server | None = None
        self._result: asyncio.Future[str] | None = None
        self.redirect_uri = ""

    async def __aenter__(self) -> LoopbackSignIn:
        loop = asyncio.get_running_loop()
        self._result = loop.create_future()
        self._server = await asyncio.start_server(self._serve, LISTEN_HOST, 0)
        port = self._server.sockets[0].getsockname()[1]
        self.redirect_uri = f"http://{LISTEN_HOST}:{port}/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    @property
    def authorization_url(self) -> str:
        """The URL to open in a browser (shown to the user as well)."""
        query = {
            "response_type": "code",
            "client_id": self.client.app.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.client.app.requested_scopes),
            "state": self.state,
            "code_challenge": self._challenge,
            "code_challenge_method": "S256",
            "access_type": "offline",
            "prompt": "consent",
        }
        if self.login_hint:
            query["login_hint"] = self.login_hint
        return f"{self.client.endpoints.authorize}?{urlencode(query)}"

    async def run(self, open_browser: Callable[[str], object] | None, timeout: float) -> TokenSet:
        """Open the browser (when given), wait for the redirect, exchange the code."""
        if self._result is None:
            raise RuntimeError("use 'async with LoopbackSignIn(...)'")
        if open_browser is not None:
            open_browser(self.authorization_url)
        try:
            code = await asyncio.wait_for(asyncio.shield(self._result), timeout)
        except TimeoutError:
            raise OAuthError(
                "timeout", f"no answer from the browser within {timeout:g} s"
            ) from None
        return await self.client.exchange_code(code, self._verifier, self.redirect_uri)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            writer.close()
            return
        line = head[:_MAX_REQUEST].split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        target = parts[1] if len(parts) == 3 and parts[0] == "GET" else ""
        status, page = self._handle(target)
        body = PAGE.format(title=page[0], text=page[1]).encode("utf-8")
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("ascii")
            + body
        )
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.drain(), REQUEST_TIMEOUT)
        writer.close()

    def _handle(self, target: str) -> tuple[str, tuple[str, str]]:
        result = self._result
        split = urlsplit(target)
        if result is None or result.done() or split.path != "/":
            return "404 Not Found", ("Not found", "")
        query = parse_qs(split.query)
        state = query.get("state", [""])[0]
        error = query.get("error", [""])[0]
        code = query.get("code", [""])[0]
        if not (state or error or code):
            return "404 Not Found", ("Not found", "")
        if not secrets.compare_digest(state.encode(), self.state.encode()):
            result.set_exception(
                OAuthError(
                    "state_mismatch",
                    "the browser came back with a different state: an old tab, another "
                    "sign-in, or a forged request; nothing was accepted, sign in again",
                )
            )
        elif error:
            description = query.get("error_description", [""])[0]
            result.set_exception(OAuthError(error[:80], description))
        elif not code:
            result.set_exception(OAuthError("invalid_response", "a redirect without a code"))
        else:
            result.set_result(code)
            return "200 OK", DONE
        return "400 Bad Request", FAILED
