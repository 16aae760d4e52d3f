"""An authoritative DNS server for the lab, on 127.0.0.1 (UDP and TCP, one port).

Records are added by name and type; names that are absent answer NXDOMAIN,
names present with other types answer NODATA, a suffix can be made to answer
SERVFAIL, and another to never answer at all (the client times out); both
can also apply to one exact name only, leaving the names under it alone. Built
on ``dnslib`` for the wire format; plain sockets and two threads serve it.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass
from typing import Self

from dnslib import QTYPE, RCODE, RR, DNSRecord  # type: ignore[import-untyped]

from mxlab.service import LabService

LOOPBACK = "127.0.0.1"
_POLL = 0.1


@dataclass(frozen=True)
class LabRecord:
    """One record served: owner name, type, zone-file value, TTL."""

    name: str
    rtype: str
    value: str
    ttl: int


def _norm(name: str) -> str:
    return name.rstrip(".").lower() + "."


def _txt_value(value: str) -> str:
    """A TXT value in zone-file form, split in 255-byte quoted chunks."""
    if value.startswith('"'):
        return value
    chunks = [value[i : i + 255] for i in range(0, len(value), 255)] or [""]
    return " ".join('"' + c.replace('"', '\\"') + '"' for c in chunks)


class DnsLab(LabService):
    """The lab DNS server; ``host``/``port`` are known after ``start()``.

    ``host`` may be any 127.0.0.0/8 address and ``port`` a fixed port, so two
    servers of one zone (127.0.0.2 and 127.0.0.3 on the same port) can
    disagree for the propagation view.
    """

    def __init__(
        self, host: str = LOOPBACK, port: int = 0, delay: float = 0.0, follow_cnames: bool = True
    ) -> None:
        if not host.startswith("127."):
            raise ValueError(f"the lab serves loopback only, not {host!r}")
        self.host = host
        self.port = port
        self.delay = delay  # seconds before each UDP answer (answers overlap; for benchmarks)
        self.records: list[LabRecord] = []
        # False: a CNAME is answered alone, like a server that does not chase it
        self.follow_cnames = follow_cnames
        self._servfail: list[str] = []
        self._blackhole: list[str] = []
        self._servfail_exact: set[str] = set()
        self._blackhole_exact: set[str] = set()
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self.queries = 0

    def add(self, name: str, rtype: str, value: str, ttl: int = 300) -> None:
        """Serve ``name`` ``rtype`` ``value`` (zone-file syntax, e.g. MX ``10 mx.host.``)."""
        value = _txt_value(value) if rtype.upper() == "TXT" else value
        self.records.append(LabRecord(_norm(name), rtype.upper(), value, ttl))

    def servfail(self, suffix: str, exact: bool = False) -> None:
        """Every query at or under ``suffix`` (at it only when ``exact``) answers SERVFAIL."""
        if exact:
            self._servfail_exact.add(_norm(suffix))
        else:
            self._servfail.append(_norm(suffix))

    def blackhole(self, suffix: str, exact: bool = False) -> None:
        """Every query at or under ``suffix`` (at it only when ``exact``) is dropped."""
        if exact:
            self._blackhole_exact.add(_norm(suffix))
        else:
            self._blackhole.append(_norm(suffix))

    @staticmethod
    def _under(name: str, suffixes: list[str]) -> bool:
        return any(name == s or name.endswith("." + s) for s in suffixes)

    def answer(self, query: DNSRecord) -> DNSRecord | None:
        """The reply to a query, or None to drop it."""
        qname = _norm(str(query.q.qname))
        qtype = QTYPE[query.q.qtype]
        if qname in self._blackhole_exact or self._under(qname, self._blackhole):
            return None
        reply = query.reply(aa=1, ra=0)
        if qname in self._servfail_exact or self._under(qname, self._servfail):
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        name = qname
        for _ in range(8):  # follow CNAMEs inside the served data
            owned = [r for r in self.records if r.name == name]
            if not owned:
                if name == qname:
                    reply.header.rcode = RCODE.NXDOMAIN
                return reply
            cname = [r for r in owned if r.rtype == "CNAME"]
            if cname and qtype != "CNAME":
                reply.add_answer(*RR.fromZone(f"{name} {cname[0].ttl} IN CNAME {cname[0].value}"))
                if not self.follow_cnames:
                    return reply
                name = _norm(cname[0].value)
                continue
            for record in owned:
                if record.rtype == qtype or qtype == "ANY":
                    zone = f"{name} {record.ttl} IN {record.rtype} {record.value}"
                    reply.add_answer(*RR.fromZone(zone))
            return reply
        return reply

    def _reply_bytes(self, data: bytes) -> bytes | None:
        self.queries += 1
        try:
            query = DNSRecord.parse(data)
        except Exception:  # a malformed query gets no answer, like many servers
            return None
        reply = self.answer(query)
        return None if reply is None else reply.pack()

    def start(self) -> Self:
        """Bind UDP and TCP on one free port and serve until ``stop()``."""
        for _ in range(20):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((self.host, self.port))
            port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.host, port))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(16)
            udp.settimeout(_POLL)
            tcp.settimeout(_POLL)
            self._udp, self._tcp, self.port = udp, tcp, port
            break
        else:
            raise RuntimeError("no free port for the lab DNS server")
        for target in (self._serve_udp, self._serve_tcp):
            thread = threading.Thread(target=target, name=f"dns-lab-{self.port}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _serve_udp(self) -> None:
        assert self._udp is not None
        while not self._stop.is_set():
            try:
                data, peer = self._udp.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            out = self._reply_bytes(data)
            if out is None:
                continue
            if self.delay > 0:
                timer = threading.Timer(self.delay, self._send_late, (out, peer))
                timer.daemon = True
                timer.start()
            else:
                self._udp.sendto(out, peer)

    def _send_late(self, out: bytes, peer: tuple[str, int]) -> None:
        if self._udp is not None and not self._stop.is_set():
            with contextlib.suppress(OSError):
                self._udp.sendto(out, peer)

    def _serve_tcp(self) -> None:
        assert self._tcp is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2.0)
                try:
                    header = conn.recv(2)
                    if len(header) < 2:
                        continue
                    (length,) = struct.unpack("!H", header)
                    data = b""
                    while len(data) < length:
                        chunk = conn.recv(length - len(data))
                        if not chunk:
                            break
                        data += chunk
                    out = self._reply_bytes(data)
                    if out is not None:
                        conn.sendall(struct.pack("!H", len(out)) + out)
                except OSError:
                    continue

    def _wake(self) -> None:
        """Nudge both serving threads out of their wait so they see the stop at once."""
        if not self._threads:
            return
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"", (self.host, self.port))
        with contextlib.suppress(OSError):
            socket.create_connection((self.host, self.port), timeout=_POLL).close()

    def stop(self) -> None:
        """Stop serving and close the sockets."""
        self._stop.set()
        self._wake()
        for thread in self._threads:
            thread.join(timeout=2.0)
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()
        self._threads.clear()


def mail_lab_zone(lab: DnsLab) -> None:
    """The probe fixture zone: addresses, a CNAME, NODATA, SERVFAIL and a silent name."""
    lab.add("lab.test", "SOA", "ns.lab.test. admin.lab.test. 1 3600 600 86400 300")
    lab.add("lab.test", "NS", "ns.lab.test.")
    lab.add("ns.lab.test", "A", "127.0.0.1")
    lab.add("mail.lab.test", "A", "127.0.0.1")
    lab.add("mail.lab.test", "AAAA", "::1")
    lab.add("v4only.lab.test", "A", "127.0.0.1")
    lab.add("smtp.lab.test", "CNAME", "mail.lab.test.")
    lab.add("nodata.lab.test", "TXT", "x")
    lab.add("lab.test", "MX", "10 mail.lab.test.")
    lab.servfail("servfail.lab.test")
    lab.blackhole("slow.lab.test")
