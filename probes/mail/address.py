"""Parsing what users type for a server: ``HOST[:PORT]``, ``[IPv6]:PORT``, a port."""

from __future__ import annotations

_FORBIDDEN = set("/\\@,;'\"<>")


def parse_port(text: str | int) -> int:
    """A TCP port 1-65535, or ValueError saying what is wrong."""
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"port must be a number, not {text!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is out of range (1-65535)")
    return port


def parse_host(text: str) -> str:
    """A host name or IP literal (trailing dot dropped), or ValueError."""
    host = text.strip().rstrip(".")
    if not host:
        raise ValueError("empty host")
    if any(ch.isspace() or ch in _FORBIDDEN for ch in host):
        raise ValueError(f"{host!r} is not a valid host name")
    if ":" in host:
        return host
    try:
        host.encode("idna")
    except UnicodeError:
        raise ValueError(f"{host!r} is not a valid host name") from None
    return host


def split_host_port(text: str) -> tuple[str, int | None]:
    """Split ``HOST[:PORT]`` or ``[IPv6]:PORT``; the port is None when absent."""
    value = text.strip()
    if not value:
        raise ValueError("empty host")
    port: int | None = None
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep:
            raise ValueError(f"unclosed '[' in {text!r}")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"expected :PORT after ] in {text!r}")
            port = parse_port(rest[1:])
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
        port = parse_port(port_text)
    else:
        host = value
    return parse_host(host), port
