"""A small IMAP4rev1 server for the lab and the offline demo, in pure Python on asyncio.

Dovecot is the test lab's IMAP server on Debian; this one runs wherever mxpilot runs
(Windows and macOS too), so ``mxpilot demo`` needs no system package. It serves two
loopback listeners, implicit TLS (993-style) and plain with STARTTLS (143-style,
LOGINDISABLED before TLS), logs users in with LOGIN or AUTHENTICATE PLAIN and opens
an INBOX holding a given number of messages. A personality makes it refuse logins the
way Exchange Online or Gmail do.

Usage::

    with ImapLabServer(certs, users={"u@lab.test": "pw"}, messages={"u@lab.test": 3}) as imap:
        probe("127.0.0.1", imap.tls_port)
        imap.personality = "exchange_basic_auth_disabled"
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from dataclasses import dataclass

from mxlab.certs import LabCertificates
from mxlab.imap_session import ImapSession
from mxlab.loop_thread import LOOPBACK, LoopThreadServer
from mxlab.service import LabService

DEFAULT_USERS: dict[str, str] = {"user@lab.test": "s3cret-pass"}
IDLE_TIMEOUT_S = 30.0
MAX_LINE = 8 * 1024

EXCHANGE_GREETING = (
    "The Microsoft Exchange IMAP4 service is ready. "
    "[UwBOADQAUABSADAANQAwADEAQwBBADAAMAA1ADQALgBuAGEAbQBwAHIAZAAwADUA]"
)
GMAIL_GREETING = "Gimap ready for requests from 127.0.0.1 d2e1a72fcca58mb18"
GMAIL_APP_PASSWORD_REPLY = (
    "NO [ALERT] Application-specific password required: "
    "https://support.google.com/accounts/answer/185833 (Failure)"
)


@dataclass(frozen=True)
class ImapPersonality:
    """How the server greets and how it refuses every login, copied from a real provider.

    ``login_reply`` / ``authenticate_reply`` are the tagged replies (without the tag) to
    LOGIN and AUTHENTICATE whatever the credentials; None means a normal check.
    """

    name: str
    greeting: str
    login_reply: str | None = None
    authenticate_reply: str | None = None

    def login_refusal(self, command: str) -> str | None:
        """The reply that refuses ``command`` (LOGIN or AUTHENTICATE), or None."""
        return self.login_reply if command == "LOGIN" else self.authenticate_reply


IMAP_PERSONALITIES: dict[str, ImapPersonality] = {
    p.name: p
    for p in (
        ImapPersonality("ok", "mxpilot lab IMAP ready."),
        # Exchange Online with Basic authentication off refuses every password login.
        ImapPersonality(
            "exchange_basic_auth_disabled",
            EXCHANGE_GREETING,
            login_reply="NO LOGIN failed.",
            authenticate_reply="NO AUTHENTICATE failed.",
        ),
        # Gmail, 2-Step Verification on, given the account password instead of an app one.
        ImapPersonality(
            "gmail_app_password_required",
            GMAIL_GREETING,
            login_reply=GMAIL_APP_PASSWORD_REPLY,
            authenticate_reply=GMAIL_APP_PASSWORD_REPLY,
        ),
    )
}


class _ImapListener(LoopThreadServer):
    """One listening port of the server, serving sessions in its own loop thread."""

    def __init__(self, owner: ImapLabServer, implicit_tls: bool) -> None:
        super().__init__(f"imap-lab-{'tls' if implicit_tls else 'plain'}")
        self.owner = owner
        self.implicit_tls = implicit_tls

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one IMAP session."""
        session = ImapSession(self.owner, reader, writer, implicit_tls=self.implicit_tls)
        await session.run()


class ImapLabServer(LabService):
    """An IMAP server on 127.0.0.1 with an implicit-TLS port and a STARTTLS port.

    ``users`` maps logins to passwords; ``messages`` maps logins to the number of
    messages in their INBOX (0 when absent). ``personality`` (a name from
    :data:`IMAP_PERSONALITIES` or an :class:`ImapPersonality`) may be changed while the
    server runs; it applies to the next login. ``tls_port`` and ``plain_port`` are known
    after ``start()``.
    """

    host: str = LOOPBACK

    def __init__(
        self,
        certs: LabCertificates | None = None,
        users: dict[str, str] | None = None,
        messages: dict[str, int] | None = None,
        personality: str | ImapPersonality = "ok",
        server_context: ssl.SSLContext | None = None,
        idle_timeout: float = IDLE_TIMEOUT_S,
        max_line: int = MAX_LINE,
    ) -> None:
        if server_context is None:
            if certs is None:
                raise ValueError("the IMAP lab server needs certs or a server_context")
            server_context = certs.server_context()
        self.server_context = server_context
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.messages = dict(messages or {})
        self.idle_timeout = idle_timeout
        self.max_line = max_line
        self._personality = IMAP_PERSONALITIES["ok"]
        self.personality = personality
        self.tls_port = 0
        self.plain_port = 0
        self._listeners: list[_ImapListener] = []
        self._lock = threading.Lock()

    @property
    def personality(self) -> ImapPersonality:
        """How the server answers logins now."""
        return self._personality

    @personality.setter
    def personality(self, value: str | ImapPersonality) -> None:
        if isinstance(value, str):
            if value not in IMAP_PERSONALITIES:
                raise ValueError(f"unknown IMAP personality {value!r}; see IMAP_PERSONALITIES")
            value = IMAP_PERSONALITIES[value]
        self._personality = value

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return bool(self._listeners)

    def start(self) -> ImapLabServer:
        """Bind both ports and serve them, each in its own thread; returns once they listen."""
        with self._lock:
            if self._listeners:
                raise RuntimeError("IMAP lab server already running")
            listeners = [_ImapListener(self, implicit_tls=True), _ImapListener(self, False)]
            try:
                for listener in listeners:
                    listener.start()
            except BaseException:
                for listener in listeners:
                    listener.stop()
                raise
            self._listeners = listeners
            self.tls_port, self.plain_port = listeners[0].port, listeners[1].port
        return self

    def stop(self) -> None:
        """Close both ports and every open session, and join the threads (bounded)."""
        with self._lock:
            listeners, self._listeners = self._listeners, []
        errors: list[BaseException] = []
        for listener in listeners:
            try:
                listener.stop()
            except RuntimeError as error:
                errors.append(error)
        if errors:
            raise errors[0]

    def __repr__(self) -> str:
        where = f"tls {self.tls_port}, plain {self.plain_port}" if self.running else "stopped"
        return f"ImapLabServer({self._personality.name!r}, {where})"
