"""The IMAP dialect of a probe: greeting, CAPABILITY, STARTTLS, LOGIN and INBOX (RFC 9051/3501)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from probes.mail.bounds import MAX_LITERALS_PER_LINE
from probes.mail.channel import Channel, PhaseFailed
from probes.mail.model import AuthMethod, Credentials, Protocol
from probes.mail.oauth_claims import refine_refusal, token_facts
from probes.mail.smtp import Capabilities

_LITERAL = re.compile(r"\{(\d+)\+?\}$")
_EXISTS = re.compile(r"^\* (\d+) EXISTS", re.IGNORECASE)
_CAPS_CODE = re.compile(r"\[CAPABILITY ([^\]]*)\]", re.IGNORECASE)


@dataclass(frozen=True)
class Completion:
    """A tagged IMAP completion with the untagged lines that came before it."""

    status: str
    text: str
    untagged: tuple[str, ...]


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _parse_caps(words: str) -> Capabilities:
    caps = Capabilities()
    for word in words.split():
        upper = word.upper()
        caps.keywords.append(upper)
        if upper == "STARTTLS":
            caps.starttls = True
        elif upper == "LOGINDISABLED":
            caps.login_disabled = True
        elif upper.startswith("AUTH="):
            caps.auth.append(upper[5:])
    return caps


class ImapDialect:
    """How a probe speaks IMAP; each method is one phase's worth of talk."""

    protocol = "imap"

    def __init__(self) -> None:
        self._tag = 0
        self.greeting_caps: Capabilities | None = None

    def _next_tag(self) -> str:
        self._tag += 1
        return f"mx{self._tag}"

    async def _read_response_line(self, channel: Channel) -> str:
        """One logical line, with any literals inlined.

        Bounded by the channel (the reply's byte budget counts every literal,
        the phase deadline ends a slow one) and by :data:`MAX_LITERALS_PER_LINE`.
        """
        line = await channel.read_line()
        for _ in range(MAX_LITERALS_PER_LINE):
            match = _LITERAL.search(line)
            if not match:
                return line
            data = await channel.read_exact(int(match.group(1)))
            literal = channel.mask(data.decode("utf-8", "replace"))
            line = channel.mask(line + literal + await channel.read_line())
        if _LITERAL.search(line):
            raise PhaseFailed(
                "io.reply_too_big",
                f"the server chained more than {MAX_LITERALS_PER_LINE} literals on one line",
                facts={"literals": MAX_LITERALS_PER_LINE + 1},
            )
        return line

    async def command(
        self, channel: Channel, command: str, *, shown: str | None = None
    ) -> Completion:
        """Send a tagged command and collect its response."""
        tag = self._next_tag()
        await channel.send(f"{tag} {command}", shown=None if shown is None else f"{tag} {shown}")
        return await self._completion(channel, tag)

    async def _completion(self, channel: Channel, tag: str) -> Completion:
        untagged: list[str] = []
        channel.start_reply()
        while True:
            line = await self._read_response_line(channel)
            if line.startswith(f"{tag} "):
                status, _, text = line[len(tag) + 1 :].partition(" ")
                return Completion(status.upper(), text, tuple(untagged))
            if line.startswith("* BYE"):
                raise PhaseFailed("io.closed", f"the server ended the session: {line}")
            if not (line.startswith("*") or line.startswith("+")):
                raise PhaseFailed("io.garbage", f"not an IMAP response: {line[:80]!r}")
            untagged.append(line)

    async def greet(self, channel: Channel) -> dict[str, Any]:
        """Read the ``* OK`` greeting (a ``* BYE`` is a refusal)."""
        channel.start_reply()
        line = await channel.read_line()
        upper = line.upper()
        if upper.startswith("* BYE"):
            raise PhaseFailed("greeting.rejected", f"the server refused the session: {line}")
        if not (upper.startswith("* OK") or upper.startswith("* PREAUTH")):
            raise PhaseFailed(
                "io.garbage", f"the greeting is not IMAP: {line[:80]!r}", facts={"line": line}
            )
        caps = _CAPS_CODE.search(line)
        self.greeting_caps = _parse_caps(caps.group(1)) if caps else None
        return {"banner": line}

    async def capabilities(self, channel: Channel) -> Capabilities:
        """Ask CAPABILITY and parse STARTTLS, LOGINDISABLED and AUTH= mechanisms."""
        done = await self.command(channel, "CAPABILITY")
        if done.status != "OK":
            raise PhaseFailed(
                "imap.capability_failed", f"CAPABILITY failed: {done.status} {done.text}"
            )
        words = " ".join(
            line[len("* CAPABILITY ") :]
            for line in done.untagged
            if line.upper().startswith("* CAPABILITY ")
        )
        return _parse_caps(words)

    async def starttls(self, channel: Channel) -> dict[str, Any]:
        """Ask to start TLS; the caller does the handshake."""
        done = await self.command(channel, "STARTTLS")
        if done.status != "OK":
            raise PhaseFailed(
                "starttls.rejected", f"the server refused STARTTLS: {done.status} {done.text}"
            )
        return {"reply": f"{done.status} {done.text}"}

    async def authenticate(
        self, channel: Channel, credentials: Credentials, caps: Capabilities
    ) -> dict[str, Any]:
        """LOGIN, or AUTHENTICATE PLAIN / XOAUTH2, as asked or as advertised."""
        user, secret = credentials.username, credentials.secret
        method = credentials.method
        if method is AuthMethod.AUTO:
            simple = secret.isascii() and "\r" not in secret and "\n" not in secret
            method = AuthMethod.LOGIN if simple or "PLAIN" not in caps.auth else AuthMethod.PLAIN
        if method is AuthMethod.LOGIN:
            done = await self.command(
                channel,
                f"LOGIN {_quote(user)} {_quote(secret)}",
                shown=f"LOGIN {_quote(user)} ****",
            )
            name = "LOGIN"
        else:
            mech = "XOAUTH2" if method is AuthMethod.XOAUTH2 else "PLAIN"
            raw = (
                f"user={user}\x01auth=Bearer {secret}\x01\x01"
                if mech == "XOAUTH2"
                else f"\0{user}\0{secret}"
            )
            token = base64.b64encode(raw.encode("utf-8")).decode("ascii")
            done = await self._authenticate(channel, mech, token, "SASL-IR" in caps.keywords)
            name = f"AUTHENTICATE {mech}"
        oauth = method is AuthMethod.XOAUTH2
        if done.status == "OK":
            facts = {"mechanism": name, "reply": f"{done.status} {done.text}"}
            return {**facts, **token_facts(credentials)} if oauth else facts
        detail = "".join(f" {line}" for line in done.untagged) if oauth else ""
        failure = PhaseFailed(
            "imap.login_failed",
            f"{name} failed: {done.status} {done.text}{detail}",
            facts={"reply": f"{done.status} {done.text}"},
        )
        raise refine_refusal(failure, credentials, Protocol.IMAP) if oauth else failure

    async def _authenticate(
        self, channel: Channel, mech: str, token: str, initial: bool
    ) -> Completion:
        tag = self._next_tag()
        if initial:
            await channel.send(
                f"{tag} AUTHENTICATE {mech} {token}", shown=f"{tag} AUTHENTICATE {mech} ****"
            )
        else:
            await channel.send(f"{tag} AUTHENTICATE {mech}")
            channel.start_reply()
            line = await channel.read_line()
            if not line.startswith("+"):
                status, _, text = line.partition(" ")[2].partition(" ")
                return Completion(status.upper(), text, ())
            await channel.send(token, shown="****")
        challenges: list[str] = []
        channel.start_reply()
        while True:
            line = await self._read_response_line(channel)
            if line.startswith("+"):
                challenges.append(channel.mask(_decode_challenge(line[1:])))
                await channel.send("")  # XOAUTH2 error challenge: acknowledge it
                continue
            if line.startswith(f"{tag} "):
                status, _, text = line[len(tag) + 1 :].partition(" ")
                return Completion(status.upper(), text, tuple(c for c in challenges if c)[:3])

    async def inbox(self, channel: Channel, mailbox: str) -> dict[str, Any]:
        """EXAMINE the mailbox (read-only) and count its messages."""
        done = await self.command(channel, f"EXAMINE {_quote(mailbox)}")
        if done.status != "OK":
            raise PhaseFailed(
                "imap.select_failed", f"cannot open {mailbox}: {done.status} {done.text}"
            )
        count = 0
        for line in done.untagged:
            found = _EXISTS.match(line)
            if found:
                count = int(found.group(1))
        return {"mailbox": mailbox, "messages": count}

    async def quit(self, channel: Channel) -> None:
        """LOGOUT; the reply is not awaited (no serial wait at the end)."""
        await channel.send(f"{self._next_tag()} LOGOUT")


def _decode_challenge(text: str) -> str:
    """A server challenge decoded (Gmail's XOAUTH2 error JSON), or "" when it is not base64."""
    try:
        return base64.b64decode(text.strip(), validate=True).decode("utf-8", "replace")[:300]
    except ValueError:
        return ""
