"""Opening a TCP connection with refused, timed out and unreachable told apart."""

from __future__ import annotations

import asyncio
import errno
from typing import Any

from probes.mail.channel import MAX_LINE, Channel, PhaseFailed

_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}


async def open_channel(
    address: str, port: int, connect_timeout: float, read_timeout: float
) -> Channel:
    """Connect to ``address:port`` within the timeout, or raise PhaseFailed ``connect.*``."""
    try:
        async with asyncio.timeout(connect_timeout):
            reader, writer = await asyncio.open_connection(address, port, limit=MAX_LINE)
    except TimeoutError:
        raise PhaseFailed(
            "connect.timeout",
            f"no answer from {address}:{port} within {connect_timeout:g} s: packets are being "
            "dropped (firewall, antivirus mail shield, or the ISP blocks this port)",
        ) from None
    except ConnectionRefusedError:
        raise PhaseFailed(
            "connect.refused",
            f"{address}:{port} refused the connection: nothing listens there, or a firewall "
            "rejects it",
        ) from None
    except OSError as exc:
        if exc.errno in _UNREACHABLE:
            raise PhaseFailed(
                "connect.unreachable", f"{address} is unreachable from here ({exc.strerror})"
            ) from None
        raise PhaseFailed("connect.error", f"cannot connect to {address}:{port}: {exc}") from None
    return Channel(reader, writer, read_timeout)


def endpoint_facts(channel: Channel) -> dict[str, Any]:
    """Local and remote socket addresses of a connected channel."""
    peer = channel.writer.get_extra_info("peername")
    local = channel.writer.get_extra_info("sockname")
    facts: dict[str, Any] = {}
    if peer:
        facts["peer"] = f"{peer[0]}:{peer[1]}"
    if local:
        facts["local"] = f"{local[0]}:{local[1]}"
    return facts
