"""Name resolution for probes: every address of a host, failures told apart.

The system resolver (``getaddrinfo``, which also reads the hosts file) is the
default; a named server (``--nameserver IP[:PORT]``) uses dnspython so that
NXDOMAIN, NODATA, SERVFAIL and a timeout are reported as what they are.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.resolver

from probes.mail.address import split_host_port
from probes.mail.channel import PhaseFailed


@dataclass(frozen=True)
class Nameserver:
    """A DNS server to ask instead of the system resolver."""

    host: str
    port: int = 53

    @classmethod
    def parse(cls, text: str) -> Nameserver:
        """Parse ``IP``, ``IP:PORT`` or ``[IPv6]:PORT``; raise ValueError when malformed."""
        host, port = split_host_port(text)
        ipaddress.ip_address(host)
        return cls(host, 53 if port is None else port)


def literal_address(host: str) -> str | None:
    """The address itself when ``host`` is an IP literal (``[::1]`` accepted)."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


async def resolve(host: str, timeout: float, nameserver: Nameserver | None) -> list[str]:
    """Every address of ``host`` (IPv4 first), or PhaseFailed with a ``dns.*`` kind."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    if nameserver is None:
        return await _system_resolve(host, timeout)
    return await _dns_resolve(host, timeout, nameserver)


async def _system_resolve(host: str, timeout: float) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise PhaseFailed("dns.timeout", f"no answer for {host} within {timeout:g} s") from None
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_NONAME:
            raise PhaseFailed("dns.nxdomain", f"{host} does not exist (NXDOMAIN)") from None
        if exc.errno == getattr(socket, "EAI_NODATA", -5):
            raise PhaseFailed("dns.nodata", f"{host} exists but has no address") from None
        if exc.errno == socket.EAI_AGAIN:
            raise PhaseFailed(
                "dns.servfail", f"temporary DNS failure for {host} ({exc.strerror})"
            ) from None
        raise PhaseFailed("dns.error", f"cannot resolve {host}: {exc.strerror}") from None
    except UnicodeError:
        raise PhaseFailed("dns.error", f"{host!r} is not a valid host name") from None
    addresses: list[str] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if family in (socket.AF_INET, socket.AF_INET6) and address not in addresses:
            addresses.append(address)
    return sorted(addresses, key=lambda a: ":" in a)


async def _dns_resolve(host: str, timeout: float, nameserver: Nameserver) -> list[str]:
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [nameserver.host]
    resolver.port = nameserver.port
    resolver.lifetime = timeout
    resolver.timeout = max(timeout / 2, 0.2)

    async def lookup(rtype: str) -> list[str] | PhaseFailed:
        try:
            answer = await resolver.resolve(host, rtype, search=False)
        except dns.resolver.NXDOMAIN:
            return PhaseFailed("dns.nxdomain", f"{host} does not exist (NXDOMAIN)")
        except dns.resolver.NoAnswer:
            return []
        except dns.resolver.NoNameservers:
            return PhaseFailed("dns.servfail", f"the DNS server failed for {host} (SERVFAIL)")
        except dns.exception.Timeout:
            return PhaseFailed("dns.timeout", f"no DNS answer for {host} within {timeout:g} s")
        except (dns.exception.DNSException, ValueError) as exc:
            return PhaseFailed("dns.error", f"cannot resolve {host}: {exc}")
        return [rdata.to_text() for rdata in answer]

    v4, v6 = await asyncio.gather(lookup("A"), lookup("AAAA"))
    failures = [r for r in (v4, v6) if isinstance(r, PhaseFailed)]
    addresses = [a for r in (v4, v6) if isinstance(r, list) for a in r]
    if addresses:
        return addresses
    if failures:
        raise failures[0]
    raise PhaseFailed("dns.nodata", f"{host} exists but has no A or AAAA record (NODATA)")
