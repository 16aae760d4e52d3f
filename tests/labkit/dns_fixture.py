"""Test zones written as ``{"name TYPE": records | status}``, served by a real lab DNS server.

The record checks (SPF, DMARC, DKIM) are tested against :class:`DnsLab` on
loopback through :class:`DnsClient`, never against a dict: a zone is loaded
into a fresh server and the test gets a recording ``LookupFn`` that asks it.
Records are zone-file values (MX ``10 mx.example.com.``, CNAME targets with
the final dot; TXT plain strings). A status stands for what the server does
at that exact name, for every type: SERVFAIL answers SERVFAIL, TIMEOUT never
answers, NXDOMAIN and NODATA only check that the zone agrees (an absent name
is NXDOMAIN, a name with records of other types is NODATA).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Self

from mxlab.dns_server import DnsLab
from probes.dns.client import DnsClient
from probes.dns.model import Lookup, LookupFn, LookupStatus
from probes.mail.resolve import Nameserver

Answer = Sequence[str] | LookupStatus | str
"""Records (zone-file values), or a status: a ``LookupStatus`` or its value (``"servfail"``)."""

Zone = Mapping[str, Answer]
"""``{"name TYPE": answer}``."""

TIMEOUT = 0.3
"""Seconds per try of the client (one retry): a silent name costs about 0.6 s."""

PROVIDER_ZONE: dict[str, Answer] = {
    "_spf.google.com TXT": ["v=spf1 ip4:192.0.2.0/24 ~all"],
    "spf.protection.outlook.com TXT": ["v=spf1 ip4:198.51.100.0/24 -all"],
    "sendgrid.net TXT": ["v=spf1 ip4:203.0.113.0/24 -all"],
}
"""The providers' SPF records the SPF and DMARC tests include."""

_FAILURES = (LookupStatus.SERVFAIL, LookupStatus.TIMEOUT)
_EMPTY = (LookupStatus.NXDOMAIN, LookupStatus.NODATA)


class RecordingLookup:
    """A ``LookupFn`` that asks the lab server and records each ``(name, rtype)`` asked."""

    def __init__(self, lookup: LookupFn) -> None:
        self.lookup = lookup
        self.asked: list[tuple[str, str]] = []

    async def __call__(self, name: str, rtype: str) -> Lookup:
        """The lab server's answer for ``name`` ``rtype``."""
        self.asked.append((name, rtype))
        return await self.lookup(name, rtype)


def _status(answer: Answer) -> LookupStatus | None:
    """The status an answer stands for, or None for records."""
    if isinstance(answer, str):
        status = LookupStatus(answer.lower())  # ValueError for a bare string that is no status
    elif isinstance(answer, LookupStatus):
        status = answer
    else:
        return None
    if status not in _FAILURES + _EMPTY:
        raise ValueError(f"status {status.value!r} cannot be served; give records instead")
    return status


def load_zone(lab: DnsLab, zone: Zone) -> None:
    """Add ``zone`` to ``lab``; ValueError when the zone cannot be served as written."""
    records: dict[str, set[str]] = {}  # name -> types with records
    statuses: dict[str, dict[str, LookupStatus]] = {}  # name -> type -> status
    for key, answer in zone.items():
        name, rtype = key.split()
        name, rtype = name.rstrip(".").lower(), rtype.upper()
        status = _status(answer)
        if status is None:
            records.setdefault(name, set()).add(rtype)
            for value in answer:
                lab.add(name, rtype, value)
        else:
            statuses.setdefault(name, {})[rtype] = status
    for name, types in records.items():
        if "CNAME" in types and len(types) > 1:
            raise ValueError(f"{name}: a CNAME cannot share its name with {sorted(types)}")
    for name, by_type in statuses.items():
        kinds = set(by_type.values())
        failures = kinds & set(_FAILURES)
        if failures and (len(kinds) > 1 or name in records):
            raise ValueError(f"{name}: a failure applies to every type; it cannot mix {by_type}")
        if LookupStatus.NXDOMAIN in kinds and name in records:
            raise ValueError(f"{name}: NXDOMAIN, yet it has {sorted(records[name])} records")
        if LookupStatus.NODATA in kinds and name not in records:
            raise ValueError(f"{name}: NODATA needs a record of another type at the name")
        if LookupStatus.SERVFAIL in kinds:
            lab.servfail(name, exact=True)
        elif LookupStatus.TIMEOUT in kinds:
            lab.blackhole(name, exact=True)


class LabZones:
    """Serves zones from real lab DNS servers, one per zone; stops them all on close.

    ``zones(records)`` starts a server with ``base`` plus ``records`` and
    returns a :class:`RecordingLookup` asking it through :class:`DnsClient`.
    """

    def __init__(self, base: Zone | None = None, timeout: float = TIMEOUT) -> None:
        self.base = dict(base or {})
        self.timeout = timeout
        self.labs: list[DnsLab] = []

    def __call__(self, records: Zone | None = None, follow_cnames: bool = True) -> RecordingLookup:
        """A lookup over a new server of ``base`` and ``records`` (``records`` win a clash)."""
        lab = DnsLab(follow_cnames=follow_cnames)
        load_zone(lab, {**self.base, **(records or {})})
        self.labs.append(lab.start())
        client = DnsClient([Nameserver(lab.host, lab.port)], timeout=self.timeout)
        return RecordingLookup(client.lookup)

    def close(self) -> None:
        """Stop every server started."""
        while self.labs:
            self.labs.pop().stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def lab_zones(base: Zone | None = None) -> Iterator[LabZones]:
    """Body of a pytest fixture: ``LabZones`` over ``base``, stopped at teardown.

    In a test module::

        @pytest.fixture(name="zone")
        def zone_fixture() -> Iterator[LabZones]:
            yield from lab_zones(PROVIDER_ZONE)

        async def test_x(zone: LabZones) -> None:
            dns = zone({"example.com TXT": ["v=spf1 -all"]})
            result = await evaluate_spf("example.com", dns)
    """
    with LabZones(base) as zones:
        yield zones
