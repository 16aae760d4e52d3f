"""Real SMTP servers for the test lab: aiosmtpd on 127.0.0.1, with provider personalities.

``SmtpLabServer`` runs one aiosmtpd listener in its own thread and event loop. It speaks
submission on STARTTLS (587-style), implicit TLS (465-style) or plain text, authenticates
AUTH PLAIN/LOGIN against a user table, stores accepted messages, and can answer AUTH with
the exact reply lines Exchange Online or Gmail send when an account is in trouble.

AUTH XOAUTH2 checks the bearer token like a password by default. Given
``oauth_introspection_url``, it asks an RFC 7662 introspection endpoint instead (the lab
identity provider): the token must be active, issued to the XOAUTH2 user and carry the
required scope; failures get the provider's error challenge and 535 lines.

Usage::

    with SmtpLabServer("starttls", "o365_basic_disabled", certs) as server:
        probe(server.host, server.port)
"""

from __future__ import annotations

import asyncio
import collections
import hmac
import logging
import ssl
import threading
from base64 import b64decode, b64encode
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session, syntax

from mxlab.certs import LabCertificates
from mxlab.service import LabService
from mxlab.smtp_oauth import (
    GOOGLE_MAIL_SCOPE,
    MAILBOX_AUTH_DISABLED_REPLY,
    OAUTH_UNAVAILABLE_REPLY,
    OUTLOOK_SMTP_SCOPE,
    OAuthValidation,
)
from mxlab.smtp_personalities import (
    GMAIL_HOST,
    PERSONALITIES,
    Personality,
)

SmtpLabMode = Literal["starttls", "tls", "plain"]

LAB_HOST = "127.0.0.1"
DEFAULT_USERS: dict[str, str] = {"user@lab.test": "s3cret-pass"}
AUTH_LINE_LIMIT = 12288  # RFC 4954: AUTH lines up to 12288 octets (a JWT is ~2 KB)
MUST_STARTTLS_REPLY = "530 5.7.0 Must issue a STARTTLS command first"
AUTH_REQUIRED_REPLY = "530 5.7.0 Authentication required"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
IDLE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class LabMessage:
    """A message the lab server accepted (envelope, raw content, authenticated login)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    login: str | None


class _LoginDataDeprecationFilter(logging.Filter):
    """Drops aiosmtpd's own "login_data is deprecated" line, logged on every good AUTH."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_LoginDataDeprecationFilter())


class _MessageStore:
    """aiosmtpd handler: appends every accepted message to a shared list."""

    def __init__(self, messages: list[LabMessage]) -> None:
        self.messages = messages

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        self.messages.append(
            LabMessage(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                content=raw if isinstance(raw, bytes) else raw.encode(),
                login=login.decode("utf-8", "replace") if isinstance(login, bytes) else None,
            )
        )
        return "250 2.0.0 OK queued"


