"""One IMAP4rev1 session of the lab server: reading commands and answering them.

Only what a mail client needs to log in and count an inbox is spoken: CAPABILITY,
NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE PLAIN (with SASL-IR), SELECT and EXAMINE.
Everything else gets ``BAD``. Lines (literals included) are bounded and every read has
the server's idle timeout.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import re
import ssl
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mxlab.imap import ImapLabServer, ImapPersonality

_LITERAL = re.compile(rb"\{(\d{1,9})(\+?)\}$")
_ATOM = re.compile(r"[^\s()\"{]+")
BASE_CAPS = "IMAP4rev1 SASL-IR LITERAL+"
FLAGS = r"(\Answered \Flagged \Deleted \Seen \Draft)"


class SessionEnded(Exception):
    """The session is over (LOGOUT, a line too long, idle, or the peer went away)."""


class BadSyntax(ValueError):
    """A command line that cannot be tokenised."""


def tokenize(text: str) -> list[str]:
    """Atoms and quoted strings (with ``\\`` escapes) of one command line segment."""
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == " ":
            pos += 1
        elif char == '"':
            value: list[str] = []
            pos += 1
            while True:
                if pos >= len(text):
                    raise BadSyntax("unterminated quoted string")
                char = text[pos]
                if char == "\\" and pos + 1 < len(text):
                    value.append(text[pos + 1])
                    pos += 2
                elif char == '"':
                    pos += 1
                    break
                else:
                    value.append(char)
                    pos += 1
            tokens.append("".join(value))
        else:
            match = _ATOM.match(text, pos)
            if match is None:
                raise BadSyntax(f"unexpected {char!r}")
            tokens.append(match.group(0))
            pos = match.end()
    return tokens


@dataclass
class _Mailbox:
    name: str
    read_only: bool


class ImapSession:
    """The conversation with one client; ``run()`` returns when it is over."""

    def __init__(
        self,
        server: ImapLabServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        implicit_tls: bool,
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.implicit_tls = implicit_tls
        self.encrypted = False
        self.user: str | None = None
        self.mailbox: _Mailbox | None = None

    # -- wire ---------------------------------------------------------------------------

    async def send(self, line: str) -> None:
        """Write one response line (CRLF added)."""
        self.writer.write(line.encode("utf-8") + b"\r\n")
        await self.writer.drain()

    async def _timed(self, read: Awaitable[bytes]) -> bytes:
        """``read`` within the idle timeout; a silent or flooding client ends the session."""
        try:
            async with asyncio.timeout(self.server.idle_timeout):
                return await read
        except TimeoutError:
            await self.send("* BYE Disconnected for inactivity.")
            raise SessionEnded from None
        except ValueError:  # longer than the stream's own buffer limit
            await self.send("* BYE Too long command line.")
            raise SessionEnded from None

    async def read_line(self) -> bytes:
        """One line without its CRLF; ends the session when it is too long or the peer left."""
        raw = await self._timed(self.reader.readline())
        if len(raw) > self.server.max_line:
            await self.send("* BYE Too long command line.")
            raise SessionEnded
        if not raw.endswith(b"\n"):  # the peer closed (mid-line or between commands)
            raise SessionEnded
        return raw.rstrip(b"\r\n")

    async def read_command(self) -> list[str]:
        """The tokens of one command, with literals (``{N}`` / ``{N+}``) read in."""
        tokens: list[str] = []
        total = 0
        while True:
            line = await self.read_line()
            total += len(line)
            literal = _LITERAL.search(line)
            head = line[: literal.start()] if literal else line
            tokens.extend(tokenize(head.decode("utf-8", "replace")))
            if literal is None:
                return tokens
            size = int(literal.group(1))
            total += size
            if total > self.server.max_line:
                await self.send("* BYE Too long command line.")
                raise SessionEnded
            if not literal.group(2):
                await self.send("+ Ready for literal data")
            data = await self._timed(self.reader.readexactly(size))
            tokens.append(data.decode("utf-8", "replace"))

    async def start_tls(self) -> None:
        """Upgrade the connection (implicit TLS or after STARTTLS)."""
        context: ssl.SSLContext = self.server.server_context
        await self.writer.start_tls(context, ssl_handshake_timeout=self.server.idle_timeout)
        self.encrypted = True

    # -- conversation ---------------------------------------------------------------------

    def capabilities(self) -> str:
        """The capability list for the session's state."""
        words = [BASE_CAPS]
        if self.user is None:
            if not self.encrypted:
                words.append("STARTTLS LOGINDISABLED")
            else:
                words.append("AUTH=PLAIN")
        return " ".join(words)

    async def run(self) -> None:
        """Greet, then answer commands until LOGOUT, an error or the server's stop."""
        if self.implicit_tls:
            await self.start_tls()
        personality = self.server.personality
        await self.send(f"* OK [CAPABILITY {self.capabilities()}] {personality.greeting}")
        try:
            while True:
                try:
                    tokens = await self.read_command()
                except BadSyntax as error:
                    await self.send(f"* BAD Error in IMAP command received by server: {error}.")
                    continue
                await self.dispatch(tokens)
        except SessionEnded:
            return

    async def dispatch(self, tokens: list[str]) -> None:
        """Answer one command."""
        if not tokens:
            await self.send("* BAD Empty command line.")
            return
        if len(tokens) < 2:
            await self.send(f"{tokens[0]} BAD Missing command.")
            return
        tag, name, args = tokens[0], tokens[1].upper(), tokens[2:]
        handler = {
            "CAPABILITY": self._capability,
            "NOOP": self._noop,
            "LOGOUT": self._logout,
            "STARTTLS": self._starttls,
            "LOGIN": self._login,
            "AUTHENTICATE": self._authenticate,
            "SELECT": self._select,
            "EXAMINE": self._select,
        }.get(name)
        if handler is None:
            await self.send(f"{tag} BAD Error in IMAP command {name}: Unknown command.")
            return
        await handler(tag, name, args)

    async def _capability(self, tag: str, name: str, args: list[str]) -> None:
        await self.send(f"* CAPABILITY {self.capabilities()}")
        await self.send(f"{tag} OK Capability completed.")

    async def _noop(self, tag: str, name: str, args: list[str]) -> None:
        await self.send(f"{tag} OK NOOP completed.")

    async def _logout(self, tag: str, name: str, args: list[str]) -> None:
        await self.send("* BYE Logging out")
        await self.send(f"{tag} OK Logout completed.")
        raise SessionEnded

    async def _starttls(self, tag: str, name: str, args: list[str]) -> None:
        if self.encrypted:
            await self.send(f"{tag} BAD TLS is already active.")
            return
        await self.send(f"{tag} OK Begin TLS negotiation now.")
        await self.start_tls()

    async def _refuse_login(self, tag: str) -> bool:
        """Answer the commands that cannot log in here; True when one was answered."""
        if self.user is not None:
            await self.send(f"{tag} BAD Already logged in.")
            return True
        if not self.encrypted:
            await self.send(
                f"{tag} NO [PRIVACYREQUIRED] Plaintext authentication disallowed on "
                "non-secure (SSL/TLS) connections."
            )
            return True
        return False

    async def _login(self, tag: str, name: str, args: list[str]) -> None:
        if await self._refuse_login(tag):
            return
        if len(args) != 2:
            await self.send(f"{tag} BAD LOGIN needs a user name and a password.")
            return
        await self._finish_login(tag, "LOGIN", args[0], args[1])

    async def _authenticate(self, tag: str, name: str, args: list[str]) -> None:
        if await self._refuse_login(tag):
            return
        if not args:
            await self.send(f"{tag} BAD AUTHENTICATE needs a mechanism.")
            return
        if args[0].upper() != "PLAIN":
            await self.send(f"{tag} NO [CANNOT] Unsupported authentication mechanism.")
            return
        if len(args) > 1:
            response = args[1]
        else:
            await self.send("+ ")
            response = (await self.read_line()).decode("ascii", "replace")
            if response == "*":
                await self.send(f"{tag} BAD Authentication cancelled.")
                return
        try:
            decoded = base64.b64decode("" if response == "=" else response, validate=True)
            _authzid, user, password = decoded.decode("utf-8").split("\0")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            await self.send(f"{tag} BAD Invalid base64 data in continued response.")
            return
        await self._finish_login(tag, "AUTHENTICATE", user, password)

    async def _finish_login(self, tag: str, command: str, user: str, password: str) -> None:
        personality: ImapPersonality = self.server.personality
        refusal = personality.login_refusal(command)
        if refusal is not None:
            await self.send(f"{tag} {refusal}")
            return
        expected = self.server.users.get(user)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            await self.send(f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.")
            return
        self.user = user
        await self.send(f"{tag} OK [CAPABILITY {self.capabilities()}] Logged in")

    async def _select(self, tag: str, name: str, args: list[str]) -> None:
        if self.user is None:
            await self.send(f"{tag} BAD {name.capitalize()} needs authentication first.")
            return
        if len(args) != 1:
            await self.send(f"{tag} BAD {name} needs one mailbox name.")
            return
        self.mailbox = None
        if args[0].upper() != "INBOX":
            await self.send(f"{tag} NO [NONEXISTENT] Mailbox doesn't exist: {args[0]}")
            return
        read_only = name == "EXAMINE"
        count = self.server.messages.get(self.user, 0)
        await self.send(f"* FLAGS {FLAGS}")
        await self.send(f"* OK [PERMANENTFLAGS {'()' if read_only else FLAGS}] Flags permitted.")
        await self.send(f"* {count} EXISTS")
        await self.send("* 0 RECENT")
        await self.send("* OK [UIDVALIDITY 1] UIDs valid")
        await self.send(f"* OK [UIDNEXT {count + 1}] Predicted next UID")
        self.mailbox = _Mailbox("INBOX", read_only)
        mode = "READ-ONLY" if read_only else "READ-WRITE"
        await self.send(f"{tag} OK [{mode}] {name.capitalize()} completed.")
