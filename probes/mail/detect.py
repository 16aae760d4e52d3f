"""Finding the security mode a port really speaks.

A client set to STARTTLS on an implicit-TLS port (465, 993) waits for a
greeting that never comes; one set to implicit TLS on a STARTTLS port (587,
143) gets plain text back in its handshake. Apps report both as "connection
closed unexpectedly". These functions recognise the signature and try the
other mode on a fresh connection, so the diagnosis can name the mode that works.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from probes.mail.channel import Channel, PhaseFailed
from probes.mail.connect import open_channel
from probes.mail.model import Security, Target, Timeouts
from probes.mail.smtp import Capabilities
from probes.mail.tls import TlsSettings, handshake

IMPLICIT_TLS_PORTS = frozenset({465, 993, 995, 636})
_TLS_MISMATCH = frozenset({"tls.wrong_version", "tls.closed"})
_PLAIN_MISMATCH = frozenset({"greeting.timeout", "greeting.garbage"})


class Greeter(Protocol):
    """The part of a protocol dialect that detection needs."""

    async def greet(self, channel: Channel) -> dict[str, object]:
        """Read the server's greeting."""
        ...

    async def capabilities(self, channel: Channel) -> Capabilities:
        """Ask the server what it supports."""
        ...


def guess_security(port: int) -> Security:
    """The mode a port usually speaks: implicit TLS on 465/993, STARTTLS elsewhere."""
    return Security.TLS if port in IMPLICIT_TLS_PORTS else Security.STARTTLS


def is_mode_mismatch(tried: Security, kind: str) -> bool:
    """True when a failure of kind ``kind`` under ``tried`` looks like the wrong mode."""
    if tried is Security.TLS:
        return kind in _TLS_MISMATCH
    return kind in _PLAIN_MISMATCH


def mode_words(security: Security) -> str:
    """How a mode is called in client settings."""
    return {
        Security.TLS: "implicit TLS (SSL/TLS)",
        Security.STARTTLS: "plain text with STARTTLS",
        Security.NONE: "plain text without STARTTLS",
        Security.AUTO: "auto",
    }[security]


def mode_kind(detected: Security) -> str:
    """The failure kind that says "this port speaks ``detected``"."""
    return {
        Security.TLS: "mode.implicit_tls",
        Security.STARTTLS: "mode.starttls",
        Security.NONE: "mode.plain",
        Security.AUTO: "mode.unknown",
    }[detected]


async def other_mode(
    dialect: Greeter,
    address: str,
    target: Target,
    tried: Security,
    timeouts: Timeouts,
    transcript: list[str],
) -> tuple[Security | None, str]:
    """Try the mode ``tried`` was not, on a new connection: (mode found or None, evidence)."""
    channel: Channel | None = None
    try:
        async with asyncio.timeout(timeouts.connect + timeouts.tls + 3 * timeouts.detect):
            channel = await open_channel(address, target.port, timeouts.connect, timeouts.detect)
            channel.transcript = transcript
            if tried is Security.TLS:
                await dialect.greet(channel)
                caps = await dialect.capabilities(channel)
                mode = Security.STARTTLS if caps.starttls else Security.NONE
                return mode, "a plain-text greeting arrived at once"
            context = TlsSettings.legacy_context()  # detection only: old versions answer too
            await handshake(channel, context, target.host, timeouts.tls)
            await dialect.greet(channel)
            return Security.TLS, "a TLS handshake succeeded and the greeting followed"
    except (PhaseFailed, OSError, TimeoutError) as exc:
        return None, str(exc) or exc.__class__.__name__
    finally:
        if channel is not None:
            await channel.close()