class _LabSmtp(SMTP):
    """aiosmtpd's SMTP with submission rules, the user table and a personality."""

    line_length_limit = AUTH_LINE_LIMIT  # the stream limit; other commands keep 512

    def __init__(
        self,
        handler: _MessageStore,
        *,
        personality: Personality,
        users: dict[str, str],
        starttls_first: bool,
        oauth: OAuthValidation | None = None,
        **smtp_kwargs: Any,
    ) -> None:
        self._personality = personality
        self._users = users
        self._oauth = oauth
        self._starttls_first = starttls_first
        self._credentials_received = False
        super().__init__(handler, authenticator=self._check_credentials, **smtp_kwargs)
        # Per connection (aiosmtpd shares one class-level dict): long AUTH lines for tokens.
        self.command_size_limits = collections.defaultdict(
            lambda: SMTP.command_size_limit, {"AUTH": AUTH_LINE_LIMIT}
        )

    def _check_credentials(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        self._credentials_received = True
        if self._personality.auth_reply:
            # smtp_AUTH pushes the personality's reply itself.
            return AuthResult(success=False, handled=True)
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        expected = self._users.get(data.login.decode("utf-8", "replace"))
        if expected is not None and hmac.compare_digest(expected.encode(), data.password):
            return AuthResult(success=True, auth_data=data)
        return AuthResult(success=False, handled=False)

    def _before_starttls(self) -> bool:
        return self._starttls_first and self._tls_protocol is None

    @syntax("AUTH <mechanism>")
    async def smtp_AUTH(self, arg: str) -> None:
        """AUTH with the submission rule first, then the personality's reply if it has one."""
        if self._before_starttls():
            if not await self.check_helo_needed("EHLO"):
                await self.push(MUST_STARTTLS_REPLY)
            return
        self._credentials_received = False
        await super().smtp_AUTH(arg)
        if not (self._credentials_received and self._personality.auth_reply):
            return
        for line in self._personality.auth_reply:
            await self.push(line)
        if self._personality.close_after:
            self._hang_up()

    async def auth_XOAUTH2(self, _: Any, args: list[str]) -> AuthResult:
        """XOAUTH2 as Gmail and Exchange Online speak it.

        The token is checked like a password, or by introspection when the server has an
        ``OAuthValidation``. A bad token gets the providers' error challenge (``334`` +
        base64 JSON), the client's empty line, then ``535 5.7.3`` (Gmail: ``535 5.7.8``).
        """
        if len(args) < 2:
            await self.push("501 5.5.2 XOAUTH2 needs an initial response")
            return AuthResult(success=False, handled=True)
        try:
            fields = b64decode(args[1].encode(), validate=True).decode("utf-8").split("\x01")
            user = next(f[5:] for f in fields if f.startswith("user="))
            token = next(f[12:] for f in fields if f.startswith("auth=Bearer "))
        except (ValueError, StopIteration):
            await self.push("501 5.5.2 Can't decode XOAUTH2 initial response")
            return AuthResult(success=False, handled=True)
        if self._oauth is not None:
            return await self._introspected_xoauth2(self._oauth, user, token)
        result = self._authenticate("XOAUTH2", LoginPassword(user.encode(), token.encode()))
        if result.success or result.handled:
            return result
        error = b64encode(
            b'{"status":"401","schemes":"bearer","scope":"https://outlook.office.com/SMTP.Send"}'
        )
        await self.challenge_auth(error.decode("ascii"), encode_to_b64=False)
        await self.push("535 5.7.3 Authentication unsuccessful [XOAUTH2 token rejected]")
        return AuthResult(success=False, handled=True)

    async def _introspected_xoauth2(
        self, oauth: OAuthValidation, user: str, token: str
    ) -> AuthResult:
        answer = await oauth.introspect(token)
        if answer is None:
            await self.push(OAUTH_UNAVAILABLE_REPLY)
            return AuthResult(success=False, handled=True)
        if not oauth.accepts(answer, user):
            ack = await self.challenge_auth(oauth.error_challenge(), encode_to_b64=False)
            if ack is MISSING:  # "*" or garbage: aiosmtpd has already answered 501
                return AuthResult(success=False, handled=True)
            for line in oauth.rejected_reply():
                await self.push(line)
            return AuthResult(success=False, handled=True)
        if user.casefold() in oauth.auth_disabled:
            await self.push(MAILBOX_AUTH_DISABLED_REPLY)
            return AuthResult(success=False, handled=True)
        if self._personality.auth_reply and not self._personality.password_only:
            self._credentials_received = True  # smtp_AUTH pushes the personality's reply
            return AuthResult(success=False, handled=True)
        return AuthResult(success=True, auth_data=LoginPassword(user.encode(), b""))

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str | None) -> None:
        """MAIL only after STARTTLS (in starttls mode) and a successful AUTH."""
        if self._before_starttls():
            if not await self.check_helo_needed():
                await self.push(MUST_STARTTLS_REPLY)
            return
        if self.session is not None and self.session.host_name and not self.session.authenticated:
            await self.push(AUTH_REQUIRED_REPLY)
            return
        await super().smtp_MAIL(arg)

    def _hang_up(self) -> None:
        """Close the connection the way aiosmtpd's QUIT does."""
        if self._handler_coroutine is not None:
            self._handler_coroutine.cancel()
        if self.transport is not None:
            self.transport.close()


class _LabController(Controller):
    """Controller building a fresh ``_LabSmtp`` per connection, on an ephemeral port."""

    def __init__(
        self,
        handler: _MessageStore,
        build_smtp: Callable[[asyncio.AbstractEventLoop], SMTP],
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        super().__init__(
            handler,
            hostname=LAB_HOST,
            port=0,
            ssl_context=ssl_context,
            ready_timeout=START_TIMEOUT_S,
        )
        self._build_smtp = build_smtp

    def factory(self) -> SMTP:
        """Build the protocol object for one connection."""
        return self._build_smtp(self.loop)

    def _trigger_server(self) -> None:
        # Learn the ephemeral port before aiosmtpd's self-test connection uses self.port.
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]

    def stop(self, no_assert: bool = False) -> None:
        """Stop the loop and join the thread, bounded by ``STOP_TIMEOUT_S``."""
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.cancel_tasks)
        thread = self._thread
        if thread is not None:
            thread.join(STOP_TIMEOUT_S)
            if thread.is_alive():
                raise TimeoutError(f"SMTP lab server did not stop within {STOP_TIMEOUT_S} s")
            self._thread = None
        self._cleanup()  # type: ignore[no-untyped-call]


