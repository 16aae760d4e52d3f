"""Asking the DNS for the audit: the system resolver, a named one, or the domain's own servers.

Every lookup has a timeout and one retry on another server; every answer is
a :class:`Lookup` whose status keeps NXDOMAIN, NODATA, SERVFAIL and a timeout
apart. Lookups are cached per client (and shared while in flight), so the
SPF tree and the propagation view never ask twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdata
import dns.resolver

from probes.dns.model import Lookup, LookupStatus
from probes.mail.resolve import Nameserver


def to_ascii(domain: str) -> str:
    """The domain in ASCII (punycode for IDN), lower case, without the trailing dot."""
    name = domain.strip().rstrip(".").lower()
    if not name or any(ch.isspace() for ch in name):
        raise ValueError(f"{domain!r} is not a domain name")
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"{domain!r} is not a valid domain name ({exc})") from None
    if "." not in ascii_name:
        raise ValueError(f"{domain!r} is not a domain name (no dot)")
    return ascii_name


def _record_text(rdata: dns.rdata.Rdata, rtype: str) -> str:
    """Zone-file text of a record; TXT strings joined; names without the final dot."""
    if rtype == "TXT":
        strings: tuple[bytes, ...] = getattr(rdata, "strings", ())
        return b"".join(strings).decode("utf-8", "replace")
    text = str(rdata.to_text())
    return text.rstrip(".") if rtype in ("CNAME", "NS") else text


class DnsClient:
    """Looks records up through the system resolver or the given servers."""

    def __init__(
        self,
        nameservers: Sequence[Nameserver] | None = None,
        timeout: float = 3.0,
        label: str = "",
    ) -> None:
        self.nameservers = tuple(nameservers or ())
        self.timeout = timeout
        self.label = label or (
            ", ".join(f"{n.host}:{n.port}" for n in self.nameservers) or "system resolver"
        )
        self._cache: dict[tuple[str, str], asyncio.Future[Lookup]] = {}
        self._resolver = self._build_resolver()

    def _build_resolver(self) -> dns.asyncresolver.Resolver:
        if not self.nameservers:
            resolver = dns.asyncresolver.Resolver(configure=True)
        else:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(n.host, n.port) for n in self.nameservers
            ]
        resolver.timeout = self.timeout
        # one retry, on another server when there is one
        resolver.lifetime = self.timeout * 2
        resolver.cache = None
        return resolver

    async def lookup(self, name: str, rtype: str) -> Lookup:
        """The answer for ``name`` ``rtype`` (cached; concurrent askers share one query)."""
        key = (name.rstrip(".").lower(), rtype.upper())
        found = self._cache.get(key)
        if found is None:
            found = asyncio.ensure_future(self._query(*key))
            self._cache[key] = found
        return await asyncio.shield(found)

    async def _query(self, name: str, rtype: str) -> Lookup:
        try:
            answer = await self._resolver.resolve(name, rtype, search=False)
        except dns.resolver.NXDOMAIN:
            return Lookup(name, rtype, LookupStatus.NXDOMAIN, server=self.label)
        except dns.resolver.NoAnswer:
            return Lookup(name, rtype, LookupStatus.NODATA, server=self.label)
        except dns.resolver.NoNameservers as exc:
            return Lookup(name, rtype, LookupStatus.SERVFAIL, server=self.label, detail=str(exc))
        except dns.exception.Timeout:
            detail = f"no answer within {self.timeout * 2:g} s"
            return Lookup(name, rtype, LookupStatus.TIMEOUT, server=self.label, detail=detail)
        except (dns.exception.DNSException, ValueError, OSError) as exc:
            return Lookup(name, rtype, LookupStatus.ERROR, server=self.label, detail=str(exc))
        rrset = answer.rrset
        if rrset is None:
            return Lookup(name, rtype, LookupStatus.NODATA, server=self.label)
        records = tuple(_record_text(rdata, rtype) for rdata in rrset)
        return Lookup(name, rtype, LookupStatus.OK, records, rrset.ttl, self.label)

    async def zone_servers(self, domain: str, port: int | None = None) -> list[DnsClient]:
        """A client per authoritative server of the zone holding ``domain``.

        Walks up from ``domain`` to the first name with NS records, resolves
        each server's addresses and asks each server directly. ``port``
        overrides 53 (the lab's servers listen on a high port).
        """
        labels = domain.split(".")
        for start in range(len(labels) - 1):
            zone = ".".join(labels[start:])
            ns = await self.lookup(zone, "NS")
            if ns.status is LookupStatus.OK:
                break
            if ns.failed:
                return []
        else:
            return []
        server_port = port if port is not None else 53
        clients: list[DnsClient] = []
        addresses = await asyncio.gather(*(self.lookup(host, "A") for host in ns.records))
        for host, found in zip(ns.records, addresses, strict=True):
            if found.status is LookupStatus.OK:
                servers = [Nameserver(found.records[0], server_port)]
                clients.append(
                    DnsClient(servers, self.timeout, label=f"{host} ({found.records[0]})")
                )
        return clients


async def authoritative_client(
    base: DnsClient, domain: str, port: int | None = None
) -> DnsClient | None:
    """A client that asks the zone's own servers (all of them, retrying on the next)."""
    servers = await base.zone_servers(domain, port)
    if not servers:
        return None
    nameservers = [ns for server in servers for ns in server.nameservers]
    labels = ", ".join(server.label for server in servers)
    return DnsClient(nameservers, base.timeout, label=f"authoritative: {labels}")


def client_for(nameserver: Nameserver | None, timeout: float = 3.0) -> DnsClient:
    """The system resolver's client, or one that asks ``nameserver``."""
    return DnsClient([nameserver] if nameserver else None, timeout)
