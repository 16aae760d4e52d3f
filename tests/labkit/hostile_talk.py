"""Hostile peers that talk: too slowly, too much, or back with the client's secret.

The conversations behind the talking behaviours of :class:`tests.labkit.hostile.HostilePeer`:

- ``talker``: a reply that never ends, one line every ``interval`` seconds (each line in
  time): SMTP drips ``220-`` greeting lines; IMAP greets, then drips untagged lines after
  the first command.
- ``literals``: IMAP; after the first command, one response line with literals of ``size``
  bytes chained on it without end (``* 1 FETCH (BODY[] {size}`` …).
- ``huge_ehlo``: SMTP; the EHLO reply is ``total`` bytes of ``250-`` lines.
- ``echo``: SMTP (or IMAP) that offers PLAIN, LOGIN and XOAUTH2 in plain text and answers
  every login with an error that echoes what it got: the SASL blob, its decoded form, the
  blob cut short, and the password cut short at the end of a line.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools


async def talker(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, protocol: str, interval: float
) -> None:
    """Never finish a reply: one more line every ``interval`` seconds."""
    if protocol == "imap":
        writer.write(b"* OK talker.lab.test ready\r\n")
        await writer.drain()
        await reader.readline()
        line = "* OK still working on it ({})\r\n"
    else:
        line = "220-talker.lab.test greeting line {}\r\n"
    for count in itertools.count(1):
        writer.write(line.format(count).encode())
        await writer.drain()
        await asyncio.sleep(interval)


async def chained_literals(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, size: int
) -> None:
    """After the first command, literals of ``size`` bytes chained on one line, without end."""
    writer.write(b"* OK literals.lab.test ready\r\n")
    await writer.drain()
    await reader.readline()
    block = b"L" * min(size, 65536)  # a big literal is streamed, never held whole
    writer.write(b"* 1 FETCH (BODY[] {%d}\r\n" % size)
    while not writer.is_closing():
        for start in range(0, size, len(block)):
            writer.write(block[: min(len(block), size - start)])
            await writer.drain()
        writer.write(b" BODY[] {%d}\r\n" % size)


async def huge_ehlo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, total: int) -> None:
    """Greet, then answer EHLO with ``total`` bytes of continuation lines."""
    writer.write(b"220 huge.lab.test ESMTP\r\n")
    await writer.drain()
    await reader.readline()
    line = b"250-X-" + b"E" * 990 + b"\r\n"
    sent = 0
    while sent < total and not writer.is_closing():
        writer.write(line)
        await writer.drain()
        sent += len(line)
    writer.write(b"250 SIZE 1000\r\n")
    await writer.drain()


def _decoded(blob: str) -> str:
    try:
        raw = base64.b64decode(blob, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""
    return raw.replace("\0", "|").replace("\x01", "^A")


def _secret_in(decoded: str) -> str:
    if decoded.startswith("user="):  # XOAUTH2: user=…^Aauth=Bearer TOKEN^A^A
        return decoded.partition("auth=Bearer ")[2].split("^A")[0]
    return decoded.rpartition("|")[2]


def _smtp_echo(blob: str, code: str = "535") -> bytes:
    decoded = _decoded(blob)
    secret = _secret_in(decoded) or decoded
    lines = [
        f"5.7.8 rejected: you sent {blob}",
        f"5.7.8 which says {decoded}",
        f"5.7.8 (first part: {blob[: max(len(blob) - 6, 1)]})",
        f"5.7.8 your password starts {secret[: max(len(secret) - 2, 1)]}",
    ]
    body = "".join(f"{code}-{line}\r\n" for line in lines[:-1]) + f"{code} {lines[-1]}\r\n"
    return body.encode()


async def echo_smtp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An SMTP server whose every login error echoes the client's credentials."""
    writer.write(b"220 echo.lab.test ESMTP\r\n")
    await writer.drain()
    while line := (await reader.readline()).decode("utf-8", "replace").strip():
        words = line.split()
        verb = words[0].upper()
        if verb == "EHLO":
            reply = b"250-echo.lab.test\r\n250-AUTH PLAIN LOGIN XOAUTH2\r\n250 8BITMIME\r\n"
        elif verb == "AUTH" and len(words) == 3:
            reply = _smtp_echo(words[2])
        elif verb == "AUTH":
            writer.write(b"334 VXNlcm5hbWU6\r\n")
            await writer.drain()
            user = (await reader.readline()).decode().strip()
            writer.write(f"334 UGFzc3dvcmQ6 (hello {user})\r\n".encode())
            await writer.drain()
            reply = _smtp_echo((await reader.readline()).decode().strip())
        elif verb == "QUIT":
            writer.write(b"221 bye\r\n")
            await writer.drain()
            return
        else:
            reply = b"250 OK\r\n"
        writer.write(reply)
        await writer.drain()


async def echo_imap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An IMAP server whose every login error echoes the client's credentials."""
    writer.write(b"* OK echo.lab.test ready\r\n")
    await writer.drain()
    while line := (await reader.readline()).decode("utf-8", "replace").strip():
        tag, _, rest = line.partition(" ")
        command, _, args = rest.partition(" ")
        command = command.upper()
        if command == "CAPABILITY":
            caps = "IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR"
            reply = f"* CAPABILITY {caps}\r\n{tag} OK done\r\n"
        elif command == "LOGIN":
            reply = f"{tag} NO [AUTHENTICATIONFAILED] wrong password in: LOGIN {args}\r\n"
        elif command == "AUTHENTICATE":
            blob = args.partition(" ")[2]
            start = _secret_in(_decoded(blob))[:-2]
            reply = (
                f"* OK you sent {blob} which says {_decoded(blob)}\r\n"
                f"* OK first part {blob[: max(len(blob) - 6, 1)]}\r\n"
                f"{tag} NO bad credentials, your password starts {start}\r\n"
            )
        elif command == "LOGOUT":
            writer.write(f"* BYE\r\n{tag} OK bye\r\n".encode())
            await writer.drain()
            return
        else:
            reply = f"{tag} OK done\r\n"
        writer.write(reply.encode())
        await writer.drain()