class SmtpLabServer(LabService):
    """One SMTP lab server on 127.0.0.1 (ephemeral port), started in its own thread.

    ``mode``: "starttls" (587-style: STARTTLS offered, AUTH and MAIL only after it),
    "tls" (465-style implicit TLS) or "plain" (no TLS, AUTH allowed in clear).
    ``server_context`` overrides the certificate served (expired, wrong name,
    interception); by default the good lab certificate from ``certs`` is served.

    ``oauth_introspection_url`` makes XOAUTH2 ask that RFC 7662 endpoint (trusting
    ``oauth_ca_file``) and require ``oauth_required_scope`` (None: Gmail's
    ``https://mail.google.com/`` for Gmail personalities, else Outlook's ``SMTP.Send``);
    users in ``smtp_auth_disabled`` get Exchange's mailbox-level 5.7.139. Like
    ``personality``, these attributes may be changed while running (next connection).
    """

    host: str = LAB_HOST

    def __init__(
        self,
        mode: SmtpLabMode,
        personality: str = "ok",
        certs: LabCertificates | None = None,
        users: dict[str, str] | None = None,
        server_context: ssl.SSLContext | None = None,
        *,
        oauth_introspection_url: str | None = None,
        oauth_ca_file: Path | None = None,
        oauth_required_scope: str | None = None,
        smtp_auth_disabled: set[str] | None = None,
    ) -> None:
        """Prepare (but do not start) a server; see the class docstring for the options."""
        if mode not in ("starttls", "tls", "plain"):
            raise ValueError(f"unknown SMTP lab mode {mode!r}")
        if personality not in PERSONALITIES:
            raise ValueError(f"unknown personality {personality!r}; see PERSONALITIES")
        if mode == "plain" and server_context is not None:
            raise ValueError("a plain SMTP lab server serves no certificate")
        if mode != "plain" and server_context is None:
            if certs is None:
                raise ValueError(f"mode {mode!r} needs certs or a server_context")
            server_context = certs.server_context()
        self.mode: SmtpLabMode = mode
        self.personality = PERSONALITIES[personality]
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.oauth_introspection_url = oauth_introspection_url
        self.oauth_ca_file = oauth_ca_file
        self.oauth_required_scope = oauth_required_scope
        self.smtp_auth_disabled: set[str] = set(smtp_auth_disabled or ())
        self.messages: list[LabMessage] = []
        self._store = _MessageStore(self.messages)
        self._server_context = server_context
        self._controller: _LabController | None = None
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        """The TCP port chosen by the kernel; only valid while the server runs."""
        if self._controller is None:
            raise RuntimeError("SMTP lab server is not running")
        return int(self._controller.port)

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` for a client to connect to."""
        return self.host, self.port

    def oauth_validation(self) -> OAuthValidation | None:
        """The XOAUTH2 token check new connections get, from the current attributes."""
        if self.oauth_introspection_url is None:
            return None
        gmail = self.personality.host == GMAIL_HOST
        default_scope = GOOGLE_MAIL_SCOPE if gmail else OUTLOOK_SMTP_SCOPE
        return OAuthValidation(
            url=self.oauth_introspection_url,
            ca_file=self.oauth_ca_file,
            required_scope=self.oauth_required_scope or default_scope,
            auth_disabled=frozenset(user.casefold() for user in self.smtp_auth_disabled),
            gmail=gmail,
        )

    def _build_smtp(self, loop: asyncio.AbstractEventLoop) -> SMTP:
        return _LabSmtp(
            self._store,
            personality=self.personality,
            users=self.users,
            starttls_first=self.mode == "starttls",
            oauth=self.oauth_validation(),
            hostname=self.personality.host,
            ident=self.personality.banner_text(),
            tls_context=self._server_context if self.mode == "starttls" else None,
            auth_require_tls=self.mode == "starttls",
            enable_SMTPUTF8=True,
            timeout=IDLE_TIMEOUT_S,
            loop=loop,
        )

    def start(self) -> SmtpLabServer:
        """Bind, start the server thread and wait (bounded) until it answers."""
        with self._lock:
            if self._controller is not None:
                raise RuntimeError("SMTP lab server already running")
            controller = _LabController(
                self._store,
                self._build_smtp,
                self._server_context if self.mode == "tls" else None,
            )
            try:
                controller.start()
            except BaseException:
                controller.stop(no_assert=True)
                raise
            self._controller = controller
        return self

    def stop(self) -> None:
        """Stop the server and join its thread (bounded); a no-op when not running."""
        with self._lock:
            controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __repr__(self) -> str:
        where = f"{self.host}:{self._controller.port}" if self._controller else "stopped"
        return f"SmtpLabServer({self.mode!r}, {self.personality.name!r}, {where})"
