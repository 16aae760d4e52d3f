"""The SMTP dialect of a probe: greeting, EHLO, STARTTLS and AUTH (RFC 5321, 4954)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from probes.mail.bounds import SHOWN_TEXT, cut
from probes.mail.channel import Channel, PhaseFailed
from probes.mail.facts import CapabilityFacts
from probes.mail.model import AuthMethod, Credentials, Protocol
from probes.mail.oauth_claims import refine_refusal, token_facts

_REPLY = re.compile(r"^(\d{3})([ -])(.*)$")
_ENHANCED = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\b")


@dataclass(frozen=True)
class Reply:
    """A complete (possibly multi-line) SMTP reply."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """The reply as the server wrote it, lines joined."""
        return " ".join(self.lines)

    @property
    def enhanced(self) -> str | None:
        """The RFC 3463 enhanced status code, when the server gave one."""
        for line in self.lines:
            found = _ENHANCED.match(line.strip())
            if found:
                return found.group(1)
        return None

    def failure_facts(self) -> dict[str, Any]:
        """Facts for a phase that this reply ended."""
        return {"reply": cut(f"{self.code} {self.text}", SHOWN_TEXT)}


@dataclass
class Capabilities:
    """What the server advertised in its EHLO (or IMAP CAPABILITY) answer."""

    keywords: list[str] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    starttls: bool = False
    login_disabled: bool = False

    def summary(self) -> str:
        """One line: STARTTLS, AUTH mechanisms, LOGINDISABLED."""
        parts = []
        if self.starttls:
            parts.append("STARTTLS")
        if self.auth:
            parts.append("AUTH " + " ".join(self.auth))
        if self.login_disabled:
            parts.append("LOGINDISABLED")
        return ", ".join(parts) or f"{len(self.keywords)} capabilities, no AUTH and no STARTTLS"

    def to_facts(self) -> dict[str, Any]:
        """The capabilities as phase facts."""
        return self.facts().to_facts()

    def facts(self) -> CapabilityFacts:
        """The capabilities as their typed, frozen fact model."""
        return CapabilityFacts(
            tuple(self.keywords), tuple(self.auth), self.starttls, self.login_disabled
        )


async def read_reply(channel: Channel) -> Reply:
    """Read one SMTP reply, following ``code-`` continuation lines.

    The reply is bounded by the channel: its byte and line budgets and the
    phase deadline end a reply that is too big or never ends.
    """
    lines: list[str] = []
    channel.start_reply()
    while True:
        line = await channel.read_line()
        match = _REPLY.match(line)
        if not match:
            raise PhaseFailed(
                "io.garbage",
                f"the server's answer is not an SMTP reply: {line[:80]!r}",
                facts={"line": line[:200]},
            )
        lines.append(match.group(3))
        if match.group(2) == " ":
            return Reply(int(match.group(1)), tuple(lines))


def _fail_on(reply: Reply, kind: str, what: str) -> PhaseFailed:
    return PhaseFailed(
        kind,
        cut(f"{what}: {reply.code} {reply.text}", SHOWN_TEXT),
        code=reply.code,
        enhanced=reply.enhanced,
        facts=reply.failure_facts(),
    )


class SmtpDialect:
    """How a probe speaks SMTP; each method is one phase's worth of talk."""

    protocol = "smtp"

    def __init__(self, ehlo_name: str = "") -> None:
        self.ehlo_name = ehlo_name

    async def greet(self, channel: Channel) -> dict[str, Any]:
        """Read the 220 banner."""
        reply = await read_reply(channel)
        if reply.code != 220:
            raise _fail_on(reply, "greeting.rejected", "the server refused the session")
        return {"banner": reply.text, "code": reply.code}

    def _helo_name(self, channel: Channel) -> str:
        if self.ehlo_name:
            return self.ehlo_name
        local = channel.writer.get_extra_info("sockname")
        if local and ":" in str(local[0]):
            return f"[IPv6:{local[0]}]"
        return f"[{local[0]}]" if local else "[127.0.0.1]"

    async def capabilities(self, channel: Channel) -> Capabilities:
        """Send EHLO and parse the keywords, AUTH mechanisms and STARTTLS."""
        await channel.send(f"EHLO {self._helo_name(channel)}")
        reply = await read_reply(channel)
        if reply.code != 250:
            raise _fail_on(reply, "smtp.ehlo_rejected", "the server rejected EHLO")
        caps = Capabilities()
        for line in reply.lines[1:]:
            words = line.split()
            if not words:
                continue
            keyword = words[0].upper()
            caps.keywords.append(line.strip())
            if keyword == "STARTTLS":
                caps.starttls = True
            elif keyword in ("AUTH", "AUTH="):
                caps.auth.extend(w.upper() for w in words[1:] if w.upper() not in caps.auth)
            elif keyword.startswith("AUTH="):
                for mech in keyword[5:].split():
                    if mech not in caps.auth:
                        caps.auth.append(mech)
        return caps

    async def starttls(self, channel: Channel) -> dict[str, Any]:
        """Ask to start TLS; the caller does the handshake."""
        await channel.send("STARTTLS")
        reply = await read_reply(channel)
        if reply.code != 220:
            raise _fail_on(reply, "starttls.rejected", "the server refused STARTTLS")
        return {"reply": f"{reply.code} {reply.text}"}

    async def authenticate(
        self, channel: Channel, credentials: Credentials, caps: Capabilities
    ) -> dict[str, Any]:
        """Log in with the chosen (or best advertised) mechanism."""
        method = choose_mechanism(credentials.method, caps.auth)
        user, secret = credentials.username, credentials.secret
        if method is AuthMethod.PLAIN:
            token = _b64(f"\0{user}\0{secret}")
            await channel.send(f"AUTH PLAIN {token}", shown="AUTH PLAIN ****")
            reply = await read_reply(channel)
        elif method is AuthMethod.XOAUTH2:
            token = _b64(f"user={user}\x01auth=Bearer {secret}\x01\x01")
            await channel.send(f"AUTH XOAUTH2 {token}", shown="AUTH XOAUTH2 ****")
            reply = await read_reply(channel)
            if reply.code == 334:
                detail = channel.mask(_decode_challenge(reply.text))
                await channel.send("")
                reply = await read_reply(channel)
                if detail:
                    reply = Reply(reply.code, (*reply.lines, detail))
        else:
            await channel.send("AUTH LOGIN")
            reply = await read_reply(channel)
            if reply.code == 334:
                await channel.send(_b64(user), shown=f"{_b64(user)}  ({user})")
                reply = await read_reply(channel)
                if reply.code == 334:
                    await channel.send(_b64(secret), shown="****")
                    reply = await read_reply(channel)
        oauth = method is AuthMethod.XOAUTH2
        if reply.code == 235:
            facts = {"mechanism": method.value.upper(), "reply": f"{reply.code} {reply.text}"}
            return {**facts, **token_facts(credentials)} if oauth else facts
        kind = "auth.rejected"
        if reply.code == 530 and (reply.enhanced or "").startswith("5.7.0"):
            kind = "auth.requires_tls"
        failure = _fail_on(reply, kind, f"AUTH {method.value.upper()} was refused")
        raise refine_refusal(failure, credentials, Protocol.SMTP) if oauth else failure

    async def inbox(self, channel: Channel, mailbox: str) -> dict[str, Any]:
        """SMTP has no mailbox; nothing to look at."""
        return {}

    async def quit(self, channel: Channel) -> None:
        """Say goodbye; the reply is not awaited (no serial wait at the end)."""
        await channel.send("QUIT")


def choose_mechanism(wanted: AuthMethod, advertised: list[str]) -> AuthMethod:
    """The mechanism to use: the one asked for, else PLAIN, else LOGIN."""
    if wanted is not AuthMethod.AUTO:
        return wanted
    if "PLAIN" in advertised or not advertised:
        return AuthMethod.PLAIN
    if "LOGIN" in advertised:
        return AuthMethod.LOGIN
    return AuthMethod.PLAIN


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _decode_challenge(text: str) -> str:
    try:
        return base64.b64decode(text.strip(), validate=True).decode("utf-8", "replace")
    except ValueError:
        return ""
